"""Key names of the original (CompVis/LDM) Stable Diffusion checkpoint layout, from diffusers' names.

A1111, ComfyUI and most community tools load one `.safetensors` file whose keys follow the original repo:
`model.diffusion_model.input_blocks.1.0.in_layers.0.weight` rather than diffusers'
`down_blocks.0.resnets.0.norm1.weight`. This module maps diffusers state dicts to that layout; the reverse
direction uses diffusers' own single-file converters (see single_file.load_single_file), so a round trip is checked
against an independent implementation rather than against itself.

The UNet mapping is computed from the model's config (layers per block, which blocks have attention), not from a
table for SD 1.5's exact shape, so it holds for any SD-1.x/2.x-shaped UNet — including the tiny test fixture.
"""

from __future__ import annotations

import re
from typing import Any

import torch

UNET_PREFIX = "model.diffusion_model."
VAE_PREFIX = "first_stage_model."
CLIP_PREFIX = "cond_stage_model.transformer."

_UNET_TOP = {
    "time_embedding.linear_1": "time_embed.0", "time_embedding.linear_2": "time_embed.2",
    "conv_in": "input_blocks.0.0", "conv_norm_out": "out.0", "conv_out": "out.2",
}
_UNET_RESNET = {
    "norm1": "in_layers.0", "conv1": "in_layers.2", "norm2": "out_layers.0", "conv2": "out_layers.3",
    "time_emb_proj": "emb_layers.1", "conv_shortcut": "skip_connection",
}
_VAE_TOP = {"conv_norm_out": "norm_out"}
_VAE_ATTN = {"group_norm": "norm", "to_q": "q", "to_k": "k", "to_v": "v", "to_out.0": "proj_out"}


def _rename_head(rest: str, table: dict[str, str]) -> str:
    """Renames the leading module path of `rest` (`norm1.weight` → `in_layers.0.weight`) when it is in `table`."""
    for old, new in table.items():
        if rest.startswith(old + "."):
            return new + rest[len(old):]
    return rest


def unet_to_ldm(state: dict[str, torch.Tensor], config: dict[str, Any]) -> dict[str, torch.Tensor]:
    """Maps a diffusers UNet2DConditionModel state dict to LDM keys (without the `model.diffusion_model.` prefix).

    LDM numbers blocks flatly: input block 0 is conv_in, then each down block contributes `layers_per_block`
    (resnet, attention) pairs and, except the last, one downsampler; output blocks mirror that with one more layer
    per block, the upsampler sitting in the block's last layer after its attention (slot 2) or resnet (slot 1).
    """
    per = config["layers_per_block"]
    if not isinstance(per, int):
        raise ValueError("single-file export needs an integer layers_per_block (SD 1.x/2.x UNets)")
    up_has_attn = {i for i, t in enumerate(config["up_block_types"]) if "CrossAttn" in t}
    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        out[_unet_key(key, per, up_has_attn)] = value
    return out


def _unet_key(key: str, per: int, up_has_attn: set[int]) -> str:
    head = _rename_head(key, _UNET_TOP)
    if head != key:
        return head
    if m := re.fullmatch(r"down_blocks\.(\d+)\.(resnets|attentions)\.(\d+)\.(.+)", key):
        b, kind, layer, rest = int(m[1]), m[2], int(m[3]), m[4]
        index = 1 + b * (per + 1) + layer
        return (f"input_blocks.{index}.0.{_rename_head(rest, _UNET_RESNET)}" if kind == "resnets"
                else f"input_blocks.{index}.1.{rest}")
    if m := re.fullmatch(r"down_blocks\.(\d+)\.downsamplers\.0\.conv\.(.+)", key):
        return f"input_blocks.{1 + int(m[1]) * (per + 1) + per}.0.op.{m[2]}"
    if m := re.fullmatch(r"mid_block\.resnets\.(\d+)\.(.+)", key):
        return f"middle_block.{2 * int(m[1])}.{_rename_head(m[2], _UNET_RESNET)}"
    if m := re.fullmatch(r"mid_block\.attentions\.0\.(.+)", key):
        return f"middle_block.1.{m[1]}"
    if m := re.fullmatch(r"up_blocks\.(\d+)\.(resnets|attentions)\.(\d+)\.(.+)", key):
        b, kind, layer, rest = int(m[1]), m[2], int(m[3]), m[4]
        index = b * (per + 1) + layer
        return (f"output_blocks.{index}.0.{_rename_head(rest, _UNET_RESNET)}" if kind == "resnets"
                else f"output_blocks.{index}.1.{rest}")
    if m := re.fullmatch(r"up_blocks\.(\d+)\.upsamplers\.0\.conv\.(.+)", key):
        b = int(m[1])
        slot = 2 if b in up_has_attn else 1
        return f"output_blocks.{b * (per + 1) + per}.{slot}.conv.{m[2]}"
    raise ValueError(f"no original-SD name for UNet key {key!r}")


def vae_to_ldm(state: dict[str, torch.Tensor], config: dict[str, Any]) -> dict[str, torch.Tensor]:
    """Maps a diffusers AutoencoderKL state dict to LDM keys (without the `first_stage_model.` prefix).

    LDM counts decoder levels from the bottom (`decoder.up.0` is the last to run), diffusers from the top, and
    LDM's mid-block attention uses 1×1 convolutions where diffusers uses linear layers.
    """
    levels = len(config["up_block_types"])
    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        new_key = _vae_key(key, levels)
        if ".mid.attn_1." in new_key and value.ndim == 2:
            value = value[:, :, None, None]
        out[new_key] = value
    return out


def _vae_key(key: str, levels: int) -> str:
    if m := re.fullmatch(r"(encoder|decoder)\.(conv_norm_out)\.(.+)", key):
        return f"{m[1]}.{_VAE_TOP[m[2]]}.{m[3]}"
    if re.fullmatch(r"(encoder|decoder)\.(conv_in|conv_out)\..+|(post_)?quant_conv\..+", key):
        return key
    if m := re.fullmatch(r"encoder\.down_blocks\.(\d+)\.resnets\.(\d+)\.(.+)", key):
        return f"encoder.down.{m[1]}.block.{m[2]}.{_rename_head(m[3], {'conv_shortcut': 'nin_shortcut'})}"
    if m := re.fullmatch(r"encoder\.down_blocks\.(\d+)\.downsamplers\.0\.conv\.(.+)", key):
        return f"encoder.down.{m[1]}.downsample.conv.{m[2]}"
    if m := re.fullmatch(r"(encoder|decoder)\.mid_block\.resnets\.(\d+)\.(.+)", key):
        rest = _rename_head(m[3], {"conv_shortcut": "nin_shortcut"})
        return f"{m[1]}.mid.block_{int(m[2]) + 1}.{rest}"
    if m := re.fullmatch(r"(encoder|decoder)\.mid_block\.attentions\.0\.(.+)", key):
        return f"{m[1]}.mid.attn_1.{_rename_head(m[2], _VAE_ATTN)}"
    if m := re.fullmatch(r"decoder\.up_blocks\.(\d+)\.resnets\.(\d+)\.(.+)", key):
        rest = _rename_head(m[3], {"conv_shortcut": "nin_shortcut"})
        return f"decoder.up.{levels - 1 - int(m[1])}.block.{m[2]}.{rest}"
    if m := re.fullmatch(r"decoder\.up_blocks\.(\d+)\.upsamplers\.0\.conv\.(.+)", key):
        return f"decoder.up.{levels - 1 - int(m[1])}.upsample.conv.{m[2]}"
    raise ValueError(f"no original-SD name for VAE key {key!r}")


def text_encoder_to_ldm(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """SD 1.x keeps HF CLIPTextModel names, `text_model.…`, under `cond_stage_model.transformer.` (prefix added by
    the caller). transformers ≥ 5 dropped the `text_model.` level from the module, so it is put back here."""
    return {k if k.startswith("text_model.") else "text_model." + k: v
            for k, v in state.items() if not k.endswith("position_ids")}


def text_encoder_from_ldm(state: dict[str, torch.Tensor], own_keys) -> dict[str, torch.Tensor]:
    """Inverse of text_encoder_to_ldm for a model whose state dict has `own_keys` (with or without `text_model.`)."""
    flat = not any(k.startswith("text_model.") for k in own_keys)
    return {k[len("text_model."):] if flat and k.startswith("text_model.") else k: v for k, v in state.items()}


def to_ldm_checkpoint(unet, vae, text_encoder) -> dict[str, torch.Tensor]:
    """The whole model as one original-layout state dict (contiguous tensors, ready for safetensors)."""
    if type(text_encoder).__name__ != "CLIPTextModel":
        raise ValueError("single-file export supports CLIPTextModel text encoders (SD 1.x layout); "
                         f"this model has {type(text_encoder).__name__}")
    parts = (
        (UNET_PREFIX, unet_to_ldm(unet.state_dict(), dict(unet.config))),
        (VAE_PREFIX, vae_to_ldm(vae.state_dict(), dict(vae.config))),
        (CLIP_PREFIX, text_encoder_to_ldm(text_encoder.state_dict())),
    )
    return {prefix + k: v.detach().contiguous() for prefix, mapped in parts for k, v in mapped.items()}
