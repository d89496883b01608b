"""DreamBench-mini metrics on hand-made predictions whose correct values are known exactly."""

from __future__ import annotations

import math

import pytest

from atelier_diffusion.bench.dreambench.metrics import (Sample, average, class_drift, diversity, gini_simpson,
                                                  prompt_fidelity, score, subject_fidelity)
from atelier_diffusion.bench.dreambench.subjects import Subject

MUG = Subject("mug", "red", "dotted")


def _s(kind: str, prompt: str, seed: int, cls: str, colour: str, pattern: str, bg: str,
       want_bg: str | None = None) -> Sample:
    return Sample(kind, prompt, want_bg, seed, {"cls": cls, "colour": colour, "pattern": pattern, "background": bg})


def test_subject_fidelity_is_a_mean_over_prompts_of_means_over_seeds() -> None:
    samples = [
        # prompt A: 3 of 4 seeds show the subject
        *[_s("subject", "A", i, "mug", "red", "dotted", "sky", "sky") for i in range(3)],
        _s("subject", "A", 3, "mug", "red", "striped", "sky", "sky"),
        # prompt B: 1 of 2 (wrong class in the other)
        _s("subject", "B", 0, "mug", "red", "dotted", "wood", "grass"),
        _s("subject", "B", 1, "box", "red", "dotted", "grass", "grass"),
        # class prompts never count towards subject fidelity
        _s("class", "C", 0, "ball", "blue", "plain", "sky"),
    ]
    assert subject_fidelity(samples, MUG) == pytest.approx((3 / 4 + 1 / 2) / 2)
    assert prompt_fidelity(samples) == pytest.approx((4 / 4 + 1 / 2) / 2)


def test_class_drift_counts_class_prompt_images_that_show_the_subject() -> None:
    samples = [_s("class", "a photo of a mug", i, "mug", "red", "dotted", "sky") for i in range(2)]
    samples += [_s("class", "a photo of a mug", 2 + i, "mug", c, "plain", "sky") for i, c in enumerate("ab")]
    samples += [_s("subject", "S", 0, "mug", "red", "dotted", "sky", "sky")]
    assert class_drift(samples, MUG) == pytest.approx(0.5)


def test_gini_simpson_is_the_chance_two_distinct_draws_differ() -> None:
    assert gini_simpson([("a",)] * 5) == 0.0
    assert gini_simpson([("a",), ("b",), ("c",)]) == 1.0
    # pairs: 6; equal pairs: (a,a) and (b,b) → 1 − 2/6
    assert gini_simpson([("a",), ("a",), ("b",), ("b",)]) == pytest.approx(2 / 3)
    assert math.isnan(gini_simpson([("a",)]))


def test_diversity_looks_at_colour_and_pattern_per_class_prompt() -> None:
    collapsed = [_s("class", "P", i, "mug", "red", "dotted", bg) for i, bg in enumerate(["sky", "wood", "grass"])]
    assert diversity(collapsed) == 0.0  # backgrounds differ but the object never does
    varied = [_s("class", "Q", i, "mug", c, p, "sky") for i, (c, p) in
              enumerate([("red", "plain"), ("blue", "plain"), ("red", "striped")])]
    assert diversity(varied) == 1.0
    assert diversity(collapsed + varied) == pytest.approx(0.5)


def test_score_and_average_report_every_metric() -> None:
    samples = [_s("subject", "S", 0, "mug", "red", "dotted", "sky", "sky"),
               _s("class", "C", 0, "mug", "red", "dotted", "sky"), _s("class", "C", 1, "mug", "blue", "plain", "sky")]
    one = score(samples, MUG)
    assert one == {"subject_fidelity": 1.0, "prompt_fidelity": 1.0, "class_drift": 0.5, "diversity": 1.0}
    zero = {k: 0.0 for k in one}
    assert average([one, zero]) == {k: v / 2 for k, v in one.items()}


def test_metrics_without_their_prompts_are_nan_not_zero() -> None:
    only_class = [_s("class", "C", 0, "mug", "red", "dotted", "sky")]
    assert math.isnan(subject_fidelity(only_class, MUG)) and math.isnan(prompt_fidelity(only_class))
    assert math.isnan(class_drift([], MUG)) and math.isnan(diversity([]))
