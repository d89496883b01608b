"""LoRA weight files: read the common layouts, write diffusers and kohya layouts, merge into a model.

Layouts read (all normalised to a list of `LoraLayer`):

* diffusers / peft: `unet.<module>.lora_A.weight` + `lora_B.weight` (what `save_lora_weights` writes; alpha and
  per-module patterns in the safetensors metadata `lora_adapter_metadata`), or a peft adapter folder
  (`adapter_model.safetensors` + `adapter_config.json`, keys `base_model.model.<module>...`);
* kohya (A1111, ComfyUI, sd-scripts): `lora_unet_<module with _>.lora_down.weight`, `.lora_up.weight`, `.alpha`
  and `lora_te_...` for the text encoder. Underscores are ambiguous (`to_q` vs `to.q`), so names are resolved
  against the model's real module names rather than guessed back.

Merging computes W += (alpha / rank) · scale · up @ down in float32, the same rule for every layout, so a LoRA and
its kohya export give bit-identical merged weights.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file

#: Component → kohya prefix.
KOHYA_PREFIX = {"unet": "lora_unet_", "text_encoder": "lora_te_"}
#: transformers ≥ 5 flattened CLIPTextModel (no `.text_model` child), but LoRA files and SD checkpoints keep the
#: `text_model.` names; layers always carry that canonical form.
TE_CANONICAL = "text_model."
#: peft (`lora_A`/`lora_B`, optionally with an adapter name) and diffusers (`lora.down`/`lora.up`,
#: `lora_linear_layer.down`) spellings of one adapted module's two weights.
_PEFT_KEY = re.compile(r"(?:base_model\.model\.)?(?:(unet|text_encoder)\.)?(.+?)\."
                       r"(?:lora_(A|B)(?:\.[^.]+)?|lora(?:_linear_layer)?\.(down|up))\.weight")
#: Written beside a LoRA by atelier's trainer (output.py): its `alpha` when the weights file carries none.
ADAPTER_FILE = "atelier_adapter.json"


@dataclass
class LoraLayer:
    """One adapted module: `component` (unet | text_encoder), its module path, down (rank × in [× k × k]) and up
    (out × rank [× 1 × 1]) weights, and alpha (scale = alpha / rank)."""

    component: str
    module: str
    down: torch.Tensor
    up: torch.Tensor
    alpha: float

    @property
    def rank(self) -> int:
        return self.down.shape[0]


def _read_safetensors(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    with safe_open(str(path), framework="pt") as f:
        return {k: f.get_tensor(k) for k in f.keys()}, dict(f.metadata() or {})


def _pattern_value(patterns: dict, module: str, default):
    """peft's `alpha_pattern`/`rank_pattern`: a key matches a module whose path ends with it (as a regex)."""
    for pattern, value in patterns.items():
        if re.match(rf"(.*\.)?({pattern})$", module):
            return value
    return default


def read_lora(path: str | Path, module_names: dict[str, set[str]]) -> list[LoraLayer]:
    """Reads a LoRA in any supported layout. `module_names` maps component → its module paths (to resolve kohya
    names and to reject a LoRA made for another architecture). Raises ValueError naming the first bad key."""
    path = Path(path)
    config: dict = {}
    if path.is_dir():
        if (path / "adapter_config.json").exists():
            config = json.loads((path / "adapter_config.json").read_text())
        elif (path / ADAPTER_FILE).exists():
            adapter = json.loads((path / ADAPTER_FILE).read_text())
            config = {"lora_alpha": adapter["alpha"]} if "alpha" in adapter else {}
        candidates = [path / n for n in ("pytorch_lora_weights.safetensors", "adapter_model.safetensors")]
        path = next((p for p in candidates if p.exists()), candidates[0])
    tensors, metadata = _read_safetensors(path)
    if any(k.startswith(tuple(KOHYA_PREFIX.values())) for k in tensors):
        return _from_kohya(tensors, module_names)
    if "lora_adapter_metadata" in metadata:
        config = json.loads(metadata["lora_adapter_metadata"])
    return _from_peft(tensors, config, module_names)


def _from_kohya(tensors: dict[str, torch.Tensor], module_names: dict[str, set[str]]) -> list[LoraLayer]:
    lookup = {KOHYA_PREFIX[c] + m.replace(".", "_"): (c, m) for c, names in module_names.items() for m in names}
    layers = []
    for key in sorted(k for k in tensors if k.endswith(".lora_down.weight")):
        name = key[: -len(".lora_down.weight")]
        if name not in lookup:
            raise ValueError(f"LoRA key {key!r} names no module of this model")
        component, module = lookup[name]
        down, up = tensors[key], tensors[f"{name}.lora_up.weight"]
        alpha = float(tensors[f"{name}.alpha"].item()) if f"{name}.alpha" in tensors else float(down.shape[0])
        layers.append(LoraLayer(component, module, down, up, alpha))
    return layers


def _from_peft(tensors: dict[str, torch.Tensor], config: dict, module_names: dict[str, set[str]]) -> list[LoraLayer]:
    pairs: dict[tuple[str, str], dict[str, torch.Tensor]] = {}
    for key, value in tensors.items():
        m = _PEFT_KEY.fullmatch(key)
        if m is None:
            raise ValueError(f"unrecognised LoRA key {key!r}")
        component, module = m[1] or "unet", m[2]
        if component == "text_encoder" and not module.startswith(TE_CANONICAL):
            module = TE_CANONICAL + module
        which = m[3] or ("A" if m[4] == "down" else "B")
        pairs.setdefault((component, module), {})[which] = value
    layers = []
    for (component, module), ab in sorted(pairs.items()):
        if module not in module_names.get(component, set()):
            raise ValueError(f"LoRA module {component}.{module} does not exist in this model")
        prefix = f"{component}." if any(k.startswith(f"{component}.") for k in config) else ""
        rank = ab["A"].shape[0]
        alpha = config.get(f"{prefix}lora_alpha", rank)
        alpha = _pattern_value(config.get(f"{prefix}alpha_pattern") or {}, module, alpha)
        layers.append(LoraLayer(component, module, ab["A"], ab["B"], float(alpha)))
    return layers


def _te_prefix(text_encoder) -> str:
    return "" if hasattr(text_encoder, "text_model") else TE_CANONICAL


def module_names(unet, text_encoder) -> dict[str, set[str]]:
    """Names of the modules a LoRA may adapt, per component (text encoder names in canonical form)."""
    prefix = _te_prefix(text_encoder)
    return {"unet": {n for n, _ in unet.named_modules() if n},
            "text_encoder": {prefix + n for n, _ in text_encoder.named_modules() if n}}


@torch.no_grad()
def merge_lora(models: dict[str, torch.nn.Module], layers: list[LoraLayer], scale: float = 1.0) -> None:
    """Adds each layer's low-rank update into the model weights in place (`models`: component → module)."""
    for layer in layers:
        model = models[layer.component]
        name = layer.module
        if layer.component == "text_encoder" and _te_prefix(model):
            name = name[len(TE_CANONICAL):]
        target = model.get_submodule(name)
        weight = target.weight
        delta = layer.up.flatten(1).float() @ layer.down.flatten(1).float()
        delta = delta.reshape(weight.shape) * (layer.alpha / layer.rank * scale)
        weight.copy_((weight.float() + delta.to(weight.device)).to(weight.dtype))


def save_kohya(layers: list[LoraLayer], path: str | Path, metadata: dict[str, str] | None = None) -> None:
    """Writes `lora_unet_…`/`lora_te_…` keys with `.lora_down.weight`, `.lora_up.weight` and a scalar `.alpha`."""
    out: dict[str, torch.Tensor] = {}
    for layer in layers:
        name = KOHYA_PREFIX[layer.component] + layer.module.replace(".", "_")
        out[f"{name}.lora_down.weight"] = layer.down.contiguous()
        out[f"{name}.lora_up.weight"] = layer.up.contiguous()
        out[f"{name}.alpha"] = torch.tensor(layer.alpha, dtype=torch.float32)
    save_file(out, str(path), metadata={"ss_network_module": "networks.lora", **(metadata or {})})


def save_diffusers(layers: list[LoraLayer], path: str | Path, metadata: dict[str, str] | None = None) -> None:
    """Writes diffusers' layout (`unet.<module>.lora_A.weight`/`lora_B.weight`) with alphas in
    `lora_adapter_metadata` the way `save_lora_weights` does, so `pipe.load_lora_weights` reads it too."""
    out: dict[str, torch.Tensor] = {}
    adapter: dict[str, object] = {}
    for component in sorted({layer.component for layer in layers}):
        mine = [layer for layer in layers if layer.component == component]
        rank = mine[0].rank
        adapter[f"{component}.r"] = rank
        adapter[f"{component}.lora_alpha"] = mine[0].alpha
        adapter[f"{component}.target_modules"] = sorted({layer.module for layer in mine})
        # Exact per-module patterns keep layers whose rank or alpha differ from the first one faithful.
        adapter[f"{component}.rank_pattern"] = {re.escape(x.module): x.rank for x in mine if x.rank != rank}
        adapter[f"{component}.alpha_pattern"] = {re.escape(x.module): x.alpha for x in mine
                                                 if x.alpha != mine[0].alpha}
        for layer in mine:
            out[f"{component}.{layer.module}.lora_A.weight"] = layer.down.contiguous()
            out[f"{component}.{layer.module}.lora_B.weight"] = layer.up.contiguous()
    meta = {"format": "pt", "lora_adapter_metadata": json.dumps(adapter, sort_keys=True), **(metadata or {})}
    save_file(out, str(path), metadata=meta)
