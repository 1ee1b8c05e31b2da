"""Training throughput: our engine against the usual tutorial loop, same model, same run.

    python benchmarks/train_throughput.py --data-dir ../shared/data --steps 60

The tutorial loop is the PyTorch DCGAN tutorial's structure: torchvision FashionMNIST with
ToTensor + Normalize, a DataLoader (batch 128, shuffle, 2 workers as in the tutorial), a Sigmoid
on D and nn.BCELoss, fp32. Ours: uint8 tensors in memory, bf16 autocast + channels_last on
CPUs with AVX-512 BF16, D frozen during G's step. Both train DCGAN-28 from trainers.registry.
Prints images/s for each and the ratio (goal: ours >= 1.5x), then images/s for each family.
"""

from __future__ import annotations

import argparse
import time

import torch
from torch import nn

from trainers.data import load_dataset
from trainers.engine import GANTrainer, TrainConfig
from trainers.registry import get_spec


def tutorial_loop(data_dir: str, steps: int, batch_size: int, workers: int) -> float:
    """images/s of the tutorial-style loop (after 5 warm-up steps)."""
    import torchvision.transforms as T
    from torchvision.datasets import FashionMNIST

    dataset = FashionMNIST(
        data_dir,
        train=True,
        download=False,
        transform=T.Compose([T.ToTensor(), T.Normalize((0.5,), (0.5,))]),
    )
    loader = torch.utils.data.DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=True,
        num_workers=workers,
        drop_last=True,
        persistent_workers=workers > 0,
    )
    spec = get_spec("dcgan")
    config = spec.make_config((1, 28, 28))
    torch.manual_seed(0)
    net_g, net_d = spec.build(config)
    criterion = nn.BCELoss()
    opt_d = torch.optim.Adam(net_d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_g = torch.optim.Adam(net_g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    sigmoid = nn.Sigmoid()
    done, start = 0, None
    while done < steps + 5:
        for real, _ in loader:
            if done == 5:
                start = time.perf_counter()
            b = real.size(0)
            # (1) Update D: maximize log(D(x)) + log(1 - D(G(z)))
            net_d.zero_grad()
            output = sigmoid(net_d(real))
            err_d_real = criterion(output, torch.ones(b))
            err_d_real.backward()
            fake = net_g(torch.randn(b, config.latent_dim))
            output = sigmoid(net_d(fake.detach()))
            err_d_fake = criterion(output, torch.zeros(b))
            err_d_fake.backward()
            opt_d.step()
            # (2) Update G: maximize log(D(G(z)))
            net_g.zero_grad()
            output = sigmoid(net_d(fake))
            err_g = criterion(output, torch.ones(b))
            err_g.backward()
            opt_g.step()
            done += 1
            if done >= steps + 5:
                break
    return steps * batch_size / (time.perf_counter() - start)


def engine_throughput(
    model: str, dataset: str, data_dir: str, steps: int, batch_size: int, precision: str = "auto"
) -> tuple[float, str]:
    """images/s of our engine (after 5 warm-up steps) and the precision it used."""
    data = load_dataset(dataset, data_dir, download=False)
    spec = get_spec(model)
    config = spec.make_config(data.image_shape, len(data.class_names))
    trainer = GANTrainer(
        spec,
        config,
        TrainConfig(model=model, steps=steps + 5, batch_size=batch_size, precision=precision),
        data,
    )
    trainer._run_started = time.perf_counter()
    for _ in range(5):
        trainer.train_step()
    start = time.perf_counter()
    for _ in range(steps):
        trainer.train_step()
    return steps * batch_size / (time.perf_counter() - start), trainer.precision


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument(
        "--workers", type=int, default=2, help="tutorial DataLoader workers (tutorial: 2)"
    )
    args = parser.parse_args()
    print(
        f"torch {torch.__version__}, threads {torch.get_num_threads()}, batch {args.batch_size}, {args.steps} timed steps"
    )
    tutorial = tutorial_loop(args.data_dir, args.steps, args.batch_size, args.workers)
    ours_fp32, _ = engine_throughput(
        "dcgan", "fashion-mnist", args.data_dir, args.steps, args.batch_size, "fp32"
    )
    ours, precision = engine_throughput(
        "dcgan", "fashion-mnist", args.data_dir, args.steps, args.batch_size
    )
    print(f"DCGAN-28 Fashion-MNIST  tutorial loop : {tutorial:8.1f} img/s")
    print(
        f"DCGAN-28 Fashion-MNIST  ours fp32     : {ours_fp32:8.1f} img/s  ({ours_fp32 / tutorial:.2f}x)"
    )
    print(
        f"DCGAN-28 Fashion-MNIST  ours {precision:<9}: {ours:8.1f} img/s  ({ours / tutorial:.2f}x)  goal >= 1.5x"
    )
    for model, dataset in [
        ("mlp-gan", "mnist"),
        ("dcgan", "mnist"),
        ("cgan", "mnist"),
        ("dcgan", "cifar10"),
    ]:
        rate, precision = engine_throughput(
            model, dataset, args.data_dir, max(10, args.steps // 3), args.batch_size
        )
        print(f"{model:8s} {dataset:14s} ours ({precision}): {rate:8.1f} img/s")


if __name__ == "__main__":
    main()
