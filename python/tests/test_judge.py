"""The judge's four scores on the tiny random CLIP: each one moves the way its definition says when the images
are chosen to make it move (identical, shifted and repeated images), and DreamBench's exact metrics map over."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from atelier_diffusion.fixtures.subject_photos import write_subject
from atelier_diffusion.fixtures.tiny_clip import write_tiny_clip
from atelier_diffusion.judge import SCORES, ClipEmbedder, JudgeInputs, from_dreambench, judge


@pytest.fixture(scope="module")
def embedder(tmp_path_factory: pytest.TempPathFactory) -> ClipEmbedder:
    return ClipEmbedder(write_tiny_clip(tmp_path_factory.mktemp("clip"), seed=3))


def _noise(seed: int) -> Image.Image:
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, (32, 32, 3), dtype=np.uint8))


def test_scores_follow_their_definitions(embedder: ClipEmbedder, tmp_path: Path) -> None:
    write_subject(tmp_path, 3)
    photos = [Image.open(p).convert("RGB").resize((32, 32)) for p in sorted(tmp_path.glob("*.png"))]
    others = [_noise(i) for i in range(3)]
    prompts = ["a photo of sks dog on the beach", "a photo of sks dog on the moon"]
    # One photo redrawn exactly scores 1; random weights give no meaningful order between other images.
    exact = judge(embedder, JudgeInputs(photos[:1], [(prompts[0], photos[0])], others, others))
    assert exact["subject"] == pytest.approx(1.0, abs=1e-5)
    learned = judge(embedder, JudgeInputs(photos, list(zip(prompts, photos)), others, others))
    unlearned = judge(embedder, JudgeInputs(photos[:1], list(zip(prompts, others)), others, others))
    assert tuple(learned) == SCORES and all(isinstance(v, float) for v in learned.values())
    assert unlearned["subject"] < exact["subject"] - 1e-4
    assert learned["drift"] == pytest.approx(0.0, abs=1e-6), "class images equal to the base's: no drift"
    drifted = judge(embedder, JudgeInputs(photos[:1], [], photos[:1], others))
    assert drifted["drift"] > 0.0, "class prompts now drawing the subject"
    collapsed = judge(embedder, JudgeInputs(photos, [], [others[0]] * 3, others))
    assert collapsed["diversity"] == pytest.approx(0.0, abs=1e-5) and collapsed["prompt"] is None
    assert learned["diversity"] > 0.0
    texts = embedder.texts(prompts)
    assert texts.shape == (2, 32) and float(texts.norm(dim=1).min()) == pytest.approx(1.0, abs=1e-5)


def test_dreambench_metrics_map_to_the_judge_names() -> None:
    exact = {"subject_fidelity": 0.5, "prompt_fidelity": 0.9, "class_drift": 0.1, "diversity": 0.7}
    assert from_dreambench(exact) == {"subject": 0.5, "prompt": 0.9, "drift": 0.1, "diversity": 0.7}


def test_training_judges_every_checkpoint(tiny_sd: Path, tmp_path: Path) -> None:
    from atelier_diffusion.config import build_config
    from atelier_diffusion.train import run_training
    from train_helpers import Collector, job_config

    write_subject(tmp_path / "photos", 3)
    clip = write_tiny_clip(tmp_path / "clip", seed=3)
    cfg = build_config(job_config(tiny_sd, tmp_path / "photos", tmp_path / "out", tmp_path / "cache", recipe="lora",
                                  train={"max_steps": 4, "lr": 1e-2}, checkpoint={"every_n_steps": 2},
                                  judge={"model": str(clip), "contexts": ["on the moon"], "seeds": 2, "steps": 2}))
    col = Collector()
    run_training(cfg, col.emit)
    judged = col.lines("judge")
    assert [j["step"] for j in judged] == [2, 4]
    assert all(tuple(j["scores"]) == SCORES and all(isinstance(v, float) for v in j["scores"].values())
               for j in judged)
    assert len(list((tmp_path / "out" / "judge").glob("base-*.png"))) == 2
