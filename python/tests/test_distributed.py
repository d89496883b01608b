"""Data-parallel training on CPU: two gloo processes (Lightning `ddp`, ranks re-executed by its launcher) train the
tiny fixture. Rank 0 alone draws the class images, speaks the protocol and writes checkpoints, validation images,
TensorBoard and the model; a run resumed from a two-process checkpoint — launched through the stdin worker, which
runs multi-process jobs as a child `python -m atelier_diffusion.train` — repeats the uninterrupted one exactly."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

from atelier_diffusion.fixtures.subject_photos import write_subject
from train_helpers import job_config

PYTHON_ROOT = Path(__file__).resolve().parents[1]


def _train(config: dict) -> tuple[list[dict], str]:
    """Runs `python -m atelier_diffusion.train` (the entry point ddp re-executes per rank); returns its protocol
    lines and stderr."""
    env = {**os.environ, "PYTHONPATH": str(PYTHON_ROOT), "PYTHONUNBUFFERED": "1"}
    run = subprocess.run([sys.executable, "-m", "atelier_diffusion.train", "--json", json.dumps(config)],
                         capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    return [json.loads(line) for line in run.stdout.splitlines()], run.stderr


def _train_from_worker(config: dict) -> list[dict]:
    """Runs a multi-process train command through the stdin worker (which launches it as a child job)."""
    env = {**os.environ, "PYTHONPATH": str(PYTHON_ROOT), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "atelier_diffusion.worker"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    proc.stdin.write(json.dumps({"cmd": "train", "id": "ddp", "config": config}) + "\n")
    proc.stdin.flush()
    lines = []
    for raw in proc.stdout:
        lines.append(json.loads(raw))
        if lines[-1]["type"] in ("result", "error"):
            proc.stdin.close()
    assert proc.wait(timeout=300) == 0, lines[-1]
    assert all(line["id"] == "ddp" for line in lines)
    return lines


def _of(lines: list[dict], type_: str) -> list[dict]:
    return [line for line in lines if line["type"] == type_]


def test_two_process_ddp_writes_once_and_resumes_exactly(tiny_sd: Path, tmp_path: Path) -> None:
    write_subject(tmp_path / "photos", 4)
    config = job_config(tiny_sd, tmp_path / "photos", tmp_path / "out", tmp_path / "cache",
                        data={"crop": "random", "flip_p": 0.5},
                        train={"max_steps": 4},
                        hardware={"devices": 2, "strategy": "ddp"},
                        checkpoint={"every_n_steps": 2, "keep_last": 2},
                        tracking={"validation_prompts": ["a photo of sks box"], "validation_every_n_steps": 2,
                                  "validation_steps": 2})
    lines, stderr = _train(config)

    # One voice: every event once, from rank 0 (a rank > 0 that spoke would repeat metrics, checkpoints, results).
    metrics = {m["step"]: m["values"] for m in _of(lines, "metric")}
    assert [m["step"] for m in _of(lines, "metric")] == [1, 2, 3, 4]
    assert all(math.isfinite(v["loss"]) and math.isfinite(v["grad_norm"]) for v in metrics.values())
    assert [c["step"] for c in _of(lines, "checkpoint")] == [2, 4]
    assert [s["step"] for s in _of(lines, "sample")] == [2, 4]
    assert len(_of(lines, "result")) == 1 and lines[-1]["type"] == "result"
    assert not [line for line in stderr.splitlines() if line.startswith('{"type"')]  # nor on the human log

    # One set of class images, drawn by rank 0 only (rank 1 waited at the barrier, then read the same files).
    (drawn,) = _of(lines, "class_images")
    assert drawn["generated"] == 4 and drawn["count"] == 4
    assert sorted(p.name for p in Path(drawn["dir"]).iterdir()) == [f"{i:05d}.png" for i in range(4)] + [
        "settings.json"]
    assert stderr.count("generating 4 class image(s)") == 1

    out = tmp_path / "out"
    assert lines[-1]["model_dir"] == str(out / "model") and (out / "model" / "unet").is_dir()
    assert sorted(p.name for p in out.iterdir()) == ["checkpoints", "config.json", "model", "samples", "tensorboard"]
    assert len(list((out / "tensorboard").rglob("events.out.tfevents.*"))) == 1
    assert sorted(p.name for p in (out / "samples").iterdir()) == ["step-00000002-0.png", "step-00000004-0.png"]

    # Exact resume under DDP: each rank's micro-batches are keyed on (seed, step, rank), not on sampler state.
    resumed_config = {**config, "output": {"dir": str(tmp_path / "resumed")},
                      "checkpoint": {**config["checkpoint"],
                                     "resume": str(out / "checkpoints" / "step-00000002.ckpt")},
                      "tracking": {}}
    resumed = _train_from_worker(resumed_config)
    assert resumed[-1]["resumed_from"].endswith("step-00000002.ckpt")
    assert _of(resumed, "class_images")[0]["cache_hit"] is True
    again = {m["step"]: m["values"] for m in _of(resumed, "metric")}
    # Step 2's metric is sent again first (the checkpoint carries it, for a driver that died before reading it).
    assert sorted(again) == [2, 3, 4] and all(again[s] == metrics[s] for s in again)  # bit-equal floats
