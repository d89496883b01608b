"""Builds the Lightning Trainer for a job: precision, accumulation, clipping, devices/strategy, loggers, callbacks."""

from __future__ import annotations

import importlib.util
import os
import warnings
from pathlib import Path
from typing import Callable

import lightning as L
from lightning.pytorch.loggers import TensorBoardLogger, WandbLogger

from .callbacks import CheckpointCallback, ProtocolCallback, StopCallback, ValidationCallback
from .judge_callback import JudgeCallback
from .config import Config
from .batch_stream import StreamSpec
from .model import ModelParts
from .protocol import Emitter
from .dreambooth_module import DreamBoothModule


# Frozen VAE/text encoder stay in eval mode on purpose; Lightning's hint about eval-mode modules is noise here.
warnings.filterwarnings("ignore", message=r"Found \d+ module\(s\) in eval mode")


def launch_rank(cfg: Config) -> int:
    """This process's global rank as its launcher set it, known before any Trainer exists: torchrun/SLURM's
    RANK/SLURM_PROCID, else Lightning's own re-executed ranks (NODE_RANK × devices per node + LOCAL_RANK);
    0 for the process a user started. Ranks other than 0 write nothing: no protocol lines, no output files."""
    env = os.environ
    if "RANK" in env:
        return int(env["RANK"])
    if int(env.get("SLURM_NTASKS", "1")) > 1 and "SLURM_PROCID" in env:
        return int(env["SLURM_PROCID"])
    per_node = cfg.hardware.devices if isinstance(cfg.hardware.devices, int) else 1
    return int(env.get("NODE_RANK", env.get("GROUP_RANK", "0"))) * per_node + int(env.get("LOCAL_RANK", "0"))


def build_loggers(cfg: Config, out_dir: Path, emit: Emitter) -> list:
    """TensorBoard under <output>/tensorboard (one fixed version, so a resumed run appends to the same run);
    Weights & Biases when a project is configured and wandb is installed (else a warning, never a failure)."""
    loggers: list = []
    if cfg.tracking.tensorboard:
        loggers.append(TensorBoardLogger(save_dir=str(out_dir), name="tensorboard", version="run",
                                         default_hp_metric=False))
    if cfg.tracking.wandb_project:
        if importlib.util.find_spec("wandb") is None:
            emit.log("tracking.wandb_project is set but wandb is not installed; logging to TensorBoard only",
                     level="warning")
        else:
            loggers.append(WandbLogger(project=cfg.tracking.wandb_project, entity=cfg.tracking.wandb_entity,
                                       save_dir=str(out_dir)))
    return loggers


def build_trainer(cfg: Config, parts: ModelParts, spec: StreamSpec, emit: Emitter,
                  cancelled: Callable[[], bool], class_images=None) -> tuple[L.Trainer, DreamBoothModule, Path]:
    """Returns (trainer, module, checkpoint folder). Lightning's own checkpointing, progress bar and
    validation loop are off: CheckpointCallback and ValidationCallback do those jobs with exact-resume semantics.
    `class_images` (a class_images.ClassImageStep) is prepared inside fit, on global rank 0 only."""
    out_dir = Path(cfg.output.dir)
    ckpt_dir = Path(cfg.checkpoint.dir) if cfg.checkpoint.dir else out_dir / "checkpoints"
    module = DreamBoothModule(cfg, parts, spec)
    module.class_images = class_images
    callbacks = [
        ProtocolCallback(emit, cfg.train.max_steps, cfg.tracking.log_every_n_steps),
        CheckpointCallback(ckpt_dir, cfg.checkpoint.every_n_steps, cfg.checkpoint.keep_last, emit),
        ValidationCallback(cfg, parts, out_dir / "samples", emit, cancelled),
        JudgeCallback(cfg, parts, out_dir / "judge", emit, cancelled),
        StopCallback(cancelled),  # last: the step's metrics, checkpoint and samples come before the stop
    ]
    hw, t = cfg.hardware, cfg.train
    trainer = L.Trainer(
        accelerator=hw.accelerator, devices=hw.devices, num_nodes=hw.num_nodes, strategy=hw.strategy,
        precision=t.precision, max_steps=t.max_steps, accumulate_grad_batches=t.grad_accum,
        gradient_clip_val=t.max_grad_norm, gradient_clip_algorithm="norm",
        logger=build_loggers(cfg, out_dir, emit) or False, callbacks=callbacks, default_root_dir=str(out_dir),
        enable_progress_bar=False, enable_model_summary=False, enable_checkpointing=False,
        num_sanity_val_steps=0, limit_val_batches=0, use_distributed_sampler=False,
    )
    return trainer, module, ckpt_dir
