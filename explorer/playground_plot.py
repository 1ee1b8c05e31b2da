"""The 2-D playground's pictures and figures: the plane as GAN Lab draws it, and the figures
under it.

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
from dataclasses import asdict, dataclass, field

import numpy as np
import plotly.graph_objects as go
from PIL import Image, ImageDraw

from explorer import charts
from explorer.pictures import font
from trainers.losses import FORMULAS
from trainers.toy2d import (
    DATASET_LABELS,
    EVAL_SAMPLES,
    MIN_SHARE_OF_FAIR,
    VIEW_LIMIT,
    Toy2DMetrics,
    Toy2DTrainer,
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
