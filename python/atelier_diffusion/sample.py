"""Text-to-image sampling for Stable Diffusion (1.x/2.x and SDXL) with per-image seeds and batched classifier-free
guidance.

The loop is written out here rather than calling `StableDiffusionPipeline.__call__` because atelier needs three
things the pipeline does not give together:

* image i of a request with seed s uses seed s+i and its *own* generator (for the initial latents and for every
  ancestral noise draw), so any image can be reproduced alone with `seed=s+i, n=1`;
* conditional and unconditional predictions for all n images come from ONE UNet forward of batch 2n;
* a progress callback after every step that may cancel the request between steps.

Each image also gets its own scheduler instance: multistep solvers (DPM++ 2M) keep a history of model outputs and
ancestral ones draw noise, and neither may be shared between images that must be reproducible one by one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import diffusers
import torch

from .model import ModelParts, encode_prompt
from .protocol import Problem, RequestError


@dataclass(frozen=True)
class SamplerSpec:
    """A sampler atelier offers: its wire name, the label A1111 writes in `Sampler:`, the diffusers scheduler class
    name and the config overrides that turn that class into this sampler."""

    name: str
    a1111_label: str
    scheduler: str
    overrides: dict[str, Any]


#: Samplers by wire name. DDIM gets clip_sample off because latents are not images in [-1, 1].
SAMPLERS: dict[str, SamplerSpec] = {
    s.name: s
    for s in (
        SamplerSpec("ddim", "DDIM", "DDIMScheduler", {"clip_sample": False, "set_alpha_to_one": False}),
        SamplerSpec("euler", "Euler", "EulerDiscreteScheduler", {}),
        SamplerSpec("euler_a", "Euler a", "EulerAncestralDiscreteScheduler", {}),
        SamplerSpec("dpmpp_2m_karras", "DPM++ 2M Karras", "DPMSolverMultistepScheduler",
                    {"algorithm_type": "dpmsolver++", "solver_order": 2, "use_karras_sigmas": True}),
    )
}

#: Request limits; sizes are in pixels and must be multiples of 8 (the VAE's downsampling factor).
MIN_SIZE, MAX_SIZE = 8, 2048
MAX_STEPS, MAX_IMAGES = 150, 10
#: Seeds are unsigned 32-bit like A1111's, so a seed copied from a PNG's `parameters` works both ways.
MAX_SEED = 2**32 - 1


@dataclass(frozen=True)
class SampleParams:
    """One generation request. `seed` is the seed of image 0; image i uses `seed + i` (wrapping at 2**32)."""

    prompt: str
    negative_prompt: str = ""
    width: int = 512
    height: int = 512
    steps: int = 30
    guidance_scale: float = 7.5
    sampler: str = "euler_a"
    seed: int = 0
    n: int = 1

    def problems(self) -> list[Problem]:
        """Every invalid field, so a caller fixes a request in one go; empty when the request is valid."""
        out: list[Problem] = []
        for field_name in ("width", "height"):
            v = getattr(self, field_name)
            if not isinstance(v, int) or v % 8 or not MIN_SIZE <= v <= MAX_SIZE:
                out.append(Problem(field_name, f"must be a multiple of 8 between {MIN_SIZE} and {MAX_SIZE}"))
        if not isinstance(self.steps, int) or not 1 <= self.steps <= MAX_STEPS:
            out.append(Problem("steps", f"must be an integer between 1 and {MAX_STEPS}"))
        if not isinstance(self.n, int) or not 1 <= self.n <= MAX_IMAGES:
            out.append(Problem("n", f"must be an integer between 1 and {MAX_IMAGES}"))
        if not isinstance(self.guidance_scale, (int, float)) or not 0 <= self.guidance_scale <= 50:
            out.append(Problem("guidance_scale", "must be a number between 0 and 50"))
        if self.sampler not in SAMPLERS:
            out.append(Problem("sampler", f"must be one of {', '.join(sorted(SAMPLERS))}"))
        if not isinstance(self.seed, int) or not 0 <= self.seed <= MAX_SEED:
            out.append(Problem("seed", f"must be an integer between 0 and {MAX_SEED}"))
        return out

    def image_seed(self, i: int) -> int:
        """Seed of image i of this request."""
        return (self.seed + i) % (MAX_SEED + 1)


def make_scheduler(sampler: str, scheduler_config: dict[str, Any]):
    """A fresh scheduler for `sampler` sharing the model's noise schedule (betas, prediction type)."""
    spec = SAMPLERS[sampler]
    return getattr(diffusers, spec.scheduler).from_config({**scheduler_config, **spec.overrides})


def sdxl_conditions(parts: ModelParts, params: SampleParams, dtype: torch.dtype) -> tuple[Any, Any]:
    """(cond, uncond) for SDXL: each (hidden states, added_cond_kwargs with pooled text_embeds and time_ids =
    (height, width, 0, 0, height, width): an uncropped image generated at its native size); uncond None without
    guidance."""
    device = parts.unet.device
    time_ids = torch.tensor([[params.height, params.width, 0, 0, params.height, params.width]] * params.n,
                            dtype=dtype, device=device)

    def pack(hidden: torch.Tensor, pooled: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        return hidden.to(dtype), {"text_embeds": pooled.to(dtype), "time_ids": time_ids}

    cond = pack(*encode_prompt(parts, [params.prompt] * params.n))
    if params.guidance_scale == 1.0:
        return cond, None
    if parts.zeros_for_empty_prompt and not params.negative_prompt:
        return cond, (torch.zeros_like(cond[0]), {**cond[1], "text_embeds": torch.zeros_like(cond[1]["text_embeds"])})
    return cond, pack(*encode_prompt(parts, [params.negative_prompt] * params.n))


def conditions(parts: ModelParts, params: SampleParams, dtype: torch.dtype) -> tuple[Any, Any]:
    """(cond, uncond) the UNet is called with, from model.encode_prompt — the encoder training uses too; uncond
    is None without guidance. SDXL: see sdxl_conditions."""
    if parts.sdxl:
        return sdxl_conditions(parts, params, dtype)
    cond = encode_prompt(parts, [params.prompt] * params.n).to(dtype)
    if params.guidance_scale == 1.0:
        return cond, None
    return cond, encode_prompt(parts, [params.negative_prompt] * params.n).to(dtype)


def guided_noise(unet, x: torch.Tensor, t, cond, uncond, scale: float) -> torch.Tensor:
    """The guided model output for latents `x` (batch n) at timestep `t`.

    With guidance (scale != 1) the unconditional and conditional passes run as ONE forward of batch 2n —
    [uncond_0..uncond_n-1, cond_0..cond_n-1] — and combine as uncond + scale·(cond − uncond). At scale 1 that
    formula is exactly the conditional prediction, so only the conditional half is run. For SDXL `cond` and
    `uncond` are (hidden states, added_cond_kwargs) pairs (sdxl_conditions).
    """
    if isinstance(cond, tuple):
        if uncond is None or scale == 1.0:
            return unet(x, t, encoder_hidden_states=cond[0], added_cond_kwargs=cond[1]).sample
        added = {k: torch.cat([uncond[1][k], cond[1][k]]) for k in cond[1]}
        both = unet(torch.cat([x, x]), t, encoder_hidden_states=torch.cat([uncond[0], cond[0]]),
                    added_cond_kwargs=added).sample
        e_uncond, e_cond = both.chunk(2)
        return e_uncond + scale * (e_cond - e_uncond)
    if uncond is None or scale == 1.0:
        return unet(x, t, encoder_hidden_states=cond).sample
    both = unet(torch.cat([x, x]), t, encoder_hidden_states=torch.cat([uncond, cond])).sample
    e_uncond, e_cond = both.chunk(2)
    return e_uncond + scale * (e_cond - e_uncond)


def initial_latents(parts: ModelParts, params: SampleParams, generators: list[torch.Generator]) -> torch.Tensor:
    """Gaussian latents, one draw per image from that image's own generator (on CPU, so seeds give the same
    images on any device)."""
    channels = parts.unet.config.in_channels
    factor = parts.vae_scale_factor
    shape = (1, channels, params.height // factor, params.width // factor)
    return torch.cat([torch.randn(shape, generator=g, dtype=torch.float32) for g in generators])


@torch.no_grad()
def decode(parts: ModelParts, latents: torch.Tensor) -> torch.Tensor:
    """VAE-decodes latents to uint8 images, shape (n, height, width, 3)."""
    scaling = parts.vae.config.scaling_factor
    images = parts.vae.decode(latents.to(parts.vae.dtype) / scaling).sample.float()
    images = ((images / 2 + 0.5).clamp(0, 1) * 255).round().to(torch.uint8)
    return images.permute(0, 2, 3, 1).cpu()


#: Called after each denoising step with (steps done, total steps); whatever it raises (the worker's
#: CancelledError) stops the request between steps.
ProgressFn = Callable[[int, int], None]


@torch.no_grad()
def sample(parts: ModelParts, params: SampleParams, on_step: ProgressFn | None = None) -> torch.Tensor:
    """Runs the whole request and returns uint8 images (n, height, width, 3). Invalid params → RequestError
    listing every problem; an exception from `on_step` propagates, which is how cancellation works."""
    problems = params.problems()
    if problems:
        raise RequestError("invalid generation request", problems, code="invalid_params")
    device, dtype = parts.unet.device, parts.unet.dtype
    generators = [torch.Generator("cpu").manual_seed(params.image_seed(i)) for i in range(params.n)]
    cond, uncond = conditions(parts, params, dtype)
    schedulers = [make_scheduler(params.sampler, parts.scheduler_config) for _ in range(params.n)]
    for s in schedulers:
        s.set_timesteps(params.steps, device=device)
    # Noise is drawn on the CPU (device-independent seeds) and the loop then stays on the model's device, in fp32:
    # scheduler arithmetic in fp16 visibly degrades images, and it is a tiny share of the time.
    latents = (initial_latents(parts, params, generators) * schedulers[0].init_noise_sigma).to(device)
    for k, t in enumerate(schedulers[0].timesteps):
        model_in = torch.cat([s.scale_model_input(x, t) for s, x in zip(schedulers, latents.split(1))])
        eps = guided_noise(parts.unet, model_in.to(dtype), t, cond, uncond, params.guidance_scale).float()
        latents = torch.cat([
            # The generator is only used by ancestral samplers; keeping it per image keeps image i's noise stream
            # independent of how many images share the batch.
            s.step(eps[i:i + 1], t, latents[i:i + 1], generator=generators[i]).prev_sample
            for i, s in enumerate(schedulers)
        ])
        if on_step is not None:
            on_step(k + 1, params.steps)
    return decode(parts, latents)

