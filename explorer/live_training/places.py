"""Where live runs and saved checkpoints go, and which device trains."""

from __future__ import annotations

import os
from pathlib import Path

import torch

#: Where "Save checkpoint" writes. (Not ``GAN_EXPLORER_CHECKPOINTS``: that one lists the extra
#: checkpoints, hf:// or folders, an explorer shows; see trainers.hub_pull.)
SAVE_ENV = "GAN_EXPLORER_SAVE_DIR"
RUNS_ENV = "GAN_EXPLORER_LIVE_RUNS"
UPLOADS_FOLDER = "uploads"  # inside the live-runs folder: visitors' training pictures


def default_checkpoint_dir() -> Path:
    """Where "Save checkpoint" writes: ``$GAN_EXPLORER_SAVE_DIR`` or ~/.cache/gan-explorer/checkpoints.
    Pass it to the explorer as ``--checkpoint-dir`` so the Generate tab lists what you saved."""
    return Path(os.environ.get(SAVE_ENV) or Path.home() / ".cache" / "gan-explorer" / "checkpoints")


def default_runs_dir() -> Path:
    """Where live runs keep their log, sample grids and resumable checkpoint:
    ``$GAN_EXPLORER_LIVE_RUNS`` or ~/.cache/gan-explorer/live-runs."""
    return Path(os.environ.get(RUNS_ENV) or Path.home() / ".cache" / "gan-explorer" / "live-runs")


def describe_device(device: torch.device) -> str:
    """ "CUDA GPU (NVIDIA H100 80GB HBM3)", "Apple MPS GPU" or "CPU (2 threads)"."""
    if device.type == "cuda":
        return f"CUDA GPU ({torch.cuda.get_device_name(device)})"
    if device.type == "mps":
        return "Apple MPS GPU"
    return f"CPU ({torch.get_num_threads()} threads)"
