"""`gan-train sample`: write a checkpoint's samples to an .npz or a folder of PNGs.

    gan-train sample pretrained/cgan-mnist --n 64 --seed 3 --label 7 --truncation 0.7 --out s.npz

The images are exactly ``GANPipeline.from_pretrained(CKPT)(n=N, seed=S,
labels=pipe.class_labels(N, L), truncation=PSI).images``: the explorer's Generate tab shows
the same pixels for the same checkpoint, seed, n, class and ψ.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from trainers.device import DEVICES, pick_device
from trainers.pipeline import GANPipeline


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The sample command's arguments."""
    parser.add_argument(
        "checkpoint", help="a checkpoint folder, a run folder, or hf://OWNER/NAME[@REV]"
    )
    parser.add_argument("--n", type=int, default=64, help="number of images")
    parser.add_argument(
        "--label", type=int, help="cGAN: the class to ask for (default: cycle through classes)"
    )
    parser.add_argument("--seed", type=int, default=0, help="the explorer's seed (same images)")
    parser.add_argument(
        "--truncation",
        type=float,
        default=1.0,
        help="truncation ψ: z -> ψ·z, shrinking towards the mean latent (1 = off, as in the app)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        help="FILE.npz (uint8 images (N,H,W,C), labels) or a folder for PNGs",
    )
    parser.add_argument("--device", default="auto", choices=DEVICES)


def write_samples(out: Path, images: np.ndarray, labels: np.ndarray | None) -> Path:
    """``out.npz`` with ``images`` (and ``labels``), or ``out/sample_00000[_labelK].png``..."""
    if out.suffix == ".npz":
        out.parent.mkdir(parents=True, exist_ok=True)
        arrays = {"images": images} | ({"labels": labels} if labels is not None else {})
        np.savez_compressed(out, **arrays)
        return out
    from PIL import Image

    out.mkdir(parents=True, exist_ok=True)
    for i, image in enumerate(images):
        suffix = f"_label{labels[i]}" if labels is not None else ""
        Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image).save(
            out / f"sample_{i:05d}{suffix}.png"
        )
    return out


def run_from_args(args: argparse.Namespace) -> int:
    """Load the pipeline, draw, write; errors (bad label, not a checkpoint) reach ``main``."""
    pipe = GANPipeline.from_pretrained(args.checkpoint, device=pick_device(args.device))
    labels = pipe.class_labels(args.n, args.label)
    out = pipe(
        n=args.n, seed=args.seed, labels=labels, truncation=args.truncation, with_scores=False
    )
    write_samples(args.out, out.images, out.labels.numpy() if out.labels is not None else None)
    print(f"wrote {len(out.images)} images {out.images.shape[1:]} to {args.out}")
    return 0
