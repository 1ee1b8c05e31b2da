"""CycleGAN speed on the CPU: inference for one 256x256 image, and training seconds per step.

    OMP_NUM_THREADS=1 python benchmarks/cyclegan_speed.py --threads 1
    python benchmarks/cyclegan_speed.py --checkpoint pretrained/cyclegan-horse2zebra --runs 50 --train-steps 20

Inference: the shipped checkpoint's generator (G_AB, its architecture and weights, in float32)
translates one (1, 3, 256, 256) image; we report the median and p95 over ``--runs`` timed runs
after 3 warm-up runs, in fp32 and with bf16 autocast, each with and without channels_last.
Goal: p95 <= 300 ms.

Training: ``CycleGANTrainer.train_step`` (G_AB, G_BA, D_A, D_B, pool, augmentation) on random
images at the checkpoint's training size, batch 1, in fp32 and in bf16 (+ channels_last, as the
trainer uses on CPUs with AVX-512 BF16); seconds per step = mean over ``--train-steps`` after 2
warm-up steps. On a shared CPU the numbers move with the other processes' load: run it twice.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import time
from pathlib import Path

import torch

from trainers.checkpoint import read_meta
from trainers.cyclegan import CycleGANTrainConfig, CycleGANTrainer, load_cyclegan
from trainers.models.cyclegan import CycleGANConfig, CycleGANGenerators

DEFAULT_CHECKPOINT = Path(__file__).resolve().parents[1] / "pretrained" / "cyclegan-horse2zebra"


def p95(values: list[float]) -> float:
    """The 95th percentile (nearest rank): the time 95% of runs stay under."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * len(ordered))) - 1)]


@torch.no_grad()
def time_inference(
    generators: CycleGANGenerators, size: int, runs: int, precision: str, channels_last: bool
) -> dict[str, float]:
    """Milliseconds for G_AB on one (1, 3, size, size) image: median and p95 over ``runs``."""
    net = generators.a2b.eval()
    x = torch.rand(1, 3, size, size) * 2 - 1
    if channels_last:
        net = net.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    else:
        net = net.to(memory_format=torch.contiguous_format)
    ctx = (
        (lambda: torch.autocast("cpu", dtype=torch.bfloat16))
        if precision == "bf16"
        else contextlib.nullcontext
    )
    times = []
    for i in range(runs + 3):
        start = time.perf_counter()
        with ctx():
            net(x)
        if i >= 3:  # warm-up runs pick kernels and allocate buffers
            times.append((time.perf_counter() - start) * 1000)
    return {"median_ms": round(statistics.median(times), 1), "p95_ms": round(p95(times), 1)}


def time_training(config: CycleGANConfig, steps: int, precision: str) -> float:
    """Mean seconds per CycleGAN training step (batch 1) on random images at the config's size."""
    load = int(round(config.image_size * 1.125))
    gen = torch.Generator().manual_seed(0)
    images_a = torch.randint(0, 256, (64, 3, load, load), dtype=torch.uint8, generator=gen)
    images_b = torch.randint(0, 256, (64, 3, load, load), dtype=torch.uint8, generator=gen)
    train = CycleGANTrainConfig(
        steps=steps + 2, precision=precision, sample_every=0, checkpoint_every=0
    )
    trainer = CycleGANTrainer(config, train, images_a, images_b)
    for _ in range(2):
        trainer.train_step()
    start = time.perf_counter()
    for _ in range(steps):
        trainer.train_step()
    return (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--checkpoint", type=Path, default=DEFAULT_CHECKPOINT, help="CycleGAN checkpoint"
    )
    parser.add_argument("--size", type=int, default=256, help="inference image side (default 256)")
    parser.add_argument("--runs", type=int, default=50, help="timed inference runs")
    parser.add_argument(
        "--train-steps", type=int, default=10, help="timed training steps (0 = skip)"
    )
    parser.add_argument(
        "--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)"
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    if (args.checkpoint / "meta.json").is_file():
        loaded = load_cyclegan(args.checkpoint)
        generators, config = loaded.generator, loaded.config
        source = f"{args.checkpoint} (step {read_meta(args.checkpoint).get('step')})"
    else:  # no shipped checkpoint yet: same architecture, random weights (same speed)
        config = CycleGANConfig(image_size=64, ngf=32, n_residual_blocks=6)
        generators, source = CycleGANGenerators(config).eval(), "random weights, ngf 32, 6 blocks"
    params = sum(p.numel() for p in generators.a2b.parameters())
    print(
        f"model: {source}; G_AB has {params / 1e6:.2f} M parameters; threads {torch.get_num_threads()}"
    )
    results: dict[str, object] = {
        "checkpoint": source,
        "threads": torch.get_num_threads(),
        "inference": {},
    }
    for precision in ("fp32", "bf16"):
        for channels_last in (False, True):
            name = f"{precision}{' + channels_last' if channels_last else ''}"
            r = time_inference(generators, args.size, args.runs, precision, channels_last)
            results["inference"][name] = r  # type: ignore[index]
            verdict = "meets" if r["p95_ms"] <= 300 else "misses"
            print(
                f"inference {args.size}x{args.size} {name:<22} median {r['median_ms']:7.1f} ms   "
                f"p95 {r['p95_ms']:7.1f} ms  ({verdict} the 300 ms goal)"
            )
    if args.train_steps:
        results["train_s_per_step"] = {}
        for precision in ("fp32", "bf16"):
            seconds = time_training(config, args.train_steps, precision)
            results["train_s_per_step"][precision] = round(seconds, 3)  # type: ignore[index]
            print(
                f"training {config.image_size} px, ngf {config.ngf}, {config.n_residual_blocks} blocks, batch 1, "
                f"{precision}: {seconds:.3f} s/step"
            )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
