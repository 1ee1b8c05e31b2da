"""Stylise: neural style transfer (Gatys et al. 2016) with a live preview; layout and wiring
over :mod:`explorer.stylise` (settings, words, the one-job-per-machine rule).

The job is a :class:`~explorer.jobs.BackgroundJob`; an ``st.fragment(run_every=POLL_S)`` polls
it (preview, losses, status) while it runs. A bad upload gives ``st.error``, never a traceback.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from explorer import stylise as core
from explorer.streamlit_ui import shared
from explorer.streamlit_ui.widgets import option_widget

P = shared.KEEP + "stylise."
JOB = "stylise.job"  # Session State: this session's StyliseJob
POLL_S = 1.0
NONE = "(upload)"


def image_input(column: Any, kind: str) -> tuple[Any, str]:
    """An upload, else an example (a painting, a scikit-image sample): (source for the loader, its name) or (None, "")."""
    upload = column.file_uploader(f"{kind} image", type=shared.IMAGE_TYPES, key=f"stylise.{kind}")
    examples = core.EXAMPLES[kind]
    example = column.selectbox(
        f"…or a {kind} example",
        [NONE, *examples],
        format_func=lambda name: core.EXAMPLE_TITLES.get(name, name),
        key=shared.init(P + kind, examples[0]),
    )
    try:  # an upload is checked at once, so a bad file is reported before Start
        if upload is not None:
            return core.picture(upload.getvalue(), upload.name, None)
        return core.picture(None, "", example)
    except ValueError as error:  # ImageInputError: not a picture, too big, too thin, ...
        column.error(shared.public(str(error)))
        return None, ""


def config_widgets() -> core.StyleConfig:
    """The settings, as a validated :class:`~trainers.style.StyleConfig` (ValueError if not)."""
    specs = core.limited(shared.limits())
    overrides = {
        "schedule": {"format_func": core.SCHEDULE_LABELS.get, "horizontal": True},
        "features": {"format_func": core.FEATURE_LABELS.get},
    }
    values: dict[str, Any] = {}

    def rows(names: tuple[tuple[str, ...], ...]) -> None:
        for row in names:
            for name, column in zip(row, st.columns(len(row)), strict=True):
                if name in ("steps", "size"):  # the limits differ between hosted and local
                    key = shared.init(P + name, specs[name].default)
                    shared.clamp(key, specs[name].minimum, specs[name].maximum)
                extra = overrides.get(name, {})
                values[name] = option_widget(specs[name], P + name, container=column, **extra)
            if row == ("schedule",):
                st.caption(
                    core.schedule_summary(values["steps"], values["size"], values["schedule"])
                )

    rows(core.ROWS)
    with st.expander(core.MORE_TITLE):
        rows(core.MORE_ROWS)
    return core.config_from(values, shared.limits())


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
    content, content_name = image_input(left, "content")
    style, style_name = image_input(right, "style")
    try:
        config = config_widgets()
    except ValueError as error:
        st.error(str(error))
        return
    buttons = st.columns(6)
    if buttons[0].button("Start", type="primary"):
        try:  # this session's previous job is stopped first
            st.session_state[JOB] = core.restart(st.session_state.get(JOB), content, style, config)
            st.session_state["stylise.watching"] = True
        except core.REFUSALS as error:  # not a picture, too big, ...; another visitor's job
            st.error(shared.public(str(error)))
    if buttons[1].button("Stop") and st.session_state.get(JOB) is not None:
        st.session_state[JOB].request_stop()
    if content_name and style_name:
        st.caption(f"content: {content_name} · style: {style_name}")
    run_every = POLL_S if st.session_state.get("stylise.watching") else None
    st.fragment(progress_panel, run_every=run_every)()
