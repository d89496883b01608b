"""Multi-process training from the stdin worker.

Lightning's ddp/fsdp/deepspeed launchers start ranks 1..n-1 by re-executing `sys.argv`; a worker fed on stdin
cannot be re-executed that way (the copies would wait for commands that never come), and `ddp_spawn` would have to
pickle the trainer with its protocol stream. So the worker runs a multi-process job as a child
`python -m atelier_diffusion.train --json CONFIG`, whose ranks Lightning can re-execute, and relays the child's
protocol lines (rank 0 is the only one that writes them) stamped with the request id. A cancel becomes SIGTERM to
the child, which stops every rank at the same step and checkpoints; the child also gets SIGTERM if the worker dies.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from .protocol import AtelierError, Problem
from .shutdown import die_with_parent
from .worker import Request

_PACKAGE_PARENT = str(Path(__file__).resolve().parents[1])


def _forward_cancel(req: Request, proc: subprocess.Popen) -> None:
    """Watcher thread: turns the request's cancel flag into SIGTERM for the child (once)."""
    while proc.poll() is None:
        if req.cancelled.wait(0.2):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            return


def train_in_child(req: Request, config: dict[str, Any], config_file: str | None) -> dict[str, Any]:
    """Runs the job in a `python -m atelier_diffusion.train` child; returns its result fields or raises its error
    (code, message and details as the child reported them)."""
    cmd = [sys.executable, "-m", "atelier_diffusion.train", "--json", json.dumps(config)]
    if config_file:
        cmd += ["--config", config_file]
    path = os.environ.get("PYTHONPATH")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([_PACKAGE_PARENT] + ([path] if path else []))}
    # stderr is inherited: the child's (and its ranks') human logs join the worker's.
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True, env=env,
                            preexec_fn=die_with_parent)  # an orphaned child checkpoints and stops
    threading.Thread(target=_forward_cancel, args=(req, proc), name="cancel-forwarder", daemon=True).start()
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    for raw in proc.stdout:
        try:
            line = json.loads(raw)
        except json.JSONDecodeError:
            continue  # not ours: the child's fd 1 is guarded, so this does not happen in practice
        kind = line.pop("type", None)
        if kind == "result":
            result = line
        elif kind == "error":
            error = line
        elif kind:
            req.emit.emit(kind, **line)
    status = proc.wait()
    if error is not None:
        details = [Problem(d["path"], d["message"]) for d in error.get("details", [])]
        raise AtelierError(error.get("message", "training failed"), details, code=error.get("code"))
    if result is None:
        raise AtelierError(f"the training process exited with status {status} without a result")
    return result
