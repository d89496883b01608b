"""Captioned datasets drawn by :mod:`.scenes`: attribute sampling, captions, splits and the on-disk folder format.

A caption names the attributes it mentions with the words of :mod:`.vocab` ("a photo of a red striped mug on
grass"). Training captions leave out each of colour, pattern and background at random, so that a bare class prompt
("a photo of a mug") is in-distribution for the base model and means "any colour, any pattern, anywhere": that is
what makes class drift (PRES) and diversity (DIV) measurable after fine-tuning.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import product
from pathlib import Path
from typing import Iterable

import numpy as np
from PIL import Image

from .scenes import SceneSpec, draw_scene, scene_rng
from .vocab import BACKGROUNDS, CLASSES, COLOURS, PATTERNS

#: Probability that a training caption mentions each optional attribute.
MENTION_P = 0.75


@dataclass(frozen=True)
class Scene:
    """One drawn scene: its pixels (uint8, H×W×3), ground truth and caption."""

    image: np.ndarray
    spec: SceneSpec
    caption: str


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def caption(spec: SceneSpec, mention: Iterable[str] = ("colour", "pattern", "background"),
            identifier: str | None = None) -> str:
    """The caption of ``spec`` naming only the attributes in ``mention`` (the class is always named).

    With ``identifier`` the object is named the DreamBooth way, "a photo of sks mug", and colour and pattern are
    never mentioned (they are what the identifier must come to mean).
    """
    mention = set(mention)
    if identifier is not None:
        words = [identifier, spec.cls]
        text = "a photo of " + " ".join(words)
    else:
        words = [w for a, w in (("colour", spec.colour), ("pattern", spec.pattern)) if a in mention] + [spec.cls]
        text = f"a photo of {_article(words[0])} " + " ".join(words)
    if "background" in mention:
        text += " " + BACKGROUNDS[spec.background]
    return text


def object_combos(exclude: Iterable[tuple[str, str, str]] = ()) -> list[tuple[str, str, str]]:
    """Every (class, colour, pattern) combination not in ``exclude``, in vocabulary order."""
    banned = set(exclude)
    return [c for c in product(CLASSES, COLOURS, PATTERNS) if c not in banned]


def make_scene(seed: int, split: str, index: int, size: int,
               exclude: Iterable[tuple[str, str, str]] = (), captions_drop: bool = True) -> Scene:
    """Scene ``index`` of ``split``: attributes uniform over the allowed combinations and the backgrounds.

    ``exclude`` lists (class, colour, pattern) combinations that never appear (the subjects, for the base model's
    training set). With ``captions_drop`` each optional attribute is mentioned with probability :data:`MENTION_P`.
    """
    rng = scene_rng(seed, split, index)
    combos = object_combos(exclude)
    cls, colour, pattern = combos[int(rng.integers(len(combos)))]
    spec = SceneSpec(cls, colour, pattern, tuple(BACKGROUNDS)[int(rng.integers(len(BACKGROUNDS)))])
    keep = rng.random(3) < MENTION_P
    mention = [a for a, k in zip(("colour", "pattern", "background"), keep) if k or not captions_drop]
    return Scene(draw_scene(spec, size, rng), spec, caption(spec, mention))


def generate(seed: int, split: str, count: int, size: int,
             exclude: Iterable[tuple[str, str, str]] = (), captions_drop: bool = True) -> list[Scene]:
    """Scenes ``0 … count-1`` of ``split`` (see :func:`make_scene`)."""
    exclude = tuple(exclude)
    return [make_scene(seed, split, i, size, exclude, captions_drop) for i in range(count)]


def stack(scenes: list[Scene]) -> tuple[np.ndarray, dict[str, list[str]]]:
    """Images as one uint8 array (N, H, W, 3) and labels as lists per attribute."""
    images = np.stack([s.image for s in scenes])
    labels = {a: [s.spec.labels()[a] for s in scenes] for a in ("cls", "colour", "pattern", "background")}
    return images, labels


def write_folder(folder: Path, scenes: list[Scene]) -> Path:
    """Writes scenes as PNGs plus ``metadata.jsonl`` (``file_name``, ``text`` and the labels) and returns the folder.

    This is the Hugging Face *imagefolder* layout that diffusers' text-to-image fine-tuning reads, so the base
    model's training set is an ordinary captioned dataset to atelier's trainer.
    """
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "metadata.jsonl", "w", encoding="utf-8") as meta:
        for i, scene in enumerate(scenes):
            name = f"{i:05d}.png"
            Image.fromarray(scene.image).save(folder / name)
            meta.write(json.dumps({"file_name": name, "text": scene.caption, **scene.spec.labels()}) + "\n")
    return folder
