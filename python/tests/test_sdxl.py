"""SDXL on the tiny random StableDiffusionXLPipeline fixture: detection from model_index.json, DreamBooth in full
and as LoRA (two frozen text encoders, pooled embedding, size/crop `text_time` conditioning), generation that
matches diffusers' own SDXL pipeline, and clear refusals for what is not supported."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from atelier_diffusion.config import build_config
from atelier_diffusion.batch_stream import DreamBoothStream, StreamSpec
from atelier_diffusion.model import is_sdxl, load_parts
from atelier_diffusion.protocol import AtelierError, ConfigError
from atelier_diffusion.resident import ModelSource, load_source
from atelier_diffusion.single_file import load_single_file
from atelier_diffusion.sample import SampleParams, make_scheduler, sample
from atelier_diffusion.fixtures.subject_photos import write_subject
from atelier_diffusion.train import run_training
from train_helpers import Collector, job_config

PROMPT = "a photo of sks box"


def _train(tiny_sdxl: Path, root: Path, method: str) -> tuple[Collector, dict]:
    write_subject(root / "photos", 4)
    cfg = build_config(job_config(tiny_sdxl, root / "photos", root / method, root / "cache",
                                  data={"crop": "random", "flip_p": 0.5},
                                  train={"method": method, "max_steps": 4},
                                  tracking={"validation_prompts": [PROMPT], "validation_steps": 2}))
    col = Collector()
    return col, run_training(cfg, col.emit)


def test_fixture_is_a_real_sdxl_folder(tiny_sdxl: Path) -> None:
    index = json.loads((tiny_sdxl / "model_index.json").read_text())
    assert index["_class_name"] == "StableDiffusionXLPipeline" and is_sdxl(tiny_sdxl)
    assert {"text_encoder_2", "tokenizer_2"} <= set(index)
    parts = load_parts(tiny_sdxl)
    assert parts.sdxl and len(parts.text_encoders) == 2
    assert parts.unet.config.addition_embed_type == "text_time"


def test_full_fine_tune_trains_the_unet_only_and_generates(tiny_sdxl: Path, tmp_path: Path) -> None:
    col, result = _train(tiny_sdxl, tmp_path, "full")
    losses = [m["values"]["loss"] for m in col.lines("metric")]
    assert len(losses) == 4 and all(np.isfinite(losses))
    assert col.lines("class_images")[0]["generated"] == 4  # drawn by the SDXL pipeline itself
    assert len(col.lines("sample")) == 1
    model = Path(result["model_dir"])
    assert json.loads((model / "model_index.json").read_text())["_class_name"] == "StableDiffusionXLPipeline"
    for frozen in ("text_encoder/model.safetensors", "text_encoder_2/model.safetensors",
                   "vae/diffusion_pytorch_model.safetensors"):
        before, after = load_file(tiny_sdxl / frozen), load_file(model / frozen)
        assert all(torch.equal(before[k], after[k]) for k in before), frozen
    unet_before = load_file(tiny_sdxl / "unet" / "diffusion_pytorch_model.safetensors")
    unet_after = load_file(model / "unet" / "diffusion_pytorch_model.safetensors")
    assert any(not torch.equal(unet_before[k], unet_after[k]) for k in unet_before)

    images = sample(load_source(ModelSource(str(model))), SampleParams(PROMPT, width=32, height=32, steps=2,
                                                                           sampler="ddim", seed=3, n=2))
    assert images.shape == (2, 32, 32, 3) and images.dtype == torch.uint8


def test_lora_adapter_generates_through_the_resident_loader(tiny_sdxl: Path, tmp_path: Path) -> None:
    col, result = _train(tiny_sdxl, tmp_path, "lora")
    assert result["kind"] == "lora" and all(np.isfinite([m["values"]["loss"] for m in col.lines("metric")]))
    base = load_source(ModelSource(str(tiny_sdxl)))
    merged = load_source(ModelSource(str(tiny_sdxl), lora=result["model_dir"]))
    changed = [n for n, p in merged.unet.named_parameters() if not torch.equal(p, base.unet.get_parameter(n))]
    assert changed and all("attn" in n for n in changed)
    images = sample(merged, SampleParams(PROMPT, width=32, height=32, steps=2, sampler="euler_a", seed=1))
    assert images.shape == (1, 32, 32, 3)


def test_generation_matches_diffusers_sdxl_pipeline(tiny_sdxl: Path) -> None:
    """Same seed, sampler and guidance (empty negative prompt → zero conditioning, as SDXL was trained)."""
    from diffusers import StableDiffusionXLPipeline

    parts = load_source(ModelSource(str(tiny_sdxl)))
    params = SampleParams(PROMPT, width=32, height=32, steps=3, sampler="ddim", guidance_scale=5.0, seed=11)
    ours = sample(parts, params)[0].numpy().astype(int)
    pipe = StableDiffusionXLPipeline.from_pretrained(str(tiny_sdxl))
    pipe.scheduler = make_scheduler("ddim", parts.scheduler_config)
    pipe.set_progress_bar_config(disable=True)
    theirs = np.asarray(pipe(PROMPT, height=32, width=32, num_inference_steps=3, guidance_scale=5.0,
                             generator=torch.Generator().manual_seed(11)).images[0]).astype(int)
    assert np.abs(ours - theirs).max() <= 1


def test_stream_carries_size_conditioning(tmp_path: Path) -> None:
    """time_ids per example: (original h, w, crop top, crop left, target h, w), crops inside the resized photo."""
    photos = write_subject(tmp_path / "photos", 3, size=48)
    spec = StreamSpec(tuple(photos), tuple(photos), 32, "random", 0.5, 2, 7, size_conditioning=True)
    batch = DreamBoothStream(spec).batch(0)
    ids = batch["time_ids"]
    assert ids.shape == (4, 6) and batch["pixels"].shape[0] == 4
    assert torch.all(ids[:, 4:] == 32) and torch.all(ids[:, :2] > 0)
    assert torch.all((ids[:, 2:4] >= 0) & (ids[:, 2:4] <= ids[:, :2] * 32 / ids[:, :2].min(dim=1).values[:, None]))
    assert "time_ids" not in DreamBoothStream(StreamSpec(tuple(photos), (), 32, "random", 0.5, 2, 7)).batch(0)


def test_refusals_name_what_is_unsupported(tiny_sdxl: Path, tmp_path: Path) -> None:
    write_subject(tmp_path / "photos", 3)
    with pytest.raises(ConfigError) as err:
        build_config(job_config(tiny_sdxl, tmp_path / "photos", tmp_path / "out", tmp_path / "cache",
                                train={"train_text_encoder": True}))
    assert "train.train_text_encoder" in {p.path for p in err.value.details}
    single = tmp_path / "sdxl.safetensors"
    save_file({"conditioner.embedders.1.model.ln_final.weight": torch.zeros(2)}, str(single))
    with pytest.raises(AtelierError) as err:
        load_single_file(single)
    assert err.value.code == "invalid_model" and "single-file SDXL" in err.value.message
