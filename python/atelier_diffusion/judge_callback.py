"""The learning report's producer: at every checkpoint step (and the last), fixed-seed validation images scored by
the judge (judge.py), announced as `judge` lines and logged to TensorBoard under `judge/…`.

Subject prompts are the instance prompt in new contexts (`judge.contexts`); class prompts are the class prompt
without the identifier. The base model's class images — the drift reference — are the same class prompts and seeds
drawn before the first step (the model is still the base then), kept as PNGs so a resumed run reuses them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import lightning as L
import torch
from PIL import Image

from .judge import SCORES, ClipEmbedder, JudgeInputs, judge
from .model import build_pipeline
from .photos import list_images, open_rgb
from .protocol import CancelledError, Emitter
from .shutdown import stop_on_cancel


class JudgeCallback(L.Callback):
    """Scores the model at each checkpoint step (cfg.checkpoint.every_n_steps) and after the last (rank 0 only)."""

    def __init__(self, cfg, parts, folder: Path, emit: Emitter, cancelled: Callable[[], bool] = lambda: False):
        self.cfg, self.parts, self.folder, self.emit, self.cancelled = cfg, parts, Path(folder), emit, cancelled
        self._done_step = -1
        self.embedder: ClipEmbedder | None = None
        self.instance: list[Image.Image] = []
        self.base: list[Image.Image] = []

    def _class_prompt(self) -> str:
        # Without prior preservation there is no class prompt; drift then compares the subject prompt to the base.
        return self.cfg.data.class_prompt or self.cfg.data.instance_prompt

    def _draw(self, pl_module, prompts: list[str]) -> list[Image.Image]:
        """One image per (prompt, seed) with fixed seeds, the UNet in eval mode."""
        j, size = self.cfg.judge, self.cfg.data.resolution
        was_training = pl_module.unet.training
        pl_module.unet.eval()
        pipe = build_pipeline(self.parts)
        images = []
        try:
            for prompt in prompts:
                for seed in range(j.seeds):
                    gen = torch.Generator(device=pl_module.device).manual_seed(self.cfg.train.seed + 1000 + seed)
                    images.append(pipe(prompt, height=size, width=size, num_inference_steps=j.steps,
                                       guidance_scale=self.cfg.tracking.validation_guidance, generator=gen,
                                       callback_on_step_end=stop_on_cancel(self.cancelled)).images[0])
        finally:
            pl_module.unet.train(was_training)
        return images

    def on_train_start(self, trainer, pl_module) -> None:
        if not self.cfg.judge.model or not trainer.is_global_zero:
            return
        self.embedder = ClipEmbedder(self.cfg.judge.model)
        self.instance = [open_rgb(p) for p in list_images(Path(self.cfg.data.instance_dir))]
        self.folder.mkdir(parents=True, exist_ok=True)
        saved = sorted(self.folder.glob("base-*.png"))
        if saved:
            self.base = [Image.open(p).convert("RGB") for p in saved]
            return
        with torch.no_grad():
            self.base = self._draw(pl_module, [self._class_prompt()])
        for i, image in enumerate(self.base):
            image.save(self.folder / f"base-{i:03d}.png")

    @torch.no_grad()
    def score(self, trainer, pl_module) -> None:
        """Draws, scores and announces the current step (once per step)."""
        step = trainer.global_step
        if self.embedder is None or step == self._done_step:
            return
        self._done_step = step
        subject_prompts = [f"{self.cfg.data.instance_prompt} {c}" for c in self.cfg.judge.contexts]
        try:
            subject = self._draw(pl_module, subject_prompts)
            classes = self._draw(pl_module, [self._class_prompt()])
        except CancelledError:
            return  # StopCallback ends the run at this step
        pairs = [(p, img) for p, img in zip([p for p in subject_prompts for _ in range(self.cfg.judge.seeds)], subject)]
        scores = judge(self.embedder, JudgeInputs(self.instance, pairs, classes, self.base))
        self.emit.emit("judge", step=step, scores=scores)
        for logger in trainer.loggers:
            logger.log_metrics({f"judge/{k}": scores[k] for k in SCORES if scores[k] is not None}, step=step)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        every = self.cfg.checkpoint.every_n_steps
        if every and trainer.global_step and trainer.global_step % every == 0:
            self.score(trainer, pl_module)

    def on_train_end(self, trainer, pl_module) -> None:
        if not self.cancelled():
            self.score(trainer, pl_module)
