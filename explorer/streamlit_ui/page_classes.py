"""Classes (cGAN): one z across every class, or a grid of one class.

The page (its parameters, rules and words) is :mod:`explorer.views`; the pictures run in the
browser widget, and are drawn here on the server only when it steps aside.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from explorer import views, widget
from explorer.context import empty_message
from explorer.streamlit_ui import latent_widget, shared
from explorer.streamlit_ui.widgets import option_widget
from explorer.views import CLASSES, ClassesParams
from trainers import latent_space
from trainers.checkpoint import CheckpointError

P = shared.KEEP + "classes."


@st.cache_data(max_entries=64, show_spinner=False)
def class_pictures(path: str, stamp: int, params: ClassesParams) -> tuple[bytes, bytes, str]:
    """Both pictures (PNG bytes) and the sentence under them (cached by the settings)."""
    pipe = shared.pipeline_at(path, stamp)
    with shared.computing():
        every, one, text = views.classes_view(pipe, params)
    return shared.png(every), shared.png(one), text


def render() -> None:
    """The Classes page."""
    catalog = shared.catalog()
    st.header("Classes (cGAN)")
    st.markdown(views.CLASSES_ABOUT)
    entries = [e for e in catalog.entries if e.conditional]
    if not entries:
        st.warning(views.NO_CGAN if catalog else empty_message(catalog, shared.hosted()))
        return
    top = st.columns([3, 2, 1], vertical_alignment="bottom")
    with top[0]:
        key = shared.model_picker(entries, P + "checkpoint", "conditional checkpoint")
    try:
        pipe = shared.load(key)
        latent_space.require_conditional(pipe)
    except (CheckpointError, ValueError) as error:
        st.error(shared.public(str(error)))
        return
    seed = option_widget(CLASSES["seed"], P + "seed", container=top[2])
    # The pictures and their sliders run in the visitor's browser (explorer/web/).
    config = widget.page_config(catalog, key, "classes", seed)
    if latent_widget.show(config, key=P + "widget") is not None:  # drawn on the server
        server_pictures(key, pipe, int(seed), top[1])


def server_pictures(key: str, pipe: Any, seed: int, class_column: Any) -> None:
    """The Classes pictures drawn on the server (when the browser widget steps aside)."""
    names = views.class_names(pipe)
    shared.choose(P + "class", names)
    values = {"seed": seed}
    values["class_name"] = option_widget(
        CLASSES["class_name"], P + "class", container=class_column, options=names
    )
    for column, name in zip(st.columns(3), ("rows", "side", "truncation"), strict=True):
        values[name] = option_widget(CLASSES[name], P + name, container=column)
    entry = shared.catalog().get(key)
    try:
        every, one, text = class_pictures(
            str(entry.path), shared.stamp_of(entry), ClassesParams(**values)
        )
    except ValueError as error:  # explorer.jobs.BusyError
        st.error(shared.public(str(error)))
        return
    shared.image(st, every, caption=views.EVERY_CLASS_PICTURE)
    left, right = st.columns([1, 1])
    shared.image(left, one, caption=f"{views.ONE_CLASS_PICTURE} ({values['class_name']})")
    right.markdown(text)
