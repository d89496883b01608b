"""Per-example loss weightings of the DreamBooth loss: min-SNR over timesteps, subject masks over pixels."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def snr_weights(scheduler, timesteps: torch.Tensor, gamma: float, v_pred: bool) -> torch.Tensor:
    """Min-SNR-γ loss weights (Hang et al. 2023): min(SNR, γ)/SNR for ε targets, min(SNR, γ)/(SNR+1) for v."""
    alphas = scheduler.alphas_cumprod.to(timesteps.device)[timesteps].float()
    snr = alphas / (1 - alphas)
    clipped = torch.clamp(snr, max=gamma)
    return clipped / (snr + 1) if v_pred else clipped / snr


def masked_mean(error: torch.Tensor, masks: torch.Tensor, floor: float) -> torch.Tensor:
    """Per-example mean of `error` (n, C, h, w) weighted by the pixel masks (n, 1, H, W) area-averaged to the latent
    grid and lifted to `floor` in the background; normalised by the weights' sum, so a small subject's loss keeps
    the scale of an unmasked one."""
    weights = F.adaptive_avg_pool2d(masks.to(error), error.shape[-2:])
    weights = floor + (1.0 - floor) * weights
    total = (error * weights).sum(dim=(1, 2, 3))
    return total / (weights.sum(dim=(1, 2, 3)) * error.shape[1]).clamp_min(1e-8)
