"""Generation from a training checkpoint: the last checkpoint applied to the base predicts exactly like the model
the job wrote, an earlier one differs from both it and the base, and a pruned one is a clear request error."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from atelier_diffusion.checkpoint_weights import apply_checkpoint
from atelier_diffusion.config import build_config
from atelier_diffusion.fixtures.subject_photos import write_subject
from atelier_diffusion.model import load_parts, load_trained
from atelier_diffusion.protocol import RequestError
from atelier_diffusion.train import run_training
from train_helpers import Collector, job_config


def _predict(unet, text_encoder, tokenizer) -> torch.Tensor:
    gen = torch.Generator().manual_seed(0)
    x, t = torch.randn(1, 4, 16, 16, generator=gen), torch.tensor([500])
    ids = tokenizer(["a photo of sks box"], padding="max_length", return_tensors="pt").input_ids
    with torch.no_grad():
        return unet(x, t, text_encoder(ids)[0]).sample


@pytest.mark.parametrize("method", ["lora", "full"])
def test_checkpoints_generate_like_the_output(method: str, tiny_sd: Path, tmp_path: Path) -> None:
    write_subject(tmp_path / "photos", 3)
    sections = {"recipe": method, "train": {"max_steps": 4, "lr": 1e-2, "train_text_encoder": True},
                "checkpoint": {"every_n_steps": 2, "keep_last": 2}}
    if method == "lora":
        sections["lora"] = {"rank": 2, "alpha": 2}
    cfg = build_config(job_config(tiny_sd, tmp_path / "photos", tmp_path / "out", tmp_path / "cache", **sections))
    result = run_training(cfg, Collector().emit)
    ckpts = sorted((tmp_path / "out").rglob("step-*.ckpt"))
    assert [p.name for p in ckpts] == ["step-00000002.ckpt", "step-00000004.ckpt"]

    written = load_trained(result["model_dir"])
    expected = _predict(written.unet, written.text_encoder, written.tokenizer)
    base = load_parts(tiny_sd)
    untouched = _predict(base.unet, base.text_encoder, base.tokenizer)
    outs = []
    for ckpt in ckpts:
        parts = load_parts(tiny_sd)
        apply_checkpoint(parts, ckpt)
        outs.append(_predict(parts.unet, parts.text_encoder, parts.tokenizer))
    assert torch.allclose(outs[1], expected, atol=1e-4), (outs[1] - expected).abs().max()
    assert not torch.allclose(outs[0], expected, atol=1e-4)
    assert not torch.allclose(outs[0], untouched, atol=1e-4)

    ckpts[0].unlink()
    with pytest.raises(RequestError, match="checkpoint not found"):
        apply_checkpoint(load_parts(tiny_sd), ckpts[0])
