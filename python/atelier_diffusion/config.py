"""Typed training config: dataclass sections, one JSON Schema derived from them, recipes and memory presets.

A config is built in layers, later ones winning key by key:

    section defaults  <  recipe (full | lora)  <  preset (8gb | 12gb | 24gb)  <  YAML file  <  overrides (JSON / --set)

`recipe` and `preset` are top-level keys of the user's YAML/JSON. The merged dict is validated against the schema
(unknown keys and bad values → ConfigError listing each, with a "did you mean"), turned into dataclasses, then
checked for combinations that cannot work (again all at once) — before any model is loaded.
Hardware-dependent wishes degrade with a warning instead (8-bit Adam without bitsandbytes+CUDA → AdamW; fp16 mixed
precision without CUDA → fp32), so one preset file works on every machine.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

import yaml

from .config_checks import check_combinations, missing_required
from .config_schema import build_schema, from_dict, merge, schema_problems, spec
from .judge_config import JudgeConfig
from .protocol import ConfigError, Problem


@dataclass
class ModelConfig:
    """What to fine-tune."""

    base: str = spec("", doc="diffusers folder or single-file SD checkpoint (.safetensors/.ckpt)", min_length=1)
    base_config: str | None = spec(None, doc="diffusers folder whose configs describe a single-file checkpoint")
    prediction_type: str | None = spec(None, enum=["epsilon", "v_prediction", None],
                                       doc="training target; default: the base scheduler's")


@dataclass
class DataConfig:
    """Subject photos, prompts and preprocessing."""

    instance_dir: str = spec("", min_length=1, doc="folder of 3+ photos of the subject (jpg/png/webp)")
    instance_prompt: str = spec("", doc='prompt with the identifier, e.g. "a photo of sks dog" (required unless '
                                'captions is true)')
    captions: bool = spec(False, doc="one caption per image instead of instance_prompt: instance_dir/metadata.jsonl "
                          '({"file_name", "text"} per line, the imagefolder layout) or a .txt beside each image')
    caption_dropout: float = spec(0.0, minimum=0.0, maximum=1.0, doc="probability of training an instance example "
                                  "on the empty prompt (teaches the unconditional prediction CFG needs)")
    dedupe: bool = spec(True, doc="reject exact and near-duplicate instance images")
    class_prompt: str | None = spec(None, doc='prompt of the class, e.g. "a photo of dog" (prior preservation)')
    class_dir: str | None = spec(None, doc="folder of class images; missing ones are generated into the cache")
    resolution: int | None = spec(None, minimum=16, doc="training size in pixels (a multiple of 8); default: the "
                                  "base model's native size (UNet sample_size × VAE scale: SD 1.5 512, SDXL 1024)")
    crop: str = spec("center", enum=["center", "random"], doc="crop after resizing to cover the bucket")
    bucketing: bool = spec(True, doc="aspect-ratio buckets: each photo trains at the (w, h) of about resolution² "
                           "area nearest its aspect ratio, batches within one bucket; false: square crops only")
    bucket_step: int | None = spec(None, minimum=8, doc="bucket side step in px (a multiple of 8); default about "
                                   "resolution/8 rounded to the model's size granularity (64 for SD 1.5)")
    bucket_max_ratio: float = spec(2.0, minimum=1.0, doc="longest bucket side / shortest side")
    masks: bool = spec(True, doc="weight the loss by each photo's subject mask when it has one: a "
                       "<name>.mask.png beside it (white = subject) or its alpha channel")
    mask_floor: float = spec(0.1, minimum=0.0, maximum=1.0, doc="loss weight of the masked-out background "
                             "(0: ignore it; 1: masks have no effect)")
    flip_p: float = spec(0.0, minimum=0.0, maximum=1.0, doc="probability of a horizontal flip")
    min_size: int | None = spec(None, minimum=1, doc="smallest accepted image side; default resolution/2")
    duplicate_distance: int = spec(10, minimum=0, maximum=63, doc="perceptual-hash bits up to which two photos "
                                   "count as duplicates (0: exact copies only)")


@dataclass
class PriorConfig:
    """Prior preservation: class images keep the model's idea of the class while it learns the subject."""

    enabled: bool = spec(True)
    loss_weight: float = spec(1.0, minimum=0.0, doc="weight of the class loss")
    num_class_images: int = spec(200, minimum=1)
    sample_steps: int = spec(25, minimum=1, doc="sampler steps when generating class images")
    guidance_scale: float = spec(7.5, minimum=1.0, doc="classifier-free guidance for class images")
    negative_prompt: str = spec("")
    sample_batch_size: int = spec(4, minimum=1)
    cache_dir: str | None = spec(None, doc="class-image cache; default $ATELIER_CACHE/class-images")


@dataclass
class LoraConfig:
    """Adapter kind and shape (used when train.method is lora)."""

    adapter: str = spec("lora", enum=["lora", "lokr", "loha"], doc="lora; lokr (LyCORIS Kronecker) or loha "
                        "(LyCORIS Hadamard) through peft: the output is the merged model plus a kohya-style "
                        "lycoris_kohya.safetensors for A1111/ComfyUI")
    rank: int = spec(4, minimum=1)
    alpha: float = spec(4.0, exclusive_minimum=0.0)
    dropout: float = spec(0.0, minimum=0.0, maximum=1.0)
    unet_targets: list[str] = spec(["to_q", "to_k", "to_v", "to_out.0"], min_items=1)
    text_encoder_targets: list[str] = spec(["q_proj", "k_proj", "v_proj", "out_proj"], min_items=1)


@dataclass
class TrainConfig:
    """Optimisation."""

    method: str = spec("full", enum=["full", "lora"])
    train_text_encoder: bool = spec(False)
    max_steps: int = spec(800, minimum=1, doc="optimizer steps")
    batch_size: int = spec(1, minimum=1, doc="instance images per micro-batch (class images double it)")
    grad_accum: int = spec(1, minimum=1)
    lr: float = spec(5e-6, exclusive_minimum=0.0)
    text_encoder_lr: float | None = spec(None, exclusive_minimum=0.0, doc="default: lr")
    lr_scheduler: str = spec("constant", enum=["constant", "linear", "cosine", "polynomial"])
    lr_warmup_steps: int = spec(0, minimum=0)
    optimizer: str = spec("adamw", enum=["adamw", "adamw8bit"])
    adam_beta1: float = spec(0.9, minimum=0.0, maximum=1.0)
    adam_beta2: float = spec(0.999, minimum=0.0, maximum=1.0)
    adam_eps: float = spec(1e-8, exclusive_minimum=0.0)
    weight_decay: float = spec(1e-2, minimum=0.0)
    max_grad_norm: float | None = spec(1.0, exclusive_minimum=0.0, doc="clip; null: off")
    precision: str = spec("32", enum=["32", "16-mixed", "bf16-mixed"])
    gradient_checkpointing: bool = spec(False)
    attention: str = spec("sdpa", enum=["sdpa", "eager"])
    seed: int = spec(0, minimum=0)
    offset_noise: float = spec(0.0, minimum=0.0, doc="strength of per-channel offset noise (0.05–0.1 typical)")
    snr_gamma: float | None = spec(None, exclusive_minimum=0.0, doc="min-SNR weighting gamma (5 recommended)")
    num_workers: int = spec(0, minimum=0, doc="DataLoader worker processes")
    cache_latents: bool = spec(True, doc="encode every training example with the VAE once before training "
                               "(posterior mean/variance; needs data.crop center, else off with a warning)")
    ema: bool = spec(False, doc="keep an exponential moving average of the trained weights; the output model "
                     "is the average (checkpoints hold it too, so resume is exact)")
    ema_decay: float = spec(0.999, exclusive_minimum=0.0, doc="EMA decay (below 1; warms up as "
                            "min(decay, (1+step)/(10+step)), diffusers' EMAModel)")


@dataclass
class HardwareConfig:
    """Passed to Lightning's Trainer as-is."""

    accelerator: str = spec("auto", enum=["auto", "cpu", "gpu", "cuda", "mps"])
    devices: int | str = spec(1, doc='count or "auto"')
    num_nodes: int = spec(1, minimum=1)
    strategy: str = spec("auto", enum=["auto", "ddp", "ddp_spawn", "fsdp", "deepspeed"])
    cpu_threads: int | None = spec(None, minimum=1, doc="torch CPU threads; default: torch's choice, "
                                   "or the idle cores (≥ 1) when the load leaves fewer free on a CPU-only machine")


@dataclass
class CheckpointConfig:
    """Resumable checkpoints (full state: weights, optimizer, scheduler, RNG, data position)."""

    every_n_steps: int = spec(100, minimum=1)
    keep_last: int = spec(2, minimum=1)
    dir: str | None = spec(None, doc="default: <output.dir>/checkpoints")
    resume: str = spec("auto", doc='"auto" (latest in dir), "none", or a checkpoint path', min_length=1)


@dataclass
class TrackingConfig:
    """Metrics and validation images (TensorBoard always; W&B when installed and a project is set)."""

    tensorboard: bool = spec(True)
    log_every_n_steps: int = spec(1, minimum=1)
    validation_prompts: list[str] = spec([])
    validation_every_n_steps: int = spec(0, minimum=0, doc="0: only after the last step")
    validation_steps: int = spec(20, minimum=1)
    validation_guidance: float = spec(7.5, minimum=1.0)
    wandb_project: str | None = spec(None)
    wandb_entity: str | None = spec(None)


@dataclass
class OutputConfig:
    """Where the result goes."""

    dir: str = spec("", min_length=1, doc="output folder (model, checkpoints, logs)")


@dataclass
class Config:
    """A whole DreamBooth job. `warnings` collects the degradations applied by `check_combinations`."""

    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    prior: PriorConfig = field(default_factory=PriorConfig)
    lora: LoraConfig = field(default_factory=LoraConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    hardware: HardwareConfig = field(default_factory=HardwareConfig)
    checkpoint: CheckpointConfig = field(default_factory=CheckpointConfig)
    tracking: TrackingConfig = field(default_factory=TrackingConfig)
    judge: JudgeConfig = field(default_factory=JudgeConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    recipe: str | None = spec(None, enum=["full", "lora", None], doc="full: lr 5e-6, 800 steps; lora: lr 1e-4")
    preset: str | None = spec(None, enum=["8gb", "12gb", "24gb", None], doc="memory tier")
    warnings: list[str] = field(default_factory=list, metadata={"internal": True})


#: Recipes from the DreamBooth paper / diffusers examples: 200 class images, prior weight 1.
RECIPES: dict[str, dict[str, Any]] = {
    "full": {"train": {"method": "full", "lr": 5e-6, "max_steps": 800}, "prior": {"num_class_images": 200}},
    "lora": {"train": {"method": "lora", "lr": 1e-4, "max_steps": 500}, "prior": {"num_class_images": 200},
             "lora": {"rank": 4, "alpha": 4.0}},
}

#: Memory tiers: what to trade for VRAM. 8-bit Adam and fp16 degrade on machines without CUDA (see module doc).
PRESETS: dict[str, dict[str, Any]] = {
    "8gb": {"train": {"precision": "16-mixed", "gradient_checkpointing": True, "optimizer": "adamw8bit",
                      "train_text_encoder": False, "batch_size": 1}},
    "12gb": {"train": {"precision": "16-mixed", "gradient_checkpointing": True, "optimizer": "adamw8bit",
                       "train_text_encoder": False, "batch_size": 1}},
    "24gb": {"train": {"precision": "16-mixed", "gradient_checkpointing": False, "optimizer": "adamw",
                       "train_text_encoder": True, "batch_size": 1}},
}

SCHEMA: dict[str, Any] = build_schema(Config)


class _YamlLoader(yaml.SafeLoader):
    """SafeLoader that also reads `1e-4` as a float: YAML 1.1 needs a dot (`1.0e-4`), a trap for every lr."""


_YamlLoader.add_implicit_resolver("tag:yaml.org,2002:float",
                                  re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
                                  list("-+0123456789"))


def load_yaml(text: str) -> Any:
    """Parses YAML text with the float fix above."""
    return yaml.load(text, Loader=_YamlLoader)  # noqa: S506 — a SafeLoader subclass


def parse_override(item: str) -> dict[str, Any]:
    """Turns a `--set train.lr=1e-4` flag into a nested dict; the value is parsed as YAML (numbers, lists...)."""
    if "=" not in item:
        raise ConfigError("bad override", [Problem(item, "expected KEY=VALUE, e.g. train.lr=1e-4")])
    key, raw = item.split("=", 1)
    out: dict[str, Any] = {}
    node = out
    parts = key.strip().split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = load_yaml(raw)
    return out


def load_config(yaml_path: str | Path | None = None, overrides: list[dict[str, Any]] | None = None,
                cuda: bool | None = None) -> Config:
    """Builds and fully validates a Config from an optional YAML file plus override dicts (the JSON TS sends).
    `cuda` (default: torch.cuda.is_available()) decides hardware degradations. Raises ConfigError."""
    user: dict[str, Any] = {}
    if yaml_path is not None:
        try:
            loaded = load_yaml(Path(yaml_path).read_text()) or {}
        except (OSError, yaml.YAMLError) as err:
            raise ConfigError("cannot read config file", [Problem(str(yaml_path), str(err))]) from None
        if not isinstance(loaded, dict):
            raise ConfigError("config file must hold a mapping", [Problem(str(yaml_path), "not a mapping")])
        user = loaded
    for extra in overrides or []:
        user = merge(user, extra)
    return build_config(user, cuda)


def build_config(user: dict[str, Any], cuda: bool | None = None) -> Config:
    """Layers defaults < recipe < preset < `user`, validates, converts and checks combinations."""
    user = copy.deepcopy(user)
    train = user.get("train")
    if isinstance(train, dict) and isinstance(train.get("precision"), int) and not isinstance(train["precision"], bool):
        train["precision"] = str(train["precision"])  # YAML reads `precision: 32` as a number
    problems = schema_problems(SCHEMA, user)
    if problems:
        problems = sorted(problems + missing_required(user), key=lambda p: p.path)
        raise ConfigError(f"invalid training config ({len(problems)} problem(s))", problems)
    merged: dict[str, Any] = {}
    if user.get("recipe"):
        merged = merge(merged, RECIPES[user["recipe"]])
    if user.get("preset"):
        merged = merge(merged, PRESETS[user["preset"]])
    merged = merge(merged, copy.deepcopy(user))
    cfg = from_dict(Config, merged)
    check_combinations(cfg, cuda)
    return cfg


#: Sections/keys a resumed run may change without changing the steps it replays.
RESUMABLE_CHANGES = ("train.max_steps", "train.num_workers", "checkpoint", "tracking", "hardware", "output",
                     "prior.cache_dir", "prior.sample_batch_size", "data.instance_dir", "data.class_dir", "preset",
                     "recipe")


def resume_conflicts(saved: dict[str, Any], current: dict[str, Any], prefix: str = "") -> list[Problem]:
    """Keys whose value differs between a checkpoint's config and this run's, other than RESUMABLE_CHANGES:
    resuming across such a change would silently train something else than either run describes."""
    out: list[Problem] = []
    for key in sorted(set(saved) | set(current)):
        path = f"{prefix}{key}"
        if path in RESUMABLE_CHANGES:
            continue
        a, b = saved.get(key), current.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            out += resume_conflicts(a, b, path + ".")
        elif a != b:
            out.append(Problem(path, f"checkpoint has {a!r}, this run {b!r}"))
    return out


def to_dict(cfg: Any) -> Any:
    """Plain-dict view of a config (for logs, checkpoints and hashing); drops internal fields."""
    if is_dataclass(cfg):
        return {f.name: to_dict(getattr(cfg, f.name)) for f in fields(cfg) if not f.metadata.get("internal")}
    if isinstance(cfg, list):
        return [to_dict(v) for v in cfg]
    return cfg
