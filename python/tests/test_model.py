"""Model loading: a single-file SD checkpoint (original key names) loads to the same weights as its diffusers
folder; v-prediction comes from the scheduler or the config."""

from __future__ import annotations

from pathlib import Path

import torch

from atelier_diffusion.model import load_parts, model_hash


def test_single_file_checkpoint_matches_folder(tiny_sd: Path, tmp_path: Path) -> None:
    single = tmp_path / "tiny.safetensors"
    from atelier_diffusion.export import export_model
    from atelier_diffusion.resident import ModelSource

    export_model(ModelSource(str(tiny_sd)), "safetensors", single)  # the images side's single-file writer
    folder, from_file = load_parts(tiny_sd), load_parts(single, base_config=tiny_sd)
    for name in ("unet", "vae", "text_encoder"):
        a, b = getattr(folder, name).state_dict(), getattr(from_file, name).state_dict()
        assert all(torch.equal(a[k], b[k]) for k in a if not k.endswith("position_ids")), name
    assert from_file.prediction_type == "epsilon"
    assert model_hash(single) != model_hash(tiny_sd)


def test_prediction_type(tiny_sd: Path, tiny_sd_v: Path) -> None:
    assert load_parts(tiny_sd_v).prediction_type == "v_prediction"
    assert load_parts(tiny_sd, prediction_type="v_prediction").prediction_type == "v_prediction"
