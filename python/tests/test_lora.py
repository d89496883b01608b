"""LoRA training: only adapter tensors change, the output is a small adapter that loads onto its base, and the
class images drawn by an earlier job with the same settings are reused (cache hit)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from atelier_diffusion.config import build_config
from atelier_diffusion.model import load_parts, load_trained
from atelier_diffusion.train import prepare_parts, run_training
from atelier_diffusion.fixtures.subject_photos import write_subject
from train_helpers import Collector, job_config


def _job(tiny_sd: Path, root: Path, out: str, **sections) -> dict:
    return job_config(tiny_sd, root / "photos", root / out, root / "cache", **sections)


@pytest.fixture(scope="module")
def lora_runs(tiny_sd: Path, tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("lora")
    write_subject(root / "photos", 4)
    runs = []
    for out, with_te in (("first", False), ("second", True)):
        col = Collector()
        cfg = build_config(_job(tiny_sd, root, out, recipe="lora", lora={"rank": 2, "alpha": 2},
                                train={"max_steps": 6, "lr": 1e-2, "train_text_encoder": with_te}))
        runs.append((cfg, col, run_training(cfg, col.emit)))
    return root, runs


def test_class_image_cache_is_reused_across_jobs(lora_runs) -> None:
    _root, ((_c1, first, _r1), (_c2, second, _r2)) = lora_runs
    one, two = first.lines("class_images")[0], second.lines("class_images")[0]
    assert (one["generated"], one["cache_hit"]) == (4, False)
    assert (two["generated"], two["cache_hit"]) == (0, True) and two["dir"] == one["dir"]


def test_class_image_cache_key_follows_the_settings(tiny_sd: Path, tmp_path: Path) -> None:
    from atelier_diffusion.class_images import cache_key

    write_subject(tmp_path / "photos", 3)
    a = build_config(_job(tiny_sd, tmp_path, "o"))
    b = build_config(_job(tiny_sd, tmp_path, "o", prior={"guidance_scale": 3.0}))
    c = build_config(_job(tiny_sd, tmp_path, "o", data={"class_prompt": "a photo of cup"}))
    keys = {cache_key(x, "h") for x in (a, b, c)}
    assert len(keys) == 3 and cache_key(a, "h") != cache_key(a, "other-base")


def test_only_adapter_weights_change(lora_runs, tiny_sd: Path) -> None:
    _root, ((cfg, _col, result), _second) = lora_runs
    out = Path(result["model_dir"])
    assert result["kind"] == "lora" and sorted(result["files"]) == ["atelier_adapter.json",
                                                                   "pytorch_lora_weights.safetensors"]
    adapter = load_file(out / "pytorch_lora_weights.safetensors")
    assert adapter and all("lora" in k for k in adapter)
    # diffusers key names (lora.down = A, lora.up = B); B starts at zero, so non-zero B means it trained
    ups = [v for k, v in adapter.items() if k.endswith("lora.up.weight")]
    assert ups and all(v.abs().sum() > 0 for v in ups)
    meta = json.loads((out / "atelier_adapter.json").read_text())
    assert meta["base"] == str(tiny_sd.resolve()) and meta["rank"] == 2
    # The loaded pipeline's base weights are the untouched base; the adapter changes the prediction.
    pipe = load_trained(out)
    base = load_parts(tiny_sd)
    base_state = base.unet.state_dict()
    for name, tensor in pipe.unet.state_dict().items():
        plain = name.replace(".base_layer", "")
        if "lora_" not in name:
            assert torch.equal(tensor, base_state[plain]), name
    x, t, e = torch.randn(1, 4, 16, 16), torch.tensor([500]), torch.randn(1, 77, 32)
    with torch.no_grad():
        assert not torch.allclose(pipe.unet(x, t, e).sample, base.unet(x, t, e).sample)


def test_text_encoder_adapter_round_trip(lora_runs, tiny_sd: Path) -> None:
    _root, (_first, (_cfg, _col, result)) = lora_runs
    adapter = load_file(Path(result["model_dir"]) / "pytorch_lora_weights.safetensors")
    assert any(k.startswith("text_encoder.") for k in adapter) and any(k.startswith("unet.") for k in adapter)
    pipe = load_trained(result["model_dir"])
    base = load_parts(tiny_sd)
    ids = base.tokenizer(["a photo of sks box"], padding="max_length", return_tensors="pt").input_ids
    with torch.no_grad():
        assert not torch.allclose(pipe.text_encoder(ids)[0], base.text_encoder(ids)[0])


def test_lora_trains_only_adapters(tiny_sd: Path, tmp_path: Path) -> None:
    write_subject(tmp_path / "photos", 3)
    cfg = build_config(_job(tiny_sd, tmp_path, "o", recipe="lora", train={"train_text_encoder": True}))
    parts = prepare_parts(cfg)
    for module in (parts.unet, parts.text_encoder):
        trainable = [n for n, p in module.named_parameters() if p.requires_grad]
        assert trainable and all("lora_" in n for n in trainable)
    assert not any(p.requires_grad for p in parts.vae.parameters()) and not parts.vae.training


def test_enough_own_class_images_skip_generation(tiny_sd: Path, tmp_path: Path) -> None:
    from atelier_diffusion.class_images import ensure_class_images

    write_subject(tmp_path / "photos", 3)
    own = write_subject(tmp_path / "class", 5)
    cfg = build_config(_job(tiny_sd, tmp_path, "o", data={"class_dir": str(tmp_path / "class")},
                            prior={"num_class_images": 4}))
    col = Collector()
    assert ensure_class_images(cfg, None, col.emit) == own[:4]  # no model needed: nothing is drawn
    assert col.lines("class_images")[0] | {"dir": ""} == {"type": "class_images", "dir": "", "count": 4,
                                                           "generated": 0, "cache_hit": True}
