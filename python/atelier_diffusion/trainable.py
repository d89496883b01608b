"""What trains: freezing, LoRA adapters, attention backend, gradient checkpointing and storage precision of the
loaded parts, set up once before the Lightning run (the network definition stays in model.py, the training
logic in dreambooth_module.py)."""

from __future__ import annotations

from typing import Any

import torch
from diffusers.models.attention_processor import AttnProcessor, AttnProcessor2_0
from peft import LoHaConfig, LoKrConfig, LoraConfig, inject_adapter_in_model

from .config import Config
from .model import ModelParts, load_parts


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
    unet.set_attn_processor(AttnProcessor2_0() if backend == "sdpa" else AttnProcessor())


#: Parameter-name marks of each adapter kind's trained tensors.
ADAPTER_MARKS = {"lora": "lora_", "lokr": "lokr_", "loha": "hada_"}


def add_lora(module: Any, rank: int, alpha: float, targets: list[str], dropout: float, kind: str = "lora") -> None:
    """Injects peft adapters (default adapter name) into the UNet or the CLIP text encoder and makes them the only
    trainable parameters: LoRA (Gaussian A, zero B), or LyCORIS' LoKr (Kronecker product) / LoHa (Hadamard
    product of two low-rank pairs), each initialised so the model's output is unchanged at step 0."""
    module.requires_grad_(False)
    if kind == "lokr":
        config = LoKrConfig(r=rank, alpha=alpha, target_modules=targets, module_dropout=dropout)
    elif kind == "loha":
        config = LoHaConfig(r=rank, alpha=alpha, target_modules=targets, module_dropout=dropout)
    else:
        config = LoraConfig(r=rank, lora_alpha=alpha, target_modules=targets, lora_dropout=dropout,
                            init_lora_weights="gaussian")
    if kind == "lora" and hasattr(module, "set_adapters"):  # diffusers: keeps its adapter bookkeeping (fuse)
        module.add_adapter(config)
    else:
        # transformers' own add_adapter demands a newer peft than the pinned one; peft's injection is what it
        # wraps anyway, and diffusers' load_lora_weights reads the resulting keys back.
        inject_adapter_in_model(config, module)
    for name, param in module.named_parameters():
        param.requires_grad_(ADAPTER_MARKS[kind] in name)


def uses_cuda(cfg: Config) -> bool:
    """Whether this job will run on CUDA devices."""
    return torch.cuda.is_available() and cfg.hardware.accelerator in ("auto", "gpu", "cuda")


def _set_trained(cfg: Config, parts: ModelParts) -> None:
    """UNet in full or through LoRA adapters; the text encoder too when it trains."""
    if cfg.train.method == "lora":
        add_lora(parts.unet, cfg.lora.rank, cfg.lora.alpha, cfg.lora.unet_targets, cfg.lora.dropout,
                 cfg.lora.adapter)
        if cfg.train.train_text_encoder:
            add_lora(parts.text_encoder, cfg.lora.rank, cfg.lora.alpha, cfg.lora.text_encoder_targets,
                     cfg.lora.dropout, cfg.lora.adapter)
    else:
        parts.unet.requires_grad_(True)
        if cfg.train.train_text_encoder:
            parts.text_encoder.requires_grad_(True)
    if cfg.train.train_text_encoder:
        parts.text_encoder.train()
    parts.unet.train()


def prepare_parts(cfg: Config) -> ModelParts:
    """Loads the base and sets what trains: VAE always frozen, text encoder frozen unless trained, UNet in full or
    through LoRA adapters; attention backend, gradient checkpointing, half storage of frozen weights on CUDA."""
    parts = load_parts(cfg.model.base, cfg.model.base_config, cfg.model.prediction_type)
    freeze(parts.vae)
    for encoder in parts.text_encoders:
        freeze(encoder)
    set_attention(parts.unet, cfg.train.attention)
    _set_trained(cfg, parts)
    if cfg.train.gradient_checkpointing:
        parts.unet.enable_gradient_checkpointing()
        if cfg.train.train_text_encoder:
            parts.text_encoder.gradient_checkpointing_enable()
    if cfg.train.precision != "32" and uses_cuda(cfg):
        dtype = torch.float16 if cfg.train.precision == "16-mixed" else torch.bfloat16
        # SDXL's VAE overflows in fp16 (its config says force_upcast): it stays fp32, as in diffusers' scripts.
        vae = [] if parts.sdxl else [parts.vae]
        for module in [parts.unet, *vae, *parts.text_encoders]:
            cast_frozen(module, dtype)
    return parts
