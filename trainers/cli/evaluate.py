"""`gan-train evaluate` and `gan-train classifier`: the arguments and the printing; the
measuring itself is :mod:`trainers.evaluate`.

    gan-train classifier --dataset mnist --data-dir ../shared/data --out pretrained/classifiers/mnist
    gan-train evaluate pretrained/dcgan-mnist --data-dir ../shared/data --n 10000
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

from trainers.checkpoint import META_FILE
from trainers.data import load_dataset
from trainers.evaluate import (
    classifier_dir_for,
    evaluate_checkpoint,
    save_classifier,
    train_classifier,
    write_sample_grid,
)
from trainers.judge_report import format_per_class_table


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("checkpoint", type=Path, nargs="+", help="checkpoint folders to evaluate")
    parser.add_argument(
        "--data-dir", default=None, help="where the data set lives (e.g. ../shared/data)"
    )
    parser.add_argument("--n", type=int, default=10_000, help="generated samples per checkpoint")
    parser.add_argument(
        "--classifier",
        type=Path,
        help="reference classifier folder (default pretrained/classifiers/<dataset>)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--grid", type=Path, help="folder to write a sample grid PNG per checkpoint"
    )
    parser.add_argument(
        "--write-meta", action="store_true", help="store the figures in each checkpoint's meta.json"
    )


def run_from_args(args: argparse.Namespace) -> int:
    for path in args.checkpoint:
        result = evaluate_checkpoint(path, args.data_dir, args.n, args.classifier, args.seed)
        print(json.dumps(result, indent=2))
        for who, report in (("reference classifier", result), ("judge", result.get("judge", {}))):
            if "per_class" in report:
                print(f"\n{Path(result['checkpoint']).name}, read by the {who}:")
                print(format_per_class_table(report))
        if result.get("code_categories"):  # InfoGAN: what each of G's own categories draws
            cells = ", ".join(
                f"{row['category']}: {row['read_as']} {row['share']:.0%}"
                for row in result["code_categories"]
            )
            print(f"\nInfoGAN categories, read by the reference classifier: {cells}")
        if args.grid:
            write_sample_grid(path, args.grid / f"{Path(result['checkpoint']).name}.png")
        if args.write_meta:
            meta_path = Path(result["checkpoint"]) / META_FILE
            meta = json.loads(meta_path.read_text())
            meta["metrics"] = {
                k: v for k, v in result.items() if k not in ("checkpoint", "model", "dataset")
            }
            tmp = meta_path.with_suffix(".json.tmp")
            tmp.write_text(json.dumps(meta, indent=2) + "\n")
            tmp.replace(meta_path)
    return 0


def add_classifier_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", required=True, help="mnist, fashion-mnist or cifar10")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--epochs", type=float, default=3)
    parser.add_argument("--out", type=Path, help="default pretrained/classifiers/<dataset>")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--image-size", type=int, help="side for folder:PATH data (default 64)")


def run_classifier_from_args(args: argparse.Namespace) -> int:
    train = load_dataset(args.dataset, args.data_dir, train=True, image_size=args.image_size)
    test = load_dataset(args.dataset, args.data_dir, train=False, image_size=args.image_size)
    start = time.perf_counter()
    model, acc = train_classifier(train, test, epochs=args.epochs, seed=args.seed)
    out = args.out or classifier_dir_for(args.dataset)
    save_classifier(
        model,
        out,
        {
            "dataset": args.dataset,
            "class_names": train.class_names,
            "test_accuracy": round(acc, 4),
            "test_images": len(test),
            "epochs": args.epochs,
            "train_seconds": round(time.perf_counter() - start, 1),
            "command": "gan-train " + shlex.join(sys.argv[1:]),
        },
    )
    print(
        f"reference classifier for {args.dataset}: test accuracy {acc:.4f} on {len(test)} images -> {out}"
    )
    return 0
