"""Helpers for the training tests: a small job config on the tiny fixture, and a collecting emitter."""

from __future__ import annotations

import io
import json
from pathlib import Path

from atelier_diffusion.protocol import Emitter


def job_config(tiny_sd: Path, photos: Path, out: Path, cache: Path, **sections) -> dict:
    """A fast DreamBooth job: 32 px, 4 class images drawn in 2 sampler steps, one thread, lr high enough that a
    few dozen steps move the loss."""
    cfg = {
        "model": {"base": str(tiny_sd)},
        "data": {"instance_dir": str(photos), "instance_prompt": "a photo of sks box",
                 "class_prompt": "a photo of box", "resolution": 32},
        "prior": {"num_class_images": 4, "sample_steps": 2, "sample_batch_size": 4, "cache_dir": str(cache)},
        "train": {"max_steps": 10, "lr": 1e-3, "seed": 5},
        "hardware": {"accelerator": "cpu", "cpu_threads": 1},
        "checkpoint": {"every_n_steps": 5, "keep_last": 2},
        "output": {"dir": str(out)},
    }
    for name, values in sections.items():
        cfg[name] = {**cfg.get(name, {}), **values} if isinstance(values, dict) else values
    return cfg


class Collector:
    """An Emitter whose lines are kept as dicts (the same JSON the TS side would parse)."""

    def __init__(self) -> None:
        self.buffer = io.StringIO()
        self.emit = Emitter(self.buffer)

    def lines(self, type_: str | None = None) -> list[dict]:
        rows = [json.loads(line) for line in self.buffer.getvalue().splitlines()]
        return [r for r in rows if type_ is None or r["type"] == type_]
