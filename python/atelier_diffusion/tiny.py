"""Tiny random-weight Stable Diffusion fixture.

No pretrained weights can be downloaded where atelier is tested, so the suite (and the benchmarks) run on a
miniature SD 1.x-shaped pipeline generated here: same classes (UNet2DConditionModel, AutoencoderKL, CLIPTextModel,
CLIPTokenizer, a DDPM-family scheduler) and the same folder layout as a real model, a few hundred KB of weights.

    python -m atelier_diffusion.tiny --out DIR --seed N [--resolution 32] [--prediction-type epsilon] [--sdxl]

`--sdxl` writes a StableDiffusionXLPipeline folder instead (second text encoder with projection, `text_time` UNet).

The output is deterministic: the same seed writes byte-identical safetensors, so tests can hash it.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import torch

#: Words that get whole-word BPE tokens, so typical prompts encode to a few tokens rather than one per letter.
PROMPT_WORDS = (
    "a photo of sks dog cat person man woman the on in with and at by mug ball box star bottle toy "
    "red green blue yellow white black orange purple striped dotted plain checker sky grass wood beach moon "
    "picture painting style high quality"
).split()


@dataclass(frozen=True)
class TinySpec:
    """Sizes of the fixture. Defaults keep the whole pipeline under ~1 MB while exercising every code path
    (cross-attention blocks, a down/up pair, a VAE with a 2× downsample)."""

    resolution: int = 32
    unet_channels: tuple[int, int] = (16, 32)
    vae_channels: tuple[int, int] = (8, 16)
    text_hidden: int = 32
    text_layers: int = 2
    max_length: int = 77
    prediction_type: str = "epsilon"


def bytes_to_unicode() -> dict[int, str]:
    """CLIP/GPT-2 byte→printable-character table: BPE works on these characters, never on raw bytes."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
    printable += list(range(ord("®"), ord("ÿ") + 1))
    chars = printable[:]
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + extra)
            extra += 1
    return {b: chr(c) for b, c in zip(printable, chars)}


def build_vocab(words: tuple[str, ...] | list[str] = PROMPT_WORDS) -> tuple[dict[str, int], list[str]]:
    """Builds a CLIP-style vocabulary: every byte symbol (alone and word-final), merges that spell each of `words`
    left to right, then the two specials. Returns (token→id, merges in rank order)."""
    symbols = list(bytes_to_unicode().values())
    tokens = symbols + [s + "</w>" for s in symbols]
    merges: list[str] = []
    seen = set(tokens)
    for word in words:
        parts = list(word[:-1]) + [word[-1] + "</w>"]
        acc = parts[0]
        for nxt in parts[1:]:
            merged = acc + nxt
            if merged not in seen:
                merges.append(f"{acc} {nxt}")
                tokens.append(merged)
                seen.add(merged)
            acc = merged
    tokens += ["<|startoftext|>", "<|endoftext|>"]
    return {t: i for i, t in enumerate(tokens)}, merges


def write_tokenizer(out: Path, spec: TinySpec) -> int:
    """Writes tokenizer/ (vocab.json, merges.txt, tokenizer config) and returns the vocabulary size."""
    from transformers import CLIPTokenizer

    vocab, merges = build_vocab()
    tok_dir = out / "tokenizer"
    tok_dir.mkdir(parents=True, exist_ok=True)
    (tok_dir / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False))
    (tok_dir / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n")
    tokenizer = CLIPTokenizer(vocab=str(tok_dir / "vocab.json"), merges=str(tok_dir / "merges.txt"),
                              model_max_length=spec.max_length)
    tokenizer.save_pretrained(tok_dir)
    return len(vocab)


def build_text_encoder(spec: TinySpec, vocab_size: int):
    """A 2-layer CLIP text transformer; bos/eos ids match the tokenizer so the pooled output is taken at EOS."""
    from transformers import CLIPTextConfig, CLIPTextModel

    config = CLIPTextConfig(
        vocab_size=vocab_size, hidden_size=spec.text_hidden, intermediate_size=spec.text_hidden * 2,
        num_hidden_layers=spec.text_layers, num_attention_heads=4, max_position_embeddings=spec.max_length,
        projection_dim=spec.text_hidden, bos_token_id=vocab_size - 2, eos_token_id=vocab_size - 1,
        pad_token_id=vocab_size - 1, hidden_act="quick_gelu",
    )
    return CLIPTextModel(config)


def build_unet(spec: TinySpec):
    """A UNet with one cross-attention down/up pair and one plain pair — the smallest shape with every SD block."""
    from diffusers import UNet2DConditionModel

    return UNet2DConditionModel(
        sample_size=spec.resolution // 2 ** (len(spec.vae_channels) - 1),
        in_channels=4, out_channels=4, layers_per_block=1,
        block_out_channels=spec.unet_channels, norm_num_groups=8,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=spec.text_hidden, attention_head_dim=4,
    )


def build_vae(spec: TinySpec):
    """A 2-level KL autoencoder (2× spatial downsample, 4 latent channels like SD)."""
    from diffusers import AutoencoderKL

    return AutoencoderKL(
        in_channels=3, out_channels=3, latent_channels=4, layers_per_block=1,
        block_out_channels=spec.vae_channels, norm_num_groups=8, sample_size=spec.resolution,
        down_block_types=("DownEncoderBlock2D",) * len(spec.vae_channels),
        up_block_types=("UpDecoderBlock2D",) * len(spec.vae_channels),
    )


def build_scheduler(spec: TinySpec):
    """SD's training noise schedule (scaled-linear betas, 1000 steps)."""
    from diffusers import DDPMScheduler

    return DDPMScheduler(
        num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
        clip_sample=False, prediction_type=spec.prediction_type, steps_offset=1,
    )


def write_tiny_pipeline(out: str | Path, seed: int = 0, spec: TinySpec = TinySpec()) -> Path:
    """Writes a loadable StableDiffusionPipeline folder with random weights drawn from `seed` and returns its path.
    Each component draws from its own re-seeded generator so changing one size never changes another's weights."""
    from diffusers import StableDiffusionPipeline

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    vocab_size = write_tokenizer(out, spec)
    from transformers import CLIPTokenizer

    torch.manual_seed(seed)
    unet = build_unet(spec)
    torch.manual_seed(seed + 1)
    vae = build_vae(spec)
    torch.manual_seed(seed + 2)
    text_encoder = build_text_encoder(spec, vocab_size)
    pipe = StableDiffusionPipeline(
        unet=unet, vae=vae, text_encoder=text_encoder, tokenizer=CLIPTokenizer.from_pretrained(out / "tokenizer"),
        scheduler=build_scheduler(spec), safety_checker=None, feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(out, safe_serialization=True)
    return out


def build_sdxl_unet(spec: TinySpec, text_hidden_2: int):
    """SDXL's UNet shape in miniature: cross-attention over both encoders' hidden states side by side, and the
    `text_time` added conditioning (pooled text embedding + six size/crop numbers, each Fourier-embedded)."""
    from diffusers import UNet2DConditionModel

    time_dim = 8
    return UNet2DConditionModel(
        sample_size=spec.resolution // 2 ** (len(spec.vae_channels) - 1),
        in_channels=4, out_channels=4, layers_per_block=1,
        block_out_channels=spec.unet_channels, norm_num_groups=8,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=spec.text_hidden + text_hidden_2, attention_head_dim=(2, 4),
        use_linear_projection=True, addition_embed_type="text_time", addition_time_embed_dim=time_dim,
        projection_class_embeddings_input_dim=6 * time_dim + text_hidden_2, transformer_layers_per_block=(1, 2),
    )


def write_tiny_sdxl_pipeline(out: str | Path, seed: int = 0, spec: TinySpec = TinySpec()) -> Path:
    """Writes a loadable StableDiffusionXLPipeline folder (unet, vae, text_encoder, text_encoder_2 with projection,
    tokenizer, tokenizer_2, scheduler; model_index.json `_class_name` StableDiffusionXLPipeline) with random
    weights drawn from `seed`."""
    from diffusers import StableDiffusionXLPipeline
    from transformers import CLIPTextConfig, CLIPTextModelWithProjection, CLIPTokenizer

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    vocab_size = write_tokenizer(out, spec)
    hidden_2 = spec.text_hidden * 2
    torch.manual_seed(seed)
    unet = build_sdxl_unet(spec, hidden_2)
    torch.manual_seed(seed + 1)
    vae = build_vae(spec)
    torch.manual_seed(seed + 2)
    text_encoder = build_text_encoder(spec, vocab_size)
    torch.manual_seed(seed + 3)
    text_encoder_2 = CLIPTextModelWithProjection(CLIPTextConfig(
        vocab_size=vocab_size, hidden_size=hidden_2, intermediate_size=hidden_2 * 2,
        num_hidden_layers=spec.text_layers, num_attention_heads=4, max_position_embeddings=spec.max_length,
        projection_dim=hidden_2, bos_token_id=vocab_size - 2, eos_token_id=vocab_size - 1,
        pad_token_id=vocab_size - 1, hidden_act="gelu"))
    tokenizer = CLIPTokenizer.from_pretrained(out / "tokenizer")
    pipe = StableDiffusionXLPipeline(unet=unet, vae=vae, text_encoder=text_encoder, text_encoder_2=text_encoder_2,
                                     tokenizer=tokenizer, tokenizer_2=tokenizer, scheduler=build_scheduler(spec))
    pipe.save_pretrained(out, safe_serialization=True)
    return out


def main(argv: list[str] | None = None) -> int:
    """CLI entry: parse flags, write the folder, print its path on stdout."""
    parser = argparse.ArgumentParser(prog="python -m atelier_diffusion.tiny", description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, help="folder to write (created)")
    parser.add_argument("--seed", type=int, default=0, help="weight seed (default 0)")
    parser.add_argument("--resolution", type=int, default=32, help="native image size in pixels (default 32)")
    parser.add_argument("--prediction-type", default="epsilon", choices=["epsilon", "v_prediction"])
    parser.add_argument("--sdxl", action="store_true", help="an SDXL-shaped pipeline (two text encoders)")
    args = parser.parse_args(argv)
    if args.resolution % 8 or args.resolution < 16:
        parser.error("--resolution must be a multiple of 8 and at least 16")
    spec = TinySpec(resolution=args.resolution, prediction_type=args.prediction_type)
    write = write_tiny_sdxl_pipeline if args.sdxl else write_tiny_pipeline
    print(write(args.out, args.seed, spec))
    return 0


if __name__ == "__main__":
    sys.exit(main())
