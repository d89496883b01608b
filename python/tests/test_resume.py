"""Exact resume: a run killed with SIGKILL, then stopped with SIGTERM, then resumed gives the same per-step losses
as an uninterrupted run — bit for bit on CPU fp32 — with gradient accumulation, random crops/flips, prior
preservation, v-prediction, offset noise and min-SNR weighting all in play."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from atelier_diffusion.callbacks import CheckpointCallback
from atelier_diffusion.config import build_config
from atelier_diffusion.train import run_training
from atelier_diffusion.fixtures.subject_photos import write_subject
from train_helpers import Collector, job_config

PYTHON_ROOT = Path(__file__).resolve().parents[1]
STEPS = 12


def _config(tiny_sd_v: Path, root: Path, out: str) -> dict:
    return job_config(tiny_sd_v, root / "photos", root / out, root / "cache",
                      data={"crop": "random", "flip_p": 0.5},
                      train={"max_steps": STEPS, "grad_accum": 2, "offset_noise": 0.1, "snr_gamma": 5.0,
                             "lr_scheduler": "cosine", "lr_warmup_steps": 2},
                      checkpoint={"every_n_steps": 3, "keep_last": 2})


def _run_worker(config: dict, stop_after: int | None = None, sig: int = signal.SIGKILL) -> list[dict]:
    """Runs a train command in a worker process; sends `sig` once the metric line of step `stop_after` arrived.
    Returns every protocol line the worker wrote."""
    env = {**os.environ, "PYTHONPATH": str(PYTHON_ROOT), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "atelier_diffusion.worker"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    proc.stdin.write(json.dumps({"cmd": "train", "id": "job", "config": config}) + "\n")
    proc.stdin.flush()  # stdin stays open while the job runs: its end would cancel the job
    lines = []
    for raw in proc.stdout:
        line = json.loads(raw)
        lines.append(line)
        if line["type"] in ("result", "error"):
            proc.stdin.close()
        if stop_after is not None and line["type"] == "metric" and line["step"] == stop_after:
            proc.send_signal(sig)
            if sig == signal.SIGKILL:
                break
    proc.wait(timeout=300)
    return lines


def _losses(lines: list[dict]) -> dict[int, float]:
    return {m["step"]: m["values"]["loss"] for m in lines if m["type"] == "metric"}


def test_killed_and_cancelled_runs_resume_exactly(tiny_sd_v: Path, tmp_path: Path) -> None:
    write_subject(tmp_path / "photos", 4)
    reference = Collector()
    run_training(build_config(_config(tiny_sd_v, tmp_path, "reference")), reference.emit)
    expected = _losses(reference.lines())
    assert sorted(expected) == list(range(1, STEPS + 1))

    config = _config(tiny_sd_v, tmp_path, "interrupted")
    killed = _run_worker(config, stop_after=5)  # SIGKILL mid-run: step 5 was not checkpointed
    latest = CheckpointCallback.latest(tmp_path / "interrupted" / "checkpoints")
    # Normally step 3's checkpoint; step 6's if the worker outran the kill on a loaded machine.
    resumed = int(latest.stem.split("-")[1])
    assert resumed in (3, 6) and max(_losses(killed)) >= 5

    # SIGTERM after the third resumed step stops the run cleanly at the step boundary where the signal is seen
    # (that step or the next, depending on when it lands), checkpointing that step.
    cancelled = _run_worker(config, stop_after=resumed + 3, sig=signal.SIGTERM)
    assert cancelled[-1]["type"] == "error" and cancelled[-1]["code"] == "cancelled", cancelled[-1]
    stopped = [c["step"] for c in cancelled if c["type"] == "checkpoint"][-1]
    # A resumed run first sends its checkpoint's metric again (its driver may have died before reading it).
    assert resumed + 3 <= stopped < STEPS and sorted(_losses(cancelled)) == list(range(resumed, stopped + 1))

    finished = _run_worker(config)  # resumes there, runs to the end
    assert finished[-1]["type"] == "result" and finished[-1]["resumed_from"].endswith(f"step-{stopped:08d}.ckpt")
    assert sorted(_losses(finished)) == list(range(stopped, STEPS + 1))

    for lines in (killed, cancelled, finished):
        got = _losses(lines)
        assert all(got[s] == expected[s] for s in got), (got, expected)  # bit-equal floats
