"""The front-end-neutral charts (explorer/charts.py) and the background-job helper (explorer/jobs.py)."""

from __future__ import annotations

import json
import math
import threading
import time

import numpy as np
import plotly.graph_objects as go
import pytest

from explorer import charts
from explorer.jobs import BackgroundJob, History, JobBusyError, JobSlot
from trainers.events import Finished, Samples, Step


def _history(n: int) -> dict[str, list[float]]:
    steps = list(range(1, n + 1))
    return {
        "step": steps,
        "d": [1.0 + math.sin(s / 30) for s in steps],
        "g": [0.7] * n,
        "d_real": [0.6] * n,
        "d_fake": [0.4 if s % 7 else None for s in steps],  # None = not measured: a gap
    }


# --- downsampling ------------------------------------------------------------------------------


def test_downsample_keeps_first_and_last_and_bounds_the_count() -> None:
    xs = np.arange(50_000)
    ys = np.random.default_rng(0).normal(size=50_000)
    x, y = charts.downsample(xs, ys, max_points=2000)
    assert len(x) == len(y) <= 2000
    assert (x[0], y[0]) == (xs[0], ys[0]) and (x[-1], y[-1]) == (xs[-1], ys[-1])
    assert np.all(np.diff(x) > 0)  # still a line from left to right
    assert abs(y[1:-1].mean()) < 0.1 and y[1:-1].std() < ys.std() / 3  # bucket means: smooth


def test_downsample_leaves_short_lines_alone_and_keeps_gaps() -> None:
    x, y = charts.downsample([1, 2, 3], [0.5, float("nan"), 0.7])
    assert list(x) == [1, 2, 3] and np.isnan(y[1])
    ys = np.full(10_000, np.nan)
    ys[:5000] = 1.0
    _, y = charts.downsample(np.arange(10_000), ys, max_points=100)
    assert np.isnan(y[-2]) and y[1] == 1.0  # an all-NaN bucket stays a gap


# --- figures ------------------------------------------------------------------------------------


def test_training_curves_have_the_four_lines_and_the_quality_panel() -> None:
    fig = charts.training_curves(_history(300), {"step": [100, 200], "classifier_fid": [80, 60]})
    assert isinstance(fig, go.Figure)
    names = [trace.name for trace in fig.data]
    assert names == ["L_D", "L_G", "D(x) real", "D(G(z)) fake", "classifier-FID"]
    assert [trace.xaxis for trace in fig.data] == ["x", "x", "x2", "x2", "x3"]
    assert list(fig.data[0].x) == list(range(1, 301))
    assert np.isnan(np.asarray(fig.data[3].y, dtype=float)[6])  # the None became a gap
    assert list(fig.layout.yaxis2.range) == [-0.02, 1.02]  # D(x) is a probability here
    assert fig.layout.uirevision == "keep"  # zoom and hidden lines survive a redraw
    json.loads(fig.to_json())  # what gr.Plot and st.plotly_chart send
    score = charts.training_curves(_history(10), loss="wgan-gp")
    assert "score" in score.layout.annotations[1].text and len(score.data) == 4


def test_a_long_run_is_cut_to_max_points() -> None:
    fig = charts.training_curves(_history(50_000), max_points=2000)
    for trace in fig.data:
        assert len(trace.x) <= 2000
        assert trace.x[0] == 1 and trace.x[-1] == 50_000


def test_empty_data_gives_an_empty_figure_not_an_error() -> None:
    for fig in (
        charts.training_curves(None),
        charts.training_curves({}),
        charts.training_curves({"step": [], "d": [], "g": []}),
        charts.quality_figure(None),
        charts.playground_history({}),
        charts.line_figure([], {"a": []}),
        charts.taps_figure({}),
        charts.spectrum_figure({}),
    ):
        assert isinstance(fig, go.Figure)
        assert all(len(trace.x if trace.x is not None else ()) == 0 for trace in fig.data)
        fig.to_json()


def test_playground_history_drops_mode_figures_without_modes() -> None:
    with_modes = {
        "g_updates": [1, 2],
        "modes": [0.5, 0.75],
        "quality": [0.2, 0.4],
        "js": [0.9, 0.5],
    }
    names = [t.name for t in charts.playground_history(with_modes).data]
    assert names == ["modes covered (share)", "high quality", "JS (bits)"]
    nan = float("nan")
    no_modes = {"g_updates": [1, 2], "modes": [nan, nan], "quality": [nan, nan], "js": [0.9, 0.5]}
    assert [t.name for t in charts.playground_history(no_modes).data] == ["JS (bits)"]


def test_maps_show_counts_on_hover_and_the_spectrum_lattice() -> None:
    counts = np.array([[1, 2], [2, 4]])
    fig = charts.taps_figure({"ConvTranspose": counts, "resize-conv": np.full((4, 4), 9)})
    assert [t.type for t in fig.data] == ["heatmap", "heatmap"]
    assert np.array_equal(np.asarray(fig.data[0].customdata), counts)
    assert np.allclose(np.asarray(fig.data[1].z), 1.0)  # a flat map is "average" everywhere
    spectrum = np.random.default_rng(0).random((16, 16))
    fig = charts.spectrum_figure({"a": spectrum, "b": spectrum}, period=2)
    assert [t.type for t in fig.data] == ["heatmap", "scatter", "heatmap", "scatter"]
    lattice = sorted(zip(fig.data[1].x, fig.data[1].y, strict=True))
    assert lattice == [(-0.5, -0.5), (-0.5, 0.0), (0.0, -0.5)]  # period 2, without (0, 0)
    assert min(fig.data[0].x) == -0.5 and max(fig.data[0].x) < 0.5


# --- the background job -------------------------------------------------------------------------


def test_history_keeps_columns_aligned() -> None:
    history = History(("d",))
    history.append(1, d=1.0)
    history.append(2, d=0.9, extra=3.0)  # a new name is back-filled with NaN
    history.add_step(Step(3, 0.0, {"d": 0.8, "g": 0.5}, d_real=0.6, d_fake=0.4))
    data = history.copy()
    assert data["step"] == [1, 2, 3] and data["d"] == [1.0, 0.9, 0.8]
    assert math.isnan(data["extra"][0]) and math.isnan(data["extra"][2])
    assert data["d_real"][-1] == 0.6 and history.rows == 3
    history.truncate(1)
    assert history.copy()["step"] == [1] and history.last()["d"] == 1.0


def _counting(job: BackgroundJob) -> str:
    for step in range(1, 1_000_000):
        if job.stop_event.is_set():
            return "stopped early"
        job.emit(Step(step, 0.0, {"loss": 1.0 / step}))
        if step % 10 == 0:
            job.emit(Samples(step, np.full((4, 4, 3), step % 256, np.uint8)))
        if step == 50 and job.target == 50:
            return "all done"
        time.sleep(0.001)
    return "never"


def test_background_job_polls_without_blocking_and_finishes() -> None:
    job = BackgroundJob(_counting, name="test", target=50).start()
    deadline = time.monotonic() + 20
    while not job.snapshot().finished and time.monotonic() < deadline:
        started = time.perf_counter()
        job.poll()  # touch, snapshot
        assert time.perf_counter() - started < 0.05  # never waits for the worker
        time.sleep(0.01)
    view = job.poll()
    assert view.finished and view.reason == "done" and view.step == 50
    assert view.history["step"] == list(range(1, 51)) and view.history["loss"][1] == 0.5
    assert view.image is not None and view.image[0, 0, 0] == 50
    assert job.result == "all done" and "done" in view.status
    assert isinstance(job.finished, Finished) and job.finished.step == 50


def test_background_job_stops_reports_errors_and_orphans() -> None:
    job = BackgroundJob(_counting, name="test").start()
    while job.step < 3:
        time.sleep(0.001)
    assert job.stop(timeout=10) and job.snapshot().reason == "stopped"

    def broken(job: BackgroundJob) -> None:
        raise RuntimeError("out of paint")

    failed = BackgroundJob(broken, name="test").start()
    failed.join(10)
    view = failed.snapshot()
    assert view.reason == "error" and "out of paint" in view.status
    assert isinstance(failed.error, RuntimeError)

    def polite(job: BackgroundJob) -> None:
        while not job.should_stop():
            time.sleep(0.005)

    orphan = BackgroundJob(polite, name="test", orphan_timeout=0.1).start()
    assert orphan.join(10) and orphan.snapshot().reason == "stopped"  # nobody polled


def test_follow_yields_until_done_and_closing_it_stops_the_job() -> None:
    views = list(BackgroundJob(_counting, name="test", target=50).start().follow(0.02))
    assert views[-1].finished and sum(v.finished for v in views) == 1
    job = BackgroundJob(_counting, name="test").start()
    stream = job.follow(0.02)
    next(stream)
    stream.close()
    assert not job.is_alive and job.snapshot().reason == "stopped"
    assert not [t for t in threading.enumerate() if t.name.startswith("gan-explorer-test")]


def test_job_slot_allows_one_job_at_a_time() -> None:
    slot = JobSlot("test")
    first = BackgroundJob(_counting, name="test")
    slot.claim(first)
    first.start()
    second = BackgroundJob(_counting, name="test")
    with pytest.raises(JobBusyError, match="already running"):
        slot.claim(second, describe=lambda job: f"job {job.id}")
    assert slot.current() is first and slot.get(first.id) is first
    first.stop(10)
    slot.claim(second)  # free again
    assert slot.current() is second
