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


def run_worker(lines: list[str], timeout: float = 120) -> tuple[list[dict], str, int]:
    env = {**os.environ, "PYTHONPATH": str(PYTHON_ROOT), "PYTHONUNBUFFERED": "1"}
    res = subprocess.run([sys.executable, "-m", "atelier_diffusion.worker"], input="\n".join(lines) + "\n",
                         capture_output=True, text=True, env=env, timeout=timeout)
    return [json.loads(line) for line in res.stdout.splitlines()], res.stderr, res.returncode


def test_ping_bad_lines_and_exit_status() -> None:
    out, _err, rc = run_worker(['{"cmd": "ping", "id": "a"}', "not json", '{"cmd": "fly", "id": 7}',
                                '{"cmd": "train", "id": "t", "config": {"train": {"lr": "fast"}}}'])
    # Bad lines are answered as soon as they are read, so match answers by id, not by position.
    by_id = {o.get("id"): o for o in out}
    assert by_id["a"]["type"] == "result" and by_id["a"]["pong"] is True and "torch" in by_id["a"]["versions"]
    assert by_id[None]["code"] == "invalid_request" and "not JSON" in by_id[None]["message"]
    assert by_id["7"]["code"] == "invalid_request" and "unknown command 'fly'" in by_id["7"]["message"]
    assert by_id["t"]["code"] == "invalid_config"
    paths = {d["path"] for d in by_id["t"]["details"]}
    assert {"train.lr", "model.base", "output.dir"} <= paths
    assert rc == 1


def test_clean_run_exits_zero() -> None:
    out, _err, rc = run_worker(['{"cmd": "train_schema"}', '{"cmd": "shutdown"}', '{"cmd": "ping"}'])
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
