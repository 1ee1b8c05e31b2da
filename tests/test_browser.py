"""One real-browser test: headless Chromium loads the explorer, presses "New seed" and sees
the Generate image change. Skipped where Debian's Chromium (/usr/bin/chromium) is absent."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import torch
from conftest import train_run

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]

pytestmark = pytest.mark.browser


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_new_seed_changes_the_generated_image(tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    from explorer.app import build_app

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    train_run(tmp_path / "dcgan-tiny", "dcgan")
    demo = build_app([tmp_path], include_default=False)
    port = free_port()
    demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True)
    try:
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}/", timeout=60_000)
            image = page.locator("#generate-image img")
            image.wait_for(timeout=60_000)
            before = image.get_attribute("src")
            assert before
            page.locator("#new-seed").click()
            page.wait_for_function(
                "(before) => { const img = document.querySelector('#generate-image img');"
                " return img && img.getAttribute('src') !== before; }",
                arg=before,
                timeout=30_000,
            )
            assert image.get_attribute("src") != before
            assert "samples" in page.locator("#generate-info").inner_text()
            browser.close()
    finally:
        demo.close()
        torch.set_num_threads(threads)
