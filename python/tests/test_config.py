"""Config: layering of recipe/preset/YAML/overrides, schema errors naming each key, combination checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from atelier_diffusion.config import SCHEMA, build_config, load_config, parse_override
from atelier_diffusion.protocol import ConfigError


def _valid(tiny_sd: Path, tmp_path: Path, **extra) -> dict:
    photos = tmp_path / "photos"
    photos.mkdir(exist_ok=True)
    base = {"model": {"base": str(tiny_sd)},
            "data": {"instance_dir": str(photos), "instance_prompt": "a photo of sks dog",
                     "class_prompt": "a photo of dog", "resolution": 32},
            "output": {"dir": str(tmp_path / "out")}}
    for key, value in extra.items():
        base[key] = {**base.get(key, {}), **value} if isinstance(value, dict) else value
    return base


def _problems(err: pytest.ExceptionInfo) -> dict[str, str]:
    return {p.path: p.message for p in err.value.details}


def test_recipe_preset_and_user_layering(tiny_sd: Path, tmp_path: Path) -> None:
    cfg = build_config(_valid(tiny_sd, tmp_path, recipe="lora", preset="24gb", train={"max_steps": 7}), cuda=True)
    assert cfg.train.method == "lora" and cfg.train.lr == 1e-4      # recipe
    assert cfg.train.train_text_encoder is True                    # preset
    assert cfg.train.max_steps == 7                                # user wins over the recipe's 500
    full = build_config(_valid(tiny_sd, tmp_path, recipe="full"), cuda=True)
    assert (full.train.lr, full.train.max_steps, full.prior.num_class_images) == (5e-6, 800, 200)


def test_unknown_keys_and_bad_values_are_all_named(tiny_sd: Path, tmp_path: Path) -> None:
    data = _valid(tiny_sd, tmp_path, train={"lr": -1, "methd": "lora", "precision": "fp8"}, colour=1,
                  lora={"rank": 0})
    with pytest.raises(ConfigError) as err:
        build_config(data)
    problems = _problems(err)
    assert problems["train.methd"].startswith("unknown key") and "'method'" in problems["train.methd"]
    assert "colour" in problems and "train.lr" in problems and "lora.rank" in problems
    assert "fp8" in problems["train.precision"]
    assert err.value.code == "invalid_config"


def test_bad_combinations_fail_before_compute(tiny_sd: Path, tmp_path: Path) -> None:
    data = _valid(tiny_sd, tmp_path, recipe="lora", hardware={"strategy": "fsdp"},
                  train={"lr_warmup_steps": 900, "max_steps": 100, "text_encoder_lr": 1e-5},
                  tracking={"validation_every_n_steps": 10})
    data["data"].update(class_prompt=None, resolution=36)
    data["model"]["base"] = str(tmp_path / "missing")
    with pytest.raises(ConfigError) as err:
        build_config(data)
    problems = _problems(err)
    assert set(problems) >= {"hardware.strategy", "train.lr_warmup_steps", "train.text_encoder_lr",
                             "tracking.validation_prompts", "data.class_prompt", "data.resolution", "model.base"}


def test_required_keys(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        build_config({})
    assert set(_problems(err)) >= {"model.base", "data.instance_dir", "data.instance_prompt", "output.dir"}


def test_hardware_wishes_degrade_with_warnings(tiny_sd: Path, tmp_path: Path) -> None:
    cfg = build_config(_valid(tiny_sd, tmp_path, preset="8gb"), cuda=False)
    assert cfg.train.optimizer == "adamw" and cfg.train.precision == "32"
    assert any("8-bit Adam" in w for w in cfg.warnings) and any("16-mixed" in w for w in cfg.warnings)
    with pytest.raises(ConfigError) as err:
        build_config(_valid(tiny_sd, tmp_path, hardware={"accelerator": "gpu"}), cuda=False)
    assert "hardware.accelerator" in _problems(err)


def test_yaml_file_and_overrides(tiny_sd: Path, tmp_path: Path) -> None:
    import yaml

    path = tmp_path / "job.yaml"
    data = _valid(tiny_sd, tmp_path, train={"precision": 32, "lr": 1e-3})
    path.write_text(yaml.safe_dump(data))
    cfg = load_config(path, [parse_override("train.lr=2e-4"), {"prior": {"loss_weight": 0.5}}])
    assert cfg.train.lr == 2e-4 and cfg.prior.loss_weight == 0.5 and cfg.train.precision == "32"
    with pytest.raises(ConfigError):
        parse_override("train.lr")


def test_schema_is_plain_json_schema() -> None:
    assert SCHEMA["additionalProperties"] is False
    assert SCHEMA["properties"]["train"]["properties"]["method"]["enum"] == ["full", "lora"]
    assert "description" in SCHEMA["properties"]["data"]["properties"]["instance_prompt"]
