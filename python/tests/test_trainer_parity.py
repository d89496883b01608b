"""Trainer features users of kohya / OneTrainer / ai-toolkit expect, each on the tiny model: native default
resolution, aspect-ratio buckets, cached latents, EMA, masked loss, LoKr/LoHa adapters."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from PIL import Image

from atelier_diffusion.config import build_config
from atelier_diffusion.model import native_resolution
from atelier_diffusion.train import run_training
from train_helpers import Collector, job_config


def _photos(folder: Path, sizes: list[tuple[int, int]]) -> Path:
    """Distinct procedural photos (a shifted gradient per file) of the given sizes."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, (w, h) in enumerate(sizes):
        img = Image.new("RGB", (w, h))
        img.putdata([((x * 7 + i * 60) % 256, (y * 5 + i * 90) % 256, (x * y + i * 30) % 256)
                     for y in range(h) for x in range(w)])
        img.save(folder / f"{i}.png")
    return folder


def _with_native(tiny_sd: Path, dest: Path, sample_size: int, vae_blocks: int) -> Path:
    """A copy of the tiny pipeline whose configs claim another native size (weights never loaded)."""
    shutil.copytree(tiny_sd, dest)
    unet = json.loads((dest / "unet" / "config.json").read_text())
    vae = json.loads((dest / "vae" / "config.json").read_text())
    unet["sample_size"], vae["block_out_channels"] = sample_size, [8] * vae_blocks
    (dest / "unet" / "config.json").write_text(json.dumps(unet))
    (dest / "vae" / "config.json").write_text(json.dumps(vae))
    return dest


def test_default_resolution_is_the_base_models_native_size(tiny_sd: Path, tmp_path: Path) -> None:
    photos = _photos(tmp_path / "photos", [(40, 40)] * 3)
    assert native_resolution(tiny_sd) == 32
    assert native_resolution(_with_native(tiny_sd, tmp_path / "sd15", 64, 4)) == 512
    assert native_resolution(_with_native(tiny_sd, tmp_path / "sdxl", 128, 4)) == 1024
    for base, want in ((tiny_sd, 32), (tmp_path / "sd15", 512), (tmp_path / "sdxl", 1024)):
        cfg = job_config(base, photos, tmp_path / "out", tmp_path / "cache")
        del cfg["data"]["resolution"]
        assert build_config(cfg).data.resolution == want
    cfg = job_config(tiny_sd, photos, tmp_path / "out", tmp_path / "cache", data={"resolution": 48})
    assert build_config(cfg).data.resolution == 48  # an explicit size wins


def test_class_images_are_drawn_at_the_native_size(tiny_sd: Path, tmp_path: Path) -> None:
    photos = _photos(tmp_path / "photos", [(40, 40)] * 3)
    cfg = job_config(tiny_sd, photos, tmp_path / "out", tmp_path / "cache", train={"max_steps": 1})
    del cfg["data"]["resolution"]
    got = Collector()
    run_training(build_config(cfg), got.emit)
    drawn = sorted((tmp_path / "cache").glob("*/*.png"))
    assert len(drawn) == 4 and {Image.open(p).size for p in drawn} == {(32, 32)}
    assert json.loads((tmp_path / "out" / "config.json").read_text())["data"]["resolution"] == 32

