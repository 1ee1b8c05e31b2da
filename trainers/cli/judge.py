"""`gan-train judge`: train the held-out judge of a data set (see trainers/judge.py).

gan-train judge --dataset mnist --data-dir ../shared/data
gan-train judge --dataset cifar10 --data-dir ../shared/data --epochs 15 --threads 2
gan-train judge --dataset cifar10 --data-dir ../shared/data --resume   # after an interruption
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

import torch

from trainers.data import load_dataset
from trainers.judge import DEFAULT_EPOCHS, TrainSettings, build_judge, judge_dir_for


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", required=True, help="mnist, fashion-mnist or cifar10")
    parser.add_argument(
        "--data-dir", default=None, help="where the data lives, e.g. ../shared/data"
    )
    parser.add_argument("--no-download", action="store_true", help="never try to download data")
    parser.add_argument(
        "--epochs",
        type=float,
        help=f"passes over the training set (default {DEFAULT_EPOCHS}; others 5)",
    )
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=3e-3, help="peak AdamW learning rate")
    parser.add_argument(
        "--seed", type=int, default=1234, help="differs from the reference classifier's 0"
    )
    parser.add_argument(
        "--out", type=Path, help="judge folder (default pretrained/judges/<dataset>)"
    )
    parser.add_argument(
        "--run-dir", type=Path, help="folder for resumable snapshots (default runs/judge-<dataset>)"
    )
    parser.add_argument(
        "--resume", action="store_true", help="continue from the --run-dir snapshot"
    )
    parser.add_argument(
        "--threads", type=int, default=1, help="CPU threads (default 1: the CPU is shared)"
    )
    parser.add_argument("--image-size", type=int, help="side for folder:PATH data (default 64)")


def _command(args: argparse.Namespace, epochs: float) -> str:
    """The command line that repeats this run (every setting that affects the judge)."""
    words = ["gan-train", "judge", "--dataset", args.dataset]
    if args.data_dir is not None:
        words += ["--data-dir", str(args.data_dir)]
    words += ["--epochs", f"{epochs:g}", "--seed", str(args.seed)]
    if args.batch_size != 128 or args.lr != 3e-3:
        words += ["--batch-size", str(args.batch_size), "--lr", f"{args.lr:g}"]
    if args.image_size is not None:
        words += ["--image-size", str(args.image_size)]
    words += ["--threads", str(args.threads)]
    if args.out is not None:
        words += ["--out", str(args.out)]
    return shlex.join(words) + ("  # resumed with --resume" if args.resume else "")


def run_from_args(args: argparse.Namespace) -> int:
    torch.set_num_threads(max(1, args.threads))
    load = dict(download=not args.no_download, image_size=args.image_size)
    train = load_dataset(args.dataset, args.data_dir, train=True, **load)
    test = load_dataset(args.dataset, args.data_dir, train=False, **load)
    epochs = args.epochs if args.epochs is not None else DEFAULT_EPOCHS.get(args.dataset, 5.0)
    settings = TrainSettings(epochs=epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed)
    out = args.out or judge_dir_for(args.dataset)
    run = args.run_dir or Path("runs") / f"judge-{args.dataset.replace(':', '-').replace('/', '-')}"
    command = _command(args, epochs)
    meta = build_judge(
        train,
        test,
        out,
        run,
        settings,
        resume=args.resume,
        command=command,
        log=lambda line: print(line, file=sys.stderr, flush=True),
    )
    print(
        f"judge for {args.dataset}: test accuracy {meta['test_accuracy']:.4f} on "
        f"{meta['test_images']} images, judge-FID floor {meta['fid_floor_train_vs_test']}, "
        f"{meta['train_seconds']:.0f} s -> {out}"
    )
    return 0
