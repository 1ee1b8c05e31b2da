"""Getting a live run out: an inference checkpoint the Generate tab opens, and a GIF.

(Saving a *running* job goes through the job itself, between two steps:
:func:`explorer.live_training.job.save_checkpoint`.)"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from explorer.pictures import as_rgb, enlarge, font
from trainers import checkpoint as ckpt
from trainers.engine import GANTrainer
from trainers.images import write_gif
from trainers.pipeline import GANPipeline


def slug(text: str) -> str:
    """A safe folder name: letters, digits, ``._-`` (at most 60 characters)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")[:60] or "run"


def write_inference_checkpoint(trainer: GANTrainer, destination: Path, name: str) -> Path:
    """A checkpoint folder the Generate tab can open: G (and D, and the EMA G), meta.json, no
    optimiser state. Written atomically, then loaded once to be sure it opens."""
    weights = trainer.weights()  # G, D and the EMA G
    meta = trainer.meta()
    meta.pop("optimizer_param_groups", None)
    meta["name"] = name
    meta["source"] = "explorer live training"
    path = ckpt.save_checkpoint(destination, meta, weights)
    GANPipeline.from_pretrained(path)  # opens as the explorer's tabs will open it
    return path


def export_run_checkpoint(run_dir: Path, destination: Path, name: str) -> Path:
    """Copy a finished run's checkpoint without its optimiser state (the training thread is gone)."""
    from safetensors.torch import load_file

    source = ckpt.resolve_checkpoint_dir(run_dir / "checkpoint")
    meta = ckpt.read_meta(source)
    weights = load_file(str(source / ckpt.WEIGHTS_FILE))
    meta = {k: v for k, v in meta.items() if k not in ("format", "kind", "optimizer_param_groups")}
    meta["name"] = name
    meta["source"] = "explorer live training"
    path = ckpt.save_checkpoint(destination, meta, weights)
    GANPipeline.from_pretrained(path)  # opens as the explorer's tabs will open it
    return path


def make_gif(
    run_dir: str | Path,
    out: str | Path | None = None,
    max_frames: int = 120,
    frame_ms: int = 120,
    min_side: int = 256,
) -> Path:
    """An animated GIF of the fixed-noise grids across the whole run (all sessions of it).

    Frames are ``run_dir/samples/step_*.png``, thinned evenly to ``max_frames`` (the first and the
    last are always kept), enlarged to at least ``min_side`` pixels and captioned with the step.
    """
    run_dir = Path(run_dir)
    frames = sorted(
        (int(m.group(1)), p)
        for p in (run_dir / "samples").glob("step_*.png")
        if (m := re.fullmatch(r"step_(\d+)\.png", p.name))
    )
    if not frames:
        raise ValueError(f"{run_dir} has no sample grids yet: train for a few seconds first")
    if len(frames) > max_frames:
        keep = np.unique(np.linspace(0, len(frames) - 1, max_frames).round().astype(int))
        frames = [frames[i] for i in keep]
    pictures = []
    for step, path in frames:
        with Image.open(path) as img:
            grid = enlarge(as_rgb(np.asarray(img.convert("RGB"))), min_side)
        canvas = Image.new("RGB", (grid.shape[1], grid.shape[0] + 22), (255, 255, 255))
        canvas.paste(Image.fromarray(grid), (0, 22))
        ImageDraw.Draw(canvas).text((6, 4), f"step {step}", fill=(20, 20, 20), font=font(13))
        pictures.append(canvas)
    out = Path(out) if out is not None else run_dir / "samples.gif"
    durations = [frame_ms] * (len(pictures) - 1) + [1500]  # rest on the last frame
    return write_gif(pictures, out, durations_ms=durations)
