"""Cross-field checks of a Config, run before any model is loaded.

Logical contradictions are errors (all reported together); wishes the hardware cannot grant degrade with a warning
recorded on `cfg.warnings`, so one preset works on a laptop and on a GPU box.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch

from .model import is_sdxl, native_resolution
from .protocol import ConfigError, Problem

SINGLE_FILE_SUFFIXES = (".safetensors", ".ckpt")


#: Training size when neither the user nor the base model's configs give one (SD 1.x single files).
FALLBACK_RESOLUTION = 512

REQUIRED = ("model.base", "data.instance_dir", "output.dir")


def missing_required(data: dict) -> list[Problem]:
    """Required keys absent or empty in a raw config dict (reported with schema errors, so one answer lists all)."""
    out = []
    for key in REQUIRED:
        section, name = key.split(".")
        node = data.get(section)
        if not isinstance(node, dict) or not node.get(name):
            out.append(Problem(key, "is required"))
    data_section = data.get("data") if isinstance(data.get("data"), dict) else {}
    if not data_section.get("instance_prompt") and not data_section.get("captions"):
        out.append(Problem("data.instance_prompt", "is required (or set data.captions to true)"))
    return out


def _required(cfg) -> list[Problem]:
    """Keys without a usable default that every job must give."""
    values = {key: getattr(getattr(cfg, key.split(".")[0]), key.split(".")[1]) for key in REQUIRED}
    out = [Problem(key, "is required") for key, value in values.items() if not value]
    if not cfg.data.instance_prompt and not cfg.data.captions:
        out.append(Problem("data.instance_prompt", "is required (or set data.captions to true)"))
    return out


def _paths(cfg) -> list[Problem]:
    """The base model and the photo folder must exist now, not after minutes of class-image generation."""
    out: list[Problem] = []
    base = Path(cfg.model.base)
    if cfg.model.base and not base.exists():
        out.append(Problem("model.base", f"{base} does not exist"))
    elif base.is_dir() and not (base / "model_index.json").is_file():
        out.append(Problem("model.base", f"{base} is not a diffusers pipeline folder (no model_index.json)"))
    elif base.is_file() and base.suffix not in SINGLE_FILE_SUFFIXES:
        out.append(Problem("model.base", f"single-file checkpoints must be {' or '.join(SINGLE_FILE_SUFFIXES)}"))
    if cfg.model.base_config and base.is_dir():
        out.append(Problem("model.base_config", "only used with a single-file model.base"))
    if cfg.model.base_config and not (Path(cfg.model.base_config) / "model_index.json").is_file():
        out.append(Problem("model.base_config", "must be a diffusers pipeline folder"))
    if cfg.data.instance_dir and not Path(cfg.data.instance_dir).is_dir():
        out.append(Problem("data.instance_dir", f"{cfg.data.instance_dir} is not a folder"))
    resume = cfg.checkpoint.resume
    if resume not in ("auto", "none") and not Path(resume).exists():
        out.append(Problem("checkpoint.resume", f'{resume} does not exist (use "auto", "none" or a checkpoint)'))
    return out


def _resolve_resolution(cfg) -> None:
    """Fills data.resolution from the base model's native size when unset: training a 32 px model at 512 px (or
    SDXL at 512) wastes ~250× the compute and teaches a size the model never samples at."""
    if cfg.data.resolution is not None:
        return
    native = native_resolution(cfg.model.base, cfg.model.base_config) if cfg.model.base else None
    if native is None:
        cfg.warnings.append(f"the base model's native size is unknown; training at {FALLBACK_RESOLUTION} px")
    cfg.data.resolution = native or FALLBACK_RESOLUTION


def _logic(cfg) -> list[Problem]:
    """Combinations that cannot produce a sensible run."""
    out: list[Problem] = []
    if cfg.data.resolution % 8:
        out.append(Problem("data.resolution", "must be a multiple of 8"))
    if cfg.data.bucket_step is not None and cfg.data.bucket_step % 8:
        out.append(Problem("data.bucket_step", "must be a multiple of 8"))
    if cfg.data.bucket_step is not None and not cfg.data.bucketing:
        out.append(Problem("data.bucket_step", "is set but data.bucketing is false"))
    if cfg.train.ema_decay >= 1.0:
        out.append(Problem("train.ema_decay", "must be below 1 (1 would never move the average)"))
    if cfg.prior.enabled and not cfg.data.class_prompt:
        out.append(Problem("data.class_prompt", "is required when prior.enabled is true"))
    if cfg.prior.enabled and cfg.data.class_prompt == cfg.data.instance_prompt:
        out.append(Problem("data.class_prompt", "equals the instance prompt: the identifier could not be learnt"))
    if cfg.train.lr_warmup_steps >= cfg.train.max_steps:
        out.append(Problem("train.lr_warmup_steps", "must be smaller than train.max_steps"))
    if cfg.train.text_encoder_lr is not None and not cfg.train.train_text_encoder:
        out.append(Problem("train.text_encoder_lr", "is set but train.train_text_encoder is false"))
    if cfg.lora.adapter != "lora" and cfg.train.method != "lora":
        out.append(Problem("lora.adapter", f"{cfg.lora.adapter} is an adapter: set train.method to lora"))
    if cfg.train.method == "lora" and cfg.hardware.strategy == "fsdp":
        out.append(Problem("hardware.strategy", "fsdp does not shard peft LoRA adapters here; use ddp for LoRA"))
    if cfg.train.train_text_encoder and cfg.model.base and is_sdxl(cfg.model.base):
        out.append(Problem("train.train_text_encoder", "not supported for SDXL bases yet (both encoders stay "
                           "frozen; the UNet trains in full or as LoRA)"))
    if cfg.hardware.strategy == "ddp_spawn":
        out.append(Problem("hardware.strategy", "ddp_spawn would pickle the trainer with its protocol stream; use "
                           "ddp (ranks re-executed, also from the worker)"))
    if cfg.hardware.strategy == "deepspeed" and importlib.util.find_spec("deepspeed") is None:
        out.append(Problem("hardware.strategy", "deepspeed is not installed"))
    if isinstance(cfg.hardware.devices, str) and cfg.hardware.devices != "auto":
        out.append(Problem("hardware.devices", 'must be a count or "auto"'))
    if cfg.tracking.validation_every_n_steps and not cfg.tracking.validation_prompts:
        out.append(Problem("tracking.validation_prompts", "needed when validation_every_n_steps > 0"))
    return out


def _hardware(cfg, cuda: bool) -> list[Problem]:
    """Degrade what this machine cannot do (warnings), and refuse explicit GPU requests without a GPU."""
    out: list[Problem] = []
    if cfg.hardware.accelerator in ("gpu", "cuda") and not cuda:
        out.append(Problem("hardware.accelerator", f"{cfg.hardware.accelerator} requested but no CUDA device"))
    if cfg.train.optimizer == "adamw8bit" and not (cuda and importlib.util.find_spec("bitsandbytes")):
        cfg.warnings.append("8-bit Adam needs bitsandbytes and CUDA; using AdamW (more optimizer memory)")
        cfg.train.optimizer = "adamw"
    if cfg.train.cache_latents and cfg.data.crop == "random":
        cfg.warnings.append("train.cache_latents needs data.crop center (a random crop changes every step); "
                            "encoding each batch instead")
        cfg.train.cache_latents = False
    if cfg.train.precision == "16-mixed" and not cuda:
        cfg.warnings.append("16-mixed precision needs CUDA; training in fp32 (use bf16-mixed on CPU)")
        cfg.train.precision = "32"
    return out


def check_combinations(cfg, cuda: bool | None = None) -> None:
    """Validates cross-field rules in place; raises ConfigError with every problem found."""
    if cuda is None:
        cuda = torch.cuda.is_available()
    problems = _required(cfg) + _paths(cfg)
    _resolve_resolution(cfg)
    problems += _logic(cfg) + _hardware(cfg, cuda)
    if problems:
        raise ConfigError(f"invalid training config ({len(problems)} problem(s))", problems)
