"""Aspect-ratio buckets (kohya sd-scripts' idea): train each photo at the shape nearest its own instead of a square
centre crop that cuts a standing dog's head or a wide car's ends off.

Buckets are (width, height) pairs, multiples of `step`, with width × height ≤ resolution² (about constant area, so
every batch costs about the same) and neither side more than `max_ratio` times the other. Each photo goes to the
bucket whose log aspect ratio is nearest its own; a micro-batch's examples all share one bucket (batch_stream.py).
"""

from __future__ import annotations

import math


def default_step(resolution: int, granularity: int) -> int:
    """Bucket side step in pixels: about resolution / 8 (64 at 512 as kohya's `bucket_reso_steps`), rounded to a
    multiple of `granularity` — the pixels a UNet needs a side to be a multiple of (VAE scale × 2^(UNet levels
    − 1): 64 for SD 1.5, 32 for SDXL, 4 for the demo model)."""
    return granularity * max(1, round(resolution / 8 / granularity))


def make_buckets(resolution: int, step: int, max_ratio: float) -> list[tuple[int, int]]:
    """Every (w, h) bucket, sorted by aspect ratio: for each width a multiple of `step`, the tallest height that is a
    multiple of `step` and keeps the area within resolution²; the square bucket is always included."""
    area = resolution * resolution
    out = {(resolution, resolution)}
    for w in range(step, int(resolution * math.sqrt(max_ratio)) + 1, step):
        h = area // w // step * step
        if h >= step and max(w / h, h / w) <= max_ratio:
            out.add((w, h))
    return sorted(out, key=lambda b: b[0] / b[1])


def nearest_bucket(size: tuple[int, int], buckets: list[tuple[int, int]]) -> tuple[int, int]:
    """The bucket whose aspect ratio is nearest `size`'s (w, h) in log space (2:1 and 1:2 equally far from 1:1)."""
    ratio = math.log(size[0] / size[1])
    return min(buckets, key=lambda b: abs(math.log(b[0] / b[1]) - ratio))
