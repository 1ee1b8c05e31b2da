"""`gan-train export RUN OUT [--half]`: an inference-only copy of a run's checkpoint."""

from __future__ import annotations

import argparse
from pathlib import Path

from trainers.checkpoint import (
    WEIGHTS_FILE,
    load_checkpoint,
    read_meta,
    read_safetensors,
    resolve_checkpoint_dir,
    save_checkpoint,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The export command's arguments."""
    parser.add_argument("checkpoint", type=Path, help="a run folder or its checkpoint folder")
    parser.add_argument("out", type=Path, help="the folder to write (meta.json + weights)")
    parser.add_argument(
        "--half", action="store_true", help="store weights as float16 (half the size)"
    )
    parser.add_argument("--name", help="display name stored in meta.json")
    parser.add_argument(
        "--no-ema", action="store_true", help="ship the raw G even when an EMA G was kept"
    )


def run_from_args(args: argparse.Namespace) -> int:
    """Inference-only copy: the EMA generator (when there is one) becomes G; no optimiser state."""
    source = resolve_checkpoint_dir(args.checkpoint)
    meta = read_meta(source)
    weights = read_safetensors(source / WEIGHTS_FILE)
    has_ema = any(k.startswith("G_ema.") for k in weights)
    g_prefix = "G_ema." if has_ema and not args.no_ema else "G."
    exported = {"G." + k[len(g_prefix) :]: v for k, v in weights.items() if k.startswith(g_prefix)}
    exported |= {k: v for k, v in weights.items() if k.startswith("D.")}
    if args.half:
        exported = {k: v.half() if v.is_floating_point() else v for k, v in exported.items()}
    meta = {k: v for k, v in meta.items() if k not in ("format", "kind", "optimizer_param_groups")}
    meta["exported_from_ema"] = g_prefix == "G_ema."
    meta["weights_dtype"] = "float16" if args.half else "float32"
    if args.name:
        meta["name"] = args.name
    save_checkpoint(args.out, meta, exported)
    load_checkpoint(args.out)  # refuse to leave behind something we cannot read
    print(f"exported {source} -> {args.out}")
    return 0
