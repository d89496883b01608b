"""The worker process: protocol lines only on stdout, errors with codes and details, exit status, registry."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from atelier_diffusion.worker import Request, command, resolve

PYTHON_ROOT = Path(__file__).resolve().parents[1]


def start_worker(stderr=subprocess.DEVNULL) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(PYTHON_ROOT), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "atelier_diffusion.worker"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=stderr, text=True, env=env)


def run_worker(lines: list[str], answers: int = 0, timeout: float = 120) -> tuple[list[dict], int]:
    """Sends `lines`, keeps stdin open until `answers` result/error lines arrived (end of stdin cancels train
    commands still queued), then closes it and collects everything."""
    proc = start_worker()
    proc.stdin.write("\n".join(lines) + "\n")
    proc.stdin.flush()
    out: list[dict] = []
    while sum(o["type"] in ("result", "error") for o in out) < answers:
        out.append(json.loads(proc.stdout.readline()))
    proc.stdin.close()
    out += [json.loads(line) for line in proc.stdout]
    return out, proc.wait(timeout=timeout)


def test_ping_bad_lines_and_exit_status(tiny_sd: Path, tmp_path: Path) -> None:
    from train_helpers import job_config

    (tmp_path / "photos").mkdir()
    spawn = job_config(tiny_sd, tmp_path / "photos", tmp_path / "out", tmp_path / "cache",
                       hardware={"devices": 2, "strategy": "ddp_spawn"})
    out, rc = run_worker(['{"cmd": "ping", "id": "a"}', "not json", '{"cmd": "fly", "id": 7}',
                          '{"cmd": "train", "id": "t", "config": {"train": {"lr": "fast"}}}',
                          json.dumps({"cmd": "train", "id": "m", "config": spawn})], answers=5)
    # Bad lines are answered as soon as they are read, so match answers by id, not by position.
    by_id = {o.get("id"): o for o in out}
    assert by_id["a"]["type"] == "result" and by_id["a"]["pong"] is True and "torch" in by_id["a"]["versions"]
    assert by_id[None]["code"] == "invalid_request" and "not JSON" in by_id[None]["message"]
    assert by_id["7"]["code"] == "invalid_request" and "unknown command 'fly'" in by_id["7"]["message"]
    assert by_id["t"]["code"] == "invalid_config"
    paths = {d["path"] for d in by_id["t"]["details"]}
    assert {"train.lr", "model.base", "output.dir"} <= paths
    assert by_id["m"]["code"] == "invalid_config" and "hardware.strategy" in {d["path"] for d in by_id["m"]["details"]}
    assert rc == 1


def test_clean_run_exits_zero() -> None:
    out, rc = run_worker(['{"cmd": "train_schema"}', '{"cmd": "shutdown"}', '{"cmd": "ping"}'])
    assert [o["type"] for o in out] == ["result"] and rc == 0
    assert out[0]["schema"]["properties"]["train"]["additionalProperties"] is False
    assert set(out[0]["presets"]) == {"8gb", "12gb", "24gb"} and set(out[0]["recipes"]) == {"full", "lora"}


def test_registry_rejects_double_registration() -> None:
    @command("test-echo")
    def echo(req: Request) -> dict:
        return {"echo": req.params.get("x")}

    assert resolve("test-echo") is echo
    with pytest.raises(ValueError):
        command("test-echo")(lambda req: None)


def test_cancel_command_stops_a_running_job(tiny_sd: Path, tmp_path: Path) -> None:
    """A cancel line is read while a train command runs (here: drawing class images) and ends it with a
    `cancelled` error; the worker then serves the next command."""
    from atelier_diffusion.fixtures.subject_photos import write_subject
    from train_helpers import job_config

    write_subject(tmp_path / "photos", 3)
    config = job_config(tiny_sd, tmp_path / "photos", tmp_path / "out", tmp_path / "cache",
                        prior={"num_class_images": 400, "sample_batch_size": 1})
    proc = start_worker()
    proc.stdin.write(json.dumps({"cmd": "train", "id": "job", "config": config}) + "\n")
    proc.stdin.flush()
    lines = []
    for raw in proc.stdout:
        lines.append(json.loads(raw))
        # More class-image progress lines can arrive before the cancel lands: send it on the first one only.
        if lines[-1]["type"] == "progress" and lines[-1]["stage"] == "class_images" and not proc.stdin.closed:
            proc.stdin.write('{"cmd": "cancel", "id": "job"}\n{"cmd": "ping", "id": "after"}\n')
            proc.stdin.close()
        if lines[-1]["type"] in ("result", "error") and lines[-1]["id"] == "after":
            break
    assert proc.wait(timeout=120) == 1
    ends = {line["id"]: line for line in lines if line["type"] in ("result", "error")}
    assert ends["job"]["code"] == "cancelled" and ends["after"]["type"] == "result"
    drawn = [line["step"] for line in lines if line["type"] == "progress"]
    assert drawn and max(drawn) < 400


def test_closed_stdin_stops_training_and_keeps_a_checkpoint(tiny_sd: Path, tmp_path: Path) -> None:
    """End of stdin means the driver is gone: a running train command stops at the next step, checkpoints it and
    answers `cancelled`; a queued one never starts; a generate queued behind them still runs."""
    from atelier_diffusion.fixtures.subject_photos import write_subject
    from train_helpers import job_config

    write_subject(tmp_path / "photos", 3)
    config = job_config(tiny_sd, tmp_path / "photos", tmp_path / "out", tmp_path / "cache",
                        train={"max_steps": 100_000}, checkpoint={"every_n_steps": 100_000})
    proc = start_worker()
    proc.stdin.write(json.dumps({"cmd": "train", "id": "job", "config": config}) + "\n"
                     + json.dumps({"cmd": "train", "id": "queued", "config": config}) + "\n"
                     + json.dumps({"cmd": "ping", "id": "after"}) + "\n")
    proc.stdin.flush()
    lines = []
    for raw in proc.stdout:
        lines.append(json.loads(raw))
        if lines[-1]["type"] == "metric" and lines[-1]["step"] == 2 and not proc.stdin.closed:
            proc.stdin.close()
    assert proc.wait(timeout=120) == 1
    ends = {line["id"]: line for line in lines if line["type"] in ("result", "error")}
    assert ends["job"]["code"] == "cancelled" and ends["queued"]["code"] == "cancelled"
    assert ends["after"]["type"] == "result"
    (saved,) = [line for line in lines if line["type"] == "checkpoint"]
    assert 2 <= saved["step"] < 100_000 and Path(saved["path"]).is_file()
    assert f"step {saved['step']}" in ends["job"]["message"]


def test_dead_driver_stops_training_and_keeps_a_checkpoint(tiny_sd: Path, tmp_path: Path) -> None:
    """The TS side dying closes all three pipes: writes find nobody reading, stdin ends; the worker still stops
    at a step boundary with a checkpoint (nothing to report it to) and exits."""
    from atelier_diffusion.callbacks import CheckpointCallback
    from atelier_diffusion.fixtures.subject_photos import write_subject
    from train_helpers import job_config

    write_subject(tmp_path / "photos", 3)
    config = job_config(tiny_sd, tmp_path / "photos", tmp_path / "out", tmp_path / "cache",
                        train={"max_steps": 100_000}, checkpoint={"every_n_steps": 100_000})
    proc = start_worker(stderr=subprocess.PIPE)
    proc.stdin.write(json.dumps({"cmd": "train", "id": "job", "config": config}) + "\n")
    proc.stdin.flush()
    for raw in proc.stdout:
        if json.loads(raw)["type"] == "metric":
            break
    for pipe in (proc.stdin, proc.stdout, proc.stderr):
        pipe.close()
    proc.wait(timeout=120)
    latest = CheckpointCallback.latest(tmp_path / "out" / "checkpoints")
    assert latest is not None and 1 <= int(latest.stem.split("-")[1]) < 100_000
    assert not (tmp_path / "out" / "model").exists()
