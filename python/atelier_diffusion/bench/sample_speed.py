"""Sampling speed: atelier's loop (sample.py) against a plain diffusers StableDiffusionPipeline, same weights.

    python -m atelier_diffusion.bench.sample_speed --model tiny|sd15 [--steps 30] [--size 512] [--batch 4] [--repeats 3]

`tiny` is the random-weight test fixture (runs anywhere); `sd15` builds an SD-1.5-sized model with random weights
(UNet 860M parameters, CLIP ViT-L/14 text encoder, SD VAE) and needs CUDA — without it the run reports
`{"skipped": "..."}`. Prints one JSON object: latency (n=1) and throughput (n=batch) for both implementations and
their ratio (atelier / diffusers; ≤ 1.0 means atelier is as fast or faster).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import torch
from diffusers import AutoencoderKL, EulerAncestralDiscreteScheduler, StableDiffusionPipeline, UNet2DConditionModel
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

from ..fixtures.tiny import TinySpec, write_tiny_pipeline, write_tokenizer
from ..model import ModelParts
from ..resident import ModelSource, load_source
from ..sample import SampleParams, sample


def sd15_components(device: torch.device) -> ModelParts:
    """An SD-1.5-shaped model with random weights (diffusers' default UNet/VAE configs are SD 1.x's)."""
    tok_dir = Path(tempfile.mkdtemp(prefix="atelier-bench-tok-"))
    vocab = write_tokenizer(tok_dir, TinySpec())
    dtype = torch.float16
    unet = UNet2DConditionModel(cross_attention_dim=768).to(device, dtype).eval()
    vae = AutoencoderKL(block_out_channels=(128, 256, 512, 512), layers_per_block=2,
                        down_block_types=("DownEncoderBlock2D",) * 4,
                        up_block_types=("UpDecoderBlock2D",) * 4, sample_size=512).to(device, dtype).eval()
    text = CLIPTextModel(CLIPTextConfig(vocab_size=max(vocab, 49408), hidden_size=768, intermediate_size=3072,
                                        num_hidden_layers=12, num_attention_heads=12, max_position_embeddings=77,
                                        hidden_act="quick_gelu")).to(device, dtype).eval()
    schedule = {"num_train_timesteps": 1000, "beta_start": 0.00085, "beta_end": 0.012,
                "beta_schedule": "scaled_linear", "prediction_type": "epsilon", "steps_offset": 1}
    return ModelParts(unet, vae, text, CLIPTokenizer.from_pretrained(tok_dir / "tokenizer"), schedule)


def pipeline_of(parts: ModelParts):
    """A plain StableDiffusionPipeline over the same modules, with the same sampler (Euler a)."""
    return StableDiffusionPipeline(
        unet=parts.unet, vae=parts.vae, text_encoder=parts.text_encoder, tokenizer=parts.tokenizer,
        scheduler=EulerAncestralDiscreteScheduler.from_config(parts.scheduler_config), safety_checker=None,
        feature_extractor=None, requires_safety_checker=False)


def timed(fn, repeats: int) -> float:
    """Median seconds of `repeats` calls after one warm-up call (CUDA-synchronised)."""
    fn()
    times = []
    for _ in range(repeats):
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def run(parts: ModelParts, size: int, steps: int, batch: int, repeats: int) -> dict:
    """Latency (n=1) and throughput (n=batch) of both implementations on `parts`."""
    pipe = pipeline_of(parts)
    prompt = "a photo of sks dog on the moon"
    out: dict = {"size": size, "steps": steps, "batch": batch}
    for n, label in ((1, "latency"), (batch, "throughput")):
        params = SampleParams(prompt=prompt, width=size, height=size, steps=steps, guidance_scale=7.5,
                              sampler="euler_a", seed=0, n=n)
        ours = timed(lambda: sample(parts, params), repeats)
        theirs = timed(lambda: pipe(prompt, height=size, width=size, num_inference_steps=steps, guidance_scale=7.5,
                                    num_images_per_prompt=n, generator=torch.Generator("cpu").manual_seed(0),
                                    output_type="np"), repeats)
        out[label] = {"atelier_s": ours, "diffusers_s": theirs, "ratio": ours / theirs,
                      "atelier_images_per_s": n / ours, "diffusers_images_per_s": n / theirs}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m atelier_diffusion.bench.sample_speed",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--model", choices=["tiny", "sd15"], default="tiny")
    parser.add_argument("--tiny-path", help="tiny fixture folder (made when omitted)")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--size", type=int)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    args = parser.parse_args(argv)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    with torch.no_grad():
        if args.model == "sd15":
            if not torch.cuda.is_available():
                print(json.dumps({"model": "sd15",
                                  "skipped": "no CUDA device: the SD-1.5-sized comparison needs a GPU"}))
                return 0
            parts, size = sd15_components(torch.device("cuda")), args.size or 512
        else:
            path = args.tiny_path or write_tiny_pipeline(tempfile.mkdtemp(prefix="atelier-bench-tiny-"), seed=0)
            parts, size = load_source(ModelSource(str(path))), args.size or 32
        result = {"model": args.model, "device": str(parts.unet.device), "threads": torch.get_num_threads(),
                  **run(parts, size, args.steps, args.batch, args.repeats)}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
