"""What the Train tab asks for, generated from the config dataclasses (no front end here).

The options are declared once, in ``TrainConfig`` (trainers/engine.py) and in each family's
config (trainers/models/*.py), with :func:`trainers.options.option`. This module lists the ones
a page shows (``ui=True``) and turns the page's values, a flat ``{name: value}`` dict, back
into :class:`JobOptions` (which kind of widget each option wants is
:func:`explorer.params.widget_kind`)::

    specs = train_specs() + list(model_specs().values())  # one widget per OptionSpec
    options = JobOptions.from_values({"model": "dcgan", "data": "mnist", "steps": 500, ...})

A Gradio tab and a Streamlit page build their widgets from the same specs, so a new option
(one line in a config class) appears in both and in ``options.json``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from trainers.data import parse_dataset_name
from trainers.engine import TrainConfig
from trainers.options import OptionSpec, option_specs
from trainers.registry import ModelSpec, families, get_spec

NO_PRESET = "(none)"
TOY_DATA = "toy2d"
FOLDER_DATA = "folder"
UPLOAD_DATA = "upload"
DATA_CHOICES: list[tuple[str, str]] = [
    ("MNIST", "mnist"),
    ("Fashion-MNIST", "fashion-mnist"),
    ("CIFAR-10", "cifar10"),
    ("an image folder", FOLDER_DATA),
    ("2-D toy (see the 2-D playground tab)", TOY_DATA),
]
#: A hosted page: never a typed server path; your own images come as an upload.
HOSTED_DATA_CHOICES: list[tuple[str, str]] = [
    *DATA_CHOICES[:3],
    ("your images (upload)", UPLOAD_DATA),
    DATA_CHOICES[4],
]
UPLOAD_NAME = "your images"  # the data set's name in a run's status and meta.json
TOY_MESSAGE = (
    "The 2-D toy sets (ring, grid, moons, spiral, your own points) train in the **2-D playground** "
    "tab: it shows D's heatmap and G's gradient arrows, which only make sense in 2-D."
)
FOLDER_IMAGE_SIZE = 32  # folder images are resized to this side unless the page says otherwise

#: Option groups in the order a page shows them, with their headings.
GROUP_TITLES = {
    "model": "Model",
    "optimisation": "The game and its optimiser",
    "run": "The run",
}


# ---------------------------------------------------------------------------------------------
# Which options, which widgets
# ---------------------------------------------------------------------------------------------


def live_families() -> list[ModelSpec]:
    """The families that can train in the browser (``live_trainable``), in display order."""
    return families(live_trainable=True)


def family_choices() -> list[tuple[str, str]]:
    """(label, name) of every live-trainable family, for a dropdown."""
    return [(spec.display_name, spec.name) for spec in live_families()]


CLASSROOM = "classroom"


def default_family() -> str:
    """The family a page starts with: the first (in display order) with a "classroom" preset,
    i.e. DCGAN, whose preset is tuned to draw digits within a minute on a CPU
    (benchmarks/classroom.py)."""
    live = live_families()
    return next((spec.name for spec in live if CLASSROOM in spec.presets), live[0].name)


def preset_choices(model: str) -> list[str]:
    """ "(none)" and the family's presets."""
    try:
        return [NO_PRESET, *sorted(get_spec(model).presets)]
    except ValueError:
        return [NO_PRESET]


def default_preset(model: str) -> str:
    """ "classroom" where the family has it, else "(none)"."""
    return CLASSROOM if CLASSROOM in preset_choices(model) else NO_PRESET


def preset_values(model: str, preset: str | None) -> dict[str, Any]:
    """The value each widget of a family starts at: the option's declared default, replaced by
    the preset's model and training values (e.g. DCGAN "classroom": batch 16, lr 5e-4, a 60 s
    time budget). A page shows these whenever the family or the preset changes; what the user
    then sets wins (see :meth:`JobOptions.from_values`)."""
    values = {spec.name: spec.default for spec in [*model_specs(model).values(), *train_specs()]}
    if preset not in (None, "", NO_PRESET):
        chosen = get_spec(model).preset(preset)
        values.update({k: v for k, v in {**chosen.model, **chosen.train}.items() if k in values})
    return values


def train_specs() -> list[OptionSpec]:
    """TrainConfig's options a page shows (``ui=True``), in declaration order; "also log to"
    (``report_to``) only where :func:`tracking_allowed`."""
    return [
        spec
        for spec in option_specs(TrainConfig)
        if spec.ui and _has_widget(spec) and (spec.name != "report_to" or tracking_allowed())
    ]


#: The variable that lets a hosted explorer's live runs log to TensorBoard, trackio or W&B.
TRACKING_ENV = "GAN_EXPLORER_ENABLE_TRACKING"


def tracking_allowed(environ: Mapping[str, str] | None = None) -> bool:
    """Whether live runs may log to TensorBoard, trackio or W&B: always on one's own computer;
    on a hosted Space (``SPACE_ID`` or ``GAN_EXPLORER_PUBLIC=1``) only with
    ``GAN_EXPLORER_ENABLE_TRACKING=1`` (the trackers write to the server's disk or account)."""
    from explorer.context import hosted_mode

    environ = os.environ if environ is None else environ
    return not hosted_mode(environ=environ) or environ.get(TRACKING_ENV, "") == "1"


def model_specs(model: str | None = None) -> dict[str, OptionSpec]:
    """The model options a page shows: of one family, or (``model=None``) the union over the
    live-trainable families, by name (a page shows each widget only for the families that
    have the option; see :func:`explorer.live_training.page.option_shown`)."""
    chosen = [get_spec(model)] if model else live_families()
    specs: dict[str, OptionSpec] = {}
    for family in chosen:
        for spec in option_specs(family.config_cls):
            if spec.ui and _has_widget(spec):
                specs.setdefault(spec.name, spec)
    return specs


def _has_widget(spec: OptionSpec) -> bool:
    return spec.type in (bool, int, float, str)  # tuples (layer widths) stay CLI-only


def coerce(spec: OptionSpec, value: Any) -> Any:
    """A widget's value -> the option's type, checked against its bounds and choices.

    Raises ValueError with the widget's label, e.g. "k (D steps per G step) must be between
    1 and 20, got 30".
    """
    if value is None or value == "":
        return spec.default
    try:
        if spec.type is bool:
            result: Any = bool(value)
        elif spec.type is int:
            number = float(value)
            if not number.is_integer():
                raise ValueError
            result = int(number)
        elif spec.type is float:
            result = float(value)
            if not math.isfinite(result):
                raise ValueError
        else:
            result = str(value)
    except (TypeError, ValueError, OverflowError):
        kind = {int: "whole number", float: "number", bool: "yes or no"}.get(spec.type, "text")
        raise ValueError(f"{spec.label} must be a {kind}, got {str(value)[:40]!r}") from None
    if spec.choices and result not in spec.choices:
        raise ValueError(f"{spec.label} must be one of {', '.join(map(str, spec.choices))}")
    low, high = spec.minimum, spec.maximum
    if spec.type in (int, float) and (
        (low is not None and result < low) or (high is not None and result > high)
    ):
        bounds = (
            f"between {low:g} and {high:g}"
            if low is not None and high is not None
            else (f"at least {low:g}" if low is not None else f"at most {high:g}")
        )
        raise ValueError(f"{spec.label} must be {bounds}, got {result:g}")
    return result


# ---------------------------------------------------------------------------------------------
# What to train
# ---------------------------------------------------------------------------------------------


@dataclass
class JobOptions:
    """Everything a page asks for.

    Args:
        model: a live-trainable family, e.g. "dcgan".
        dataset: "mnist", "fashion-mnist", "cifar10" or "folder:PATH".
        data_dir: where the data sets live (None: $GAN_EXPLORER_DATA or ~/.cache/gan-explorer/data).
        image_size: side for folder images (default 32 here: small enough to train live).
        preset: a named model variant of the family (e.g. mlp-gan's "classroom").
        device: "auto" (CUDA, then MPS, then CPU), "cpu", "cuda" or "mps".
        train: TrainConfig options by name (the rest keep TrainConfig's defaults).
        model_options: the family config's options that differ from their declared default
            (a preset and the family's size-dependent defaults decide the others).
    """

    model: str = "dcgan"
    dataset: str = "mnist"
    data_dir: str | None = None
    image_size: int | None = None
    preset: str | None = None
    device: str = "auto"
    train: dict[str, Any] = field(default_factory=dict)
    model_options: dict[str, Any] = field(default_factory=dict)

    @property
    def steps(self) -> int:
        return int(self.train.get("steps", TrainConfig().steps))

    @property
    def loss(self) -> str:
        return str(self.train.get("loss", TrainConfig().loss))

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> JobOptions:
        """A page's flat ``{name: value}`` -> JobOptions (raises ValueError for a bad value).

        Names: ``model``, ``preset``, ``data`` (a :data:`DATA_CHOICES` value), ``folder``,
        ``image_size``, ``data_dir``, ``device``, and any option of :func:`train_specs` or of
        the family's :func:`model_specs` (others are ignored: a page may send the widgets of
        every family).
        """
        model = values.get("model") or default_family()
        data = values.get("data") or "mnist"
        if data == TOY_DATA:
            raise ValueError(TOY_MESSAGE)
        image_size = None
        if data == UPLOAD_DATA:  # the images themselves come with the request (see uploads.py)
            data = UPLOAD_NAME
            image_size = int(values.get("image_size") or FOLDER_IMAGE_SIZE)
        elif data == FOLDER_DATA:
            folder = str(values.get("folder") or "").strip()
            if not folder:
                raise ValueError(
                    "type the path of your image folder (one sub-folder per class, or just images)"
                )
            data = f"folder:{folder}"
            image_size = int(values.get("image_size") or FOLDER_IMAGE_SIZE)
        preset = values.get("preset")
        train = {
            spec.name: coerce(spec, values[spec.name])
            for spec in train_specs()
            if spec.name in values
        }
        model_options = {}
        if model in {spec.name for spec in live_families()}:
            # only what differs from where the widget started (the preset, then the declared
            # default) is an override: the preset and the size-dependent defaults decide the rest
            started = preset_values(model, None if preset == NO_PRESET else preset)
            for spec in model_specs(model).values():
                if spec.name in values:
                    value = coerce(spec, values[spec.name])
                    if value != started[spec.name]:
                        model_options[spec.name] = value
        return cls(
            model=model,
            dataset=data,
            data_dir=str(values.get("data_dir") or "").strip() or None,
            image_size=image_size,
            preset=None if preset in (None, "", NO_PRESET) else preset,
            device=values.get("device") or "auto",
            train=train,
            model_options=model_options,
        )

    def train_config(self, dataset: str | None = None) -> TrainConfig:
        """The TrainConfig of a live run: the preset's training values, then the chosen
        options (the preset's values with no widget, e.g. precision, stay); grids by time, not
        by step."""
        return TrainConfig(
            model=self.model,
            dataset=dataset or self.dataset,
            **{**get_spec(self.model).preset_train_values(self.preset), **self.train},
            sample_every=0,
            checkpoint_every=0,
            log_every=1,
        )

    def check(self, dataset: bool = True) -> None:
        """Raise ValueError with a readable message for a bad option (``dataset``: check its
        name too)."""
        spec = get_spec(self.model)
        if not spec.live_trainable:
            raise ValueError(
                f"{spec.display_name} does not train in the browser; use "
                f"`gan-train {spec.cli_command}` (here: "
                + ", ".join(name for name, _ in family_choices())
                + ")."
            )
        if dataset:
            parse_dataset_name(self.dataset)
        if self.preset and self.preset not in spec.presets:
            raise ValueError(
                f"{self.model} has no preset {self.preset!r}; presets: {sorted(spec.presets)}"
            )
        specs = {s.name: s for s in train_specs()}
        for name, value in self.train.items():
            if name not in specs:
                raise ValueError(f"{name!r} is not a training option here")
            coerce(specs[name], value)
        self.train_config()  # TrainConfig checks the combination (loss name, EMA decay, ...)
