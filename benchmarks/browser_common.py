"""Helpers shared by benchmarks/browser_latency.py and benchmarks/classroom_load.py.

Not a benchmark itself: starting the two editions (Gradio in this process, Streamlit as a
subprocess), headless Debian Chromium, and the JavaScript that drives the latent widget
(``explorer/web/latent-widget.js``) and times one slider step inside the page.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
#: The models a first visit downloads are under these URL parts (Gradio, Streamlit).
WIDGET_URL_PARTS = ("/latent-widget/", "/component/")

# True once the widget in this document has drawn a frame of the model with content key `key`
# and is idle (no render running or waiting).
WIDGET_READY = """(key) => {
  const w = document.querySelector('#latent-widget');
  const lw = w && w.latentWidget;
  return !!lw && !!lw.config && !!lw.config.model && (!key || lw.config.model.key === key)
    && +(w.dataset.frames || 0) >= 1 && !lw.running && !lw.pending;
}"""

# One slider step, timed inside the page: set the <input type=range>, dispatch 'input', resolve
# when the frame counter increases (data-frames is written right after the canvas is drawn).
STEP = """async ([name, value]) => {
  const root = document.querySelector('#latent-widget');
  const w = root.latentWidget;
  const t = performance.now();
  while (w.running || w.pending) {  // the previous frame's loop is still closing
    if (performance.now() - t > 30000) throw new Error('the widget stayed busy');
    await new Promise((r) => setTimeout(r, 1));
  }
  const input = root.querySelector(`input[name="${name}"]`);
  if (!input) throw new Error(`no slider ${name}`);
  const before = w.frames;
  return await new Promise((resolve, reject) => {
    let t0 = 0;
    const timer = setTimeout(() => { obs.disconnect(); reject(new Error('no frame in 30 s')); }, 30000);
    const obs = new MutationObserver(() => {
      if (w.frames <= before) return;
      const ms = performance.now() - t0;
      obs.disconnect();
      clearTimeout(timer);
      resolve({ ms, lastMs: w.lastMs, frames: w.frames });
    });
    obs.observe(root, { attributes: true, attributeFilter: ['data-frames'] });
    input.value = String(value);
    t0 = performance.now();
    input.dispatchEvent(new Event('input'));
  });
}"""


# Wrap the widget's G and D sessions' run() so each call's time is kept (a breakdown of a step).
TIME_SESSIONS = """() => {
  const w = document.querySelector('#latent-widget').latentWidget;
  window.__runs = window.__runs || { g: [], d: [] };
  for (const k of ['g', 'd']) {
    const s = w[k];
    if (!s || s.__timed) continue;
    const run = s.run.bind(s);
    s.run = async (...a) => {
      const t = performance.now();
      try { return await run(...a); } finally { window.__runs[k].push(performance.now() - t); }
    };
    s.__timed = true;
  }
  window.__runs.g.length = 0; window.__runs.d.length = 0;
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentiles(ms: list[float]) -> tuple[float, float]:
    """(p50, p95) of a list of milliseconds; (nan, nan) when empty."""
    if not ms:
        return float("nan"), float("nan")
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 95))


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.1f} {five:.1f} {fifteen:.1f} (1/5/15 min, {os.cpu_count()} CPU cores)"


def launch_browser(playwright: Any) -> Any:
    if not Path(CHROMIUM).exists():
        raise SystemExit("needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def start_gradio(model: str | None = None, threads: int = 1) -> tuple[Any, str]:
    """The Gradio explorer in this process, with its default settings (pretrained/ and runs/
    as ``gan-explorer`` finds them, training off). Returns (demo, url); ``demo.close()`` stops it."""
    import torch

    from explorer.gradio_ui.app import build_app

    torch.set_num_threads(threads)  # as gan-explorer does (--threads, default 1)
    dirs = [REPO / "runs"] if (REPO / "runs").is_dir() else []
    demo = build_app(dirs, enable_training=False, model=model)
    port = free_port()
    demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True)
    return demo, f"http://127.0.0.1:{port}/"


def wait_healthy(url: str, process: subprocess.Popen, timeout: float = 120.0) -> None:
    """Wait for Streamlit's /_stcore/health to answer "ok"."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the Streamlit server exited early with status {process.returncode}")
        try:
            with urllib.request.urlopen(url + "_stcore/health", timeout=2) as response:
                if response.read().strip() == b"ok":
                    return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the Streamlit server did not come up in time")


def start_streamlit(log: Any, env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    """``python -m explorer.launcher --ui streamlit --port P`` as a subprocess; (process, url)."""
    env = {**os.environ, **(env or {})}
    env.pop("SPACE_ID", None)
    port = free_port()
    command = [sys.executable, "-m", "explorer.launcher", "--ui", "streamlit", "--port", str(port)]
    if (REPO / "runs").is_dir():
        command += ["--checkpoint-dir", str(REPO / "runs")]
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_healthy(url, process)
    except BaseException:
        stop(process)
        raise
    return process, url


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def model_key(catalog_key: str) -> str:
    """The content key (``models/<key>/G.onnx``) of a catalog checkpoint; exports it into the
    widget cache ($GAN_EXPLORER_CACHE) now if it is not there yet."""
    from explorer import checkpoints, widget

    dirs = [REPO / "runs"] if (REPO / "runs").is_dir() else []
    catalog = checkpoints.discover(dirs)
    return widget.export_for(catalog.load(catalog_key)).key


def widget_frame(page: Any, key: str | None, timeout_s: float = 120.0) -> Any:
    """The document holding #latent-widget (the page in Gradio, a component iframe in
    Streamlit), once the widget has drawn model ``key`` and is idle."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for frame in page.frames:
            try:
                if frame.evaluate(WIDGET_READY, key):
                    return frame
            except Exception:  # a frame that is navigating or gone
                pass
        page.wait_for_timeout(100)
    raise SystemExit(f"the latent widget drew nothing for model {key} in {timeout_s:.0f} s")


def step(frame: Any, name: str, value: float) -> dict[str, float]:
    """One timed slider step: {"ms": dispatch -> frame counter, "lastMs": the widget's own}."""
    return frame.evaluate(STEP, [name, value])


def sweep(low: float, high: float, step_size: float, start: float, n: int) -> list[float]:
    """``n`` slider values moving one step at a time from ``start``, bouncing between
    ``low`` and ``high`` (every value differs from the one before)."""
    values, value, direction = [], start, 1
    for _ in range(n):
        if (
            value + direction * step_size > high + 1e-9
            or value + direction * step_size < low - 1e-9
        ):
            direction = -direction
        value = round(value + direction * step_size, 4)
        values.append(value)
    return values
