"""Deep links in a real browser, both editions: a link opens its tab, model and seed.

Skipped where Debian's Chromium (/usr/bin/chromium) or playwright is absent."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import chromium, free_port, need_chromium, streamlit_server
from conftest import train_run

from trainers.device import torch_threads

TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory: pytest.TempPathFactory) -> Path:
    need_chromium()
    folder = tmp_path_factory.mktemp("deep-links")
    with torch_threads(1):
        train_run(folder / "dcgan-tiny", "dcgan")
        train_run(folder / "cgan-tiny", "cgan")
    return folder


@pytest.fixture(scope="module")
def browser(checkpoints: Path) -> Iterator:
    with chromium() as launched:
        yield launched


def selected_tab(page) -> str:
    return page.locator("button[role=tab][aria-selected=true]").first.inner_text()


def test_gradio_links_open_tab_model_seed_and_presenter(checkpoints: Path, browser) -> None:
    from explorer.gradio_ui.app import build_app

    demo = build_app([checkpoints], include_default=False, enable_training=False)
    assert demo.explorer_context.default_key == "dcgan-tiny"  # no showcase here: the first
    port = free_port()
    demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True)
    base = f"http://127.0.0.1:{port}/"
    try:
        page = browser.new_page()
        page.goto(base + "?model=cgan-tiny&tab=classes&seed=7&presenter=1", timeout=TIMEOUT_MS)
        page.wait_for_function(
            "() => document.body.classList.contains('presenter')", timeout=TIMEOUT_MS
        )
        assert "Classes" in selected_tab(page)
        page.wait_for_function(
            "() => document.querySelector('#checkpoint input').value.includes('cgan-tiny')",
            timeout=TIMEOUT_MS,
        )
        page.wait_for_function(  # the summary follows the model
            "() => document.querySelector('#checkpoint-summary').innerText.includes('cGAN on')",
            timeout=TIMEOUT_MS,
        )
        # "Copy link to this view" gives back the same view
        page.locator("#copy-link").click()
        link = page.locator("#view-link textarea, #view-link input").first
        link.wait_for(timeout=TIMEOUT_MS)
        page.wait_for_function(
            "() => { const e = document.querySelector('#view-link textarea, #view-link input');"
            " return e && e.value.startsWith('http'); }",
            timeout=TIMEOUT_MS,
        )
        copied = link.input_value()
        assert copied.startswith(base) and "model=cgan-tiny" in copied
        assert "tab=classes" in copied and "seed=7" in copied and "presenter=1" in copied

        # the Generate tab with its seed; a bad value is named, the rest still opens
        page = browser.new_page()
        page.goto(base + "?model=cgan-tiny&seed=7&presenter=2", timeout=TIMEOUT_MS)
        page.wait_for_function(  # Generate's seed box (a number input labelled "seed")
            "() => [...document.querySelectorAll('input[type=number]')]"
            ".some(e => e.getAttribute('aria-label') === 'seed' && e.value === '7')",
            timeout=TIMEOUT_MS,
        )
        assert "Generate" in selected_tab(page)
        assert "cgan-tiny" in page.locator("#checkpoint input").input_value()
        note = page.locator("#link-problems")
        note.wait_for(timeout=TIMEOUT_MS)
        assert "presenter must be 1 or 0, not '2'" in note.inner_text()
        assert not page.evaluate("document.body.classList.contains('presenter')")
    finally:
        demo.close()


def test_streamlit_links_open_page_model_seed_and_presenter(
    checkpoints: Path, browser, tmp_path: Path
) -> None:
    (tmp_path / "empty").mkdir()
    env = {"GAN_EXPLORER_PRETRAINED": str(tmp_path / "empty")}
    with streamlit_server(checkpoints, tmp_path / "server.log", env) as base:
        page = browser.new_page()
        page.goto(base + "?tab=classes&model=cgan-tiny&seed=7&presenter=1", timeout=TIMEOUT_MS)
        page.get_by_role("heading", name="Classes (cGAN)").wait_for(timeout=TIMEOUT_MS)
        assert "/classes" in page.url
        seed = page.get_by_label("seed")
        seed.wait_for(timeout=TIMEOUT_MS)
        assert seed.input_value() == "7"
        page.wait_for_function(
            "() => document.body.classList.contains('presenter')", timeout=TIMEOUT_MS
        )
        # the page's own path works as well; a bad seed is named
        page = browser.new_page()
        page.goto(base + "generate?model=cgan-tiny&seed=-1", timeout=TIMEOUT_MS)
        page.get_by_text("the seed must be a whole number").wait_for(timeout=TIMEOUT_MS)
        page.get_by_text("cGAN on synthetic").first.wait_for(timeout=TIMEOUT_MS)  # its summary
