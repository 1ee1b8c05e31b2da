"""2-D playground: GAN Lab's view of a GAN, on :mod:`explorer.playground` and
:mod:`trainers.toy2d`.

Each user's experiment (a :class:`explorer.playground.Session`: G, D, their optimisers, the
user's points, the figures over time) lives in ``st.session_state``. Step D / Step G / Step
both / Reset are buttons; Play is an ``st.fragment(run_every=TICK_S)`` that trains for at
most ``TICK_BUDGET_S`` per tick, so it cannot take over a shared machine. The models are tiny,
so the playground stays on where the Train page is switched off.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from explorer import playground as pg
from explorer.streamlit_ui import shared
from trainers.losses import LOSSES
from trainers.toy2d import (
    DATASET_LABELS,
    PRESET_NOTES,
    TOY_DATASETS,
    Toy2DConfig,
    ToyDataError,
    points_from_csv,
)

P = shared.KEEP + "playground."
SESSION = "playground.session"  # Session State: this user's pg.Session
PAIR = "playground.pair"  # ... and the side-by-side pg.PairSession
TICK_S, TICK_BUDGET_S = pg.TICK_S, pg.TICK_BUDGET_S  # Play's tick and its training budget

INTRO_MD = """
Real data are points on the plane (green). **G** turns noise z into points G(z) (purple).
The background shows **D**'s opinion of every point (green = real, purple = fake); the arrows
show where G's loss pushes each fake point, **−∂L_G/∂x**. **Step D** trains only D (k_D
updates), **Step G** only G (k_G updates), **Step both** does one round of each (Goodfellow et
al.'s Algorithm 1); **Play** keeps going. Changing the loss, k or the learning rates applies at
once; changing the network or the data starts again.
"""


def settings_widgets() -> dict[str, Any]:
    """The settings, as :data:`explorer.playground.SETTING_NAMES` -> value."""
    d = Toy2DConfig()
    values: dict[str, Any] = {}
    values["dataset"] = st.selectbox(
        "data set",
        list(TOY_DATASETS),
        format_func=DATASET_LABELS.get,
        key=shared.init(P + "dataset", d.dataset),
    )
    values["loss"] = st.selectbox("loss", list(LOSSES), key=shared.init(P + "loss", d.loss))
    row = st.columns(2)
    values["d_steps"] = row[0].slider(
        "k_D: D updates per round", 1, 10, key=shared.init(P + "d_steps", d.d_steps)
    )
    values["g_steps"] = row[1].slider(
        "k_G: G updates per round", 1, 10, key=shared.init(P + "g_steps", d.g_steps)
    )
    row = st.columns(2)
    values["spectral_norm"] = row[0].checkbox(
        "spectral norm in D", key=shared.init(P + "sn", False)
    )
    values["minibatch_std"] = row[1].checkbox(
        "minibatch discrimination in D", key=shared.init(P + "mbstd", False)
    )
    with st.expander("learning rates, network sizes, seed"):
        row = st.columns(2)
        values["lr_d"] = row[0].number_input(
            "lr D (Adam)", 1e-6, 0.1, step=1e-4, format="%g", key=shared.init(P + "lr_d", d.lr_d)
        )
        values["lr_g"] = row[1].number_input(
            "lr G (Adam)", 1e-6, 0.1, step=1e-4, format="%g", key=shared.init(P + "lr_g", d.lr_g)
        )
        row = st.columns(2)
        values["width"] = row[0].slider(
            "hidden units", 8, 256, step=8, key=shared.init(P + "width", d.width)
        )
        values["depth"] = row[1].slider(
            "hidden layers", 1, 4, key=shared.init(P + "depth", d.depth)
        )
        row = st.columns(3)
        values["latent_dim"] = row[0].slider(
            "z dimensions", 1, 16, key=shared.init(P + "latent_dim", d.latent_dim)
        )
        values["batch_size"] = row[1].slider(
            "batch size", 16, 1024, step=16, key=shared.init(P + "batch", d.batch_size)
        )
        values["seed"] = row[2].number_input("seed", 0, step=1, key=shared.init(P + "seed", 0))
    values["show"] = st.multiselect(
        "show", pg.SHOW_CHOICES, key=shared.init(P + "show", list(pg.SHOW_CHOICES))
    )
    return values


def points_widgets(values: dict[str, Any]) -> None:
    """Your own points: a CSV of x,y, or typed one at a time; they become the data set."""
    session: pg.Session = st.session_state[SESSION]
    with st.expander(f"your points ({len(session.points)})"):
        st.caption(
            "Upload a CSV with two numeric columns x,y (a header is fine; points outside "
            "[−3, 3]² are scaled to fit), or add points one at a time; then choose "
            "**your points** as the data set."
        )
        upload = st.file_uploader("CSV of x,y points", type=["csv", "txt"], key="playground.csv")
        if upload is not None and st.session_state.get("playground.csv_id") != upload.file_id:
            st.session_state["playground.csv_id"] = upload.file_id
            try:
                points = points_from_csv(upload.getvalue())
            except (ToyDataError, ValueError) as error:
                st.error(f"{upload.name}: {error}")
            else:
                session.points = [(float(x), float(y)) for x, y in points]
                st.success(f"Loaded {len(points)} points from {upload.name}.")
        row = st.columns([1, 1, 1, 1], vertical_alignment="bottom")
        x = row[0].number_input("x", -3.0, 3.0, step=0.1, key=shared.init(P + "x", 0.0))
        y = row[1].number_input("y", -3.0, 3.0, step=0.1, key=shared.init(P + "y", 0.0))
        if row[2].button("add point"):
            session.points = [*session.points, (round(float(x), 3), round(float(y), 3))]
        if row[3].button("clear my points"):
            session.points = []
            if session.trainer is not None and session.trainer.config.dataset == "points":
                session.trainer = None


def act(action: str, values: dict[str, Any], rounds: int = 1) -> str:
    """Bring the session in line with the settings, then train: "d", "g", "both", "budget"
    (Play: rounds for up to TICK_BUDGET_S) or "" (nothing). Returns a notice or an error."""
    session: pg.Session = st.session_state[SESSION]
    try:
        session, notice = pg.apply_settings(session, values)
        trainer = session.trainer
        if trainer is None or not action:
            return notice
        pg.run_action(trainer, action, rounds)
    except (ToyDataError, ValueError, FloatingPointError) as error:
        session.playing = False
        return f"⚠️ {error}"
    return notice


def plane(values: dict[str, Any], action: str = "", rounds: int = 1) -> None:
    """Train (if asked), then draw the plane, the figures and the chart over time."""
    session: pg.Session = st.session_state[SESSION]
    try:
        with shared.computing():
            notice = act(action, values, rounds)
            if notice.startswith("⚠️"):
                st.error(notice.removeprefix("⚠️ "))
                notice = ""
            picture, figures, history = pg.view_outputs(session, values["show"], notice)
    except shared.BusyError as error:
        st.error(str(error))
        return
    shared.image(st, picture, caption="the plane")
    st.plotly_chart(history, key="playground-history")
    st.markdown(figures)


def playing_plane(values: dict[str, Any]) -> None:
    """Play's fragment: a time-boxed training tick, then the pictures."""
    plane(values, "budget")


def _toggle(name: str) -> None:
    target = st.session_state[name]
    target.playing = not target.playing


def pair_section() -> None:
    """The collapse preset and its cure, side by side, from the same seed."""
    st.subheader("Mode collapse, and one switch that cures it")
    st.markdown(
        f"- **Left, collapse:** {PRESET_NOTES['collapse']}\n- **Right, cure:** {PRESET_NOTES['cure']}"
    )
    row = st.columns(4, vertical_alignment="bottom")
    seed = row[0].number_input("seed for both", 0, step=1, key=shared.init(P + "pair_seed", 0))
    if PAIR not in st.session_state or row[1].button("↺ Start both"):
        st.session_state[PAIR] = pg.new_pair(int(seed))
    pair: pg.PairSession = st.session_state[PAIR]
    if row[2].button("Run 100 rounds"):
        for _ in range(100):
            pair.left.step_both(1)
            pair.right.step_both(1)
    row[3].button("⏸ Pause" if pair.playing else "▶ Play both", on_click=_toggle, args=(PAIR,))
    st.fragment(pair_view, run_every=TICK_S if pair.playing else None)()


def pair_view() -> None:
    """Both plots, their figures and the chart; while playing, a time-boxed tick first."""
    pair: pg.PairSession = st.session_state[PAIR]
    try:
        with shared.computing():
            if pair.playing:
                pg.play_pair(pair)
            left, right, left_text, right_text, chart = pg.pair_outputs(pair)
    except shared.BusyError as error:
        st.error(str(error))
        return
    cols = st.columns(2)
    shared.image(cols[0], left, caption="collapse")
    cols[0].markdown(left_text)
    shared.image(cols[1], right, caption="cure")
    cols[1].markdown(right_text)
    st.plotly_chart(chart, key="playground-pair-history")


def render() -> None:
    """The 2-D playground page."""
    st.header("A GAN you can watch: two players on a plane")
    st.markdown(INTRO_MD)
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
        both = buttons[2].button("Step both", type="primary")
        buttons = st.columns([1, 1, 2], vertical_alignment="bottom")
        buttons[0].button(
            "⏸ Pause" if session.playing else "▶ Play", on_click=_toggle, args=(SESSION,)
        )
        reset = buttons[1].button("↺ Reset")
        rounds = buttons[2].number_input(
            "rounds per 'Step both'", 1, 1000, key=shared.init(P + "rounds", 1)
        )
        if both:
            action = "both"
        points_widgets(values)
    if reset and session.trainer is not None:
        session.trainer.reset()
        session.history = pg.FigureHistory()
    with left:
        if session.playing:
            st.fragment(playing_plane, run_every=TICK_S)(values)
        else:
            plane(values, action, int(rounds))
    st.divider()
    pair_section()
