"""Export/import round trips on the tiny fixture: every format loads back to identical images for the same seed."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from atelier_diffusion.export import export_model
from atelier_diffusion.lora_files import LoraLayer, save_diffusers
from atelier_diffusion.protocol import RequestError
from atelier_diffusion.resident import ModelSource, load_source
from atelier_diffusion.sample import SampleParams, sample

PARAMS = SampleParams(prompt="a photo of sks dog", width=32, height=32, steps=3, guidance_scale=4.0, seed=3,
                      sampler="euler", n=1)


def images(source: ModelSource) -> torch.Tensor:
    return sample(load_source(source), PARAMS)


@pytest.fixture(scope="module")
def base_images(tiny_sd):
    return images(ModelSource(str(tiny_sd)))


@pytest.fixture(scope="module")
def lora_file(tiny_sd, tmp_path_factory) -> Path:
    """A random rank-4 LoRA (alpha 2) on every attention projection of the UNet and the text encoder's q/v."""
    parts = load_source(ModelSource(str(tiny_sd)))
    gen = torch.Generator().manual_seed(0)
    layers = []
    for component, model, suffixes in (("unet", parts.unet, (".to_q", ".to_k", ".to_v", ".to_out.0")),
                                       ("text_encoder", parts.text_encoder, (".q_proj", ".v_proj"))):
        for name, module in model.named_modules():
            if name.endswith(suffixes):
                out_f, in_f = module.weight.shape
                layers.append(LoraLayer(component, name, torch.randn(4, in_f, generator=gen) * 0.3,
                                        torch.randn(out_f, 4, generator=gen) * 0.3, 2.0))
    path = tmp_path_factory.mktemp("lora") / "pytorch_lora_weights.safetensors"
    save_diffusers(layers, path)
    return path


def test_single_file_uses_original_sd_key_names(tiny_sd, tmp_path):
    out = tmp_path / "model.safetensors"
    export_model(ModelSource(str(tiny_sd)), "safetensors", out)
    keys = set(load_file(str(out)))
    for key in ("model.diffusion_model.input_blocks.0.0.weight", "model.diffusion_model.time_embed.0.weight",
                "model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn1.to_q.weight",
                "model.diffusion_model.middle_block.1.proj_in.weight", "model.diffusion_model.out.2.weight",
                "first_stage_model.decoder.up.0.block.0.conv1.weight", "first_stage_model.encoder.mid.attn_1.q.weight",
                "cond_stage_model.transformer.text_model.embeddings.token_embedding.weight"):
        assert key in keys, key
    assert not any(k.startswith(("down_blocks", "unet.", "vae.")) for k in keys)
    # LDM's VAE attention is a 1×1 conv, not a linear layer.
    assert load_file(str(out))["first_stage_model.encoder.mid.attn_1.q.weight"].ndim == 4


def test_single_file_round_trip_gives_identical_images(tiny_sd, tmp_path, base_images):
    out = tmp_path / "model.safetensors"
    export_model(ModelSource(str(tiny_sd)), "safetensors", out)
    reloaded = load_source(ModelSource(str(out)))
    original = load_source(ModelSource(str(tiny_sd)))
    for name in ("unet", "vae", "text_encoder"):
        a, b = getattr(original, name).state_dict(), getattr(reloaded, name).state_dict()
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), name
    assert torch.equal(sample(reloaded, PARAMS), base_images)


def test_foreign_single_file_loads_with_a_config_folder(tiny_sd, tmp_path, base_images):
    exported = tmp_path / "model.safetensors"
    export_model(ModelSource(str(tiny_sd)), "safetensors", exported)
    bare = tmp_path / "bare.safetensors"  # what A1111 users have: weights, no atelier metadata
    save_file(load_file(str(exported)), str(bare))
    with pytest.raises(RequestError, match="no atelier metadata"):
        load_source(ModelSource(str(bare)))
    assert torch.equal(images(ModelSource(str(bare), config=str(tiny_sd))), base_images)


def test_diffusers_export_round_trip(tiny_sd, tmp_path, base_images):
    export_model(ModelSource(str(tiny_sd)), "diffusers", tmp_path / "out")
    assert (tmp_path / "out" / "model_index.json").exists()
    assert torch.equal(images(ModelSource(str(tmp_path / "out"))), base_images)


def test_lora_changes_images_and_kohya_round_trip_is_identical(tiny_sd, tmp_path, lora_file, base_images):
    with_lora = images(ModelSource(str(tiny_sd), lora=str(lora_file)))
    assert not torch.equal(with_lora, base_images)
    kohya = tmp_path / "kohya.safetensors"
    export_model(ModelSource(str(tiny_sd), lora=str(lora_file)), "lora-kohya", kohya)
    tensors = load_file(str(kohya))
    name = "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q"
    assert tensors[f"{name}.lora_down.weight"].shape[0] == 4 and tensors[f"{name}.alpha"].item() == 2.0
    assert f"{name}.lora_up.weight" in tensors
    assert "lora_te_text_model_encoder_layers_0_self_attn_q_proj.alpha" in tensors
    assert torch.equal(images(ModelSource(str(tiny_sd), lora=str(kohya))), with_lora)
    back = tmp_path / "back.safetensors"
    export_model(ModelSource(str(tiny_sd), lora=str(kohya)), "lora-diffusers", back)
    assert torch.equal(images(ModelSource(str(tiny_sd), lora=str(back))), with_lora)


def test_kohya_export_reads_in_diffusers_own_loader(tiny_sd, tmp_path, lora_file):
    """An independent reader: diffusers' kohya converter must accept every key with the same alphas."""
    from diffusers import StableDiffusionPipeline

    kohya = tmp_path / "kohya.safetensors"
    export_model(ModelSource(str(tiny_sd), lora=str(lora_file)), "lora-kohya", kohya)
    state, alphas = StableDiffusionPipeline.lora_state_dict(str(kohya))
    assert len(state) == len(load_file(str(kohya))) * 2 // 3 and set(alphas.values()) == {2.0}


def test_merged_lora_single_file_round_trip(tiny_sd, tmp_path, lora_file):
    source = ModelSource(str(tiny_sd), lora=str(lora_file))
    out = tmp_path / "merged.safetensors"
    export_model(source, "safetensors", out)
    with safe_open(str(out), framework="pt") as f:
        assert "atelier.config.unet" in f.metadata()
    assert torch.equal(images(ModelSource(str(out))), images(source))


def test_lora_formats_need_a_lora_model(tiny_sd, tmp_path):
    with pytest.raises(RequestError, match="needs a LoRA model"):
        export_model(ModelSource(str(tiny_sd)), "lora-kohya", tmp_path / "x.safetensors")
    with pytest.raises(RequestError, match="unknown export format"):
        export_model(ModelSource(str(tiny_sd)), "ckpt", tmp_path / "x.ckpt")


def test_trainer_style_peft_lora_matches_peft_forward(tiny_sd, tmp_path, base_images):
    """A LoRA saved the way atelier's trainer saves it (peft adapter → diffusers names, alpha in
    atelier_adapter.json) merges to what peft's own unmerged forward computes."""
    import json

    from diffusers import StableDiffusionPipeline
    from diffusers.utils import convert_state_dict_to_diffusers
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    parts = load_source(ModelSource(str(tiny_sd)))
    parts.unet.add_adapter(LoraConfig(r=4, lora_alpha=8, target_modules=["to_q", "to_k", "to_v", "to_out.0"]))
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, param in parts.unet.named_parameters():
            if "lora_" in name:
                param.copy_(torch.randn(param.shape, generator=gen) * 0.2)
    folder = tmp_path / "model"
    StableDiffusionPipeline.save_lora_weights(
        str(folder), unet_lora_layers=convert_state_dict_to_diffusers(get_peft_model_state_dict(parts.unet)),
        weight_name="pytorch_lora_weights.safetensors")
    (folder / "atelier_adapter.json").write_text(json.dumps({"format": "atelier-lora/1", "rank": 4, "alpha": 8}))
    reference = sample(parts, PARAMS)  # peft layers active, weights unmerged
    merged = images(ModelSource(str(tiny_sd), lora=str(folder)))
    assert not torch.equal(merged, base_images)
    # Merged vs unmerged differ only by float rounding (W·x + B·A·x vs (W + B·A)·x).
    assert (merged.int() - reference.int()).abs().max() <= 2
