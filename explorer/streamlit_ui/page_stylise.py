"""Stylise: neural style transfer (Gatys et al. 2016) with a live preview.

The work is :func:`explorer.stylise.start_stylise`, a :class:`~explorer.jobs.BackgroundJob`;
an ``st.fragment(run_every=POLL_S)`` polls it (preview, losses, status) while it runs. The
settings, words and the one-job-per-machine rule (:func:`explorer.stylise.start_one`) are
the core's; this page is layout and wiring.
Uploads go through the one image loader: a bad file gives ``st.error``, never a traceback.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

from explorer import stylise as core
from explorer.jobs import JobBusyError
from explorer.streamlit_ui import shared
from explorer.streamlit_ui.widgets import option_widget
from trainers.images import load_image

P = shared.KEEP + "stylise."
JOB = "stylise.job"  # Session State: this session's StyliseJob
POLL_S = 1.0
NONE = "(upload)"


def image_input(column: Any, kind: str, examples: tuple[str, ...], default: str) -> tuple[Any, str]:
    """An upload, else a scikit-image example: (source for the loader, its name) or (None, "")."""
    upload = column.file_uploader(f"{kind} image", type=shared.IMAGE_TYPES, key=f"stylise.{kind}")
    example = column.selectbox(
        f"…or a {kind} example", [NONE, *examples], key=shared.init(P + kind, default)
    )
    if upload is not None:
        try:  # checked at once, so a bad file is reported before Start
            return np.asarray(load_image(upload.getvalue(), name=upload.name)), upload.name
        except ValueError as error:  # ImageInputError: not a picture, too big, too thin, ...
            column.error(shared.public(str(error)))
            return None, ""
    if example != NONE:
        return core.example_image(example), example
    return None, ""


def config_widgets() -> core.StyleConfig:
    """The settings, as a validated :class:`~trainers.style.StyleConfig` (ValueError if not)."""
    specs = core.limited(shared.limits())
    values: dict[str, Any] = {}

    def widget(name: str, where: Any = st, **overrides: Any) -> None:
        if name in ("steps", "size"):  # the limits differ between a hosted and a local page
            key = shared.init(P + name, specs[name].default)
            shared.clamp(key, specs[name].minimum, specs[name].maximum)
        values[name] = option_widget(specs[name], P + name, container=where, **overrides)

    for name, column in zip(("steps", "size"), st.columns(2), strict=True):
        widget(name, column)
    widget("schedule", format_func=core.SCHEDULE_LABELS.get, horizontal=True)
    st.caption(core.schedule_summary(values["steps"], values["size"], values["schedule"]))
    names = ("content_weight", "style_weight_log10", "tv_weight_log10")
    for name, column in zip(names, st.columns(3), strict=True):
        widget(name, column)
    with st.expander("More settings"):
        for name, column in zip(
            ("init", "optimizer", "preserve_color"), st.columns(3), strict=True
        ):
            widget(name, column)
        row = st.columns(2)
        widget("features", row[0], format_func=core.FEATURE_LABELS.get)
        widget("seed", row[1])
    return core.config_from(values, shared.limits())


def start(content: Any, style: Any, config: core.StyleConfig) -> str:
    """Check the pictures and start the job; returns "" or a message for ``st.error``."""
    old = st.session_state.get(JOB)
    if old is not None and old.is_alive:
        old.request_stop()  # core.start_one gives it a few seconds to end
    try:
        st.session_state[JOB] = core.start_one(content, style, config)
    except (ValueError, JobBusyError) as error:  # not a picture, too big, ...; bad settings
        return shared.public(str(error))
    return ""


def progress_panel() -> None:
    """The fragment: preview and status of this session's job; stops polling at the end."""
    job = st.session_state.get(JOB)
    if job is None:
        st.markdown(core.READY)
        return
    view = job.poll()
    st.markdown(view.status)
    if job.result is not None and view.finished:
        shared.image(st, job.result.image, caption="result")
        st.download_button(
            core.DOWNLOAD_LABEL,
            shared.png(job.result.image),
            file_name="stylised.png",
            mime="image/png",
            on_click="ignore",
        )
    elif view.image is not None:
        shared.image(st, view.image, caption=f"step {view.step}")
    if view.finished and st.session_state.get("stylise.watching"):
        st.session_state["stylise.watching"] = False
        st.rerun()


def render() -> None:
    """The Stylise page."""
    st.header(core.TITLE)
    st.markdown(core.INTRO_MD)
    left, right = st.columns(2)
    content, content_name = image_input(left, "content", core.CONTENT_EXAMPLES, "astronaut")
    style, style_name = image_input(right, "style", core.STYLE_EXAMPLES, "gravel")
    try:
        config = config_widgets()
    except ValueError as error:
        st.error(str(error))
        return
    buttons = st.columns(6)
    if buttons[0].button("Start", type="primary"):
        if error := start(content, style, config):
            st.error(error)
        else:
            st.session_state["stylise.watching"] = True
    if buttons[1].button("Stop") and st.session_state.get(JOB) is not None:
        st.session_state[JOB].request_stop()
    if content_name and style_name:
        st.caption(f"content: {content_name} · style: {style_name}")
    run_every = POLL_S if st.session_state.get("stylise.watching") else None
    st.fragment(progress_panel, run_every=run_every)()
