"""Gradio components made from declared parameters (:mod:`explorer.params`): a page's label,
help text, bounds and default come from its core module, never from here."""

from __future__ import annotations

from typing import Any

import gradio as gr

from explorer.params import widget_kind
from trainers.options import OptionSpec


def option_widget(spec: OptionSpec, *, elem_id: str | None = None, **overrides: Any) -> Any:
    """The component for one declared parameter; ``overrides`` (``value=``, ``visible=``,
    ``maximum=``, ``scale=``, ...) win over the declaration."""
    kind = widget_kind(spec)
    common: dict[str, Any] = {"label": spec.label, "info": spec.help or None, "elem_id": elem_id}
    value = overrides.pop("value", spec.default)
    if kind in ("choice", "radio"):
        component = gr.Radio if kind == "radio" else gr.Dropdown
        choices = overrides.pop("choices", list(spec.choices or ()))
        return component(choices, value=value, **{**common, **overrides})
    if kind == "toggle":
        return gr.Checkbox(bool(value), **{**common, **overrides})
    if kind == "slider":
        bounds = {"minimum": spec.minimum, "maximum": spec.maximum, "step": spec.step or 1}
        return gr.Slider(value=value, **{**common, **bounds, **overrides})
    if kind in ("integer", "number"):
        number = {
            "minimum": spec.minimum,
            "maximum": spec.maximum,
            "step": spec.step or (1 if kind == "integer" else None),
            "precision": 0 if kind == "integer" else None,
        }
        return gr.Number(value, **{**common, **number, **overrides})
    return gr.Textbox("" if value is None else str(value), **{**common, **overrides})
