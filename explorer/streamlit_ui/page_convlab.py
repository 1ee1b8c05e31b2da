"""Transposed convolution: layout over :mod:`explorer.convlab.page` (parameters, words, views).

The stepper is an ``st.fragment``: moving the kernel redraws only the stepper, and while
playing the fragment reruns itself every :data:`TICK_S` seconds (``run_every``).
"""

from __future__ import annotations

import streamlit as st

from explorer import convlab, views
from explorer.convlab import page as core
from explorer.streamlit_ui import shared
from explorer.streamlit_ui.widgets import option_widget

P = shared.KEEP + "convlab."
TICK_S = core.TICK_S  # play: one kernel position every 0.7 s
#: The Session State keys of the lab's parameters (tests and links use these names).
KEYS = {"input_kind": "input", "kernel_kind": "kernel"}
CB_KEYS = {"k": "cb_k", "s": "cb_s", "size": "cb_size"}


@st.cache_data(max_entries=256, show_spinner=False)
def lab(params: tuple, step: int = 0, stamp: int = 0) -> convlab.LabView:
    """:func:`explorer.convlab.page.lab` for (size, k, s, p, op, input kind, kernel kind, seed)."""
    return core.lab(params, step, stamp)


def _move(delta: int, n_steps: int) -> None:
    st.session_state[P + "step"] = core.step_by(st.session_state[P + "step"], delta, n_steps)


def _play(n_steps: int) -> None:
    playing = st.session_state.get(P + "playing", False)
    playing, st.session_state[P + "step"] = core.play(
        playing, st.session_state[P + "step"], n_steps
    )
    st.session_state[P + "playing"] = playing
    st.session_state["_convlab_rebind"] = True  # a new run_every needs a full rerun


def stepper(params: tuple, n_steps: int) -> None:
    """The kernel position slider, prev / next / play, the equation and the five panels.

    Runs as a fragment; while playing it reruns every :data:`TICK_S` s and moves one step.
    """
    key = P + "step"
    shared.clamp(shared.init(key, 0), 0, max(n_steps - 1, 0))
    playing = st.session_state.get(P + "playing", False)
    if playing:
        st.session_state[key], playing = core.tick(st.session_state[key], n_steps)
        if not playing:  # the end: stop the timer
            st.session_state[P + "playing"] = False
            st.session_state["_convlab_rebind"] = True
    cols = st.columns([1, 6, 1, 1], vertical_alignment="bottom")
    cols[0].button(core.PREV, on_click=_move, args=(-1, n_steps))
    if n_steps > 1:
        cols[1].slider(core.STEP_LABEL, 0, n_steps - 1, key=key)
    cols[2].button(core.NEXT, on_click=_move, args=(+1, n_steps))
    cols[3].button(core.play_label(playing), on_click=_play, args=(n_steps,))
    view = lab(params, int(st.session_state[key]))
    st.markdown(view.equation_md)
    st.html(view.steps_html)
    if st.session_state.pop("_convlab_rebind", False):
        st.rerun()  # the whole page, so the fragment is registered with the new run_every


def lab_section() -> None:
    """Parameters, the size formula, the stepper and the scatter view."""
    values = []
    for names in (("size", "k", "s", "p", "op"), ("input_kind", "kernel_kind", "seed")):
        for name, column in zip(names, st.columns(len(names)), strict=True):
            key = P + KEYS.get(name, name)
            values.append(option_widget(core.LAB[name], key, container=column))
    params = tuple(values)
    try:
        first = lab(params)
    except ValueError as error:
        st.error(str(error))
        return
    st.markdown(first.formula_md)
    st.markdown(first.check_md)
    run_every = TICK_S if st.session_state.get(P + "playing") else None
    st.fragment(stepper, run_every=run_every)(params, first.n_steps)
    with st.expander(core.SCATTER_TITLE):
        st.markdown(core.SCATTER_MD)
        stamp = 0
        if first.n_stamps > 1:
            shared.clamp(shared.init(P + "stamp", 0), 0, first.n_stamps - 1)
            stamp = st.slider(core.STAMP_LABEL, 0, first.n_stamps - 1, key=P + "stamp")
        st.html(lab(params, 0, int(stamp)).scatter_html)


def checkerboard_section() -> None:
    """Tap counts of ConvTranspose against resize-conv, then two untrained generators."""
    st.subheader(core.CHECKERBOARD_TITLE)
    st.markdown(core.CHECKERBOARD_MD)
    row = st.columns(3)
    values = [
        option_widget(spec, P + CB_KEYS[name], container=column)
        for (name, spec), column in zip(core.CHECKERBOARD.items(), row, strict=True)
    ]
    try:
        chart, explanation = core.checkerboard(*values)
    except ValueError as error:
        st.error(str(error))
    else:
        st.plotly_chart(chart, key="convlab-taps")
        st.markdown(explanation)

    st.markdown(f"**{core.MODEL_TITLE}.** {core.MODEL_MD}")
    model = core.model(option_widget(core.MODEL["seed"], P + "model_seed"))
    for column, picture, name in zip(st.columns(4), model.pictures, core.MODEL_NAMES, strict=True):
        shared.image(column, picture, caption=name)
    st.plotly_chart(model.spectra, key="convlab-spectra")
    st.markdown(model.summary)


def trained_section() -> None:
    """A trained checkpoint's first sample under the same views (the Gradio edition's
    :func:`explorer.views.model_checkerboard`)."""
    st.markdown(views.CHECKERBOARD_ABOUT)
    catalog = shared.catalog()
    entries = [e for e in catalog.entries if e.convolutional]
    if not entries:
        st.info(views.NO_CONVOLUTIONAL)
        return
    key = shared.model_picker(entries, P + "trained", "checkpoint")
    *pictures, summary = views.model_checkerboard(catalog, [key], 0, convlab.artifact_view)
    names = views.CHECKERBOARD_PICTURES
    for column, picture, name in zip(st.columns(3), pictures, names, strict=True):
        if picture is not None:
            shared.image(column, picture, caption=name)
    st.markdown(shared.public(summary))


def render() -> None:
    """The Transposed convolution page."""
    st.header(core.TITLE)
    st.markdown(core.INTRO_MD)
    lab_section()
    st.divider()
    checkerboard_section()
    with st.expander(views.CHECKERBOARD_TITLE):
        trained_section()
