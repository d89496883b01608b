"""Full fine-tune with prior preservation on the tiny fixture: loss falls, frozen parts stay bit-identical, every
event is streamed and tracked, the output loads as a pipeline, class images are cached across jobs."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from atelier_diffusion.config import build_config
from atelier_diffusion.model import load_parts, load_trained
from atelier_diffusion.train import run_training
from atelier_diffusion.fixtures.subject_photos import write_subject
from train_helpers import Collector, job_config

STEPS = 30


@pytest.fixture(scope="module")
def full_run(tiny_sd: Path, tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("full")
    write_subject(root / "photos", 4)
    cfg = build_config(job_config(tiny_sd, root / "photos", root / "out", root / "cache",
                                  train={"max_steps": STEPS}, checkpoint={"every_n_steps": 10},
                                  tracking={"validation_prompts": ["a photo of sks box"],
                                            "validation_every_n_steps": 15, "validation_steps": 2}))
    col = Collector()
    result = run_training(cfg, col.emit)
    return root, cfg, col, result


def _eval_loss(unet, parts, pixels: torch.Tensor, prompt: str) -> float:
    """Denoising loss at fixed timesteps and noise: a yardstick independent of training's random draws."""
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        latents = parts.vae.encode(pixels).latent_dist.mean * parts.vae.config.scaling_factor
        ids = parts.tokenizer([prompt] * len(pixels), padding="max_length", return_tensors="pt").input_ids
        embeds = parts.text_encoder(ids)[0]
        total = 0.0
        for t in (50, 200, 400, 600, 800):
            noise = torch.randn(latents.shape, generator=gen)
            steps = torch.full((len(pixels),), t)
            noisy = parts.noise_scheduler.add_noise(latents, noise, steps)
            total += torch.mean((unet(noisy, steps, embeds).sample - noise) ** 2).item()
    return total / 5


def test_loss_goes_down_on_the_subject(full_run, tiny_sd: Path) -> None:
    import numpy as np

    from atelier_diffusion.photos import list_images, open_rgb, preprocess

    root, cfg, _col, result = full_run
    base = load_parts(tiny_sd)
    trained = load_parts(result["model_dir"])
    pixels = torch.stack([preprocess(open_rgb(p), 32, "center", False, np.random.default_rng(0))
                          for p in list_images(root / "photos")])
    before = _eval_loss(base.unet, base, pixels, cfg.data.instance_prompt)
    after = _eval_loss(trained.unet, base, pixels, cfg.data.instance_prompt)
    assert after < 0.8 * before, (before, after)


def test_frozen_parts_are_bit_identical(full_run, tiny_sd: Path) -> None:
    _root, _cfg, _col, result = full_run
    out = Path(result["model_dir"])
    for part, name in (("vae", "diffusion_pytorch_model"), ("text_encoder", "model")):
        before = load_file(tiny_sd / part / f"{name}.safetensors")
        after = load_file(out / part / f"{name}.safetensors")
        assert before.keys() == after.keys()
        assert all(torch.equal(before[k], after[k]) for k in before), part
    unet_before = load_file(tiny_sd / "unet" / "diffusion_pytorch_model.safetensors")
    unet_after = load_file(out / "unet" / "diffusion_pytorch_model.safetensors")
    assert sum(not torch.equal(unet_before[k], unet_after[k]) for k in unet_before) > len(unet_before) // 2


def test_every_event_is_streamed(full_run) -> None:
    root, _cfg, col, result = full_run
    assert [m["step"] for m in col.lines("metric")] == list(range(1, STEPS + 1))
    first = col.lines("metric")[0]["values"]
    assert {"loss", "loss_instance", "loss_class", "lr", "grad_norm"} <= set(first)
    assert first["loss"] == pytest.approx(first["loss_instance"] + first["loss_class"])
    ckpts = col.lines("checkpoint")
    assert [c["step"] for c in ckpts] == [10, 20, 30]
    assert sorted(p.name for p in (root / "out" / "checkpoints").iterdir()) == \
        ["step-00000020.ckpt", "step-00000030.ckpt"]
    assert [s["step"] for s in col.lines("sample")] == [15, 30]
    assert Path(col.lines("sample")[0]["path"]).is_file()
    assert col.lines("class_images")[0]["generated"] == 4
    assert col.lines("progress")[-1] | {"steps_per_s": 0, "eta_s": 0} == \
        {"type": "progress", "stage": "train", "step": STEPS, "total": STEPS, "steps_per_s": 0, "eta_s": 0}
    assert result["kind"] == "diffusers" and result["steps"] == STEPS


def test_tensorboard_has_scalars_and_images(full_run) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    root, _cfg, _col, _result = full_run
    acc = EventAccumulator(str(root / "out" / "tensorboard" / "run"), size_guidance={"images": 0})
    acc.Reload()
    tags = acc.Tags()
    assert {"train/loss", "train/lr", "train/grad_norm"} <= set(tags["scalars"])
    assert [e.step for e in acc.Scalars("train/loss")] == list(range(1, STEPS + 1))
    assert "validation/0" in tags["images"]


def test_output_loads_as_a_pipeline(full_run) -> None:
    _root, _cfg, _col, result = full_run
    pipe = load_trained(result["model_dir"])
    image = pipe("a photo of sks box", num_inference_steps=2, output_type="np",
                 generator=torch.Generator().manual_seed(0)).images
    assert image.shape == (1, 32, 32, 3)


def test_resume_with_changed_settings_is_refused(full_run, tiny_sd: Path) -> None:
    from atelier_diffusion.protocol import ConfigError

    root, _cfg, _col, _result = full_run
    changed = build_config(job_config(tiny_sd, root / "photos", root / "out", root / "cache",
                                      train={"max_steps": STEPS + 2, "lr": 2e-3}, checkpoint={"every_n_steps": 10}))
    with pytest.raises(ConfigError) as err:
        run_training(changed, Collector().emit)
    assert [p.path for p in err.value.details] == ["train.lr"]  # max_steps may grow; the lr may not change
