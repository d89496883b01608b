"""The tiny SD fixture: deterministic, small, and a real loadable pipeline."""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_same_seed_writes_identical_files(tiny_sd: Path, tmp_path: Path) -> None:
    from atelier_diffusion.fixtures.tiny import write_tiny_pipeline

    again = write_tiny_pipeline(tmp_path / "again", seed=1234)
    assert _digest(again) == _digest(tiny_sd)
    other = write_tiny_pipeline(tmp_path / "other", seed=1235)
    assert _digest(other)["unet/diffusion_pytorch_model.safetensors"] != \
        _digest(tiny_sd)["unet/diffusion_pytorch_model.safetensors"]


def test_fixture_is_small_and_complete(tiny_sd: Path) -> None:
    total = sum(p.stat().st_size for p in tiny_sd.rglob("*") if p.is_file())
    assert total < 2_000_000
    for sub in ("unet", "vae", "text_encoder", "tokenizer", "scheduler"):
        assert (tiny_sd / sub).is_dir(), sub
    assert (tiny_sd / "model_index.json").is_file()


def test_pipeline_loads_and_generates(tiny_sd: Path) -> None:
    from diffusers import StableDiffusionPipeline

    pipe = StableDiffusionPipeline.from_pretrained(tiny_sd)
    ids = pipe.tokenizer("a photo of sks dog").input_ids
    assert len(ids) == 7  # bos + one token per word + eos: the fixture's vocab spells prompt words whole
    out = pipe("a photo of sks dog", num_inference_steps=2, output_type="np",
               generator=torch.Generator().manual_seed(0)).images
    assert out.shape == (1, 32, 32, 3)


def test_cli_writes_folder(tmp_path: Path, capsys) -> None:
    from atelier_diffusion.fixtures.tiny import main

    # In-process: a subprocess would spend its time importing torch; `python -m` only adds the __main__ guard.
    assert main(["--out", str(tmp_path / "m"), "--seed", "1", "--resolution", "48"]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "m")
    assert '"sample_size": 48' in (tmp_path / "m" / "vae" / "config.json").read_text()
