"""2-D playground, the Streamlit edition: the settings, words and views are
:mod:`explorer.playground`'s; this page lays them out.

Each user's experiment (a :class:`explorer.playground.Session`) lives in ``st.session_state``.
Step D / Step G / Step both / Reset are buttons; Play is an ``st.fragment(run_every=TICK_S)``
that trains for at most ``TICK_BUDGET_S`` per tick, so it cannot take over a shared machine.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from explorer import playground as pg
from explorer.playground import SPECS
from explorer.streamlit_ui import shared
from explorer.streamlit_ui.widgets import option_widget
from trainers.toy2d import DATASET_LABELS

P = shared.KEEP + "playground."
SESSION = "playground.session"  # Session State: this user's pg.Session
PAIR = "playground.pair"  # ... and the side-by-side pg.PairSession
TICK_S, TICK_BUDGET_S = pg.TICK_S, pg.TICK_BUDGET_S


def widget(name: str, where: Any = st, **overrides: Any) -> Any:
    """The declared parameter's widget, its value kept under ``P + name``."""
    return option_widget(SPECS[name], P + name, container=where, **overrides)


def settings_widgets() -> dict[str, Any]:
    """The settings, as :data:`explorer.playground.SETTING_NAMES` -> value."""
    values = {"dataset": widget("dataset", format_func=DATASET_LABELS.get)}
    values["loss"] = widget("loss")
    for names in pg.ROWS:
        for name, column in zip(names, st.columns(2), strict=True):
            values[name] = widget(name, column)
    with st.expander(pg.MORE_TITLE):
        for names in pg.MORE_ROWS:
            for name, column in zip(names, st.columns(len(names)), strict=True):
                values[name] = widget(name, column)
    show = SPECS["show"]
    values["show"] = st.multiselect(
        show.label, show.choices, key=shared.init(P + "show", show.default)
    )
    return values


def points_widgets() -> None:
    """Your own points: a CSV of x,y, or typed one at a time; they become the data set."""
    session: pg.Session = st.session_state[SESSION]
    with st.expander(f"your points ({len(session.points)})"):
        st.caption(pg.POINTS_MD)
        upload = st.file_uploader("CSV of x,y points", type=["csv", "txt"], key="playground.csv")
        if upload is not None and st.session_state.get("playground.csv_id") != upload.file_id:
            st.session_state["playground.csv_id"] = upload.file_id
            try:
                st.success(pg.load_points(session, upload.getvalue(), upload.name))
            except ValueError as error:
                st.error(f"{upload.name}: {error}")
        row = st.columns([1, 1, 1, 1], vertical_alignment="bottom")
        x = row[0].number_input("x", -3.0, 3.0, step=0.1, key=shared.init(P + "x", 0.0))
        y = row[1].number_input("y", -3.0, 3.0, step=0.1, key=shared.init(P + "y", 0.0))
        if row[2].button("add point"):
            session.points = [*session.points, (round(float(x), 3), round(float(y), 3))]
        if row[3].button("clear my points"):
            pg.clear_points(session)


def plane(values: dict[str, Any], action: str = "", rounds: int = 1) -> None:
    """Train (if asked), then draw the plane, the figures and the chart over time."""
    try:
        with shared.computing():
            view = pg.plane_view(st.session_state[SESSION], values, action, rounds)
    except shared.BusyError as error:
        st.error(str(error))
        return
    if view.error:
        st.error(view.error)
    shared.image(st, view.plot, caption="the plane")
    st.plotly_chart(view.chart, key="playground-history")
    st.markdown(view.figures)


def playing_plane(values: dict[str, Any]) -> None:
    """Play's fragment: a time-boxed training tick, then the pictures."""
    plane(values, "budget")


def _toggle(name: str) -> None:
    target = st.session_state[name]
    target.playing = not target.playing


def pair_section() -> None:
    """The collapse preset and its cure, side by side, from the same seed."""
    st.subheader(pg.PAIR_TITLE)
    st.markdown(pg.PAIR_MD)
    row = st.columns(4, vertical_alignment="bottom")
    seed = widget("pair_seed", row[0])
    action = "reset" if PAIR not in st.session_state or row[1].button("↺ Start both") else ""
    if row[2].button(f"Run {pg.PAIR_ROUNDS} rounds"):
        action = "run"
    if action:
        st.session_state[PAIR] = pg.pair_view(st.session_state.get(PAIR), seed, action)[0]
    pair: pg.PairSession = st.session_state[PAIR]
    row[3].button(pg.play_label(pair.playing, pair=True), on_click=_toggle, args=(PAIR,))
    st.fragment(pair_view, run_every=TICK_S if pair.playing else None)()


def pair_view() -> None:
    """Both plots, their figures and the chart; while playing, a time-boxed tick first."""
    pair: pg.PairSession = st.session_state[PAIR]
    try:
        with shared.computing():
            _, left, right, left_text, right_text, chart = pg.pair_view(
                pair, 0, "tick" if pair.playing else ""
            )
    except shared.BusyError as error:
        st.error(str(error))
        return
    cols = st.columns(2)
    for column, picture, text, side in (
        (cols[0], left, left_text, "collapse"),
        (cols[1], right, right_text, "cure"),
    ):
        shared.image(column, picture, caption=side)
        column.markdown(text)
    st.plotly_chart(chart, key="playground-pair-history")


def render() -> None:
    """The 2-D playground page."""
    st.header(pg.TITLE)
    st.markdown(pg.INTRO_MD)
    if SESSION not in st.session_state:
        st.session_state[SESSION] = pg.Session()
    session: pg.Session = st.session_state[SESSION]
    left, right = st.columns([3, 2])
    with right:
        values = settings_widgets()
        buttons = st.columns(3)
        action = ""
        if buttons[0].button("Step D"):
            action = "d"
        if buttons[1].button("Step G"):
            action = "g"
        if buttons[2].button("Step both", type="primary"):
            action = "both"
        buttons = st.columns([1, 1, 2], vertical_alignment="bottom")
        buttons[0].button(pg.play_label(session.playing), on_click=_toggle, args=(SESSION,))
        if buttons[1].button("↺ Reset"):
            action = "reset"
        rounds = widget("rounds", buttons[2])
        points_widgets()
    with left:
        if session.playing:
            st.fragment(playing_plane, run_every=TICK_S)(values)
        else:
            plane(values, action, int(rounds))
    st.divider()
    pair_section()
