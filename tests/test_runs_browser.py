"""The Runs page in a real browser, both editions: pick two runs, see their curves overlaid
in one plotly chart and the option in which they differ.

Skipped where Debian's Chromium (/usr/bin/chromium) or playwright is absent."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import chromium, free_port, need_chromium, streamlit_server
from conftest import build_trainer

from trainers.device import torch_threads
from trainers.events import CallbackList
from trainers.loop import JsonlLogger, SampleSaver, write_run_options

pytestmark = pytest.mark.browser

TIMEOUT_MS = 60_000
RUNS = ("minimax", "hinge")  # two runs that differ in their loss only
#: The page's plotly chart once it is drawn with every run in ``runs``: its trace names and
#: legend entries (null before; a Streamlit rerun may briefly show the old chart as well).
CHART = """(runs) => {
    const plots = document.querySelectorAll('.js-plotly-plot');
    const gd = plots.length === 1 ? plots[0] : null;
    const names = gd && gd.data ? gd.data.map(t => t.name) : [];
    const drawn = gd ? gd.querySelectorAll('.scatterlayer .trace').length : 0;
    const legend = gd ? [...gd.querySelectorAll('.legendtext')].map(e => e.textContent) : [];
    const everyRun = runs.every(r => names.some(n => n.startsWith(r + ' · ')));
    return everyRun && drawn === names.length && {names, legend};
}"""
#: The text of the cells matched by a CSS selector, once there are some.
CELLS = (
    "(css) => { const cells = [...document.querySelectorAll(css)];"
    " return cells.length && cells.map(e => e.textContent.trim()); }"
)


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A checkpoint folder with two tiny dcgan runs: log.jsonl, samples/ and options.json."""
    need_chromium()
    folder = tmp_path_factory.mktemp("runs-browser")
    with torch_threads(1):
        for loss in RUNS:
            out = folder / loss
            trainer = build_trainer("dcgan", out_dir=out, sample_every=2, loss=loss)
            write_run_options(out, "pytest", trainer.config, trainer.model_config)
            saved = [JsonlLogger(out / "log.jsonl", 1), SampleSaver(out / "samples")]
            trainer.run(CallbackList(saved))
    return folder


@pytest.fixture(scope="module")
def browser(checkpoints: Path) -> Iterator:
    with chromium() as launched:
        yield launched


def check_the_comparison(page, cells: str) -> None:
    """One plotly chart drawing the two runs' curves, every one named in the legend, and one
    row of options that differ: the loss, with each run's value. ``cells``: the CSS selector
    of the differences table's cells."""
    chart = page.wait_for_function(CHART, arg=list(RUNS), timeout=TIMEOUT_MS).json_value()
    names = chart["names"]  # each run's L_D, L_G, D(x) and D(G(z)), e.g. "hinge · L_G"
    assert {name.split(" · ")[0] for name in names} == set(RUNS)
    assert f"{RUNS[0]} · L_D" in names and f"{RUNS[1]} · L_G" in names
    assert sorted(chart["legend"]) == sorted(names)  # every curve is named in the legend
    row = page.wait_for_function(CELLS, arg=cells, timeout=TIMEOUT_MS).json_value()
    assert row == ["loss", *RUNS]  # the only option that differs, and only it


def test_gradio_runs_tab_overlays_two_runs(
    checkpoints: Path, browser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from explorer.gradio_ui.app import build_app

    monkeypatch.setenv("GAN_EXPLORER_LIVE_RUNS", str(tmp_path / "live"))  # no live runs
    monkeypatch.delenv("SPACE_ID", raising=False)
    demo = build_app([checkpoints], include_default=False, enable_training=False)
    port = free_port()
    demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True)
    try:
        page = browser.new_page()
        page.goto(f"http://127.0.0.1:{port}/?tab=runs", timeout=TIMEOUT_MS)
        picker = page.locator("#runs-picker input").first
        for run in RUNS:
            picker.click()
            page.get_by_role("option", name=f"{run} · dcgan on synthetic").click()
        check_the_comparison(page, "#runs-differences td")
    finally:
        demo.close()


def test_streamlit_runs_page_overlays_two_runs(checkpoints: Path, browser, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    env = {
        "GAN_EXPLORER_PRETRAINED": str(tmp_path / "empty"),
        "GAN_EXPLORER_LIVE_RUNS": str(tmp_path / "live"),
    }
    with streamlit_server(checkpoints, tmp_path / "server.log", env) as base:
        page = browser.new_page()
        page.goto(base + "runs", timeout=TIMEOUT_MS)
        page.get_by_role("heading", name="Runs, side by side").wait_for(timeout=TIMEOUT_MS)
        for run in RUNS:
            page.locator("[data-testid=stMultiSelect]").click()
            page.get_by_role("option", name=f"{run} · dcgan on synthetic").click()
        # st.dataframe draws on a canvas; its cells are also in the grid's accessible table
        check_the_comparison(page, "[data-testid=stDataFrame] td")
