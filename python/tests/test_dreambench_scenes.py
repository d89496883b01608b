"""DreamBench-mini's scene generator: determinism, labels that match the pixels, captions, subjects kept out."""

from __future__ import annotations

import numpy as np
import pytest

from atelier_diffusion.bench.dreambench.dataset import caption, generate, make_scene, object_combos, write_folder
from atelier_diffusion.bench.dreambench.scenes import WHITE, SceneSpec, draw_scene, scene_rng
from atelier_diffusion.bench.dreambench.subjects import (SUBJECTS, eval_prompts, excluded_combos, instance_specs,
                                                   write_instances)
from atelier_diffusion.bench.dreambench.vocab import BACKGROUNDS, CLASSES, COLOURS, PATTERNS, VALUES


def test_same_seed_same_pixels_and_scene_alone_equals_scene_in_batch() -> None:
    batch = generate(7, "train", 12, 32)
    again = generate(7, "train", 12, 32)
    for a, b in zip(batch, again):
        assert np.array_equal(a.image, b.image) and a.spec == b.spec and a.caption == b.caption
    alone = make_scene(7, "train", 9, 32)
    assert np.array_equal(alone.image, batch[9].image) and alone.caption == batch[9].caption


def test_seeds_and_splits_draw_different_scenes() -> None:
    a = np.stack([s.image for s in generate(1, "train", 8, 32)])
    b = np.stack([s.image for s in generate(2, "train", 8, 32)])
    c = np.stack([s.image for s in generate(1, "heldout", 8, 32)])
    assert not np.array_equal(a, b) and not np.array_equal(a, c)


@pytest.mark.parametrize("size", [32, 48, 64])
def test_images_are_uint8_rgb_of_the_requested_size(size: int) -> None:
    image = make_scene(0, "train", 0, size).image
    assert image.shape == (size, size, 3) and image.dtype == np.uint8


def _object_pixels(spec: SceneSpec, size: int = 48) -> tuple[np.ndarray, np.ndarray]:
    """The scene's pixels and the same scene's background alone (same stream), to find where the object is."""
    image = draw_scene(spec, size, scene_rng(3, "heldout", 0)).astype(int)
    empty = draw_scene(SceneSpec(spec.cls, spec.colour, "plain", spec.background), size,
                       scene_rng(3, "heldout", 0)).astype(int)
    return image, empty


@pytest.mark.parametrize("colour", list(COLOURS))
def test_the_labelled_colour_is_the_object_colour(colour: str) -> None:
    image, _ = _object_pixels(SceneSpec("box", colour, "plain", "plain"))
    centre = image[20:28, 20:28].reshape(-1, 3).mean(axis=0)
    nearest = min(COLOURS, key=lambda c: np.abs(np.array(COLOURS[c]) - centre).sum())
    assert nearest == colour


def _white_fraction(pattern: str, cls: str) -> float:
    spec = SceneSpec(cls, "blue", pattern, "grass")
    image = draw_scene(spec, 48, scene_rng(5, "train", 1)).astype(int)
    blue = np.abs(image - np.array(COLOURS["blue"])).sum(axis=2) < 60
    white = np.abs(image - WHITE).sum(axis=2) < 60
    return white.sum() / max(1, (blue | white).sum())


@pytest.mark.parametrize("cls", CLASSES)
def test_the_labelled_pattern_sets_how_much_of_the_object_is_white(cls: str) -> None:
    fractions = {p: _white_fraction(p, cls) for p in PATTERNS}
    assert fractions["plain"] == 0.0
    assert 0.05 < fractions["dotted"] < 0.35
    assert 0.35 < fractions["striped"] < 0.65 and 0.35 < fractions["checkered"] < 0.65


def test_the_labelled_background_fills_the_corners() -> None:
    expected = {"sky": (96, 158, 232), "grass": (70, 138, 48), "wood": (150, 98, 54), "plain": (236, 234, 228)}
    for background, rgb in expected.items():
        image = draw_scene(SceneSpec("ball", "red", "plain", background), 32, scene_rng(0, "train", 0)).astype(int)
        assert np.abs(image[1, 1] - np.array(rgb)).max() < 50, background


def test_each_caption_word_names_one_attribute_and_it_is_the_label() -> None:
    words = {v: a for a, values in VALUES.items() for v in values if a != "background"}
    for scene in generate(11, "train", 200, 32):
        labels = scene.spec.labels()
        for word in scene.caption.split():
            if word in words:
                assert labels[words[word]] == word, scene.caption
        assert scene.spec.cls in scene.caption.split()
        phrases = [b for b, phrase in BACKGROUNDS.items() if phrase in scene.caption]
        assert phrases in ([], [scene.spec.background]), scene.caption


def test_captions_read_like_the_issue() -> None:
    spec = SceneSpec("mug", "red", "striped", "grass")
    assert caption(spec) == "a photo of a red striped mug on grass"
    assert caption(SceneSpec("ball", "orange", "plain", "sky"), ["colour"]) == "a photo of an orange ball"
    assert caption(spec, ["background"], identifier="sks") == "a photo of sks mug on grass"


def test_subject_combinations_never_appear_in_the_base_training_set() -> None:
    banned = set(excluded_combos())
    assert len(object_combos(banned)) == len(CLASSES) * len(COLOURS) * len(PATTERNS) - len(banned)
    seen = {(s.spec.cls, s.spec.colour, s.spec.pattern) for s in generate(0, "train", 1500, 32, banned)}
    assert not seen & banned
    # Each subject's colour and pattern still appear on other classes: only the combination is new.
    for subject in SUBJECTS:
        assert any(c == subject.colour and p == subject.pattern for _, c, p in seen)


def test_subject_instances_are_four_backgrounds_of_the_same_object(tmp_path) -> None:
    for subject in SUBJECTS:
        specs = instance_specs(subject)
        assert len({s.background for s in specs}) == 4
        assert all((s.cls, s.colour, s.pattern) == subject.combo for s in specs)
    folder = write_instances(SUBJECTS[0], tmp_path / "inst", 32)
    assert len(list(folder.glob("*.png"))) == 4
    prompts = eval_prompts(SUBJECTS[0])
    assert [p.background for p in prompts if p.kind == "subject"] == list(BACKGROUNDS)
    assert prompts[0].text == "a photo of sks mug against the sky" and prompts[-1].text == "a photo of a mug"


def test_written_folder_is_an_imagefolder_with_captions_and_labels(tmp_path) -> None:
    import json

    from PIL import Image

    scenes = generate(4, "train", 5, 32)
    folder = write_folder(tmp_path / "ds", scenes)
    rows = [json.loads(line) for line in (folder / "metadata.jsonl").read_text().splitlines()]
    assert [r["text"] for r in rows] == [s.caption for s in scenes]
    for row, scene in zip(rows, scenes):
        assert np.array_equal(np.asarray(Image.open(folder / row["file_name"])), scene.image)
        assert {k: row[k] for k in ("cls", "colour", "pattern", "background")} == scene.spec.labels()
