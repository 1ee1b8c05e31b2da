"""Shared fixtures: tiny models, tiny synthetic data and tiny trained runs.

Everything here is sized so the whole suite runs in well under a minute on a busy 2-core CPU:
8x8 grayscale images, 2 classes, batch 4, a handful of steps, fp32 (exact and repeatable).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch

from trainers.data import ImageData, synthetic_dataset
from trainers.device import torch_threads
from trainers.engine import GANTrainer, TrainConfig
from trainers.loop import JsonlLogger
from trainers.registry import families, get_spec

IMAGE_SHAPE = (1, 8, 8)
NUM_CLASSES = 2
#: Every family that samples from noise, as the registry lists them (a new one is tested too).
FAMILIES = tuple(spec.name for spec in families(trainer="gan"))

# Small enough to train in milliseconds, but every layer type of the real family is present
# (a family without an entry trains at its own default size).
TINY_OVERRIDES: dict[str, dict[str, Any]] = {
    "mlp-gan": {"latent_dim": 8, "g_hidden": (16,), "d_hidden": (16,)},
    "dcgan": {"latent_dim": 8, "channels": (8, 4)},
    "cgan": {"latent_dim": 8, "channels": (8, 4), "embed_dim": 4},
}

TRAIN_DEFAULTS: dict[str, Any] = {
    "steps": 4,
    "batch_size": 4,
    "precision": "fp32",
    "sample_every": 0,
    "checkpoint_every": 0,
    "log_every": 1,
    "num_samples": 8,
}


def tiny_data(n: int = 32, seed: int = 0) -> ImageData:
    return synthetic_dataset(IMAGE_SHAPE, num_classes=NUM_CLASSES, n=n, seed=seed)


def build_trainer(
    model: str = "mlp-gan",
    out_dir: str | Path | None = None,
    data: ImageData | None = None,
    model_overrides: dict[str, Any] | None = None,
    **train: Any,
) -> GANTrainer:
    """A GANTrainer for a tiny version of ``model`` on tiny synthetic data."""
    spec = get_spec(model)
    data = data if data is not None else tiny_data()
    overrides = {**TINY_OVERRIDES.get(model, {}), **(model_overrides or {})}
    model_config = spec.make_config(data.image_shape, len(data.class_names), **overrides)
    config = TrainConfig(model=model, dataset=data.name, **{**TRAIN_DEFAULTS, **train})
    return GANTrainer(spec, model_config, config, data, "cpu", out_dir, command="pytest")


def train_run(out_dir: Path, model: str = "mlp-gan", **train: Any) -> GANTrainer:
    """Train a tiny run into ``out_dir`` (checkpoint/ and log.jsonl), return the trainer."""
    trainer = build_trainer(model, out_dir=out_dir, **train)
    trainer.run(JsonlLogger(out_dir / "log.jsonl", trainer.config.log_every))
    return trainer


@pytest.fixture(autouse=True)
def process_temp_folders_restored():
    """A Streamlit app run in-process (AppTest) points Python's and Gradio's temporary folders
    at its own server folder (explorer.scratch.install): put them back after each test, so
    no test sees another's."""
    before = tempfile.tempdir, os.environ.get("GRADIO_TEMP_DIR")
    yield
    tempfile.tempdir = before[0]
    if before[1] is None:
        os.environ.pop("GRADIO_TEMP_DIR", None)
    else:
        os.environ["GRADIO_TEMP_DIR"] = before[1]


@pytest.fixture(scope="module")
def one_torch_thread():
    """One intra-op thread, as the app uses (much faster on a busy 2-core machine). Use it with
    ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``."""
    with torch_threads(1):
        yield


@pytest.fixture
def make_trainer() -> Callable[..., GANTrainer]:
    return build_trainer


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """``trained_run(model, **train)``: a finished tiny run folder, trained once per session.

    The folder is shared between tests: treat it as read-only, or copy it with ``copy_run``.
    """
    cache: dict[tuple, Path] = {}

    def get(model: str = "mlp-gan", **train: Any) -> Path:
        key = (model, tuple(sorted(train.items())))
        if key not in cache:
            out = tmp_path_factory.mktemp(f"run-{model}")
            train_run(out, model, **train)
            cache[key] = out
        return cache[key]

    return get


@pytest.fixture
def copy_run(tmp_path: Path) -> Callable[[Path], Path]:
    """Copy a shared run folder into this test's tmp_path so the test may change it."""

    def copy(run: Path) -> Path:
        target = tmp_path / f"copy-{run.name}"
        shutil.copytree(run, target)
        return target

    return copy


def state_equal(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)
