"""Lightning callbacks that connect training to the outside: protocol lines + loggers, checkpoints, validation,
and stopping on cancel.

All of them act once per *optimizer* step (after gradient accumulation), detected by `trainer.global_step`
advancing, and only on global rank 0 where they write files.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Callable

import lightning as L
import numpy as np
import torch

from .model import build_pipeline
from .protocol import CancelledError, Emitter
from .shutdown import WATCHDOG, parent_gone, stop_on_cancel


def _grad_norm(module: torch.nn.Module) -> float:
    """L2 norm of all gradients before clipping (what tells you training is blowing up)."""
    norms = [p.grad.detach().float().norm() for p in module.parameters() if p.grad is not None]
    return float(torch.linalg.vector_norm(torch.stack(norms))) if norms else 0.0


class ProtocolCallback(L.Callback):
    """Per optimizer step: a `metric` line (loss, loss_instance, loss_class, lr, grad_norm) mirrored to the
    Lightning loggers (TensorBoard, W&B) and a `progress` line with ETA."""

    def __init__(self, emit: Emitter, max_steps: int, log_every: int):
        self.emit, self.max_steps, self.log_every = emit, max_steps, log_every
        self._grad_norm = 0.0
        self._last_step = -1
        self._t0 = 0.0
        self._step0 = 0
        #: The newest `metric` line sent, as (step, values): checkpointed so a resumed run can send it again.
        self._last_metric: tuple[int, dict[str, float]] | None = None
        self._resumed_metric: tuple[int, dict[str, float]] | None = None

    def state_dict(self) -> dict:
        return {"last_metric": self._last_metric}

    def load_state_dict(self, state_dict: dict) -> None:
        self._resumed_metric = state_dict.get("last_metric")

    def on_train_start(self, trainer, pl_module) -> None:
        self._t0, self._step0, self._last_step = time.monotonic(), trainer.global_step, trainer.global_step
        if self._resumed_metric and trainer.is_global_zero:
            # The driver that saw this checkpoint written may have died before it read the step's metric line:
            # send it again (the driver keeps one metric per step, so a repeat is dropped there).
            step, values = self._resumed_metric
            self.emit.metric(step, dict(values))
            self._last_metric = self._resumed_metric
        saved = getattr(pl_module, "resumed_world_size", None)
        if saved and saved != trainer.world_size and trainer.is_global_zero:
            # Micro-batch g of rank r is keyed on (seed, g × world + r): another world size draws other examples
            # and changes the effective batch, so the run continues correctly but not identically.
            self.emit.log(f"resumed a {saved}-process checkpoint with {trainer.world_size} process(es): the data "
                          "order and effective batch differ from an uninterrupted run", level="warning")

    def on_before_optimizer_step(self, trainer, pl_module, optimizer) -> None:
        self._grad_norm = _grad_norm(pl_module)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        step = trainer.global_step
        if step == self._last_step:
            return  # still accumulating
        self._last_step = step
        losses = pl_module.step_losses
        pl_module.step_losses = []
        values = {k: sum(d[k] for d in losses) / len(losses) for k in losses[0]} if losses else {}
        if trainer.world_size > 1:
            values = self._mean_over_ranks(trainer, values)
        values["lr"] = trainer.optimizers[0].param_groups[0]["lr"]
        values["grad_norm"] = self._grad_norm
        if trainer.is_global_zero:
            if step % self.log_every == 0 or step == self.max_steps:
                self.emit.metric(step, values)
                self._last_metric = (step, dict(values))
                for logger in trainer.loggers:
                    logger.log_metrics({f"train/{k}": v for k, v in values.items()}, step=step)
            rate = (step - self._step0) / max(time.monotonic() - self._t0, 1e-9)
            self.emit.progress("train", step, self.max_steps, steps_per_s=rate,
                               eta_s=(self.max_steps - step) / rate if rate > 0 else None)

    @staticmethod
    def _mean_over_ranks(trainer, values: dict[str, float]) -> dict[str, float]:
        """The step's losses averaged over data-parallel ranks (each saw its own micro-batches)."""
        keys = sorted(values)
        local = torch.tensor([values[k] for k in keys], dtype=torch.float64, device=trainer.strategy.root_device)
        mean = trainer.strategy.reduce(local, reduce_op="mean")
        return dict(zip(keys, mean.tolist()))


class StopCallback(L.Callback):
    """Ends training at the step where a cancel arrived (on any rank), after the other callbacks of that step —
    it comes last in the list — so CheckpointCallback's on_train_end checkpoints that very step."""

    def __init__(self, cancelled: Callable[[], bool]):
        self.cancelled = cancelled
        # The worker's SIGTERM handler turns the signal into a cancel (checkpoint, then a `cancelled` error).
        # Lightning adds its own handler at fit start that ends the process with SystemExit(0) and no answer,
        # so ours is put back once training starts (the Trainer restores the original at teardown anyway).
        self._sigterm = signal.getsignal(signal.SIGTERM)
        #: True once a cancel (on any rank) ended training before max_steps.
        self.stopped_early = False

    def on_train_start(self, trainer, pl_module) -> None:
        if callable(self._sigterm) and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self._sigterm)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        # A collective under DDP, so every rank calls it at this same point of every step.
        if trainer.strategy.reduce_boolean_decision(bool(self.cancelled()), all=False):
            trainer.should_stop = True
            self.stopped_early = True


class CheckpointCallback(L.Callback):
    """Every N optimizer steps and at the end: an atomic full-state checkpoint (`step-XXXXXXXX.ckpt`), keeping the
    last K. Written to a temp name, fsynced, then renamed, so a SIGKILL mid-write leaves the previous ones intact
    and `latest()` never returns a torn file."""

    def __init__(self, folder: Path, every: int, keep: int, emit: Emitter):
        self.folder, self.every, self.keep, self.emit = Path(folder), every, keep, emit
        self._saved_step = -1

    @staticmethod
    def latest(folder: Path) -> Path | None:
        """Newest complete checkpoint in `folder` (by step in the name), or None."""
        found = sorted(Path(folder).glob("step-*.ckpt")) if Path(folder).is_dir() else []
        return found[-1] if found else None

    def save(self, trainer) -> None:
        """Writes the checkpoint of the current optimizer step (once per step), prunes, announces it. An orphan (its
        driver died) writes nothing: the checkpoint could not be recorded, and in a fleet another node may already be
        resuming the job from this folder; the job resumes from the last checkpoint its driver saw."""
        step = trainer.global_step
        if step == self._saved_step or parent_gone():
            return
        self._saved_step = step
        path = self.folder / f"step-{step:08d}.ckpt"
        # A stop lets this write finish (it is what a cancelled run resumes from); a forced exit deletes the temp.
        with WATCHDOG.critical(), WATCHDOG.scratch(self.folder / f".step-{step:08d}.ckpt.tmp") as tmp:
            trainer.save_checkpoint(tmp)  # collective under ddp/fsdp: every rank calls it
            if not trainer.is_global_zero:
                return
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())
            os.replace(tmp, path)
        kept = sorted(self.folder.glob("step-*.ckpt"))
        for old in kept[:-self.keep]:
            old.unlink()
        self.emit.emit("checkpoint", step=step, path=str(path), kept=[str(p) for p in kept[-self.keep:]])

    def on_train_start(self, trainer, pl_module) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._saved_step = trainer.global_step  # the checkpoint we resumed from needs no copy

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        step = trainer.global_step
        if step and step % self.every == 0:
            self.save(trainer)

    def on_train_end(self, trainer, pl_module) -> None:
        self.save(trainer)


class ValidationCallback(L.Callback):
    """Every M optimizer steps (and after the last): images for the validation prompts with fixed seeds, saved as
    PNG, added to TensorBoard and announced as `sample` lines. Uses its own generators, never the global RNG.
    A cancel stops the rendering after the denoising step in progress, and a cancelled run renders nothing at its
    end (StopCallback then ends the run at this step)."""

    def __init__(self, cfg, parts, folder: Path, emit: Emitter, cancelled: Callable[[], bool] = lambda: False):
        self.cfg, self.parts, self.folder, self.emit, self.cancelled = cfg, parts, Path(folder), emit, cancelled
        self._done_step = -1

    @torch.no_grad()
    def render(self, trainer, pl_module) -> None:
        """Draws every validation prompt once for the current step (rank 0 only)."""
        step = trainer.global_step
        if step == self._done_step or not self.cfg.tracking.validation_prompts or not trainer.is_global_zero:
            return
        self._done_step = step
        was_training = pl_module.unet.training
        pl_module.unet.eval()
        self.folder.mkdir(parents=True, exist_ok=True)
        pipe = build_pipeline(self.parts)
        try:
            for i, prompt in enumerate(self.cfg.tracking.validation_prompts):
                self._render_one(trainer, pl_module, pipe, i, prompt)
        except CancelledError:
            pass  # StopCallback ends the run at this step; the images drawn so far stay
        finally:
            pl_module.unet.train(was_training)

    def _render_one(self, trainer, pl_module, pipe, i: int, prompt: str) -> None:
        """Validation image i: drawn, saved, logged and announced."""
        step = trainer.global_step
        gen = torch.Generator(device=pl_module.device).manual_seed(self.cfg.train.seed + i)
        size = self.cfg.data.resolution
        with self._autocast(pl_module.device):
            image = pipe(prompt, height=size, width=size, num_inference_steps=self.cfg.tracking.validation_steps,
                         guidance_scale=self.cfg.tracking.validation_guidance, generator=gen,
                         callback_on_step_end=stop_on_cancel(self.cancelled)).images[0]
        path = self.folder / f"step-{step:08d}-{i}.png"
        image.save(path)
        for logger in trainer.loggers:
            if hasattr(logger, "experiment") and hasattr(logger.experiment, "add_image"):
                logger.experiment.add_image(f"validation/{i}", np.asarray(image), step, dataformats="HWC")
        self.emit.emit("sample", step=step, prompt=prompt, path=str(path))

    def _autocast(self, device: torch.device):
        """Mixed precision on CUDA stores frozen weights in half (trainable.cast_frozen) while adapters stay fp32;
        only autocast makes such a UNet callable outside the training step."""
        precision = self.cfg.train.precision
        dtype = torch.float16 if precision == "16-mixed" else torch.bfloat16
        return torch.autocast(device.type, dtype=dtype, enabled=device.type == "cuda" and precision != "32")

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        every = self.cfg.tracking.validation_every_n_steps
        if every and trainer.global_step and trainer.global_step % every == 0:
            self.render(trainer, pl_module)

    def on_train_end(self, trainer, pl_module) -> None:
        if not self.cancelled():
            self.render(trainer, pl_module)
