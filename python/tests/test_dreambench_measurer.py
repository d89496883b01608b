"""The DreamBench-mini measurer on a small fast config: it learns every attribute, is cached by config hash, and is
refused when its held-out accuracy is under the trust threshold."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from atelier_diffusion.dreambench.cache import entry
from atelier_diffusion.dreambench.dataset import generate, stack
from atelier_diffusion.dreambench.measurer import (CODE_VERSION, TRUST_THRESHOLD, Measurer, MeasurerConfig,
                                                   accuracy, load_or_train)
from atelier_diffusion.dreambench.vocab import ATTRIBUTES, VALUES

SMALL = MeasurerConfig(train_count=1500, heldout_count=300, epochs=3, width=16, seed=3)


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory):
    """A private ATELIER_CACHE so the test trains its own measurer and never touches the user's cache."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ATELIER_CACHE", str(tmp_path_factory.mktemp("dreambench-cache")))
        yield


@pytest.fixture(scope="module")
def small(cache) -> Measurer:
    return load_or_train(SMALL, log=lambda _: None)


def test_small_measurer_reads_every_attribute_far_above_chance(small: Measurer) -> None:
    for attribute in ATTRIBUTES:
        chance = 1 / len(VALUES[attribute])
        assert small.heldout_accuracy[attribute] > chance + 0.4, (attribute, small.heldout_accuracy)


def test_reported_accuracy_is_the_accuracy_on_the_heldout_split(small: Measurer) -> None:
    images, labels = stack(generate(SMALL.seed, "heldout", SMALL.heldout_count, SMALL.size, captions_drop=False))
    assert accuracy(small.predict(images), labels) == small.heldout_accuracy


def test_second_call_loads_the_cached_measurer(small: Measurer) -> None:
    again = load_or_train(SMALL, log=lambda line: pytest.fail(f"retrained: {line}"))
    assert again.folder == small.folder and again.heldout_accuracy == small.heldout_accuracy
    for a, b in zip(small.net.state_dict().values(), again.net.state_dict().values()):
        assert torch.equal(a, b)
    other = MeasurerConfig(**{**SMALL.__dict__, "seed": 4})
    assert entry("measurer", other, CODE_VERSION) != small.folder


def test_an_untrusted_measurer_refuses_to_measure(small: Measurer) -> None:
    low = dict(small.heldout_accuracy, pattern=TRUST_THRESHOLD - 0.01)
    bad = Measurer(small.net, SMALL, low, small.folder)
    assert not bad.trusted
    with pytest.raises(RuntimeError, match=r"not trusted .*pattern 0\.940"):
        bad.require_trusted()
    good = Measurer(small.net, SMALL, {a: TRUST_THRESHOLD for a in ATTRIBUTES}, small.folder)
    assert good.trusted
    good.require_trusted()


def test_predictions_are_values_of_the_vocabulary(small: Measurer) -> None:
    images = np.stack([s.image for s in generate(0, "heldout", 4, 32)])
    out = small.predict(images)
    assert set(out) == set(ATTRIBUTES)
    assert all(v in VALUES[a] for a in ATTRIBUTES for v in out[a])
