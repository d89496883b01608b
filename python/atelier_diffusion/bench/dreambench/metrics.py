"""DreamBench-mini's four metrics, computed exactly from what the measurer reads in each generated image.

Like the paper's protocol, every metric is a mean over prompts of a mean over seeds, so a prompt asked with more
seeds weighs no more than another. With ``S`` the subject (class, colour, pattern):

* **subject fidelity** (paper: DINO / CLIP-I) — over subject prompts ("a photo of sks mug on grass"), the fraction of
  images whose object is S: class, colour and pattern all match;
* **prompt fidelity** (paper: CLIP-T) — over subject prompts, the fraction whose background is the one requested;
* **class drift** (paper: PRES) — over class prompts ("a photo of a mug"), the fraction of images that show S
  although only the class was asked for;
* **diversity** (paper: DIV) — over class prompts, the probability that two images of the same prompt (different
  seeds) show different objects, i.e. differ in colour or pattern: the unbiased Gini–Simpson index of the predicted
  (colour, pattern) pairs. 0 when every seed draws the same object; 1 − 1/24 for a uniform spread over the
  6 colours × 4 patterns.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Callable, Iterable

import numpy as np

from .subjects import Subject


@dataclass(frozen=True)
class Sample:
    """One generated image as the measurer saw it: its prompt (kind, text, requested background), seed and
    predicted labels (``cls``, ``colour``, ``pattern``, ``background``)."""

    kind: str
    prompt: str
    background: str | None
    seed: int
    predicted: dict[str, str]


def _by_prompt(samples: Iterable[Sample], kind: str) -> dict[str, list[Sample]]:
    groups: dict[str, list[Sample]] = defaultdict(list)
    for s in samples:
        if s.kind == kind:
            groups[s.prompt].append(s)
    return groups


def _mean_over_prompts(samples: Iterable[Sample], kind: str, hit: Callable[[Sample], bool]) -> float:
    """Mean over prompts of ``kind`` of the per-prompt mean of ``hit`` over seeds; NaN when there is no such prompt."""
    groups = _by_prompt(samples, kind)
    if not groups:
        return float("nan")
    return float(np.mean([np.mean([hit(s) for s in group]) for group in groups.values()]))


def is_subject(predicted: dict[str, str], subject: Subject) -> bool:
    """True when the predicted object is the subject: same class, colour and pattern."""
    return (predicted["cls"], predicted["colour"], predicted["pattern"]) == subject.combo


def subject_fidelity(samples: Iterable[Sample], subject: Subject) -> float:
    """Fraction of subject-prompt images that show the subject (mean over prompts of the mean over seeds)."""
    return _mean_over_prompts(samples, "subject", lambda s: is_subject(s.predicted, subject))


def prompt_fidelity(samples: Iterable[Sample]) -> float:
    """Fraction of subject-prompt images whose background is the requested one."""
    return _mean_over_prompts(samples, "subject", lambda s: s.predicted["background"] == s.background)


def class_drift(samples: Iterable[Sample], subject: Subject) -> float:
    """PRES: fraction of class-prompt images that show the subject."""
    return _mean_over_prompts(samples, "class", lambda s: is_subject(s.predicted, subject))


def gini_simpson(items: list[tuple[str, ...]]) -> float:
    """Probability that two distinct draws from ``items`` differ (unbiased: pairs without replacement)."""
    n = len(items)
    if n < 2:
        return float("nan")
    same_pairs = sum(c * (c - 1) for c in Counter(items).values())
    return 1.0 - same_pairs / (n * (n - 1))


def diversity(samples: Iterable[Sample]) -> float:
    """DIV: mean over class prompts of the Gini–Simpson index of the predicted (colour, pattern) pairs."""
    groups = _by_prompt(samples, "class")
    if not groups:
        return float("nan")
    return float(np.mean([gini_simpson([(s.predicted["colour"], s.predicted["pattern"]) for s in g])
                          for g in groups.values()]))


#: Metric names in table order.
METRICS: tuple[str, ...] = ("subject_fidelity", "prompt_fidelity", "class_drift", "diversity")


def score(samples: list[Sample], subject: Subject) -> dict[str, float]:
    """All four metrics of one model on one subject."""
    return {
        "subject_fidelity": subject_fidelity(samples, subject),
        "prompt_fidelity": prompt_fidelity(samples),
        "class_drift": class_drift(samples, subject),
        "diversity": diversity(samples),
    }


def average(scores: list[dict[str, float]]) -> dict[str, float]:
    """Metric-wise mean over subjects (the tables report the mean over the benchmark's subjects)."""
    return {m: float(np.mean([s[m] for s in scores])) for m in METRICS}
