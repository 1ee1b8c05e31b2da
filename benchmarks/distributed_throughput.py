"""Data-parallel throughput: DCGAN-28 images/s on 1 and 2 (or more) processes, and what the
data-parallel support costs a plain one-process run.

    python benchmarks/distributed_throughput.py                       # this machine, CPU
    python benchmarks/distributed_throughput.py --data-dir ../shared/data --baseline-ref 25aa195
    python benchmarks/distributed_throughput.py --device cuda --processes 1,2,4,8 --batch-size 256

1. Overhead: one process without a launcher, ``GANTrainer.train_step`` images/s with this tree's
   trainers/ and with the trainers/ of ``--baseline-ref`` (``git archive`` into a temporary
   folder), in alternating rounds (the median of each; a shared machine is noisy). The goal is
   "no more than 3% slower"; the one-process path does not even import Accelerate.
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
import statistics
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

#: Times GANTrainer.train_step in a fresh interpreter (whichever trainers/ PYTHONPATH finds).
STEP_TIMER = r"""
import json, sys, time, torch
from trainers.data import load_dataset, synthetic_dataset
from trainers.engine import GANTrainer, TrainConfig
from trainers.registry import get_spec
steps, batch, data_dir, device = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
data = load_dataset("mnist", data_dir, download=False) if data_dir else synthetic_dataset(n=4096)
spec = get_spec("dcgan")
config = TrainConfig(model="dcgan", steps=steps + 5, batch_size=batch, sample_every=0,
                     checkpoint_every=0)
trainer = GANTrainer(spec, spec.make_config((1, 28, 28)), config, data, device)
for _ in range(5):  # warm-up: kernels, allocator
    trainer.train_step()
if device == "cuda":
    torch.cuda.synchronize()
start = time.perf_counter()
for _ in range(steps):
    trainer.train_step()
if device == "cuda":
    torch.cuda.synchronize()
print(json.dumps({"images_per_s": steps * batch / (time.perf_counter() - start),
                  "accelerate_imported": "accelerate" in sys.modules,
                  "precision": trainer.precision, "threads": torch.get_num_threads()}))
"""


def time_steps(pythonpath: Path, steps: int, batch: int, data_dir: str, device: str) -> dict:
    """One STEP_TIMER run with ``pythonpath`` first on the path."""
    env = os.environ | {"PYTHONPATH": str(pythonpath)}
    out = subprocess.run(
        [sys.executable, "-c", STEP_TIMER, str(steps), str(batch), data_dir, device],
        env=env,
        cwd=tempfile.gettempdir(),  # not the repo: PYTHONPATH alone decides which trainers/
        capture_output=True,
        text=True,
    )
    if out.returncode:
        raise SystemExit(f"step timer failed with {pythonpath}/trainers:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


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


def overhead(args: argparse.Namespace) -> None:
    """Part 1: one process, this tree against --baseline-ref."""
    with tempfile.TemporaryDirectory() as tmp:
        commit = export_trainers(args.baseline_ref, Path(tmp))
        now, before = [], []
        for _ in range(args.rounds):  # alternate, so drifting load hits both alike
            before.append(
                time_steps(Path(tmp), args.steps, args.batch_size, args.data_dir, args.device)
            )
            now.append(time_steps(REPO, args.steps, args.batch_size, args.data_dir, args.device))
    a = statistics.median(r["images_per_s"] for r in before)
    b = statistics.median(r["images_per_s"] for r in now)
    print(
        f"one process, no launcher (DCGAN-28, batch {args.batch_size}, {now[0]['precision']}, "
        f"{now[0]['threads']} threads, median of {args.rounds} rounds of {args.steps} steps):"
    )
    print(f"  before ({args.baseline_ref} = {commit}): {a:8.1f} images/s")
    print(f"  now (this tree):          {b:8.1f} images/s  ({100 * (b / a - 1):+.1f}%)")
    print(f"  accelerate imported in the one-process run: {now[0]['accelerate_imported']}")


def scaling(args: argparse.Namespace) -> None:
    """Part 2: images/s of the global batch on 1, 2, ... processes."""
    dataset = "mnist" if args.data_dir else "synthetic:4096"
    print(
        f"\ndata-parallel (DCGAN-28 on {dataset}, batch {args.batch_size} per process, "
        f"device {args.device}, {os.cpu_count()} CPU cores):"
    )
    base = None
    for n in args.processes:
        with tempfile.TemporaryDirectory() as tmp:
            command = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
            command += ["--nproc_per_node", str(n), "-m", "trainers.cli", "dcgan"]
            command += ["--dataset", dataset, "--batch-size", str(args.batch_size)]
            command += ["--steps", str(args.steps + 5), "--log-every", "1", "--device", args.device]
            command += ["--sample-every", "0", "--checkpoint-every", "0", "--out", f"{tmp}/run"]
            if args.data_dir:
                command += ["--data-dir", args.data_dir, "--no-download"]
            env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
            if n == 1:  # torchrun leaves one process all the cores, as a plain run has
                env["OMP_NUM_THREADS"] = str(os.cpu_count())
            subprocess.run(command, cwd=REPO, env=env, capture_output=True, check=True)
            log = [json.loads(x) for x in Path(tmp, "run", "log.jsonl").read_text().splitlines()]
        rate = statistics.median(r["images_per_s"] for r in log[5:])  # after the warm-up
        base = base or rate
        threads = os.cpu_count() if n == 1 else max(1, (os.cpu_count() or 1) // n)
        print(
            f"  {n} process{'es' if n > 1 else '  '} (global batch {n * args.batch_size:4d}, "
            f"{threads} thread{'s' if threads > 1 else ''} each): {rate:8.1f} images/s "
            f"(x{rate / base:.2f})"
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
    parser.add_argument("--rounds", type=int, default=3, help="alternating overhead rounds")
    parser.add_argument("--skip-overhead", action="store_true")
    args = parser.parse_args()
    args.processes = [int(n) for n in args.processes.split(",")]
    args.data_dir = str(Path(args.data_dir).resolve()) if args.data_dir else ""
    if not args.skip_overhead:
        overhead(args)
    scaling(args)


if __name__ == "__main__":
    main()
