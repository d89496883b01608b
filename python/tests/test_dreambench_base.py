"""DreamBench-mini's base-model pipeline on a tiny budget: VAE pre-training, the SD-architecture skeleton, and
captioned text-to-image training through atelier's trainer pieces, cached by config hash."""

from __future__ import annotations

import json

import pytest
import torch

from atelier_diffusion.bench.dreambench.base_model import BaseConfig, benchmark_words, load_or_train_base
from atelier_diffusion.bench.dreambench.captioned import CaptionedStream
from atelier_diffusion.bench.dreambench.dataset import caption
from atelier_diffusion.bench.dreambench.scenes import SceneSpec
from atelier_diffusion.bench.dreambench.vae import VaeConfig
from atelier_diffusion.bench.dreambench.vocab import BACKGROUNDS, CLASSES, COLOURS, PATTERNS

TINY = BaseConfig(scenes=64, steps=4, batch_size=4, warmup=0, unet_channels=(16, 32), text_hidden=32,
                  vae=VaeConfig(scenes=64, steps=3, batch_size=4, channels=(8, 16)))


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory):
    """The tiny base model, trained once into a private ATELIER_CACHE."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ATELIER_CACHE", str(tmp_path_factory.mktemp("dreambench-base")))
        yield load_or_train_base(TINY, log=lambda _: None)


def test_the_base_is_a_diffusers_pipeline_whose_tokenizer_tells_every_prompt_word_apart(base) -> None:
    from diffusers import StableDiffusionPipeline

    pipe = StableDiffusionPipeline.from_pretrained(base, safety_checker=None, requires_safety_checker=False)
    prompt_words = {w for w in benchmark_words() if w in " ".join(
        [caption(SceneSpec(c, "orange", p, b)) for c in CLASSES for p in PATTERNS for b in BACKGROUNDS]
        + [caption(SceneSpec(c, colour, "plain", "sky"), ["colour"]) for c in CLASSES for colour in COLOURS]
        + [caption(SceneSpec("mug", "red", "plain", "sky"), [], identifier="sks")]).split()}
    assert len(prompt_words) == 30
    encoded = {w: tuple(pipe.tokenizer(w).input_ids[1:-1]) for w in prompt_words}
    # tiny.build_vocab's merges spell most words as one token; merge-rank conflicts split a few ("green"), but no
    # two words may ever share an encoding.
    assert len(set(encoded.values())) == len(encoded)
    assert sum(len(ids) == 1 for ids in encoded.values()) >= 15
    assert pipe.unet.config.sample_size == 16 and pipe.unet.config.block_out_channels == [16, 32]
    assert pipe.vae.config.scaling_factor != 0.18215  # measured on the drawn scenes, not SD's constant


def test_training_ran_through_the_trainer_and_is_cached(base) -> None:
    report = json.loads((base.parent.parent / "report.json").read_text())
    assert report["train"]["steps"] == TINY.steps and report["train"]["kind"] == "diffusers"
    assert report["vae"]["heldout_mae_255"] > 0
    trained = torch.load(next((base.parent / "checkpoints").glob("*.ckpt")), weights_only=False)
    assert trained["atelier"]["global_step"] == TINY.steps
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ATELIER_CACHE", str(base.parents[3]))
        assert load_or_train_base(TINY, log=lambda line: pytest.fail(f"retrained: {line}")) == base


def test_captioned_batches_are_a_pure_function_of_seed_and_index() -> None:
    pixels = torch.arange(10, dtype=torch.float32).view(10, 1, 1, 1)
    captions = [f"caption {i}" for i in range(10)]
    a = CaptionedStream(pixels, captions, batch_size=3, seed=5, uncond_p=0.3)
    b = CaptionedStream(pixels, captions, batch_size=3, seed=5, uncond_p=0.3, start=2)
    assert next(iter(b))["prompts"] == a.batch(2)["prompts"]
    assert torch.equal(next(iter(b))["pixels"], a.batch(2)["pixels"])
    seen = [int(p) for g in range(3) for p in a.batch(g)["pixels"].flatten()][:9]
    assert len(set(seen)) == 9  # one epoch is a permutation: no repeats before every image was used
    prompts = [p for g in range(40) for p in a.batch(g)["prompts"]]
    assert 0.15 < prompts.count("") / len(prompts) < 0.45  # caption dropout for classifier-free guidance
    for g in range(40):
        batch = a.batch(g)
        for pix, prompt in zip(batch["pixels"].flatten(), batch["prompts"]):
            assert prompt in ("", f"caption {int(pix)}")
