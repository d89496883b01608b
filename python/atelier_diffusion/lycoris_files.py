"""LoKr / LoHa adapters (peft's LyCORIS tuners) out of training: the kohya/LyCORIS single file that A1111 and
ComfyUI load, and the adapters merged into plain weights for atelier's own sampling and export.

Kohya key names: `lora_unet_<diffusers module path, dots as _>` (`lora_te_…` for the text encoder) with LyCORIS's
tensor names — LoKr `.lokr_w1` (or `.lokr_w1_a/_b`), `.lokr_w2` (or `.lokr_w2_a/_b`); LoHa `.hada_w1_a`,
`.hada_w1_b`, `.hada_w2_a`, `.hada_w2_b` — plus a scalar `.alpha`. Loaders scale by alpha / rank, the rank read
from `lokr_w2_b` / `hada_w1_b`; a LoKr whose w2 is a full matrix has no rank there and is applied unscaled, so
peft's alpha/r scaling is folded into `lokr_w1` for those layers.
"""

from __future__ import annotations

from typing import Any

import torch
from peft.tuners.loha.layer import LoHaLayer
from peft.tuners.lokr.layer import LoKrLayer
from safetensors.torch import save_file

ADAPTER = "default"
#: File written beside the merged model: the adapter alone, for A1111 / ComfyUI.
LYCORIS_FILE = "lycoris_kohya.safetensors"


def _layers(module: torch.nn.Module) -> list[tuple[str, Any]]:
    """(module path, peft LoKr/LoHa layer) for every adapted layer of `module`."""
    return [(name, m) for name, m in module.named_modules() if isinstance(m, (LoKrLayer, LoHaLayer))]


def kohya_tensors(module: torch.nn.Module, prefix: str, alpha: float) -> dict[str, torch.Tensor]:
    """The adapters of `module` under kohya/LyCORIS names (see the module doc)."""
    out: dict[str, torch.Tensor] = {}
    for name, layer in _layers(module):
        key = prefix + name.replace(".", "_")
        tensors = {n: getattr(layer, n)[ADAPTER].detach().float().cpu()
                   for n in layer.adapter_layer_names if ADAPTER in getattr(layer, n)}
        if isinstance(layer, LoKrLayer) and "lokr_w2" in tensors:  # no rank for the loader: fold the scaling in
            tensors["lokr_w1" if "lokr_w1" in tensors else "lokr_w1_a"] *= layer.scaling[ADAPTER]
        for n, t in tensors.items():
            out[f"{key}.{n}"] = t.contiguous()
        out[f"{key}.alpha"] = torch.tensor(float(alpha))
    return out


def save_kohya_lycoris(parts: dict[str, torch.nn.Module], path: str, alpha: float, kind: str) -> None:
    """Writes the adapters of {"unet": …, "text_encoder": …} (trained ones only) as one kohya-style file."""
    tensors: dict[str, torch.Tensor] = {}
    for role, module in parts.items():
        tensors.update(kohya_tensors(module, "lora_unet_" if role == "unet" else "lora_te_", alpha))
    meta = {"ss_network_module": "lycoris.kohya", "ss_network_args": f'{{"algo": "{kind}"}}'}
    save_file(tensors, path, metadata=meta)


@torch.no_grad()
def merge_into(trained: torch.nn.Module, plain: torch.nn.Module) -> int:
    """Adds each adapter's delta (peft's get_delta_weight) to the same layer of `plain`, an unadapted copy of the
    base; returns how many layers were merged."""
    layers = _layers(trained)
    for name, layer in layers:
        target = plain.get_submodule(name)
        target.weight += layer.get_delta_weight(ADAPTER).to(target.weight)
    return len(layers)
