"""The networks: the one parts bundle, the one loader and the one prompt encoder, shared by training, sampling and
export; pipelines over the parts; the identity hash of a base model.

No training logic lives here (see dreambooth_module.py, and trainable.py for what trains); sampling (sample.py),
the resident model cache (resident.py) and export build on `load_parts` / `encode_prompt` too, so a base model, a
full fine-tune and a LoRA load, and a prompt encodes, the same way everywhere.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import torch
from diffusers import (AutoencoderKL, DDIMScheduler, DDPMScheduler, StableDiffusionPipeline,
                       StableDiffusionXLPipeline, UNet2DConditionModel)
from safetensors import SafetensorError, safe_open
from transformers import CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer

from .single_file import META_CONFIG, load_single_file

#: File written next to LoRA weights: which base they apply to and how they were made.
ADAPTER_FILE = "atelier_adapter.json"
LORA_WEIGHTS = "pytorch_lora_weights.safetensors"
SDXL_PIPELINE = "StableDiffusionXLPipeline"

#: Text conditioning: hidden states (n, tokens, width) for SD 1.x/2.x; (hidden states, pooled (n, width_2)) for SDXL.
Conditioning = Union[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]


@dataclass
class ModelParts:
    """The components of an SD 1.x/2.x or SDXL model. `scheduler_config` is the model's noise schedule (its
    prediction type overridden when asked); samplers and the training (DDPM) scheduler are built from it."""

    unet: Any
    vae: Any
    text_encoder: Any
    tokenizer: Any
    scheduler_config: dict[str, Any]
    #: SDXL only: the second (OpenCLIP bigG-style, with projection) encoder and its tokenizer.
    text_encoder_2: Any = None
    tokenizer_2: Any = None
    #: SDXL's `force_zeros_for_empty_prompt`: an empty negative prompt conditions on zeros, not on encoded "".
    zeros_for_empty_prompt: bool = False
    _noise_scheduler: Any = field(default=None, init=False, repr=False, compare=False)

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

    @property
    def size_granularity(self) -> int:
        """Pixels an image side must be a multiple of: VAE scale × 2 per UNet downsample (64 for SD 1.5)."""
        return self.vae_scale_factor * 2 ** (len(self.unet.config.block_out_channels) - 1)

    @property
    def noise_scheduler(self) -> DDPMScheduler:
        """The training (DDPM) schedule of the model, built once."""
        if self._noise_scheduler is None:
            self._noise_scheduler = DDPMScheduler.from_config(self.scheduler_config)
        return self._noise_scheduler

    @property
    def prediction_type(self) -> str:
        """`epsilon` or `v_prediction` (SD 2.x-768)."""
        return self.noise_scheduler.config.prediction_type


def model_index(base: str | Path) -> dict[str, Any]:
    """A diffusers folder's model_index.json, or {} for a single file or an unreadable index."""
    try:
        return json.loads((Path(base) / "model_index.json").read_text())
    except (OSError, ValueError):
        return {}


def is_sdxl(base: str | Path) -> bool:
    """Whether `base` is a diffusers SDXL folder (model_index.json `_class_name`): the one SDXL test."""
    return model_index(base).get("_class_name") == SDXL_PIPELINE


def _native_from_configs(unet: dict[str, Any], vae: dict[str, Any]) -> int | None:
    """UNet latent sample_size × the VAE's downscale factor, or None when the UNet does not say."""
    size = unet.get("sample_size")
    if isinstance(size, (list, tuple)):
        size = min(size)
    if not isinstance(size, int):
        return None
    return size * 2 ** (len(vae.get("block_out_channels", [0] * 4)) - 1)


def native_resolution(base: str | Path, base_config: str | Path | None = None) -> int | None:
    """The size a base model was trained at, read from its configs without loading weights (SD 1.5 → 512, SDXL →
    1024, the demo model → 32): a diffusers folder's, `base_config`'s for a single file, or a single file's atelier
    metadata. None when nothing says (a bare single-file checkpoint)."""
    base = Path(base)
    folder = base if base.is_dir() else Path(base_config) if base_config else None
    try:
        if folder is not None:
            unet, vae = (json.loads((folder / name / "config.json").read_text()) for name in ("unet", "vae"))
            return _native_from_configs(unet, vae)
        if base.suffix == ".safetensors":
            with safe_open(str(base), framework="pt") as f:
                meta = f.metadata() or {}
            unet, vae = (json.loads(meta.get(META_CONFIG + name, "{}")) for name in ("unet", "vae"))
            return _native_from_configs(unet, vae) if unet else None
    except (OSError, ValueError, SafetensorError):
        return None
    return None


def _load_folder(path: Path) -> ModelParts:
    """The parts of a diffusers StableDiffusionPipeline or StableDiffusionXLPipeline folder, component by
    component (the safety checker and feature extractor are never loaded)."""
    parts = ModelParts(
        unet=UNet2DConditionModel.from_pretrained(path / "unet"),
        vae=AutoencoderKL.from_pretrained(path / "vae"),
        text_encoder=CLIPTextModel.from_pretrained(path / "text_encoder"),
        tokenizer=CLIPTokenizer.from_pretrained(path / "tokenizer"),
        scheduler_config=json.loads((path / "scheduler" / "scheduler_config.json").read_text()),
    )
    if is_sdxl(path):
        parts.text_encoder_2 = CLIPTextModelWithProjection.from_pretrained(path / "text_encoder_2")
        parts.tokenizer_2 = CLIPTokenizer.from_pretrained(path / "tokenizer_2")
        parts.zeros_for_empty_prompt = bool(model_index(path).get("force_zeros_for_empty_prompt", True))
    return parts


def load_parts(base: str | Path, base_config: str | Path | None = None,
               prediction_type: str | None = None) -> ModelParts:
    """Loads a model in fp32 on the CPU, eval mode: a diffusers folder (SD 1.x/2.x or SDXL) or a single SD
    1.x/2.x checkpoint file (`base_config`: a diffusers folder whose configs describe it, unless the file carries
    atelier's metadata). `prediction_type` overrides the schedule's (v-prediction for SD 2.x-768)."""
    base = Path(base)
    if base.is_file():
        m = load_single_file(base, Path(base_config) if base_config else None)
        parts = ModelParts(m.unet, m.vae, m.text_encoder, m.tokenizer, dict(m.scheduler_config))
    else:
        parts = _load_folder(base)
    if prediction_type:
        parts.scheduler_config = {**parts.scheduler_config, "prediction_type": prediction_type}
    return parts


def _token_ids(tokenizer: Any, encoder: Any, prompts: list[str]) -> torch.Tensor:
    """Token ids padded to the tokenizer's max length (77 for SD), capped at the encoder's position table: a
    tokenizer saved without `model_max_length` reports ~1e30 and would index past it."""
    max_len = min(tokenizer.model_max_length, encoder.config.max_position_embeddings)
    ids = tokenizer(prompts, padding="max_length", max_length=max_len, truncation=True, return_tensors="pt")
    return ids.input_ids.to(encoder.device)


def encode_prompt(parts: ModelParts, prompts: list[str]) -> Conditioning:
    """The text conditioning of `prompts`, as the model was trained on it. SD 1.x/2.x: the encoder's last hidden
    states. SDXL, as StableDiffusionXLPipeline.encode_prompt: each encoder's penultimate hidden states side by
    side, and the second encoder's pooled projection. Gradients flow when an encoder trains; callers that only
    read the result run it under torch.no_grad()."""
    if not parts.sdxl:
        return parts.text_encoder(_token_ids(parts.tokenizer, parts.text_encoder, prompts))[0]
    hidden = []
    for tokenizer, encoder in ((parts.tokenizer, parts.text_encoder), (parts.tokenizer_2, parts.text_encoder_2)):
        out = encoder(_token_ids(tokenizer, encoder, prompts), output_hidden_states=True)
        hidden.append(out.hidden_states[-2])
    return torch.cat(hidden, dim=-1), out[0]


def build_pipeline(parts: ModelParts, scheduler: Any = None):
    """A StableDiffusionPipeline (StableDiffusionXLPipeline for SDXL parts) over `parts` (shared modules, no copy)
    with a DDIM sampler by default; its progress bar is off so nothing but protocol lines reaches stdout."""
    sched = scheduler or DDIMScheduler.from_config(parts.noise_scheduler.config)
    if parts.sdxl:
        pipe = StableDiffusionXLPipeline(unet=parts.unet, vae=parts.vae, text_encoder=parts.text_encoder,
                                         text_encoder_2=parts.text_encoder_2, tokenizer=parts.tokenizer,
                                         tokenizer_2=parts.tokenizer_2, scheduler=sched)
    else:
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
