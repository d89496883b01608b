"""The DreamBench-mini measurer on a small fast config: it learns every attribute, is cached by config hash, and is
refused when its held-out accuracy is under the trust threshold."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from atelier_diffusion.bench.dreambench.cache import entry
from atelier_diffusion.bench.dreambench.dataset import generate, stack
from atelier_diffusion.bench.dreambench.measurer import (CODE_VERSION, TRUST_THRESHOLD, Measurer, MeasurerConfig,
                                                   accuracy, load_or_train)
from atelier_diffusion.bench.dreambench.vocab import ATTRIBUTES, VALUES

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


def _manifest(tmp_path) -> list[dict]:
    """A "perfect model" for the first subject: subject prompts drawn as the subject on the requested background,
    class prompts drawn as other objects of the class. Written as PNGs like generated images."""
    from PIL import Image

    from atelier_diffusion.bench.dreambench.scenes import SceneSpec, draw_scene, scene_rng
    from atelier_diffusion.bench.dreambench.subjects import SUBJECTS, eval_prompts

    subject, rows = SUBJECTS[0], []
    for p in eval_prompts(subject):
        for seed in range(3):
            colour, pattern = (subject.colour, subject.pattern) if p.kind == "subject" else \
                (("blue", "plain"), ("green", "striped"), ("blue", "plain"))[seed]
            spec = SceneSpec(subject.cls, colour, pattern, p.background or "wood")
            path = tmp_path / f"{len(rows)}.png"
            Image.fromarray(draw_scene(spec, 32, scene_rng(9, "heldout", len(rows)))).save(path)
            rows.append({"model": "perfect", "subject": subject.name, "kind": p.kind, "prompt": p.text,
                         "background": p.background, "seed": seed, "path": str(path), "truth": spec.labels()})
    return rows


def test_scores_of_a_perfect_model_from_ground_truth_labels(tmp_path) -> None:
    from atelier_diffusion.bench.dreambench.report import score_predictions

    rows = _manifest(tmp_path)
    truth = {a: [r["truth"][a] for r in rows] for a in ATTRIBUTES}
    out = score_predictions(rows, truth)["perfect"]
    # 3 class-prompt seeds with (colour, pattern) blue-plain, green-striped, blue-plain: 1 equal pair of 3.
    assert out["mean"] == {"subject_fidelity": 1.0, "prompt_fidelity": 1.0, "class_drift": 0.0,
                           "diversity": pytest.approx(2 / 3)}


def test_scoring_refuses_an_untrusted_measurer_and_the_grid_holds_every_row(tmp_path, small: Measurer) -> None:
    from PIL import Image

    from atelier_diffusion.bench.dreambench.report import score_manifest, write_grid

    rows = _manifest(tmp_path)
    assert not small.trusted  # 1 500 scenes × 3 epochs is too little to reach 95 % on every attribute
    with pytest.raises(RuntimeError, match="not trusted"):
        score_manifest(rows, small)
    grid = Image.open(write_grid(rows, tmp_path / "grid.png", scale=1, per_cell=3))
    assert grid.size == (6 * 3 * 34, 34)
