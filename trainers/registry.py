"""The registry: everything generic code knows about a model family comes from here.

The CLI (one sub-command per family), the checkpoint loader and the explorer's lists all read
these entries, so adding a family is one model file plus one ``register(ModelSpec(...))`` (the
junyanz/CycleGAN pattern). ``families(...)`` lists them in display order:

    >>> [spec.name for spec in families(live_trainable=True)]
    ['dcgan', 'cgan', 'mlp-gan']
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
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

#: The trainers a family can name: the GAN engine (trainers/engine.py) or the CycleGAN trainer.
TRAINERS: tuple[str, ...] = ("gan", "cyclegan")


@dataclass(frozen=True)
class Preset:
    """A named starting point of a family: model-config values and, optionally, training values.

    Args:
        model: the family config's values, e.g. ``{"channels": (64, 32)}``.
        train: ``TrainConfig`` values, e.g. ``{"batch_size": 32, "lr_g": 1e-3}`` (the CLI and
            the Train tab start from them; the user's own flags and widgets still win).
        description: one line for ``--help`` and the explorer.
    """

    model: Mapping[str, Any] = field(default_factory=dict)
    train: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""


@dataclass(frozen=True)
class ModelSpec:
    """Everything generic code needs to know about one family.

    Args:
        name: the checkpoint name (meta.json "model"), e.g. "dcgan".
        config_cls: the family's ``@dataclass`` config (its ``option`` fields are the user's).
        generator_cls / discriminator_cls: ``nn.Module`` classes built from a config.
        conditional: True when G and D take class labels.
        default_config: builds the default config for an image shape (and overrides).
        presets: named starting points: a :class:`Preset` (model and training values) or a
            plain dict of model-config values, e.g. ``{"resize-conv": {"upsample": ...}}``.
        description: one line for ``--help`` and the explorer.
        display_name: the name people read, e.g. "DCGAN" (default: ``name``).
        order: position in every list (CLI help, dropdowns); smaller first.
        trainer: which trainer runs it: "gan" (the GAN engine) or "cyclegan".
        live_trainable: can train in the explorer's Train tab (default: the GAN engine's).
        cli_command: its ``gan-train`` sub-command (default: ``name``).
        samples_from_noise: G maps a latent z to an image (default: the config has
            ``latent_dim``); False for image-to-image families such as CycleGAN (see
            :attr:`image_to_image`).
        convolutional: G and D are built of convolutions, so the pages about layers and
            feature maps apply (tests/test_registry.py checks it against the built modules).

    What the explorer and the trainers ask about a family, they ask here: ``conditional``
    (class labels), ``samples_from_noise`` / ``image_to_image``, ``convolutional``,
    ``live_trainable`` and ``trainer``; never a list of family names.
    """

    name: str
    config_cls: type
    generator_cls: type[nn.Module]
    discriminator_cls: type[nn.Module]
    conditional: bool
    default_config: Callable[..., Any]
    presets: Mapping[str, Preset | Mapping[str, Any]] = field(default_factory=dict)
    description: str = ""
    display_name: str = ""
    order: int = 100
    trainer: str = "gan"
    live_trainable: bool | None = None
    cli_command: str = ""
    samples_from_noise: bool | None = None
    convolutional: bool = False

    def __post_init__(self) -> None:
        if self.trainer not in TRAINERS:
            raise ValueError(f"{self.name}: unknown trainer {self.trainer!r}; one of {TRAINERS}")
        fill = object.__setattr__  # frozen: fill the derived defaults once
        fill(self, "display_name", self.display_name or self.name)
        fill(  # a plain dict is a preset of model values only
            self,
            "presets",
            {
                name: value if isinstance(value, Preset) else Preset(model=dict(value))
                for name, value in self.presets.items()
            },
        )
        fill(self, "cli_command", self.cli_command or self.name)
        if self.live_trainable is None:
            fill(self, "live_trainable", self.trainer == "gan")
        if self.samples_from_noise is None:
            names = {f.name for f in dataclasses.fields(self.config_cls)}
            fill(self, "samples_from_noise", "latent_dim" in names)

    @property
    def image_to_image(self) -> bool:
        """G maps an image to an image (CycleGAN): the opposite of ``samples_from_noise``."""
        return not self.samples_from_noise

    def make_config(
        self,
        image_shape: tuple[int, int, int],
        num_classes: int = 0,
        preset: str | None = None,
        **overrides: Any,
    ) -> Any:
        """The config for this data, with a preset and then explicit overrides applied."""
        values: dict[str, Any] = dict(self.preset(preset).model) if preset else {}
        values.update(overrides)
        if self.conditional:
            values.setdefault("num_classes", num_classes)
        return self.default_config(tuple(image_shape), **values)

    def preset(self, name: str) -> Preset:
        """The named preset, or a ValueError that lists this family's presets."""
        if name not in self.presets:
            raise ValueError(
                f"{self.name} has no preset {name!r}; presets: {sorted(self.presets) or 'none'}"
            )
        return self.presets[name]

    def preset_train_values(self, preset: str | None) -> dict[str, Any]:
        """The ``TrainConfig`` values a preset starts from ({} for None or a model-only one)."""
        return dict(self.preset(preset).train) if preset else {}

    def build(self, config: Any) -> tuple[nn.Module, nn.Module]:
        """(generator, discriminator) for a config."""
        return self.generator_cls(config), self.discriminator_cls(config)


def _mlp_default(image_shape: tuple[int, int, int], **overrides: Any) -> MLPGANConfig:
    return MLPGANConfig(image_shape=image_shape, **overrides)


def _cgan_default(image_shape: tuple[int, int, int], **overrides: Any) -> CGANConfig:
    return CGANConfig(image_shape=image_shape, **overrides)


#: Every registered family by name (``register`` / ``unregister`` change it).
MODELS: dict[str, ModelSpec] = {}


def register(spec: ModelSpec, replace: bool = False) -> ModelSpec:
    """Add a family (at import or at run time); ``replace`` allows re-registering a name."""
    if not replace:
        if spec.name in MODELS:
            raise ValueError(f"a model family named {spec.name!r} is already registered")
        taken = {s.cli_command for s in MODELS.values()}
        if spec.cli_command in taken:
            raise ValueError(f"the sub-command {spec.cli_command!r} is already taken")
    MODELS[spec.name] = spec
    return spec


def unregister(name: str) -> ModelSpec:
    """Remove a family; returns its spec."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; known models: {', '.join(MODELS)}")
    return MODELS.pop(name)


def families(
    live_trainable: bool | None = None,
    samples_from_noise: bool | None = None,
    trainer: str | None = None,
    conditional: bool | None = None,
    convolutional: bool | None = None,
) -> list[ModelSpec]:
    """The registered families sorted by ``order`` (then name); None means "any"."""
    wanted = {
        "live_trainable": live_trainable,
        "samples_from_noise": samples_from_noise,
        "trainer": trainer,
        "conditional": conditional,
        "convolutional": convolutional,
    }
    return sorted(
        (
            spec
            for spec in MODELS.values()
            if all(value is None or getattr(spec, key) == value for key, value in wanted.items())
        ),
        key=lambda spec: (spec.order, spec.name),
    )


for _spec in (  # registration order = MODELS order; lists sort by `order`
    ModelSpec(
        name="mlp-gan",
        display_name="MLP-GAN",
        order=30,
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
        display_name="DCGAN",
        order=10,
        config_cls=DCGANConfig,
        generator_cls=DCGANGenerator,
        discriminator_cls=DCGANDiscriminator,
        conditional=False,
        default_config=dcgan_config_for,
        convolutional=True,
        presets={
            "resize-conv": {"upsample": "resize-conv"},
            # QUALITY: tuned with benchmarks/classroom.py (figures in its docstring): half the
            # default widths, minibatch std-dev (all ten digits), small batches at a higher
            # learning rate (more updates per second), an EMA of G, fp32 (faster than bf16 at
            # this size), and a one-minute time budget.
            "classroom": Preset(
                model={"channels": (64, 32), "minibatch_std": True},
                train={
                    "batch_size": 16,
                    "lr_g": 5e-4,
                    "lr_d": 5e-4,
                    "loss": "non-saturating",
                    "ema_decay": 0.995,
                    "precision": "fp32",
                    "steps": 20_000,
                    "max_seconds": 60.0,
                },
                description="digits within a minute on a CPU: narrow nets, small batches, EMA",
            ),
        },
        description="DCGAN (Radford et al. 2015): transposed-conv G, strided-conv D",
    ),
    ModelSpec(
        name="cgan",
        display_name="cGAN",
        order=20,
        config_cls=CGANConfig,
        generator_cls=CGANGenerator,
        discriminator_cls=CGANDiscriminator,
        conditional=True,
        default_config=_cgan_default,
        convolutional=True,
        presets={"resize-conv": {"upsample": "resize-conv"}},
        description="Conditional GAN (Mirza & Osindero 2014): G and D see the class label",
    ),
    ModelSpec(
        name="cyclegan",
        display_name="CycleGAN",
        order=40,
        config_cls=CycleGANConfig,
        generator_cls=CycleGANGenerators,  # .a2b and .b2a: weights "G.a2b.*", "G.b2a.*"
        discriminator_cls=CycleGANDiscriminators,  # .a and .b: weights "D.a.*", "D.b.*"
        conditional=False,
        default_config=cyclegan_config_for,
        convolutional=True,
        presets={"resize-conv": {"upsample": "resize-conv"}},
        description="CycleGAN (Zhu et al. 2017): unpaired image-to-image translation, no latent z",
        trainer="cyclegan",
    ),
):
    register(_spec)


def family_label(model: Any, config: dict[str, Any] | None) -> str:
    """A checkpoint's family as people read it, from its model name and config dict:
    "DCGAN", "DCGAN (resize-conv)", "DCGAN + InfoGAN code (10 categories)"."""
    spec = MODELS.get(str(model))
    label = spec.display_name if spec else str(model or "a model")
    config = config or {}
    if config.get("upsample") == "resize-conv":
        label += " (resize-conv)"
    if config.get("latent_code"):
        label += f" + InfoGAN code ({config['latent_code']} categories)"
    return label


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
