"""Pre-training the base model's small AutoencoderKL on drawn scenes.

DreamBooth (and atelier's trainer) keeps the VAE frozen, so a from-scratch base model needs a VAE that already maps
scenes to latents and back before its UNet can be trained. This is that step: reconstruction (L1 + MSE) plus a
small KL term, on the same scenes as the base model's training set. The latent scaling factor is then set so that
scaled latents have unit variance, as SD's 0.18215 does for its VAE.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import torch
from diffusers import AutoencoderKL
from torch.nn import functional as F

from .cache import entry
from .dataset import generate
from .measurer import to_tensor
from .subjects import excluded_combos

#: Bumped when this file changes what a config produces.
CODE_VERSION = 1


@dataclass(frozen=True)
class VaeConfig:
    """How the VAE is pre-trained. ``channels`` are its block widths: 2 blocks → 2× downsampling (16×16 latents at
    32 px), which keeps 2-pixel stripes representable in the latent grid."""

    size: int = 32
    channels: tuple[int, ...] = (32, 64)
    scenes: int = 4000
    steps: int = 1500
    batch_size: int = 32
    lr: float = 1e-3
    kl_weight: float = 1e-6
    seed: int = 0


def build_vae(config: VaeConfig):
    """A fresh diffusers AutoencoderKL with SD's 4 latent channels and ``config.channels`` block widths."""
    torch.manual_seed(config.seed)
    return AutoencoderKL(
        in_channels=3, out_channels=3, latent_channels=4, layers_per_block=1,
        block_out_channels=config.channels, norm_num_groups=8, sample_size=config.size,
        down_block_types=("DownEncoderBlock2D",) * len(config.channels),
        up_block_types=("UpDecoderBlock2D",) * len(config.channels),
    )


def train_vae(config: VaeConfig, log=print):
    """Trains a VAE from scratch on the base training scenes (subjects excluded) and returns it in eval mode."""
    vae = build_vae(config)
    scenes = generate(config.seed, "train", config.scenes, config.size, excluded_combos())
    x = to_tensor(torch.stack([torch.from_numpy(s.image) for s in scenes]).numpy())
    gen = torch.Generator().manual_seed(config.seed)
    opt = torch.optim.AdamW(vae.parameters(), lr=config.lr, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=config.lr, total_steps=config.steps)
    vae.train()
    for step in range(config.steps):
        batch = x[torch.randint(0, len(x), (config.batch_size,), generator=gen)]
        dist = vae.encode(batch).latent_dist
        recon = vae.decode(dist.sample(generator=gen)).sample
        loss = F.l1_loss(recon, batch) + F.mse_loss(recon, batch) + config.kl_weight * dist.kl().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if (step + 1) % 100 == 0 or step == 0:
            log(f"vae step {step + 1}/{config.steps}: loss {float(loss.detach()):.4f}")
    vae.eval()
    with torch.no_grad():
        latents = torch.cat([vae.encode(x[i:i + 256]).latent_dist.mean for i in range(0, min(len(x), 1024), 256)])
    vae.register_to_config(scaling_factor=float(1.0 / latents.std()))
    return vae


@torch.no_grad()
def reconstruction_error(vae, images) -> float:
    """Mean absolute error in 0–255 units of encode→decode (latent means) on uint8 images (N, H, W, 3)."""
    x = to_tensor(images)
    recon = vae.decode(vae.encode(x).latent_dist.mean).sample.clamp(-1, 1)
    return float((recon - x).abs().mean() * 127.5)


def load_or_train_vae(config: VaeConfig = VaeConfig(), log=print):
    """The pre-trained VAE for ``config`` from the cache (a diffusers folder), training it first when absent."""
    folder = entry("vae", config, CODE_VERSION)
    report = folder / "report.json"
    if report.exists():
        return AutoencoderKL.from_pretrained(folder).eval(), json.loads(report.read_text())
    vae = train_vae(config, log)
    heldout = generate(config.seed, "heldout", 256, config.size)
    error = reconstruction_error(vae, torch.stack([torch.from_numpy(s.image) for s in heldout]).numpy())
    vae.save_pretrained(folder)
    summary = {"config": asdict(config), "heldout_mae_255": error,
               "scaling_factor": vae.config.scaling_factor}
    report.write_text(json.dumps(summary, indent=2))
    log(f"vae held-out reconstruction error {error:.2f}/255")
    return vae, summary

