"""Soak test: a class of simulated users on one explorer for a while. Prints figures.

    python benchmarks/soak.py --users 30 --seconds 600
    python benchmarks/soak.py --users 10 --seconds 180 --port 7861

What it does:

1. Starts the explorer itself (``python -m explorer --host 127.0.0.1 --public``: hosted mode,
   the public configuration) with its temporary folders (``TMPDIR``, ``GRADIO_TEMP_DIR``), live
   runs and saved checkpoints in a fresh folder of its own, so what is left behind can be
   counted, and with ``GAN_EXPLORER_BENCHMARK=1`` for the hidden ``/debug_threads`` endpoint.
   It talks to 127.0.0.1 only.
2. Runs ``--users`` simulated users (threads, one ``gradio_client.Client`` = one browser
   session each) for ``--seconds``. Each first tries every action once (the warm-up fills the
   model caches), then picks actions at random with a short think time: Generate, Classes,
   Interpolate, Inside, Ask D (an uploaded picture), Transposed convolution, Translate (an
   example), a short Stylise (10 steps at 64 px), 2-D playground steps, and Stop of somebody
   else's training job (refused: not theirs). User 0 also starts the one allowed training job
   (MLP-GAN, a few hundred steps), polls it and stops it, again and again.
3. Samples the server's memory (RSS) every few seconds and prints, per endpoint, calls, errors
   and p50/p95 latency; then RSS after the warm-up and at the end, the threads alive at the end
   (and whether any training thread outlived its stopped job), and the temporary files left
   while running and after the server stopped. The last line:

       soak: users N, calls C, errors E, rss growth G%

Goal: 0 errors, RSS growth after the warm-up <= 10 %, no thread left from a stopped job.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import defaultdict
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
RSS_EVERY_S = 5.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    """Resident memory of a process (and its children) in MB, from /proc."""
    total = 0.0
    for candidate in [pid, *children(pid)]:
        try:
            for line in Path(f"/proc/{candidate}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            continue
    return total


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def thread_count(pid: int) -> int:
    try:
        return len(list(Path(f"/proc/{pid}/task").iterdir()))
    except OSError:
        return -1


def count_files(*folders: Path) -> tuple[int, float]:
    """(files, MB) under the folders."""
    files, size = 0, 0
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file():
                files += 1
                size += path.stat().st_size
    return files, size / 1e6


class Stats:
    """Per-endpoint latencies and errors, shared by the user threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.messages: dict[str, str] = {}

    def call(self, client, endpoint: str, *args, **kwargs):
        """``client.predict`` timed; an exception is an error (counted, kept, not raised)."""
        start = time.perf_counter()
        try:
            result = client.predict(*args, api_name=endpoint, **kwargs)
            ok = True
        except Exception as error:  # noqa: BLE001 - what the server said is the figure
            result, ok = None, False
            with self.lock:
                self.errors[endpoint] += 1
                self.messages.setdefault(endpoint, f"{type(error).__name__}: {error}"[:300])
        with self.lock:
            self.times[endpoint].append(time.perf_counter() - start)
        return result if ok else None

    def table(self) -> list[str]:
        lines = [f"{'endpoint':28s} {'calls':>6s} {'errors':>6s} {'p50 ms':>8s} {'p95 ms':>8s}"]
        for endpoint in sorted(self.times):
            ms = np.asarray(self.times[endpoint]) * 1000
            lines.append(
                f"{endpoint:28s} {len(ms):6d} {self.errors[endpoint]:6d} "
                f"{np.percentile(ms, 50):8.0f} {np.percentile(ms, 95):8.0f}"
            )
        return lines

    @property
    def calls(self) -> int:
        return sum(len(t) for t in self.times.values())

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


# --- what a user does ---------------------------------------------------------------------------


class User:
    """One browser session: its own Client, random generator and picture files."""

    def __init__(self, index: int, url: str, stats: Stats, files: dict[str, str], api: dict):
        from gradio_client import Client

        self.index = index
        self.rng = random.Random(index)
        self.stats = stats
        self.files = files
        self.api = api
        self.client = Client(url, verbose=False)

    def defaults(self, endpoint: str, **changes) -> dict:
        """The endpoint's parameters at their defaults (by name), then ``changes`` by label
        or name."""
        values, labels = {}, {}
        for param in self.api[endpoint]["parameters"]:
            name = param["parameter_name"]
            values[name] = param.get("parameter_default")
            labels[param.get("label")] = name
        for key, value in changes.items():
            values[labels.get(key, key)] = value
        return values

    def call(self, endpoint: str, *args, **kwargs):
        return self.stats.call(self.client, endpoint, *args, **kwargs)

    # the actions ----------------------------------------------------------------------------

    def generate(self) -> None:
        self.call(
            "/generate",
            **self.defaults(
                "/generate", seed=self.rng.randrange(10**6), grid=self.rng.randint(1, 6)
            ),
        )

    def classes(self) -> None:
        self.call("/classes", **self.defaults("/classes", seed=self.rng.randrange(1000)))

    def interpolate(self) -> None:
        self.call(
            "/interpolate",
            **self.defaults(
                "/interpolate", seed_b=self.rng.randrange(1000), frames=self.rng.randint(4, 12)
            ),
        )

    def inside(self) -> None:
        self.call("/inside", **self.defaults("/inside"))

    def ask_d(self) -> None:
        from gradio_client import handle_file

        self.call(
            "/ask_d",
            **self.defaults("/ask_d", sketch=None, upload=handle_file(self.files["digit"]), n=4),
        )

    def convlab(self) -> None:
        size, k, s = self.rng.randint(2, 5), self.rng.randint(2, 4), self.rng.randint(1, 3)
        self.call(
            "/convlab_update",
            **self.defaults("/convlab_update", size=size, k=k, s=s, p=0, output_padding=0),
        )
        self.call("/convlab_checkerboard", **self.defaults("/convlab_checkerboard"))

    def translate(self) -> None:
        self.call(
            "/translate_pick_example", name=self.rng.choice(["rocket", "coffee", "chelsea (a cat)"])
        )
        self.call(
            "/translate_run",
            **self.defaults("/translate_run", direction=self.rng.choice(["a2b", "b2a"])),
        )

    def stylise(self) -> None:
        from gradio_client import handle_file

        self.call("/stylise_prepare")
        self.call(
            "/stylise_run",
            **self.defaults(
                "/stylise_run",
                content_image=handle_file(self.files["content"]),
                style_image=handle_file(self.files["style"]),
                n_steps=10,
                px=64,
                opt="adam",
                feature_net="random",
            ),
        )

    def playground(self) -> None:
        self.call("/playground_settings", **self.defaults("/playground_settings"))
        for _ in range(3):
            self.call("/playground_step_both", **self.defaults("/playground_step_both", rounds=5))

    def stop_others(self) -> None:
        self.call("/train_stop")  # not this session's job: the server says so (not an error)

    ACTIONS: dict[str, float] = {  # relative frequency
        "generate": 6,
        "classes": 2,
        "interpolate": 2,
        "inside": 2,
        "ask_d": 2,
        "convlab": 2,
        "translate": 1,
        "stylise": 0.5,
        "playground": 2,
        "stop_others": 0.5,
    }

    def run(self, until: float, warm_until: float) -> None:
        names = list(self.ACTIONS)
        self.rng.shuffle(names)
        for name in names:  # the warm-up: every action once
            if time.monotonic() >= until:
                return
            getattr(self, name)()
        while time.monotonic() < until:
            name = self.rng.choices(list(self.ACTIONS), weights=list(self.ACTIONS.values()))[0]
            getattr(self, name)()
            time.sleep(self.rng.uniform(0.2, 1.0))  # reading what came back


class Trainer(User):
    """User 0's other job: start the one training job, watch it, stop it; again and again."""

    jobs = 0
    leftover_threads: list[str] = []

    def training_round(self) -> None:
        start = self.defaults(
            "/train_start",
            **{
                "model family": "mlp-gan",
                "model preset": "classroom",
                "data": "mnist",
                "steps": 400,
                "time budget (s)": 20,
                "batch size": 32,
            },
        )
        self.call("/train_start", **start)
        for _ in range(4):
            time.sleep(1.0)
            self.call("/train_poll")
        self.call("/train_stop")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            result = self.call("/train_poll")
            status = result[0] if isinstance(result, list | tuple) and result else ""
            if isinstance(status, str) and ("stopped" in status or "done" in status):
                break
            time.sleep(1.0)
        time.sleep(1.0)  # the worker thread ends right after its last event
        names = json.loads(self.call("/debug_threads") or "[]")
        left = [n for n in names if n.startswith("gan-explorer-training")]
        Trainer.jobs += 1
        Trainer.leftover_threads.extend(left)

    def run(self, until: float, warm_until: float) -> None:
        while time.monotonic() < until - 30:
            self.training_round()
            for _ in range(self.rng.randint(3, 6)):  # and a few ordinary actions between
                if time.monotonic() >= until:
                    return
                name = self.rng.choices(list(self.ACTIONS), weights=list(self.ACTIONS.values()))[0]
                if name != "stop_others":
                    getattr(self, name)()


# --- the run ------------------------------------------------------------------------------------


def make_files(folder: Path) -> dict[str, str]:
    """A digit-like drawing, a content and a style picture (client-side uploads)."""
    from skimage import data

    folder.mkdir(parents=True, exist_ok=True)
    digit = np.zeros((56, 56), dtype=np.uint8)
    digit[10:46, 24:32] = 255  # a "1"
    paths = {
        "digit": folder / "digit.png",
        "content": folder / "content.png",
        "style": folder / "style.png",
    }
    Image.fromarray(digit).save(paths["digit"])
    Image.fromarray(data.chelsea()).resize((96, 64)).save(paths["content"])
    Image.fromarray(data.brick()).resize((64, 64)).save(paths["style"])
    return {k: str(v) for k, v in paths.items()}


def start_server(
    port: int, work: Path, delete_cache: str, malloc_arenas: int = 0
) -> subprocess.Popen:
    env = {
        **os.environ,
        "TMPDIR": str(work / "tmp"),
        "GRADIO_TEMP_DIR": str(work / "gradio"),
        "GAN_EXPLORER_LIVE_RUNS": str(work / "live-runs"),
        "GAN_EXPLORER_CHECKPOINTS": str(work / "checkpoints"),
        "GAN_EXPLORER_BENCHMARK": "1",
        "GAN_EXPLORER_DELETE_CACHE": delete_cache,
        "GRADIO_ANALYTICS_ENABLED": "False",
        "OMP_NUM_THREADS": "1",
    }
    if malloc_arenas:
        env["MALLOC_ARENA_MAX"] = str(malloc_arenas)
    if SHARED_DATA.is_dir() and "GAN_EXPLORER_DATA" not in os.environ:
        env["GAN_EXPLORER_DATA"] = str(SHARED_DATA)
    for name in ("tmp", "gradio"):
        (work / name).mkdir(parents=True, exist_ok=True)
    log = open(work / "server.log", "w")  # noqa: SIM115 - closed with the process
    command = [
        sys.executable,
        "-m",
        "explorer",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--public",
    ]
    return subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the explorer exited with status {process.returncode}; see its log")
        try:
            with urllib.request.urlopen(url + "config", timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("the explorer did not come up in time")


def monitor(pid: int, stop: threading.Event, samples: list[tuple[float, float]]) -> None:
    while not stop.is_set():
        samples.append((time.monotonic(), rss_mb(pid)))
        stop.wait(RSS_EVERY_S)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=180)
    parser.add_argument("--port", type=int, default=None, help="default: a free port")
    parser.add_argument(
        "--warmup",
        type=float,
        default=None,
        help="seconds before the RSS baseline (default S/4, at most 120)",
    )
    parser.add_argument(
        "--delete-cache",
        default="60,120",
        help="Gradio's delete_cache EVERY_S,AGE_S for the server (the app's default is 3600,3600)",
    )
    parser.add_argument(
        "--malloc-arenas",
        type=int,
        default=0,
        help="MALLOC_ARENA_MAX for the server (glibc; 0 = the default, 8 per core)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work folder (server log)")
    args = parser.parse_args(argv)
    warmup = args.warmup if args.warmup is not None else min(120.0, args.seconds / 4)
    port = args.port or free_port()
    url = f"http://127.0.0.1:{port}/"
    work = Path(tempfile.mkdtemp(prefix="gan-explorer-soak-"))
    process = start_server(port, work, args.delete_cache, args.malloc_arenas)
    stats, samples = Stats(), []
    stop_monitor = threading.Event()
    try:
        started = time.monotonic()
        wait_until_up(url, process)
        print(
            f"server up in {time.monotonic() - started:.0f} s (pid {process.pid}, port {port})",
            flush=True,
        )
        from gradio_client import Client

        api = Client(url, verbose=False).view_api(return_format="dict", print_info=False)
        api = api["named_endpoints"]
        files = make_files(work / "client")
        monitor_thread = threading.Thread(
            target=monitor, args=(process.pid, stop_monitor, samples), daemon=True
        )
        monitor_thread.start()
        begin = time.monotonic()
        until, warm_until = begin + args.seconds, begin + warmup
        users: list[User] = [
            (Trainer if i == 0 else User)(i, url, stats, files, api) for i in range(args.users)
        ]
        threads = [
            threading.Thread(target=user.run, args=(until, warm_until), name=f"user-{user.index}")
            for user in users
        ]
        for thread in threads:
            thread.start()
            time.sleep(0.1)
        for thread in threads:
            thread.join(timeout=max(0.0, until - time.monotonic()) + 300)
        elapsed = time.monotonic() - begin
        stop_monitor.set()
        time.sleep(2.0)
        end_rss = rss_mb(process.pid)
        thread_names = json.loads(stats.call(Client(url, verbose=False), "/debug_threads") or "[]")
        os_threads = thread_count(process.pid)
        files_running = count_files(work / "tmp", work / "gradio")
    finally:
        stop_monitor.set()
        process.send_signal(signal.SIGINT)  # Ctrl-C: Gradio closes and deletes its files
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(30)
    files_after = count_files(work / "tmp", work / "gradio")

    warm_samples = [rss for t, rss in samples if t >= begin + warmup]
    warm_rss = warm_samples[0] if warm_samples else (samples[0][1] if samples else float("nan"))
    peak = max((rss for _, rss in samples), default=float("nan"))
    growth = (end_rss - warm_rss) / warm_rss * 100 if warm_rss else float("nan")
    training_left = [n for n in thread_names if n.startswith("gan-explorer-training")]

    print(f"\n{args.users} users for {elapsed / 60:.1f} min (warm-up {warmup:.0f} s)\n")
    print("\n".join(stats.table()))
    for endpoint, message in stats.messages.items():
        print(f"  first error of {endpoint}: {message}")
    print(
        f"\nserver RSS: {samples[0][1] if samples else float('nan'):.0f} MB at start of load, "
        f"{warm_rss:.0f} MB after the warm-up, {peak:.0f} MB peak, {end_rss:.0f} MB at the end"
    )
    timeline = [
        f"{(t - begin) / 60:.1f} min {rss:.0f}"
        for i, (t, rss) in enumerate(samples)
        if i % max(1, round(60 / RSS_EVERY_S)) == 0
    ]
    print("RSS over time (MB): " + ", ".join(timeline))
    kinds = defaultdict(int)
    for name in thread_names:
        kinds[name.rstrip("0123456789_ ()").removesuffix("-")] += 1
    print("Python threads by name: " + ", ".join(f"{k} x{v}" for k, v in sorted(kinds.items())))
    print(
        f"threads alive at the end: {os_threads} OS threads, {len(thread_names)} Python threads; "
        f"training jobs started and stopped: {Trainer.jobs}; training threads left after their "
        f"job stopped: {len(Trainer.leftover_threads)}; at the end: {len(training_left)}"
    )
    print(
        f"temporary files: {files_running[0]} ({files_running[1]:.1f} MB) while running "
        f"(delete_cache {args.delete_cache}), {files_after[0]} ({files_after[1]:.1f} MB) after the "
        "server stopped"
    )
    if args.keep:
        print(f"work folder: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    print(
        f"soak: users {args.users}, calls {stats.calls}, errors {stats.error_count}, "
        f"rss growth {growth:.1f}%"
    )
    return 0 if stats.error_count == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
