"""Text-to-image training on a captioned dataset, as a thin layer over atelier's DreamBooth trainer.

atelier's trainer (train.py) trains one instance prompt (+ one class prompt); a base model needs a caption per
image. Until the trainer has that mode, this module adds it *without a second training loop*: the job config is
atelier's own (validated by ``config.load_config``), the parts come from ``trainable.prepare_parts``, the Lightning
Trainer with atelier's callbacks (metrics, checkpoints, exact resume) from ``lightning_setup.build_trainer``, the loss,
optimizer and checkpoint contents from ``DreamBoothModule``, and the output from ``output.write_output``. Only the
data stream (image + its caption) and the prompt of each example differ.

Like atelier's stream, micro-batch ``g`` is a pure function of ``(seed, g)``, so resuming needs no sampler state.
Captions are dropped to "" with probability ``uncond_p`` so the model learns the unconditional prediction that
classifier-free guidance needs.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, IterableDataset

from ...batch_stream import StreamSpec
from ...config import Config, load_config
from ...dreambooth_module import DreamBoothModule, step_seed
from ...lightning_setup import build_trainer
from ...output import write_output
from ...train import resume_path
from ...trainable import prepare_parts


class CaptionedStream(IterableDataset):
    """Endless micro-batches {"pixels" (B,3,H,W) in [-1,1], "prompts", "num_instance", "index"} from ``start`` on.
    Images are held decoded in memory: a few thousand 32 px scenes are a few MB."""

    def __init__(self, pixels: torch.Tensor, captions: list[str], batch_size: int, seed: int, uncond_p: float,
                 start: int = 0):
        super().__init__()
        self.pixels, self.captions, self.batch_size = pixels, captions, batch_size
        self.seed, self.uncond_p, self.start = seed, uncond_p, start

    def batch(self, g: int) -> dict[str, Any]:
        """Micro-batch ``g``: examples ``g·B … g·B+B−1`` of an endless sequence of seeded shuffles."""
        n = len(self.captions)
        picks, prompts = [], []
        for k in range(g * self.batch_size, (g + 1) * self.batch_size):
            epoch, pos = divmod(k, n)
            i = int(np.random.default_rng([self.seed, 1, epoch]).permutation(n)[pos])
            drop = np.random.default_rng([self.seed, 2, k]).random() < self.uncond_p
            picks.append(i)
            prompts.append("" if drop else self.captions[i])
        return {"pixels": self.pixels[picks], "prompts": prompts, "num_instance": self.batch_size, "index": g}

    def __iter__(self):
        g = self.start
        while True:
            yield self.batch(g)
            g += 1


def read_imagefolder(folder: Path) -> tuple[torch.Tensor, list[str]]:
    """Pixels (N,3,H,W) in [-1,1] and captions of an imagefolder (``metadata.jsonl`` with file_name, text)."""
    rows = [json.loads(line) for line in (folder / "metadata.jsonl").read_text().splitlines() if line]
    images = np.stack([np.asarray(Image.open(folder / r["file_name"]).convert("RGB")) for r in rows])
    pixels = torch.from_numpy(images).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)
    return pixels, [r["text"] for r in rows]


class CaptionedModule(DreamBoothModule):
    """DreamBoothModule whose examples each carry their own prompt (no class images: plain fine-tuning)."""

    def __init__(self, cfg: Config, parts, spec: StreamSpec, pixels: torch.Tensor, captions: list[str],
                 uncond_p: float):
        super().__init__(cfg, parts, spec)
        self.pixels, self.captions, self.uncond_p = pixels, captions, uncond_p

    def train_dataloader(self):
        """Starts after the last finished optimizer step, like atelier's DreamBooth stream."""
        start = self.trainer.global_step * self.cfg.train.grad_accum
        stream = CaptionedStream(self.pixels, self.captions, self.cfg.train.batch_size, self.cfg.train.seed,
                                 self.uncond_p, start)
        return DataLoader(stream, batch_size=None, num_workers=0)

    def training_step(self, batch: dict, _batch_idx: int) -> torch.Tensor:
        """Mean denoising loss of the batch, each image conditioned on its own caption; keyed randomness as in
        DreamBoothModule so a resumed run repeats an uninterrupted one."""
        seed = step_seed(self.cfg.train.seed, int(batch["index"]))
        torch.manual_seed(seed)
        random.seed(seed)
        gen = torch.Generator(device=self.device).manual_seed(seed)
        loss = self.diffusion_loss(batch["pixels"], self.encode_prompts(batch["prompts"]), gen).mean()
        self.step_losses.append({"loss": loss.item(), "loss_instance": loss.item()})
        return loss


def train_captioned(job: dict[str, Any], dataset: Path, uncond_p: float, emit) -> dict[str, Any]:
    """Fine-tunes ``job['model']['base']`` on the captioned imagefolder ``dataset`` with atelier's trainer pieces.

    ``job`` is an ordinary atelier training config (prior preservation must be off); ``data.instance_dir`` is set
    to ``dataset`` so the config validates. Returns the result fields of ``output.write_output`` plus ``steps``.
    """
    job = {**job, "data": {**job.get("data", {}), "instance_dir": str(dataset)}}
    cfg = load_config(None, [job])
    if cfg.prior.enabled:
        raise ValueError("captioned training takes no class images: set prior.enabled to false")
    torch.manual_seed(cfg.train.seed)
    pixels, captions = read_imagefolder(dataset)
    parts = prepare_parts(cfg)
    spec = StreamSpec((), (), cfg.data.resolution, cfg.data.crop, 0.0, cfg.train.batch_size, cfg.train.seed)
    trainer, _, ckpt_dir = build_trainer(cfg, parts, spec, emit, lambda: False)
    module = CaptionedModule(cfg, parts, spec, pixels, captions, uncond_p)
    ckpt = resume_path(cfg, ckpt_dir)
    trainer.fit(module, ckpt_path=str(ckpt) if ckpt else None)
    out_dir = Path(cfg.output.dir)
    result = write_output(cfg, parts, out_dir)
    result["steps"] = trainer.global_step
    return result
