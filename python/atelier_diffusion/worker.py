"""The worker process the TypeScript side drives: `python -m atelier_diffusion.worker`.

stdin: one JSON command per line, `{"cmd": NAME, "id": "optional request id", ...params}`:

    {"cmd": "train", "id": "job-1", "config": {...}}     DreamBooth training (see config.py for the keys)
    {"cmd": "train_schema"}                              the training config's JSON Schema, recipes, presets
    {"cmd": "ping"}                                      answers with library versions (environment check)
    {"cmd": "cancel", "id": "job-1"}                     cancel that request (queued or running); no id: all
    {"cmd": "shutdown"}                                  finish what is queued, then exit

Commands run one at a time in arrival order; `cancel` is acted on as soon as it is read. End of stdin also ends the
worker once the queue is done, but cancels `train` commands first (CANCEL_ON_EOF): a driver that closed stdin or
died will never read their result, and a cancelled run keeps its checkpoint for a later resume. Each command ends with a
`result` or an `error` line carrying its id (protocol.py lists the line types). The process exits 0 when every
command succeeded, 1 when any failed. SIGTERM and the death of the parent process stop everything within about
two seconds (shutdown.py): training saves a checkpoint before stopping, class images already drawn are kept.

Adding a command (e.g. in sample.py):

    from .worker import Request, command

    @command("generate")
    def generate(req: Request) -> dict:
        req.emit.progress("generate", 1, 4)   # lines are stamped with the request id
        req.check_cancelled()                  # raises CancelledError once cancel/SIGTERM arrived
        return {"images": [...]}              # becomes the `result` line's fields

and name the module in LAZY_MODULES so the worker imports it on first use (keeps start-up fast).
"""

from __future__ import annotations

import importlib
import json
import queue
import sys
import threading
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

from .protocol import AtelierError, CancelledError, Emitter, RequestError, guard_stdout
from .shutdown import WATCHDOG, install


@dataclass
class Request:
    """One command being served: its name, id, raw parameters, an emitter bound to its id, and its cancel flag."""

    cmd: str
    id: str | None
    params: dict[str, Any]
    emit: Emitter
    cancelled: threading.Event = field(default_factory=threading.Event)

    def check_cancelled(self) -> None:
        """Raises CancelledError if this request was cancelled; call it between units of work."""
        if self.cancelled.is_set():
            raise CancelledError(f"{self.cmd} cancelled")


#: A command handler: returns the fields of its `result` line (or None for an empty result).
Handler = Callable[[Request], "dict[str, Any] | None"]

_HANDLERS: dict[str, Handler] = {}

#: Commands whose handler lives in a module imported on first use (the module registers it with @command).
LAZY_MODULES: dict[str, str] = {
    "train": "atelier_diffusion.train",
    "train_schema": "atelier_diffusion.train",
    "generate": "atelier_diffusion.resident",
    "export": "atelier_diffusion.export",
}


#: Long jobs whose only listener is the driver on our stdin: when stdin closes (the TS side exited or died), they
#: are cancelled — training stops at the next step with a checkpoint — instead of running on for hours unheard.
#: Other commands (generate, export) still finish: closing stdin is how the image side says "drain and exit".
CANCEL_ON_EOF = frozenset({"train"})


def command(name: str) -> Callable[[Handler], Handler]:
    """Decorator registering `fn` as the handler of command `name` (a name may be registered once)."""

    def register(fn: Handler) -> Handler:
        """Adds `fn` to the registry and returns it unchanged."""
        if name in _HANDLERS and _HANDLERS[name] is not fn:
            raise ValueError(f"worker command {name!r} is already registered")
        _HANDLERS[name] = fn
        return fn

    return register


def resolve(name: str) -> Handler:
    """Finds the handler of `name`, importing its module when it is a lazy one."""
    if name not in _HANDLERS and name in LAZY_MODULES:
        try:
            importlib.import_module(LAZY_MODULES[name])
        except ModuleNotFoundError as err:
            if err.name != LAZY_MODULES[name]:
                raise
    if name not in _HANDLERS:
        known = sorted(set(_HANDLERS) | set(LAZY_MODULES) | {"cancel", "shutdown"})
        raise RequestError(f"unknown command {name!r}; known: {', '.join(known)}")
    return _HANDLERS[name]


@command("ping")
def ping(_req: Request) -> dict[str, Any]:
    """Environment check: the versions of the libraries the worker runs on."""
    # Imported here, not at the top: the worker must answer `cancel`/`shutdown` without paying seconds of torch
    # import, and only the command modules (loaded on first use, LAZY_MODULES) need these libraries.
    import diffusers
    import lightning
    import peft
    import torch
    import transformers

    return {"pong": True, "versions": {"python": sys.version.split()[0], "torch": torch.__version__,
                                       "diffusers": diffusers.__version__, "transformers": transformers.__version__,
                                       "lightning": lightning.__version__, "peft": peft.__version__},
            "cuda": torch.cuda.is_available()}


def run_request(req: Request) -> bool:
    """Runs one request to its result or error line. Returns True on success."""
    try:
        req.check_cancelled()
        out = resolve(req.cmd)(req)
        req.emit.result(**(out or {}))
        return True
    except AtelierError as err:
        req.emit.error(err)
    except Exception as err:  # noqa: BLE001 — the worker must answer every request, whatever broke
        traceback.print_exc(file=sys.stderr)
        req.emit.error(AtelierError(f"{type(err).__name__}: {err}"))
    return False


def parse_line(line: str) -> tuple[str, str | None, dict[str, Any]]:
    """Parses one stdin line into (cmd, id, params); raises RequestError naming what is wrong."""
    try:
        msg = json.loads(line)
    except json.JSONDecodeError as err:
        raise RequestError(f"command line is not JSON: {err}") from None
    if not isinstance(msg, dict) or not isinstance(msg.get("cmd"), str):
        raise RequestError('a command must be a JSON object with a string "cmd"')
    rid = msg.get("id")
    if rid is not None and not isinstance(rid, (str, int)):
        raise RequestError('"id" must be a string or an integer')
    return msg["cmd"], None if rid is None else str(rid), msg


class Worker:
    """Reads commands on a thread (so cancel is seen while a command runs) and executes them in order."""

    def __init__(self, emit: Emitter, stdin=None):
        self.emit = emit
        self.stdin = stdin or sys.stdin
        self.queue: "queue.Queue[Request | None]" = queue.Queue()
        self.live: list[Request] = []
        self.lock = threading.Lock()
        self.failed = False
        self.stopping = threading.Event()

    def cancel(self, rid: str | None) -> None:
        """Sets the cancel flag of request `rid`, or of every queued/running request when rid is None."""
        with self.lock:
            targets = [r for r in self.live if rid is None or r.id == rid]
        for req in targets:
            req.cancelled.set()

    def read(self) -> None:
        """Reader thread body: queue commands until EOF or shutdown; act on cancel immediately. At EOF the
        driver is gone: CANCEL_ON_EOF commands, running or queued, are cancelled."""
        if self._read_commands():
            with self.lock:
                orphans = [r for r in self.live if r.cmd in CANCEL_ON_EOF]
            for req in orphans:
                req.cancelled.set()
            if orphans:
                WATCHDOG.arm("stdin closed", lambda: self.running(orphans))
        self.queue.put(None)

    def running(self, requests: list[Request]) -> bool:
        """Whether any of `requests` is still queued or running."""
        with self.lock:
            return any(r is live for r in requests for live in self.live)

    def _read_commands(self) -> bool:
        """Queues commands; True when stdin ended, False on a `shutdown` command."""
        for raw in self.stdin:
            if not raw.strip():
                continue
            try:
                cmd, rid, params = parse_line(raw)
            except RequestError as err:
                self.emit.error(err)
                self.failed = True
                continue
            if cmd == "cancel":
                self.cancel(rid)
                continue
            if cmd == "shutdown":
                return False
            req = Request(cmd, rid, params, self.emit.bind(id=rid))
            with self.lock:
                self.live.append(req)
            self.queue.put(req)
        return True

    def stop(self, reason: str = "stopped") -> None:
        """SIGTERM or the parent's death: cancel everything and exit once the running command has answered (it may
        save a checkpoint) — or when the watchdog's grace period is over, whichever comes first."""
        if self.stopping.is_set():
            return
        self.stopping.set()
        self.cancel(None)
        WATCHDOG.arm(reason)

    def serve(self) -> int:
        """Runs until the reader is done or stop() was called; returns the process exit status."""
        threading.Thread(target=self.read, name="stdin-reader", daemon=True).start()
        while True:
            try:
                # A timeout rather than a blocking get: stop() may come while the queue is empty.
                req = self.queue.get(timeout=0.2)
            except queue.Empty:
                if self.stopping.is_set():
                    return 1
                continue
            if req is None:
                break
            ok = run_request(req)
            self.failed = self.failed or not ok
            with self.lock:
                self.live.remove(req)
            if self.stopping.is_set():
                return 1
        return 1 if self.failed else 0


def main() -> int:
    """Entry point: guard stdout, route SIGTERM and the parent's death to stop(), serve stdin."""
    worker = Worker(guard_stdout())
    install(worker.stop)
    return worker.serve()


if __name__ == "__main__":
    # Run the imported module's main, not this __main__ copy: command modules register into
    # `atelier_diffusion.worker`, and a second copy of the registry here would never see them.
    from atelier_diffusion.worker import main as _main

    sys.exit(_main())
