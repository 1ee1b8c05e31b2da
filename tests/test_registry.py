"""The registry drives everything: a family registered at run time is in `gan-train --help`,
trains through the CLI, loads with the checkpoint loader and shows in the explorer's lists."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytest
import torch
from torch import nn

from trainers.checkpoint import CheckpointError, load_checkpoint, read_meta
from trainers.cli import main
from trainers.options import option, option_specs
from trainers.pipeline import GANPipeline
from trainers.registry import MODELS, ModelSpec, families, get_spec, register, unregister


@dataclass
class TinyConfig:
    """A two-layer GAN: all a family needs is a config, a G and a D."""

    image_shape: tuple[int, int, int] = (1, 28, 28)
    latent_dim: int = option(8, "size of z", group="model")
    width: int = option(16, "hidden width of G and D", group="model", minimum=1)
    num_classes: int = 0


class TinyGenerator(nn.Module):
    def __init__(self, config: TinyConfig) -> None:
        super().__init__()
        self.config = config
        self.net = nn.Sequential(
            nn.Linear(config.latent_dim, config.width),
            nn.LeakyReLU(0.2),
            nn.Linear(config.width, math.prod(config.image_shape)),
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(z).view(z.shape[0], *self.config.image_shape)  # (B, C, H, W)


class TinyDiscriminator(nn.Module):
    def __init__(self, config: TinyConfig) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Flatten(),
            nn.Linear(math.prod(config.image_shape), config.width),
            nn.LeakyReLU(0.2),
            nn.Linear(config.width, 1),
        )

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(x).squeeze(1)  # (B,) logits


def tiny_spec(**changes) -> ModelSpec:
    values = dict(
        name="tiny-gan",
        display_name="Tiny GAN",
        order=5,
        config_cls=TinyConfig,
        generator_cls=TinyGenerator,
        discriminator_cls=TinyDiscriminator,
        conditional=False,
        default_config=lambda image_shape, **o: TinyConfig(image_shape=tuple(image_shape), **o),
        presets={"narrow": {"width": 4}},
        description="Tiny GAN: a two-layer test family",
    )
    return ModelSpec(**(values | changes))


@pytest.fixture
def tiny_family():
    spec = register(tiny_spec())
    try:
        yield spec
    finally:
        if "tiny-gan" in MODELS:
            unregister("tiny-gan")


def help_text(capsys, argv: list[str]) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 0
    return capsys.readouterr().out


def test_a_family_registered_at_run_time_is_everywhere(tiny_family, tmp_path, capsys):
    # gan-train --help lists it, and its sub-command has the generated model and train flags
    assert "tiny-gan" in help_text(capsys, ["--help"])
    text = help_text(capsys, ["tiny-gan", "--help"])
    for flag in ("--width", "--latent-dim", "--lr-g", "--ema", "--max-seconds", "--preset"):
        assert flag in text

    # it trains through the CLI (dry run: synthetic data, save, reload, compare)
    out = tmp_path / "run"
    argv = ["tiny-gan", "--dry-run", "--steps", "2", "--width", "6", "--device", "cpu"]
    assert main([*argv, "--out", str(out)]) == 0
    assert "dry run OK: tiny-gan" in capsys.readouterr().out

    # the checkpoint loader rebuilds it from the registry
    loaded = load_checkpoint(out)
    assert loaded.spec is tiny_family and isinstance(loaded.generator, TinyGenerator)
    assert loaded.config == TinyConfig(image_shape=(1, 28, 28), width=6)
    assert read_meta(out)["step"] == 2
    with torch.no_grad():
        assert loaded.generator(torch.zeros(3, 8)).shape == (3, 1, 28, 28)

    # the explorer's lists: trainable live (the GAN engine runs it), samples from noise, first
    assert families(live_trainable=True)[0] is tiny_family
    assert tiny_family in families(samples_from_noise=True, trainer="gan")
    assert tiny_family not in families(live_trainable=False)
    from explorer.checkpoints import CheckpointEntry, describe

    assert describe(read_meta(out)).startswith("Tiny GAN")

    # the explorer asks the registry what the family is, never a list of names
    entry = CheckpointEntry("tiny", out / "checkpoint", read_meta(out), "Tiny")
    assert not entry.convolutional and not entry.conditional
    register(tiny_spec(convolutional=True), replace=True)
    assert entry.convolutional
    register(tiny_spec(samples_from_noise=False), replace=True)  # as if it translated images
    with pytest.raises(CheckpointError, match="translates images rather than sampling"):
        GANPipeline.from_pretrained(out)
    register(tiny_spec(), replace=True)
    assert GANPipeline.from_pretrained(out)(n=2, seed=0).images.shape == (2, 28, 28, 1)

    # and unregistering removes it again
    unregister("tiny-gan")
    assert "tiny-gan" not in help_text(capsys, ["--help"])
    with pytest.raises(ValueError, match="unknown model 'tiny-gan'"):
        get_spec("tiny-gan")


def test_cli_command_can_differ_from_the_name(capsys):
    register(tiny_spec(cli_command="tiny"))
    try:
        assert "Tiny GAN: a two-layer test family" in help_text(capsys, ["tiny", "--help"])
    finally:
        unregister("tiny-gan")


def test_spec_defaults_are_derived():
    spec = tiny_spec(display_name="", order=100)
    assert spec.display_name == "tiny-gan" and spec.cli_command == "tiny-gan"
    assert spec.trainer == "gan" and spec.live_trainable and spec.samples_from_noise
    assert not tiny_spec(trainer="cyclegan").live_trainable
    with pytest.raises(ValueError, match="unknown trainer"):
        tiny_spec(trainer="diffusion")


def test_register_refuses_a_taken_name_or_command(tiny_family):
    with pytest.raises(ValueError, match="already registered"):
        register(tiny_spec())
    with pytest.raises(ValueError, match="sub-command 'dcgan'"):
        register(tiny_spec(name="tiny-2", cli_command="dcgan"))
    assert register(tiny_spec(order=1), replace=True).order == 1
    with pytest.raises(ValueError, match="unknown model"):
        unregister("no-such-family")


def test_builtin_families():
    names = [spec.name for spec in families()]
    assert names == ["dcgan", "cgan", "mlp-gan", "cyclegan"]  # sorted by `order`
    assert [s.name for s in families(live_trainable=True)] == ["dcgan", "cgan", "mlp-gan"]
    assert [s.name for s in families(samples_from_noise=False)] == ["cyclegan"]
    cyclegan = get_spec("cyclegan")
    assert cyclegan.trainer == "cyclegan" and cyclegan.display_name == "CycleGAN"
    assert {s.display_name for s in families(trainer="gan")} == {"DCGAN", "cGAN", "MLP-GAN"}


def _layers(module: nn.Module) -> set[type]:
    return {type(m) for m in module.modules()}


@pytest.mark.parametrize("spec", families(), ids=lambda spec: spec.name)
def test_what_a_family_declares_is_what_it_builds(spec):
    """The answers the explorer and the trainers read from a spec agree with its networks."""
    config = spec.make_config((3, 32, 32), num_classes=4)
    generator, discriminator = spec.build(config)
    convs = {nn.Conv2d, nn.ConvTranspose2d}
    for net in (generator, discriminator):
        assert bool(_layers(net) & convs) == spec.convolutional, net.__class__.__name__
    assert spec.image_to_image == (not spec.samples_from_noise)
    assert spec.conditional == (getattr(config, "num_classes", 0) == 4)
    if spec.samples_from_noise:  # G maps z (B, latent_dim) [and labels (B,)] to (B, C, H, W)
        labels = torch.tensor([0, 3]) if spec.conditional else None
        with torch.no_grad():
            images = generator.eval()(torch.zeros(2, config.latent_dim), labels)
        assert images.shape == (2, 3, 32, 32)
    else:
        assert not hasattr(config, "latent_dim")


def test_families_filters_by_every_question():
    for key in ("conditional", "convolutional", "samples_from_noise", "live_trainable"):
        for value in (True, False):
            chosen = families(**{key: value})
            assert chosen == [s for s in families() if getattr(s, key) == value], key
    assert families(conditional=True, convolutional=False) == [
        s for s in families() if s.conditional and not s.convolutional
    ]


def test_every_family_declares_its_user_options():
    for spec in families():
        names = {o.name for o in option_specs(spec.config_cls)}
        assert names, spec.name
        assert "image_shape" not in names and "num_classes" not in names  # set by the data
    assert {"latent_dim", "spectral_norm", "minibatch_std", "upsample"} <= {
        o.name for o in option_specs(get_spec("dcgan").config_cls)
    }
