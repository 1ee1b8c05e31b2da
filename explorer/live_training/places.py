"""Where live runs and saved checkpoints go, and which device trains."""

from __future__ import annotations

import os
from pathlib import Path

import torch

CHECKPOINTS_ENV = "GAN_EXPLORER_CHECKPOINTS"
RUNS_ENV = "GAN_EXPLORER_LIVE_RUNS"
UPLOADS_FOLDER = "uploads"  # inside the live-runs folder: visitors' training pictures


def default_checkpoint_dir() -> Path:
    """Where "Save checkpoint" writes: ``$GAN_EXPLORER_CHECKPOINTS`` or ~/.cache/gan-explorer/checkpoints.
    Pass it to the explorer as ``--checkpoint-dir`` so the Generate tab lists what you saved."""
    return Path(
        os.environ.get(CHECKPOINTS_ENV) or Path.home() / ".cache" / "gan-explorer" / "checkpoints"
    )


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
