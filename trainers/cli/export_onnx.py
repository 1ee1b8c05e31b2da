"""`gan-train export-onnx CKPT --out DIR`: G and D as ONNX files, for onnxruntime anywhere.

The explorer makes the same files by itself (cached by the checkpoint's content) for its browser
widget; this command writes them where you say, e.g. to run the model in your own web page.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from trainers.onnx_export import export_onnx
from trainers.pipeline import GANPipeline


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The export-onnx command's arguments."""
    parser.add_argument("checkpoint", help="a checkpoint folder, a run folder or hf://OWNER/NAME")
    parser.add_argument(
        "--out", type=Path, required=True, help="the folder to write G.onnx, D.onnx, export.json"
    )
    parser.add_argument(
        "--no-ema", action="store_true", help="export the raw G even when an EMA G was kept"
    )


def run_from_args(args: argparse.Namespace) -> int:
    """Export, check against PyTorch (with onnxruntime), print what was written."""
    pipe = GANPipeline.from_pretrained(args.checkpoint, use_ema=not args.no_ema)
    export = export_onnx(pipe, args.out)
    difference = export.info["max_abs_difference_from_pytorch"]
    checked = f"max |ONNX - PyTorch| {difference:.1e}" if difference is not None else "unchecked"
    files = [export.generator, export.discriminator]
    sizes = ", ".join(f"{f.name} {f.stat().st_size / 1e6:.1f} MB" for f in files if f is not None)
    print(f"exported {pipe.name} -> {args.out}: {sizes} ({checked})")
    return 0
