"""The benchmark's base model: a small SD-architecture text-to-image model trained from scratch on drawn scenes.

Steps, each cached: pre-train the VAE (:mod:`.vae`) → write a randomly initialised StableDiffusionPipeline folder
(UNet2DConditionModel, that VAE, a small CLIPTextModel and a CLIPTokenizer with merges for the benchmark's words,
DDPM schedule) → draw the captioned training set (subjects excluded) → train UNet and text encoder on it with
atelier's trainer (:mod:`.captioned`). The result is a diffusers folder that atelier fine-tunes and samples like any
SD model. Cached under ``<cache>/base-<hash of BaseConfig>``.
"""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from diffusers import StableDiffusionPipeline
from transformers import CLIPTokenizer

from ...fixtures.tiny import PROMPT_WORDS, TinySpec, build_scheduler, build_text_encoder, build_unet, build_vocab
from ...protocol import Emitter
from .cache import entry
from .captioned import train_captioned
from .dataset import generate, write_folder
from .subjects import excluded_combos
from .vae import VaeConfig, load_or_train_vae
from .vocab import BACKGROUNDS, VALUES

#: Bumped when this file changes what a config produces.
CODE_VERSION = 1


@dataclass(frozen=True)
class BaseConfig:
    """Sizes and training budget of the base model. Defaults aim at ~30 minutes on 2 CPU cores."""

    size: int = 32
    scenes: int = 4000
    unet_channels: tuple[int, int] = (32, 64)
    text_hidden: int = 64
    text_layers: int = 2
    max_length: int = 32          # tokens per prompt (captions are ≤ ~20 tokens)
    steps: int = 2500
    batch_size: int = 32
    lr: float = 5e-4
    warmup: int = 100
    uncond_p: float = 0.1         # caption dropout for classifier-free guidance
    seed: int = 0
    vae: VaeConfig = field(default_factory=VaeConfig)


def benchmark_words() -> list[str]:
    """Every word the benchmark's prompts use, given BPE merges that spell it (most become one token)."""
    words = {w for values in VALUES.values() for v in values for w in v.split()}
    words |= {w for phrase in BACKGROUNDS.values() for w in phrase.split()}
    words |= {"a", "an", "photo", "of", "sks"}
    return list(PROMPT_WORDS) + sorted(words - set(PROMPT_WORDS))


def write_tokenizer(folder: Path, max_length: int) -> int:
    """A CLIPTokenizer over :func:`benchmark_words` (fixtures.tiny's vocabulary builder); returns the vocabulary
    size."""
    vocab, merges = build_vocab(benchmark_words())
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False))
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n")
    CLIPTokenizer(vocab=str(folder / "vocab.json"), merges=str(folder / "merges.txt"),
                  model_max_length=max_length).save_pretrained(folder)
    return len(vocab)


def write_skeleton(folder: Path, config: BaseConfig, vae) -> Path:
    """Writes the untrained pipeline (random UNet and text encoder, the pre-trained VAE) and returns its folder."""
    spec = TinySpec(resolution=config.size, unet_channels=config.unet_channels, vae_channels=config.vae.channels,
                    text_hidden=config.text_hidden, text_layers=config.text_layers, max_length=config.max_length)
    vocab_size = write_tokenizer(folder / "tokenizer", config.max_length)
    torch.manual_seed(config.seed)
    unet = build_unet(spec)
    torch.manual_seed(config.seed + 1)
    text_encoder = build_text_encoder(spec, vocab_size)
    pipe = StableDiffusionPipeline(unet=unet, vae=vae, text_encoder=text_encoder,
                                   tokenizer=CLIPTokenizer.from_pretrained(folder / "tokenizer"),
                                   scheduler=build_scheduler(spec), safety_checker=None, feature_extractor=None,
                                   requires_safety_checker=False)
    pipe.save_pretrained(folder, safe_serialization=True)
    return folder


def training_job(config: BaseConfig, skeleton: Path, out: Path) -> dict[str, Any]:
    """atelier training config for the base model: full UNet + text encoder, no prior, cosine LR, CPU fp32."""
    return {
        "model": {"base": str(skeleton)},
        "data": {"instance_prompt": "captioned dataset (per-image captions)", "resolution": config.size},
        "prior": {"enabled": False},
        "train": {"method": "full", "train_text_encoder": True, "max_steps": config.steps,
                  "batch_size": config.batch_size, "lr": config.lr, "lr_scheduler": "cosine",
                  "lr_warmup_steps": config.warmup, "seed": config.seed, "max_grad_norm": 1.0,
                  "weight_decay": 0.0},
        "checkpoint": {"every_n_steps": 250, "keep_last": 1, "dir": str(out / "checkpoints")},
        "tracking": {"tensorboard": False, "log_every_n_steps": 50},
        "output": {"dir": str(out)},
    }


def base_model_dir(config: BaseConfig) -> Path:
    """Cache folder of the base model for ``config``; the model itself is ``<folder>/train/model``."""
    return entry("base", config, CODE_VERSION)


def load_or_train_base(config: BaseConfig = BaseConfig(), emit=None, log=print) -> Path:
    """Path of the trained base model's diffusers folder, training it (resumably) when not cached."""
    folder = base_model_dir(config)
    done = folder / "report.json"
    model = folder / "train" / "model"
    if done.exists():
        return model
    vae, vae_report = load_or_train_vae(config.vae, log)
    skeleton = folder / "init"
    if not (skeleton / "model_index.json").exists():
        shutil.rmtree(skeleton, ignore_errors=True)
        write_skeleton(skeleton, config, vae)
    dataset = folder / "data"
    if not (dataset / "metadata.jsonl").exists():
        write_folder(dataset, generate(config.seed, "train", config.scenes, config.size, excluded_combos()))
    result = train_captioned(training_job(config, skeleton, folder / "train"), dataset, config.uncond_p,
                             emit or Emitter(sys.stderr))
    done.write_text(json.dumps({"config": asdict(config), "vae": vae_report, "train": result}, indent=2,
                               default=str))
    return model
