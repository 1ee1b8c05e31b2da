"""Interactive charts for every front end: plotly figures built from plain data.

Each function takes lists (or arrays) of steps and values and returns a ``plotly`` figure, so
the Gradio tabs (``gr.Plot``) and a Streamlit page (``st.plotly_chart``) show the same charts.
Nothing here imports a front end.

    fig = training_curves({"step": [1, 2, 3], "d": [1.3, 1.2, 1.1], "g": [0.7, 0.8, 0.9],
                           "d_real": [0.6, 0.6, 0.7], "d_fake": [0.4, 0.4, 0.3]})

Long runs stay smooth: every line is cut to at most :data:`MAX_POINTS` points by
:func:`downsample` (bucket means, first and last point kept exactly). Hover, zoom and the
legend's toggles are plotly's own; ``uirevision`` keeps a user's zoom and hidden lines while a
live chart is redrawn with new data (front ends that call ``Plotly.react``, as Gradio does).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

MAX_POINTS = 2000  # points per line: a 50,000-step run draws as fast as a short one

# One colour per meaning, the same in every chart.
COLOURS = {
    "d": "#1f77b4",  # D / L_D: blue
    "g": "#d62728",  # G / L_G: red
    "real": "#2ca02c",  # real data, D(x): green
    "fake": "#9467bd",  # fakes, D(G(z)): purple
    "neutral": "#5a5a5a",  # anything else (JS divergence, FID)
    "extra": "#ff7f0e",
}

# Figures are built from plain dicts with a fixed light style (not a named template and not
# make_subplots): that is about ten times faster, which matters at two redraws a second.
_AXIS = {
    "gridcolor": "#e8e8e8",
    "zerolinecolor": "#cccccc",
    "linecolor": "#bbbbbb",
    "showline": True,
    "ticks": "outside",
    "tickcolor": "#bbbbbb",
    "automargin": True,
}
_LAYOUT = {
    "template": "none",
    "paper_bgcolor": "white",
    "plot_bgcolor": "white",
    "font": {"family": "sans-serif", "size": 12, "color": "#333333"},
    "hovermode": "x unified",
    "margin": {"l": 50, "r": 15, "t": 50, "b": 40},
    "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.1, "x": 0},
}

Series = Mapping[str, Sequence[float]]


# ---------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------


def downsample(
    xs: Sequence[float], ys: Sequence[float], max_points: int = MAX_POINTS
) -> tuple[np.ndarray, np.ndarray]:
    """At most ``max_points`` points of the line (xs, ys), as float arrays.

    Short lines come back unchanged. Longer ones keep their first and last point exactly; in
    between, each bucket of consecutive points becomes its mean (NaNs skipped; a bucket of only
    NaNs stays NaN, a gap in the line), which smooths noise instead of aliasing it.
    """
    x = np.asarray(xs, dtype=np.float64).reshape(-1)
    y = np.asarray(ys, dtype=np.float64).reshape(-1)
    n = min(len(x), len(y))
    x, y = x[:n], y[:n]
    if n <= max_points or max_points < 3:
        return x, y
    inner_x, inner_y = x[1:-1], y[1:-1]
    buckets = max_points - 2
    starts = np.unique(np.linspace(0, len(inner_x), buckets + 1).astype(int)[:-1])
    sizes = np.diff(np.append(starts, len(inner_x)))
    finite = np.isfinite(inner_y)
    counts = np.add.reduceat(finite.astype(np.float64), starts)
    sums = np.add.reduceat(np.where(finite, inner_y, 0.0), starts)
    with np.errstate(invalid="ignore", divide="ignore"):
        bucket_y = np.where(counts > 0, sums / counts, np.nan)
    bucket_x = np.add.reduceat(inner_x, starts) / sizes
    return (
        np.concatenate([x[:1], bucket_x, x[-1:]]),
        np.concatenate([y[:1], bucket_y, y[-1:]]),
    )


def robust_range(values: Sequence[float], pad: float = 0.08) -> list[float] | None:
    """A y range from the 1st to the 99th percentile (padded), so one early spike does not
    flatten the rest of the curve; None when there is nothing finite (plotly autoscales)."""
    a = np.asarray(values, dtype=np.float64)
    a = a[np.isfinite(a)]
    if not len(a):
        return None
    low, high = np.percentile(a, [1, 99]) if len(a) > 50 else (a.min(), a.max())
    margin = pad * max(float(high - low), 1e-3)
    return [float(low - margin), float(high + margin)]


def _column(data: Series | None, name: str) -> np.ndarray:
    """``data[name]`` as float64 (None -> NaN); empty when absent."""
    if not data or name not in data:
        return np.zeros(0)
    return np.asarray(data[name], dtype=np.float64).reshape(-1)


def _line(
    xs: Sequence[float],
    ys: Sequence[float],
    name: str,
    colour: str,
    panel: int = 1,
    max_points: int = MAX_POINTS,
    markers: bool = False,
) -> dict[str, Any]:
    """One line trace (a dict) on ``panel``, cut to ``max_points`` points."""
    x, y = downsample(xs, ys, max_points)
    mode = "lines+markers" if markers or len(x) == 1 else "lines"
    return {
        "type": "scatter",
        "x": x,
        "y": y,
        "name": name,
        "mode": mode,
        "line": {"color": colour, "width": 2},
        "marker": {"color": colour, "size": 5},
        "connectgaps": False,
        "hovertemplate": "%{y:.4g}",
        "xaxis": _ref("x", panel),
        "yaxis": _ref("y", panel),
    }


def _ref(axis: str, panel: int) -> str:
    """A trace's axis reference: "x", "x2", ..."""
    return axis if panel == 1 else f"{axis}{panel}"


def _panels(titles: Sequence[str], gap: float = 0.08, **axes: Any) -> dict[str, Any]:
    """The layout of ``len(titles)`` charts side by side (what make_subplots does, cheaply):
    one x and one y axis per panel, and each title above its panel. ``axes`` are extra
    settings for every axis (e.g. ``x_title="step"`` as ``xaxis_title``)."""
    n = max(len(titles), 1)
    width = (1 - gap * (n - 1)) / n
    layout: dict[str, Any] = {"annotations": []}
    for i in range(1, n + 1):
        left = (i - 1) * (width + gap)
        layout[_ref("xaxis", i)] = {
            **_AXIS,
            "domain": [left, left + width],
            "anchor": _ref("y", i),
            **axes.get("x", {}),
        }
        layout[_ref("yaxis", i)] = {**_AXIS, "anchor": _ref("x", i), **axes.get("y", {})}
        if i <= len(titles) and titles[i - 1]:
            layout["annotations"].append(
                {
                    "text": f"<b>{titles[i - 1]}</b>",
                    "x": left + width / 2,
                    "y": 1.0,
                    "xref": "paper",
                    "yref": "paper",
                    "xanchor": "center",
                    "yanchor": "bottom",
                    "showarrow": False,
                }
            )
    return layout


def _figure(
    traces: list[dict[str, Any]],
    layout: dict[str, Any],
    height: int,
    revision: str,
    empty_note: str | None = None,
) -> go.Figure:
    """The figure, with the shared style; ``empty_note`` is written across an empty chart."""
    layout = {**_LAYOUT, **layout, "height": height, "uirevision": revision}
    if empty_note:
        layout["annotations"] = [
            *layout.get("annotations", []),
            {
                "text": empty_note,
                "showarrow": False,
                "xref": "paper",
                "yref": "paper",
                "x": 0.5,
                "y": 0.5,
                "font": {"color": "#888888"},
            },
        ]
    return go.Figure(data=traces, layout=layout)


# ---------------------------------------------------------------------------------------------
# Line charts
# ---------------------------------------------------------------------------------------------


def line_figure(
    steps: Sequence[float],
    series: Mapping[str, Sequence[float]],
    *,
    title: str = "",
    x_title: str = "step",
    y_title: str = "",
    y_range: Sequence[float] | None = None,
    colours: Mapping[str, str] | None = None,
    height: int = 300,
    revision: str = "keep",
    max_points: int = MAX_POINTS,
) -> go.Figure:
    """One chart with a line per entry of ``series`` (name -> values, aligned with ``steps``).

    ``y_range``: fixed (low, high), else a robust range from the data. ``revision``: charts
    with the same value keep the user's zoom and legend choices across redraws.
    """
    palette = list(COLOURS.values())
    traces = []
    for i, (name, values) in enumerate(series.items()):
        colour = (colours or {}).get(name, palette[i % len(palette)])
        traces.append(_line(steps, values, name, colour, max_points=max_points))
    all_y = [trace["y"] for trace in traces]
    y_axis = {"title": {"text": y_title}, "range": _range(y_range, all_y)}
    layout = _panels([title], x={"title": {"text": x_title}}, y=y_axis)
    return _figure(traces, layout, height, revision, None if len(steps) else "no data yet")


def _range(fixed: Sequence[float] | None, values: list[np.ndarray]) -> list[float] | None:
    if fixed is not None:
        return [float(v) for v in fixed]
    return robust_range(np.concatenate(values)) if values else None


def training_curves(
    history: Series | None,
    quality: Series | None = None,
    *,
    loss: str = "non-saturating",
    height: int = 320,
    revision: str = "keep",
    max_points: int = MAX_POINTS,
) -> go.Figure:
    """The Train tab's live chart: L_D and L_G, D(x) and D(G(z)), and the quality figure.

    Args:
        history: per step: ``step``, ``d`` (L_D), ``g`` (L_G), ``d_real`` (D(x)), ``d_fake``
            (D(G(z))), the names of :class:`trainers.events.Step` and of ``log.jsonl``.
        quality: per measurement: ``step`` and ``classifier_fid`` (lower is better); a third
            panel when there is at least one.
        loss: for minimax / non-saturating D's output is a probability (fixed 0-1 axis); for
            the other losses it is D's raw score.
    """
    has_quality = len(_column(quality, "step")) > 0
    probability = loss in ("minimax", "non-saturating")
    titles = ["losses", "D's output (probability)" if probability else "D's output (score)"]
    if has_quality:
        titles.append("quality: classifier-FID (lower is better)")
    steps = _column(history, "step")
    d, g = _column(history, "d"), _column(history, "g")
    real, fake = _column(history, "d_real"), _column(history, "d_fake")
    traces = [
        _line(steps, d, "L_D", COLOURS["d"], 1, max_points),
        _line(steps, g, "L_G", COLOURS["g"], 1, max_points),
        _line(steps, real, "D(x) real", COLOURS["real"], 2, max_points),
        _line(steps, fake, "D(G(z)) fake", COLOURS["fake"], 2, max_points),
    ]
    layout = _panels(titles, x={"title": {"text": "step"}})
    # ranges from the drawn (downsampled) points: as robust, and cheap for a long run
    layout["yaxis"]["range"] = robust_range(np.concatenate([t["y"] for t in traces[:2]]))
    layout["yaxis2"]["range"] = (
        [-0.02, 1.02]
        if probability
        else robust_range(np.concatenate([t["y"] for t in traces[2:4]]))
    )
    if has_quality:
        q_steps, fid = _column(quality, "step"), _column(quality, "classifier_fid")
        traces.append(
            _line(q_steps, fid, "classifier-FID", COLOURS["neutral"], 3, max_points, markers=True)
        )
    note = None if len(steps) else "press Start: the curves appear here"
    return _figure(traces, layout, height, revision, note)


def quality_figure(
    quality: Series | None, *, height: int = 260, revision: str = "keep"
) -> go.Figure:
    """The classifier figures of a run over its steps: classifier-FID (left axis) and, when
    measured, label fidelity or the rarest class's share (right axis, 0-1)."""
    steps = _column(quality, "step")
    fid = _column(quality, "classifier_fid")
    traces = [_line(steps, fid, "classifier-FID", COLOURS["neutral"], markers=True)]
    for name, label, colour in (
        ("label_fidelity", "label fidelity", COLOURS["real"]),
        ("smallest_class_share", "rarest class share", COLOURS["fake"]),
    ):
        values = _column(quality, name)
        if np.isfinite(values).any():
            trace = _line(steps, values, label, colour, markers=True)
            traces.append({**trace, "yaxis": "y2"})
    layout = _panels([""], x={"title": {"text": "step"}}, y={"title": {"text": "classifier-FID"}})
    layout["yaxis2"] = {
        **_AXIS,
        "overlaying": "y",
        "side": "right",
        "range": [0, 1.02],
        "showgrid": False,
    }
    return _figure(
        traces, layout, height, revision, None if len(steps) else "no quality figure yet"
    )


def playground_history(
    history: Series | None, *, height: int = 240, revision: str = "keep"
) -> go.Figure:
    """The 2-D playground's figures against G updates: share of modes covered, share of
    high-quality samples and the JS estimate (bits), all on a 0-1 axis.

    ``history``: ``g_updates``, ``modes``, ``quality``, ``js`` (see
    ``explorer.playground_plot.FigureHistory``); the two mode figures are left out when the data set
    has no modes (NaN).
    """
    steps = _column(history, "g_updates")
    series: dict[str, np.ndarray] = {}
    modes = _column(history, "modes")
    if np.isfinite(modes).any():
        series["modes covered (share)"] = modes
        series["high quality"] = _column(history, "quality")
    series["JS (bits)"] = _column(history, "js")
    colours = {
        "modes covered (share)": COLOURS["real"],
        "high quality": COLOURS["fake"],
        "JS (bits)": COLOURS["neutral"],
    }
    return line_figure(
        steps,
        series,
        x_title="G updates",
        y_range=(-0.03, 1.03),
        colours=colours,
        height=height,
        revision=revision,
    )


# ---------------------------------------------------------------------------------------------
# Maps: the checkerboard's tap counts and spectra
# ---------------------------------------------------------------------------------------------


def _square_panels(titles: Sequence[str], **axes: Any) -> dict[str, Any]:
    """Side-by-side panels with square pixels and row 0 at the top (pictures of maps)."""
    layout = _panels(titles, **axes)
    for i in range(1, max(len(titles), 1) + 1):
        layout[_ref("yaxis", i)].update(autorange="reversed", scaleanchor=_ref("x", i))
        layout[_ref("xaxis", i)].update(showgrid=False)
        layout[_ref("yaxis", i)].update(showgrid=False)
    layout["hovermode"] = "closest"
    return layout


def taps_figure(maps: Mapping[str, Any], *, height: int = 330, revision: str = "keep") -> go.Figure:
    """Side-by-side heatmaps of how many kernel taps reach each output pixel (one per entry of
    ``maps``: title -> (H, W) counts).

    Colour is the count relative to that map's average (grey = average, black = none, white =
    twice the average), so maps of different kernels compare directly; hover shows the count.
    """
    arrays = {title: np.asarray(v, dtype=np.float64) for title, v in maps.items()}
    traces = []
    for i, (title, counts) in enumerate(arrays.items(), start=1):
        if not counts.size:
            continue
        mean = float(counts.mean())
        traces.append(
            {
                "type": "heatmap",
                "z": counts / mean if mean > 0 else counts,
                "customdata": counts,
                "name": title,
                "colorscale": "Greys",
                "reversescale": True,
                "zmin": 0.0,
                "zmax": 2.0,
                "showscale": i == len(arrays),
                "colorbar": {"title": {"text": "× average"}},
                "hovertemplate": "row %{y}, column %{x}: %{customdata:.0f} taps "
                "(%{z:.2f}× the average)<extra>" + title + "</extra>",
                "xaxis": _ref("x", i),
                "yaxis": _ref("y", i),
            }
        )
    layout = _square_panels(list(arrays))
    return _figure(traces, layout, height, revision, None if traces else "no map")


def spectrum_figure(
    spectra: Mapping[str, Any],
    period: int | None = None,
    *,
    height: int = 360,
    revision: str = "keep",
) -> go.Figure:
    """Heatmaps of log10 |FFT| (zero frequency in the centre), one per entry of ``spectra``
    (title -> (H, W) values, already ``fftshift``-ed), with the frequency lattice a
    ``period``-pixel pattern can use circled (toggle it in the legend).

    Axes are in cycles per pixel (-0.5 … 0.5); hover shows the frequency and the value, so a
    bright dot on the lattice reads as "a pattern repeating every ``period`` pixels".
    """
    arrays = {title: np.asarray(v, dtype=np.float64) for title, v in spectra.items()}
    traces = []
    lattice = _lattice(period)
    for i, (title, values) in enumerate(arrays.items(), start=1):
        if not values.size:
            continue
        h, w = values.shape
        traces.append(
            {
                "type": "heatmap",
                "z": values,
                "x": (np.arange(w) - w // 2) / w,  # cycles per pixel, after fftshift
                "y": (np.arange(h) - h // 2) / h,
                "name": title,
                "colorscale": "Magma",
                "showscale": False,
                "hovertemplate": "u %{x:.3f}, v %{y:.3f}: log10|F| %{z:.3g}<extra>"
                + title
                + "</extra>",
                "xaxis": _ref("x", i),
                "yaxis": _ref("y", i),
            }
        )
        if lattice:
            traces.append(
                {
                    "type": "scatter",
                    "x": [u for u, _ in lattice],
                    "y": [v for _, v in lattice],
                    "mode": "markers",
                    "name": f"period-{period} lattice",
                    "legendgroup": "lattice",
                    "showlegend": i == 1,
                    "marker": {"symbol": "circle-open", "size": 14, "color": "#00c8ff"},
                    "hovertemplate": "lattice frequency (%{x:.3f}, %{y:.3f})<extra></extra>",
                    "xaxis": _ref("x", i),
                    "yaxis": _ref("y", i),
                }
            )
    layout = _square_panels(list(arrays), x={"title": {"text": "u (cycles / pixel)"}})
    return _figure(traces, layout, height, revision, None if traces else "no spectrum")


def _lattice(period: int | None) -> list[tuple[float, float]]:
    """The frequencies (u, v) a pattern repeating every ``period`` pixels can use: multiples
    of 1/period folded into [-0.5, 0.5), without (0, 0) (the mean)."""
    if not period or period < 2:
        return []
    axis = sorted({round((m / period + 0.5) % 1.0 - 0.5, 6) for m in range(period)})
    return [(u, v) for u in axis for v in axis if (u, v) != (0.0, 0.0)]


__all__ = [
    "COLOURS",
    "MAX_POINTS",
    "downsample",
    "line_figure",
    "playground_history",
    "quality_figure",
    "robust_range",
    "spectrum_figure",
    "taps_figure",
    "training_curves",
]
