"""Shared pytest fixtures: the tiny random-weight SD pipeline, generated once per session."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

# Two cores are shared by every engineer and test run: on these tiny tensors a second thread only adds contention
# (measured: a UNet step takes ~0.12 s with one thread and ~1 s with two on the loaded machine).
torch.set_num_threads(1)

#: Seed of the session fixture; tests that compare weights to the files on disk rely on it being fixed.
TINY_SEED = 1234


@pytest.fixture(scope="session")
def tiny_sd(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path of a tiny StableDiffusionPipeline folder (32 px, epsilon prediction), shared by the whole session.
    Treat it as read-only: copy it before changing anything inside."""
    from atelier_diffusion.fixtures.tiny import write_tiny_pipeline

    return write_tiny_pipeline(tmp_path_factory.mktemp("tiny-sd"), seed=TINY_SEED)


@pytest.fixture(scope="session")
def tiny_sd_v(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Like `tiny_sd` but with a v-prediction scheduler (SD 2.x style)."""
    from atelier_diffusion.fixtures.tiny import TinySpec, write_tiny_pipeline

    return write_tiny_pipeline(tmp_path_factory.mktemp("tiny-sd-v"), seed=TINY_SEED,
                               spec=TinySpec(prediction_type="v_prediction"))


@pytest.fixture(scope="session")
def tiny_sdxl(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path of a tiny StableDiffusionXLPipeline folder (two text encoders, `text_time` UNet), read-only."""
    from atelier_diffusion.fixtures.tiny import write_tiny_sdxl_pipeline

    return write_tiny_sdxl_pipeline(tmp_path_factory.mktemp("tiny-sdxl"), seed=TINY_SEED)
