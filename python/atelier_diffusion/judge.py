"""The DreamBooth judge: four scores of a checkpoint's validation images, as in the DreamBooth paper's evaluation.

* **subject** (paper: DINO / CLIP-I) — mean cosine similarity between each image drawn for a subject prompt
  ("a photo of sks dog on the beach") and each instance photo;
* **prompt** (paper: CLIP-T) — mean image–text cosine similarity of those images with their prompts;
* **drift** (paper: PRES, relative to the base) — how much more the images of class prompts ("a photo of a dog")
  look like the subject than the base model's class images do: mean similarity to the instance photos, minus the
  same for the base's class images; 0 for the base itself, positive once the subject leaks into its class;
* **diversity** (paper: DIV) — 1 − mean pairwise cosine similarity among the class-prompt images.

An `Embedder` maps images and texts into one space (L2-normalised rows). `ClipEmbedder` reads any CLIP model
folder in transformers' layout (openai/clip-vit-*, or `write_tiny_clip`'s random-weight one in tests); a
DINO-style image-only model can serve too — `prompt` is then None. On DreamBench-mini, whose subjects are
procedural, `bench.dreambench.metrics.score` is the exact judge of the same four quantities (`from_dreambench`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import torch
from PIL import Image

#: The score names, in report order.
SCORES: tuple[str, ...] = ("subject", "prompt", "drift", "diversity")


class Embedder(Protocol):
    """Images (and, optionally, texts) to L2-normalised feature rows of one space."""

    def images(self, images: list[Image.Image]) -> torch.Tensor: ...

    def texts(self, texts: list[str]) -> torch.Tensor | None: ...


@dataclass(frozen=True)
class JudgeInputs:
    """What one checkpoint is judged on: the instance photos, the images of subject prompts with their prompts,
    the images of class prompts, and the base model's class images (the prior's)."""

    instance: list[Image.Image]
    subject: list[tuple[str, Image.Image]]
    class_images: list[Image.Image]
    base_class_images: list[Image.Image]


def _mean_similarity(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a @ b.T).mean()) if len(a) and len(b) else 0.0


def _diversity(rows: torch.Tensor) -> float:
    """1 − mean cosine similarity over distinct pairs (0 when fewer than two images)."""
    n = len(rows)
    if n < 2:
        return 0.0
    sims = rows @ rows.T
    return float(1 - (sims.sum() - sims.diagonal().sum()) / (n * (n - 1)))


def judge(embedder: Embedder, inputs: JudgeInputs) -> dict[str, float | None]:
    """The four scores (see the module docstring) of one checkpoint."""
    instance = embedder.images(inputs.instance)
    subject = embedder.images([image for _, image in inputs.subject])
    now = embedder.images(inputs.class_images)
    base = embedder.images(inputs.base_class_images)
    texts = embedder.texts([prompt for prompt, _ in inputs.subject]) if inputs.subject else None
    prompt = float((subject * texts).sum(dim=1).mean()) if texts is not None else None
    return {
        "subject": _mean_similarity(subject, instance),
        "prompt": prompt,
        "drift": _mean_similarity(now, instance) - _mean_similarity(base, instance),
        "diversity": _diversity(now),
    }


def from_dreambench(metrics: dict[str, float]) -> dict[str, float]:
    """DreamBench-mini's exact metrics (bench.dreambench.metrics.score) under the judge's score names."""
    return {"subject": metrics["subject_fidelity"], "prompt": metrics["prompt_fidelity"],
            "drift": metrics["class_drift"], "diversity": metrics["diversity"]}


class ClipEmbedder:
    """A transformers CLIP model folder as an Embedder (image and text towers, projected and normalised)."""

    def __init__(self, folder: str | Path, device: torch.device | str = "cpu"):
        from transformers import CLIPImageProcessor, CLIPModel, CLIPTokenizer  # lazy: only jobs that judge

        self.device = torch.device(device)
        self.model = CLIPModel.from_pretrained(str(folder)).to(self.device).eval()
        self.processor = CLIPImageProcessor.from_pretrained(str(folder))
        self.tokenizer = CLIPTokenizer.from_pretrained(str(folder))

    @torch.no_grad()
    def images(self, images: list[Image.Image]) -> torch.Tensor:
        """Normalised image features, (n, d)."""
        if not images:
            return torch.zeros(0, self.model.config.projection_dim)
        pixels = self.processor(images=[i.convert("RGB") for i in images], return_tensors="pt").pixel_values
        features = self.model.visual_projection(self.model.vision_model(pixel_values=pixels.to(self.device))[1])
        return torch.nn.functional.normalize(features.float().cpu(), dim=-1)

    @torch.no_grad()
    def texts(self, texts: list[str]) -> torch.Tensor:
        """Normalised text features, (n, d)."""
        ids = self.tokenizer(texts, padding="max_length", truncation=True, return_tensors="pt").input_ids
        features = self.model.text_projection(self.model.text_model(input_ids=ids.to(self.device))[1])
        return torch.nn.functional.normalize(features.float().cpu(), dim=-1)
