"""How a worker process stops: on SIGTERM, when its parent dies, and by force when a phase overruns its grace.

Stopping is cooperative first. A stop cancels every request, and each phase checks its cancel flag at its own
grain: class images, validation samples and image generation after every denoising step (diffusers'
`callback_on_step_end`, sample.py's `on_step`), training after every optimizer step, export between its stages.
A step can still be long — a 512 px UNet step on a CPU takes seconds, a VAE decode or a safetensors write has no
step at all — so `Watchdog.arm` ends the process with `os._exit(1)` when the work has not stopped within
`ATELIER_STOP_GRACE_S` (default 2 s). What the watchdog may cut short is written under a temporary name and
renamed when complete (`scratch` names it, and a hard exit deletes it), so a forced stop leaves the last complete
class image, checkpoint or export and no torn file. A checkpoint being written (`critical`) is let finish, for at
most `ATELIER_STOP_CRITICAL_S` (default 60 s): it is the state a cancelled run resumes from.

The parent's death is noticed twice over: Linux sends this process SIGTERM when its parent exits
(PR_SET_PDEATHSIG, `die_with_parent`), and a thread polls getppid() (other systems, and a parent of a parent).
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from .protocol import CancelledError

_PR_SET_PDEATHSIG = 1
#: Exit status of a forced stop (the same as a cancelled command's, so drivers need no second case).
FORCED_EXIT_STATUS = 1


def _env_seconds(name: str, default: float) -> float:
    """A duration from the environment, `default` when unset or not a positive number."""
    try:
        value = float(os.environ.get(name, default))
    except ValueError:
        return default
    return value if value > 0 else default


class Watchdog:
    """Forces the process out when cancelled work overruns its grace period; see the module docstring."""

    def __init__(self, grace_s: float, critical_max_s: float):
        self.grace_s, self.critical_max_s = grace_s, critical_max_s
        self._lock = threading.Lock()
        self._critical = 0
        self._scratch: set[Path] = set()

    @contextmanager
    def critical(self) -> Iterator[None]:
        """A write the watchdog lets finish (up to critical_max_s) before forcing the exit."""
        with self._lock:
            self._critical += 1
        try:
            yield
        finally:
            with self._lock:
                self._critical -= 1

    @contextmanager
    def scratch(self, path: Path) -> Iterator[Path]:
        """Names a temporary file or folder that a forced exit deletes; the caller renames it once complete."""
        with self._lock:
            self._scratch.add(path)
        try:
            yield path
        finally:
            with self._lock:
                self._scratch.discard(path)

    def arm(self, reason: str, pending: Callable[[], bool] = lambda: True) -> None:
        """Starts the countdown: after the grace period (and any critical write), exits the process if `pending()`
        still says the cancelled work runs."""
        threading.Thread(target=self._expire, args=(reason, pending), name="stop-watchdog", daemon=True).start()

    def _expire(self, reason: str, pending: Callable[[], bool]) -> None:
        time.sleep(self.grace_s)
        deadline = time.monotonic() + self.critical_max_s
        while self._critical and time.monotonic() < deadline:
            time.sleep(0.05)
        if not pending():
            return
        with self._lock:
            leftovers = list(self._scratch)
        for path in leftovers:
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
        try:
            print(f"[warning] {reason}: the running work did not stop within {self.grace_s:g} s; exiting now",
                  file=sys.stderr, flush=True)
        except (OSError, ValueError):
            pass  # stderr went with the parent
        os._exit(FORCED_EXIT_STATUS)


#: The process's watchdog (signals and the parent are per process, so is the countdown).
WATCHDOG = Watchdog(_env_seconds("ATELIER_STOP_GRACE_S", 2.0), _env_seconds("ATELIER_STOP_CRITICAL_S", 60.0))


def stop_on_cancel(cancelled: Callable[[], bool]) -> Callable:
    """A diffusers `callback_on_step_end` that raises CancelledError once `cancelled()`: a pipeline call then
    stops after the denoising step in progress instead of after all of them (and never decodes a half-denoised
    image that could be mistaken for a finished one)."""

    def on_step_end(_pipe, _step: int, _timestep, callback_kwargs: dict) -> dict:
        if cancelled():
            raise CancelledError("cancelled during sampling")
        return callback_kwargs

    return on_step_end


def die_with_parent() -> None:
    """Asks Linux for SIGTERM when the parent exits (PR_SET_PDEATHSIG); elsewhere watch_parent alone notices.
    Also used as a child's preexec_fn."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def watch_parent(on_gone: Callable[[], None], interval_s: float = 0.5) -> None:
    """Calls `on_gone()` once, from a daemon thread, when this process is re-parented (its parent died)."""
    parent = os.getppid()

    def poll() -> None:
        while os.getppid() == parent:
            time.sleep(interval_s)
        on_gone()

    threading.Thread(target=poll, name="parent-watch", daemon=True).start()


#: The parent at `install()` time; None before it.
_PARENT: int | None = None


def parent_gone() -> bool:
    """Whether the parent this process had at `install()` has exited (the process was re-parented). An orphan's
    words reach no one: it must not write state that only its parent could record (a checkpoint in a job folder that
    another node may already be resuming from)."""
    return _PARENT is not None and os.getppid() != _PARENT


def install(on_stop: Callable[[str], None]) -> None:
    """Routes SIGTERM and the parent's death to `on_stop(reason)`, called on a thread of its own: the handler
    itself only writes a byte to a pipe, because a Python signal handler runs on the main thread between two
    bytecodes, possibly while that thread holds a lock `on_stop` needs."""
    global _PARENT
    _PARENT = os.getppid()
    read_fd, write_fd = os.pipe()

    def relay() -> None:
        while os.read(read_fd, 1):
            on_stop("SIGTERM")

    threading.Thread(target=relay, name="sigterm-relay", daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: os.write(write_fd, b"t"))
    die_with_parent()
    watch_parent(lambda: on_stop("parent process exited"))
