"""The DreamBooth LightningModule: the loss, the optimizer and what a checkpoint holds.

Randomness is keyed, not streamed: micro-batch g draws its VAE sample, noise, offset noise and timesteps from a
generator seeded by (seed, g), and the global RNG (dropout) is re-seeded from the same key before each step. A
resumed run therefore repeats an uninterrupted one exactly, whatever Lightning or a DataLoader consumed in between.
Checkpoints hold only trained tensors (plus optimizer, scheduler, loop state and RNG states).
"""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
import torch.nn.functional as F
from diffusers.models.autoencoders.vae import DiagonalGaussianDistribution
from diffusers.optimization import get_scheduler
from diffusers.training_utils import EMAModel

from .batch_stream import StreamSpec, cache_keys, make_loader
from .config import Config, resume_conflicts, to_dict
from .loss_weights import masked_mean, snr_weights
from .model import Conditioning, ModelParts, encode_prompt
from .photos import open_rgb, preprocess_with_coords
from .protocol import ConfigError


def step_seed(seed: int, index: int) -> int:
    """64-bit seed of micro-batch `index` (already unique per data-parallel rank)."""
    return int(np.random.SeedSequence([seed, index]).generate_state(1, dtype=np.uint64)[0] >> 1)


def rng_state() -> dict:
    """torch/numpy/python(/cuda) RNG states as tensors, ints and lists only, so checkpoints load with
    torch.load(weights_only=True) — Lightning's default — and never need unpickling arbitrary objects."""
    _name, keys, pos, has_gauss, gauss = np.random.get_state()
    version, internal, gauss_next = random.getstate()
    return {"torch": torch.get_rng_state(), "numpy": {"keys": torch.from_numpy(keys.astype(np.int64)), "pos": pos,
                                                      "has_gauss": has_gauss, "gauss": gauss},
            "python": {"version": version, "state": list(internal), "gauss_next": gauss_next},
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []}


def set_rng_state(rng: dict) -> None:
    """Inverse of rng_state()."""
    torch.set_rng_state(rng["torch"])
    n = rng["numpy"]
    np.random.set_state(("MT19937", n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["gauss"]))
    p = rng["python"]
    random.setstate((p["version"], tuple(p["state"]), p["gauss_next"]))
    if rng["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])


class DreamBoothModule(L.LightningModule):
    """Trains `parts.unet` (full or LoRA) and optionally the text encoder against frozen VAE."""

    def __init__(self, cfg: Config, parts: ModelParts, spec: StreamSpec):
        super().__init__()
        self.cfg, self.spec = cfg, spec
        # Registered as submodules so Lightning moves, checkpoints and (DDP-)wraps them; `parts` shares the same
        # modules and is what the prompt encoder reads.
        self.unet, self.vae, self.text_encoder = parts.unet, parts.vae, parts.text_encoder
        self.text_encoder_2 = parts.text_encoder_2  # None unless SDXL
        self.parts, self.noise_scheduler = parts, parts.noise_scheduler
        self.v_pred = parts.prediction_type == "v_prediction"
        self.strict_loading = False  # checkpoints carry only the trained tensors
        self._prompt_cache: dict[str, Any] = {}
        self.step_losses: list[dict[str, float]] = []
        #: Class images to prepare inside the run (class_images.ClassImageStep), or None when `spec` has them.
        self.class_images = None
        #: Data-parallel world size of the checkpoint resumed from (None: fresh run or an older checkpoint).
        self.resumed_world_size = None
        # Class images are drawn once per job, not once per node: the cache folder must be shared between nodes.
        self.prepare_data_per_node = False
        #: diffusers EMAModel over the trained tensors (train.ema), built at fit start on the training device.
        self.ema = None
        #: ExampleKey → VAE posterior parameters, with train.cache_latents (built at fit start).
        self.latent_cache: dict | None = None
        self._ema_state = None  # restored from a checkpoint before the EMA exists

    def train(self, mode: bool = True) -> "DreamBoothModule":
        """Lightning puts the whole module in train mode at fit start; frozen parts must stay in eval."""
        super().train(mode)
        self.vae.eval()
        if not self.cfg.train.train_text_encoder:
            self.text_encoder.eval()
        if self.text_encoder_2 is not None:
            self.text_encoder_2.eval()
        return self

    # --- data -------------------------------------------------------------------------------------------------
    def prepare_data(self) -> None:
        """Global rank 0 only (Lightning holds the other ranks at a barrier meanwhile): draws missing class images."""
        if self.class_images is not None:
            self.class_images.prepare()

    def setup(self, stage: str) -> None:
        """Every rank, after prepare_data: the class images join the batch stream."""
        if self.class_images is not None:
            self.spec = replace(self.spec, class_paths=tuple(self.class_images.paths()))

    def train_dataloader(self):
        """Starts at the micro-batch after the last finished optimizer step (0 on a fresh run)."""
        start = self.trainer.global_step * self.cfg.train.grad_accum
        return make_loader(self.spec, start, self.global_rank, self.trainer.world_size, self.cfg.train.num_workers)

    # --- forward pieces -------------------------------------------------------------------------------------------
    def encode_prompts(self, prompts: list[str]) -> Conditioning:
        """model.encode_prompt of each prompt; cached per prompt while the text encoders are frozen (DreamBooth has
        two prompts), recomputed with gradients when the text encoder trains (never for SDXL)."""
        if self.cfg.train.train_text_encoder:
            return encode_prompt(self.parts, prompts)
        missing = [p for p in dict.fromkeys(prompts) if p not in self._prompt_cache]
        if missing:
            with torch.no_grad():
                encoded = encode_prompt(self.parts, missing)
            rows = zip(*encoded) if isinstance(encoded, tuple) else encoded
            self._prompt_cache.update(zip(missing, rows))
        if self.parts.sdxl:
            return (torch.stack([self._prompt_cache[p][0] for p in prompts]),
                    torch.stack([self._prompt_cache[p][1] for p in prompts]))
        return torch.stack([self._prompt_cache[p] for p in prompts])

    @torch.no_grad()
    def cache_latents(self) -> None:
        """Encodes every example the stream can yield once (train.cache_latents): the VAE's posterior parameters
        (mean, log-variance) per ExampleKey, so each step still draws a fresh latent sample from its keyed
        generator — the same draw encoding the pixels would give — without running the VAE encoder."""
        keys = cache_keys(self.spec)
        self.latent_cache = {}
        rng = np.random.default_rng(0)  # center crop: unused
        for target in dict.fromkeys(k[1] for k in keys):
            group = [k for k in keys if k[1] == target]
            for at in range(0, len(group), 8):
                chunk = group[at:at + 8]
                pixels = torch.stack([preprocess_with_coords(open_rgb(p), t, "center", f, rng)[0] for p, t, f in chunk])
                params = self.vae.encode(pixels.to(self.device, self.vae.dtype)).latent_dist.parameters
                self.latent_cache.update(zip(chunk, params))

    def cached_latents(self, keys: list, gen: torch.Generator) -> torch.Tensor:
        """Scaled latent samples of the examples `keys` from the cache (see cache_latents)."""
        # The DataLoader's conversion turns tuples into lists: rebuild the hashable keys.
        keys = [(Path(p), (int(t[0]), int(t[1])), bool(f)) for p, t, f in keys]
        dist = DiagonalGaussianDistribution(torch.stack([self.latent_cache[k] for k in keys]))
        return dist.sample(generator=gen).float() * self.vae.config.scaling_factor

    def diffusion_loss(self, pixels: torch.Tensor | None, embeds, gen: torch.Generator,
                       time_ids: torch.Tensor | None = None, latents: torch.Tensor | None = None,
                       masks: torch.Tensor | None = None) -> torch.Tensor:
        """Per-example denoising loss (mean over C×H×W), min-SNR weighted when configured; `latents` (cached)
        replace encoding `pixels`; `masks` (n, 1, H, W) weight it (see masked_mean). SDXL: `embeds` is (hidden,
        pooled) and `time_ids` the (n, 6) size conditioning (default: uncropped, at the examples' size)."""
        if latents is None:
            with torch.no_grad():
                dist = self.vae.encode(pixels.to(self.vae.dtype)).latent_dist
                latents = dist.sample(generator=gen).float() * self.vae.config.scaling_factor
        noise = torch.randn(latents.shape, generator=gen, device=latents.device, dtype=latents.dtype)
        if self.cfg.train.offset_noise:
            # Per-channel offsets let the model learn overall brightness, which zero-mean noise never teaches.
            noise = noise + self.cfg.train.offset_noise * torch.randn(
                latents.shape[:2] + (1, 1), generator=gen, device=latents.device, dtype=latents.dtype)
        steps = self.noise_scheduler.config.num_train_timesteps
        t = torch.randint(0, steps, (latents.shape[0],), generator=gen, device=latents.device).long()
        noisy = self.noise_scheduler.add_noise(latents, noise, t)
        target = self.noise_scheduler.get_velocity(latents, noise, t) if self.v_pred else noise
        if isinstance(embeds, tuple):
            hidden, pooled = embeds
            if time_ids is None:
                h, w = (d * self.parts.vae_scale_factor for d in latents.shape[-2:])
                time_ids = torch.tensor([[h, w, 0, 0, h, w]] * latents.shape[0], dtype=torch.float32)
            cond = {"text_embeds": pooled, "time_ids": time_ids.to(device=latents.device, dtype=pooled.dtype)}
            pred = self.unet(noisy, t, hidden, added_cond_kwargs=cond).sample
        else:
            pred = self.unet(noisy, t, embeds).sample
        error = F.mse_loss(pred.float(), target.float(), reduction="none")
        per_example = error.mean(dim=(1, 2, 3)) if masks is None else masked_mean(error, masks,
                                                                                  self.cfg.data.mask_floor)
        if self.cfg.train.snr_gamma:
            per_example = per_example * snr_weights(self.noise_scheduler, t, self.cfg.train.snr_gamma, self.v_pred)
        return per_example

    def training_step(self, batch: dict, _batch_idx: int) -> torch.Tensor:
        """loss = instance loss + prior_loss_weight × class loss, on one batch holding both."""
        seed = step_seed(self.cfg.train.seed, int(batch["index"]))
        torch.manual_seed(seed)
        random.seed(seed)
        gen = torch.Generator(device=self.device).manual_seed(seed)
        n = int(batch["num_instance"])
        prompts = list(batch["prompts"]) if "prompts" in batch else [self.cfg.data.instance_prompt] * n
        size = len(batch["keys"]) if "keys" in batch else batch["pixels"].shape[0]
        prompts += [self.cfg.data.class_prompt or ""] * (size - n)
        latents = self.cached_latents(batch["keys"], gen) if "keys" in batch else None
        per_example = self.diffusion_loss(batch.get("pixels"), self.encode_prompts(prompts), gen,
                                          batch.get("time_ids"), latents, batch.get("masks"))
        inst = per_example[:n].mean()
        loss = inst
        parts = {"loss_instance": inst.item()}
        if per_example.shape[0] > n:
            cls = per_example[n:].mean()
            loss = inst + self.cfg.prior.loss_weight * cls
            parts["loss_class"] = cls.item()
        self.step_losses.append({"loss": loss.item(), **parts})
        return loss

    # --- EMA ---------------------------------------------------------------------------------------------------
    def trained_parameters(self) -> list[torch.nn.Parameter]:
        """The tensors the optimizer updates, in a fixed order (what the EMA shadows)."""
        return [p for p in self.parameters() if p.requires_grad]

    def on_fit_start(self) -> None:
        """Encodes the latent cache (train.cache_latents); creates the EMA from the current (possibly resumed)
        weights, then loads a resumed run's average."""
        if self.spec.keys_only:
            self.cache_latents()
        if not self.cfg.train.train_text_encoder:  # frozen encoders: every prompt's embedding once, up front
            prompts = list(self.spec.instance_captions or [self.cfg.data.instance_prompt])
            self.encode_prompts(prompts + [self.cfg.data.class_prompt or "", ""])
        if not self.cfg.train.ema:
            return
        self.ema = EMAModel(self.trained_parameters(), decay=self.cfg.train.ema_decay)
        if self._ema_state is not None:
            self.ema.load_state_dict(self._ema_state)
        self.ema.to(self.device)

    def on_before_zero_grad(self, _optimizer) -> None:
        """After each optimizer step (not each accumulated micro-batch): fold the new weights into the average."""
        if self.ema is not None:
            self.ema.step(self.trained_parameters())

    def use_ema_weights(self) -> None:
        """Copies the averaged weights into the model (the output is written from them)."""
        if self.ema is not None:
            self.ema.copy_to(self.trained_parameters())

    # --- optimisation ------------------------------------------------------------------------------------------
    def configure_optimizers(self):
        """AdamW (or bitsandbytes' 8-bit AdamW) on the trained tensors, stepped LR schedule with warmup."""
        t = self.cfg.train
        groups = [{"params": [p for p in self.unet.parameters() if p.requires_grad], "lr": t.lr}]
        if t.train_text_encoder:
            groups.append({"params": [p for p in self.text_encoder.parameters() if p.requires_grad],
                           "lr": t.text_encoder_lr or t.lr})
        if t.optimizer == "adamw8bit":
            import bitsandbytes as bnb  # lazy: optional, CUDA-only (config_checks falls back to AdamW without it)

            opt_cls = bnb.optim.AdamW8bit
        else:
            opt_cls = torch.optim.AdamW
        opt = opt_cls(groups, betas=(t.adam_beta1, t.adam_beta2), eps=t.adam_eps, weight_decay=t.weight_decay)
        sched = get_scheduler(t.lr_scheduler, opt, num_warmup_steps=t.lr_warmup_steps,
                              num_training_steps=t.max_steps)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}

    # --- checkpoints ---------------------------------------------------------------------------------------------
    def on_save_checkpoint(self, checkpoint: dict) -> None:
        """Keeps only trained tensors and adds RNG states, the config and the data position."""
        trained = {n for n, p in self.named_parameters() if p.requires_grad}
        checkpoint["state_dict"] = {k: v for k, v in checkpoint["state_dict"].items() if k in trained}
        checkpoint["atelier"] = {
            "config": to_dict(self.cfg), "global_step": self.trainer.global_step,
            "next_micro_batch": self.trainer.global_step * self.cfg.train.grad_accum,
            "world_size": self.trainer.world_size, "rng": rng_state(),
        }
        if self.ema is not None:  # plain tensors and numbers: loads with weights_only=True
            checkpoint["atelier"]["ema"] = self.ema.state_dict()

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        """Refuses a checkpoint made with a different recipe, then restores RNG states (belt and braces: steps
        re-seed from their key anyway)."""
        saved = checkpoint.get("atelier", {}).get("config")
        conflicts = resume_conflicts(saved, to_dict(self.cfg)) if saved else []
        if conflicts:
            raise ConfigError("the checkpoint to resume was made with different settings (set checkpoint.resume "
                              "to \"none\" or use another output.dir to start over)", conflicts)
        self.resumed_world_size = checkpoint.get("atelier", {}).get("world_size")
        self._ema_state = checkpoint.get("atelier", {}).get("ema")
        rng = checkpoint.get("atelier", {}).get("rng")
        if rng:
            set_rng_state(rng)
