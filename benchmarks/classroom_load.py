"""A class of students on one Gradio explorer: does the server keep up? Prints figures; not a test.

    python benchmarks/classroom_load.py --students 30               # 60 s, 3 real browser pages
    python benchmarks/classroom_load.py --students 30 --seconds 120 --browsers 5

One Gradio explorer (``python -m explorer --port P``, a subprocess with its default settings:
1 torch thread per request, 2 requests computed at once, a queue of 64) serves ``--students``
students. They arrive within ``--ramp`` seconds, each opening the Generate page (the page
loads are timed); once every page is open the class runs for ``--seconds``: every student
changes the seed every ``--seed-every`` seconds (jittered, out of step with the others) and
in between drags the latent widget's sliders.

* ``--browsers`` of the students (default 3) are real headless Chromium pages (one browser, one
  context each): the page loads as a browser loads it, "New seed" is clicked (the ``new_seed``
  then ``generate_widget`` events), and the seed change is timed in the page from the click to
  the widget's first frame of the new seed. Between seed changes the ``psi``/``pc1``/
  ``offset1`` sliders are stepped (each step waits for its frame) while every request and
  websocket message the page sends is recorded: **server calls per slider move**.
* The other students are simulated over HTTP (threads in this process): the page load fetches
  what a first visit fetches from the server (``/``, the assets the HTML names, ``/config``,
  the widget's script, style, onnxruntime-web's .js/.mjs/.wasm and the model's G.onnx and
  D.onnx, gzip accepted); a seed change is the ``/generate_widget`` endpoint through
  ``gradio_client`` (timed round trip); a slider drag costs the server nothing, as the real
  pages measure, so it sends nothing.

Why not 30 real pages: they would fit in memory (Chromium's PSS measured here: ~0.56 GB with
one page open, ~1.1 GB with three, so ~0.27 GB a page and ~8.5 GB for 30 of 24 GB), but
this machine's 2 CPU cores would then run 30 students' WebAssembly G and D as well as the
server, so the figures would measure this one box, not the server a class shares (each
student brings their own CPU). ``--browsers 30`` runs them all real anyway.

Target (issue 23) for 30 students: 0 server calls per slider move, seed-change p95 <= 500 ms.
Seed-change p95 on the last line is the larger of the real pages' (click -> new frame) and the
simulated students' (endpoint round trip). All traffic goes to 127.0.0.1; every loop is
bounded by ``--seconds``. The last line is exactly
``classroom: students N, server calls per slider move M, seed-change p95 T ms``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from browser_common import (  # noqa: E402
    REPO,
    free_port,
    launch_browser,
    load_average,
    percentiles,
    step,
    stop,
    sweep,
    widget_frame,
)

TARGET_P95_MS = 500
WIDGET_STATIC = (
    "latent-widget.js",
    "latent-widget.css",
    "ort.wasm.min.js",
    "ort-wasm-simd-threaded.mjs",
    "ort-wasm-simd-threaded.wasm",
)
MAX_ASSETS = 40  # page-load assets named in the HTML, at most

# Click "New seed" and time, in the page, the click -> the widget's first frame of a new seed.
NEW_SEED = """async () => {
  const widget = () => { const r = document.querySelector('#latent-widget'); return r && r.latentWidget; };
  const w0 = widget();
  const seed0 = w0.config.seed, frames0 = w0.frames;
  const button = document.querySelector('#new-seed');
  const t0 = performance.now();
  button.click();
  while (performance.now() - t0 < 60000) {
    await new Promise((r) => setTimeout(r, 2));
    const w = widget();
    if (w && w.config && w.config.seed !== seed0 && w.frames > frames0) {
      return { ms: performance.now() - t0, seed: w.config.seed };
    }
  }
  throw new Error('no frame of a new seed within 60 s');
}"""


@dataclass
class Figures:
    """What the students measured (lists are appended to from several threads; list.append
    is atomic in CPython)."""

    page_load_s: list[float] = field(default_factory=list)
    page_bytes: list[int] = field(default_factory=list)
    sim_seed_ms: list[float] = field(default_factory=list)
    real_seed_ms: list[float] = field(default_factory=list)
    real_first_frame_s: list[float] = field(default_factory=list)
    slider_steps: int = 0
    slider_step_ms: list[float] = field(default_factory=list)
    sent_during_slides: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def start_server(log: Any, model: str | None) -> tuple[subprocess.Popen, str]:
    """``python -m explorer --port P`` (default settings); waits for its /config."""
    port = free_port()
    command = [sys.executable, "-m", "explorer", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--model", model] if model else []
    env = {**os.environ}
    env.pop("SPACE_ID", None)
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the explorer exited early ({process.returncode}); log: {log.name}")
        try:
            with urllib.request.urlopen(url + "config", timeout=2) as response:
                json.load(response)
            return process, url
        except (OSError, ValueError):
            time.sleep(0.2)
    stop(process)
    raise SystemExit(f"the explorer did not come up in 180 s; log: {log.name}")


def fetch(url: str) -> tuple[bytes, int]:
    """(the body, decoded, and how many bytes came over the wire), as a browser asks: gzip."""
    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request, timeout=120) as response:
        sent = response.read()
        gzipped = response.headers.get("Content-Encoding", "") == "gzip"
    return (gzip.decompress(sent) if gzipped else sent), len(sent)


def widget_model_base(config: dict[str, Any]) -> str | None:
    """``models/<key>/`` from the Generate widget's start value in /config (None: not found)."""
    for component in config.get("components", []):
        value = component.get("props", {}).get("value")
        if isinstance(value, str) and '"model_base"' in value and '"generate"' in value:
            try:
                return json.loads(value).get("model_base")
            except ValueError:
                continue
    return None


@dataclass
class Clock:
    """The class starts (``start`` is set) once every student has opened the page; it ends
    ``--seconds`` later (``deadline``, monotonic)."""

    start: threading.Event = field(default_factory=threading.Event)
    deadline: float = 0.0


def simulated_student(
    index: int, url: str, key: str, args: Any, figures: Figures, clock: Clock, arrived: Any
) -> None:
    """One student over HTTP: the page load, then a seed change every few seconds."""
    from gradio_client import Client

    rng = random.Random(index)
    time.sleep(rng.uniform(0, args.ramp))
    try:
        started = time.perf_counter()
        page, size = fetch(url)
        html = page.decode("utf-8", "replace")
        assets = re.findall(r'(?:src|href)="\.?/?(assets/[^"]+)"', html)[:MAX_ASSETS]
        for asset in assets:
            size += fetch(url + asset)[1]
        config_bytes, sent = fetch(url + "config")
        size += sent
        base = widget_model_base(json.loads(config_bytes)) or ""
        files = [f"latent-widget/static/{name}" for name in WIDGET_STATIC]
        if base:
            files += [f"latent-widget/{base}G.onnx", f"latent-widget/{base}D.onnx"]
        for name in files:
            size += fetch(url + name)[1]
        client = Client(url, verbose=False)  # what the page's Gradio front end connects with
        figures.page_load_s.append(time.perf_counter() - started)
        figures.page_bytes.append(size)
        if not base:
            figures.errors.append(f"student {index}: no widget config in /config")
        arrived.release()
        clock.start.wait(timeout=args.arrive_timeout + args.ramp)
        deadline = clock.deadline
        time.sleep(rng.uniform(0, args.seed_every))  # students are out of step
        while time.monotonic() < deadline:
            wait = args.seed_every * rng.uniform(0.7, 1.3)  # dragging sliders: no server calls
            if time.monotonic() + wait >= deadline:
                break
            time.sleep(wait)
            t0 = time.perf_counter()
            text = client.predict(key, rng.randrange(0, 1_000_000), api_name="/generate_widget")
            figures.sim_seed_ms.append((time.perf_counter() - t0) * 1000)
            if '"z"' not in str(text):
                figures.errors.append(f"student {index}: generate_widget answered {str(text)[:80]}")
        client.close()
    except Exception as error:  # one student's failure is a figure, not the end of the run
        figures.errors.append(f"student {index}: {type(error).__name__}: {error}")
        arrived.release()


@dataclass
class RealPage:
    page: Any
    frame: Any
    next_seed: float
    values: dict[str, list[float]]
    position: dict[str, int]


def open_real_pages(browser: Any, url: str, n: int, args: Any, figures: Figures) -> list[RealPage]:
    pages = []
    for i in range(n):
        context = browser.new_context(viewport={"width": 1300, "height": 1000})
        page = context.new_page()
        page.on("pageerror", lambda error: figures.errors.append(f"pageerror: {error}"))
        page._sockets = []  # type: ignore[attr-defined]
        page.on("websocket", lambda ws, page=page: page._sockets.append(ws))
        started = time.perf_counter()
        page.goto(url, timeout=120_000)
        frame = widget_frame(page, None)
        figures.real_first_frame_s.append(time.perf_counter() - started)
        values = {
            "psi": sweep(0.3, 1.5, 0.05, 1.0, 400),
            "pc1": sweep(-4.0, 4.0, 0.1, 0.0, 400),
            "offset1": sweep(-4.0, 4.0, 0.1, 0.0, 400),
        }
        next_seed = time.monotonic() + args.seed_every * (i + 1) / n
        pages.append(RealPage(page, frame, next_seed, values, dict.fromkeys(values, 0)))
    return pages


def drag(real: RealPage, steps: int, figures: Figures) -> None:
    """A slider drag of ``steps`` steps, recording what the page sends meanwhile."""
    sent: list[str] = []
    page = real.page

    def on_request(request: Any) -> None:
        sent.append(f"{request.method} {request.url}")

    def on_frame(payload: Any) -> None:
        sent.append("websocket message")

    page.on("request", on_request)
    for ws in page._sockets:
        ws.on("framesent", on_frame)
    name = random.choice(list(real.values))
    for _ in range(steps):
        value = real.values[name][real.position[name] % len(real.values[name])]
        real.position[name] += 1
        out = step(real.frame, name, value)
        figures.slider_step_ms.append(float(out["ms"]))
        figures.slider_steps += 1
    page.wait_for_timeout(100)  # anything the last step would send
    page.remove_listener("request", on_request)
    for ws in page._sockets:
        ws.remove_listener("framesent", on_frame)
    figures.sent_during_slides += sent


def drive_real_pages(pages: list[RealPage], args: Any, figures: Figures, deadline: float) -> None:
    """Round-robin over the real pages until the deadline: a seed change when one is due,
    otherwise a drag of a few slider steps."""
    while time.monotonic() < deadline and pages:
        for real in pages:
            if time.monotonic() >= deadline:
                break
            try:
                if time.monotonic() >= real.next_seed:
                    out = real.frame.evaluate(NEW_SEED)
                    figures.real_seed_ms.append(float(out["ms"]))
                    real.next_seed = time.monotonic() + args.seed_every * random.uniform(0.7, 1.3)
                else:
                    drag(real, args.drag_steps, figures)
            except Exception as error:
                figures.errors.append(f"real page: {type(error).__name__}: {str(error)[:200]}")
                time.sleep(0.5)


def chromium_rss_mb() -> float:
    """Memory of this process's Chromium processes, in MB: the sum of their PSS (shared pages
    split between the processes sharing them; psutil; nan without it)."""
    try:
        import psutil
    except ImportError:
        return float("nan")
    total = 0
    for child in psutil.Process().children(recursive=True):
        try:
            if "chrom" in child.name():
                total += child.memory_full_info().pss
        except psutil.Error:
            pass
    return total / 1e6


def cpu_seconds(server_pid: int) -> dict[str, float]:
    """CPU time (user + system) used so far by the server, this process (the simulated
    students and Playwright's calls) and Chromium; empty without psutil."""
    try:
        import psutil
    except ImportError:
        return {}

    def used(process: Any) -> float:
        try:
            times = process.cpu_times()
            return times.user + times.system
        except psutil.Error:
            return 0.0

    me = psutil.Process()
    chromium = sum(used(c) for c in me.children(recursive=True) if "chrom" in c.name())
    return {"server": used(psutil.Process(server_pid)), "benchmark": used(me), "Chromium": chromium}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--students", type=int, default=30, help="students in the class (30)")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the class runs (60)")
    parser.add_argument(
        "--browsers",
        type=int,
        default=3,
        help="students that are real headless Chromium pages (3; the rest are simulated)",
    )
    parser.add_argument("--seed-every", type=float, default=5.0, help="seconds between seeds (5)")
    parser.add_argument("--drag-steps", type=int, default=5, help="slider steps per drag (5)")
    parser.add_argument(
        "--ramp", type=float, default=10.0, help="students arrive within this many s (10)"
    )
    parser.add_argument(
        "--arrive-timeout",
        type=float,
        default=300.0,
        help="the class starts at the latest this many s after the last arrival is due (300)",
    )
    parser.add_argument("--model", help="the checkpoint the class uses (default: the explorer's)")
    parser.add_argument(
        "--cache",
        type=Path,
        help="GAN_EXPLORER_CACHE for the server (default: a fresh temporary folder)",
    )
    args = parser.parse_args(argv)
    if args.students < 1 or args.seconds <= 0 or args.seed_every <= 0 or args.drag_steps < 1:
        parser.error("--students, --seconds, --seed-every and --drag-steps must be positive")
    n_real = max(0, min(args.browsers, args.students))
    n_sim = args.students - n_real
    os.environ["GAN_EXPLORER_CACHE"] = str(
        args.cache or Path(tempfile.mkdtemp(prefix="classroom_load-cache-"))
    )
    load_before = load_average()
    log = tempfile.NamedTemporaryFile("w+", prefix="classroom_load-", suffix=".log", delete=False)
    figures = Figures()
    process, url = start_server(log, args.model)
    rss = float("nan")
    try:
        from gradio_client import Client

        client = Client(url, verbose=False)
        api = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
        key = args.model or api["/generate_widget"]["parameters"][0]["parameter_default"]
        warm = json.loads(client.predict(key, 0, api_name="/generate_widget"))  # ONNX export
        client.close()
        if warm.get("fallback"):
            raise SystemExit(f"the widget steps aside for {key}: {warm['fallback']}")
        print(
            f"explorer at {url} (log {log.name}); model {key}; {n_real} real pages, "
            f"{n_sim} simulated students; {args.seconds:.0f} s",
            file=sys.stderr,
            flush=True,
        )
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = launch_browser(p)
            try:
                clock, arrived = Clock(), threading.Semaphore(0)
                arriving = time.monotonic()
                threads = [
                    threading.Thread(
                        target=simulated_student,
                        args=(i, url, key, args, figures, clock, arrived),
                        daemon=True,
                    )
                    for i in range(n_sim)
                ]
                for thread in threads:
                    thread.start()
                pages = open_real_pages(browser, url, n_real, args, figures)
                rss = chromium_rss_mb()
                waited = 0  # every simulated student has opened the page (or failed)
                while waited < n_sim and arrived.acquire(
                    timeout=max(0.1, arriving + args.ramp + args.arrive_timeout - time.monotonic())
                ):
                    waited += 1
                arrival_s = time.monotonic() - arriving
                if waited < n_sim:
                    figures.errors.append(f"{n_sim - waited} students had not arrived in time")
                clock.deadline = time.monotonic() + args.seconds
                cpu_before = cpu_seconds(process.pid)
                clock.start.set()
                for real in pages:  # out of step with each other
                    real.next_seed = time.monotonic() + args.seed_every * random.random()
                drive_real_pages(pages, args, figures, clock.deadline)
                cpu_after = cpu_seconds(process.pid)
                for thread in threads:
                    thread.join(timeout=max(1.0, clock.deadline - time.monotonic()) + 120)
                elapsed = time.monotonic() - clock.deadline + args.seconds
            finally:
                browser.close()
    finally:
        stop(process)

    real50, real95 = percentiles(figures.real_seed_ms)
    sim50, sim95 = percentiles(figures.sim_seed_ms)
    step50, step95 = percentiles(figures.slider_step_ms)
    load50, load95 = percentiles([s * 1000 for s in figures.page_load_s])
    per_move = len(figures.sent_during_slides) / figures.slider_steps if figures.slider_steps else 0
    worst = max((x for x in (real95, sim95) if x == x), default=float("nan"))
    print(
        f"\nclassroom on one Gradio explorer: {args.students} students ({n_real} real Chromium "
        f"pages, {n_sim} simulated over HTTP)\narrival: all pages open after {arrival_s:.0f} s "
        f"(arriving within {args.ramp:g} s); then the class: {elapsed:.0f} s, a seed change "
        f"every ~{args.seed_every:g} s per student, slider drags in between"
    )
    print(f"load average before: {load_before}   after: {load_average()}")
    print(f"Chromium memory (PSS) with {n_real} pages open: {rss:.0f} MB")
    if cpu_after:
        used = {k: cpu_after[k] - cpu_before.get(k, 0.0) for k in cpu_after}
        print(
            "CPU seconds used during the class: "
            + ", ".join(f"{k} {v:.0f}" for k, v in used.items())
            + f" (of {os.cpu_count()} cores x {args.seconds:.0f} s = "
            f"{(os.cpu_count() or 1) * args.seconds:.0f}; the rest: other work on this machine)"
        )
    print()
    print("| figure | value |")
    print("| --- | --- |")
    print(f"| slider steps in real pages | {figures.slider_steps} |")
    print(f"| requests/messages sent during slider steps | {len(figures.sent_during_slides)} |")
    print(f"| server calls per slider move | {per_move:.2f} |")
    print(f"| slider step -> frame in real pages p50 / p95 | {step50:.1f} / {step95:.1f} ms |")
    print(
        f"| seed change, real pages (New seed click -> new frame), n={len(figures.real_seed_ms)} "
        f"| p50 {real50:.0f} ms / p95 {real95:.0f} ms |"
    )
    print(
        f"| seed change, simulated (/generate_widget round trip), n={len(figures.sim_seed_ms)} "
        f"| p50 {sim50:.0f} ms / p95 {sim95:.0f} ms |"
    )
    if figures.real_first_frame_s:
        print(
            f"| real page open -> first widget frame | "
            f"{', '.join(f'{s:.1f}' for s in figures.real_first_frame_s)} s |"
        )
    if figures.page_load_s:
        mean_mb = sum(figures.page_bytes) / len(figures.page_bytes) / 1e6
        print(
            f"| simulated page load (sequential fetches), n={len(figures.page_load_s)} "
            f"| p50 {load50:.0f} ms / p95 {load95:.0f} ms, {mean_mb:.2f} MB each |"
        )
    print(f"| errors | {len(figures.errors)} |")
    for line in (figures.sent_during_slides + figures.errors)[:15]:
        print(f"note: {line}")
    t_ms = round(worst) if worst == worst else -1
    verdict = (
        "met" if per_move == 0 and 0 <= t_ms <= TARGET_P95_MS and not figures.errors else "NOT met"
    )
    print(
        f"target for 30 students: 0 server calls per slider move and seed-change p95 <= "
        f"{TARGET_P95_MS} ms: {verdict}"
    )
    print(
        f"classroom: students {args.students}, server calls per slider move {per_move:.2f}, "
        f"seed-change p95 {t_ms} ms"
    )


if __name__ == "__main__":
    main()
