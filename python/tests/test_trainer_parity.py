"""Trainer features users of kohya / OneTrainer / ai-toolkit expect, each on the tiny model: native default
resolution, aspect-ratio buckets, cached latents, EMA, masked loss, LoKr/LoHa adapters."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from PIL import Image

from atelier_diffusion.batch_stream import DreamBoothStream, StreamSpec, cache_keys
from atelier_diffusion.buckets import default_step, make_buckets, nearest_bucket
from atelier_diffusion.config import build_config
from atelier_diffusion.loss_weights import masked_mean
from atelier_diffusion.lycoris_files import LYCORIS_FILE
from atelier_diffusion.model import native_resolution
from atelier_diffusion.photos import check_instance_images, open_mask
from atelier_diffusion.protocol import ConfigError, DataError
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



def test_buckets_keep_area_and_aspect() -> None:
    buckets = make_buckets(512, 64, 2.0)
    assert (512, 512) in buckets and (384, 640) in buckets and (640, 384) in buckets
    assert all(w % 64 == 0 and h % 64 == 0 and w * h <= 512 * 512 and max(w / h, h / w) <= 2.0 for w, h in buckets)
    assert nearest_bucket((3000, 2000), buckets) == (640, 384)   # 3:2 landscape
    assert nearest_bucket((900, 1600), buckets) == (384, 640)    # 9:16 portrait
    assert nearest_bucket((800, 790), buckets) == (512, 512)
    assert default_step(512, 64) == 64 and default_step(1024, 32) == 128 and default_step(32, 4) == 4


def test_batches_are_drawn_within_one_bucket(tmp_path: Path) -> None:
    sizes = [(60, 30), (64, 32), (62, 30), (30, 60), (32, 64), (40, 40)]
    photos = sorted(_photos(tmp_path / "photos", sizes).glob("*.png"), key=lambda p: int(p.stem))
    buckets = make_buckets(32, 4, 2.0)
    chosen = tuple(nearest_bucket(s, buckets) for s in sizes)
    assert chosen[0] == chosen[1] == chosen[2] and chosen[3] == chosen[4] and chosen[0] != chosen[3]
    assert chosen[5] == (32, 32)
    spec = StreamSpec(tuple(photos), tuple(photos[5:]), 32, "center", 0.5, 2, 3, instance_buckets=chosen)
    stream = DreamBoothStream(spec)
    seen = set()
    for g in range(12):
        pixels = stream.batch(g)["pixels"]
        assert pixels.shape[0] == 4                             # 2 instance + 2 class examples, one shape
        seen.add(tuple(pixels.shape[-2:]))
    assert seen == {(h, w) for w, h in set(chosen)}             # every bucket used, (H, W) = bucket's (h, w)
    assert DreamBoothStream(StreamSpec(tuple(photos), (), 32, "center", 0.0, 2, 3)).batch(0)["pixels"].shape[-2:] \
        == (32, 32)                                              # bucketing off: square


def test_training_with_buckets_on_mixed_aspect_photos(tiny_sd: Path, tmp_path: Path) -> None:
    photos = _photos(tmp_path / "photos", [(60, 30), (30, 60), (40, 40)])
    cfg = job_config(tiny_sd, photos, tmp_path / "out", tmp_path / "cache", train={"max_steps": 4, "batch_size": 1})
    got = Collector()
    result = run_training(build_config(cfg), got.emit)
    log = " ".join(line["message"] for line in got.lines("log"))
    assert "buckets: 40x24: 1, 24x40: 1, 32x32: 1" in log and result["steps"] == 4
    off = job_config(tiny_sd, photos, tmp_path / "out2", tmp_path / "cache", data={"bucketing": False},
                     train={"max_steps": 1})
    with pytest.raises(ConfigError):
        build_config(job_config(tiny_sd, photos, tmp_path / "o", tmp_path / "c",
                                data={"bucketing": False, "bucket_step": 12}))
    run_training(build_config(off), Collector().emit)


def _unet_weights(result: dict) -> dict:
    from safetensors.torch import load_file

    return load_file(str(Path(result["model_dir"]) / "unet" / "diffusion_pytorch_model.safetensors"))


def test_ema_is_the_output_and_survives_an_exact_resume(tiny_sd: Path, tmp_path: Path) -> None:
    photos = _photos(tmp_path / "photos", [(40, 40)] * 3)

    def run(out: str, steps: int, ema: bool) -> dict:
        cfg = job_config(tiny_sd, photos, tmp_path / out, tmp_path / "cache",
                         train={"max_steps": steps, "ema": ema, "ema_decay": 0.5},
                         checkpoint={"every_n_steps": 2})
        return run_training(build_config(cfg), Collector().emit)

    straight = _unet_weights(run("straight", 4, True))
    run("resumed", 2, True)
    resumed = run("resumed", 4, True)
    assert resumed["resumed_from"]
    plain = _unet_weights(run("plain", 4, False))
    names = [k for k in straight if not torch.equal(straight[k], plain[k])]
    assert names, "EMA output equals the raw weights"
    assert all(torch.equal(straight[k], v) for k, v in _unet_weights(resumed).items())
    with pytest.raises(ConfigError):
        build_config(job_config(tiny_sd, photos, tmp_path / "o", tmp_path / "c", train={"ema_decay": 1.0}))


def test_cpu_threads_follow_the_idle_cores() -> None:
    from atelier_diffusion.train import idle_threads

    assert idle_threads(2, 13.0, 2) == 1      # this shared box: oversubscribed → one thread
    assert idle_threads(16, 4.2, 16) == 12    # some cores busy → the idle ones
    assert idle_threads(16, 0.3, 16) is None  # idle machine → torch's own choice


def test_cached_latents_train_like_encoding_each_batch(tiny_sd: Path, tmp_path: Path) -> None:
    photos = _photos(tmp_path / "photos", [(60, 30), (30, 60), (40, 40)])

    def losses(out: str, cache: bool) -> list[float]:
        cfg = job_config(tiny_sd, photos, tmp_path / out, tmp_path / "cache", data={"flip_p": 0.5},
                         train={"max_steps": 4, "cache_latents": cache})
        got = Collector()
        run_training(build_config(cfg), got.emit)
        return [m["values"]["loss"] for m in got.lines("metric") if "loss" in m["values"]]

    cached, encoded = losses("cached", True), losses("encoded", False)
    assert len(cached) == 4 and cached == pytest.approx(encoded, rel=1e-4)
    spec = StreamSpec(tuple(sorted(photos.glob("*.png"))), (photos / "1.png",), 32, "center", 0.5, 1, 0,
                      instance_buckets=((40, 24), (24, 40), (32, 32)), keys_only=True)
    assert len(cache_keys(spec)) == 3 * 2 + 3 * 2                 # photos × flips + class × buckets × flips
    assert "pixels" not in DreamBoothStream(spec).batch(0)
    warned = build_config(job_config(tiny_sd, photos, tmp_path / "o", tmp_path / "c", data={"crop": "random"}))
    assert not warned.train.cache_latents and any("cache_latents" in w for w in warned.warnings)


def test_masks_from_alpha_or_mask_file_weight_the_loss(tiny_sd: Path, tmp_path: Path) -> None:
    photos = _photos(tmp_path / "photos", [(60, 30), (30, 60), (40, 40)])
    rgba = Image.open(photos / "0.png").convert("RGBA")
    alpha = Image.new("L", (60, 30), 0)
    alpha.paste(255, (0, 0, 30, 30))                                  # subject: the left half
    rgba.putalpha(alpha)
    rgba.save(photos / "0.png")
    side = Image.new("L", (30, 60), 0)
    side.paste(255, (0, 30, 30, 60))                                  # subject: the bottom half
    side.save(photos / "1.mask.png")
    assert open_mask(photos / "0.png").getextrema() == (0, 255) and open_mask(photos / "2.png") is None
    assert sorted(p.name for p in check_instance_images(photos, 16)) == ["0.png", "1.png", "2.png"]

    spec = StreamSpec(tuple(sorted(photos.glob("[0-9].png"))), (), 32, "center", 0.0, 1, 0,
                      instance_buckets=((40, 24), (24, 40), (32, 32)), masks=True)
    stream = DreamBoothStream(spec)
    by_shape = {tuple(b["pixels"].shape[-2:]): b["masks"] for b in (stream.batch(g) for g in range(9))}
    wide, tall, square = by_shape[(24, 40)], by_shape[(40, 24)], by_shape[(32, 32)]
    assert wide[0, 0, :, :15].min() > 0.9 and wide[0, 0, :, 25:].max() < 0.1       # left half kept
    assert tall[0, 0, 25:, :].min() > 0.9 and tall[0, 0, :15, :].max() < 0.1       # bottom half kept
    assert square.min() == 1.0                                                        # no mask: weight 1

    error = torch.ones(1, 4, 2, 2)
    error[..., 0] = 9.0                                                 # big error left, small right
    left = torch.zeros(1, 1, 4, 4)
    left[..., :2] = 1.0
    assert masked_mean(error, left, 0.0).item() == pytest.approx(9.0)  # only the subject counts
    assert masked_mean(error, left, 1.0).item() == pytest.approx(5.0)  # floor 1: plain mean

    (photos / "2.mask.png").write_bytes(b"not a png")
    with pytest.raises(DataError, match="subject masks"):
        run_training(build_config(job_config(tiny_sd, photos, tmp_path / "o", tmp_path / "c")), Collector().emit)
    (photos / "2.mask.png").unlink()
    got = Collector()
    cfg = job_config(tiny_sd, photos, tmp_path / "out", tmp_path / "cache", data={"mask_floor": 0.0},
                     train={"max_steps": 2})
    run_training(build_config(cfg), got.emit)
    assert any("masked loss: 2 of 3 photo(s)" in line["message"] for line in got.lines("log"))


def _kohya_delta(tensors: dict, key: str) -> torch.Tensor:
    """A layer's weight delta as A1111/ComfyUI compute it from a kohya/LyCORIS file."""
    t = {n.split(".", 1)[1]: v for n, v in tensors.items() if n.split(".", 1)[0] == key}
    if "hada_w1_a" in t:
        scale = t["alpha"] / t["hada_w1_b"].shape[0]
        return (t["hada_w1_a"] @ t["hada_w1_b"]) * (t["hada_w2_a"] @ t["hada_w2_b"]) * scale
    w1 = t["lokr_w1"] if "lokr_w1" in t else t["lokr_w1_a"] @ t["lokr_w1_b"]
    w2 = t["lokr_w2"] if "lokr_w2" in t else t["lokr_w2_a"] @ t["lokr_w2_b"]
    scale = t["alpha"] / t["lokr_w2_b"].shape[0] if "lokr_w2_b" in t else 1.0
    return torch.kron(w1, w2) * scale


@pytest.mark.parametrize("kind,mark", [("lokr", "lokr_w1"), ("loha", "hada_w1_a")])
def test_lokr_and_loha_train_and_export_for_a1111_and_comfyui(tiny_sd: Path, tmp_path: Path, kind: str,
                                                              mark: str) -> None:
    from safetensors.torch import load_file

    photos = _photos(tmp_path / "photos", [(40, 40)] * 3)
    cfg = job_config(tiny_sd, photos, tmp_path / "out", tmp_path / "cache", recipe="lora",
                     lora={"adapter": kind, "rank": 2, "alpha": 3.0}, train={"max_steps": 3, "lr": 1e-2})
    result = run_training(build_config(cfg), Collector().emit)
    assert result["kind"] == "diffusers"
    tensors = load_file(str(Path(result["model_dir"]) / LYCORIS_FILE))
    layers = sorted({k.split(".", 1)[0] for k in tensors})
    assert layers and all(k.startswith("lora_unet_") for k in layers)
    assert all(f"{k}.{mark}" in tensors and f"{k}.alpha" in tensors for k in layers)
    base, merged = load_file(str(tiny_sd / "unet" / "diffusion_pytorch_model.safetensors")), _unet_weights(result)
    key = next(k for k in layers if k.endswith("attn1_to_q"))
    name = next(n for n in base if n.endswith(".weight") and n[:-7].replace(".", "_") == key[len("lora_unet_"):])
    delta = merged[name] - base[name]
    assert delta.abs().max() > 0 and torch.allclose(_kohya_delta(tensors, key), delta, atol=1e-6)
    with pytest.raises(ConfigError):
        build_config(job_config(tiny_sd, photos, tmp_path / "o", tmp_path / "c", lora={"adapter": kind},
                                train={"method": "full"}))
