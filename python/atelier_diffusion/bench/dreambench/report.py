"""Scoring generated images: read a manifest, measure every image, compute the metrics per model and subject, and
draw a grid of samples. This is the only place where generated pixels meet the measurer."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from .measurer import Measurer
from .metrics import Sample, average, score
from .subjects import SUBJECTS, Subject

SUBJECT_BY_NAME: dict[str, Subject] = {s.name: s for s in SUBJECTS}


def read_manifest(path: Path) -> list[dict[str, Any]]:
    """Manifest rows: {"model", "subject", "kind", "prompt", "background", "seed", "path"} (JSON array or lines)."""
    text = path.read_text()
    rows = json.loads(text) if text.lstrip().startswith("[") else [json.loads(x) for x in text.splitlines() if x]
    for i, row in enumerate(rows):
        missing = {"model", "subject", "kind", "prompt", "seed", "path"} - set(row)
        if missing:
            raise ValueError(f"manifest row {i} lacks {', '.join(sorted(missing))}")
        if row["subject"] not in SUBJECT_BY_NAME:
            raise ValueError(f"manifest row {i}: unknown subject {row['subject']!r}")
    return rows


def load_images(rows: list[dict[str, Any]], size: int) -> np.ndarray:
    """The rows' images as uint8 (N, size, size, 3); a generated image of another size is an error, not resized."""
    images = []
    for row in rows:
        image = np.asarray(Image.open(row["path"]).convert("RGB"))
        if image.shape != (size, size, 3):
            raise ValueError(f"{row['path']}: {image.shape[1]}×{image.shape[0]} px, expected {size}×{size}")
        images.append(image)
    return np.stack(images)


def score_predictions(rows: list[dict[str, Any]], predicted: dict[str, list[str]]) -> dict[str, Any]:
    """Metrics for every (model, subject) of the manifest and their mean over subjects per model, given the labels
    read from row i's image at index i of each attribute's list."""
    groups: dict[tuple[str, str], list[Sample]] = defaultdict(list)
    for i, row in enumerate(rows):
        labels = {a: predicted[a][i] for a in predicted}
        groups[(row["model"], row["subject"])].append(
            Sample(row["kind"], row["prompt"], row.get("background"), int(row["seed"]), labels))
    per_model: dict[str, dict[str, Any]] = defaultdict(dict)
    for (model, subject), samples in groups.items():
        per_model[model][subject] = score(samples, SUBJECT_BY_NAME[subject])
    return {m: {"subjects": subj, "mean": average(list(subj.values()))} for m, subj in per_model.items()}


def score_manifest(rows: list[dict[str, Any]], measurer: Measurer) -> dict[str, Any]:
    """Measures every image and scores it (:func:`score_predictions`). Refuses an untrusted measurer before
    reading a single image."""
    measurer.require_trusted()
    predicted = measurer.predict(load_images(rows, measurer.config.size))
    return {"measurer": {"folder": str(measurer.folder), "heldout_accuracy": measurer.heldout_accuracy},
            "images": len(rows), "results": score_predictions(rows, predicted)}


def write_grid(rows: list[dict[str, Any]], out: Path, scale: int = 3, per_cell: int = 2) -> Path:
    """A PNG grid: one row per (model, subject), one column block per prompt with its first ``per_cell`` seeds,
    upscaled ``scale``× with nearest neighbour so pixels stay visible."""
    cells: dict[tuple[str, str], dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    prompts: dict[tuple[str, str], list[str]] = defaultdict(list)
    for row in rows:
        key = (row["model"], row["subject"])
        if row["prompt"] not in prompts[key]:
            prompts[key].append(row["prompt"])
        cells[key][row["prompt"]].append(row["path"])
    keys = sorted(cells, key=lambda k: (k[1], k[0]))
    width = max(len(p) for p in prompts.values()) * per_cell
    first = np.asarray(Image.open(rows[0]["path"]).convert("RGB"))
    size = first.shape[0]
    canvas = np.full((len(keys) * (size + 2), width * (size + 2), 3), 255, dtype=np.uint8)
    for r, key in enumerate(keys):
        for p, prompt in enumerate(prompts[key]):
            for s, path in enumerate(cells[key][prompt][:per_cell]):
                y, x = r * (size + 2), (p * per_cell + s) * (size + 2)
                canvas[y:y + size, x:x + size] = np.asarray(Image.open(path).convert("RGB"))
    Image.fromarray(canvas).resize((canvas.shape[1] * scale, canvas.shape[0] * scale),
                                   Image.Resampling.NEAREST).save(out)
    (out.with_suffix(".json")).write_text(json.dumps({"rows": [f"{m} / {s}" for m, s in keys]}, indent=1))
    return out

