"""How fast does the explorer answer? Prints figures; not part of the tests.

    python benchmarks/ui_latency.py                       # pretrained/ and runs/ checkpoints
    python benchmarks/ui_latency.py --checkpoint-dir runs/ --checkpoint dcgan-mnist --calls 200

What it does, in one run:

1. Starts ``python -m explorer`` (with ``GAN_EXPLORER_BENCHMARK=1``, which adds a hidden
   ``/trivial_image`` endpoint) and times **the command to the first served image**: the
   moment the Generate tab's initial image can be downloaded from the server, and the first
   ``/generate`` answer through ``gradio_client``.
2. Calls ``/generate`` and ``/trivial_image`` ``--calls`` times each through ``gradio_client``,
   alternating the two so background load hits both alike. ``/trivial_image`` returns a fixed
   picture of the same size as ``/generate``'s, so it measures Gradio's own floor (queue,
   JSON, PNG encoding, file download). Prints p50/p95 in ms and the ratio of the p95s
   (goal: <= 1.25).
3. In this process, times **the model work inside the handler** on the same checkpoint:
   G and D forward passes, the whole handler (latents, captions, loss numbers) and the PNG
   encoding Gradio then does (goal: <= 20 ms for a 28x28 model).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentiles(seconds: list[float]) -> tuple[float, float]:
    ms = np.asarray(seconds) * 1000
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 95))


def wait_for_first_image(url: str, deadline: float, process: subprocess.Popen) -> float:
    """Poll /config until the Generate tab's initial image is downloadable; returns when it was."""
    while time.time() < deadline:
        if process.poll() is not None:
            raise SystemExit(
                f"the explorer exited early with status {process.returncode}; see its log"
            )
        try:
            with urllib.request.urlopen(url + "config", timeout=2) as response:
                config = json.load(response)
            for component in config["components"]:
                props = component.get("props", {})
                if props.get("elem_id") == "generate-image":
                    value = props.get("value") or {}
                    image_url = value.get("url") or f"{url}gradio_api/file={value.get('path')}"
                    with urllib.request.urlopen(image_url, timeout=5) as image:
                        if image.read(8).startswith(b"\x89PNG"):
                            return time.time()
                    raise SystemExit("the Generate tab has no initial image (no checkpoint found?)")
        except (OSError, ValueError):
            time.sleep(0.05)
    raise SystemExit("the explorer did not serve its first image in time")


def in_process_model_work(
    dirs: list[Path], key: str | None, calls: int
) -> dict[str, dict[str, tuple[float, float]]]:
    """p50/p95 of the work /generate does, timed here without any server around it.

    Returns {step: {"wall": (p50, p95), "cpu": (p50, p95)}} in ms. With one torch thread the
    thread's CPU time is the work itself; wall time also counts waiting for a busy CPU.
    """
    import torch

    from explorer import checkpoints, latents
    from explorer.gradio_ui.tabs import generate

    torch.set_num_threads(1)  # as the app runs it
    catalog = checkpoints.discover(dirs)
    key = key or catalog.default_key()
    pipe = catalog.load(key)  # a trainers.pipeline.GANPipeline
    folder = Path(tempfile.mkdtemp(prefix="ui_latency-png-"))
    names = ("G + D forward", "whole handler", "PNG file (zlib 1)")
    wall: dict[str, list[float]] = {n: [] for n in names}
    cpu: dict[str, list[float]] = {n: [] for n in names}
    for i in range(calls + 5):
        stamps = [(time.perf_counter(), time.thread_time())]
        pipe(n=generate.DEFAULT_GRID**2, seed=i)  # G, then D's scores: the one sampler
        stamps.append((time.perf_counter(), time.thread_time()))
        picture, _ = generate.on_generate(key, seed=i, catalog=catalog)
        stamps.append((time.perf_counter(), time.thread_time()))
        latents.save_png(picture, folder)  # the file the /generate event hands to Gradio
        stamps.append((time.perf_counter(), time.thread_time()))
        if i >= 5:
            for n, (a, b) in zip(names, zip(stamps, stamps[1:], strict=False), strict=True):
                wall[n].append(b[0] - a[0])
                cpu[n].append(b[1] - a[1])
    shutil.rmtree(folder, ignore_errors=True)
    for store in (wall, cpu):  # what one /generate call costs: handler + its PNG
        store["handler + PNG"] = [
            a + b for a, b in zip(store[names[1]], store[names[2]], strict=True)
        ]
    return {n: {"wall": percentiles(wall[n]), "cpu": percentiles(cpu[n])} for n in wall}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--checkpoint-dir",
        type=Path,
        action="append",
        default=[],
        help="folders with checkpoints (default: runs/ if it exists; pretrained/ is always searched)",
    )
    parser.add_argument(
        "--checkpoint", help="checkpoint key to call /generate with (default: the app's default)"
    )
    parser.add_argument("--calls", type=int, default=200, help="calls per endpoint (default 200)")
    parser.add_argument("--startup-timeout", type=float, default=120.0)
    args = parser.parse_args(argv)
    dirs = args.checkpoint_dir or ([REPO / "runs"] if (REPO / "runs").is_dir() else [])

    from gradio_client import Client

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    command = [sys.executable, "-m", "explorer", "--port", str(port)]
    for d in dirs:
        command += ["--checkpoint-dir", str(d)]
    env = {**os.environ, "GAN_EXPLORER_BENCHMARK": "1"}
    log = tempfile.NamedTemporaryFile("w+", prefix="ui_latency-", suffix=".log", delete=False)
    started = time.time()
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        first_image = wait_for_first_image(url, started + args.startup_timeout, process) - started
        client = Client(url, verbose=False)
        key = (
            args.checkpoint
            or client.view_api(print_info=False, return_format="dict")["named_endpoints"][
                "/generate"
            ]["parameters"][0]["parameter_default"]
        )
        client.predict(checkpoint=key, seed=0, api_name="/generate")
        first_generate = time.time() - started

        for i in range(5):  # warm-up
            client.predict(checkpoint=key, seed=i, api_name="/generate")
            client.predict(i, api_name="/trivial_image")
        gen, trivial = [], []
        for i in range(args.calls):
            t0 = time.perf_counter()
            client.predict(checkpoint=key, seed=1000 + i, api_name="/generate")
            t1 = time.perf_counter()
            client.predict(i, api_name="/trivial_image")
            t2 = time.perf_counter()
            gen.append(t1 - t0)
            trivial.append(t2 - t1)
    except BaseException:
        print(f"explorer log: {log.name}", file=sys.stderr)
        raise
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()

    work = in_process_model_work(dirs, key, args.calls)
    g50, g95 = percentiles(gen)
    t50, t95 = percentiles(trivial)
    load = os.getloadavg()
    print(
        f"checkpoint: {key}   calls: {args.calls} per endpoint   CPU cores: {os.cpu_count()}   "
        f"load average: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}"
    )
    print(
        f"command -> first served image (Generate tab's initial image): {first_image:6.2f} s   (goal <= 15 s)"
    )
    print(f"command -> first /generate answer through gradio_client:      {first_generate:6.2f} s")
    print(f"/generate       p50 {g50:7.1f} ms   p95 {g95:7.1f} ms")
    print(
        f"/trivial_image  p50 {t50:7.1f} ms   p95 {t95:7.1f} ms   (Gradio's floor: same-size fixed image)"
    )
    print(f"p95 ratio /generate : /trivial_image = {g95 / t95:.2f}   (goal <= 1.25)")
    print(
        "model work inside the handler (in-process, 1 torch thread; wall = elapsed, cpu = this thread's CPU time):"
    )
    for name, figures in work.items():
        (w50, w95), (c50, c95) = figures["wall"], figures["cpu"]
        print(
            f"  {name:18s} wall p50 {w50:6.1f} p95 {w95:6.1f} ms   cpu p50 {c50:6.1f} p95 {c95:6.1f} ms"
        )
    print("  (goal: handler + PNG <= 20 ms for a 28x28 model)")


if __name__ == "__main__":
    main()
