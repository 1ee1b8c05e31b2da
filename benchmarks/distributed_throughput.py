"""Data-parallel throughput: DCGAN-28 images/s on 1 and 2 (or more) processes, and what the
data-parallel support costs a plain one-process run.

    python benchmarks/distributed_throughput.py                       # this machine, CPU
    python benchmarks/distributed_throughput.py --data-dir ../shared/data --baseline-ref 25aa195
    (25aa195: the commit before data-parallel training)
    python benchmarks/distributed_throughput.py --device cuda --processes 1,2,4,8 --batch-size 256

1. Overhead: one process without a launcher, ``GANTrainer.train_step`` images/s with this tree's
   trainers/ and with the trainers/ of ``--baseline-ref`` (``git archive`` into a temporary
   folder, renamed ``trainers_before``), both in one interpreter, stepped alternately (a shared
   machine's load hits both alike). The goal is "no more than 3% slower"; the one-process path
   does not even import Accelerate.
2. Scaling: ``torchrun --standalone --nproc_per_node N -m trainers.cli dcgan ...`` for each N,
   images/s of the global batch (all processes together) as the main process logs them
   (median over the steps after the warm-up). Each process gets the same per-process batch, so
   the global batch grows with N (weak scaling, as data-parallel training is used).

On a CPU machine every process shares the same cores: two processes on two cores do not train
faster than one process with two threads (the all-reduce only adds work). The figures say so
rather than hide it. On a machine with N GPUs each process has its own GPU.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

#: Both trainers in one interpreter: ``trainers`` (this tree) and ``trainers_before`` (the
#: baseline's copy, imports renamed), stepped alternately, so load from other programs hits
#: both alike. Prints the per-step seconds of each as JSON.
PAIRED_TIMER = r"""
import json, sys, time, torch
steps, batch, data_dir, device, threads = sys.argv[1:6]
steps, batch = int(steps), int(batch)
torch.set_num_threads(int(threads))
trainers = {}
for package in ("trainers_before", "trainers"):
    data_mod = __import__(package + ".data", fromlist=["x"])
    engine = __import__(package + ".engine", fromlist=["x"])
    registry = __import__(package + ".registry", fromlist=["x"])
    data = (data_mod.load_dataset("mnist", data_dir, download=False) if data_dir
            else data_mod.synthetic_dataset(n=4096))
    spec = registry.get_spec("dcgan")
    config = engine.TrainConfig(model="dcgan", steps=10**6, batch_size=batch,
                                sample_every=0, checkpoint_every=0)
    trainers[package] = engine.GANTrainer(spec, spec.make_config((1, 28, 28)), config, data, device)
seconds = {name: [] for name in trainers}
for i in range(steps + 5):
    for name, trainer in (trainers.items() if i % 2 else reversed(trainers.items())):
        start = time.perf_counter()
        trainer.train_step()
        if device == "cuda":
            torch.cuda.synchronize()
        if i >= 5:  # after the warm-up
            seconds[name].append(time.perf_counter() - start)
print(json.dumps({"seconds": seconds, "precision": trainers["trainers"].precision,
                  "accelerate_imported": "accelerate" in sys.modules}))
"""


def export_trainers(ref: str, into: Path) -> str:
    """``git archive REF trainers`` into ``into``; returns the commit's short hash."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", ref], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.strip()
    archive = subprocess.run(
        ["git", "archive", ref, "trainers"], cwd=REPO, capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return commit


def export_before(ref: str, into: Path) -> str:
    """``REF:trainers`` as the package ``trainers_before`` in ``into`` (its own imports renamed)."""
    commit = export_trainers(ref, into)
    (into / "trainers").rename(into / "trainers_before")
    for path in (into / "trainers_before").rglob("*.py"):
        text = path.read_text()
        text = re.sub(r"\b(from|import) trainers\b", r"\1 trainers_before", text)
        text = re.sub(r"([\"'])trainers\.", r"\1trainers_before.", text)  # importlib names
        path.write_text(text)
    return commit


def overhead(args: argparse.Namespace) -> None:
    """Part 1: one process, this tree against --baseline-ref, step by step in one interpreter."""
    with tempfile.TemporaryDirectory() as tmp:
        commit = export_before(args.baseline_ref, Path(tmp))
        env = os.environ | {"PYTHONPATH": f"{REPO}{os.pathsep}{tmp}"}
        options = [str(args.steps), str(args.batch_size), args.data_dir, args.device]
        out = subprocess.run(
            [sys.executable, "-c", PAIRED_TIMER, *options, str(args.threads)],
            env=env,
            cwd=tempfile.gettempdir(),
            capture_output=True,
            text=True,
        )
    if out.returncode:
        raise SystemExit(f"the paired timer failed:\n{out.stderr[-3000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    before, now = result["seconds"]["trainers_before"], result["seconds"]["trainers"]
    print(
        f"one process, no launcher (DCGAN-28, batch {args.batch_size}, {result['precision']}, "
        f"{args.threads} thread(s); {args.steps} steps of each, alternating step by step):"
    )
    for name, times in ((f"before ({args.baseline_ref} = {commit})", before), ("now", now)):
        print(
            f"  {name:26s} {args.batch_size / statistics.median(times):8.1f} images/s (median "
            f"step), {len(times) * args.batch_size / sum(times):8.1f} images/s (all steps)"
        )
    median = statistics.median(before) / statistics.median(now) - 1
    total = sum(before) / sum(now) - 1
    print(f"  now vs before: {100 * median:+.1f}% (median step), {100 * total:+.1f}% (all steps)")
    print(f"  accelerate imported in the one-process run: {result['accelerate_imported']}")


def scaling(args: argparse.Namespace) -> None:
    """Part 2: images/s of the global batch on 1, 2, ... processes (on CPUs each process gets
    cores / processes threads; one process also with a single thread, the per-process share
    of two)."""
    dataset = "mnist" if args.data_dir else "synthetic:4096"
    cores = os.cpu_count() or 1
    print(
        f"\ndata-parallel (DCGAN-28 on {dataset}, batch {args.batch_size} per process, "
        f"device {args.device}, {cores} CPU cores):"
    )
    runs = [(n, max(1, cores // n)) for n in args.processes]
    if args.device == "cpu" and 1 in args.processes and cores > 1:
        runs.insert(1, (1, 1))
    base = None
    for n, threads in runs:
        with tempfile.TemporaryDirectory() as tmp:
            command = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
            command += ["--nproc_per_node", str(n), "-m", "trainers.cli", "dcgan"]
            command += ["--dataset", dataset, "--batch-size", str(args.batch_size)]
            command += ["--steps", str(args.steps + 5), "--log-every", "1", "--device", args.device]
            command += ["--sample-every", "0", "--checkpoint-every", "0", "--out", f"{tmp}/run"]
            if args.data_dir:
                command += ["--data-dir", args.data_dir, "--no-download"]
            env = os.environ | {"OMP_NUM_THREADS": str(threads)}
            load = os.getloadavg()[0]
            subprocess.run(command, cwd=REPO, env=env, capture_output=True, check=True)
            log = [json.loads(x) for x in Path(tmp, "run", "log.jsonl").read_text().splitlines()]
        rate = statistics.median(r["images_per_s"] for r in log[5:])  # after the warm-up
        base = base or rate
        print(
            f"  {n} process{'es' if n > 1 else '  '} x {threads} thread{'s' if threads > 1 else ' '}"
            f" (global batch {n * args.batch_size:4d}): {rate:8.1f} images/s (x{rate / base:.2f}; "
            f"load average {load:.1f} at the start)"
        )
    print(
        "\nOn a GPU machine (one process per GPU):\n"
        "  accelerate launch --multi_gpu --num_processes 8 -m trainers.cli dcgan "
        "--dataset cifar10 --batch-size 128 --steps 10000\n"
        "  python benchmarks/distributed_throughput.py --device cuda --processes 1,2,4,8 "
        "--batch-size 256"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=40, help="timed steps (after 5 warm-up)")
    parser.add_argument("--batch-size", type=int, default=64, help="per process")
    parser.add_argument("--data-dir", default="", help="holds MNIST (else synthetic data)")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument(
        "--processes", default="1,2", help="comma-separated process counts (default 1,2)"
    )
    parser.add_argument(
        "--baseline-ref", default="HEAD", help="git ref whose trainers/ is 'before' (default HEAD)"
    )
    parser.add_argument("--threads", type=int, default=1, help="torch threads, overhead part")
    parser.add_argument("--skip-overhead", action="store_true")
    parser.add_argument("--skip-scaling", action="store_true")
    args = parser.parse_args()
    args.processes = [int(n) for n in args.processes.split(",")]
    args.data_dir = str(Path(args.data_dir).resolve()) if args.data_dir else ""
    print(f"load average before the runs: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    if not args.skip_overhead:
        overhead(args)
    if not args.skip_scaling:
        scaling(args)


if __name__ == "__main__":
    main()
