"""Writes the trained model where the store and generation can use it, and describes it for the result line.

Full fine-tune → `<output>/model/` is a complete diffusers StableDiffusionPipeline (or, for an SDXL base,
StableDiffusionXLPipeline) folder.
LoRA → `<output>/model/` holds `pytorch_lora_weights.safetensors` (diffusers/peft key names, loadable with
`pipe.load_lora_weights`) and `atelier_adapter.json` naming the base (path and content hash) and the adapter shape.
LoKr/LoHa → a full pipeline folder with the adapters merged, plus `lycoris_kohya.safetensors` (lycoris_files.py).
Written into a temp folder and renamed, so a half-written model is never mistaken for a finished one.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from diffusers import StableDiffusionPipeline, StableDiffusionXLPipeline
from diffusers.utils import convert_state_dict_to_diffusers
from peft.utils import get_peft_model_state_dict

from .config import Config
from .lycoris_files import LYCORIS_FILE, merge_into, save_kohya_lycoris
from .model import ADAPTER_FILE, LORA_WEIGHTS, ModelParts, build_pipeline, load_parts, model_hash


def _write_lora(cfg: Config, parts: ModelParts, folder: Path, base_hash: str) -> None:
    unet_layers = convert_state_dict_to_diffusers(get_peft_model_state_dict(parts.unet))
    te_layers = None
    if cfg.train.train_text_encoder:
        te_layers = convert_state_dict_to_diffusers(get_peft_model_state_dict(parts.text_encoder))
    # SDXL's writer takes the same layers (its encoders stay frozen, so no text_encoder_2 layers).
    writer = StableDiffusionXLPipeline if parts.sdxl else StableDiffusionPipeline
    writer.save_lora_weights(str(folder), unet_lora_layers=unet_layers, text_encoder_lora_layers=te_layers,
                             weight_name=LORA_WEIGHTS)
    meta = {"format": "atelier-lora/1", "base": str(Path(cfg.model.base).resolve()), "base_hash": base_hash,
            "base_config": cfg.model.base_config, "prediction_type": parts.prediction_type,
            "rank": cfg.lora.rank, "alpha": cfg.lora.alpha, "unet_targets": cfg.lora.unet_targets,
            "text_encoder_targets": cfg.lora.text_encoder_targets if cfg.train.train_text_encoder else [],
            "instance_prompt": cfg.data.instance_prompt}
    (folder / ADAPTER_FILE).write_text(json.dumps(meta, indent=1))


def _write_lycoris(cfg: Config, parts: ModelParts, folder: Path) -> None:
    """LoKr/LoHa: the base with the adapters merged (a full pipeline, so atelier samples and exports it as any
    fine-tune) plus the adapter alone in kohya/LyCORIS form for A1111 and ComfyUI."""
    fresh = load_parts(cfg.model.base, cfg.model.base_config, cfg.model.prediction_type)
    trained = {"unet": parts.unet}
    merge_into(parts.unet, fresh.unet)
    if cfg.train.train_text_encoder:
        merge_into(parts.text_encoder, fresh.text_encoder)
        trained["text_encoder"] = parts.text_encoder
    build_pipeline(fresh, parts.noise_scheduler).save_pretrained(str(folder), safe_serialization=True)
    save_kohya_lycoris(trained, str(folder / LYCORIS_FILE), cfg.lora.alpha, cfg.lora.adapter)


def write_output(cfg: Config, parts: ModelParts, out_dir: Path) -> dict[str, Any]:
    """Saves the model under out_dir/model and returns the result-line fields describing it."""
    final = out_dir / "model"
    tmp = out_dir / ".model.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    base_hash = model_hash(cfg.model.base)
    lycoris = cfg.train.method == "lora" and cfg.lora.adapter != "lora"
    if cfg.train.method == "lora" and not lycoris:
        _write_lora(cfg, parts, tmp, base_hash)
    elif lycoris:
        _write_lycoris(cfg, parts, tmp)
    else:
        # Frozen parts come from the base files, not from memory: under mixed precision they are stored in half
        # there, and the output must hold the base's exact VAE (and text encoder, unless trained).
        fresh = load_parts(cfg.model.base, cfg.model.base_config, cfg.model.prediction_type)
        fresh.unet = parts.unet
        if cfg.train.train_text_encoder:
            fresh.text_encoder = parts.text_encoder
        build_pipeline(fresh, parts.noise_scheduler).save_pretrained(str(tmp), safe_serialization=True)
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)
    return {"model_dir": str(final), "kind": "lora" if cfg.train.method == "lora" and not lycoris else "diffusers",
            "base": str(Path(cfg.model.base).resolve()), "base_hash": base_hash,
            "instance_prompt": cfg.data.instance_prompt,
            "files": sorted(str(p.relative_to(final)) for p in final.rglob("*") if p.is_file())}
