"""Every phase of the worker stops within seconds of SIGTERM, of its stdin closing or of its parent's death, and
leaves what can be resumed: drawn class images, the training checkpoint; no half-written image or export.

Each test makes its phase last a minute or more (many denoising steps at 64-128 px, a stalled read), so a worker
that only looked at its cancel flag between units of work — or never noticed its parent die — would miss the
limit by far. The limit is generous for a loaded 2-core machine; the watchdog's own grace period is 2 s.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from atelier_diffusion.class_images import cache_key, cache_root, ensure_class_images
from atelier_diffusion.config import build_config
from atelier_diffusion.fixtures.subject_photos import draw_subject, write_subject
from atelier_diffusion.model import model_hash
from train_helpers import Collector, job_config
from worker_process import WorkerProcess

#: Seconds from the stop to the process being gone.
STOP_LIMIT_S = 8.0


def _job(tiny_sd: Path, tmp: Path, **sections) -> dict:
    write_subject(tmp / "photos", 3)
    return job_config(tiny_sd, tmp / "photos", tmp / "out", tmp / "cache", **sections)


def _ends(lines: list[dict]) -> dict[str, dict]:
    return {line.get("id"): line for line in lines if line["type"] in ("result", "error")}


@pytest.mark.parametrize("how", ["sigterm", "stdin", "parent"])
def test_class_images_stop_and_keep_what_was_drawn(tiny_sd: Path, tmp_path: Path, how: str) -> None:
    """Two of four class images are in the cache from an interrupted run; the worker draws the third (900 steps
    at 64 px, about a minute) and is stopped: the two stay, no temp file is left, and a job needing two draws
    nothing."""
    config = _job(tiny_sd, tmp_path, data={"resolution": 64},
                  prior={"num_class_images": 4, "sample_steps": 900, "sample_batch_size": 1})
    cfg = build_config(config)
    folder = cache_root(cfg) / cache_key(cfg, model_hash(tiny_sd))
    folder.mkdir(parents=True)
    for i in range(2):
        draw_subject(10 + i, 64).save(folder / f"{i:05d}.png")
    worker = WorkerProcess(tmp_path, with_parent=how == "parent")
    worker.send(cmd="train", id="job", config=config)
    worker.wait_for(lambda line: line["type"] == "log" and "generating 2 class image" in line["message"])
    time.sleep(3)  # into the first image's denoising steps (not a timing assertion: the stop is what is timed)
    assert worker.stop(how) < STOP_LIMIT_S
    if how != "parent":  # a dead parent reads nothing; the others get their answer
        assert _ends(worker.drain())["job"]["code"] == "cancelled"
    assert sorted(p.name for p in folder.iterdir()) == ["00000.png", "00001.png"]
    col = Collector()
    kept = ensure_class_images(build_config({**config, "prior": {**config["prior"], "num_class_images": 2}}),
                               None, col.emit)  # no model: nothing may be drawn
    assert [p.name for p in kept] == ["00000.png", "00001.png"] and col.lines("class_images")[0]["cache_hit"]


def test_validation_samples_stop_and_the_step_is_checkpointed(tiny_sd: Path, tmp_path: Path) -> None:
    """SIGTERM while the step-1 validation image is drawn (900 steps): the drawing stops, training ends at step
    1 with its checkpoint, and no final validation round or model follows."""
    config = _job(tiny_sd, tmp_path, data={"resolution": 64}, prior={"enabled": False},
                  train={"max_steps": 100_000}, checkpoint={"every_n_steps": 100_000},
                  tracking={"validation_prompts": ["a photo of sks box"], "validation_every_n_steps": 1,
                            "validation_steps": 900, "tensorboard": False})
    worker = WorkerProcess(tmp_path)
    worker.send(cmd="train", id="job", config=config)
    worker.wait_for(lambda line: line["type"] == "metric" and line["step"] == 1)
    assert worker.stop("sigterm") < STOP_LIMIT_S
    lines = worker.drain()
    assert _ends(lines)["job"]["code"] == "cancelled", _ends(lines)["job"]
    (saved,) = [line for line in lines if line["type"] == "checkpoint"]
    assert saved["step"] == 1 and Path(saved["path"]).is_file()
    assert not [line for line in lines if line["type"] == "sample"] and not (tmp_path / "out" / "model").exists()


def test_training_stops_when_the_parent_dies_and_writes_nothing(tiny_sd: Path, tmp_path: Path) -> None:
    """The driver is killed but its stdin pipe stays open (here: held by the test), so only the parent's death
    tells the worker: it stops at the next step and, an orphan, writes no checkpoint — no one could record it, and
    in a fleet another node may already be resuming the job from its folder (it resumes from the last checkpoint
    its driver saw)."""
    config = _job(tiny_sd, tmp_path, prior={"enabled": False}, train={"max_steps": 100_000},
                  checkpoint={"every_n_steps": 100_000})
    worker = WorkerProcess(tmp_path, with_parent=True)
    worker.send(cmd="train", id="job", config=config)
    worker.wait_for(lambda line: line["type"] == "metric" and line["step"] == 2)
    assert worker.stop("parent") < STOP_LIMIT_S
    assert not [line for line in worker.drain() if line["type"] == "checkpoint"]
    assert not list(tmp_path.rglob("step-*.ckpt")) and not list(tmp_path.rglob(".step-*.ckpt.tmp"))
    assert not (tmp_path / "out" / "model").exists()


def test_image_generation_stops_when_the_parent_dies(tiny_sd: Path, tmp_path: Path) -> None:
    """A 150-step 128 px request (minutes here) stops within a step of the parent's death: no image written."""
    worker = WorkerProcess(tmp_path, with_parent=True)
    worker.send(cmd="generate", id="g", model={"path": str(tiny_sd)}, out_dir=str(tmp_path), prompt="a red ball",
                width=128, height=128, steps=150, n=1)
    worker.wait_for(lambda line: line["type"] == "progress" and line["stage"] == "generate")
    assert worker.stop("parent") < STOP_LIMIT_S
    assert not list(tmp_path.glob("*.png")) and not list(tmp_path.glob(".*.tmp"))


def test_export_stalled_in_a_read_is_ended_by_the_watchdog(tiny_sd: Path, tmp_path: Path) -> None:
    """An export whose LoRA read never completes (its adapter config is a FIFO nobody writes: a hung network
    share, say) cannot look at its cancel flag; SIGTERM still ends the worker, and nothing is left at `out`."""
    lora = tmp_path / "lora"
    lora.mkdir()
    os.mkfifo(lora / "adapter_config.json")
    out = tmp_path / "export" / "lora.safetensors"
    worker = WorkerProcess(tmp_path)
    worker.send(cmd="export", id="e", model={"path": str(tiny_sd), "lora": str(lora)}, format="lora-kohya",
                out=str(out))
    worker.wait_for(lambda line: line["type"] == "progress" and line["stage"] == "export")
    assert worker.stop("sigterm") < STOP_LIMIT_S
    worker.drain()
    assert not out.exists() and not (out.parent.is_dir() and list(out.parent.iterdir()))

