"""The 2-D playground page, written once for both editions: a visitor's session, its settings,
the actions (steps, play, points), the views and the words (plain functions, no front end).
The pictures and figures are :mod:`explorer.playground_plot`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go

from explorer import charts, inputs
from explorer.page_check import checked_all
from explorer.params import page_specs
from explorer.playground_plot import (
    PAIR_SIZE,
    SHOW_CHOICES,
    FigureHistory,
    View,
    figures_markdown,
    history_chart,
    mean_push,
    pixel_to_data,
    render,
    render_empty,
)
from trainers.losses import LOSSES
from trainers.options import option
from trainers.toy2d import (
    DATASET_LABELS,
    PRESET_NOTES,
    TOY_DATASETS,
    Toy2DConfig,
    Toy2DTrainer,
    ToyDataError,
    points_from_csv,
    preset_config,
)

# --------------------------------------------------------------------------------------------
# One user's playground (the front end keeps a Session per user)
# --------------------------------------------------------------------------------------------


@dataclass
class Session:
    """One user's playground.

    Attributes:
        trainer: the experiment (None while "your points" has no points yet).
        points: the user's points, (x, y) pairs in data coordinates.
        history: the figures over time, for the small chart.
        playing: Play is on.
    """

    trainer: Toy2DTrainer | None = None
    points: list[tuple[float, float]] = field(default_factory=list)
    history: FigureHistory = field(default_factory=FigureHistory)
    playing: bool = False


@dataclass
class PairSession:
    """The side-by-side section: the collapse preset (left) and its cure (right)."""

    left: Toy2DTrainer
    right: Toy2DTrainer
    left_history: FigureHistory = field(default_factory=FigureHistory)
    right_history: FigureHistory = field(default_factory=FigureHistory)
    playing: bool = False


# ---------------------------------------------------------------------------------------------
# Settings -> config
# ---------------------------------------------------------------------------------------------

# The order of the settings widgets passed to every handler (after the state).
SETTING_NAMES = (
    "dataset",
    "loss",
    "d_steps",
    "g_steps",
    "spectral_norm",
    "minibatch_std",
    "lr_d",
    "lr_g",
    "width",
    "depth",
    "latent_dim",
    "batch_size",
    "seed",
    "show",
)


def config_from(settings: dict[str, Any]) -> Toy2DConfig:
    """The widgets' values -> a Toy2DConfig (numbers arrive as floats from sliders)."""
    return Toy2DConfig(
        dataset=settings["dataset"],
        loss=settings["loss"],
        d_steps=int(settings["d_steps"]),
        g_steps=int(settings["g_steps"]),
        spectral_norm=bool(settings["spectral_norm"]),
        minibatch_std=bool(settings["minibatch_std"]),
        lr_d=float(settings["lr_d"]),
        lr_g=float(settings["lr_g"]),
        width=int(settings["width"]),
        depth=int(settings["depth"]),
        latent_dim=int(settings["latent_dim"]),
        batch_size=int(settings["batch_size"]),
        seed=int(settings["seed"] or 0),
    )


def view_from(show: list[str] | None) -> View:
    show = SHOW_CHOICES if show is None else show
    return View(
        heatmap="D heatmap" in show,
        real="real points" in show,
        fake="fake points" in show,
        arrows="G's gradient arrows" in show,
        modes="mode zones" in show,
    )


#: Play: one update every TICK_S seconds, training for at most TICK_BUDGET_S of it (the same in
#: both editions, so one visitor's Play cannot take over a shared machine).
TICK_S = 0.4
TICK_BUDGET_S = 0.25


def run_action(trainer: Any, action: str, rounds: int = 1) -> None:
    """One playground button: "d" (one D step), "g" (one G step), "both" (``rounds`` rounds
    of D then G) or "budget" (Play: as many rounds as fit in :data:`TICK_BUDGET_S`)."""
    if action == "d":
        trainer.step_d()
    elif action == "g":
        trainer.step_g()
    elif action == "both":
        trainer.step_both(rounds)
    elif action == "budget":
        deadline = time.perf_counter() + TICK_BUDGET_S
        while time.perf_counter() < deadline:
            trainer.step_both(1)


def play_pair(pair: PairSession) -> None:
    """Play for the side-by-side pair: alternate rounds for up to :data:`TICK_BUDGET_S`, so
    both get the same count."""
    deadline = time.perf_counter() + TICK_BUDGET_S
    while time.perf_counter() < deadline:
        pair.left.step_both(1)
        pair.right.step_both(1)


def settings_from(values: tuple) -> dict[str, Any]:
    """The settings widgets' values, in :data:`SETTING_NAMES` order -> {name: value}."""
    return dict(zip(SETTING_NAMES, values, strict=True))


def apply_settings(session: Session | None, settings: dict[str, Any]) -> tuple[Session, str]:
    """Bring the session in line with the widgets: live changes apply, structural ones reset.
    Returns (session, notice)."""
    session = session or Session()
    config = config_from(settings)
    if config.dataset == "points" and not session.points:
        session.trainer = None
        return session, ""
    points = np.asarray(session.points, dtype=np.float32) if config.dataset == "points" else None
    trainer = session.trainer
    if trainer is None:
        session.trainer = Toy2DTrainer(config, points)
        session.history = FigureHistory()
        return session, ""
    changes = {k: v for k, v in vars(config).items()}
    if points is not None and (
        trainer.points is None or not np.array_equal(trainer.points, points)
    ):
        changes["points"] = points
    if trainer.set_options(**changes):
        session.history = FigureHistory()
        return session, "(reset: the networks or the data changed)"
    return session, ""


def view_outputs(
    session: Session, show: list[str] | None, notice: str = ""
) -> tuple[Any, str, Any]:
    """(plot, figures markdown, figure-history chart) for the session."""
    trainer = session.trainer
    if trainer is None:
        hint = "**Your points:** click on the plane to add points (or upload a CSV), then train."
        text = hint + (f"\n\n{notice}" if notice else "")
        return render_empty(session.points), text, history_chart(session.history)
    metrics = trainer.metrics()
    session.history.add(trainer.g_updates, metrics)
    plot = render(trainer, view_from(show))
    figures = figures_markdown(trainer, metrics, trainer.last_stats(), mean_push(trainer))
    if notice:
        figures = f"{notice}\n\n{figures}"
    return plot, figures, history_chart(session.history)


# --------------------------------------------------------------------------------------------
# The side-by-side pair: mode collapse and its cure
# --------------------------------------------------------------------------------------------


def new_pair(seed: int = 0) -> PairSession:
    """The collapse preset and its cure, from the same seed."""
    return PairSession(
        Toy2DTrainer(preset_config("collapse", seed)), Toy2DTrainer(preset_config("cure", seed))
    )


def pair_outputs(pair: PairSession) -> tuple[Any, ...]:
    """(left plot, right plot, left figures, right figures, chart of both over time)."""
    result: list[Any] = []
    texts = []
    for side, trainer, history in (
        ("collapse", pair.left, pair.left_history),
        ("cure", pair.right, pair.right_history),
    ):
        metrics = trainer.metrics()
        history.add(trainer.g_updates, metrics)
        title = f"{side}: {trainer.config.loss} · round {trainer.g_updates}"
        result.append(render(trainer, title=title, size=PAIR_SIZE))
        covered = (
            f"**{metrics.modes_covered} / {metrics.num_modes} modes**"
            if metrics.modes_covered is not None
            else ""
        )
        share = (
            f"{100 * metrics.high_quality_share:.0f} % high quality"
            if metrics.high_quality_share is not None
            else ""
        )
        texts.append(f"{side}: {covered} · {share} · JS {metrics.js:.2f} bits")
    return (*result, *texts, pair_chart(pair))


def pair_chart(pair: PairSession) -> go.Figure:
    """Share of modes covered by the collapse preset and by its cure, round by round."""
    left, right = pair.left_history, pair.right_history
    rounds = min(len(left.g_updates), len(right.g_updates))
    return charts.line_figure(
        left.g_updates[:rounds],
        {
            "collapse: modes covered": left.modes[:rounds],
            "cure: modes covered": right.modes[:rounds],
            "collapse: high quality": left.quality[:rounds],
            "cure: high quality": right.quality[:rounds],
        },
        x_title="rounds (G updates)",
        y_title="share",
        y_range=(-0.03, 1.03),
        colours={
            "collapse: modes covered": charts.COLOURS["g"],
            "cure: modes covered": charts.COLOURS["real"],
            "collapse: high quality": charts.COLOURS["extra"],
            "cure: high quality": charts.COLOURS["d"],
        },
        height=240,
    )


# ---------------------------------------------------------------------------------------------
# The page: its parameters, words and views (both editions draw these; no front end here)
# ---------------------------------------------------------------------------------------------

_DEFAULT = Toy2DConfig()
MAX_ROUNDS = 1000


@dataclass
class PlaygroundParams:
    """The playground's settings (the first :data:`SETTING_NAMES`), then its two step counts."""

    dataset: str = option(
        _DEFAULT.dataset,
        "the real points G learns to imitate",
        choices=TOY_DATASETS,
        ui_label="data set",
    )
    loss: str = option(_DEFAULT.loss, "the loss D and G play", choices=LOSSES, ui_label="loss")
    d_steps: int = option(
        _DEFAULT.d_steps,
        "D updates in each round",
        minimum=1,
        maximum=10,
        step=1,
        ui_label="k_D: D updates per round",
    )
    g_steps: int = option(
        _DEFAULT.g_steps,
        "G updates in each round",
        minimum=1,
        maximum=10,
        step=1,
        ui_label="k_G: G updates per round",
    )
    spectral_norm: bool = option(False, "", ui_label="spectral norm in D")
    minibatch_std: bool = option(False, "", ui_label="minibatch discrimination in D")
    lr_d: float = option(
        _DEFAULT.lr_d, "", minimum=1e-6, maximum=0.1, ui_label="lr D (Adam)", widget="number"
    )
    lr_g: float = option(
        _DEFAULT.lr_g, "", minimum=1e-6, maximum=0.1, ui_label="lr G (Adam)", widget="number"
    )
    width: int = option(_DEFAULT.width, "", minimum=8, maximum=256, step=8, ui_label="hidden units")
    depth: int = option(_DEFAULT.depth, "", minimum=1, maximum=4, step=1, ui_label="hidden layers")
    latent_dim: int = option(
        _DEFAULT.latent_dim, "", minimum=1, maximum=16, step=1, ui_label="z dimensions"
    )
    batch_size: int = option(
        _DEFAULT.batch_size, "", minimum=16, maximum=1024, step=16, ui_label="batch size"
    )
    seed: int = option(_DEFAULT.seed, "", minimum=0, ui_label="seed", widget="integer")
    show: list = option(list(SHOW_CHOICES), "", choices=SHOW_CHOICES, ui_label="show")
    rounds: int = option(
        1, "", minimum=1, maximum=MAX_ROUNDS, ui_label="rounds per 'Step both'", widget="integer"
    )
    pair_seed: int = option(0, "", minimum=0, ui_label="seed for both", widget="integer")


SPECS = page_specs(PlaygroundParams)
#: What a message calls a value (default: "The <label>").
WHAT = {
    "d_steps": "k_D",
    "g_steps": "k_G",
    "lr_d": "The D learning rate",
    "lr_g": "The G learning rate",
    "dataset": "The data set",
    "loss": "The loss",
    "rounds": "The rounds per step",
    "pair_seed": "The seed",
}
#: How the page groups the settings: rows under the loss, then rows in a closed section.
ROWS = (("d_steps", "g_steps"), ("spectral_norm", "minibatch_std"))
MORE_TITLE = "learning rates, network sizes, seed"
MORE_ROWS = (("lr_d", "lr_g"), ("width", "depth"), ("latent_dim", "batch_size", "seed"))
DATASET_CHOICES = [(DATASET_LABELS[name], name) for name in TOY_DATASETS]
PAIR_ROUNDS = 100  # "Run 100 rounds"

TITLE = "A GAN you can watch: two players on a plane"
INTRO_MD = """
Real data are points on the plane (green). **G** turns noise z ~ N(0, I) into points G(z)
(purple). **D** looks at a point and says how "real" it looks; the background shows D's
opinion of every point of the plane (green = real, purple = fake). The arrows show where G's
loss pushes each fake point, **−∂L_G/∂x**: G follows them to where D says "real".

**Step D** trains only D (k_D updates), **Step G** only G (k_G updates), **Step both** does one
round of each, as in Goodfellow et al.'s Algorithm 1. **Play** keeps going. Changing the loss,
k or the learning rates applies at once; changing the network or the data resets.
"""
PAIR_TITLE = "Mode collapse, and one switch that cures it"
PAIR_MD = f"""
Both start from the same seed and get the same number of rounds.

- **Left, collapse:** {PRESET_NOTES["collapse"]}
- **Right, cure:** {PRESET_NOTES["cure"]}
"""
POINTS_MD = """
Pick **your points** as the data set, then add points one at a time (click on the plane, or
type them), or upload a CSV with two numeric columns `x,y` (a header line is fine); points
outside [−3, 3]² are scaled to fit.
"""
#: The buttons' words; the step buttons (:data:`STEPS`) are named by their action.
BUTTONS = {
    "d": "Step D",
    "g": "Step G",
    "both": "Step both",
    "reset": "↺ Reset",
    "pair_reset": "↺ Start both",
    "pair_run": f"Run {PAIR_ROUNDS} rounds",
    "add_point": "add point",
    "clear_points": "clear my points",
}
STEPS = ("d", "g", "both")  # the row of step buttons ("both" is the primary one)
POINTS_TITLE = "your points"
CSV_LABEL = "CSV of x,y points"
CSV_TYPES = ("csv", "txt")
PLANE_CAPTION = "the plane"
SIDES = ("collapse", "cure")  # the pair's left and right plots
NOT_POINTS = "Choose **your points** as the data set to draw points."
OUTSIDE = "Click inside the plane to add a point."
NO_POINTS = "Add some points first."
UNREADABLE_CSV = "The CSV upload could not be read; please upload it again."


def play_label(playing: bool, pair: bool = False) -> str:
    """Play's button: what pressing it does next."""
    return "⏸ Pause" if playing else ("▶ Play both" if pair else "▶ Play")


def toggle_play(target: Any) -> Any:
    """Play / Pause: flip ``target.playing`` (a :class:`Session` or :class:`PairSession`, a new
    Session for None); returns the target."""
    target = target or Session()
    target.playing = not target.playing
    return target


def _show(values: Any) -> list[str] | None:
    """The "show" value, or None (= everything) when it is not a list of names."""
    show = values.get("show") if isinstance(values, dict) else (values[-1] if values else None)
    if isinstance(show, list | tuple) and all(isinstance(item, str) for item in show):
        return list(show)
    return None


def checked_settings(values: Any) -> dict[str, Any]:
    """The settings ({name: value}, or the values in :data:`SETTING_NAMES` order), each checked
    against its declaration. Raises ``explorer.inputs.InputError`` (a ValueError) in one
    sentence."""
    if not isinstance(values, dict):
        if len(values) != len(SETTING_NAMES):
            raise inputs.InputError(f"The playground needs {len(SETTING_NAMES)} settings.")
        values = settings_from(tuple(values))
    settings = checked_all(SPECS, {name: values[name] for name in SETTING_NAMES}, WHAT)
    settings["show"] = _show(values)
    return settings


@dataclass
class PlaneView:
    """What the plane shows after an action: the (possibly new) session, the picture, the
    figures, the chart over time, and an error in one sentence ("" when none)."""

    session: Session
    plot: Any
    figures: str
    chart: go.Figure
    error: str = ""
    dataset: str | None = None  # the data set the page should switch to (after a CSV)

    def outputs(self) -> tuple[Any, ...]:
        """(session, plot, figures with the error on top, chart)."""
        figures = f"⚠️ {self.error}\n\n{self.figures}" if self.error else self.figures
        return self.session, self.plot, figures, self.chart


def _failed(session: Session | None, show: list[str] | None, error: Exception) -> PlaneView:
    session = session or Session()
    session.playing = False
    if session.trainer is not None:
        plot, figures, chart = view_outputs(session, show)
    else:
        plot, figures, chart = render_empty(session.points), "", history_chart(session.history)
    return PlaneView(session, plot, figures, chart, str(error))


def plane_view(
    session: Session | None, values: Any, action: str = "", rounds: Any = 1, notice: str = ""
) -> PlaneView:
    """Bring the session in line with the settings, then act: "" (nothing), "d", "g", "both"
    (``rounds`` rounds), "budget" (Play's tick) or "reset" (new networks, same seed)."""
    session = session or Session()
    try:
        settings = checked_settings(values)
        rounds = checked_all(SPECS, {"rounds": rounds}, WHAT)["rounds"]
        session, changed = apply_settings(session, settings)
        notice = "\n\n".join(text for text in (notice, changed) if text)
        if action == "reset" and session.trainer is not None:
            session.trainer.reset()
            session.history = FigureHistory()
        elif action and action != "reset":
            if session.trainer is None:
                notice = NO_POINTS
            else:
                run_action(session.trainer, action, rounds)
    except (ToyDataError, ValueError, FloatingPointError) as error:
        return _failed(session, _show(values), error)
    return PlaneView(session, *view_outputs(session, settings["show"], notice))


def add_point_view(session: Session | None, values: Any, point: Any) -> PlaneView:
    """Add a point of "your points": ``point`` is (x, y), or a click's pixel ``index``
    (column, row) on the picture when ``values`` come from a click."""
    session = session or Session()
    try:
        settings = checked_settings(values)
    except ValueError as error:
        return _failed(session, _show(values), error)
    if settings["dataset"] != "points":
        return plane_view(session, settings, notice=NOT_POINTS)
    if point is None:
        return plane_view(session, settings, notice=OUTSIDE)
    return plane_view(add_point(session, *point[:2]), settings)


def add_point(session: Session, x: float, y: float) -> Session:
    """One more of "your points" (rounded to 3 decimals); returns the session."""
    session.points = [*session.points, (round(float(x), 3), round(float(y), 3))]
    return session


def click_point(index: Any) -> tuple[float, float] | None:
    """A click's pixel (column, row) on the picture -> the point, or None (outside, or junk)."""
    if isinstance(index, list | tuple) and len(index) >= 2:
        try:
            col, row = (inputs.number(v, "The click", -1e6, 1e6, 0) for v in index[:2])
        except inputs.InputError:
            return None
        return pixel_to_data(col, row)
    return None


def load_points(session: Session, source: Any, name: str = "the CSV") -> str:
    """A CSV of x,y (a file path or its bytes) becomes the session's points; returns the
    sentence that says so. Raises ToyDataError (a ValueError) with the reason."""
    if isinstance(source, str) or source is None:
        if not source or not Path(source).is_file():
            raise ToyDataError(UNREADABLE_CSV)
        source = Path(source)
    try:
        points = points_from_csv(source)
    except OSError:
        raise ToyDataError(UNREADABLE_CSV) from None
    session.points = [(float(x), float(y)) for x, y in points]
    return f"Loaded {len(points)} points from {name}."


def csv_view(session: Session | None, values: Any, source: Any) -> PlaneView:
    """An uploaded CSV (its path, or an uploaded file with a ``name``) becomes "your points",
    and the data set switches to them."""
    session = session or Session()
    if not isinstance(source, str | bytes | None):
        source = getattr(source, "name", None)
    try:
        settings = checked_settings(values)
        loaded = load_points(session, source)
    except ValueError as error:
        return _failed(session, _show(values), error)
    view = plane_view(session, {**settings, "dataset": "points"}, notice=loaded)
    view.dataset = "points"
    return view


def clear_points(session: Session | None) -> Session:
    """Forget the user's points (and the experiment made from them); returns the session."""
    session = session or Session()
    session.points = []
    if session.trainer is not None and session.trainer.config.dataset == "points":
        session.trainer = None
    return session


def pair_view(pair: PairSession | None, seed: Any, action: str = "", rounds: Any = 100):
    """The side-by-side pair after ``action``: "reset" (both from ``seed``), "run"
    (``rounds`` rounds each), "tick" (Play) or "" (nothing). Returns (pair, left plot, right
    plot, left figures, right figures, chart). Raises InputError for a bad seed or count."""
    rounds = inputs.whole(rounds, "The rounds", 0, MAX_ROUNDS, PAIR_ROUNDS)
    if pair is None or action == "reset":
        pair = new_pair(checked_all(SPECS, {"pair_seed": seed}, WHAT)["pair_seed"])
    if action == "run":
        for _ in range(rounds):
            pair.left.step_both(1)
            pair.right.step_both(1)
    elif action == "tick":
        play_pair(pair)
    return (pair, *pair_outputs(pair))
