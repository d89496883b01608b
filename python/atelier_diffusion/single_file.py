"""Reading a single-file checkpoint in the original (CompVis/LDM) SD 1.x/2.x layout.

diffusers' own LDM→diffusers converters do the key mapping; the configs and tokenizer come from the file's atelier
metadata (written by `atelier export`) or from `config_dir`, a diffusers folder of the same architecture — never
from the hub, which diffusers' `from_single_file` would try to reach. model.load_parts is the only caller.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from diffusers import AutoencoderKL, UNet2DConditionModel
from diffusers.loaders.single_file_utils import (convert_ldm_clip_checkpoint, convert_ldm_unet_checkpoint,
                                                 convert_ldm_vae_checkpoint)
from safetensors import safe_open
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

from .ldm_keys import text_encoder_from_ldm
from .protocol import AtelierError, Problem, RequestError

#: safetensors metadata keys under which `atelier export` stores what a single file needs to be loaded alone.
META_CONFIG = "atelier.config."
META_TOKENIZER = "atelier.tokenizer/"


@dataclass
class SingleFileModules:
    """What a single file holds, converted to diffusers/transformers modules (eval mode)."""

    unet: Any
    vae: Any
    text_encoder: Any
    tokenizer: Any
    scheduler_config: dict[str, Any]


def _configs(meta: dict[str, str], config_dir: Path | None, path: Path, tmp: Path) -> tuple[dict, Path]:
    """(configs of unet, vae, text_encoder and scheduler; the tokenizer folder), from the metadata or config_dir."""
    if META_CONFIG + "unet" in meta:
        configs = {name: json.loads(meta[META_CONFIG + name]) for name in ("unet", "vae", "text_encoder", "scheduler")}
        (tmp / "tokenizer").mkdir()
        for key, text in meta.items():
            if key.startswith(META_TOKENIZER):
                (tmp / "tokenizer" / key[len(META_TOKENIZER):]).write_text(text)
        return configs, tmp / "tokenizer"
    if config_dir is not None:
        configs = {name: json.loads((config_dir / name / "config.json").read_text())
                   for name in ("unet", "vae", "text_encoder")}
        configs["scheduler"] = json.loads((config_dir / "scheduler" / "scheduler_config.json").read_text())
        return configs, config_dir / "tokenizer"
    raise RequestError(f"{path} has no atelier metadata; pass a diffusers folder of the same architecture "
                       "as the model source's 'config'")


def load_single_file(path: Path, config_dir: Path | None = None) -> SingleFileModules:
    """Loads an original-layout checkpoint; SDXL single files are refused with `invalid_model`."""
    with safe_open(str(path), framework="pt") as f:
        meta = dict(f.metadata() or {})
        if any(k.startswith("conditioner.embedders.") for k in f.keys()):
            raise AtelierError(f"{path} is a single-file SDXL checkpoint, which atelier cannot convert yet; use "
                               "the model as a diffusers folder (StableDiffusionXLPipeline layout)",
                               [Problem("model", "single-file SDXL")], code="invalid_model")
        checkpoint = {k: f.get_tensor(k) for k in f.keys()}
    with tempfile.TemporaryDirectory() as tmp:
        configs, tokenizer_dir = _configs(meta, config_dir, path, Path(tmp))
        tokenizer = CLIPTokenizer.from_pretrained(tokenizer_dir)
    unet = UNet2DConditionModel.from_config(configs["unet"])
    _load_strict(unet, convert_ldm_unet_checkpoint(checkpoint, unet.config), "unet")
    vae = AutoencoderKL.from_config(configs["vae"])
    _load_strict(vae, convert_ldm_vae_checkpoint(checkpoint, vae.config), "vae")
    text_encoder = CLIPTextModel(CLIPTextConfig.from_dict(configs["text_encoder"]))
    clip_state = text_encoder_from_ldm(convert_ldm_clip_checkpoint(checkpoint), text_encoder.state_dict().keys())
    _load_strict(text_encoder, clip_state, "text_encoder")
    return SingleFileModules(unet.eval(), vae.eval(), text_encoder.eval(), tokenizer, configs["scheduler"])


def _load_strict(module: torch.nn.Module, state: dict[str, torch.Tensor], name: str) -> None:
    """load_state_dict that fails on any missing or unexpected weight (buffers like position_ids excepted)."""
    result = module.load_state_dict(state, strict=False)
    missing = [k for k in result.missing_keys if not k.endswith("position_ids")]
    if missing or result.unexpected_keys:
        raise AtelierError(f"checkpoint does not match the {name} config: missing {missing[:5]}, "
                           f"unexpected {result.unexpected_keys[:5]}", code="invalid_model")
