"""Where DreamBench-mini keeps what it builds once (measurer, base model, datasets), keyed by a config's hash."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path


def cache_root() -> Path:
    """``$ATELIER_CACHE/dreambench`` (default ``~/.cache/atelier/dreambench``); shared with the TS side's cache."""
    base = os.environ.get("ATELIER_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "atelier")
    return Path(base) / "dreambench"


def config_hash(config: object, version: int) -> str:
    """First 12 hex digits of the SHA-256 of ``config`` (a dataclass) as canonical JSON, with a code ``version``.

    ``version`` is bumped whenever drawing or training code changes what the same config would produce, so a stale
    cache entry is never mistaken for a fresh one.
    """
    payload = json.dumps({"version": version, **dataclasses.asdict(config)}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:12]


def entry(kind: str, config: object, version: int) -> Path:
    """The cache folder of ``kind`` (e.g. ``measurer``) for ``config``: ``<root>/<kind>-<hash>``."""
    return cache_root() / f"{kind}-{config_hash(config, version)}"
