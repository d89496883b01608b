"""A real `python -m atelier_diffusion.worker` process for the stop tests, started directly or under a parent
process that a test can kill (so that only PR_SET_PDEATHSIG / re-parenting can tell the worker, stdin staying
open), with its protocol lines collected on a thread."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

PYTHON_ROOT = Path(__file__).resolve().parents[1]
#: The intermediate parent: starts the worker on the same stdin/stdout, writes its pid to argv[1], waits.
PARENT = ("import subprocess, sys; p = subprocess.Popen([sys.executable, '-m', 'atelier_diffusion.worker']); "
          "open(sys.argv[1], 'w').write(str(p.pid)); p.wait()")


class WorkerProcess:
    """The worker (`pid`) and the process the test started (`proc`: the worker itself, or its parent)."""

    def __init__(self, tmp: Path, with_parent: bool = False):
        env = {**os.environ, "PYTHONPATH": str(PYTHON_ROOT), "PYTHONUNBUFFERED": "1", "ATELIER_TORCH_THREADS": "1"}
        pid_file = tmp / "worker.pid"
        cmd = [sys.executable, "-c", PARENT, str(pid_file)] if with_parent else \
            [sys.executable, "-m", "atelier_diffusion.worker"]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True, env=env)
        self.lines: "queue.Queue[dict | None]" = queue.Queue()
        self.seen: list[dict] = []
        threading.Thread(target=self._read, daemon=True).start()
        if with_parent:
            while not pid_file.is_file() or not pid_file.read_text():
                time.sleep(0.05)
        self.pid = int(pid_file.read_text()) if with_parent else self.proc.pid

    def _read(self) -> None:
        for raw in self.proc.stdout:
            self.lines.put(json.loads(raw))
        self.lines.put(None)

    def send(self, **command) -> None:
        """Writes one command line on the worker's stdin."""
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()

    def wait_for(self, accept, timeout: float = 120) -> dict:
        """The first protocol line for which `accept(line)` holds (every line read is kept in `seen`)."""
        deadline = time.monotonic() + timeout
        while True:
            line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            assert line is not None, f"worker output ended; lines so far: {self.seen[-5:]}"
            self.seen.append(line)
            if accept(line):
                return line

    def stop(self, how: str) -> float:
        """Stops the worker `how` (sigterm | stdin | parent) and returns the seconds until it was gone."""
        start = time.monotonic()
        if how == "sigterm":
            os.kill(self.pid, signal.SIGTERM)
        elif how == "stdin":
            self.proc.stdin.close()
        else:
            self.proc.kill()  # the worker's parent; the worker's stdin stays open (this test holds it)
            self.proc.wait()
        while not gone(self.pid) and time.monotonic() - start < 120:
            time.sleep(0.02)
        return time.monotonic() - start

    def drain(self) -> list[dict]:
        """Every line written until stdout closed (reaps the worker when it is the test's own child)."""
        while (line := self.lines.get(timeout=30)) is not None:
            self.seen.append(line)
        self.proc.wait(timeout=30)
        return self.seen


def gone(pid: int) -> bool:
    """Whether process `pid` has exited (a zombie nobody reaped yet counts as exited)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")
