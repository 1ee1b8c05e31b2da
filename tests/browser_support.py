"""What the browser tests share: Debian's Chromium, free ports, and a Streamlit server.

Every browser test skips where /usr/bin/chromium (``apt-get install -y chromium``) or the
playwright package is absent; CI installs Chromium (.ci/run).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def need_chromium() -> None:
    """Skip the calling test where Chromium or playwright is missing."""
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium)")
    pytest.importorskip("playwright.sync_api")


@contextmanager
def chromium() -> Iterator:
    """A headless Debian Chromium driven by playwright, closed on the way out (call
    :func:`need_chromium` first)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, process: subprocess.Popen, timeout: float = 90.0) -> None:
    """Wait for Streamlit's /_stcore/health to answer "ok"."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server exited early"
        try:
            with urllib.request.urlopen(url + "_stcore/health", timeout=2) as response:
                if response.read().strip() == b"ok":
                    return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("the Streamlit server did not come up")


@contextmanager
def streamlit_server(
    checkpoint_dir: Path, log_file: Path, env: dict[str, str] | None = None
) -> Iterator[str]:
    """``gan-explorer --ui streamlit --checkpoint-dir DIR`` in a subprocess; yields its URL.
    ``env`` is laid over this process's environment (SPACE_ID is removed: not hosted)."""
    environment = {**os.environ, **(env or {})}
    environment.pop("SPACE_ID", None)
    port = free_port()
    command = [sys.executable, "-m", "explorer.launcher", "--ui", "streamlit", "--port", str(port)]
    command += ["--checkpoint-dir", str(checkpoint_dir)]
    with log_file.open("w") as log:
        process = subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}/"
        try:
            wait_healthy(url, process)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
