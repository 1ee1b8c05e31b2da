"""The "2-D playground" tab: Gradio layout and wiring over :mod:`explorer.playground` (its
settings, words and views). Each user's :class:`~explorer.playground.Session` lives in a
``gr.State``; the handlers (``on_*``, tested without a browser) take and return it. Every
``api_name`` starts with ``playground_``; Play trains for at most ``TICK_BUDGET_S`` per tick and
all playground events share one concurrency limit, so it stays on where Train is off.
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
from explorer.playground import SETTING_NAMES, SPECS, Session

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
    session = pg.toggle_play(session)
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
    view = pg.csv_view(session, values, file)
    return (*view.outputs(), gr.update(value=view.dataset) if view.dataset else gr.skip())


def on_clear_points(session: Session | None, *values: Any) -> tuple[Any, ...]:
    """Forget the clicked / uploaded points."""
    return on_settings(pg.clear_points(session), *values)


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
    pair = pg.toggle_play(_pair("", "")(pair, seed)[0])
    return (pair, *_playing(pair.playing, pair=True))


def live(handler: Callable[..., tuple]) -> Callable[..., tuple]:
    """The handler with its charts as JSON, the value of a :func:`live_plot` (which redraws
    in place: Play does not reset a zoomed chart)."""

    @functools.wraps(handler)
    def wrapped(*args: Any, **kwargs: Any) -> tuple:
        outputs = handler(*args, **kwargs)
        return tuple(plot_value(v) if isinstance(v, go.Figure) else v for v in outputs)

    return wrapped


def _wire(
    trigger: Callable, handler: Callable, inputs: list, outputs: list, name: str, **how: Any
) -> None:
    """One event: api_name ``playground_<name>``, its charts redrawn in place (:func:`live`),
    in the playground's concurrency group; no progress shown unless ``how`` says so."""
    trigger(
        live(handler),
        inputs,
        outputs,
        api_name=f"playground_{name}",
        concurrency_id=CONCURRENCY_ID,
        concurrency_limit=CONCURRENCY_LIMIT,
        **{"show_progress": "hidden", **how},
    )


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
                label=f"{pg.PLANE_CAPTION}: click to add points ({pg.POINTS_TITLE})",
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
                step_d = gr.Button(pg.BUTTONS["d"], elem_id="playground-step-d")
                step_g = gr.Button(pg.BUTTONS["g"], elem_id="playground-step-g")
                step_both = gr.Button(
                    pg.BUTTONS["both"], variant="primary", elem_id="playground-step-both"
                )
            with gr.Row():
                play = gr.Button(pg.play_label(False), elem_id="playground-play")
                reset = gr.Button(pg.BUTTONS["reset"], elem_id="playground-reset")
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
            with gr.Accordion(pg.POINTS_TITLE, open=False):
                gr.Markdown(pg.POINTS_MD)
                types = [f".{kind}" for kind in pg.CSV_TYPES]
                csv_file = gr.File(label=pg.CSV_LABEL, file_types=types, type="filepath")
                clear_points = gr.Button(pg.BUTTONS["clear_points"])
    figures = gr.Markdown(first.figures, elem_id="playground-figures")

    gr.Markdown(f"### {pg.PAIR_TITLE}\n{pg.PAIR_MD}")
    with gr.Row():
        pair_seed = widget("pair_seed", scale=1)
        pair_reset = gr.Button(pg.BUTTONS["pair_reset"], scale=1)
        pair_run = gr.Button(pg.BUTTONS["pair_run"], scale=1)
        pair_play = gr.Button(pg.play_label(False, pair=True), scale=1)
    with gr.Row():
        left_plot, right_plot = (
            gr.Image(
                picture, label=side, interactive=False, format="png", elem_id=f"playground-{at}"
            )
            for picture, side, at in zip(first_pair[:2], pg.SIDES, ("left", "right"), strict=True)
        )
    with gr.Row():
        left_text, right_text = gr.Markdown(first_pair[2]), gr.Markdown(first_pair[3])
    pair_history = live_plot(first_pair[4], height=240, elem_id="playground-pair-history")

    controls = [w[name] for name in SETTING_NAMES]
    main_in, main_out = [session, *controls], [session, plot, figures, history]
    changes = functools.partial(gr.on, [c.change for c in controls])  # any setting's change
    _wire(changes, on_settings, main_in, main_out, "settings", trigger_mode="always_last")
    _wire(step_d.click, on_step_d, main_in, main_out, "step_d")
    _wire(step_g.click, on_step_g, main_in, main_out, "step_g")
    both_in = [session, rounds, *controls]
    _wire(step_both.click, on_step_both, both_in, main_out, "step_both", show_progress="full")
    _wire(reset.click, on_reset, main_in, main_out, "reset")
    _wire(clear_points.click, on_clear_points, main_in, main_out, "clear_points")
    _wire(plot.select, on_click, main_in, main_out, "click")
    _wire(play.click, on_play, [session], [session, timer, play], "play")
    _wire(timer.tick, on_tick, main_in, [*main_out, timer, play], "tick")
    csv_in, csv_out = [session, csv_file, *controls], [*main_out, dataset]
    _wire(csv_file.upload, on_csv, csv_in, csv_out, "csv", show_progress="full")
    pair_in = [pair, pair_seed]
    pair_out = [pair, left_plot, right_plot, left_text, right_text, pair_history]
    _wire(pair_reset.click, on_pair_reset, pair_in, pair_out, "pair_reset", show_progress="full")
    _wire(pair_run.click, on_pair_run, pair_in, pair_out, "pair_run", show_progress="full")
    _wire(pair_timer.tick, on_pair_tick, pair_in, pair_out, "pair_tick")
    _wire(pair_play.click, on_pair_play, pair_in, [pair, pair_timer, pair_play], "pair_play")
