"""The one lookup from a model name to its classes.

The CLI, the checkpoint loader and the explorer all go through ``get_spec(name)``, so adding
a family means adding one entry here (the junyanz/CycleGAN pattern).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from torch import nn

from trainers.models.cgan import CGANConfig, CGANDiscriminator, CGANGenerator
from trainers.models.cyclegan import (
    CycleGANConfig,
    CycleGANDiscriminators,
    CycleGANGenerators,
    cyclegan_config_for,
)
from trainers.models.dcgan import DCGANConfig, DCGANDiscriminator, DCGANGenerator, dcgan_config_for
from trainers.models.mlp_gan import MLPDiscriminator, MLPGANConfig, MLPGenerator


@dataclass(frozen=True)
class ModelSpec:
    """Everything generic code needs to know about one family.

    Args:
        name: the CLI / checkpoint name, e.g. "dcgan".
        config_cls: the family's ``@dataclass`` config.
        generator_cls / discriminator_cls: ``nn.Module`` classes built from a config.
        conditional: True when G and D take class labels.
        default_config: builds the default config for an image shape and class count.
        presets: named config overrides, e.g. ``{"classroom": {...}}``.
        description: one line for ``--help`` and the explorer.
    """

    name: str
    config_cls: type
    generator_cls: type[nn.Module]
    discriminator_cls: type[nn.Module]
    conditional: bool
    default_config: Callable[..., Any]
    presets: dict[str, dict[str, Any]] = field(default_factory=dict)
    description: str = ""

    def make_config(
        self,
        image_shape: tuple[int, int, int],
        num_classes: int = 0,
        preset: str | None = None,
        **overrides: Any,
    ) -> Any:
        """The config for this data, with a preset and then explicit overrides applied."""
        values: dict[str, Any] = {}
        if preset:
            if preset not in self.presets:
                raise ValueError(
                    f"{self.name} has no preset {preset!r}; presets: {sorted(self.presets) or 'none'}"
                )
            values.update(self.presets[preset])
        values.update(overrides)
        if self.conditional:
            values.setdefault("num_classes", num_classes)
        return self.default_config(tuple(image_shape), **values)

    def build(self, config: Any) -> tuple[nn.Module, nn.Module]:
        """(generator, discriminator) for a config."""
        return self.generator_cls(config), self.discriminator_cls(config)


def _mlp_default(image_shape: tuple[int, int, int], **overrides: Any) -> MLPGANConfig:
    return MLPGANConfig(image_shape=image_shape, **overrides)


def _cgan_default(image_shape: tuple[int, int, int], **overrides: Any) -> CGANConfig:
    return CGANConfig(image_shape=image_shape, **overrides)


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in [
        ModelSpec(
            name="mlp-gan",
            config_cls=MLPGANConfig,
            generator_cls=MLPGenerator,
            discriminator_cls=MLPDiscriminator,
            conditional=False,
            default_config=_mlp_default,
            presets={"classroom": {"g_hidden": (128,), "d_hidden": (128,), "batchnorm": False}},
            description="MLP-GAN (Goodfellow et al. 2014): fully connected G and D",
        ),
        ModelSpec(
            name="dcgan",
            config_cls=DCGANConfig,
            generator_cls=DCGANGenerator,
            discriminator_cls=DCGANDiscriminator,
            conditional=False,
            default_config=dcgan_config_for,
            presets={"resize-conv": {"upsample": "resize-conv"}},
            description="DCGAN (Radford et al. 2015): transposed-conv G, strided-conv D",
        ),
        ModelSpec(
            name="cgan",
            config_cls=CGANConfig,
            generator_cls=CGANGenerator,
            discriminator_cls=CGANDiscriminator,
            conditional=True,
            default_config=_cgan_default,
            presets={"resize-conv": {"upsample": "resize-conv"}},
            description="Conditional GAN (Mirza & Osindero 2014): G and D see the class label",
        ),
        ModelSpec(
            name="cyclegan",
            config_cls=CycleGANConfig,
            generator_cls=CycleGANGenerators,  # .a2b and .b2a: weights "G.a2b.*", "G.b2a.*"
            discriminator_cls=CycleGANDiscriminators,  # .a and .b: weights "D.a.*", "D.b.*"
            conditional=False,
            default_config=cyclegan_config_for,
            presets={"resize-conv": {"upsample": "resize-conv"}},
            description="CycleGAN (Zhu et al. 2017): unpaired image-to-image translation, no latent z",
        ),
    ]
}


def get_spec(name: str) -> ModelSpec:
    """The spec for a model name, or a ValueError that lists the known names."""
    try:
        return MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; known models: {', '.join(MODELS)}") from None


def config_to_dict(config: Any) -> dict[str, Any]:
    """A JSON-ready dict of a config dataclass (tuples become lists)."""
    return dataclasses.asdict(config)


def config_from_dict(spec: ModelSpec, values: dict[str, Any]) -> Any:
    """Rebuild a config from its JSON dict, refusing unknown keys (a foreign or newer file)."""
    known = {f.name for f in dataclasses.fields(spec.config_cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"config keys {unknown} are not part of {spec.config_cls.__name__}")
    fixed = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
    return spec.config_cls(**fixed)
