"""The latent widget in the Streamlit edition: a components.v1 component over the widget folder.

The widget (``explorer/web/latent-widget.js``) and its config (:mod:`explorer.widget`) are the
Gradio edition's; here ``index.html`` in :func:`explorer.widget.widget_root` is declared as a
component, so Streamlit's own server serves the script, onnxruntime-web and the ONNX files
from that one folder (by name, nothing else). The page passes the config as the component's
argument; a slider step inside the widget sends nothing back. The component's value is set
only when the widget steps aside (``{"fallback": reason}``), so the page can draw on the server.
"""

from __future__ import annotations

from typing import Any

import streamlit as st
import streamlit.components.v1 as components

from explorer import widget


@st.cache_resource(show_spinner=False)
def _component() -> Any:
    return components.declare_component("latent_widget", path=str(widget.widget_root()))


def show(config: dict[str, Any], key: str) -> str | None:
    """Draw the widget with ``config``; returns None while it runs, or why it stepped aside
    (after a caption saying so: the page then draws on the server)."""
    reason = config.get("fallback")
    if not reason:
        value = _component()(config=config, key=key, default=None)
        reason = value.get("fallback") if isinstance(value, dict) else None
    if reason:
        st.caption(f"{widget.TEXT['fallback']} {reason}.")
        return str(reason)
    return None
