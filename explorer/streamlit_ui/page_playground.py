"""2-D playground, the Streamlit edition: the settings, words and views are
:mod:`explorer.playground`'s; this page lays them out.

Each user's experiment (a :class:`explorer.playground.Session`) lives in ``st.session_state``.
Step D / Step G / Step both / Reset are buttons; Play is an ``st.fragment(run_every=pg.TICK_S)``
that trains for at most ``TICK_BUDGET_S`` per tick, so it cannot take over a shared machine.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from explorer import playground as pg
from explorer.jobs import BusyError
from explorer.playground import BUTTONS, SPECS
from explorer.streamlit_ui import shared
from explorer.streamlit_ui.widgets import option_widget
from trainers.toy2d import DATASET_LABELS

P = shared.KEEP + "playground."
SESSION = "playground.session"  # Session State: this user's pg.Session
PAIR = "playground.pair"  # ... and the side-by-side pg.PairSession


def widget(name: str, where: Any = st, **overrides: Any) -> Any:
    """The declared parameter's widget, its value kept under ``P + name``."""
    return option_widget(SPECS[name], P + name, container=where, **overrides)


def widget_row(names: tuple[str, ...]) -> dict[str, Any]:
    """The declared widgets side by side, as name -> value."""
    columns = st.columns(len(names))
    return {name: widget(name, column) for name, column in zip(names, columns, strict=True)}


def settings_widgets() -> dict[str, Any]:
    """The settings, as :data:`explorer.playground.SETTING_NAMES` -> value."""
    values = {"dataset": widget("dataset", format_func=DATASET_LABELS.get), "loss": widget("loss")}
    for names in pg.ROWS:
        values |= widget_row(names)
    with st.expander(pg.MORE_TITLE):
        for names in pg.MORE_ROWS:
            values |= widget_row(names)
    show = SPECS["show"]
    values["show"] = st.multiselect(
        show.label, show.choices, key=shared.init(P + "show", show.default)
    )
    return values


def points_widgets() -> None:
    """Your own points: a CSV of x,y, or typed one at a time; they become the data set."""
    session: pg.Session = st.session_state[SESSION]
    with st.expander(f"{pg.POINTS_TITLE} ({len(session.points)})"):
        st.caption(pg.POINTS_MD)
        upload = st.file_uploader(pg.CSV_LABEL, type=list(pg.CSV_TYPES), key="playground.csv")
        if upload is not None and st.session_state.get("playground.csv_id") != upload.file_id:
            st.session_state["playground.csv_id"] = upload.file_id
            try:
                st.success(pg.load_points(session, upload.getvalue(), upload.name))
            except ValueError as error:
                st.error(f"{upload.name}: {error}")
        row = st.columns(4, vertical_alignment="bottom")
        x = row[0].number_input("x", -3.0, 3.0, step=0.1, key=shared.init(P + "x", 0.0))
        y = row[1].number_input("y", -3.0, 3.0, step=0.1, key=shared.init(P + "y", 0.0))
        if row[2].button(BUTTONS["add_point"]):
            pg.add_point(session, x, y)
        if row[3].button(BUTTONS["clear_points"]):
            pg.clear_points(session)


def computed(compute: Callable[[], Any]) -> Any:
    """``compute()`` when the machine has room; None (and the reason shown) when it is busy."""
    try:
        with shared.computing():
            return compute()
    except BusyError as error:
        st.error(str(error))
        return None


def plane(values: dict[str, Any], action: str = "", rounds: int = 1) -> None:
    """Train (if asked), then draw the plane, the figures and the chart over time."""
    view = computed(lambda: pg.plane_view(st.session_state[SESSION], values, action, rounds))
    if view is None:
        return
    if view.error:
        st.error(view.error)
    shared.image(st, view.plot, caption=pg.PLANE_CAPTION)
    st.plotly_chart(view.chart, key="playground-history")
    st.markdown(view.figures)


def playing_plane(values: dict[str, Any]) -> None:
    """Play's fragment: a time-boxed training tick, then the pictures."""
    plane(values, "budget")


def pair_section() -> None:
    """The collapse preset and its cure, side by side, from the same seed."""
    st.subheader(pg.PAIR_TITLE)
    st.markdown(pg.PAIR_MD)
    row = st.columns(4, vertical_alignment="bottom")
    seed = widget("pair_seed", row[0])
    started = PAIR in st.session_state
    action = "reset" if row[1].button(BUTTONS["pair_reset"]) or not started else ""
    if row[2].button(BUTTONS["pair_run"]):
        action = "run"
    if action:
        st.session_state[PAIR] = pg.pair_view(st.session_state.get(PAIR), seed, action)[0]
    pair: pg.PairSession = st.session_state[PAIR]
    row[3].button(pg.play_label(pair.playing, pair=True), on_click=pg.toggle_play, args=(pair,))
    st.fragment(pair_view, run_every=pg.pg.TICK_S if pair.playing else None)()


def pair_view() -> None:
    """Both plots, their figures and the chart; while playing, a time-boxed tick first."""
    pair: pg.PairSession = st.session_state[PAIR]
    shown = computed(lambda: pg.pair_view(pair, 0, "tick" if pair.playing else ""))
    if shown is None:
        return
    _, left, right, left_text, right_text, chart = shown
    columns = st.columns(2)
    for column, picture, text, side in zip(
        columns, (left, right), (left_text, right_text), pg.SIDES, strict=True
    ):
        shared.image(column, picture, caption=side)
        column.markdown(text)
    st.plotly_chart(chart, key="playground-pair-history")


def render() -> None:
    """The 2-D playground page."""
    st.header(pg.TITLE)
    st.markdown(pg.INTRO_MD)
    session: pg.Session = st.session_state.setdefault(SESSION, pg.Session())
    left, right = st.columns([3, 2])
    with right:
        values = settings_widgets()
        action = ""
        for name, column in zip(pg.STEPS, st.columns(len(pg.STEPS)), strict=True):
            if column.button(BUTTONS[name], type="primary" if name == "both" else "secondary"):
                action = name
        buttons = st.columns([1, 1, 2], vertical_alignment="bottom")
        buttons[0].button(pg.play_label(session.playing), on_click=pg.toggle_play, args=(session,))
        if buttons[1].button(BUTTONS["reset"]):
            action = "reset"
        rounds = widget("rounds", buttons[2])
        points_widgets()
    with left:
        if session.playing:
            st.fragment(playing_plane, run_every=pg.TICK_S)(values)
        else:
            plane(values, action, int(rounds))
    st.divider()
    pair_section()
