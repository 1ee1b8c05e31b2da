"""Streamlit widgets made from declared parameters (:mod:`explorer.params`): a page's label,
help text, bounds and default come from its core module, never from here."""

from __future__ import annotations

from typing import Any

import streamlit as st

from explorer.params import float_step, widget_kind
from trainers.options import OptionSpec


def option_widget(spec: OptionSpec, key: str, *, container: Any = st, **overrides: Any) -> Any:
    """The widget for one declared parameter, its value kept in ``st.session_state[key]``
    (started at the spec's default, or ``value=`` of ``overrides``); other ``overrides``
    (``min_value=``, ``max_value=``, ``disabled=``, ...) win over the declaration."""
    kind = widget_kind(spec)
    start = overrides.pop("value", spec.default)
    if key not in st.session_state:
        st.session_state[key] = start
    common: dict[str, Any] = {"key": key, "help": spec.help or None}
    label = overrides.pop("label", spec.label)
    if kind in ("choice", "radio"):
        widget = container.radio if kind == "radio" else container.selectbox
        options = overrides.pop("options", list(spec.choices or ()))
        return widget(label, options, **{**common, **overrides})
    if kind == "toggle":
        return container.checkbox(label, **{**common, **overrides})
    cast = int if (spec.item_type or spec.type) is int else float  # a tuple's items too
    bounds: dict[str, Any] = {
        "min_value": None if spec.minimum is None else cast(spec.minimum),
        "max_value": None if spec.maximum is None else cast(spec.maximum),
        "step": cast(spec.step or 1) if cast is int else float_step(spec),
    }
    if kind == "slider":
        return container.slider(label, **{**common, **bounds, **overrides})
    if kind in ("integer", "number"):
        fmt = {} if cast is int else {"format": "%g"}
        return container.number_input(label, **{**common, **bounds, **fmt, **overrides})
    return container.text_input(label, **{**common, **overrides})
