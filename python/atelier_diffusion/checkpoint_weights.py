"""Generation from a training checkpoint: the base model with a `step-XXXXXXXX.ckpt`'s trained tensors applied.

A checkpoint (callbacks.CheckpointCallback) keeps only the trained tensors (`unet.…`, `text_encoder.…`), the job's
config and, with `train.ema`, the averaged weights. Applying it to a freshly loaded base gives the model the job
would have written had it stopped at that step — the EMA average when there is one, as the final output uses — so
any checkpoint can be tried before (or instead of) the last one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from peft.tuners.tuners_utils import BaseTunerLayer

from .model import ModelParts
from .protocol import Problem, RequestError
from .trainable import add_lora


def _trained_state(checkpoint: dict[str, Any]) -> dict[str, torch.Tensor]:
    """The checkpoint's trained tensors by name; the EMA's shadow copies when it kept one. Its shadow list follows
    the module's trained parameters in registration order, which is the order of the saved state dict."""
    state = checkpoint.get("state_dict") or {}
    shadow = (checkpoint.get("atelier", {}).get("ema") or {}).get("shadow_params")
    if shadow and len(shadow) == len(state):
        return {name: tensor for name, tensor in zip(state, shadow)}
    return dict(state)


def _load_into(module: torch.nn.Module, prefix: str, state: dict[str, torch.Tensor], path: Path) -> None:
    """Copies the `prefix.`-named tensors into `module`; a name the module lacks means another architecture."""
    own = {name[len(prefix) + 1:]: t for name, t in state.items() if name.startswith(prefix + ".")}
    if not own:
        return
    unexpected = module.load_state_dict(own, strict=False).unexpected_keys
    if unexpected:
        raise RequestError(f"the checkpoint {path.name} does not fit this base model",
                           [Problem("model", f"unknown tensor {prefix}.{unexpected[0]}")])


def apply_checkpoint(parts: ModelParts, path: str | Path) -> None:
    """Applies checkpoint `path` to the loaded base `parts` in place: full weights are copied over; LoRA adapters
    are rebuilt with the job's shape, loaded and merged (so the model runs at base speed)."""
    path = Path(path)
    if not path.is_file():
        raise RequestError(f"checkpoint not found at {path}", [Problem("model", "the checkpoint was pruned")])
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    cfg = checkpoint.get("atelier", {}).get("config") or {}
    train, lora = cfg.get("train", {}), cfg.get("lora", {})
    state = _trained_state(checkpoint)
    adapted = train.get("method") == "lora"
    if adapted:
        targets = {"unet": lora.get("unet_targets"), "text_encoder": lora.get("text_encoder_targets")}
        for prefix, module in (("unet", parts.unet), ("text_encoder", parts.text_encoder)):
            if any(name.startswith(prefix + ".") for name in state):
                add_lora(module, int(lora.get("rank", 4)), float(lora.get("alpha", 4.0)), targets[prefix], 0.0)
    _load_into(parts.unet, "unet", state, path)
    _load_into(parts.text_encoder, "text_encoder", state, path)
    if adapted:
        for module in (parts.unet, parts.text_encoder):
            for layer in module.modules():
                if isinstance(layer, BaseTunerLayer):
                    layer.merge()
