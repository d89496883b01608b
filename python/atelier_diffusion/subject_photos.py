"""Procedural subject photos for tests and benchmarks: the same striped red box in different places on
different grounds, so each photo is perceptually distinct while showing one subject."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

GROUNDS = [(40, 120, 220), (60, 160, 60), (150, 110, 70), (230, 230, 230), (20, 20, 20), (200, 180, 60)]


def draw_subject(i: int, size: int = 48) -> Image.Image:
    """Photo i of the subject (deterministic): background colour, gradient and box position vary with i."""
    rng = np.random.default_rng(i)
    ground = np.array(GROUNDS[i % len(GROUNDS)], dtype=np.float32)
    ramp = np.linspace(0.6, 1.2, size, dtype=np.float32)[:, None, None] if i % 2 else \
        np.linspace(1.2, 0.6, size, dtype=np.float32)[None, :, None]
    pixels = np.clip(np.broadcast_to(ground * ramp, (size, size, 3)), 0, 255).astype(np.uint8)
    img = Image.fromarray(pixels)
    draw = ImageDraw.Draw(img)
    box = size // 2
    x, y = (int(v) for v in rng.integers(0, size - box, 2))
    draw.rectangle([x, y, x + box, y + box], fill=(210, 30, 30))
    for k in range(0, box, 4):
        draw.line([x, y + k, x + box, y + k], fill=(250, 250, 250), width=1)
    return img


def write_subject(folder: Path, n: int = 4, size: int = 48, fmt: str = "png") -> list[Path]:
    """Writes n subject photos into `folder` (created) and returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        path = folder / f"photo{i}.{fmt}"
        draw_subject(i, size).save(path)
        paths.append(path)
    return paths
