"""The closed world of DreamBench-mini: object classes, colours, patterns and backgrounds, and how captions name them.

Everything the benchmark draws, captions and measures is one of the values listed here, so every metric can be
computed exactly: a generated image is judged by which value of each attribute the measurer sees in it.
The order of each tuple is part of the benchmark's definition (it fixes label indices and the cache hash).
"""

from __future__ import annotations

#: Object classes. Each is drawn by its own shape function in :mod:`.scenes`.
CLASSES: tuple[str, ...] = ("mug", "ball", "box", "star", "bottle")

#: Primary object colours, as sRGB triplets. Chosen far apart in hue so that small jitter never makes two alike,
#: and none is white: white is the secondary colour every pattern draws with.
COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (214, 38, 38),
    "blue": (36, 78, 222),
    "yellow": (238, 206, 30),
    "green": (34, 158, 60),
    "purple": (136, 52, 176),
    "orange": (242, 126, 22),
}

#: Surface patterns. ``plain`` is the primary colour alone; the others mix it with white.
PATTERNS: tuple[str, ...] = ("plain", "striped", "dotted", "checkered")

#: Backgrounds, each with the phrase a caption uses for it. The phrases avoid every attribute word above
#: ("checker floor", not "checkered"; "white background", not "plain") so that each word in a caption names
#: exactly one attribute value.
BACKGROUNDS: dict[str, str] = {
    "sky": "against the sky",
    "grass": "on grass",
    "wood": "on wood",
    "checker": "on a checker floor",
    "plain": "on a white background",
}

#: The attribute names, in the order the measurer's heads and every label record use.
ATTRIBUTES: tuple[str, ...] = ("cls", "colour", "pattern", "background")

#: Possible values per attribute, in label-index order.
VALUES: dict[str, tuple[str, ...]] = {
    "cls": CLASSES,
    "colour": tuple(COLOURS),
    "pattern": PATTERNS,
    "background": tuple(BACKGROUNDS),
}


def label_index(attribute: str, value: str) -> int:
    """Index of ``value`` among the values of ``attribute`` (raises ``ValueError`` naming both when unknown)."""
    values = VALUES[attribute]
    if value not in values:
        raise ValueError(f"unknown {attribute} {value!r}; expected one of {', '.join(values)}")
    return values.index(value)
