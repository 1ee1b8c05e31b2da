"""Options declared once: a config dataclass field carries its help text, choices and bounds.

A field declared with :func:`option` is a user-facing option. Everything that shows options
is generated from these declarations, so a new option is one line in a config class:

- the CLI flags (``add_arguments`` / ``values_from_args``, used by ``gan-train``),
- the explorer's Train tab widgets (``option_specs`` where ``ui`` is true),
- ``options.json`` and the checkpoint's meta (``dataclasses.asdict(config)``).

    @dataclass
    class TrainConfig:
        lr_g: float = option(2e-4, "G's Adam learning rate", group="optimisation", minimum=0.0)

    option_specs(TrainConfig)[0]  # OptionSpec(name="lr_g", type=float, flag="--lr-g", ...)

Fields declared without ``option`` (the image shape, the class count) are set by code, not by
users, and are not listed.
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

#: The key of a field's metadata that holds its option declaration.
OPTION_KEY = "option"

#: Argument groups in the order ``--help`` shows them.
GROUPS: tuple[str, ...] = ("data", "run", "optimisation", "model")


@dataclass(frozen=True)
class OptionSpec:
    """One user-facing option of a config dataclass.

    Attributes:
        name: the field name, e.g. "lr_g" (also the argparse ``dest``).
        type: the value's type: bool, int, float, str or tuple.
        default: the field's default (None for a ``default_factory`` field).
        help: one line for ``--help`` and the widget's info text.
        choices: the allowed values (from ``choices=`` or a ``Literal`` type), else None.
        flag: the CLI flag, e.g. "--lr-g"; None when the option has no CLI flag.
        group: "data", "run", "optimisation" or "model" (the ``--help`` section / UI accordion).
        ui: whether the explorer's Train tab shows a widget for it.
        minimum / maximum / step: bounds and increment for a number widget (hints; the config's
            own ``__post_init__`` does the checking).
        label: the widget label, e.g. "time budget (s)".
        item_type: for tuple options, the type of each item (int for ``tuple[int, ...]``).
        length: for tuple options of fixed length (``tuple[int, int]``), that length, else None.
        widget: the widget a page shows ("slider", "radio", "number", ...); "" lets
            :func:`explorer.params.widget_kind` choose from the type and bounds.
    """

    name: str
    type: type
    default: Any
    help: str
    choices: tuple[Any, ...] | None = None
    flag: str | None = None
    group: str = "run"
    ui: bool = True
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = None
    label: str = ""
    item_type: type | None = None
    length: int | None = None
    widget: str = ""


def option(
    default: Any,
    help: str,
    *,
    choices: Sequence[Any] | None = None,
    flag: str | None = None,
    group: str = "run",
    ui: bool = True,
    minimum: float | None = None,
    maximum: float | None = None,
    step: float | None = None,
    ui_label: str | None = None,
    widget: str = "",
) -> Any:
    """A dataclass field that is a user-facing option.

    Args:
        default: the default value (a list, dict or set default is copied for each instance).
        help: one line for ``--help`` and the Train tab.
        choices: allowed values (a ``Literal[...]`` type gives them too).
        flag: the CLI flag; None derives it from the name ("lr_g" -> "--lr-g"), "" means none.
        group: "data", "run", "optimisation" or "model".
        ui: False keeps it out of the explorer's Train tab (e.g. the sample-grid interval).
        minimum / maximum / step: bounds and increment for number widgets.
        ui_label: the widget label (default: the name with spaces, "lr g").
        widget: the widget a page shows ("slider", "radio", ...); "" = chosen from the type.
    """
    declaration = {
        "help": help,
        "choices": tuple(choices) if choices is not None else None,
        "flag": flag,
        "group": group,
        "ui": ui,
        "minimum": minimum,
        "maximum": maximum,
        "step": step,
        "label": ui_label,
        "widget": widget,
    }
    metadata = {OPTION_KEY: declaration}
    if isinstance(default, list | dict | set):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


# --- reading the declarations ---------------------------------------------------------------


def _resolve_type(hint: Any, default: Any) -> tuple[type, tuple | None, type | None, int | None]:
    """(type, choices from a Literal, tuple item type, fixed tuple length) of a type hint."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):  # X | None -> X
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return _resolve_type(args[0] if len(args) == 1 else Any, default)
    if origin is typing.Literal:
        values = typing.get_args(hint)
        return type(values[0]), tuple(values), None, None
    if origin is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple, None, args[0], None
        return tuple, None, (args[0] if args else str), (len(args) or None)
    if isinstance(hint, type) and hint is not Any:
        return hint, None, None, None
    if isinstance(default, tuple):
        return tuple, None, type(default[0]) if default else str, None
    return (type(default) if default is not None else str), None, None, None


def option_specs(config_cls: type) -> list[OptionSpec]:
    """The options of a config dataclass (class or instance), in field order."""
    try:
        hints = typing.get_type_hints(config_cls)
    except (NameError, TypeError):  # an unresolvable annotation: fall back to the defaults
        hints = {}
    specs = []
    for f in dataclasses.fields(config_cls):
        declared = f.metadata.get(OPTION_KEY)
        if declared is None:
            continue
        default = f.default if f.default is not dataclasses.MISSING else None
        if f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        kind, literal, item_type, length = _resolve_type(hints.get(f.name, Any), default)
        flag = declared["flag"]
        specs.append(
            OptionSpec(
                name=f.name,
                type=kind,
                default=default,
                help=declared["help"],
                choices=declared["choices"] or literal,
                flag=("--" + f.name.replace("_", "-")) if flag is None else (flag or None),
                group=declared["group"],
                ui=declared["ui"],
                minimum=declared["minimum"],
                maximum=declared["maximum"],
                step=declared["step"],
                label=declared["label"] or f.name.replace("_", " "),
                item_type=item_type,
                length=length,
                widget=declared.get("widget", ""),
            )
        )
    return specs


def option_defaults(config_cls: type) -> dict[str, Any]:
    """{name: declared default} of a config's options."""
    return {spec.name: spec.default for spec in option_specs(config_cls)}


# --- argparse -------------------------------------------------------------------------------


def _help_text(spec: OptionSpec) -> str:
    text = spec.help
    if spec.default is not None and spec.type is not bool and "default" not in text.lower():
        shown = " ".join(map(str, spec.default)) if spec.type is tuple else spec.default
        text += f" (default {shown})"
    return text.replace("%", "%%")  # argparse %-formats help strings


def add_option(parser_or_group: Any, spec: OptionSpec) -> argparse.Action:
    """Add one option's flag. Its default is None, so ``values_from_args`` sees what was set."""
    kwargs: dict[str, Any] = {"dest": spec.name, "default": None, "help": _help_text(spec)}
    if spec.type is bool:
        kwargs["action"] = argparse.BooleanOptionalAction  # --spectral-norm / --no-spectral-norm
    elif spec.type is tuple:
        kwargs.update(type=spec.item_type, nargs=spec.length or "+", metavar=spec.name.upper())
    else:
        kwargs.update(type=spec.type, choices=spec.choices)
    return parser_or_group.add_argument(spec.flag, **kwargs)


def argument_group(parser: argparse.ArgumentParser, title: str) -> Any:
    """The parser's argument group with this title, created if it does not exist yet."""
    for group in parser._action_groups:  # argparse has no public lookup
        if group.title == title:
            return group
    return parser.add_argument_group(title)


def add_arguments(
    parser_or_group: Any, config_cls: type, exclude: set[str] | frozenset[str] = frozenset()
) -> None:
    """Add a flag for every option of ``config_cls`` (except ``exclude`` and flag-less ones).

    Given a parser, each option goes to the argument group named by its ``group``; given an
    argument group, all go there.
    """
    for spec in option_specs(config_cls):
        if spec.name in exclude or spec.flag is None:
            continue
        target = parser_or_group
        if isinstance(parser_or_group, argparse.ArgumentParser):
            target = argument_group(parser_or_group, spec.group)
        add_option(target, spec)


def values_from_args(args: argparse.Namespace, config_cls: type) -> dict[str, Any]:
    """{field: value} of the options the user set on the command line (tuples as tuples).

    Options left out are absent, so ``config_cls(**values)`` (or a family's config factory)
    applies its own defaults.
    """
    values = {}
    for spec in option_specs(config_cls):
        value = getattr(args, spec.name, None)
        if value is not None:
            values[spec.name] = tuple(value) if spec.type is tuple else value
    return values
