"""How fast does the Streamlit edition answer a slider? Prints figures; not part of the tests.

    python benchmarks/streamlit_latency.py                    # pretrained/ (and runs/) checkpoints
    python benchmarks/streamlit_latency.py --changes 50 --checkpoint-dir runs/

In one run, in headless Chromium (Debian's /usr/bin/chromium, as the browser tests):

1. **Cold start**: the time from the command ``gan-explorer --ui streamlit`` to the Generate
   page's first image loaded in the browser (goal <= 15 s).
2. **Slider latency**: the time from a key press on a Generate slider (the PC sliders, one step
   each, every setting new so no cache helps) to the new grid loaded on screen (the ``<img>``'s
   new ``src`` has fired ``load``), ``--changes`` times; p50 and p95.
3. **The floor**: the same, against a trivial Streamlit app (a slider that redraws a constant
   image of the same size, its PNGs made once at start), measured in the same run, one change
   of each app in turn so background load hits both alike. Goal: p95 ratio <= 1.25.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
IMAGE = '[data-testid="stMain"] [data-testid="stImage"] img'

TRIVIAL_APP = """
import io
import numpy as np
import streamlit as st
from PIL import Image

@st.cache_resource
def pictures(shape):
    base = np.random.default_rng(0).integers(0, 256, size=shape, dtype=np.uint8)
    out = []
    for i in range(101):  # one PNG per slider value, made once: the app itself does no work
        picture = base.copy()
        picture[:2, : i + 1] = 0
        buffer = io.BytesIO()
        Image.fromarray(picture).save(buffer, format="png", compress_level=1)
        out.append(buffer.getvalue())
    return out

value = st.sidebar.slider("value", 0, 100, 0)
st.image(pictures({shape})[value], output_format="PNG")
"""

# Installed in each page: the time of the last key press, and of the main image's next load.
PROBE = """
(selector) => {
  window.__pressed = 0; window.__loaded = 0;
  document.addEventListener('keydown', () => { window.__pressed = performance.now(); }, true);
  document.addEventListener('load', (e) => {
    if (e.target.matches && e.target.matches(selector)) window.__loaded = performance.now();
  }, true);
}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentiles(ms: list[float]) -> tuple[float, float]:
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 95))


def wait_healthy(url: str, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited early with status {process.returncode}")
        try:
            with urllib.request.urlopen(url + "_stcore/health", timeout=2) as response:
                if response.read().strip() == b"ok":
                    return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("the server did not come up in time")


def first_image(page, url: str, timeout_ms: float) -> str:
    """Open ``url`` and wait for the main image to be loaded; returns its src."""
    page.goto(url, timeout=timeout_ms)
    page.wait_for_function(
        f"() => {{ const i = document.querySelector('{IMAGE}');"
        " return i && i.complete && i.naturalWidth > 0; }",
        timeout=timeout_ms,
    )
    page.evaluate(PROBE, IMAGE)
    return page.locator(IMAGE).first.get_attribute("src")


def change(page, slider_label: str, before: str) -> tuple[float, str]:
    """Press → on a sidebar slider; wait for the main image's new src to load. Returns
    (milliseconds from the key press to the load, the new src)."""
    slider = page.locator('[data-testid="stSidebar"] [data-testid="stSlider"]')
    slider.filter(has_text=slider_label).locator('input[type="range"]').focus()
    page.evaluate("() => { window.__loaded = 0; }")
    page.keyboard.press("ArrowRight")
    page.wait_for_function(
        f"(before) => {{ const i = document.querySelector('{IMAGE}');"
        " return i && i.getAttribute('src') !== before && i.complete && i.naturalWidth > 0"
        " && window.__loaded > window.__pressed; }",
        arg=before,
        timeout=60_000,
    )
    ms = page.evaluate("() => window.__loaded - window.__pressed")
    return ms, page.locator(IMAGE).first.get_attribute("src")


def start(command: list[str], env: dict[str, str], log) -> subprocess.Popen:
    return subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--checkpoint-dir",
        type=Path,
        action="append",
        default=[],
        help="folders with checkpoints (default: runs/ if it exists; pretrained/ is always searched)",
    )
    parser.add_argument("--changes", type=int, default=50, help="slider changes per app (50)")
    parser.add_argument("--startup-timeout", type=float, default=120.0)
    args = parser.parse_args(argv)
    dirs = args.checkpoint_dir or ([REPO / "runs"] if (REPO / "runs").is_dir() else [])
    from playwright.sync_api import sync_playwright

    log = tempfile.NamedTemporaryFile(
        "w+", prefix="streamlit_latency-", suffix=".log", delete=False
    )
    env = {**os.environ}
    env.pop("SPACE_ID", None)
    processes: list[subprocess.Popen] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            # 1. cold start: the command, then the first image in the browser
            port = free_port()
            url = f"http://127.0.0.1:{port}/"
            command = [sys.executable, "-m", "explorer.launcher", "--ui", "streamlit"]
            command += ["--port", str(port)] + [
                a for d in dirs for a in ("--checkpoint-dir", str(d))
            ]
            explorer_page = browser.new_page(viewport={"width": 1400, "height": 1000})
            started = time.perf_counter()
            processes.append(start(command, env, log))
            wait_healthy(url, processes[-1], args.startup_timeout)
            served = time.perf_counter() - started
            src = first_image(explorer_page, url, args.startup_timeout * 1000)
            cold = time.perf_counter() - started
            shape = explorer_page.evaluate(
                f"() => {{ const i = document.querySelector('{IMAGE}');"
                " return [i.naturalHeight, i.naturalWidth, 3]; }"
            )

            # 2. the trivial app, with an image of the same size
            folder = Path(tempfile.mkdtemp(prefix="streamlit_latency-"))
            script = folder / "trivial.py"
            script.write_text(textwrap.dedent(TRIVIAL_APP.format(shape=tuple(shape))))
            trivial_port = free_port()
            trivial_url = f"http://127.0.0.1:{trivial_port}/"
            processes.append(
                start(
                    [
                        sys.executable,
                        "-m",
                        "streamlit",
                        "run",
                        str(script),
                        "--server.port",
                        str(trivial_port),
                        "--server.address",
                        "127.0.0.1",
                        "--server.headless",
                        "true",
                        "--browser.gatherUsageStats",
                        "false",
                        "--runner.postScriptGC",
                        "false",
                    ],
                    env,
                    log,
                )
            )
            wait_healthy(trivial_url, processes[-1], args.startup_timeout)
            trivial_page = browser.new_page(viewport={"width": 1400, "height": 1000})
            trivial_src = first_image(trivial_page, trivial_url, args.startup_timeout * 1000)

            # 3. alternate: one change of each app in turn; every Generate setting is new
            sliders = ["PC3"] * 5 + ["PC1"] * 40 + ["PC2"] * 40
            explorer_ms, trivial_ms = [], []
            for i in range(5 + args.changes):
                ms, src = change(explorer_page, sliders[i], src)
                tms, trivial_src = change(trivial_page, "value", trivial_src)
                if i >= 5:  # the first few warm up both
                    explorer_ms.append(ms)
                    trivial_ms.append(tms)
        except BaseException:
            print(f"server log: {log.name}", file=sys.stderr)
            raise
        finally:
            for process in processes:
                stop(process)
            browser.close()

    from explorer import checkpoints

    model = checkpoints.discover(dirs).default_key()  # the page's first model
    e50, e95 = percentiles(explorer_ms)
    t50, t95 = percentiles(trivial_ms)
    load = os.getloadavg()
    print(
        f"checkpoint: {model}   grid picture {shape[1]}x{shape[0]}   changes: {len(explorer_ms)} "
        f"per app   CPU cores: {os.cpu_count()}   load average: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}"
    )
    print(f"command -> server answers /_stcore/health:          {served:6.2f} s")
    print(f"command -> first Generate image loaded in Chromium:  {cold:6.2f} s   (goal <= 15 s)")
    print(f"Generate slider -> new grid on screen  p50 {e50:7.1f} ms   p95 {e95:7.1f} ms")
    print(f"trivial app slider -> same-size image  p50 {t50:7.1f} ms   p95 {t95:7.1f} ms   (floor)")
    print(f"p95 ratio Generate : trivial = {e95 / t95:.2f}   (goal <= 1.25)")


if __name__ == "__main__":
    main()
