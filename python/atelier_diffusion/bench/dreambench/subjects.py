"""The subjects DreamBooth must learn, their instance photos, and the evaluation prompts asked of every model.

A subject is a (class, colour, pattern) combination that never appears for its class in the base model's training
set (colour and pattern each do appear, on other classes): the base model cannot draw it from a description, only a
model that learned the identifier can. Its 4 instance images are drawn on 4 different backgrounds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from .dataset import caption
from .scenes import SceneSpec, draw_scene, scene_rng
from .vocab import BACKGROUNDS

#: The DreamBooth identifier, as in the paper's "a [V] dog" (a rare token).
IDENTIFIER = "sks"


@dataclass(frozen=True)
class Subject:
    """One personal object: its class, colour and pattern (values from :mod:`.vocab`)."""

    cls: str
    colour: str
    pattern: str

    @property
    def name(self) -> str:
        """File-safe name, e.g. ``red-dotted-mug``."""
        return f"{self.colour}-{self.pattern}-{self.cls}"

    @property
    def combo(self) -> tuple[str, str, str]:
        """(class, colour, pattern): the combination kept out of the base training set."""
        return (self.cls, self.colour, self.pattern)

    @property
    def instance_prompt(self) -> str:
        """"a photo of sks mug": the prompt of every instance image."""
        return f"a photo of {IDENTIFIER} {self.cls}"

    @property
    def class_prompt(self) -> str:
        """"a photo of a mug": the prior-preservation prompt, also the drift/diversity probe."""
        return f"a photo of a {self.cls}"


#: The benchmark's subjects, in order. Every one is excluded from the base model's training set.
SUBJECTS: tuple[Subject, ...] = (
    Subject("mug", "red", "dotted"),
    Subject("ball", "blue", "checkered"),
    Subject("bottle", "yellow", "striped"),
    Subject("box", "purple", "dotted"),
)

#: Instance images per subject, each on a different background.
INSTANCE_COUNT = 4


def excluded_combos() -> list[tuple[str, str, str]]:
    """Every subject's (class, colour, pattern): what the base training set must never contain."""
    return [s.combo for s in SUBJECTS]


def instance_specs(subject: Subject) -> list[SceneSpec]:
    """The subject on :data:`INSTANCE_COUNT` backgrounds, rotating the start per subject so each misses a different
    one (the missing background is then a novel context at evaluation time)."""
    backgrounds = tuple(BACKGROUNDS)
    start = SUBJECTS.index(subject) % len(backgrounds)
    picked = [backgrounds[(start + k) % len(backgrounds)] for k in range(INSTANCE_COUNT)]
    return [SceneSpec(subject.cls, subject.colour, subject.pattern, b) for b in picked]


def write_instances(subject: Subject, folder: Path, size: int, seed: int = 0) -> Path:
    """Draws the subject's instance images as PNGs into ``folder`` (created) and returns it."""
    folder.mkdir(parents=True, exist_ok=True)
    base = SUBJECTS.index(subject) * 100
    for k, spec in enumerate(instance_specs(subject)):
        image = draw_scene(spec, size, scene_rng(seed, "subject", base + k))
        Image.fromarray(image).save(folder / f"{subject.name}-{k}.png")
    return folder


@dataclass(frozen=True)
class EvalPrompt:
    """A prompt asked of every model: ``kind`` is ``subject`` (identifier, a requested background) or ``class``
    (the bare class prompt, for drift and diversity)."""

    kind: str
    text: str
    background: str | None


def eval_prompts(subject: Subject) -> list[EvalPrompt]:
    """The subject in each of the 5 backgrounds, then the bare class prompt."""
    out = [EvalPrompt("subject", caption(SceneSpec(subject.cls, subject.colour, subject.pattern, b), ["background"],
                                         identifier=IDENTIFIER), b) for b in BACKGROUNDS]
    out.append(EvalPrompt("class", subject.class_prompt, None))
    return out
