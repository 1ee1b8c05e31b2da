"""How fast does the latent widget answer a slider, in the browser? Prints figures; not a test.

    python benchmarks/browser_latency.py                          # both editions, 3 models
    python benchmarks/browser_latency.py --quick                  # fewer steps and calls
    python benchmarks/browser_latency.py --editions gradio --models dcgan-mnist --steps 100

The Generate, Classes and Interpolate pages run G and D in the visitor's browser
(``explorer/web/latent-widget.js``, onnxruntime-web). For each edition (Gradio in this process,
``build_app(model=KEY)`` + ``demo.launch``; Streamlit as ``python -m explorer.launcher --ui
streamlit``) and each model, in headless Debian Chromium (``/usr/bin/chromium``), one run
measures:

1. **Widget: slider step -> changed canvas.** A fresh browser context opens the Generate page
   (Gradio: the app started on that model; Streamlit: ``?model=KEY``), waits for the widget's
   first frame, then moves the ``psi`` and ``pc1`` sliders in turn, ``--steps`` times in all
   (after a few warm-up steps): the time from dispatching the ``input`` event to the widget's
   frame counter (``data-frames``, written right after the canvas is drawn) increasing, taken
   in the page with ``performance.now()``; each frame is waited for before the next step. The
   widget's own ``lastMs`` (slider -> canvas, measured by the widget) is reported beside it,
   and every request or websocket message the page sends during the steps is counted
   (expected: 0).
2. **First-visit bytes** of the widget in that fresh context: ``latent-widget.js``/``.css``,
   onnxruntime-web's ``ort.wasm.min.js``, ``.mjs`` and ``.wasm``, ``G.onnx`` and ``D.onnx``
   (Streamlit also the component's ``index.html``): as served (the response bodies as they
   came over the wire, Chromium's own count via CDP, gzip when the server compressed them) and
   as gzip -6 would make them.
3. **Today's server path** for the same model: Gradio's ``/generate`` through
   ``gradio_client`` (``--calls`` calls, truncation changing each call); Streamlit's page
   without WebAssembly (``delete window.WebAssembly``, so the widget steps aside and the page
   draws on the server), a key press on a sidebar PC slider -> the new grid loaded on screen,
   as benchmarks/streamlit_latency.py measures it.

Target (issue 23): widget p95 <= 50 ms on this machine's CPU, for every row.

The ONNX exports go to ``$GAN_EXPLORER_CACHE`` (default here: a fresh temporary folder, so
nothing stale is measured; the exports are made before the pages open, ~1 s per model).
"""

from __future__ import annotations

import argparse
import gzip
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent))

from browser_common import (  # noqa: E402
    TIME_SESSIONS,
    WIDGET_URL_PARTS,
    launch_browser,
    load_average,
    model_key,
    percentiles,
    start_gradio,
    start_streamlit,
    step,
    stop,
    sweep,
    widget_frame,
)

MODELS = ("dcgan-mnist", "cgan-mnist", "dcgan-cifar10")
EDITIONS = ("gradio", "streamlit")
WARMUP = 4
TARGET_P95_MS = 50.0
#: The files of a first visit (by name; the models are models/<key>/G.onnx and D.onnx).
WIDGET_FILES = (
    "index.html",
    "latent-widget.js",
    "latent-widget.css",
    "ort.wasm.min.js",
    "ort-wasm-simd-threaded.mjs",
    "ort-wasm-simd-threaded.wasm",
    "G.onnx",
    "D.onnx",
)


@dataclass
class Row:
    """One edition x model: the figures of the table."""

    edition: str
    model: str
    widget_ms: list[float] = field(default_factory=list)
    last_ms: list[float] = field(default_factory=list)
    server_ms: list[float] = field(default_factory=list)
    g_ms: list[float] = field(default_factory=list)
    d_ms: list[float] = field(default_factory=list)
    first_frame_s: float = float("nan")
    sent_during_steps: list[str] = field(default_factory=list)
    files: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # raw, served, gzip
    errors: list[str] = field(default_factory=list)

    def bytes_total(self) -> tuple[int, int, int]:
        raw = sum(f[0] for f in self.files.values())
        served = sum(f[1] for f in self.files.values())
        zipped = sum(f[2] for f in self.files.values())
        return raw, served, zipped


def mb(n: int) -> str:
    return f"{n / 1e6:.2f} MB"


def widget_file(url: str) -> str | None:
    """The widget file a URL names (None for anything else the page loads)."""
    if not any(part in url for part in WIDGET_URL_PARTS):
        return None
    path = urlparse(url).path
    name = path.rsplit("/", 1)[-1]
    if name not in WIDGET_FILES:
        return None
    return f"models/{name}" if name.endswith(".onnx") else name


def measure_widget(browser: Any, url: str, key: str, steps: int, row: Row) -> None:
    """Open the page in a fresh context; first-visit bytes, then ``steps`` timed steps."""
    context = browser.new_context(viewport={"width": 1300, "height": 1100})
    page = context.new_page()
    responses: list[Any] = []
    page.on("response", lambda r: responses.append(r) if widget_file(r.url) else None)
    page.on("pageerror", lambda error: row.errors.append(f"pageerror: {error}"))
    page.on(
        "console",
        lambda m: (
            row.errors.append(f"console.{m.type}: {m.text[:200]}") if m.type == "error" else None
        ),
    )
    sockets: list[Any] = []
    page.on("websocket", lambda ws: sockets.append(ws))
    started = time.perf_counter()
    page.goto(url, timeout=120_000)
    frame = widget_frame(page, key)
    row.first_frame_s = time.perf_counter() - started
    for response in responses:
        name = widget_file(response.url)
        try:
            body = response.body()
            served = response.request.sizes()["responseBodySize"]
        except Exception as error:  # e.g. a redirect, or a body Chromium did not keep
            row.errors.append(f"size of {name}: {error}")
            continue
        label = name if name not in row.files else f"{name} (again)"
        row.files[label] = (len(body), served, len(gzip.compress(body, compresslevel=6)))

    psi = sweep(0.3, 1.5, 0.05, 1.0, steps // 2 + WARMUP)
    pc1 = sweep(-4.0, 4.0, 0.1, 0.0, steps - steps // 2 + WARMUP)
    plan = [("psi", v) for v in psi[:WARMUP]] + [("pc1", v) for v in pc1[:WARMUP]]
    rest = [("psi", v) for v in psi[WARMUP:]], [("pc1", v) for v in pc1[WARMUP:]]
    measured = [item for pair in zip(*rest, strict=False) for item in pair]
    measured += rest[1][len(rest[0]) :]  # pc1 has one more when steps is odd
    for name, value in plan:  # warm-up: the first runs compile and allocate
        step(frame, name, value)
    frame.evaluate(TIME_SESSIONS)
    sent: list[str] = []
    page.on("request", lambda r: sent.append(f"{r.method} {r.url}"))
    for ws in sockets:
        ws.on("framesent", lambda payload: sent.append("websocket message"))
    for name, value in measured:
        out = step(frame, name, value)
        row.widget_ms.append(float(out["ms"]))
        row.last_ms.append(float(out["lastMs"]))
    page.wait_for_timeout(300)
    runs = frame.evaluate("() => window.__runs")
    row.g_ms, row.d_ms = [float(x) for x in runs["g"]], [float(x) for x in runs["d"]]
    row.sent_during_steps = sent
    context.close()


def page_state(page: Any) -> str:
    """What a Streamlit page shows (its main text, and the widget's note in each frame)."""
    parts = []
    for frame in page.frames:
        try:
            parts.append(
                frame.evaluate(
                    "() => { const m = document.querySelector('[data-testid=\"stMain\"]');"
                    " const w = document.querySelector('#latent-widget');"
                    " return (m ? 'main: ' + m.innerText.slice(0, 300) : '') +"
                    " (w ? ' widget: ' + w.innerText.slice(0, 120) : ''); }"
                ).replace("\n", " | ")
            )
        except Exception as error:
            parts.append(f"frame {frame.url[-40:]}: {error}")
    return " || ".join(p for p in parts if p)


def gradio_server_path(url: str, catalog_key: str, calls: int, row: Row) -> None:
    """``/generate`` through gradio_client: the whole round trip, picture downloaded."""
    from gradio_client import Client

    client = Client(url, verbose=False)
    api = client.view_api(print_info=False, return_format="dict")["named_endpoints"]["/generate"]
    names = [p["parameter_name"] for p in api["parameters"]]
    assert {"checkpoint", "seed", "truncation"} <= set(names), names
    values = sweep(0.3, 1.5, 0.05, 1.0, calls + 3)
    for i, truncation in enumerate(values):
        t0 = time.perf_counter()
        client.predict(checkpoint=catalog_key, seed=0, truncation=truncation, api_name="/generate")
        if i >= 3:  # warm-up
            row.server_ms.append((time.perf_counter() - t0) * 1000)
    client.close()


def streamlit_server_path(browser: Any, url: str, catalog_key: str, calls: int, row: Row) -> None:
    """The page without WebAssembly draws on the server: a PC slider's key press -> new grid
    loaded (benchmarks/streamlit_latency.py's measurement)."""
    from streamlit_latency import change, first_image

    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_init_script("delete window.WebAssembly;")
    page = context.new_page()
    src = None
    for attempt in range(2):  # once more after a reload, saying what the page showed
        try:
            src = first_image(page, f"{url}?model={catalog_key}", 60_000)
            break
        except Exception as error:
            row.errors.append(f"server path: no server-drawn grid (try {attempt + 1}): "
                              f"{page_state(page)} ({type(error).__name__})")  # fmt: skip
    if src is None:
        context.close()
        return
    sliders = ["PC3"] * 3 + ["PC1"] * 40 + ["PC2"] * 40 + ["PC4"] * 40
    for i in range(3 + calls):
        ms, src = change(page, sliders[i % len(sliders)], src)
        if i >= 3:
            row.server_ms.append(float(ms))
    context.close()


def run_gradio(browser: Any, models: list[str], keys: dict[str, str], args: Any) -> list[Row]:
    rows = []
    for catalog_key in models:
        row = Row("gradio", catalog_key)
        demo, url = start_gradio(model=catalog_key)  # the page starts on this model
        try:
            measure_widget(browser, url, keys[catalog_key], args.steps, row)
            gradio_server_path(url, catalog_key, args.calls, row)
        finally:
            demo.close()
        rows.append(row)
        print(f"  measured gradio / {catalog_key}", file=sys.stderr, flush=True)
    return rows


def run_streamlit(browser: Any, models: list[str], keys: dict[str, str], args: Any) -> list[Row]:
    rows = []
    log = tempfile.NamedTemporaryFile(
        "w+", prefix="browser_latency-streamlit-", suffix=".log", delete=False
    )
    process, url = start_streamlit(log)
    try:
        for catalog_key in models:
            row = Row("streamlit", catalog_key)
            measure_widget(
                browser, f"{url}?model={catalog_key}", keys[catalog_key], args.steps, row
            )
            streamlit_server_path(browser, url, catalog_key, args.calls, row)
            rows.append(row)
            print(f"  measured streamlit / {catalog_key}", file=sys.stderr, flush=True)
    except BaseException:
        print(f"Streamlit log: {log.name}", file=sys.stderr)
        raise
    finally:
        stop(process)
    return rows


def report(rows: list[Row], args: Any, load_before: str) -> None:
    print(
        f"\nwidget: {args.steps} slider steps per row (psi and pc1 in turn, after {2 * WARMUP} "
        f"warm-up); server path: {args.calls} calls per row; headless Chromium, 4x4 grid"
    )
    print(f"load average before: {load_before}   after: {load_average()}\n")
    print(
        "| edition | model | widget p50 | widget p95 | server path p50 | server p95 "
        "| first-visit bytes (served / gzip) |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        w50, w95 = percentiles(r.widget_ms)
        s50, s95 = percentiles(r.server_ms)
        _, served, zipped = r.bytes_total()
        print(
            f"| {r.edition} | {r.model} | {w50:.1f} ms | {w95:.1f} ms | {s50:.1f} ms "
            f"| {s95:.1f} ms | {mb(served)} / {mb(zipped)} |"
        )
    print(
        "\nserver path: Gradio = /generate through gradio_client (picture downloaded); "
        "Streamlit = page without WebAssembly, PC slider key press -> new grid loaded."
    )
    print(
        "\n| edition | model | widget lastMs p50 / p95 | G run p50 / p95 | D run p50 / p95 "
        "| page open -> first frame | requests sent during steps | page errors |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        figures = [percentiles(x) for x in (r.last_ms, r.g_ms, r.d_ms)]
        cells = " | ".join(f"{a:.1f} / {b:.1f} ms" for a, b in figures)
        print(
            f"| {r.edition} | {r.model} | {cells} | {r.first_frame_s:.1f} s "
            f"| {len(r.sent_during_steps)} | {len(r.errors)} |"
        )
    print("\nfirst-visit files (raw = decoded body; served = body bytes over the wire):\n")
    print("| edition | model | file | raw | served | gzip -6 |")
    print("| --- | --- | --- | --- | --- | --- |")
    for r in rows:
        for name, (raw, served, zipped) in sorted(r.files.items()):
            print(f"| {r.edition} | {r.model} | {name} | {raw:,} | {served:,} | {zipped:,} |")
        raw, served, zipped = r.bytes_total()
        print(f"| {r.edition} | {r.model} | **total** | {raw:,} | {served:,} | {zipped:,} |")
    for r in rows:
        for line in (r.sent_during_steps + r.errors)[:10]:
            print(f"note {r.edition}/{r.model}: {line}")
    worst = max((percentiles(r.widget_ms)[1] for r in rows), default=float("nan"))
    verdict = "met" if worst <= TARGET_P95_MS else "NOT met"
    print(
        f"\ntarget: widget p95 <= {TARGET_P95_MS:.0f} ms on every row: {verdict} "
        f"(worst p95 {worst:.1f} ms)"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--models",
        default=",".join(MODELS),
        help=f"checkpoint keys, comma-separated (default {','.join(MODELS)})",
    )
    parser.add_argument(
        "--editions", default=",".join(EDITIONS), help="gradio,streamlit (default both)"
    )
    parser.add_argument("--steps", type=int, default=60, help="timed slider steps per row (60)")
    parser.add_argument("--calls", type=int, default=30, help="server-path calls per row (30)")
    parser.add_argument("--quick", action="store_true", help="16 steps and 8 server calls per row")
    parser.add_argument(
        "--cache",
        type=Path,
        help="GAN_EXPLORER_CACHE for the widget's ONNX exports (default: a fresh temporary folder)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.steps, args.calls = 16, 8
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    editions = [e.strip() for e in args.editions.split(",") if e.strip()]
    if unknown := set(editions) - set(EDITIONS):
        parser.error(f"unknown edition(s) {sorted(unknown)}; use gradio and/or streamlit")
    if args.steps < 2 or args.calls < 1:
        parser.error("--steps must be >= 2 and --calls >= 1")
    cache = args.cache or Path(tempfile.mkdtemp(prefix="browser_latency-cache-"))
    os.environ["GAN_EXPLORER_CACHE"] = str(cache)  # this process and the Streamlit server
    load_before = load_average()
    print(f"widget cache: {cache}; exporting ONNX for {', '.join(models)}", file=sys.stderr)
    keys = {m: model_key(m) for m in models}

    from playwright.sync_api import sync_playwright

    rows: list[Row] = []
    with sync_playwright() as p:
        browser = launch_browser(p)
        try:
            if "gradio" in editions:
                rows += run_gradio(browser, models, keys, args)
            if "streamlit" in editions:
                rows += run_streamlit(browser, models, keys, args)
        finally:
            browser.close()
    report(rows, args, load_before)


if __name__ == "__main__":
    main()
