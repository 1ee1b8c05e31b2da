"""The Runs page: find runs, read them robustly, compare them (core, Gradio handlers and the
Streamlit page), including a run with a broken log line (a note, never a traceback)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import build_trainer

from explorer import runs
from trainers.events import CallbackList
from trainers.loop import JsonlLogger, SampleSaver, write_run_options

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def make_run(folder: Path, **train) -> Path:
    """A tiny dcgan run with log.jsonl, samples/step_*.png every 2 steps and options.json."""
    trainer = build_trainer("dcgan", out_dir=folder, sample_every=2, **train)
    write_run_options(folder, "pytest", trainer.config, trainer.model_config)
    trainer.run(
        CallbackList([JsonlLogger(folder / "log.jsonl", 1), SampleSaver(folder / "samples")])
    )
    return folder


@pytest.fixture(scope="module")
def roots(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A checkpoint folder with two CLI runs (minimax, hinge; one with a broken log line) and a
    live-runs folder with one run."""
    base = tmp_path_factory.mktemp("runs-page")
    make_run(base / "ckpt" / "minimax", loss="minimax")
    hinge = make_run(base / "ckpt" / "hinge", loss="hinge", d_steps=2)
    with (hinge / "log.jsonl").open("a") as handle:
        handle.write('{"step": 5, "d": 1.0\n')  # a half-written line
        handle.write('"just a string"\n')
    make_run(base / "live" / "dcgan-live-1", loss="lsgan", steps=2)
    (base / "ckpt" / "not-a-run").mkdir()
    return {"ckpt": base / "ckpt", "live": base / "live"}


def test_discover_lists_cli_and_live_runs_and_a_hosted_visitor_only_their_own(
    roots: dict[str, Path],
) -> None:
    listed = runs.discover_runs([roots["ckpt"]], roots["live"])
    assert [(r.key, r.source) for r in listed] == [
        ("runs0/hinge", "runs"),
        ("runs0/minimax", "runs"),
        ("live/dcgan-live-1", "live"),
    ]
    assert listed[0].label.startswith("hinge · dcgan on synthetic") and "step 4" in listed[0].label
    assert listed[2].label.endswith("(live)")
    hosted = runs.discover_runs([roots["ckpt"]], roots["live"], own=[])
    assert [r.key for r in hosted] == ["runs0/hinge", "runs0/minimax"]  # shipped only
    mine = runs.discover_runs([roots["ckpt"]], roots["live"], own=[roots["live"] / "dcgan-live-1"])
    assert [r.key for r in mine][-1] == "live/dcgan-live-1"
    assert runs.find_run(listed, "runs0/../../etc") is None  # keys are looked up, never joined


def test_a_broken_log_line_is_skipped_with_a_note(roots: dict[str, Path]) -> None:
    log = runs.read_log(roots["ckpt"] / "hinge")
    assert log.steps == [1, 2, 3, 4]
    assert log.notes == ["hinge: skipped 2 unreadable lines of log.jsonl (lines 5, 6)."]
    assert log.loss_names() == ["d", "g"]
    missing = runs.read_log(roots["ckpt"] / "not-a-run")
    assert missing.records == [] and "could not be read" in missing.notes[0]


def test_the_view_overlays_curves_shows_grids_at_one_step_and_lists_differences(
    roots: dict[str, Path],
) -> None:
    listed = runs.discover_runs([roots["ckpt"]], roots["live"])
    view = runs.view_for_keys(listed, ["runs0/minimax", "runs0/hinge", "live/dcgan-live-1"], 3)
    # curves: L_D, L_G, D(x), D(G(z)) per run, one colour per run, values from log.jsonl
    names = [trace.name for trace in view.figure.data]
    assert "minimax · L_D" in names and "hinge · D(G(z))" in names and len(names) == 12
    colours = {t.name.split(" · ")[0]: t.line.color for t in view.figure.data}
    assert len(set(colours.values())) == 3
    minimax_d = next(t for t in view.figure.data if t.name == "minimax · L_D")
    logged = [
        json.loads(x) for x in (roots["ckpt"] / "minimax" / "log.jsonl").read_text().splitlines()
    ]
    assert list(minimax_d.y) == pytest.approx([r["d"] for r in logged])
    assert view.figure.layout.hovermode == "x unified"
    # the grids: one slider over the steps that have grids; each run's grid at or before it
    assert view.steps == [2, 4] and view.step == 2  # 3 -> nearest stop (the lower on a tie)
    assert [caption for caption, _ in view.grids] == [
        "minimax · step 2",
        "hinge · step 2",
        "dcgan-live-1 · step 2",
    ]
    assert all(p.dtype == np.uint8 and p.shape[-1] == 3 for _, p in view.grids)
    later = runs.view_for_keys(listed, ["runs0/minimax", "live/dcgan-live-1"], 4)
    assert [c for c, _ in later.grids] == ["minimax · step 4", "dcgan-live-1 · step 2"]
    # the options that differ, and only those
    table = {row[0]: row[1:] for row in view.differences}
    assert view.headers == ["option", "minimax", "hinge", "dcgan-live-1"]
    assert table["loss"] == ["minimax", "hinge", "lsgan"]
    assert table["d_steps"] == ["1", "2", "1"] and table["steps"] == ["4", "4", "2"]
    assert "lr_g" not in table and "model.latent_dim" not in table
    assert view.notes == ["hinge: skipped 2 unreadable lines of log.jsonl (lines 5, 6)."]


def test_one_run_or_an_unknown_key_is_a_note(roots: dict[str, Path]) -> None:
    listed = runs.discover_runs([roots["ckpt"]])
    view = runs.view_for_keys(listed, ["runs0/minimax", "runs0/gone"])
    assert view.notes[0].startswith("runs0/gone: no such run") and runs.PICK_MORE in view.notes
    assert view.differences == [] and len(view.grids) == 1
    empty = runs.view_for_keys(listed, [])
    assert empty.grids == [] and empty.step is None and len(empty.figure.data) == 0


def test_gradio_handlers(roots: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    from explorer.gradio_ui.tabs import runs as tab

    monkeypatch.setenv("GAN_EXPLORER_LIVE_RUNS", str(roots["live"]))
    picker, empty = tab.on_refresh([roots["ckpt"]])
    assert [key for _, key in picker.choices] == [
        "runs0/hinge",
        "runs0/minimax",
        "live/dcgan-live-1",
    ]
    assert empty == ""
    figure, gallery, slider, table, notes = tab.on_compare(
        ["runs0/minimax", "runs0/hinge"], 4, [roots["ckpt"]]
    )
    assert len(figure.data) == 8 and [c for _, c in gallery] == [
        "minimax · step 4",
        "hinge · step 4",
    ]
    assert (slider.minimum, slider.maximum, slider.value) == (2, 4, 4)
    assert ["loss", "minimax", "hinge"] in table.value["data"] or any(
        row[:3] == ["loss", "minimax", "hinge"] for row in table.value["data"]
    )
    assert "skipped 2 unreadable lines" in notes
    # hosted: a visitor with no live runs sees the shipped runs only
    picker, _ = tab.on_refresh([roots["ckpt"]], hosted=True)
    assert [key for _, key in picker.choices] == ["runs0/hinge", "runs0/minimax"]
    _, gallery, *_ = tab.on_compare(["live/dcgan-live-1"], None, [roots["ckpt"]], hosted=True)
    assert gallery == []


def test_the_app_has_a_runs_tab(roots: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    import gradio as gr

    from explorer.gradio_ui.app import build_app

    monkeypatch.setenv("GAN_EXPLORER_LIVE_RUNS", str(roots["live"]))
    monkeypatch.delenv("SPACE_ID", raising=False)
    demo = build_app([roots["ckpt"]])
    tabs = [b for b in demo.blocks.values() if isinstance(b, gr.Tab)]
    assert "runs" in [t.id for t in tabs]
    names = {dep.get("api_name") for dep in demo.config["dependencies"]}
    assert {"runs_list", "runs_compare"} <= names


def test_streamlit_page(roots: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("streamlit")
    from streamlit import config as st_config
    from streamlit.testing.v1 import AppTest

    monkeypatch.setattr(
        sys, "argv", ["app.py", "--checkpoint-dir", str(roots["ckpt"]), "--no-pretrained"]
    )
    monkeypatch.setenv("GAN_EXPLORER_LIVE_RUNS", str(roots["live"]))
    monkeypatch.setenv("GAN_EXPLORER_SAVE_DIR", str(roots["live"].parent / "saved"))
    monkeypatch.delenv("SPACE_ID", raising=False)
    st_config.set_option("server.address", "127.0.0.1")
    script = "from explorer.streamlit_ui import page_runs\npage_runs.render()\n"
    at = AppTest.from_string(script, default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    picker = at.multiselect[0]
    assert len(picker.options) == 3
    at = picker.select("runs0/minimax").select("runs0/hinge").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.select_slider[0].value == 4 and len(at.get("plotly_chart")) == 1
    assert sum(len(image.value) for image in at.image) == 2  # one grid per run
    assert any("skipped 2 unreadable lines" in info.value for info in at.info)
    at = at.select_slider[0].set_value(2).run()
    assert not at.exception
    assert at.dataframe[0].value.shape[0] >= 2  # loss and d_steps differ
