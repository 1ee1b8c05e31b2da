"""Options declared once (trainers/options.py): specs, CLI flags and values from the fields."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import pytest
from test_cli import TINY_TRAIN, make_image_folder

from trainers.checkpoint import read_meta
from trainers.cli import build_parser, main
from trainers.cli import train as cli_train
from trainers.engine import TrainConfig
from trainers.losses import LOSSES
from trainers.models.blocks import UPSAMPLE_MODES
from trainers.models.cgan import CGANConfig
from trainers.models.dcgan import DCGANConfig
from trainers.models.mlp_gan import MLPGANConfig
from trainers.options import (
    OptionSpec,
    add_arguments,
    option,
    option_defaults,
    option_specs,
    values_from_args,
)
from trainers.registry import families


def specs_by_name(config_cls) -> dict[str, OptionSpec]:
    return {spec.name: spec for spec in option_specs(config_cls)}


def test_train_config_specs():
    specs = specs_by_name(TrainConfig)
    assert "model" not in specs  # the family is the sub-command / the family picker
    assert list(specs)[:3] == ["dataset", "steps", "batch_size"]  # field order
    ema = specs["ema_decay"]
    assert (ema.flag, ema.type, ema.default, ema.group) == ("--ema", float, 0.0, "optimisation")
    assert specs["loss"].choices == LOSSES and specs["loss"].type is str
    assert specs["lr_g"].flag == "--lr-g" and specs["lr_g"].minimum > 0
    assert (specs["d_steps"].minimum, specs["d_steps"].maximum) == (1, 20)
    budget = specs["max_seconds"]
    assert (budget.flag, budget.label, budget.default, budget.ui) == (
        "--max-seconds",
        "time budget (s)",
        0.0,
        True,
    )
    assert not specs["precision"].ui and not specs["sample_every"].ui  # CLI only
    assert specs["seed"].label == "seed"  # the name, spaced, when no ui_label is given
    # every option explains itself, and the declared defaults are the dataclass's
    assert all(spec.help.strip() for spec in specs.values())
    assert option_defaults(TrainConfig) == {
        k: v for k, v in dataclasses.asdict(TrainConfig()).items() if k in specs
    }


def test_model_config_specs():
    dcgan = specs_by_name(DCGANConfig)
    assert dcgan["upsample"].choices == UPSAMPLE_MODES  # from the Literal type
    assert dcgan["channels"].type is tuple and dcgan["channels"].item_type is int
    assert dcgan["channels"].length is None and not dcgan["channels"].ui
    assert specs_by_name(CGANConfig)["channels"].length == 2  # tuple[int, int]
    assert dcgan["spectral_norm"].type is bool and dcgan["spectral_norm"].group == "model"
    assert "image_shape" not in dcgan and "num_classes" not in dcgan


def parse(config_cls, argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser, config_cls)
    return parser.parse_args(argv)


def test_values_from_args_holds_only_what_was_set():
    args = parse(TrainConfig, ["--lr-g", "1e-3", "--ema", "0.99", "--loss", "hinge"])
    assert values_from_args(args, TrainConfig) == {"lr_g": 1e-3, "ema_decay": 0.99, "loss": "hinge"}
    assert values_from_args(parse(TrainConfig, []), TrainConfig) == {}
    with pytest.raises(SystemExit):
        parse(TrainConfig, ["--loss", "l2"])  # not one of the choices


def test_bool_and_tuple_flags():
    args = parse(MLPGANConfig, ["--no-batchnorm", "--spectral-norm", "--g-hidden", "32", "16"])
    assert values_from_args(args, MLPGANConfig) == {
        "batchnorm": False,
        "spectral_norm": True,
        "g_hidden": (32, 16),
    }
    with pytest.raises(SystemExit):
        parse(CGANConfig, ["--channels", "8"])  # exactly two


def test_add_arguments_groups_and_exclude():
    parser = argparse.ArgumentParser()
    add_arguments(parser, TrainConfig, exclude={"seed"})
    titles = {g.title: {a.dest for a in g._group_actions} for g in parser._action_groups}
    assert "lr_g" in titles["optimisation"] and "dataset" in titles["data"]
    assert "max_seconds" in titles["run"]
    assert all("seed" not in dests for dests in titles.values())


def test_list_defaults_are_not_shared():
    @dataclasses.dataclass
    class Config:
        sizes: list = option([1, 2], "sizes")

    a, b = Config(), Config()
    a.sizes.append(3)
    assert b.sizes == [1, 2] and option_specs(Config)[0].default == [1, 2]


@dataclasses.dataclass
class TrainConfigPlusWarmup(TrainConfig):
    """TrainConfig with one more option, as a contributor would add it: one line."""

    warmup_steps: int = option(0, "steps of linear learning-rate warm-up", group="optimisation")


def test_a_new_option_appears_in_the_cli_and_options_json(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(cli_train, "TrainConfig", TrainConfigPlusWarmup)
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for spec in families(trainer="gan"):  # every family the GAN engine trains
        assert "--warmup-steps" in sub.choices[spec.cli_command].format_help()
    assert "--warmup-steps" in specs_by_name(TrainConfigPlusWarmup)["warmup_steps"].flag

    folder = make_image_folder(tmp_path / "pets")
    out = tmp_path / "run"
    argv = ["mlp-gan", "--dataset", f"folder:{folder}", "--steps", "1", "--warmup-steps", "7"]
    assert main([*argv, "--preset", "classroom", "--out", str(out), *TINY_TRAIN]) == 0
    options = json.loads((out / "options.json").read_text())
    assert options["train_config"]["warmup_steps"] == 7
    assert read_meta(out)["train_config"]["warmup_steps"] == 7


def test_max_seconds_through_the_cli(tmp_path, capsys):
    folder = make_image_folder(tmp_path / "pets")
    out: Path = tmp_path / "run"
    argv = ["mlp-gan", "--dataset", f"folder:{folder}", "--steps", "1000000"]
    assert main([*argv, "--max-seconds", "0.3", "--out", str(out), *TINY_TRAIN]) == 0
    assert "time budget of 0.3 s reached" in capsys.readouterr().err
    meta = read_meta(out)
    assert 0 < meta["step"] < 1_000_000 and meta["train_config"]["max_seconds"] == 0.3
    # a resume may set a new budget (it does not change what is learned); other options stay
    resumed = ["mlp-gan", "--resume", "--out", str(out), "--lr-g", "0.5", *TINY_TRAIN]
    assert main([*resumed, "--max-seconds", "0.2"]) == 0
    err = capsys.readouterr().err
    assert "ignoring --lr-g" in err and "time budget of 0.2 s" in err
    meta = read_meta(out)
    assert meta["train_config"]["max_seconds"] == 0.2 and meta["train_config"]["lr_g"] == 2e-4
