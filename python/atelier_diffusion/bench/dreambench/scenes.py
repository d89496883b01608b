"""Deterministic scene generator: one object of a known class, colour and pattern on a known background.

Every image is a pure function of ``(seed, split, index)``: each scene gets its own random stream, so scene ``i`` of
a split can be redrawn alone and two splits never share a stream. Drawing is plain numpy on a pixel grid with no
anti-aliasing, so patterns stay crisp at 32 px and the pixels are identical on every machine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from .vocab import BACKGROUNDS, CLASSES, COLOURS, PATTERNS

#: Colour every pattern mixes with the object's primary colour.
WHITE = np.array([246, 246, 244], dtype=np.float32)
#: Outline colour: a 1 px dark rim keeps a green object visible on grass and a yellow one on the white background.
OUTLINE = np.array([38, 36, 34], dtype=np.float32)
#: Split names and the stream number each uses; part of the benchmark definition (changing it changes every image).
SPLITS: dict[str, int] = {"train": 0, "heldout": 1, "subject": 2}


@dataclass(frozen=True)
class SceneSpec:
    """The ground truth of one scene: attribute values from :mod:`.vocab`."""

    cls: str
    colour: str
    pattern: str
    background: str

    def labels(self) -> dict[str, str]:
        """The four attribute values keyed by attribute name (``cls``, ``colour``, ``pattern``, ``background``)."""
        return {"cls": self.cls, "colour": self.colour, "pattern": self.pattern, "background": self.background}


def scene_rng(seed: int, split: str, index: int) -> np.random.Generator:
    """The random stream of scene ``index`` in ``split`` for ``seed``: independent of every other scene's."""
    return np.random.default_rng(np.random.SeedSequence([seed, SPLITS[split], index]))


def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates (y, x) as float arrays of shape (size, size)."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5
    return y, x


def _star_mask(size: int, cx: float, cy: float, s: float, turn: float) -> np.ndarray:
    """A five-pointed star of outer radius ``1.15 s`` rotated by ``turn`` radians, rasterised by PIL."""
    angles = -np.pi / 2 + turn + np.arange(10) * np.pi / 5
    radii = np.where(np.arange(10) % 2 == 0, 1.15 * s, 0.48 * s)
    points = [(float(cx + r * np.cos(a)), float(cy + r * np.sin(a))) for r, a in zip(radii, angles)]
    canvas = Image.new("L", (size, size), 0)
    ImageDraw.Draw(canvas).polygon(points, fill=255)
    return np.asarray(canvas) > 0


def shape_masks(cls: str, size: int, cx: float, cy: float, s: float, turn: float) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the object's body and of its shaded part (a 3-D cue: box lid, mug handle, bottle neck).

    ``(cx, cy)`` is the centre and ``s`` the half-extent in pixels. The shaded mask is a subset of the body mask.
    """
    y, x = _grid(size)
    none = np.zeros((size, size), dtype=bool)
    if cls == "ball":
        body = (x - cx) ** 2 + (y - cy) ** 2 <= s * s
        # A darker lower-right crescent reads as a sphere rather than a disc.
        shade = body & ((x - cx + 0.35 * s) ** 2 + (y - cy + 0.35 * s) ** 2 > (1.05 * s) ** 2)
        return body, shade
    if cls == "box":
        front = (abs(x - cx) <= 0.85 * s) & (y >= cy - 0.5 * s) & (y <= cy + 0.95 * s)
        # The lid is a parallelogram leaning right: that slant separates a box from a mug's upright body.
        lid = (y >= cy - 0.95 * s) & (y < cy - 0.5 * s)
        lid &= (x - cx >= -0.85 * s + (cy - 0.5 * s - y)) & (x - cx <= 0.85 * s + (cy - 0.5 * s - y))
        return front | lid, lid
    if cls == "mug":
        body = (abs(x - cx + 0.2 * s) <= 0.65 * s) & (abs(y - cy) <= 0.8 * s)
        r = np.sqrt((x - (cx + 0.5 * s)) ** 2 + (y - cy) ** 2)
        handle = (r <= 0.5 * s) & (r >= 0.22 * s) & (x > cx + 0.45 * s)
        return body | handle, handle
    if cls == "bottle":
        body = (abs(x - cx) <= 0.6 * s) & (y >= cy - 0.3 * s) & (y <= cy + 1.1 * s)
        neck = (abs(x - cx) <= 0.25 * s) & (y >= cy - 1.1 * s) & (y < cy - 0.3 * s)
        return body | neck, neck
    if cls == "star":
        return _star_mask(size, cx, cy, s, turn), none
    raise ValueError(f"unknown class {cls!r}; expected one of {', '.join(CLASSES)}")


def pattern_mask(pattern: str, size: int, rng: np.random.Generator) -> np.ndarray:
    """Where the pattern shows white (True) instead of the primary colour; periods scale with the image size."""
    y, x = np.mgrid[0:size, 0:size]
    phase_y, phase_x = rng.integers(0, 64, size=2)
    if pattern == "plain":
        return np.zeros((size, size), dtype=bool)
    if pattern == "striped":
        width = max(2, round(size / 16))
        return ((y + phase_y) // width) % 2 == 1
    if pattern == "dotted":
        # Sparse small dots (about a fifth of the surface) so that dotted never looks like checkered (half white).
        period = max(5, round(size / 6))
        dy = (y + phase_y) % period - (period - 1) / 2
        dx = (x + phase_x) % period - (period - 1) / 2
        return dy * dy + dx * dx <= (0.25 * period) ** 2
    if pattern == "checkered":
        cell = max(3, round(size / 10))
        return (((y + phase_y) // cell) + ((x + phase_x) // cell)) % 2 == 1
    raise ValueError(f"unknown pattern {pattern!r}; expected one of {', '.join(PATTERNS)}")


def draw_background(background: str, size: int, rng: np.random.Generator) -> np.ndarray:
    """A float32 (size, size, 3) background in 0–255, textured so that each kind is recognisable at 32 px."""
    y, x = _grid(size)
    noise = rng.normal(0.0, 1.0, size=(size, size, 1)).astype(np.float32)
    if background == "sky":
        t = (y / size)[..., None]
        img = (1 - t) * np.array([96, 158, 232]) + t * np.array([196, 222, 250]) + 3 * noise
    elif background == "grass":
        blades = np.sin(x * rng.uniform(1.6, 2.2) + rng.uniform(0, 6.3))[..., None]
        img = np.array([70, 138, 48]) + 14 * noise + 16 * blades * np.array([0.5, 1.0, 0.4])
    elif background == "wood":
        grain = np.sin(y * rng.uniform(0.8, 1.1) + 2.0 * np.sin(x * 0.15 + rng.uniform(0, 6.3)))[..., None]
        img = np.array([150, 98, 54]) * (1 + 0.14 * grain) + 4 * noise
    elif background == "checker":
        tile = max(4, size // 4)
        oy, ox = rng.integers(0, tile, size=2)
        dark = (((y + oy) // tile + (x + ox) // tile) % 2 == 1)[..., None]
        img = np.where(dark, np.array([112, 112, 116]), np.array([192, 192, 188])) + 3 * noise
    elif background == "plain":
        img = np.array([236, 234, 228]) + 2 * noise
    else:
        raise ValueError(f"unknown background {background!r}; expected one of {', '.join(BACKGROUNDS)}")
    return img.astype(np.float32)


def draw_scene(spec: SceneSpec, size: int, rng: np.random.Generator) -> np.ndarray:
    """Draws ``spec`` as a uint8 (size, size, 3) image; position, scale, tint and texture phase come from ``rng``."""
    img = draw_background(spec.background, size, rng)
    s = size * rng.uniform(0.27, 0.33)
    cx, cy = size / 2 + rng.uniform(-0.08, 0.08, size=2) * size
    body, shade = shape_masks(spec.cls, size, float(cx), float(cy), float(s), float(rng.uniform(-0.3, 0.3)))
    primary = np.array(COLOURS[spec.colour], dtype=np.float32) + rng.uniform(-12, 12, size=3)
    white = pattern_mask(spec.pattern, size, rng)
    surface = np.where(white[..., None], WHITE, primary) * rng.uniform(0.92, 1.06)
    surface = np.where(shade[..., None], surface * 0.78, surface)
    img = np.where(body[..., None], surface, img)
    padded = np.pad(body, 1)
    inner = padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    img = np.where((body & ~inner)[..., None], OUTLINE, img)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)
