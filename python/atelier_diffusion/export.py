"""`atelier export`: write a model in the formats other tools load.

    python -m atelier_diffusion.export --model DIR_OR_FILE [--lora FILE] --format FORMAT --out PATH

Formats:

* `diffusers`      a StableDiffusionPipeline folder (a LoRA model is exported merged);
* `safetensors`    one file with the original SD key names (`model.diffusion_model.…`, `first_stage_model.…`,
                   `cond_stage_model.transformer.…`) that A1111 and ComfyUI load; atelier also stores the diffusers
                   configs and the tokenizer in its metadata so it can load the file alone;
* `lora-kohya`     LoRA only: `lora_unet_…`/`lora_te_…` keys with `.alpha`, as A1111/ComfyUI/sd-scripts use;
* `lora-diffusers` LoRA only: the layout `StableDiffusionPipeline.load_lora_weights` reads.

The worker command `export` takes the same fields ({"model": SOURCE, "format", "out"}).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

import diffusers
import torch
from safetensors.torch import save_file

from .ldm_keys import to_ldm_checkpoint
from .lora_files import module_names, read_lora, save_diffusers, save_kohya
from .model import ModelParts
from .protocol import CancelledError, Problem, RequestError
from .resident import ModelSource, load_source
from .shutdown import WATCHDOG
from .single_file import META_CONFIG, META_TOKENIZER
from .worker import Request, command

FORMATS = ("diffusers", "safetensors", "lora-kohya", "lora-diffusers")


def save_diffusers_folder(parts: ModelParts, out: Path) -> None:
    """Writes a loadable StableDiffusionPipeline folder (no safety checker)."""
    scheduler_cls = getattr(diffusers, parts.scheduler_config.get("_class_name", "DDPMScheduler"))
    pipe = diffusers.StableDiffusionPipeline(
        unet=parts.unet, vae=parts.vae, text_encoder=parts.text_encoder, tokenizer=parts.tokenizer,
        scheduler=scheduler_cls.from_config(parts.scheduler_config), safety_checker=None, feature_extractor=None,
        requires_safety_checker=False)
    pipe.save_pretrained(out, safe_serialization=True)


def single_file_metadata(parts: ModelParts, name: str) -> dict[str, str]:
    """Configs and tokenizer files as safetensors metadata (strings), so atelier can load the file alone."""
    meta = {"format": "pt", "atelier.model": name}
    for key, module in (("unet", parts.unet), ("vae", parts.vae)):
        # Configs may hold paths (`_name_or_path`); str() keeps them JSON without changing the architecture.
        meta[META_CONFIG + key] = json.dumps(dict(module.config), default=str)
    meta[META_CONFIG + "text_encoder"] = parts.text_encoder.config.to_json_string()
    meta[META_CONFIG + "scheduler"] = json.dumps(parts.scheduler_config, default=str)
    with tempfile.TemporaryDirectory() as tmp:
        parts.tokenizer.save_pretrained(tmp)
        for file in sorted(Path(tmp).iterdir()):
            meta[META_TOKENIZER + file.name] = file.read_text()
    return meta


def save_single_file(parts: ModelParts, out: Path, name: str, cancelled: Callable[[], bool] = lambda: False) -> None:
    """Writes the model as one original-layout safetensors file (fp32, as loaded)."""
    checkpoint = to_ldm_checkpoint(parts.unet, parts.vae, parts.text_encoder)
    _check(cancelled)
    save_file(checkpoint, str(out), metadata=single_file_metadata(parts, name))


@contextmanager
def _publishing(out: Path) -> Iterator[Path]:
    """A temporary sibling of `out` to write into, renamed to `out` (replacing it) once the block completes: a
    stopped or failed export never leaves a half-written model under the requested name."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with WATCHDOG.scratch(out.with_name(f".{out.stem}.{os.getpid()}.tmp{out.suffix}")) as tmp:
        try:
            yield tmp
            if out.is_dir():
                shutil.rmtree(out)
            os.replace(tmp, out)
        finally:
            shutil.rmtree(tmp, ignore_errors=True) if tmp.is_dir() else tmp.unlink(missing_ok=True)


def _check(cancelled: Callable[[], bool]) -> None:
    """Raises CancelledError between export stages once the request was cancelled."""
    if cancelled():
        raise CancelledError("export cancelled")


def export_model(source: ModelSource, fmt: str, out: Path, name: str | None = None,
                 cancelled: Callable[[], bool] = lambda: False) -> dict[str, Any]:
    """Exports `source` as `fmt` to `out` (a folder for diffusers, else a file) and returns {"path", "format"}.
    `cancelled` is checked between loading, converting and writing; a cancel leaves nothing at `out`."""
    if fmt not in FORMATS:
        raise RequestError(f"unknown export format {fmt!r}", [Problem("format", f"one of {', '.join(FORMATS)}")])
    if fmt.startswith("lora-") and not source.lora:
        raise RequestError(f"{fmt} needs a LoRA model; this one is a full model (use diffusers or safetensors)",
                           [Problem("format", "not a LoRA model")])
    name = name or Path(source.path).name
    if fmt.startswith("lora-"):
        # The base is loaded only for its module names: kohya names are resolved, and checked, against them.
        base = load_source(ModelSource(source.path, config=source.config), torch.device("cpu"))
        layers = read_lora(source.lora, module_names(base.unet, base.text_encoder))
        _check(cancelled)
        with _publishing(out) as tmp:
            (save_kohya if fmt == "lora-kohya" else save_diffusers)(layers, tmp, {"atelier.model": name})
        return {"path": str(out), "format": fmt}
    parts = load_source(source, torch.device("cpu"))
    if parts.sdxl:
        raise RequestError(f"{fmt} export of SDXL models is not supported yet (the LoRA formats are)",
                           [Problem("format", "SDXL model")])
    _check(cancelled)
    with _publishing(out) as tmp:
        if fmt == "diffusers":
            save_diffusers_folder(parts, tmp)
        else:
            save_single_file(parts, tmp, name, cancelled)
    return {"path": str(out), "format": fmt}


@command("export")
def export_command(req: Request) -> dict[str, Any]:
    """{"cmd": "export", "model": SOURCE, "format", "out", "model_name"?} → result {"path", "format"}."""
    out = req.params.get("out")
    if not isinstance(out, str) or not out:
        raise RequestError("export needs an 'out' path", [Problem("out", "missing")])
    req.emit.progress("export", 0, 1)
    result = export_model(ModelSource.parse(req.params.get("model")), str(req.params.get("format")), Path(out),
                          req.params.get("model_name"), req.cancelled.is_set)
    req.emit.progress("export", 1, 1)
    return result


def main(argv: list[str] | None = None) -> int:
    """CLI entry for use without the TS side."""
    parser = argparse.ArgumentParser(prog="python -m atelier_diffusion.export", description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="diffusers folder or single-file checkpoint")
    parser.add_argument("--lora", help="LoRA weights on top of --model")
    parser.add_argument("--config", help="diffusers folder with configs for a foreign single file")
    parser.add_argument("--format", required=True, choices=FORMATS)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    print(json.dumps(export_model(ModelSource(args.model, args.lora, 1.0, args.config), args.format, Path(args.out))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
