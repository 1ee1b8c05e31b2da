"""Shapes and structure of every model family and config (issue 2, "Models")."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

from trainers.models.blocks import MinibatchStdDev, upsample_conv
from trainers.models.cgan import CGANConfig, CGANDiscriminator, CGANGenerator
from trainers.models.dcgan import DCGANConfig, dcgan_config_for
from trainers.registry import config_from_dict, config_to_dict, families, get_spec

B = 2
#: The families the GAN engine trains (they share the spectral-norm and minibatch-std options).
FAMILIES = [spec.name for spec in families(trainer="gan")]
UPSAMPLE_MODES = ("convtranspose", "resize-conv")


def build(name: str, image_shape=(1, 28, 28), num_classes: int = 10, preset=None, **overrides):
    spec = get_spec(name)
    config = spec.make_config(image_shape, num_classes, preset=preset, **overrides)
    generator, discriminator = spec.build(config)
    return spec, config, generator, discriminator


def labels_for(spec, n: int = B, num_classes: int = 10):
    return torch.arange(n) % num_classes if spec.conditional else None


def linear_shapes(module: nn.Module) -> list[tuple[int, int]]:
    return [(m.in_features, m.out_features) for m in module.modules() if isinstance(m, nn.Linear)]


def record_outputs(modules: list[nn.Module]) -> tuple[list[tuple[int, ...]], list]:
    shapes: list[tuple[int, ...]] = []
    handles = [
        m.register_forward_hook(lambda _m, _i, out: shapes.append(tuple(out.shape)))
        for m in modules
    ]
    return shapes, handles


def record_input(module: nn.Module) -> tuple[list[tuple[int, ...]], object]:
    shapes: list[tuple[int, ...]] = []
    handle = module.register_forward_pre_hook(lambda _m, args: shapes.append(tuple(args[0].shape)))
    return shapes, handle


def upsample_layers(generator: nn.Module) -> list[nn.Module]:
    """The layers of G that double H and W (a ConvTranspose2d or an Upsample+Conv Sequential)."""
    return [
        m for m in generator.blocks.children() if isinstance(m, nn.ConvTranspose2d | nn.Sequential)
    ]


# --- every family, every config: G makes (B, C, H, W) in [-1, 1], D returns (B,) logits ----------

CONFIGS = [
    ("mlp-gan", (1, 28, 28), None, {}),
    ("mlp-gan", (1, 28, 28), "classroom", {}),
    ("mlp-gan", (1, 28, 28), None, {"spectral_norm": True}),
    ("mlp-gan", (1, 28, 28), None, {"minibatch_std": True}),
    ("dcgan", (1, 28, 28), None, {}),
    ("dcgan", (3, 32, 32), None, {}),
    ("dcgan", (1, 28, 28), None, {"spectral_norm": True}),
    ("dcgan", (3, 32, 32), None, {"spectral_norm": True, "minibatch_std": True}),
    ("dcgan", (1, 28, 28), None, {"minibatch_std": True}),
    ("cgan", (1, 28, 28), None, {}),
    ("cgan", (1, 28, 28), "resize-conv", {}),
    ("cgan", (1, 28, 28), None, {"spectral_norm": True}),
    ("cgan", (1, 28, 28), None, {"minibatch_std": True}),
]


@pytest.mark.parametrize(
    ("name", "image_shape", "preset", "overrides"),
    CONFIGS,
    ids=[
        f"{n}-{'x'.join(map(str, s))}-{p or 'default'}-{'-'.join(o) or 'plain'}"
        for n, s, p, o in CONFIGS
    ],
)
def test_generator_and_discriminator_shapes(name, image_shape, preset, overrides):
    spec, config, generator, discriminator = build(name, image_shape, preset=preset, **overrides)
    z = torch.randn(B, config.latent_dim)
    labels = labels_for(spec)
    images = generator(z, labels)
    assert images.shape == (B, *image_shape)
    assert images.min() >= -1 and images.max() <= 1  # Tanh output
    logits = discriminator(images, labels)
    assert logits.shape == (B,)
    assert logits.dtype == torch.float32


# --- MLP-GAN -----------------------------------------------------------------------------------


def test_mlp_gan_default_is_goodfellow_seed_design():
    _, config, generator, discriminator = build("mlp-gan")
    assert config.latent_dim == 100
    assert linear_shapes(generator) == [(100, 256), (256, 512), (512, 1024), (1024, 784)]
    assert linear_shapes(discriminator) == [(784, 512), (512, 256), (256, 1)]
    assert sum(isinstance(m, nn.BatchNorm1d) for m in generator.modules()) == 3
    slopes = [m.negative_slope for m in generator.modules() if isinstance(m, nn.LeakyReLU)]
    assert slopes == [0.2] * 3
    assert isinstance(list(generator.modules())[-1], nn.Tanh)
    assert [m.negative_slope for m in discriminator.modules() if isinstance(m, nn.LeakyReLU)] == [
        0.2,
        0.2,
    ]


def test_mlp_gan_classroom_preset():
    _, config, generator, discriminator = build("mlp-gan", preset="classroom")
    assert linear_shapes(generator) == [(100, 128), (128, 784)]
    assert linear_shapes(discriminator) == [(784, 128), (128, 1)]
    assert not any(isinstance(m, nn.BatchNorm1d) for m in generator.modules())
    assert generator(torch.randn(B, 100)).shape == (B, 1, 28, 28)


def test_mlp_minibatch_std_adds_one_feature_to_last_layer():
    _, _, _, plain = build("mlp-gan", preset="classroom")
    _, _, _, with_std = build("mlp-gan", preset="classroom", minibatch_std=True)
    assert linear_shapes(plain)[-1] == (128, 1)
    assert linear_shapes(with_std)[-1] == (129, 1)


# --- DCGAN -------------------------------------------------------------------------------------


def test_dcgan_default_configs_follow_the_seed_designs():
    c28 = dcgan_config_for((1, 28, 28))
    assert (c28.latent_dim, c28.channels, c28.base_size) == (100, (128, 64), 7)
    c32 = dcgan_config_for((3, 32, 32))
    assert (c32.latent_dim, c32.channels, c32.base_size) == (128, (512, 256, 128, 64), 2)
    assert dcgan_config_for((1, 28, 28), latent_dim=16).latent_dim == 16  # overrides win


@pytest.mark.parametrize("mode", UPSAMPLE_MODES)
def test_dcgan_32_generator_intermediate_shapes(mode):
    _, config, generator, _ = build("dcgan", (3, 32, 32), upsample=mode)
    projected, h1 = record_outputs([generator.project])
    reshaped, h2 = record_input(generator.blocks)
    ups, h3 = record_outputs(upsample_layers(generator))
    generator(torch.randn(B, 128))
    for h in [*h1, h2, *h3]:
        h.remove()
    assert projected == [(B, 2048)]
    assert reshaped == [(B, 512, 2, 2)]
    assert ups == [(B, 256, 4, 4), (B, 128, 8, 8), (B, 64, 16, 16), (B, 3, 32, 32)]


def test_dcgan_32_discriminator_mirrors_generator():
    _, _, _, discriminator = build("dcgan", (3, 32, 32))
    convs = [m for m in discriminator.features if isinstance(m, nn.Conv2d)]
    shapes, handles = record_outputs(convs)
    flat, h2 = record_input(discriminator.head)
    logits = discriminator(torch.randn(B, 3, 32, 32))
    for h in [*handles, h2]:
        h.remove()
    assert shapes == [(B, 64, 16, 16), (B, 128, 8, 8), (B, 256, 4, 4), (B, 512, 2, 2)]
    assert all(c.stride == (2, 2) for c in convs)
    assert flat == [(B, 2048)]
    assert discriminator.head.out_features == 1
    assert logits.shape == (B,)


@pytest.mark.parametrize("mode", UPSAMPLE_MODES)
def test_dcgan_28_intermediate_shapes(mode):
    _, _, generator, discriminator = build("dcgan", (1, 28, 28), upsample=mode)
    reshaped, h1 = record_input(generator.blocks)
    ups, h2 = record_outputs(upsample_layers(generator))
    generator(torch.randn(B, 100))
    for h in [h1, *h2]:
        h.remove()
    assert reshaped == [(B, 128, 7, 7)]
    assert ups == [(B, 64, 14, 14), (B, 1, 28, 28)]
    assert discriminator.head.in_features == 128 * 7 * 7


def test_dcgan_follows_radford_rules():
    _, _, generator, discriminator = build("dcgan", (3, 32, 32))
    for net in (generator, discriminator):
        assert not any(
            isinstance(m, nn.MaxPool2d | nn.AvgPool2d | nn.AdaptiveAvgPool2d) for m in net.modules()
        )
        assert any(isinstance(m, nn.BatchNorm2d) for m in net.modules())
    assert any(isinstance(m, nn.ReLU) for m in generator.modules())
    assert not any(isinstance(m, nn.LeakyReLU) for m in generator.modules())
    assert isinstance(generator.blocks[-1], nn.Tanh)
    assert not any(type(m) is nn.ReLU for m in discriminator.modules())
    assert {m.negative_slope for m in discriminator.modules() if isinstance(m, nn.LeakyReLU)} == {
        0.2
    }
    # no BatchNorm right after D's input layer
    assert isinstance(discriminator.features[0], nn.Conv2d)
    assert isinstance(discriminator.features[1], nn.LeakyReLU)


def test_upsample_switch_changes_the_layers():
    _, _, transposed, _ = build("dcgan", (1, 28, 28))
    _, _, resized, _ = build("dcgan", (1, 28, 28), upsample="resize-conv")
    assert any(isinstance(m, nn.ConvTranspose2d) for m in transposed.modules())
    assert not any(isinstance(m, nn.Upsample) for m in transposed.modules())
    assert not any(isinstance(m, nn.ConvTranspose2d) for m in resized.modules())
    assert [m.mode for m in resized.modules() if isinstance(m, nn.Upsample)] == [
        "nearest",
        "nearest",
    ]


@pytest.mark.parametrize("mode", UPSAMPLE_MODES)
def test_upsample_conv_doubles_height_and_width(mode):
    layer = upsample_conv(5, 3, mode)
    assert layer(torch.randn(2, 5, 7, 9)).shape == (2, 3, 14, 18)


def test_upsample_conv_unknown_mode():
    with pytest.raises(ValueError, match="unknown upsample mode"):
        upsample_conv(4, 4, "bilinear")  # type: ignore[arg-type]


@pytest.mark.parametrize("shape", [(1, 30, 30), (1, 28, 32), (3, 20, 20)])
def test_dcgan_rejects_shapes_it_cannot_build(shape):
    with pytest.raises(ValueError, match="divisible"):
        DCGANConfig(image_shape=shape, channels=(128, 64, 32))


def test_dcgan_other_sizes_get_a_working_default():
    _, config, generator, discriminator = build("dcgan", (3, 16, 16))
    assert config.base_size * 2 ** len(config.channels) == 16
    assert discriminator(generator(torch.randn(B, config.latent_dim))).shape == (B,)


# --- cGAN --------------------------------------------------------------------------------------


def test_cgan_28_seed_design_shapes():
    _, config, generator, discriminator = build("cgan", (1, 28, 28))
    assert (config.latent_dim, config.num_classes, config.embed_dim) == (100, 10, 50)
    assert generator.label_embedding.num_embeddings == 10
    assert generator.label_embedding.embedding_dim == 50
    label_plane, h1 = record_outputs([generator.project_label])
    z_map, h2 = record_outputs([generator.project_z])
    concat, h3 = record_input(generator.blocks)
    ups, h4 = record_outputs(upsample_layers(generator))
    images = generator(torch.randn(B, 100), torch.tensor([0, 9]))
    d_in, h5 = record_input(discriminator.features)
    d_label, h6 = record_outputs([discriminator.project_label])
    convs, h7 = record_outputs([m for m in discriminator.features if isinstance(m, nn.Conv2d)])
    logits = discriminator(images, torch.tensor([0, 9]))
    for h in [*h1, *h2, h3, *h4, h5, *h6, *h7]:
        h.remove()
    assert label_plane == [(B, 49)]
    assert z_map == [(B, 128 * 7 * 7)]
    assert concat == [(B, 129, 7, 7)]
    assert ups == [(B, 64, 14, 14), (B, 1, 28, 28)]
    assert d_label == [(B, 784)]
    assert d_in == [(B, 2, 28, 28)]
    assert convs == [(B, 64, 14, 14), (B, 128, 7, 7)]
    assert discriminator.head.in_features == 128 * 7 * 7
    assert logits.shape == (B,)


def test_cgan_output_depends_on_the_label():
    torch.manual_seed(0)
    config = CGANConfig()
    generator, discriminator = CGANGenerator(config).eval(), CGANDiscriminator(config).eval()
    z = torch.randn(1, 100).repeat(2, 1)
    with torch.no_grad():
        images = generator(z, torch.tensor([0, 1]))
        assert not torch.allclose(images[0], images[1])
        same_image = images[:1].repeat(2, 1, 1, 1)
        logits = discriminator(same_image, torch.tensor([0, 1]))
        assert logits[0] != logits[1]


def test_cgan_needs_labels():
    _, config, generator, discriminator = build("cgan")
    with pytest.raises(ValueError, match="labels"):
        generator(torch.randn(B, 100))
    with pytest.raises(ValueError, match="labels"):
        discriminator(torch.randn(B, 1, 28, 28))


def test_cgan_config_validation():
    with pytest.raises(ValueError, match="divisible by 4"):
        CGANConfig(image_shape=(1, 30, 30))
    with pytest.raises(ValueError, match="at least 2 classes"):
        CGANConfig(num_classes=1)


# --- spectral norm and minibatch std -----------------------------------------------------------


@pytest.mark.parametrize("name", FAMILIES)
def test_spectral_norm_wraps_every_d_layer(name):
    spec, config, generator, discriminator = build(name, spectral_norm=True)
    layers = [m for m in discriminator.modules() if isinstance(m, nn.Linear | nn.Conv2d)]
    # cGAN's label projection is an input embedding, not one of D's scoring layers
    layers = [m for m in layers if m is not getattr(discriminator, "project_label", None)]
    assert layers and all(parametrize.is_parametrized(m, "weight") for m in layers)
    assert not any(isinstance(m, nn.BatchNorm2d | nn.BatchNorm1d) for m in discriminator.modules())
    assert not any(parametrize.is_parametrized(m) for m in generator.modules())
    _, _, _, plain = build(name)
    assert not any(parametrize.is_parametrized(m) for m in plain.modules())


def test_spectral_norm_bounds_the_largest_singular_value():
    _, _, _, discriminator = build("dcgan", spectral_norm=True)
    discriminator.train()
    for _ in range(5):  # power iterations run in training-mode forward passes
        discriminator(torch.randn(B, 1, 28, 28))
    weight = discriminator.head.weight  # the normalised weight
    assert torch.linalg.matrix_norm(weight.detach(), ord=2).item() == pytest.approx(1.0, abs=1e-3)
    raw = discriminator.head.parametrizations.weight.original
    assert torch.linalg.matrix_norm(raw.detach(), ord=2).item() != pytest.approx(1.0, abs=1e-2)


@pytest.mark.parametrize("name", FAMILIES)
def test_minibatch_std_makes_d_look_at_the_whole_batch(name):
    """Without it a sample's logit (in eval mode) ignores the rest of the batch; with it, not."""
    results = {}
    for enabled in (False, True):
        torch.manual_seed(0)
        spec, _, _, discriminator = build(name, minibatch_std=enabled)
        discriminator.eval()
        labels = labels_for(spec, 4)
        x = torch.rand(4, 1, 28, 28) * 2 - 1
        y = x.clone()
        y[1:] = torch.rand(3, 1, 28, 28) * 2 - 1  # same first image, different batch mates
        with torch.no_grad():
            results[enabled] = (discriminator(x, labels)[0], discriminator(y, labels)[0])
    assert torch.equal(*results[False])
    assert not torch.equal(*results[True])


def test_minibatch_std_layer():
    layer = MinibatchStdDev()
    assert layer(torch.randn(5, 7)).shape == (5, 8)
    assert layer(torch.randn(5, 3, 4, 4)).shape == (5, 4, 4, 4)
    same = torch.randn(1, 3, 4, 4).repeat(5, 1, 1, 1)
    assert torch.all(layer(same)[:, -1] == 0)  # a collapsed batch has zero spread
    spread = layer(torch.randn(64, 3, 4, 4))[:, -1]
    assert torch.all(spread > 0.5) and torch.all(spread == spread[0, 0, 0])


# --- registry ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", FAMILIES)
def test_a_config_read_back_rebuilds_the_same_networks(name):
    """A checkpoint keeps only the config (JSON) and the weights: the config read back must build
    networks the weights fit exactly (strict), computing the same outputs."""
    spec, config, generator, discriminator = build(name, spectral_norm=True, minibatch_std=True)
    read_back = config_from_dict(spec, json.loads(json.dumps(config_to_dict(config))))
    generator_2, discriminator_2 = spec.build(read_back)
    generator_2.load_state_dict(generator.state_dict(), strict=True)
    discriminator_2.load_state_dict(discriminator.state_dict(), strict=True)
    z, labels = torch.randn(B, config.latent_dim), labels_for(spec)  # (B, latent_dim), (B,)
    with torch.no_grad():
        x = generator.eval()(z, labels)  # (B, C, H, W)
        assert torch.equal(generator_2.eval()(z, labels), x)
        assert torch.equal(discriminator_2.eval()(x, labels), discriminator.eval()(x, labels))
    other = spec.make_config((1, 28, 28), 10, latent_dim=config.latent_dim + 1)
    with pytest.raises(RuntimeError, match="size mismatch"):  # a different config does not fit
        spec.build(other)[0].load_state_dict(generator.state_dict(), strict=True)


def test_registry_unknown_names():
    with pytest.raises(ValueError, match="unknown model 'stylegan'.*mlp-gan"):
        get_spec("stylegan")
    with pytest.raises(ValueError, match="no preset"):
        get_spec("dcgan").make_config((1, 28, 28), preset="huge")


@pytest.mark.parametrize("name", FAMILIES)
def test_config_json_round_trip(name):
    spec = get_spec(name)
    config = spec.make_config((1, 28, 28), 10, spectral_norm=True)
    values = json.loads(json.dumps(config_to_dict(config)))
    assert config_from_dict(spec, values) == config
    with pytest.raises(ValueError, match="not part of"):
        config_from_dict(spec, {**values, "n_layers": 3})


def test_conditional_spec_gets_class_count():
    assert get_spec("cgan").make_config((1, 28, 28), num_classes=3).num_classes == 3


def test_dcgan_d_channels_widen_only_d_and_are_checked() -> None:
    from trainers.models.dcgan import DCGANDiscriminator, DCGANGenerator, dcgan_config_for

    mirror = dcgan_config_for((1, 28, 28))
    wide = dcgan_config_for((1, 28, 28), d_channels=(128, 256))
    count = lambda module: sum(p.numel() for p in module.parameters())  # noqa: E731
    assert count(DCGANGenerator(wide)) == count(DCGANGenerator(mirror))
    d = DCGANDiscriminator(wide)
    assert count(d) > 3 * count(DCGANDiscriminator(mirror))
    assert [m.out_channels for m in d.modules() if isinstance(m, torch.nn.Conv2d)] == [128, 256]
    assert d(torch.randn(3, 1, 28, 28)).shape == (3,)
    with pytest.raises(ValueError, match="one width per halving"):
        dcgan_config_for((1, 28, 28), d_channels=(64,))
