"""DreamBooth training entry points: the worker's `train` command and `python -m atelier_diffusion.train`.

    python -m atelier_diffusion.train --config job.yaml [--set train.lr=1e-4 ...] [--json '{"train": {...}}']

`run_training` is the whole job as named steps: validate config → check photos → load base → class images →
build module and Trainer → fit (resuming from the latest checkpoint) → write the model → result. Everything
that can be wrong with the input is rejected before the first tensor is allocated.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

import torch

from .config import Config, load_config, parse_override, to_dict
from .photos import check_instance_images, read_captions
from .batch_stream import StreamSpec
from .model import DiffusionParts, add_lora, cast_frozen, freeze, load_parts, set_attention
from .protocol import AtelierError, CancelledError, ConfigError, Emitter, Problem, guard_stdout
from .worker import Request, command


def prepare_parts(cfg: Config) -> DiffusionParts:
    """Loads the base and sets what trains: VAE always frozen, text encoder frozen unless trained, UNet in full or
    through LoRA adapters; attention backend and gradient checkpointing."""
    parts = load_parts(cfg.model.base, cfg.model.base_config, cfg.model.prediction_type)
    freeze(parts.vae)
    for encoder in parts.text_encoders:
        freeze(encoder)
    set_attention(parts.unet, cfg.train.attention)
    if cfg.train.method == "lora":
        add_lora(parts.unet, cfg.lora.rank, cfg.lora.alpha, cfg.lora.unet_targets, cfg.lora.dropout)
        if cfg.train.train_text_encoder:
            add_lora(parts.text_encoder, cfg.lora.rank, cfg.lora.alpha, cfg.lora.text_encoder_targets,
                     cfg.lora.dropout)
    else:
        parts.unet.requires_grad_(True)
        if cfg.train.train_text_encoder:
            parts.text_encoder.requires_grad_(True)
    if cfg.train.train_text_encoder:
        parts.text_encoder.train()
    if cfg.train.gradient_checkpointing:
        parts.unet.enable_gradient_checkpointing()
        if cfg.train.train_text_encoder:
            parts.text_encoder.gradient_checkpointing_enable()
    parts.unet.train()
    if cfg.train.precision != "32" and _uses_cuda(cfg):
        dtype = torch.float16 if cfg.train.precision == "16-mixed" else torch.bfloat16
        # SDXL's VAE overflows in fp16 (its config says force_upcast): it stays fp32, as in diffusers' scripts.
        vae = [] if parts.sdxl else [parts.vae]
        for module in [parts.unet, *vae, *parts.text_encoders]:
            cast_frozen(module, dtype)
    return parts


def _uses_cuda(cfg: Config) -> bool:
    """Whether this job will run on CUDA devices."""
    return torch.cuda.is_available() and cfg.hardware.accelerator in ("auto", "gpu", "cuda")


def resume_path(cfg: Config, ckpt_dir: Path) -> Path | None:
    """The checkpoint to continue from: "auto" → latest in the folder, "none" → fresh, else the given path."""
    from .callbacks import CheckpointCallback

    if cfg.checkpoint.resume == "none":
        return None
    if cfg.checkpoint.resume == "auto":
        return CheckpointCallback.latest(ckpt_dir)
    return Path(cfg.checkpoint.resume)


def run_training(cfg: Config, emit: Emitter, cancelled: Callable[[], bool] = lambda: False) -> dict[str, Any]:
    """Runs a validated job end to end and returns the result fields (see output.py)."""
    from .callbacks import ProtocolCallback
    from .class_images import ClassImageStep
    from .output import write_output
    from .protocol import null_emitter
    from .lightning_setup import build_trainer, launch_rank

    rank = launch_rank(cfg)
    if rank:
        emit = null_emitter()  # data-parallel ranks > 0 train in step with rank 0 but speak and write through it
    for warning in cfg.warnings:
        emit.log(warning, level="warning")
    if cfg.hardware.cpu_threads:
        torch.set_num_threads(cfg.hardware.cpu_threads)
    torch.manual_seed(cfg.train.seed)
    min_size = cfg.data.min_size or cfg.data.resolution // 2
    instance = check_instance_images(cfg.data.instance_dir, min_size,
                                     cfg.data.duplicate_distance if cfg.data.dedupe else None, cfg.data.captions)
    captions = tuple(read_captions(cfg.data.instance_dir, instance)) if cfg.data.captions else None
    out_dir = Path(cfg.output.dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if rank == 0:
        (out_dir / "config.json").write_text(json.dumps(to_dict(cfg), indent=1))
    started = time.monotonic()
    parts = prepare_parts(cfg)

    def check() -> None:
        """Cancellation probe between class-image batches."""
        if cancelled():
            raise CancelledError("training cancelled during class-image generation")

    # Class images are drawn inside fit (Lightning's prepare_data): once, on global rank 0, the others waiting.
    class_step = ClassImageStep(cfg, parts, emit, check) if cfg.prior.enabled else None
    spec = StreamSpec(tuple(instance), (), cfg.data.resolution, cfg.data.crop, cfg.data.flip_p,
                      cfg.train.batch_size, cfg.train.seed, captions, cfg.data.caption_dropout, parts.sdxl)
    trainer, module, ckpt_dir = build_trainer(cfg, parts, spec, emit, cancelled, class_step)
    ckpt = resume_path(cfg, ckpt_dir)
    if ckpt:
        emit.log(f"resuming from {ckpt}")
    trainer.fit(module, ckpt_path=str(ckpt) if ckpt else None)
    protocol = next(c for c in trainer.callbacks if isinstance(c, ProtocolCallback))
    if cancelled() or protocol.stopped_early:
        raise CancelledError(f"training cancelled at step {trainer.global_step}; checkpoint kept in {ckpt_dir}",
                             code="cancelled")
    if not trainer.is_global_zero:
        return {"steps": trainer.global_step, "rank": trainer.global_rank}
    result = write_output(cfg, parts, out_dir)
    result.update(steps=trainer.global_step, seconds=round(time.monotonic() - started, 3),
                  checkpoint_dir=str(ckpt_dir), resumed_from=str(ckpt) if ckpt else None)
    return result


@command("train")
def train_command(req: Request) -> dict[str, Any]:
    """Worker command: {"cmd": "train", "id": ..., "config": {...}, "config_file": "optional.yaml"}."""
    config = req.params.get("config", {})
    if not isinstance(config, dict):
        raise ConfigError('"config" must be a JSON object')
    cfg = load_config(req.params.get("config_file"), [config])
    if cfg.hardware.devices != 1 or cfg.hardware.num_nodes > 1:
        from .distributed_launch import train_in_child

        return train_in_child(req, config, req.params.get("config_file"))
    return run_training(cfg, req.emit, req.cancelled.is_set)


@command("train_schema")
def train_schema_command(_req: Request) -> dict[str, Any]:
    """Worker command: the config JSON Schema plus the recipe and preset tables, for forms and validation."""
    from .config import PRESETS, RECIPES, SCHEMA

    return {"schema": SCHEMA, "recipes": RECIPES, "presets": PRESETS}


def main(argv: list[str] | None = None) -> int:
    """CLI: build the config from --config/--json/--set, train, print protocol lines; exit 1 on error."""
    parser = argparse.ArgumentParser(prog="python -m atelier_diffusion.train", description=__doc__.split("\n")[0])
    parser.add_argument("--config", help="YAML config file")
    parser.add_argument("--json", action="append", default=[], help="JSON object merged over the file")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="e.g. train.lr=1e-4")
    parser.add_argument("--print-schema", action="store_true", help="print the config JSON Schema and exit")
    args = parser.parse_args(argv)
    emit = guard_stdout()
    if args.print_schema:
        from .config import SCHEMA

        emit.stream.write(json.dumps(SCHEMA, indent=1) + "\n")
        return 0
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())  # graceful: checkpoint, then a `cancelled` error
    try:
        overrides = [_parse_json(j) for j in args.json] + [parse_override(s) for s in args.set]
        cfg = load_config(args.config, overrides)
        from .protocol import null_emitter
        from .lightning_setup import launch_rank

        if launch_rank(cfg):  # a re-executed data-parallel rank: rank 0 answers for the job
            emit = null_emitter()
        emit.result(**run_training(cfg, emit, stop.is_set))
        return 0
    except AtelierError as err:
        emit.error(err)
        return 1


def _parse_json(text: str) -> dict[str, Any]:
    """One --json flag as a dict, or a ConfigError saying why not."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise ConfigError("--json is not valid JSON", [Problem("--json", str(err))]) from None
    if not isinstance(value, dict):
        raise ConfigError("--json must be an object", [Problem("--json", "not a JSON object")])
    return value


if __name__ == "__main__":
    sys.exit(main())
