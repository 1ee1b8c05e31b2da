"""The Streamlit edition in a real browser: ``gan-explorer --ui streamlit`` in a subprocess,
headless Chromium (Playwright, Debian's /usr/bin/chromium, as tests/test_browser.py).

The first image appears; moving a slider changes it; the Train page's curve grows while a tiny
job runs, and Stop stops it. Skipped where /usr/bin/chromium is absent.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from browser_support import chromium, need_chromium, streamlit_server
from conftest import train_run
from PIL import Image

PLOT = "document.querySelector('[data-testid=\"stMain\"] .js-plotly-plot')"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """``gan-explorer --ui streamlit`` on tiny checkpoints; yields (its URL, its folder)."""
    need_chromium()
    root = tmp_path_factory.mktemp("streamlit-browser")
    train_run(root / "checkpoints" / "dcgan-tiny", "dcgan")
    folder = root / "images" / "blobs"  # a tiny image folder to train on
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(16):
        Image.fromarray(rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    (root / "empty").mkdir()
    env = {
        "GAN_EXPLORER_PRETRAINED": str(root / "empty"),  # only the tiny checkpoint
        "GAN_EXPLORER_LIVE_RUNS": str(root / "runs"),
        "GAN_EXPLORER_LIVE_CHECKPOINTS": str(root / "live"),
    }
    with streamlit_server(root / "checkpoints", root / "server.log", env) as url:
        yield url, root


@pytest.fixture
def page(server: tuple[str, Path]):
    errors: list[str] = []
    with chromium() as browser:
        tab = browser.new_page()
        tab.on("pageerror", lambda error: errors.append(str(error)))
        yield tab
    assert not errors


def test_first_picture_appears_and_a_slider_key_changes_it(server: tuple[str, Path], page) -> None:
    """The browser widget draws the grid; a keyboard step on its PC1 slider redraws it."""
    page.goto(server[0], timeout=60_000)
    frame = page.frame_locator("iframe[title*='latent_widget']")
    frame.locator("#latent-widget canvas").wait_for(timeout=60_000)
    root = frame.locator("#latent-widget")
    root.locator("xpath=.").evaluate(
        "(w) => new Promise((ok) => { const t = setInterval(() => {"
        " if (+(w.dataset.frames || 0) >= 1) { clearInterval(t); ok(); } }, 50); })"
    )
    before = root.evaluate("(w) => w.latentWidget.readTiles(0).join(',')")
    root.locator('input[name="pc1"]').focus()
    page.keyboard.press("ArrowRight")  # PC1: 0 -> 0.1
    root.evaluate(
        "(w, before) => new Promise((ok) => { const t = setInterval(() => {"
        " if (w.latentWidget.readTiles(0).join(',') !== before) { clearInterval(t); ok(); } },"
        " 50); })",
        before,
    )
    assert root.locator('input[name="pc1"]').input_value() == "0.1"


def choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the select box labelled ``label``."""
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text=label).first
    box.click()
    page.get_by_role("option", name=option).click()


def curve_length(page) -> int:
    return page.evaluate(f"() => {PLOT}?._fullData?.[0]?._length ?? 0")


def test_train_curve_grows_and_stop_stops_it(server: tuple[str, Path], page) -> None:
    url, root = server
    page.goto(url + "train", timeout=60_000)
    choose(page, "data", "an image folder")
    folder = page.locator('[data-testid="stTextInput"]').filter(has_text="image folder")
    folder.locator("input").fill(str(root / "images"))
    folder.locator("input").press("Enter")
    steps = page.locator('[data-testid="stNumberInput"]').filter(has_text="steps").first
    steps.locator("input").fill("100000")
    steps.locator("input").press("Enter")
    page.get_by_role("button", name="▶ Start").click()
    page.wait_for_function(f"() => ({PLOT}?._fullData?.[0]?._length ?? 0) > 3", timeout=60_000)
    first = curve_length(page)
    page.wait_for_timeout(2500)  # two or three polls
    grown = curve_length(page)
    assert grown > first  # the fragment redraws the curve while the job runs
    page.get_by_role("button", name="■ Stop").click()
    page.get_by_text("stopped", exact=False).first.wait_for(timeout=60_000)
    stopped = curve_length(page)
    page.wait_for_timeout(2500)
    assert curve_length(page) == stopped  # no more steps, no more polls
