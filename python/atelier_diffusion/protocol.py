"""JSON-lines protocol between the worker and the TypeScript side.

stdout carries only protocol lines: one JSON object per line, each with a `type`:

    progress      {"stage", "step", "total", "eta_s"?, ...}          a bar to draw (stage: class_images | train | ...)
    log           {"level", "message"}                              a human line the TS side may show or store
    metric        {"step", "values": {name: number}}                tracked scalars (loss, lr, grad_norm, ...)
    checkpoint    {"step", "path", "kept": [paths]}                 a resumable checkpoint was written
    sample        {"step", "prompt", "path"}                        a validation image was written
    judge         {"step", "scores": {subject, prompt, drift, diversity}}  a checkpoint step was judged
    class_images  {"dir", "count", "generated", "cache_hit"}        prior-preservation images are ready
    result        {...}                                             a command finished; fields depend on the command
    error         {"code", "message", "details": [{"path", "message"}]}

Every line written while a command runs also carries that command's `id` (when the request had one). stderr is
for humans (library warnings, tracebacks). `guard_stdout()` moves fd 1 to stderr so nothing else — a stray print in
a library, a C extension's printf — can corrupt the stream.
"""

from __future__ import annotations

import json
import math
import os
import sys
import threading
from dataclasses import dataclass, field
from typing import IO, Any

#: Every message type the worker may write; anything else is a bug on this side.
MESSAGE_TYPES = frozenset({"progress", "log", "metric", "checkpoint", "sample", "judge", "class_images", "result",
                           "error"})


@dataclass
class Problem:
    """One thing wrong with a request: `path` names the config key (dotted) or file, `message` says why."""

    path: str
    message: str

    def as_dict(self) -> dict[str, str]:
        """The wire form: {"path", "message"}."""
        return {"path": self.path, "message": self.message}


class AtelierError(Exception):
    """An error the TS side should show as-is: a stable `code`, a sentence, and every problem found (not just the
    first), so a user fixes a config or a photo folder in one go."""

    code = "internal_error"

    def __init__(self, message: str, details: list[Problem] | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.details = list(details or [])
        if code:
            self.code = code

    def __str__(self) -> str:
        lines = [self.message] + [f"  - {p.path}: {p.message}" for p in self.details]
        return "\n".join(lines)


class RequestError(AtelierError):
    """Malformed protocol input: not JSON, no/unknown `cmd`."""

    code = "invalid_request"


class ConfigError(AtelierError):
    """A training config with unknown keys, bad values or an unsupported combination of options."""

    code = "invalid_config"


class DataError(AtelierError):
    """Instance/class images that cannot be trained on (too few, unreadable, tiny, duplicated, ...)."""

    code = "invalid_images"


class CancelledError(AtelierError):
    """The command was cancelled (cancel request or SIGTERM) — after saving what it could."""

    code = "cancelled"


def _clean(value: Any) -> Any:
    """Makes a value JSON-safe: NaN/inf become null (JSON has no such numbers), tensors and paths become plain."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if hasattr(value, "item"):  # torch / numpy scalars
        return _clean(value.item())
    return str(value)


@dataclass
class Emitter:
    """Writes protocol lines to one stream; thread-safe. `bind(id=...)` gives an emitter that stamps extra fields
    on each line (the request id) while sharing the stream and its lock."""

    stream: IO[str]
    extra: dict[str, Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    #: Shared with bound emitters: {"gone": True} once the reader closed the stream (the driver died).
    _state: dict[str, bool] = field(default_factory=lambda: {"gone": False})

    def bind(self, **extra: Any) -> "Emitter":
        """An emitter adding `extra` fields (None values dropped) to every line."""
        return Emitter(self.stream, {**self.extra, **{k: v for k, v in extra.items() if v is not None}}, self._lock,
                       self._state)

    @property
    def gone(self) -> bool:
        """True once a write found nobody reading (broken pipe); later lines are dropped."""
        return self._state["gone"]

    def emit(self, type_: str, **fields: Any) -> None:
        """Writes one line {"type": type_, **extra, **fields} and flushes, so the TS side sees it at once."""
        if type_ not in MESSAGE_TYPES:
            raise ValueError(f"unknown protocol message type {type_!r}")
        line = json.dumps(_clean({"type": type_, **self.extra, **fields}), separators=(",", ":"), allow_nan=False)
        with self._lock:
            if self._state["gone"]:
                return
            try:
                self.stream.write(line + "\n")
                self.stream.flush()
            except (BrokenPipeError, ValueError):
                # The driver died: its end of the pipe is closed. Dropping lines keeps a running job alive long
                # enough to notice the cancel (stdin EOF) and write its checkpoint, instead of dying mid-step.
                self._state["gone"] = True

    def progress(self, stage: str, step: int, total: int, **fields: Any) -> None:
        """A bar update: `step` of `total` in `stage`."""
        self.emit("progress", stage=stage, step=step, total=total, **fields)

    def log(self, message: str, level: str = "info") -> None:
        """A human line, both as a protocol line and on stderr."""
        self.emit("log", level=level, message=message)
        try:
            print(f"[{level}] {message}", file=sys.stderr, flush=True)
        except (BrokenPipeError, ValueError):
            pass  # stderr went with the driver; the job goes on

    def metric(self, step: int, values: dict[str, float]) -> None:
        """Tracked scalars of one optimizer step."""
        self.emit("metric", step=step, values=values)

    def result(self, **fields: Any) -> None:
        """The final line of a successful command."""
        self.emit("result", **fields)

    def error(self, err: AtelierError) -> None:
        """The final line of a failed command."""
        self.emit("error", code=err.code, message=err.message, details=[p.as_dict() for p in err.details])


class _NullStream:
    """Sink for an emitter that must not write anywhere (library use of the trainer without a TS side)."""

    def write(self, _text: str) -> int:
        """Drops the text."""
        return 0

    def flush(self) -> None:
        """Nothing to flush."""
        return None


def null_emitter() -> Emitter:
    """An emitter that drops every line: for calling the trainer from Python (tests, benchmarks) without stdout."""
    return Emitter(_NullStream())  # type: ignore[arg-type]


def guard_stdout() -> Emitter:
    """Reserves the real stdout for protocol lines and returns the emitter writing to it.

    fd 1 is duplicated to a private fd for the protocol, then fd 1 and `sys.stdout` are pointed at stderr, so
    prints from Python, Lightning, tqdm or native code end up in the human log instead of the JSON stream.
    """
    sys.stdout.flush()
    proto_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return Emitter(os.fdopen(proto_fd, "w", buffering=1, encoding="utf-8"))
