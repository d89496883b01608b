"""The networks: loading SD components, freezing, LoRA adapters, attention backend, and building pipelines.

No training logic lives here (see dreambooth_module.py); sampling code (sample.py) builds on `load_parts` /
`build_pipeline` / `load_trained` too, so a base model, a full fine-tune and a LoRA load the same way everywhere.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

#: File written next to LoRA weights: which base they apply to and how they were made.
ADAPTER_FILE = "atelier_adapter.json"
LORA_WEIGHTS = "pytorch_lora_weights.safetensors"


@dataclass
class DiffusionParts:
    """The components DreamBooth touches; `noise_scheduler` is the training (DDPM) schedule of the base."""

    unet: Any
    vae: Any
    text_encoder: Any
    tokenizer: Any
    noise_scheduler: Any
    prediction_type: str
    #: SDXL only: the second (OpenCLIP bigG-style, with projection) encoder and its tokenizer.
    text_encoder_2: Any = None
    tokenizer_2: Any = None

    @property
    def sdxl(self) -> bool:
        """True for an SDXL model: two text encoders, pooled embedding and size/crop `text_time` conditioning."""
        return self.text_encoder_2 is not None

    @property
    def text_encoders(self) -> list[Any]:
        """Every text encoder (one for SD 1.x/2.x, two for SDXL)."""
        return [self.text_encoder] + ([self.text_encoder_2] if self.sdxl else [])

    @property
    def vae_scale_factor(self) -> int:
        """Pixels per latent cell along each side (8 for SD, 2 for the tiny fixture)."""
        return 2 ** (len(self.vae.config.block_out_channels) - 1)


SDXL_PIPELINE = "StableDiffusionXLPipeline"


def is_sdxl(base: str | Path) -> bool:
    """Whether `base` is a diffusers SDXL folder (model_index.json `_class_name`)."""
    index = Path(base) / "model_index.json"
    return index.is_file() and json.loads(index.read_text()).get("_class_name") == SDXL_PIPELINE


def load_parts(base: str | Path, base_config: str | Path | None = None,
               prediction_type: str | None = None) -> DiffusionParts:
    """Loads UNet, VAE, text encoder(s), tokenizer(s) and the DDPM training schedule from a diffusers folder (SD
    1.x/2.x or SDXL, told apart by model_index.json) or a single SD 1.x/2.x checkpoint file (`base_config`: a
    diffusers folder whose configs describe it, since no hub is reachable to infer them). `prediction_type`
    overrides the base scheduler's (v-prediction for SD 2.x-768)."""
    from diffusers import DDPMScheduler, StableDiffusionPipeline, StableDiffusionXLPipeline

    base = Path(base)
    second: tuple[Any, Any] = (None, None)
    if base.is_file():
        # The images side's loader: diffusers' LDM converters with configs from the file's atelier metadata or
        # from `base_config` (diffusers' from_single_file would try to fetch configs from the hub).
        from .resident import load_single_file

        c = load_single_file(base, Path(base_config) if base_config else None)
        unet, vae, text_encoder, tokenizer, sched_config = (c.unet, c.vae, c.text_encoder, c.tokenizer,
                                                            dict(c.scheduler_config))
    elif is_sdxl(base):
        pipe = StableDiffusionXLPipeline.from_pretrained(str(base))
        unet, vae, text_encoder, tokenizer = pipe.unet, pipe.vae, pipe.text_encoder, pipe.tokenizer
        second = (pipe.text_encoder_2, pipe.tokenizer_2)
        sched_config = dict(pipe.scheduler.config)
    else:
        pipe = StableDiffusionPipeline.from_pretrained(str(base), safety_checker=None, feature_extractor=None,
                                                       requires_safety_checker=False)
        unet, vae, text_encoder, tokenizer = pipe.unet, pipe.vae, pipe.text_encoder, pipe.tokenizer
        sched_config = dict(pipe.scheduler.config)
    if prediction_type:
        sched_config["prediction_type"] = prediction_type
    noise_scheduler = DDPMScheduler.from_config(sched_config)
    return DiffusionParts(unet, vae, text_encoder, tokenizer, noise_scheduler, noise_scheduler.config.prediction_type,
                          *second)


def freeze(module: torch.nn.Module) -> None:
    """Eval mode and no gradients: frozen parts must come out of training bit-identical."""
    module.eval()
    module.requires_grad_(False)


def cast_frozen(module: torch.nn.Module, dtype: torch.dtype) -> None:
    """Stores the frozen parameters of `module` in `dtype` (fp16/bf16) and leaves trainable ones in fp32 as the
    optimizer's master copy: under mixed precision the frozen VAE, text encoder and LoRA's base UNet are only ever
    read through autocast, so fp32 storage would be pure memory cost (~1.7 GB for SD 1.5's UNet)."""
    for param in module.parameters():
        if not param.requires_grad:
            param.data = param.data.to(dtype)


def set_attention(unet: Any, backend: str) -> None:
    """`sdpa`: PyTorch's fused scaled-dot-product attention (flash/memory-efficient kernels on GPU);
    `eager`: the reference implementation, for debugging numerics."""
    from diffusers.models.attention_processor import AttnProcessor, AttnProcessor2_0

    unet.set_attn_processor(AttnProcessor2_0() if backend == "sdpa" else AttnProcessor())


def add_lora(module: Any, rank: int, alpha: float, targets: list[str], dropout: float) -> None:
    """Injects peft LoRA adapters (default adapter name) into the UNet or the CLIP text encoder and makes them the
    only trainable parameters. Gaussian init of A with zero B keeps the model's output unchanged at step 0."""
    from peft import LoraConfig, inject_adapter_in_model

    module.requires_grad_(False)
    config = LoraConfig(r=rank, lora_alpha=alpha, target_modules=targets, lora_dropout=dropout,
                        init_lora_weights="gaussian")
    if hasattr(module, "set_adapters"):  # diffusers models: keeps their adapter bookkeeping (set_adapters, fuse)
        module.add_adapter(config)
    else:
        # transformers' own add_adapter demands a newer peft than the pinned one; peft's injection is what it
        # wraps anyway, and diffusers' load_lora_weights reads the resulting keys back.
        inject_adapter_in_model(config, module)
    for name, param in module.named_parameters():
        param.requires_grad_("lora_" in name)


def trainable_state(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The parameters being trained (all of them for a full fine-tune, only adapters for LoRA)."""
    return {n: p.detach() for n, p in module.named_parameters() if p.requires_grad}


def build_pipeline(parts: DiffusionParts, scheduler: Any = None):
    """A StableDiffusionPipeline (StableDiffusionXLPipeline for SDXL parts) over `parts` (shared modules, no copy)
    with a DDIM sampler by default; its progress bar is off so nothing but protocol lines reaches stdout."""
    from diffusers import DDIMScheduler, StableDiffusionPipeline, StableDiffusionXLPipeline

    sched = scheduler or DDIMScheduler.from_config(parts.noise_scheduler.config)
    if parts.sdxl:
        pipe = StableDiffusionXLPipeline(unet=parts.unet, vae=parts.vae, text_encoder=parts.text_encoder,
                                         text_encoder_2=parts.text_encoder_2, tokenizer=parts.tokenizer,
                                         tokenizer_2=parts.tokenizer_2, scheduler=sched)
        pipe.set_progress_bar_config(disable=True)
        return pipe
    pipe = StableDiffusionPipeline(unet=parts.unet, vae=parts.vae, text_encoder=parts.text_encoder,
                                   tokenizer=parts.tokenizer, scheduler=sched, safety_checker=None,
                                   feature_extractor=None, requires_safety_checker=False)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def load_trained(model_dir: str | Path):
    """Loads what training wrote as a ready pipeline: a diffusers folder (full fine-tune) as is, or a LoRA folder
    (atelier_adapter.json + weights) on top of the base it names."""
    model_dir = Path(model_dir)
    adapter = model_dir / ADAPTER_FILE
    if not adapter.is_file():
        return build_pipeline(load_parts(model_dir))
    meta = json.loads(adapter.read_text())
    pipe = build_pipeline(load_parts(meta["base"], meta.get("base_config"), meta.get("prediction_type")))
    pipe.load_lora_weights(str(model_dir), weight_name=LORA_WEIGHTS)
    return pipe


_HASHED_SUFFIXES = (".safetensors", ".bin", ".ckpt", ".json", ".txt")


_HASH_MEMO: dict[tuple, str] = {}


def model_hash(base: str | Path) -> str:
    """SHA-256 over a model's weights and configs (relative names included): the identity of a base model in the
    class-image cache, independent of where the folder lives. Memoised per (files, sizes, mtimes) in the process:
    a job asks twice and SD 1.5 is 4 GB to read."""
    base = Path(base)
    files = [base] if base.is_file() else sorted(p for p in base.rglob("*")
                                                 if p.is_file() and p.suffix in _HASHED_SUFFIXES)
    key = tuple((str(p.resolve()), p.stat().st_size, p.stat().st_mtime_ns) for p in files)
    if key not in _HASH_MEMO:
        _HASH_MEMO[key] = _hash_files(base, files)
    return _HASH_MEMO[key]


def _hash_files(base: Path, files: list[Path]) -> str:
    """The digest behind model_hash."""
    h = hashlib.sha256()
    for path in files:
        h.update(str(path.relative_to(base) if base.is_dir() else path.name).encode())
        with path.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()
