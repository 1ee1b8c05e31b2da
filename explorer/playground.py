"""The 2-D playground page, written once for both editions: its settings, pictures, words and
views (plain functions, no front end: testable alone).

The picture (GAN Lab's view):

- background: D's opinion of every point of the plane, from purple ("fake") through white
  (undecided) to green ("real"); see ``trainers.toy2d.realness_map`` for each loss;
- grey circles: the 3-sigma zone around each mode of the ring / grid ("high quality" inside);
- green dots: real points; purple dots: fake points G(z) for a fixed set of z;
- dark arrows on fake points: -dL_G/dx, where G's loss pushes each fake point.

Coordinates: the plot shows the square [-3, 3]^2; :func:`pixel_to_data` turns a click on the
picture back into a point (for drawing your own data set).
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go
from PIL import Image, ImageDraw

from explorer import charts, inputs
from explorer.page_check import checked_all
from explorer.params import page_specs
from explorer.pictures import font
from trainers.losses import FORMULAS, LOSSES
from trainers.options import option
from trainers.toy2d import (
    DATASET_LABELS,
    EVAL_SAMPLES,
    MIN_SHARE_OF_FAIR,
    PRESET_NOTES,
    TOY_DATASETS,
    VIEW_LIMIT,
    Toy2DConfig,
    Toy2DMetrics,
    Toy2DTrainer,
    ToyDataError,
    points_from_csv,
    preset_config,
)

PLOT_SIZE = 480  # pixels of the square plot
PAIR_SIZE = 400  # pixels of each plot in the side-by-side section
HEADER = 24  # title strip above the plot
FOOTER = 30  # legend strip below it
HEATMAP_RESOLUTION = 60  # D is evaluated on 60 x 60 points, then smoothly enlarged
SHOWN_POINTS = 500  # real and fake points drawn
ARROWS = 120  # fake points that get an arrow
ARROW_PX = 28  # length of the longest arrow

# D's colour scale: 0 = "fake" (purple), 0.5 = undecided (white), 1 = "real" (green)
_FAKE_BG = np.array([196, 168, 222], dtype=np.float32)
_MID_BG = np.array([250, 250, 250], dtype=np.float32)
_REAL_BG = np.array([164, 218, 168], dtype=np.float32)
_REAL_DOT = (44, 160, 44)
_FAKE_DOT = (118, 42, 170)
_ARROW = (45, 45, 45)
_MODE_RING = (120, 120, 120)


def data_to_pixel(
    points: np.ndarray, size: int = PLOT_SIZE, limit: float = VIEW_LIMIT
) -> np.ndarray:
    """(N, 2) points in [-limit, limit]^2 -> (N, 2) pixel (column, row) inside the plot
    (y grows upwards in data, downwards on screen); the header strip is *not* included."""
    points = np.asarray(points, dtype=np.float64)
    col = (points[:, 0] + limit) / (2 * limit) * size
    row = (limit - points[:, 1]) / (2 * limit) * size
    return np.stack([col, row], axis=1)


def pixel_to_data(
    col: float, row: float, size: int = PLOT_SIZE, limit: float = VIEW_LIMIT, header: int = HEADER
) -> tuple[float, float] | None:
    """A click at pixel (col, row) of the whole picture -> the data point (x, y), or None when
    the click is outside the plot (on the title or the legend)."""
    row -= header
    if not (0 <= col < size and 0 <= row < size):
        return None
    x = col / size * 2 * limit - limit
    y = limit - row / size * 2 * limit
    return round(x, 3), round(y, 3)


def heatmap_rgb(values: np.ndarray, size: int = PLOT_SIZE) -> Image.Image:
    """(R, R) values in [0, 1] -> an RGB picture size x size (bilinear, so no blocky cells)."""
    v = np.clip(values, 0, 1)[..., None]  # (R, R, 1)
    low = _FAKE_BG + (_MID_BG - _FAKE_BG) * (v / 0.5)  # 0 .. 0.5
    high = _MID_BG + (_REAL_BG - _MID_BG) * ((v - 0.5) / 0.5)  # 0.5 .. 1
    rgb = np.where(v < 0.5, low, high).round().astype(np.uint8)  # (R, R, 3)
    return Image.fromarray(rgb).resize((size, size), Image.Resampling.BILINEAR)


SHOW_CHOICES = ["D heatmap", "real points", "fake points", "G's gradient arrows", "mode zones"]


@dataclass
class View:
    """What to draw (the playground's "show" checkboxes)."""

    heatmap: bool = True
    real: bool = True
    fake: bool = True
    arrows: bool = True
    modes: bool = True


def render(
    trainer: Toy2DTrainer,
    view: View | None = None,
    title: str | None = None,
    size: int = PLOT_SIZE,
    user_points: np.ndarray | None = None,
) -> np.ndarray:
    """The playground picture: uint8 (HEADER + size + FOOTER, size, 3).

    Args:
        trainer: the 2-D experiment to draw.
        view: which layers to draw.
        title: the strip above the plot (default: data set, loss and update counts).
        user_points: points clicked so far (drawn as crosses, e.g. before the first Reset).
    """
    view = view or View()
    cfg = trainer.config
    canvas = Image.new("RGB", (size, HEADER + size + FOOTER), (255, 255, 255))
    if view.heatmap:
        canvas.paste(heatmap_rgb(trainer.d_on_grid(HEATMAP_RESOLUTION), size), (0, HEADER))
    draw = ImageDraw.Draw(canvas)
    _grid(draw, size, labels=True)
    if view.modes and trainer.data.modes is not None:
        radius = 3 * trainer.data.sigma / (2 * VIEW_LIMIT) * size
        for c, r in data_to_pixel(trainer.data.modes, size):
            draw.ellipse(
                [c - radius, HEADER + r - radius, c + radius, HEADER + r + radius],
                outline=_MODE_RING,
            )
    if view.real:
        _dots(draw, data_to_pixel(trainer.real_points(SHOWN_POINTS), size), _REAL_DOT, 2.0)
    if view.fake:
        _dots(draw, data_to_pixel(trainer.fake_points(SHOWN_POINTS), size), _FAKE_DOT, 2.0)
    if view.arrows:
        points, push = trainer.g_gradients(ARROWS)
        _arrows(draw, data_to_pixel(points, size), push * np.array([1.0, -1.0]), ARROW_PX)
    if user_points is not None and len(user_points):
        _crosses(draw, data_to_pixel(np.asarray(user_points), size))
    draw.rectangle([0, HEADER, size - 1, HEADER + size - 1], outline=(150, 150, 150))
    if title is None:
        title = f"{DATASET_LABELS[cfg.dataset]} · {cfg.loss} · D updates {trainer.d_updates} · G updates {trainer.g_updates}"
    draw.text((6, HEADER // 2), title, fill=(25, 25, 25), font=font(13), anchor="lm")
    _legend(draw, HEADER + size, size, cfg.loss)
    return np.asarray(canvas)


def render_empty(
    user_points: np.ndarray | list | None = None, message: str = "", size: int = PLOT_SIZE
) -> np.ndarray:
    """The empty plane for drawing your own data set: grid, the points so far, a hint."""
    canvas = Image.new("RGB", (size, HEADER + size + FOOTER), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    _grid(draw, size, labels=False)
    points = np.asarray(
        user_points if user_points is not None else np.zeros((0, 2)), dtype=np.float64
    ).reshape(-1, 2)
    _crosses(draw, data_to_pixel(points, size))
    draw.rectangle([0, HEADER, size - 1, HEADER + size - 1], outline=(150, 150, 150))
    draw.text(
        (6, HEADER // 2),
        message or f"your points: {len(points)} · click on the plane to add more",
        fill=(25, 25, 25),
        font=font(13),
        anchor="lm",
    )
    return np.asarray(canvas)


def _grid(draw: ImageDraw.ImageDraw, size: int, labels: bool) -> None:
    """Light grid lines at whole numbers (the axes a little darker), optionally labelled."""
    for value in range(-int(VIEW_LIMIT) + 1, int(VIEW_LIMIT)):
        c, r = data_to_pixel(np.array([[value, value]]), size)[0]
        colour = (225, 225, 225) if value else (200, 200, 200)
        draw.line([(c, HEADER), (c, HEADER + size)], fill=colour)
        draw.line([(0, HEADER + r), (size, HEADER + r)], fill=colour)
        if labels and value:
            grey, small = (150, 150, 150), font(10)
            draw.text((c + 2, HEADER + size - 2), str(value), fill=grey, font=small, anchor="lb")
            draw.text((2, HEADER + r - 1), str(value), fill=grey, font=small, anchor="lb")


def _crosses(draw: ImageDraw.ImageDraw, pixels: np.ndarray) -> None:
    """The user's own points: small black crosses."""
    for c, r in pixels:
        draw.line([(c - 4, HEADER + r - 4), (c + 4, HEADER + r + 4)], fill=(20, 20, 20), width=2)
        draw.line([(c - 4, HEADER + r + 4), (c + 4, HEADER + r - 4)], fill=(20, 20, 20), width=2)


def _dots(
    draw: ImageDraw.ImageDraw, pixels: np.ndarray, colour: tuple[int, int, int], radius: float
) -> None:
    for c, r in pixels:
        if -5 < c < PLOT_SIZE * 4 and -5 < r < PLOT_SIZE * 4:
            draw.ellipse(
                [c - radius, HEADER + r - radius, c + radius, HEADER + r + radius], fill=colour
            )


def _arrows(
    draw: ImageDraw.ImageDraw, starts: np.ndarray, vectors: np.ndarray, longest: float
) -> None:
    """Arrows from each start along its vector; the longest is ``longest`` px and the others
    scale with the square root of their length, so small pushes stay visible but ordered."""
    norms = np.linalg.norm(vectors, axis=1)
    if not len(norms) or float(norms.max()) <= 1e-12:
        return
    lengths = longest * np.sqrt(norms / norms.max())  # px
    for (c, r), (dc, dr), n, length in zip(starts, vectors, norms, lengths, strict=True):
        if length < 3 or n <= 0:  # too small to see: a flat gradient
            continue
        end_c, end_r = c + dc / n * length, r + dr / n * length
        draw.line([(c, HEADER + r), (end_c, HEADER + end_r)], fill=_ARROW, width=1)
        angle = math.atan2(dr, dc)
        for side in (-1, 1):
            a = angle + math.pi + side * 0.45
            draw.line(
                [
                    (end_c, HEADER + end_r),
                    (end_c + 5 * math.cos(a), HEADER + end_r + 5 * math.sin(a)),
                ],
                fill=_ARROW,
                width=1,
            )


def _legend(draw: ImageDraw.ImageDraw, top: int, width: int, loss: str) -> None:
    small = font(11)
    y = top + FOOTER // 2
    x = 6
    for label, colour in (("real x", _REAL_DOT), ("fake G(z)", _FAKE_DOT)):
        draw.ellipse([x, y - 4, x + 8, y + 4], fill=colour)
        draw.text((x + 12, y), label, fill=(40, 40, 40), font=small, anchor="lm")
        x += 20 + int(draw.textlength(label, font=small)) + 6
    draw.line([(x, y), (x + 16, y)], fill=_ARROW)
    draw.line([(x + 16, y), (x + 12, y - 3)], fill=_ARROW)
    draw.line([(x + 16, y), (x + 12, y + 3)], fill=_ARROW)
    label = "-dL_G/dx"
    draw.text((x + 20, y), label, fill=(40, 40, 40), font=small, anchor="lm")
    x += 28 + int(draw.textlength(label, font=small)) + 8
    bar_w = max(40, width - x - 92)
    for i in range(bar_w):
        colour = heatmap_rgb(np.array([[i / (bar_w - 1)]]), 1).getpixel((0, 0))
        draw.line([(x + 30 + i, y - 5), (x + 30 + i, y + 5)], fill=colour)
    draw.text((x + 26, y), "D: fake", fill=(40, 40, 40), font=small, anchor="rm")
    draw.text((x + 34 + bar_w, y), "real", fill=(40, 40, 40), font=small, anchor="lm")


# --------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------


@dataclass
class FigureHistory:
    """The figures over time, for the small chart under the plot."""

    g_updates: list[int] = field(default_factory=list)
    modes: list[float] = field(default_factory=list)
    quality: list[float] = field(default_factory=list)
    js: list[float] = field(default_factory=list)

    def add(self, g_updates: int, metrics: Toy2DMetrics) -> None:
        if self.g_updates and g_updates <= self.g_updates[-1]:  # Step D only, or a repeat: replace
            for name in ("g_updates", "modes", "quality", "js"):
                getattr(self, name).pop()
        self.g_updates.append(g_updates)
        share = metrics.modes_covered / metrics.num_modes if metrics.num_modes else float("nan")
        self.modes.append(share)
        self.quality.append(
            metrics.high_quality_share if metrics.high_quality_share is not None else float("nan")
        )
        self.js.append(metrics.js)


def history_chart(history: FigureHistory) -> go.Figure:
    """Share of modes covered, high-quality share and the JS estimate against G updates
    (an interactive chart, see :func:`explorer.charts.playground_history`)."""
    return charts.playground_history(asdict(history))


def figures_markdown(
    trainer: Toy2DTrainer,
    metrics: Toy2DMetrics,
    last: dict[str, float] | None = None,
    push: float | None = None,
) -> str:
    """The live figures with their definitions and the loss formulas."""
    cfg = trainer.config
    lines = [
        f"**{DATASET_LABELS[cfg.dataset]}** · D updates **{trainer.d_updates}** · G updates **{trainer.g_updates}**",
        "",
    ]
    lines += ["| figure | value |", "| --- | --- |"]
    if metrics.modes_covered is not None:
        min_count = math.ceil(MIN_SHARE_OF_FAIR / metrics.num_modes * EVAL_SAMPLES)
        lines.append(
            f"| modes covered | **{metrics.modes_covered} / {metrics.num_modes}** "
            f"(≥ {min_count} of {EVAL_SAMPLES} samples within 3σ) |"
        )
        lines.append(
            f"| high-quality samples | **{100 * metrics.high_quality_share:.0f} %** within 3σ of a mode |"
        )
    lines.append(
        f"| JS divergence (40×40 grid) | **{metrics.js:.3f} bits** (two real samples: {metrics.js_floor:.3f}) |"
    )
    if last:
        losses = ", ".join(f"L_{k.upper()} = {last[k]:.3f}" for k in ("d", "g") if k in last)
        if losses:
            lines.append(f"| last losses | {losses} |")
        if "d_real" in last:
            kind = "probabilities" if cfg.loss in ("minimax", "non-saturating") else "scores"
            name = f"D(x) / D(G(z)) ({kind})"
            lines.append(f"| {name} | {last['d_real']:.2f} / {last['d_fake']:.2f} |")
    if push is not None:
        lines.append(f"| mean ‖∂L_G/∂x‖ on fakes | {push:.3g} |")
    formula = FORMULAS[cfg.loss]
    lines += ["", f"`{formula['d']}`  ", f"`{formula['g']}`"]
    return "\n".join(lines)


def mean_push(trainer: Toy2DTrainer, n: int = 256) -> float:
    """Mean length of -dL_G/dx over n fake points (small = G's loss has gone flat)."""
    _, push = trainer.g_gradients(n)
    return float(np.linalg.norm(push, axis=1).mean())


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
