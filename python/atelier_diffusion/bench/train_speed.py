"""Training benchmark: optimizer steps per second and peak memory of atelier's trainer, per method (and preset).

    python -m atelier_diffusion.bench.train_speed [--size tiny|sd15] [--methods full,lora] [--preset 8gb] [--steps 20]
                                            [--resolution 32] [--threads N] [--cache-latents on|off] [--json]

`tiny` is the test fixture; `sd15` is a random-weight model with Stable Diffusion 1.5's shapes (UNet 860M, VAE
84M, CLIP ViT-L/14 text encoder) for GPU machines, since no weights can be downloaded. Each method runs in its own
process so peak memory is its own: CUDA's max allocated bytes on GPU, max RSS on CPU. Steps/s excludes step 1
(allocation and kernel selection); peak memory covers the whole run (model load, class images, training), and
training dominates it. A run that fails (out of memory) becomes a row with an `error` and exit status 1. Prints a
table, or one JSON object with --json. On a CUDA machine, every GPU row of the Training benchmark:

    python -m atelier_diffusion.bench.train_speed --size sd15 --methods full,lora --preset 8gb --steps 10 --json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from diffusers import AutoencoderKL, StableDiffusionPipeline, UNet2DConditionModel
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

from ..config import build_config
from ..fixtures.subject_photos import write_subject
from ..fixtures.tiny import TinySpec, build_scheduler, write_tiny_pipeline, write_tokenizer
from ..protocol import Emitter
from ..train import run_training


class _Timer:
    """Stream for an Emitter that timestamps each metric line instead of writing it."""

    def __init__(self) -> None:
        self.times: list[float] = []

    def write(self, text: str) -> int:
        if text.startswith('{"type":"metric"'):
            self.times.append(time.perf_counter())
        return len(text)

    def flush(self) -> None:
        """Nothing buffered."""


def write_sd15_random(out: Path, seed: int = 0) -> Path:
    """A StableDiffusionPipeline folder with SD 1.5's architecture and random weights (the tiny fixture's
    tokenizer: vocabulary size barely matters for memory or speed)."""
    vocab = write_tokenizer(out, TinySpec())
    torch.manual_seed(seed)
    unet = UNet2DConditionModel(cross_attention_dim=768, attention_head_dim=8, sample_size=64)
    vae = AutoencoderKL(block_out_channels=(128, 256, 512, 512), layers_per_block=2, latent_channels=4,
                        down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
                        sample_size=512)
    text = CLIPTextModel(CLIPTextConfig(vocab_size=vocab, hidden_size=768, intermediate_size=3072,
                                        num_hidden_layers=12, num_attention_heads=12, max_position_embeddings=77,
                                        bos_token_id=vocab - 2, eos_token_id=vocab - 1, pad_token_id=vocab - 1))
    pipe = StableDiffusionPipeline(unet=unet, vae=vae, text_encoder=text,
                                   tokenizer=CLIPTokenizer.from_pretrained(out / "tokenizer"),
                                   scheduler=build_scheduler(TinySpec()), safety_checker=None,
                                   feature_extractor=None, requires_safety_checker=False)
    pipe.save_pretrained(out, safe_serialization=True)
    return out


def run_one(base: Path, method: str, preset: str | None, steps: int, resolution: int, work: Path,
            cache_latents: bool = True) -> dict:
    """One timed training run in this process; returns its row."""
    write_subject(work / "photos", 4, size=max(resolution, 48))
    job = {"model": {"base": str(base)}, "recipe": method, "preset": preset,
           "data": {"instance_dir": str(work / "photos"), "instance_prompt": "a photo of sks box",
                    "class_prompt": "a photo of box", "resolution": resolution},
           "prior": {"num_class_images": 2, "sample_steps": 1, "cache_dir": str(work / "cache")},
           "train": {"max_steps": steps, "cache_latents": cache_latents}, "checkpoint": {"every_n_steps": steps + 1},
           "tracking": {"tensorboard": False}, "output": {"dir": str(work / "out")}}
    cfg = build_config({k: v for k, v in job.items() if v is not None})
    timer = _Timer()
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    run_training(cfg, Emitter(timer))  # type: ignore[arg-type]
    span = timer.times[-1] - timer.times[0] if len(timer.times) > 1 else float("nan")
    peak = torch.cuda.max_memory_allocated() if torch.cuda.is_available() else \
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"method": method, "preset": preset, "resolution": resolution, "steps": steps,
            "steps_per_s": round((len(timer.times) - 1) / span, 3), "peak_mib": round(peak / 2**20, 1),
            "memory": "cuda_max_allocated" if torch.cuda.is_available() else "max_rss",
            "precision": cfg.train.precision, "optimizer": cfg.train.optimizer, "cache_latents": cache_latents,
            "warnings": cfg.warnings}


def main(argv: list[str] | None = None) -> int:
    """Parses flags, runs each method in a child process (or one, with --one), prints the results."""
    p = argparse.ArgumentParser(prog="python -m atelier_diffusion.bench.train_speed",
                                description=__doc__.split("\n")[0])
    p.add_argument("--size", choices=["tiny", "sd15"], default="tiny")
    p.add_argument("--methods", default="full,lora")
    p.add_argument("--preset", choices=["8gb", "12gb", "24gb"])
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--resolution", type=int)
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    p.add_argument("--cache-latents", choices=["on", "off"], default="on", help="train.cache_latents (default on)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--one", help=argparse.SUPPRESS)  # internal: "<base>|<method>|<workdir>"
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    resolution = args.resolution or (32 if args.size == "tiny" else 512)
    if args.one:
        base, method, work = args.one.split("|")
        row = run_one(Path(base), method, args.preset, args.steps, resolution, Path(work), args.cache_latents == "on")
        print(json.dumps(row), flush=True)
        return 0
    with tempfile.TemporaryDirectory(prefix="atelier-bench-") as tmp:
        root = Path(tmp)
        if args.size == "tiny":
            base = write_tiny_pipeline(root / "base", 0, TinySpec(resolution=resolution))
        else:
            base = write_sd15_random(root / "base")
        rows = []
        for method in args.methods.split(","):
            work = root / method
            shutil.rmtree(work, ignore_errors=True)
            cmd = [sys.executable, "-m", "atelier_diffusion.bench.train_speed", "--one", f"{base}|{method}|{work}",
                   "--steps", str(args.steps), "--resolution", str(resolution), "--threads", str(args.threads),
                   "--cache-latents", args.cache_latents]
            cmd += ["--preset", args.preset] if args.preset else []
            out = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ}, check=False)
            if out.returncode:
                # One failed run (CUDA out of memory at the 8gb preset, say) is a result too: keep the other rows.
                sys.stderr.write(out.stderr[-4000:])
                last = [line for line in out.stderr.strip().splitlines() if line.strip()][-1:] or ["no output"]
                rows.append({"method": method, "preset": args.preset, "resolution": resolution, "steps": args.steps,
                             "error": last[0][-300:]})
                continue
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    if args.json:
        print(json.dumps({"size": args.size, "device": "cuda" if torch.cuda.is_available() else "cpu",
                          "threads": args.threads, "rows": rows}))
    else:
        print(f"{'method':8} {'preset':7} {'res':>5} {'steps/s':>9} {'peak MiB':>10}  precision / optimizer")
        for r in rows:
            if "error" in r:
                print(f"{r['method']:8} {r['preset'] or '-':7} {r['resolution']:>5}  error: {r['error']}")
                continue
            print(f"{r['method']:8} {r['preset'] or '-':7} {r['resolution']:>5} {r['steps_per_s']:>9} "
                  f"{r['peak_mib']:>10}  {r['precision']} / {r['optimizer']}")
    return 1 if any("error" in r for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
