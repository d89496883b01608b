"""The DreamBooth batch stream: deterministic, resumable, shardable.

Micro-batch number `g` (counted from the start of the run, across gradient accumulation) is a pure function of
(seed, g, rank): which photos it holds, their random crops and flips. Nothing is carried from batch to batch, so
resuming at optimizer step s only needs `start = s × grad_accum` — no sampler state to save, no epoch boundary to
replay, and a SIGKILLed run picks up the exact same images it would have seen.

Each batch holds the instance examples first, then (with prior preservation) as many class examples.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from .photos import apply_geometry, fit_geometry, mask_tensor, open_mask, open_rgb

# Independent random streams per purpose, so adding class images never changes the instance crops.
_INSTANCE, _CLASS, _AUGMENT, _CAPTION, _BUCKET = 1, 2, 3, 4, 5


@dataclass(frozen=True)
class StreamSpec:
    """What the stream draws from and how it augments."""

    instance_paths: tuple[Path, ...]
    class_paths: tuple[Path, ...]
    resolution: int
    crop: str
    flip_p: float
    batch_size: int
    seed: int
    instance_captions: tuple[str, ...] | None = None
    caption_dropout: float = 0.0
    #: SDXL: also yield each example's size conditioning (photos.preprocess_with_coords) as "time_ids".
    size_conditioning: bool = False
    #: Aspect-ratio bucket (width, height) of each instance photo (buckets.py); None: every example square.
    instance_buckets: tuple[tuple[int, int], ...] | None = None
    #: Latents are cached (center crop only): yield each example's cache key instead of its pixels.
    keys_only: bool = False
    #: Yield "masks" (n, 1, H, W): each instance photo's subject mask (photos.open_mask), 1 where it has none.
    masks: bool = False


#: What identifies an example's pixels under a center crop: (photo, (width, height), flipped).
ExampleKey = tuple[Path, tuple[int, int], bool]


def cache_keys(spec: StreamSpec) -> list[ExampleKey]:
    """Every example key the stream can yield (center crop): each instance photo at its bucket, each class image at
    every bucket in use, unflipped and — when flips happen — flipped."""
    flips = (False, True) if spec.flip_p > 0 else (False,)
    square = (spec.resolution, spec.resolution)
    targets = spec.instance_buckets or (square,) * len(spec.instance_paths)
    keys = [(p, t, f) for p, t in zip(spec.instance_paths, targets) for f in flips]
    return keys + [(p, t, f) for t in dict.fromkeys(targets) for p in spec.class_paths for f in flips]


class DreamBoothStream(IterableDataset):
    """Infinite stream of collated micro-batches starting at micro-batch `start`, for data-parallel `rank` of
    `world`. Items: {"pixels": (n, 3, H, W) in [-1, 1] (R × R without buckets), "num_instance": int, "index": g},
    "keys" (ExampleKeys) instead of pixels with keys_only, plus "prompts" (one per instance example) when the spec
    has captions, "time_ids" (n, 6) with size conditioning and "masks" (n, 1, H, W) with masks."""

    def __init__(self, spec: StreamSpec, start: int = 0, rank: int = 0, world: int = 1):
        super().__init__()
        self.spec, self.start, self.rank, self.world = spec, start, rank, world
        self._cache: dict[Path, Image.Image] = {}
        self._masks: dict[Path, Image.Image | None] = {}

    def _image(self, path: Path) -> Image.Image:
        # Decoded photos are kept: DreamBooth sets are a handful of instance images and a few hundred class images.
        if path not in self._cache:
            self._cache[path] = open_rgb(path)
        return self._cache[path]

    def _pick(self, paths: tuple[Path, ...], stream: int, k: int) -> Path:
        """Sample k of an endless sequence of seeded shuffles of `paths` (each epoch reshuffled)."""
        epoch, pos = divmod(k, len(paths))
        order = np.random.default_rng([self.spec.seed, stream, epoch]).permutation(len(paths))
        return paths[int(order[pos])]

    def _caption(self, index: int, k: int) -> str:
        """Caption of instance photo `index` as sample k, or "" with probability caption_dropout (keyed by k)."""
        s = self.spec
        drop = s.caption_dropout and np.random.default_rng([s.seed, _CAPTION, k]).random() < s.caption_dropout
        return "" if drop else s.instance_captions[index]

    def _instances(self, first: int) -> list[int]:
        """Indices of the instance photos of the micro-batch starting at sample `first`. With buckets, the first
        photo's bucket is the batch's and the others are drawn (seeded by `first`) among that bucket's photos."""
        s = self.spec
        picks = [s.instance_paths.index(self._pick(s.instance_paths, _INSTANCE, first + j))
                 for j in range(s.batch_size)]
        if s.instance_buckets is None or s.batch_size == 1:
            return picks
        same = [i for i, b in enumerate(s.instance_buckets) if b == s.instance_buckets[picks[0]]]
        order = np.random.default_rng([s.seed, _BUCKET, first]).permutation(len(same))
        return [picks[0]] + [same[int(order[j % len(same)])] for j in range(s.batch_size - 1)]

    def _mask(self, path: Path) -> Image.Image | None:
        if path not in self._masks:
            self._masks[path] = open_mask(path)
        return self._masks[path]

    def _example(self, path: Path, stream: int, k: int, target: tuple[int, int]) -> tuple[Any, tuple, Any]:
        """(pixels, or the ExampleKey with keys_only; SDXL size conditioning; subject mask (1, H, W) or None)."""
        rng = np.random.default_rng([self.spec.seed, _AUGMENT, stream, k])
        flip = bool(rng.random() < self.spec.flip_p)
        image = self._image(path)
        geometry = fit_geometry(image.size, target, self.spec.crop, flip, rng)
        pixels = (path, target, flip) if self.spec.keys_only else apply_geometry(image, target, geometry, flip)
        mask = self._mask(path) if self.spec.masks and stream == _INSTANCE else None
        weights = mask_tensor(mask, target, geometry[0], geometry[1], geometry[2], flip) if mask is not None else None
        return pixels, geometry[3], weights

    def batch(self, g: int) -> dict:
        """Micro-batch `g` of this rank. Class examples take the instance examples' bucket (they are drawn square,
        so a tall bucket crops them like a tall photo)."""
        s, bs = self.spec, self.spec.batch_size
        first = (g * self.world + self.rank) * bs
        chosen = self._instances(first)
        target = s.instance_buckets[chosen[0]] if s.instance_buckets else (s.resolution, s.resolution)
        examples = [self._example(s.instance_paths[i], _INSTANCE, first + j, target) for j, i in enumerate(chosen)]
        if s.class_paths:
            examples += [self._example(self._pick(s.class_paths, _CLASS, first + j), _CLASS, first + j, target)
                         for j in range(bs)]
        out = {"num_instance": bs, "index": g * self.world + self.rank}
        if s.masks:  # examples without a mask (and class examples) weigh 1 everywhere
            out["masks"] = torch.stack([e[2] if e[2] is not None else torch.ones(1, target[1], target[0])
                                        for e in examples])
        if s.keys_only:
            out["keys"] = [e[0] for e in examples]
        else:
            out["pixels"] = torch.stack([e[0] for e in examples])
        if self.spec.size_conditioning:
            out["time_ids"] = torch.tensor([e[1] for e in examples], dtype=torch.float32)
        if self.spec.instance_captions is not None:
            out["prompts"] = [self._caption(i, first + j) for j, i in enumerate(chosen)]
        return out

    def __iter__(self):
        info = get_worker_info()
        wid, nworkers = (info.id, info.num_workers) if info else (0, 1)
        # DataLoader reads workers round-robin, so worker w producing g ≡ w (mod n) keeps the global order.
        g = self.start + wid
        while True:
            yield self.batch(g)
            g += nworkers


def make_loader(spec: StreamSpec, start: int, rank: int, world: int, num_workers: int) -> DataLoader:
    """DataLoader over the stream; batches are already collated, so batch_size=None."""
    return DataLoader(DreamBoothStream(spec, start, rank, world), batch_size=None, num_workers=num_workers,
                      persistent_workers=num_workers > 0)
