"""Instance-photo checks (one error listing each bad file), preprocessing, and the deterministic batch stream."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from atelier_diffusion.photos import check_instance_images, open_rgb, preprocess
from atelier_diffusion.batch_stream import DreamBoothStream, StreamSpec
from atelier_diffusion.protocol import DataError
from atelier_diffusion.fixtures.subject_photos import draw_subject, write_subject


def test_good_photos_pass_in_name_order(tmp_path: Path) -> None:
    paths = write_subject(tmp_path, 3, fmt="png")
    draw_subject(3).save(tmp_path / "extra.webp")
    draw_subject(4).convert("RGB").save(tmp_path / "a.jpg", quality=95)
    ok = check_instance_images(tmp_path, min_size=16)
    assert [p.name for p in ok] == ["a.jpg", "extra.webp"] + [p.name for p in paths]


def test_every_bad_file_is_listed_once(tmp_path: Path) -> None:
    write_subject(tmp_path, 2)
    shutil.copy(tmp_path / "photo0.png", tmp_path / "zcopy.png")                        # exact duplicate
    draw_subject(1).resize((96, 96)).save(tmp_path / "zbigger.png")                   # same photo, rescaled
    (tmp_path / "broken.png").write_bytes((tmp_path / "photo1.png").read_bytes()[:60])  # truncated
    (tmp_path / "notes.txt").write_text("hello")                                       # wrong type
    draw_subject(5, size=8).save(tmp_path / "tiny.png")                               # too small
    (tmp_path / ".DS_Store").write_bytes(b"\0")                                       # ignored
    with pytest.raises(DataError) as err:
        check_instance_images(tmp_path, min_size=16)
    why = {Path(p.path).name: p.message for p in err.value.details}
    assert why["zcopy.png"].startswith("exact duplicate of photo0.png")
    assert why["zbigger.png"].startswith("near-duplicate of photo1.png")
    assert "corrupt" in why["broken.png"]
    assert "unsupported file type .txt" in why["notes.txt"]
    assert "too small: 8x8" in why["tiny.png"]
    assert "2 usable image(s)" in why[tmp_path.name]
    assert ".DS_Store" not in why and err.value.code == "invalid_images"


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    img = Image.new("RGB", (40, 20), (255, 0, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise when displayed
    img.save(tmp_path / "rot.jpg", exif=exif)
    assert open_rgb(tmp_path / "rot.jpg").size == (20, 40)


def test_preprocess_crops_and_flips() -> None:
    img = Image.fromarray(np.tile(np.arange(64, dtype=np.uint8)[None, :, None] * 4, (32, 1, 3)))
    rng = np.random.default_rng(0)
    center = preprocess(img, 16, "center", False, rng)
    assert center.shape == (3, 16, 16) and center.min() >= -1 and center.max() <= 1
    flipped = preprocess(img, 16, "center", True, rng)
    assert torch.equal(flipped, center.flip(-1))


def test_stream_is_a_function_of_seed_and_index(tmp_path: Path) -> None:
    inst = tuple(write_subject(tmp_path / "i", 3))
    cls = tuple(write_subject(tmp_path / "c", 5, size=40))
    spec = StreamSpec(inst, cls, 32, "random", 0.5, batch_size=2, seed=3)
    it = iter(DreamBoothStream(spec))
    first = [next(it) for _ in range(6)]
    resumed = next(iter(DreamBoothStream(spec, start=4)))
    assert resumed["index"] == 4 and torch.equal(resumed["pixels"], first[4]["pixels"])
    b = first[0]
    assert b["pixels"].shape == (4, 3, 32, 32) and b["num_instance"] == 2  # instance + class in one batch
    other_rank = next(iter(DreamBoothStream(spec, rank=1, world=2)))
    assert other_rank["index"] == 1 and torch.equal(other_rank["pixels"], first[1]["pixels"])
    # every instance photo appears once per epoch of 3 samples
    seen = [DreamBoothStream(spec)._pick(inst, 1, k) for k in range(3)]
    assert sorted(seen) == sorted(inst)


def test_captions_from_metadata_or_sidecars(tmp_path: Path) -> None:
    from atelier_diffusion.photos import read_captions

    paths = write_subject(tmp_path / "meta", 3)
    (tmp_path / "meta" / "metadata.jsonl").write_text(
        "\n".join(json.dumps({"file_name": p.name, "text": f"a red box {i}"}) for i, p in enumerate(paths[:2])))
    ok = check_instance_images(tmp_path / "meta", 16, captions=True)  # metadata.jsonl is not an image problem
    with pytest.raises(DataError) as err:
        read_captions(tmp_path / "meta", ok)
    assert [Path(p.path).name for p in err.value.details] == ["photo2.png"]
    side = write_subject(tmp_path / "side", 3)
    for i, p in enumerate(side):
        p.with_suffix(".txt").write_text(f"caption {i}\n")
    got = read_captions(tmp_path / "side", check_instance_images(tmp_path / "side", 16, captions=True))
    assert got == ["caption 0", "caption 1", "caption 2"]


def test_stream_carries_captions_with_keyed_dropout(tmp_path: Path) -> None:
    inst = tuple(write_subject(tmp_path, 4))
    captions = tuple(f"caption of {p.name}" for p in inst)
    spec = StreamSpec(inst, (), 32, "center", 0.0, batch_size=4, seed=1, instance_captions=captions,
                      caption_dropout=0.5)
    stream = DreamBoothStream(spec)
    prompts = [p for g in range(6) for p in stream.batch(g)["prompts"]]
    assert "" in prompts and any(p.startswith("caption of") for p in prompts)
    b = stream.batch(3)
    for k, prompt in enumerate(b["prompts"]):
        assert prompt in ("", f"caption of {stream._pick(inst, 1, 12 + k).name}")
    assert DreamBoothStream(spec, start=3).batch(3)["prompts"] == b["prompts"]
