"""One real-browser test: headless Chromium loads the explorer, presses "New seed" and sees
the Generate image change. Skipped where Debian's Chromium (/usr/bin/chromium) is absent."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from browser_support import CHROMIUM, CHROMIUM_ARGS, free_port
from conftest import train_run

pytestmark = pytest.mark.browser


def test_new_seed_changes_the_widgets_picture(tmp_path: Path) -> None:
    """ "New seed" asks the server for a new z (the widget's config), and the browser widget
    draws it: the canvas changes. (tests/test_latent_widget_browser.py checks the pixels.)"""
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    from explorer.gradio_ui.app import build_app

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    train_run(tmp_path / "dcgan-tiny", "dcgan")
    demo = build_app([tmp_path], include_default=False)
    port = free_port()
    demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True)
    pixels = "() => document.querySelector('#latent-widget').latentWidget.readTiles(0).join(',')"
    try:
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}/", timeout=60_000)
            page.wait_for_function(
                "() => +(document.querySelector('#latent-widget')?.dataset.frames || 0) >= 1",
                timeout=60_000,
            )
            before = page.evaluate(pixels)
            page.locator("#new-seed").click()
            page.wait_for_function(
                f"(before) => ({pixels[6:]}) !== before", arg=before, timeout=30_000
            )
            caption = page.locator("#latent-widget .lw-caption").inner_text()
            assert "16 samples" in caption and "seed 0" not in caption
            browser.close()
    finally:
        demo.close()
        torch.set_num_threads(threads)


def test_live_training_chart_updates_in_place_and_keeps_the_zoom(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Train tab's plotly chart is redrawn by a gr.Timer with Plotly.react: the same plot
    element gains points while training, and a user's zoom survives the redraws."""
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    import gradio as gr
    import numpy as np
    from PIL import Image

    from explorer.gradio_ui.tabs import latent_widget, train

    monkeypatch.setenv("GAN_EXPLORER_LIVE_RUNS", str(tmp_path / "runs"))
    monkeypatch.delenv("SPACE_ID", raising=False)
    folder = tmp_path / "images" / "blobs"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(16):
        Image.fromarray(rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with gr.Blocks() as demo:
        train.build_tab()
    demo.queue()
    latent_widget.install_routes(demo)  # serves plotly.js (explorer/gradio_ui/tabs/live_plot.py)
    port = free_port()
    demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True)
    plot = "document.querySelector('#train-curves .js-plotly-plot')"
    try:
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(f"http://127.0.0.1:{port}/", timeout=60_000)
            page.locator("#train-data input").click()
            page.get_by_role("option", name="an image folder").click()
            page.locator("#train-folder textarea, #train-folder input").first.fill(
                str(tmp_path / "images")
            )
            steps = page.locator("#train-steps input").first
            steps.fill("400")
            steps.press("Tab")
            page.locator("#train-start").click()
            page.wait_for_function(
                f"() => {{ const gd = {plot}; return gd && gd._fullData[0]._length > 5; }}",
                timeout=60_000,
            )
            page.evaluate(  # mark the element and zoom in, as a user would
                f"() => {{ const gd = {plot}; gd.dataset.marker = 'same';"
                " return window.Plotly.relayout(gd, {'xaxis.range': [0, 5]}); }"
            )
            page.wait_for_function(
                "() => document.querySelector('#train-status').innerText.includes('done')",
                timeout=120_000,
            )
            page.wait_for_timeout(1000)  # the last tick
            state = page.evaluate(
                f"() => {{ const gd = {plot}; return [gd.dataset.marker, gd._fullData[0]._length,"
                " gd.layout.xaxis.range]; }"
            )
            assert state[0] == "same"  # updated in place: no new element, no flicker
            assert state[1] == 400  # every step is on the chart
            assert [round(v) for v in state[2]] == [0, 5]  # the zoom survived the redraws
            assert not errors
            browser.close()
    finally:
        demo.close()
        torch.set_num_threads(threads)
