"""The `judge` config section: what the learning report (judge_callback.py) draws and scores at each checkpoint."""

from __future__ import annotations

from dataclasses import dataclass

from .config_schema import spec


@dataclass
class JudgeConfig:
    """Judging each checkpoint: a CLIP model folder scores fixed-seed images of the subject in new contexts and of
    the class prompt (judge.py). Off without `model`."""

    model: str | None = spec(None, doc="CLIP model folder (transformers layout) that scores checkpoints; None: off")
    contexts: list[str] = spec(["on the beach", "in the snow"], min_items=1,
                               doc="appended to the instance prompt for the subject prompts")
    seeds: int = spec(2, minimum=1, doc="images per prompt (fixed seeds)")
    steps: int = spec(10, minimum=1, doc="denoising steps per image")
    output: str = spec("recommended", enum=["recommended", "last"],
                       doc="the job's model: the checkpoint the learning report recommends, or the last step")
