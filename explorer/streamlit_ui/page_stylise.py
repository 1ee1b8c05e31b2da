"""Stylise: neural style transfer (Gatys et al. 2016) with a live preview.

The work is :func:`explorer.stylise.start_stylise`, a :class:`~explorer.jobs.BackgroundJob`;
an ``st.fragment(run_every=POLL_S)`` polls it (preview, losses, status) while it runs. One
style transfer runs on this machine at a time (it uses every CPU core): a
:class:`~explorer.jobs.JobSlot` shared by all sessions, as the Gradio edition's queue does.
Uploads go through the one image loader: a bad file gives ``st.error``, never a traceback.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

from explorer import stylise as core
from explorer.jobs import JobBusyError, JobSlot
from explorer.streamlit_ui import shared
from trainers.images import load_image

P = shared.KEEP + "stylise."
JOB = "stylise.job"  # Session State: this session's StyliseJob
POLL_S = 1.0
NONE = "(upload)"

INTRO_MD = """
We optimise the **pixels** of an image so that its CNN features match the *content* photo at a
deep layer, its Gram matrices (which features fire together) match the *style* image at several
layers, and neighbouring pixels stay similar (total variation). The losses are relative
errors (1 ≈ as far from the target as zero is).
"""


@st.cache_resource(show_spinner=False)
def slot() -> JobSlot:
    """The one style transfer of this machine (shared by every session)."""
    return JobSlot("style transfer")


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
    """The sliders, as a validated :class:`~trainers.style.StyleConfig` (ValueError if not)."""
    limits = shared.limits()
    shared.clamp(shared.init(P + "steps", 200), 10, limits.stylise_steps)
    shared.clamp(shared.init(P + "size", 256), 64, limits.stylise_size)
    row = st.columns(2)
    steps = row[0].slider("steps", 10, limits.stylise_steps, step=10, key=P + "steps")
    size = row[1].slider(
        "output size (long side, px)", 64, limits.stylise_size, step=32, key=P + "size"
    )
    schedules = dict((value, label) for label, value in core.SCHEDULE_CHOICES)
    schedule = st.radio(
        "schedule",
        list(schedules),
        format_func=schedules.get,
        horizontal=True,
        key=shared.init(P + "schedule", "coarse-to-fine"),
    )
    st.caption(core.schedule_summary(steps, size, schedule))
    row = st.columns(3)
    content_w = row[0].slider("content weight", 0.0, 10.0, step=0.1, key=shared.init(P + "cw", 1.0))
    style_w = row[1].slider(
        "style weight (log₁₀)", -1.0, 4.0, step=0.1, key=shared.init(P + "sw", 1.0)
    )
    tv_w = row[2].slider(
        "smoothness (TV) weight (log₁₀)", -3.0, 2.0, step=0.1, key=shared.init(P + "tv", 0.0)
    )
    with st.expander("More settings"):
        row = st.columns(3)
        init = row[0].radio(
            "start from", ["content", "noise"], key=shared.init(P + "init", "content")
        )
        optimizer = row[1].radio(
            "optimizer", ["lbfgs", "adam"], key=shared.init(P + "opt", "lbfgs")
        )
        preserve = row[2].checkbox("keep the content's colours", key=shared.init(P + "keep", False))
        row = st.columns(2)
        features = row[0].selectbox(
            "feature network",
            list(core.FEATURE_LABELS),
            format_func=core.FEATURE_LABELS.get,
            key=shared.init(P + "features", "auto"),
        )
        seed = row[1].number_input("seed (noise start)", 0, step=1, key=shared.init(P + "seed", 0))
    return core.make_config(
        steps,
        size,
        content_w,
        style_w,
        tv_w,
        init,
        optimizer,
        preserve,
        features,
        int(seed),
        schedule,
    )


def start(content: Any, style: Any, config: core.StyleConfig) -> str:
    """Check the pictures and start the job; returns "" or a message for ``st.error``."""
    old = st.session_state.get(JOB)
    if old is not None and old.is_alive:
        old.request_stop()
        old.join(5.0)
    if slot().current() is not None:
        return (
            "A style transfer is already running on this machine (it uses every core); "
            "wait for it to finish."
        )
    try:
        job = core.start_stylise(content, style, config)
    except ValueError as error:  # ImageInputError: not a picture, too big, ...; bad settings
        return shared.public(str(error))
    try:
        slot().claim(job)
    except JobBusyError as error:  # another session started one at the same moment
        job.stop()
        return str(error)
    st.session_state[JOB] = job
    return ""


def progress_panel() -> None:
    """The fragment: preview and status of this session's job; stops polling at the end."""
    job = st.session_state.get(JOB)
    if job is None:
        st.markdown("Choose a content and a style image, then press **Start**.")
        return
    view = job.poll()
    st.markdown(view.status)
    if job.result is not None and view.finished:
        shared.image(st, job.result.image, caption="result")
        st.download_button(
            "Download the result (PNG)",
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
    st.header("Neural style transfer")
    st.markdown(INTRO_MD)
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
