"""A page's parameters, declared once and shown by both editions.

Each page of the explorer declares what a visitor can set (name, label, range, default, help)
as a dataclass whose fields are :func:`trainers.options.option` declarations, the way the
trainers' configs declare their options::

    @dataclass
    class GenerateParams:
        psi: float = option(1.0, "truncation ψ: 0 = the average face, 1 = the full spread",
                            minimum=0.0, maximum=2.0, step=0.05, ui_label="truncation ψ")

    spec = page_specs(GenerateParams)["psi"]    # an OptionSpec: label, help, bounds, default

The Gradio edition turns a spec into a component with
:func:`explorer.gradio_ui.widgets.option_widget`, the Streamlit edition into a widget with
:func:`explorer.streamlit_ui.widgets.option_widget`: the numbers and sentences are written
here once, and the view function that uses the values checks them against the same spec.
"""

from __future__ import annotations

import math
from typing import Any

from trainers.options import OptionSpec, option_specs

#: The widget kinds both editions know.
WIDGET_KINDS = ("choice", "radio", "toggle", "slider", "integer", "number", "text")


def page_specs(params_cls: type) -> dict[str, OptionSpec]:
    """A page's declared parameters by name, in field order."""
    return {spec.name: spec for spec in option_specs(params_cls)}


def widget_kind(spec: OptionSpec) -> str:
    """The declared ``widget`` when there is one, else "choice" (a dropdown), "toggle" (a
    checkbox), "slider" (an int with a short range, or a float with both bounds and a step),
    "integer", "number" or "text"."""
    if spec.widget:
        if spec.widget not in WIDGET_KINDS:
            raise ValueError(f"{spec.name}: unknown widget {spec.widget!r}; one of {WIDGET_KINDS}")
        return spec.widget
    if spec.choices:
        return "choice"
    if spec.type is bool:
        return "toggle"
    bounded = spec.minimum is not None and spec.maximum is not None
    if spec.type is int:
        short = bounded and (spec.maximum - spec.minimum) / (spec.step or 1) <= 100
        return "slider" if short else "integer"
    if spec.type is float:
        return "slider" if bounded and spec.step else "number"
    return "text"


def float_step(spec: OptionSpec) -> float:
    """A float option's increment: its declared step, else a tenth of its default's order of
    magnitude (0.01 for a zero default)."""
    if spec.step:
        return float(spec.step)
    default = abs(float(spec.default or 0))
    return 10 ** math.floor(math.log10(default)) / 10 if default else 0.01


def clamp(spec: OptionSpec, value: Any) -> Any:
    """``value`` within the spec's bounds, of the spec's type (a link's or an old session's
    value a page shows)."""
    if spec.type in (int, float):
        value = spec.type(value)
        if spec.minimum is not None:
            value = max(value, spec.type(spec.minimum))
        if spec.maximum is not None:
            value = min(value, spec.type(spec.maximum))
    return value
