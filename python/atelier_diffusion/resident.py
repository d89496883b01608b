"""Models that stay loaded between generation requests, and the worker's `generate` command.

The image worker is one long-lived `python -m atelier_diffusion.worker` process: loading a model costs seconds
(minutes for a big one from a slow disk) while a request on a warm model costs only its denoising steps. Loaded
models live in an LRU cache bounded by a byte budget (`ATELIER_MODEL_CACHE_MB`, default 8192) and a count
(`ATELIER_MODEL_CACHE_COUNT`, default 4); the least recently used model is dropped first, and a model bigger than
the whole budget is still loaded (alone) rather than refused.

A model is named by a `source` object the TS side resolves from the store:

    {"path": DIR_OR_FILE, "lora": FILE_OR_DIR?, "lora_scale": 1.0?, "config": DIR?, "checkpoint": FILE?}

`path` is a diffusers folder or a single-file checkpoint (original SD key names). A single file written by
`atelier export` carries its configs and tokenizer in its metadata; any other needs `config`, a diffusers folder of
the same architecture. `lora` is merged into the weights at load time, so a LoRA model runs at base-model speed.
`checkpoint` is a DreamBooth training checkpoint of that base, applied on top (checkpoint_weights.py).
"""

from __future__ import annotations

import json
import os
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from .checkpoint_weights import apply_checkpoint
from .lora_files import merge_lora, module_names, read_lora
from .model import ModelParts, load_parts
from .pngmeta import ImageInfo, encode_png
from .protocol import Problem, RequestError
from .sample import SAMPLERS, SampleParams, sample
from .shutdown import WATCHDOG
from .worker import Request, command


@dataclass(frozen=True)
class ModelSource:
    """Where a model's weights come from (see the module docstring)."""

    path: str
    lora: str | None = None
    lora_scale: float = 1.0
    config: str | None = None
    checkpoint: str | None = None

    @staticmethod
    def parse(raw: Any) -> "ModelSource":
        """Builds a source from the command's JSON, raising RequestError on a malformed one."""
        if not isinstance(raw, dict) or not isinstance(raw.get("path"), str):
            raise RequestError("model source must be an object with a string 'path'",
                               [Problem("model", "expected {\"path\": ..., \"lora\"?: ...}")])
        unknown = set(raw) - {"path", "lora", "lora_scale", "config", "checkpoint", "name"}
        if unknown:
            raise RequestError(f"unknown model source keys: {', '.join(sorted(unknown))}")
        return ModelSource(raw["path"], raw.get("lora"), float(raw.get("lora_scale", 1.0)), raw.get("config"),
                           raw.get("checkpoint"))

    @property
    def key(self) -> str:
        return json.dumps([self.path, self.lora, self.lora_scale, self.config, self.checkpoint])


def _device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _dtype(device: torch.device) -> torch.dtype:
    # fp16 halves memory and doubles speed on GPUs; CPUs have no fast fp16 path, and fp32 keeps seeds exact there.
    return torch.float16 if device.type == "cuda" else torch.float32


def load_source(source: ModelSource, device: torch.device | None = None) -> ModelParts:
    """Loads a model source: folder or single file, then the LoRA merged in, eval mode, no gradients. On `device`
    in fp32 when given (exports), else on the best device in its fast dtype."""
    path = Path(source.path)
    if not path.exists():
        raise RequestError(f"model weights not found at {path}", [Problem("model", "no such file or folder")])
    parts = load_parts(path, source.config)
    if source.lora:
        layers = read_lora(source.lora, module_names(parts.unet, parts.text_encoder))
        merge_lora({"unet": parts.unet, "text_encoder": parts.text_encoder}, layers, source.lora_scale)
    if source.checkpoint:
        apply_checkpoint(parts, source.checkpoint)
    dtype = torch.float32 if device is not None else _dtype(device or _device())
    device = device or _device()
    # The VAE stays fp32 even on GPU: SD's VAE overflows in fp16 and the decode is a small share of the time.
    modules = [(parts.unet, dtype), (parts.vae, torch.float32)] + [(e, dtype) for e in parts.text_encoders]
    for module, want in modules:
        if module.dtype != want or module.device != device:
            module.to(device=device, dtype=want)
        module.eval().requires_grad_(False)
    return parts


def model_bytes(parts: ModelParts) -> int:
    """Bytes held by a loaded model's weights."""
    return sum(p.numel() * p.element_size()
               for m in (parts.unet, parts.vae, parts.text_encoder, parts.text_encoder_2) if m is not None
               for p in m.parameters())


class ModelCache:
    """LRU cache of loaded models keyed by source, bounded by total weight bytes and by count."""

    def __init__(self, max_bytes: int, max_models: int):
        self.max_bytes = max_bytes
        self.max_models = max(1, max_models)
        self.entries: "OrderedDict[str, tuple[ModelParts, int]]" = OrderedDict()

    @staticmethod
    def from_env() -> "ModelCache":
        """A cache sized by ATELIER_MODEL_CACHE_MB (default 8192) and ATELIER_MODEL_CACHE_COUNT (default 4)."""
        mb = int(os.environ.get("ATELIER_MODEL_CACHE_MB", "8192"))
        return ModelCache(mb * 2**20, int(os.environ.get("ATELIER_MODEL_CACHE_COUNT", "4")))

    def get(self, source: ModelSource) -> tuple[ModelParts, bool]:
        """The loaded model and whether it was already resident; loads (evicting LRU models) when it is not."""
        hit = self.entries.get(source.key)
        if hit is not None:
            self.entries.move_to_end(source.key)
            return hit[0], True
        parts = load_source(source)
        size = model_bytes(parts)
        while self.entries and (len(self.entries) >= self.max_models or self.used() + size > self.max_bytes):
            self.entries.popitem(last=False)
        self.entries[source.key] = (parts, size)
        return parts, False

    def used(self) -> int:
        """Bytes of all resident models."""
        return sum(size for _, size in self.entries.values())

    def describe(self) -> list[dict[str, Any]]:
        """Resident models, least recently used first (for the `result` of `generate` and for tests)."""
        return [{"source": json.loads(k), "bytes": size} for k, (_, size) in self.entries.items()]


# ---- the worker's `generate` command -------------------------------------------------------------------------

_CACHE: ModelCache | None = None


def cache() -> ModelCache:
    """The process-wide model cache (created on first use). ATELIER_TORCH_THREADS, when set, pins torch's CPU
    threads: on a shared machine two spinning OpenMP threads can be 10× slower than one (measured on 2 busy cores)."""
    global _CACHE
    if _CACHE is None:
        threads = int(os.environ.get("ATELIER_TORCH_THREADS", "0"))
        if threads > 0:
            torch.set_num_threads(threads)
        _CACHE = ModelCache.from_env()
    return _CACHE


def sample_params(raw: dict[str, Any]) -> SampleParams:
    """SampleParams from a `generate` command, with every invalid field reported at once."""
    fields = {k: raw[k] for k in ("prompt", "negative_prompt", "width", "height", "steps", "guidance_scale",
                                  "sampler", "seed", "n") if k in raw}
    if not isinstance(fields.get("prompt"), str):
        raise RequestError("generate needs a string 'prompt'", [Problem("prompt", "missing")])
    params = SampleParams(**fields)
    problems = params.problems()
    if problems:
        raise RequestError("invalid generation request", problems, code="invalid_params")
    return params


@command("generate")
def generate(req: Request) -> dict[str, Any]:
    """{"cmd": "generate", "model": SOURCE, "model_name"?, "model_hash"?, "out_dir", "prefix"?, prompt, n, ...}

    Writes n PNGs `<out_dir>/<prefix>-<i>.png` with A1111 `parameters` chunks; emits `progress` (stage `load`
    once when the model was not resident, then stage `generate` per step); result: {"images": [{"path", "seed"}],
    "warm": bool, "resident": [...]}.
    """
    params = sample_params(req.params)
    source = ModelSource.parse(req.params.get("model"))
    out_dir = Path(str(req.params.get("out_dir") or ""))
    if not out_dir.is_dir():
        raise RequestError("generate needs an existing 'out_dir'", [Problem("out_dir", "not a folder")])
    resident = source.key in cache().entries
    if not resident:
        req.emit.progress("load", 0, 1)
    parts, warm = cache().get(source)
    req.check_cancelled()

    def on_step(done: int, total: int) -> None:
        req.emit.progress("generate", done, total)
        req.check_cancelled()

    images = sample(parts, params, on_step)
    name = str(req.params.get("model_name") or Path(source.path).name)
    prefix = str(req.params.get("prefix") or req.id or "image")
    written = []
    for i, pixels in enumerate(images.numpy()):
        info = ImageInfo(params.prompt, params.negative_prompt, params.steps, SAMPLERS[params.sampler].a1111_label,
                         params.guidance_scale, params.image_seed(i), params.width, params.height, name,
                         req.params.get("model_hash"))
        path = out_dir / f"{prefix}-{i}.png"
        # Temp name + rename: a forced stop (shutdown.py) leaves whole images or none, never a torn PNG.
        with WATCHDOG.scratch(out_dir / f".{prefix}-{i}.png.tmp") as tmp:
            tmp.write_bytes(encode_png(pixels, info))
            os.replace(tmp, path)
        written.append({"path": str(path), "seed": params.image_seed(i)})
    return {"images": written, "warm": warm, "resident": cache().describe()}
