"""Training and sampling condition the UNet on the same tensors for the same prompt: both go through
model.encode_prompt, each side loading the model through its own entry point (trainable.prepare_parts for a job,
resident.load_source for the image worker)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import torch

from atelier_diffusion.batch_stream import StreamSpec
from atelier_diffusion.config import build_config
from atelier_diffusion.dreambooth_module import DreamBoothModule
from atelier_diffusion.fixtures.subject_photos import write_subject
from atelier_diffusion.resident import ModelSource, load_source
from atelier_diffusion.sample import SampleParams, conditions
from atelier_diffusion.trainable import prepare_parts
from train_helpers import job_config

PROMPTS = ["a photo of sks dog on the moon", ""]
#: What transformers writes as `model_max_length` for a tokenizer saved without one.
UNSET_MAX_LENGTH = int(1e30)


def _both(base: Path, tmp: Path, prompt: str):
    """(training's conditioning, sampling's cond) of `prompt` on the model at `base`."""
    write_subject(tmp / "photos", 3)
    cfg = build_config(job_config(base, tmp / "photos", tmp / "out", tmp / "cache", prior={"enabled": False}))
    parts = prepare_parts(cfg)
    spec = StreamSpec((), (), cfg.data.resolution, cfg.data.crop, 0.0, 1, 0)
    with torch.no_grad():
        trained = DreamBoothModule(cfg, parts, spec).encode_prompts([prompt])
        sampled, _ = conditions(load_source(ModelSource(str(base))), SampleParams(prompt=prompt, guidance_scale=1.0),
                                torch.float32)
    return trained, sampled


def test_sd_prompt_encodes_identically_with_an_unbounded_tokenizer(tiny_sd: Path, tmp_path: Path) -> None:
    """A tokenizer without a length of its own (model_max_length ~1e30) is capped at the encoder's 77 positions
    on both sides; training used to pad to the tokenizer's length and crash past the position table."""
    base = tmp_path / "model"
    shutil.copytree(tiny_sd, base)
    config = base / "tokenizer" / "tokenizer_config.json"
    config.write_text(json.dumps({**json.loads(config.read_text()), "model_max_length": UNSET_MAX_LENGTH}))
    for i, prompt in enumerate(PROMPTS):
        trained, sampled = _both(base, tmp_path / str(i), prompt)
        assert trained.shape == (1, 77, 32) and torch.equal(trained, sampled), prompt


def test_sdxl_prompt_encodes_identically(tiny_sdxl: Path, tmp_path: Path) -> None:
    (hidden, pooled), (cond_hidden, added) = _both(tiny_sdxl, tmp_path, PROMPTS[0])
    assert hidden.shape == (1, 77, 32 + 64) and pooled.shape == (1, 64)
    assert torch.equal(hidden, cond_hidden) and torch.equal(pooled, added["text_embeds"])
