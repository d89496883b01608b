"""DreamBench-mini's Python side, driven by ``bench/dreambench.ts``; prints one JSON object on stdout.

    python -m atelier_diffusion.bench.dreambench prepare --out DIR [--scale full|quick] [--base DIR]
        measurer (cached; its accuracy must reach 95 % per attribute), base model (cached), subject photos, prompts
    python -m atelier_diffusion.bench.dreambench score --manifest FILE [--grid OUT.png] [--scale full|quick]
        measures every generated image in the manifest and returns the metrics per model and subject
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict
from pathlib import Path

import torch

from .base_model import BaseConfig, load_or_train_base
from .measurer import MeasurerConfig, load_or_train
from .report import read_manifest, score_manifest, write_grid
from .subjects import SUBJECTS, eval_prompts, write_instances
from .vae import VaeConfig

#: Benchmark scales: ``full`` is the benchmark; ``quick`` checks the wiring in minutes (its numbers mean little).
SCALES: dict[str, BaseConfig] = {
    "full": BaseConfig(),
    "quick": BaseConfig(scenes=1000, steps=150, warmup=10, batch_size=16, vae=VaeConfig(scenes=1000, steps=150)),
}


def log(line: str) -> None:
    """Progress for humans goes to stderr; stdout carries only the final JSON."""
    print(line, file=sys.stderr, flush=True)


def prepare(out: Path, scale: str, base: Path | None = None) -> dict:
    """Everything the TS side needs before fine-tuning: trusted measurer, base model, subjects and prompts.
    ``base`` replaces the benchmark's own base model by another diffusers folder of the same resolution."""
    measurer = load_or_train(MeasurerConfig(), log)
    measurer.require_trusted()
    log("measurer held-out accuracy: " + json.dumps(measurer.heldout_accuracy))
    base = base or load_or_train_base(SCALES[scale], log=log)
    subjects = []
    for subject in SUBJECTS:
        folder = write_instances(subject, out / "subjects" / subject.name, SCALES[scale].size)
        subjects.append({"name": subject.name, **asdict(subject), "instance_dir": str(folder),
                         "instance_prompt": subject.instance_prompt, "class_prompt": subject.class_prompt,
                         "prompts": [asdict(p) for p in eval_prompts(subject)]})
    return {"measurer": {"folder": str(measurer.folder), "heldout_accuracy": measurer.heldout_accuracy,
                         "trusted": measurer.trusted},
            "base_model": str(base), "size": SCALES[scale].size, "base_config": asdict(SCALES[scale]),
            "subjects": subjects}


def strict_json(value):
    """``value`` with NaN (a metric without its prompts) turned into null, so JSON.parse accepts the output."""
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, dict):
        return {k: strict_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict_json(v) for v in value]
    return value


def main(argv: list[str] | None = None) -> int:
    """CLI entry (see the module doc)."""
    parser = argparse.ArgumentParser(prog="python -m atelier_diffusion.bench.dreambench",
                                     description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--scale", choices=sorted(SCALES), default="full")
    p.add_argument("--base", type=Path, help="use this diffusers folder instead of training the base model")
    s = sub.add_parser("score")
    s.add_argument("--manifest", required=True, type=Path)
    s.add_argument("--grid", type=Path)
    args = parser.parse_args(argv)
    # One thread unless OMP_NUM_THREADS says otherwise: on a shared machine OpenMP threads that spin at barriers
    # while other processes hold the cores made sampling 35× slower with 2 threads than with 1.
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    if args.cmd == "prepare":
        result = prepare(args.out, args.scale, args.base)
    else:
        rows = read_manifest(args.manifest)
        result = score_manifest(rows, load_or_train(MeasurerConfig(), log))
        if args.grid:
            result["grid"] = str(write_grid(rows, args.grid))
    print(json.dumps(strict_json(result), allow_nan=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
