"""DreamBooth training entry points: the worker's `train` command and `python -m atelier_diffusion.train`.

    python -m atelier_diffusion.train --config job.yaml [--set train.lr=1e-4 ...] [--json '{"train": {...}}']

`run_training` is the whole job as named steps: validate config → check photos → load base → class images →
build module and Trainer → fit (resuming from the latest checkpoint) → write the model → result. Everything
that can be wrong with the input is rejected before the first tensor is allocated.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

import torch

from .batch_stream import StreamSpec
from .buckets import default_step, make_buckets, nearest_bucket
from .callbacks import CheckpointCallback, StopCallback
from .class_images import ClassImageStep
from .config import PRESETS, RECIPES, SCHEMA, Config, load_config, parse_override, to_dict
from .distributed_launch import train_in_child
from .lightning_setup import build_trainer, launch_rank
from .model import ModelParts
from .output import write_output
from .photos import check_instance_images, mask_problems, open_mask, open_rgb, read_captions
from .protocol import (AtelierError, CancelledError, ConfigError, DataError, Emitter, Problem, guard_stdout,
                       null_emitter)
from .shutdown import WATCHDOG, install
from .trainable import prepare_parts
from .worker import Request, command


def resume_path(cfg: Config, ckpt_dir: Path) -> Path | None:
    """The checkpoint to continue from: "auto" → latest in the folder, "none" → fresh, else the given path."""
    if cfg.checkpoint.resume == "none":
        return None
    if cfg.checkpoint.resume == "auto":
        return CheckpointCallback.latest(ckpt_dir)
    return Path(cfg.checkpoint.resume)


def check_photos(cfg: Config) -> tuple[list[Path], tuple[str, ...] | None]:
    """The usable instance photos and their captions (None without captions); DataError lists every bad one."""
    min_size = cfg.data.min_size or cfg.data.resolution // 2
    instance = check_instance_images(cfg.data.instance_dir, min_size,
                                     cfg.data.duplicate_distance if cfg.data.dedupe else None, cfg.data.captions)
    bad_masks = mask_problems(instance) if cfg.data.masks else []
    if bad_masks:
        raise DataError(f"subject masks in {cfg.data.instance_dir} cannot be used", bad_masks)
    captions = tuple(read_captions(cfg.data.instance_dir, instance)) if cfg.data.captions else None
    return instance, captions


def has_masks(cfg: Config, photos: list[Path], emit: Emitter) -> bool:
    """Whether any photo has a subject mask to weight the loss with (data.masks); logs how many do."""
    if not cfg.data.masks:
        return False
    masked = sum(open_mask(p) is not None for p in photos)
    if masked:
        emit.log(f"masked loss: {masked} of {len(photos)} photo(s) have a subject mask "
                 f"(background weight {cfg.data.mask_floor})")
    return masked > 0


def photo_buckets(cfg: Config, parts: ModelParts, photos: list[Path],
                  emit: Emitter) -> tuple[tuple[int, int], ...] | None:
    """The aspect-ratio bucket of each photo (None with bucketing off); logs how many photos each bucket holds."""
    if not cfg.data.bucketing:
        return None
    step = cfg.data.bucket_step or default_step(cfg.data.resolution, parts.size_granularity)
    if step % parts.size_granularity:
        raise ConfigError("bucket step does not fit the model", [Problem(
            "data.bucket_step", f"must be a multiple of {parts.size_granularity} px for this model")])
    buckets = make_buckets(cfg.data.resolution, step, cfg.data.bucket_max_ratio)
    chosen = tuple(nearest_bucket(open_rgb(p).size, buckets) for p in photos)
    counts = {b: chosen.count(b) for b in dict.fromkeys(chosen)}
    emit.log("buckets: " + ", ".join(f"{w}x{h}: {n}" for (w, h), n in counts.items()))
    return chosen


def idle_threads(cpus: int, load: float, default: int) -> int | None:
    """Torch CPU threads for a job without hardware.cpu_threads: the idle cores (at least 1) when fewer than torch's
    default, else None (keep torch's choice). Oversubscribed threads spin against each other: on a 2-core box at
    load 13, four 32 px class images took 49 s with 2 threads and 2.9 s with 1."""
    idle = max(1, round(cpus - load))
    return idle if idle < default else None


def start_job(cfg: Config, emit: Emitter, rank: int) -> Path:
    """Warnings, threads and seed; the output folder with the job's config.json (rank 0). Returns the folder."""
    for warning in cfg.warnings:
        emit.log(warning, level="warning")
    threads = cfg.hardware.cpu_threads
    if threads is None and not torch.cuda.is_available() and hasattr(os, "getloadavg"):
        threads = idle_threads(os.cpu_count() or 1, os.getloadavg()[0], torch.get_num_threads())
        if threads is not None:
            emit.log(f"CPU busy (load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores): {threads} torch thread(s)")
    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(cfg.train.seed)
    out_dir = Path(cfg.output.dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if rank == 0:
        (out_dir / "config.json").write_text(json.dumps(to_dict(cfg), indent=1))
    return out_dir


def run_training(cfg: Config, emit: Emitter, cancelled: Callable[[], bool] = lambda: False) -> dict[str, Any]:
    """Runs a validated job end to end and returns the result fields (see output.py)."""
    rank = launch_rank(cfg)
    if rank:
        emit = null_emitter()  # data-parallel ranks > 0 train in step with rank 0 but speak and write through it
    out_dir = start_job(cfg, emit, rank)
    instance, captions = check_photos(cfg)
    started = time.monotonic()
    parts = prepare_parts(cfg)

    # Class images are drawn inside fit (Lightning's prepare_data): once, on global rank 0, the others waiting.
    class_step = ClassImageStep(cfg, parts, emit, cancelled) if cfg.prior.enabled else None
    spec = StreamSpec(tuple(instance), (), cfg.data.resolution, cfg.data.crop, cfg.data.flip_p,
                      cfg.train.batch_size, cfg.train.seed, captions, cfg.data.caption_dropout, parts.sdxl,
                      photo_buckets(cfg, parts, instance, emit), cfg.train.cache_latents,
                      has_masks(cfg, instance, emit))
    trainer, module, ckpt_dir = build_trainer(cfg, parts, spec, emit, cancelled, class_step)
    ckpt = resume_path(cfg, ckpt_dir)
    if ckpt:
        emit.log(f"resuming from {ckpt}")
    trainer.fit(module, ckpt_path=str(ckpt) if ckpt else None)
    stopper = next(c for c in trainer.callbacks if isinstance(c, StopCallback))
    if cancelled() or stopper.stopped_early:
        raise CancelledError(f"training cancelled at step {trainer.global_step}; checkpoint kept in {ckpt_dir}",
                             code="cancelled")
    if not trainer.is_global_zero:
        return {"steps": trainer.global_step, "rank": trainer.global_rank}
    module.use_ema_weights()
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
        return train_in_child(req, config, req.params.get("config_file"))
    return run_training(cfg, req.emit, req.cancelled.is_set)


@command("train_schema")
def train_schema_command(_req: Request) -> dict[str, Any]:
    """Worker command: the config JSON Schema plus the recipe and preset tables, for forms and validation."""
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
        emit.stream.write(json.dumps(SCHEMA, indent=1) + "\n")
        return 0
    stop = threading.Event()

    def on_stop(reason: str) -> None:
        """SIGTERM or the parent's death (shutdown.py): checkpoint at the next step, then a `cancelled` error."""
        if not stop.is_set():
            stop.set()
            WATCHDOG.arm(reason)

    install(on_stop)
    try:
        overrides = [_parse_json(j) for j in args.json] + [parse_override(s) for s in args.set]
        cfg = load_config(args.config, overrides)
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
