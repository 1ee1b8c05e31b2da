"""The "2-D playground" tab: layout and wiring over :mod:`explorer.playground` (its settings,
words and views) and :mod:`trainers.toy2d`.

Each user's experiment (a :class:`explorer.playground.Session`) lives in a ``gr.State``. The
handlers (``on_*``) take and return that state around the core's view functions, so they are
tested without a browser; every event's ``api_name`` starts with ``playground_``. The models
are tiny, so the playground stays on where the Train tab is off; Play trains for at most
``TICK_BUDGET_S`` per tick and all playground events share one concurrency limit.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import gradio as gr
import plotly.graph_objects as go

from explorer import playground as pg
from explorer.gradio_ui.tabs.live_plot import live_plot, plot_value
from explorer.gradio_ui.widgets import option_widget
from explorer.playground import SETTING_NAMES, SHOW_CHOICES, SPECS, Session  # noqa: F401

TICK_S, TICK_BUDGET_S = pg.TICK_S, pg.TICK_BUDGET_S
CONCURRENCY_ID = "playground"
CONCURRENCY_LIMIT = 2  # playground events running at once, machine-wide


def _plane(action: str, doc: str) -> Callable[..., tuple]:
    """A handler (session, *settings) -> (session, plot, figures, history chart)."""

    def handler(session: Session | None, *values: Any) -> tuple[Any, ...]:
        return pg.plane_view(session, values, action).outputs()

    handler.__doc__ = doc
    return handler


on_settings = _plane("", "A setting changed: the plane again.")
on_step_d = _plane("d", "Step D: k_D updates of D only.")
on_step_g = _plane("g", "Step G: k_G updates of G only.")
on_reset = _plane("reset", "Reset: new random networks (same seed = same start).")


def on_step_both(session: Session | None, rounds: float, *values: Any) -> tuple[Any, ...]:
    """Step both: ``rounds`` rounds of (k_D D-updates, k_G G-updates)."""
    return pg.plane_view(session, values, "both", rounds).outputs()


def _playing(playing: bool, pair: bool = False) -> tuple[Any, Any]:
    return gr.Timer(active=playing), gr.Button(value=pg.play_label(playing, pair))


def on_tick(session: Session | None, *values: Any) -> tuple[Any, ...]:
    """Play's timer: train for up to TICK_BUDGET_S, then redraw; an error pauses. Returns
    the usual four outputs plus (timer, button)."""
    view = pg.plane_view(session, values, "budget")
    return (*view.outputs(), *_playing(view.session.playing))


def on_play(session: Session | None) -> tuple[Any, ...]:
    """Play / Pause. Returns (session, timer, button)."""
    session = session or Session()
    session.playing = not session.playing
    return (session, *_playing(session.playing))


def on_click(session: Session | None, event: gr.SelectData, *values: Any) -> tuple[Any, ...]:
    """A click on the plot adds a point when the data set is "your points"."""
    point = pg.click_point(getattr(event, "index", None))
    return pg.add_point_view(session, values, point).outputs()


def on_csv(session: Session | None, file: Any, *values: Any) -> tuple[Any, ...]:
    """A CSV of x,y points was uploaded: it becomes "your points". Returns the usual four
    outputs plus the data set dropdown (switched to "points")."""
    if file is None:
        return (*on_settings(session, *values), gr.skip())
    path = file if isinstance(file, str) else getattr(file, "name", None)
    view = pg.csv_view(session, values, path)
    return (*view.outputs(), gr.update(value=view.dataset) if view.dataset else gr.skip())


def on_clear_points(session: Session | None, *values: Any) -> tuple[Any, ...]:
    """Forget the clicked / uploaded points."""
    session = session or Session()
    pg.clear_points(session)
    return on_settings(session, *values)


def _pair(action: str, doc: str) -> Callable[..., tuple]:
    """A handler (pair, seed[, rounds]) -> (pair, left, right, left text, right text, chart)."""

    def handler(pair: pg.PairSession | None, seed: Any, rounds: Any = pg.PAIR_ROUNDS) -> tuple:
        try:
            return pg.pair_view(pair, seed, action, rounds)
        except ValueError as error:
            raise gr.Error(str(error), print_exception=False) from None

    handler.__doc__ = doc
    return handler


on_pair_reset = _pair("reset", "Start both presets from the same seed.")
on_pair_run = _pair("run", "Run both for ``rounds`` rounds (same number each).")
on_pair_tick = _pair("tick", "Play for the pair: alternate rounds for up to TICK_BUDGET_S.")


def on_pair_play(pair: pg.PairSession | None, seed: float) -> tuple[Any, ...]:
    """Play / Pause for the pair. Returns (pair, timer, button)."""
    pair = _pair("", "")(pair, seed)[0]
    pair.playing = not pair.playing
    return (pair, *_playing(pair.playing, pair=True))


def live(handler: Callable[..., tuple]) -> Callable[..., tuple]:
    """The handler with its charts as JSON, the value of a :func:`live_plot` (which redraws
    in place: Play does not reset a zoomed chart)."""

    @functools.wraps(handler)
    def wrapped(*args: Any, **kwargs: Any) -> tuple:
        outputs = handler(*args, **kwargs)
        return tuple(plot_value(v) if isinstance(v, go.Figure) else v for v in outputs)

    return wrapped


def build_tab(enable_training: bool = True) -> None:
    """Create the playground inside the current Blocks/Tab context (``enable_training`` is
    accepted for a uniform interface: the tiny, time-boxed playground stays on either way)."""
    first = pg.plane_view(None, {n: SPECS[n].default for n in SETTING_NAMES})
    first_pair = pg.pair_outputs(pg.new_pair(0))
    session, pair = gr.State(None), gr.State(None)
    timer, pair_timer = gr.Timer(TICK_S, active=False), gr.Timer(TICK_S, active=False)
    w: dict[str, Any] = {}

    def widget(name: str, **overrides: Any) -> Any:
        w[name] = option_widget(SPECS[name], **overrides)
        return w[name]

    gr.Markdown(f"### {pg.TITLE}\n{pg.INTRO_MD}")
    with gr.Row():
        with gr.Column(scale=3, min_width=420):
            plot = gr.Image(
                first.plot,
                label="the plane: click to add points (your points)",
                show_label=False,
                type="numpy",
                interactive=False,
                format="png",
                height=560,
                buttons=["download"],
                elem_id="playground-plot",
            )
            history = live_plot(first.chart, height=240, elem_id="playground-history")
        with gr.Column(scale=2, min_width=320):
            dataset = widget("dataset", choices=pg.DATASET_CHOICES, elem_id="playground-dataset")
            with gr.Row():
                step_d = gr.Button("Step D", elem_id="playground-step-d")
                step_g = gr.Button("Step G", elem_id="playground-step-g")
                step_both = gr.Button(
                    "Step both", variant="primary", elem_id="playground-step-both"
                )
            with gr.Row():
                play = gr.Button(pg.play_label(False), elem_id="playground-play")
                reset = gr.Button("↺ Reset", elem_id="playground-reset")
                rounds = widget("rounds")
            widget("loss", elem_id="playground-loss")
            for names in pg.ROWS:
                with gr.Row():
                    for name in names:
                        widget(name)
            with gr.Accordion(pg.MORE_TITLE, open=False):
                for names in pg.MORE_ROWS:
                    with gr.Row():
                        for name in names:
                            widget(name)
            show = SPECS["show"]
            w["show"] = gr.CheckboxGroup(list(show.choices), value=show.default, label=show.label)
            with gr.Accordion("your points", open=False):
                gr.Markdown(pg.POINTS_MD)
                csv_file = gr.File(
                    label="CSV of x,y points", file_types=[".csv", ".txt"], type="filepath"
                )
                clear_points = gr.Button("clear my points")
    figures = gr.Markdown(first.figures, elem_id="playground-figures")

    gr.Markdown(f"### {pg.PAIR_TITLE}\n{pg.PAIR_MD}")
    with gr.Row():
        pair_seed = widget("pair_seed", scale=1)
        pair_reset = gr.Button("↺ Start both", scale=1)
        pair_run = gr.Button(f"Run {pg.PAIR_ROUNDS} rounds", scale=1)
        pair_play = gr.Button(pg.play_label(False, pair=True), scale=1)
    with gr.Row():
        sides = (("collapse", "left"), ("cure", "right"))
        left_plot, right_plot = (
            gr.Image(
                picture, label=side, interactive=False, format="png", elem_id=f"playground-{at}"
            )
            for picture, (side, at) in zip(first_pair[:2], sides, strict=True)
        )
    with gr.Row():
        left_text, right_text = gr.Markdown(first_pair[2]), gr.Markdown(first_pair[3])
    pair_history = live_plot(first_pair[4], height=240, elem_id="playground-pair-history")

    controls = [w[name] for name in SETTING_NAMES]
    main_out = [session, plot, figures, history]
    common = {"concurrency_id": CONCURRENCY_ID, "concurrency_limit": CONCURRENCY_LIMIT}
    quiet = {**common, "show_progress": "hidden"}
    state_controls = [session, *controls]

    gr.on(
        [c.change for c in controls],
        live(on_settings),
        state_controls,
        main_out,
        api_name="playground_settings",
        trigger_mode="always_last",
        **quiet,
    )
    for trigger, handler, name in (
        (step_d.click, on_step_d, "step_d"),
        (step_g.click, on_step_g, "step_g"),
        (reset.click, on_reset, "reset"),
        (clear_points.click, on_clear_points, "clear_points"),
        (plot.select, on_click, "click"),
    ):
        trigger(live(handler), state_controls, main_out, api_name=f"playground_{name}", **quiet)
    step_both.click(
        live(on_step_both), [session, rounds, *controls], main_out, api_name="playground_step_both",
        **common,
    )  # fmt: skip
    play.click(on_play, [session], [session, timer, play], api_name="playground_play", **quiet)
    timer.tick(
        live(on_tick), state_controls, [*main_out, timer, play], api_name="playground_tick", **quiet
    )
    csv_file.upload(
        live(on_csv),
        [session, csv_file, *controls],
        [*main_out, dataset],
        api_name="playground_csv",
        **common,
    )

    pair_in = [pair, pair_seed]
    pair_out = [pair, left_plot, right_plot, left_text, right_text, pair_history]
    for trigger, handler, name, how in (
        (pair_reset.click, on_pair_reset, "reset", common),
        (pair_run.click, on_pair_run, "run", common),
        (pair_timer.tick, on_pair_tick, "tick", quiet),
    ):
        trigger(live(handler), pair_in, pair_out, api_name=f"playground_pair_{name}", **how)
    pair_play.click(
        on_pair_play,
        pair_in,
        [pair, pair_timer, pair_play],
        api_name="playground_pair_play",
        **quiet,
    )
