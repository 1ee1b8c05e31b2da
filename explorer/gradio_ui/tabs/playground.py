"""The "2-D playground" tab: GAN Lab's view of a GAN, in Python, wired to :mod:`trainers.toy2d`.

Call :func:`build_tab` inside an open ``gr.Blocks`` / ``gr.Tab`` context::

    with gr.Blocks() as demo:
        with gr.Tab("2-D playground"):
            build_tab()

Each user's experiment (G, D, optimisers, clicked points, figure history: a
:class:`explorer.playground.Session`) lives in a ``gr.State``, never in module globals. The handlers are plain functions (``on_*``) that take
and return that state, so they are tested without a browser. Every event has an explicit
``api_name`` starting with ``playground_``.

The models are tiny (two small MLPs on 2-D points), so the playground stays on even where the
Train tab is switched off; Play trains for at most ``TICK_BUDGET_S`` per tick, and all
playground events share one concurrency limit, so it cannot take over a shared machine.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr
import plotly.graph_objects as go

from explorer import inputs
from explorer import playground as pg
from explorer.gradio_ui.tabs.live_plot import live_plot, plot_value
from explorer.playground import (
    SETTING_NAMES,
    SHOW_CHOICES,
    PairSession,
    Session,
    apply_settings,
    error_outputs,
    new_pair,
    pair_outputs,
    settings_from,
    view_outputs,
)
from trainers.losses import LOSSES
from trainers.toy2d import (
    DATASET_LABELS,
    PRESET_NOTES,
    TOY_DATASETS,
    Toy2DConfig,
    Toy2DTrainer,
    ToyDataError,
    points_from_csv,
)

TICK_S, TICK_BUDGET_S = pg.TICK_S, pg.TICK_BUDGET_S  # Play's tick and its training budget
CONCURRENCY_ID = "playground"
CONCURRENCY_LIMIT = 2  # playground events running at once, machine-wide

INTRO_MD = """
### A GAN you can watch: two players on a plane

Real data are points on the plane (green). **G** turns noise z ~ N(0, I) into points G(z)
(purple). **D** looks at a point and says how "real" it looks; the background shows D's
opinion of every point of the plane (green = real, purple = fake). The arrows show where G's
loss pushes each fake point, **−∂L_G/∂x**: G follows them to where D says "real".

**Step D** trains only D (k_D updates), **Step G** only G (k_G updates), **Step both** does one
round of each, as in Goodfellow et al.'s Algorithm 1. **Play** keeps going. Changing the loss,
k or the learning rates applies at once; changing the network or the data resets.
"""

PAIR_MD = f"""
### Mode collapse, and one switch that cures it

Both start from the same seed and get the same number of rounds.

- **Left, collapse:** {PRESET_NOTES["collapse"]}
- **Right, cure:** {PRESET_NOTES["cure"]}
"""

POINTS_MD = """
Pick **your points** as the data set, then click on the plane to add points (each click adds
one; the set is sampled with a little Gaussian jitter). Or upload a CSV with two numeric
columns `x,y` (a header line is fine); points outside [−3, 3]² are scaled to fit.
"""


# ---------------------------------------------------------------------------------------------
# Handlers (plain functions: testable without a browser)
# ---------------------------------------------------------------------------------------------

#: The sliders' ranges: (what, lowest, highest, default). The API can send anything, so every
#: handler checks the values first (``explorer.inputs``: one sentence for a bad one).
WHOLE_RANGES = {
    "d_steps": ("k_D", 1, 10, 1),
    "g_steps": ("k_G", 1, 10, 1),
    "width": ("The hidden units", 1, 256, 64),
    "depth": ("The hidden layers", 1, 4, 2),
    "latent_dim": ("The z dimensions", 1, 16, 2),
    "batch_size": ("The batch size", 2, 1024, 256),
}
MAX_ROUNDS = 1000


def _show(values: tuple) -> list[str] | None:
    """The "show" checkboxes' value, or None (= everything) when it is not a list of names."""
    show = values[-1] if values else None
    if isinstance(show, list | tuple) and all(isinstance(item, str) for item in show):
        return list(show)
    return None


def checked_settings(values: tuple) -> dict[str, Any]:
    """:func:`settings_from` with every number checked against its widget's range.

    Raises ``explorer.inputs.InputError`` (a ValueError) in one sentence."""
    if len(values) != len(SETTING_NAMES):
        raise inputs.InputError(f"The playground needs {len(SETTING_NAMES)} settings.")
    settings = settings_from(values)
    settings["show"] = _show(values)
    for name, (what, low, high, default) in WHOLE_RANGES.items():
        settings[name] = inputs.whole(settings[name], what, low, high, default)
    for name in ("lr_d", "lr_g"):
        settings[name] = inputs.number(
            settings[name], f"The {name[-1].upper()} learning rate", 1e-6, 0.1, 1e-3
        )
    settings["seed"] = inputs.seed(settings["seed"])
    settings["dataset"] = inputs.text(settings["dataset"], "The data set")
    settings["loss"] = inputs.text(settings["loss"], "The loss")
    return settings


def on_settings(session: Session | None, *values: Any) -> tuple[Any, ...]:
    """A setting changed. Returns (session, plot, figures, history chart)."""
    try:
        settings = checked_settings(values)
        session, notice = apply_settings(session, settings)
    except (ToyDataError, ValueError) as error:
        return error_outputs(session, _show(values), error)
    return (session, *view_outputs(session, settings["show"], notice))


def _train(session: Session | None, values: tuple, action: str, rounds: Any = 1) -> tuple[Any, ...]:
    try:
        settings = checked_settings(values)
        rounds = inputs.whole(rounds, "The rounds per step", 1, MAX_ROUNDS, 1)
        session, notice = apply_settings(session, settings)
        trainer = session.trainer
        if trainer is None:
            return (session, *view_outputs(session, settings["show"], "Add some points first."))
        pg.run_action(trainer, action, rounds)
    except (ToyDataError, ValueError, FloatingPointError) as error:
        session = session or Session()
        session.playing = False
        return error_outputs(session, _show(values), error)
    return (session, *view_outputs(session, settings["show"], notice))


def on_step_d(session: Session | None, *values: Any) -> tuple[Any, ...]:
    """Step D: k_D updates of D only."""
    return _train(session, values, "d")


def on_step_g(session: Session | None, *values: Any) -> tuple[Any, ...]:
    """Step G: k_G updates of G only."""
    return _train(session, values, "g")


def on_step_both(session: Session | None, rounds: float, *values: Any) -> tuple[Any, ...]:
    """Step both: ``rounds`` rounds of (k_D D-updates, k_G G-updates)."""
    return _train(session, values, "both", rounds)


def on_tick(session: Session | None, *values: Any) -> tuple[Any, ...]:
    """Play's timer: train for up to TICK_BUDGET_S, then redraw. Returns the usual four
    outputs plus (timer, button) so an error pauses."""
    result = _train(session, values, "budget")
    playing = result[0].playing if result[0] is not None else False
    if not playing:
        return (*result, gr.Timer(active=False), gr.Button(value="▶ Play"))
    return (*result, gr.Timer(active=True), gr.Button(value="⏸ Pause"))


def on_play(session: Session | None) -> tuple[Any, ...]:
    """Play / Pause. Returns (session, timer, button)."""
    session = session or Session()
    session.playing = not session.playing
    label = "⏸ Pause" if session.playing else "▶ Play"
    return session, gr.Timer(active=session.playing), gr.Button(value=label)


def on_reset(session: Session | None, *values: Any) -> tuple[Any, ...]:
    """Reset: new random networks (same seed = same start), counters and history at 0."""
    try:
        settings = checked_settings(values)
        session, _ = apply_settings(session, settings)
        if session.trainer is not None:
            session.trainer.reset()
            session.history = pg.FigureHistory()
    except (ToyDataError, ValueError) as error:
        return error_outputs(session, _show(values), error)
    return (session, *view_outputs(session, settings["show"]))


def on_click(session: Session | None, event: gr.SelectData, *values: Any) -> tuple[Any, ...]:
    """A click on the plot adds a point when the data set is "your points"."""
    session = session or Session()
    try:
        settings = checked_settings(values)
        if settings["dataset"] != "points":
            session, _ = apply_settings(session, settings)
    except (ToyDataError, ValueError) as error:
        return error_outputs(session, _show(values), error)
    if settings["dataset"] != "points":
        return (
            session,
            *view_outputs(
                session, settings["show"], "Choose **your points** as the data set to draw points."
            ),
        )
    index = getattr(event, "index", None)
    point = None
    if isinstance(index, list | tuple) and len(index) >= 2:
        try:
            col, row = (inputs.number(v, "The click", -1e6, 1e6, 0) for v in index[:2])
            point = pg.pixel_to_data(col, row)
        except inputs.InputError:
            point = None
    if point is None:
        return (
            session,
            *view_outputs(session, settings["show"], "Click inside the plane to add a point."),
        )
    session.points = [*session.points, point]
    return on_settings(session, *values)


def on_csv(session: Session | None, file: Any, *values: Any) -> tuple[Any, ...]:
    """A CSV of x,y points was uploaded: it becomes "your points". Returns the usual four
    outputs plus the data set dropdown (switched to "points")."""
    session = session or Session()
    try:
        settings = checked_settings(values)
    except ValueError as error:
        return (*error_outputs(session, _show(values), error), gr.skip())
    if file is None:
        return (session, *view_outputs(session, settings["show"]), gr.skip())
    path = file if isinstance(file, str) else getattr(file, "name", None)
    try:
        if not path or not Path(path).is_file():
            raise ToyDataError("The CSV upload could not be read; please upload it again.")
        points = points_from_csv(Path(path))
    except (ToyDataError, OSError) as error:
        return (*error_outputs(session, settings["show"], error), gr.skip())
    session.points = [(float(x), float(y)) for x, y in points]
    settings["dataset"] = "points"
    values = tuple(settings[name] for name in SETTING_NAMES)
    outputs = on_settings(session, *values)
    return (
        *outputs[:2],
        f"Loaded {len(points)} points from the CSV.\n\n{outputs[2]}",
        outputs[3],
        gr.update(value="points"),
    )


def on_clear_points(session: Session | None, *values: Any) -> tuple[Any, ...]:
    """Forget the clicked / uploaded points."""
    session = session or Session()
    session.points = []
    if session.trainer is not None and session.trainer.config.dataset == "points":
        session.trainer = None
    return on_settings(session, *values)


# --- side by side ---------------------------------------------------------------------------


def _pair_seed(seed: Any) -> int:
    try:
        return inputs.seed(seed)
    except inputs.InputError as error:
        raise gr.Error(str(error), print_exception=False) from None


def on_pair_reset(pair: PairSession | None, seed: float) -> tuple[Any, ...]:
    """Start both presets from the same seed. Returns (pair, left, right, left text, right text)."""
    pair = new_pair(_pair_seed(seed))
    return (pair, *pair_outputs(pair))


def on_pair_run(pair: PairSession | None, seed: float, rounds: float = 100) -> tuple[Any, ...]:
    """Run both for ``rounds`` rounds (same number each)."""
    try:
        rounds = inputs.whole(rounds, "The rounds", 0, MAX_ROUNDS, 100)
    except inputs.InputError as error:
        raise gr.Error(str(error), print_exception=False) from None
    pair = pair or new_pair(_pair_seed(seed))
    for _ in range(rounds):
        pair.left.step_both(1)
        pair.right.step_both(1)
    return (pair, *pair_outputs(pair))


def on_pair_tick(pair: PairSession | None, seed: float) -> tuple[Any, ...]:
    """Play for the pair: alternate rounds for up to TICK_BUDGET_S, both get the same count."""
    pair = pair or new_pair(_pair_seed(seed))
    pg.play_pair(pair)
    return (pair, *pair_outputs(pair))


def on_pair_play(pair: PairSession | None, seed: float) -> tuple[Any, ...]:
    """Play / Pause for the pair. Returns (pair, timer, button)."""
    pair = pair or new_pair(_pair_seed(seed))
    pair.playing = not pair.playing
    return (
        pair,
        gr.Timer(active=pair.playing),
        gr.Button(value="⏸ Pause" if pair.playing else "▶ Play both"),
    )


# ---------------------------------------------------------------------------------------------
# Layout and wiring
# ---------------------------------------------------------------------------------------------


def live(handler: Callable[..., tuple]) -> Callable[..., tuple]:
    """The handler with its charts as JSON, the value of a :func:`live_plot` (which redraws
    in place: Play does not reset a zoomed chart)."""

    @functools.wraps(handler)
    def wrapped(*args: Any, **kwargs: Any) -> tuple:
        outputs = handler(*args, **kwargs)
        return tuple(plot_value(v) if isinstance(v, go.Figure) else v for v in outputs)

    return wrapped


def build_tab(enable_training: bool = True) -> None:
    """Create the playground inside the current Blocks/Tab context.

    ``enable_training`` is accepted for a uniform interface with the Train tab; the playground's
    models are tiny and its Play loop is time-boxed, so it stays on either way.
    """
    defaults = Toy2DConfig()
    first = Session(trainer=Toy2DTrainer(defaults))  # the picture shown before any click
    first_plot, first_figures, first_history = view_outputs(first, SHOW_CHOICES)
    first_pair = pair_outputs(new_pair(0))
    session = gr.State(None)
    pair = gr.State(None)
    timer = gr.Timer(TICK_S, active=False)
    pair_timer = gr.Timer(TICK_S, active=False)
    gr.Markdown(INTRO_MD)
    with gr.Row():
        with gr.Column(scale=3, min_width=420):
            plot = gr.Image(
                first_plot,
                label="the plane: click to add points (your points)",
                show_label=False,
                type="numpy",
                interactive=False,
                format="png",
                height=560,
                buttons=["download"],
                elem_id="playground-plot",
            )
            history = live_plot(first_history, height=240, elem_id="playground-history")
        with gr.Column(scale=2, min_width=320):
            dataset = gr.Dropdown(
                [(DATASET_LABELS[name], name) for name in TOY_DATASETS],
                value=defaults.dataset,
                label="data set",
                elem_id="playground-dataset",
            )
            with gr.Row():
                step_d = gr.Button("Step D", elem_id="playground-step-d")
                step_g = gr.Button("Step G", elem_id="playground-step-g")
                step_both = gr.Button(
                    "Step both", variant="primary", elem_id="playground-step-both"
                )
            with gr.Row():
                play = gr.Button("▶ Play", elem_id="playground-play")
                reset = gr.Button("↺ Reset", elem_id="playground-reset")
                rounds = gr.Number(
                    1, label="rounds per 'Step both'", precision=0, minimum=1, maximum=1000
                )
            loss = gr.Dropdown(
                list(LOSSES), value=defaults.loss, label="loss", elem_id="playground-loss"
            )
            with gr.Row():
                d_steps = gr.Slider(
                    1, 10, value=defaults.d_steps, step=1, label="k_D: D updates per round"
                )
                g_steps = gr.Slider(
                    1, 10, value=defaults.g_steps, step=1, label="k_G: G updates per round"
                )
            with gr.Row():
                spectral_norm = gr.Checkbox(False, label="spectral norm in D")
                minibatch_std = gr.Checkbox(False, label="minibatch discrimination in D")
            with gr.Accordion("learning rates, network sizes, seed", open=False):
                with gr.Row():
                    lr_d = gr.Number(defaults.lr_d, label="lr D (Adam)", minimum=1e-6, maximum=0.1)
                    lr_g = gr.Number(defaults.lr_g, label="lr G (Adam)", minimum=1e-6, maximum=0.1)
                with gr.Row():
                    width = gr.Slider(8, 256, value=defaults.width, step=8, label="hidden units")
                    depth = gr.Slider(1, 4, value=defaults.depth, step=1, label="hidden layers")
                with gr.Row():
                    latent_dim = gr.Slider(
                        1, 16, value=defaults.latent_dim, step=1, label="z dimensions"
                    )
                    batch_size = gr.Slider(
                        16, 1024, value=defaults.batch_size, step=16, label="batch size"
                    )
                    seed = gr.Number(0, label="seed", precision=0)
            show = gr.CheckboxGroup(SHOW_CHOICES, value=SHOW_CHOICES, label="show")
            with gr.Accordion("your points", open=False):
                gr.Markdown(POINTS_MD)
                csv_file = gr.File(
                    label="CSV of x,y points", file_types=[".csv", ".txt"], type="filepath"
                )
                clear_points = gr.Button("clear my points")
    figures = gr.Markdown(first_figures, elem_id="playground-figures")

    gr.Markdown(PAIR_MD)
    with gr.Row():
        pair_seed = gr.Number(0, label="seed for both", precision=0, scale=1)
        pair_reset = gr.Button("↺ Start both", scale=1)
        pair_run = gr.Button("Run 100 rounds", scale=1)
        pair_play = gr.Button("▶ Play both", scale=1)
    with gr.Row():
        left_plot, right_plot = (
            gr.Image(picture, label=side, interactive=False, format="png", elem_id=elem_id)
            for picture, side, elem_id in (
                (first_pair[0], "collapse", "playground-left"),
                (first_pair[1], "cure", "playground-right"),
            )
        )
    with gr.Row():
        left_text = gr.Markdown(first_pair[2])
        right_text = gr.Markdown(first_pair[3])
    pair_history = live_plot(first_pair[4], height=240, elem_id="playground-pair-history")

    controls = [
        dataset,
        loss,
        d_steps,
        g_steps,
        spectral_norm,
        minibatch_std,
        lr_d,
        lr_g,
        width,
        depth,
        latent_dim,
        batch_size,
        seed,
        show,
    ]
    main_out = [session, plot, figures, history]
    common = {"concurrency_id": CONCURRENCY_ID, "concurrency_limit": CONCURRENCY_LIMIT}
    quiet = {**common, "show_progress": "hidden"}

    gr.on(
        [c.change for c in controls],
        live(on_settings),
        [session, *controls],
        main_out,
        api_name="playground_settings",
        trigger_mode="always_last",
        **quiet,
    )
    step_d.click(
        live(on_step_d), [session, *controls], main_out, api_name="playground_step_d", **quiet
    )
    step_g.click(
        live(on_step_g), [session, *controls], main_out, api_name="playground_step_g", **quiet
    )
    step_both.click(
        live(on_step_both),
        [session, rounds, *controls],
        main_out,
        api_name="playground_step_both",
        **common,
    )
    reset.click(
        live(on_reset), [session, *controls], main_out, api_name="playground_reset", **quiet
    )
    play.click(on_play, [session], [session, timer, play], api_name="playground_play", **quiet)
    timer.tick(
        live(on_tick),
        [session, *controls],
        [*main_out, timer, play],
        api_name="playground_tick",
        **quiet,
    )
    plot.select(
        live(on_click), [session, *controls], main_out, api_name="playground_click", **quiet
    )
    csv_file.upload(
        live(on_csv),
        [session, csv_file, *controls],
        [*main_out, dataset],
        api_name="playground_csv",
        **common,
    )
    clear_points.click(
        live(on_clear_points),
        [session, *controls],
        main_out,
        api_name="playground_clear_points",
        **quiet,
    )

    pair_out = [pair, left_plot, right_plot, left_text, right_text, pair_history]
    pair_reset.click(
        live(on_pair_reset), [pair, pair_seed], pair_out, api_name="playground_pair_reset", **common
    )
    pair_run.click(
        live(on_pair_run), [pair, pair_seed], pair_out, api_name="playground_pair_run", **common
    )
    pair_play.click(
        on_pair_play,
        [pair, pair_seed],
        [pair, pair_timer, pair_play],
        api_name="playground_pair_play",
        **quiet,
    )
    pair_timer.tick(
        live(on_pair_tick), [pair, pair_seed], pair_out, api_name="playground_pair_tick", **quiet
    )
