"""What every trainer here shares: the run loop, checkpoint bookkeeping and the run folder.

``TrainingLoop`` is subclassed by ``GANTrainer`` (trainers/engine.py) and ``CycleGANTrainer``
(trainers/cyclegan/). The callbacks below write a run folder from the event stream:
``log.jsonl`` (JsonlLogger) and ``samples/step_000500.png`` (SampleSaver); ``options.json``
is written once at the start (write_run_options).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from trainers import checkpoint as ckpt
from trainers.distributed import ChecksumLog, Distributed
from trainers.events import Callback, Checkpointed, Finished, Samples, Step
from trainers.registry import config_to_dict


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite. The last checkpoint on disk is kept untouched."""


class TrainingLoop:
    """What every trainer here shares: the run loop and the checkpoint bookkeeping.

    The loop: one ``train_step()``, then every ``sample_every`` steps a ``Samples`` grid and every
    ``checkpoint_every`` steps a checkpoint; Ctrl-C, the stop event and ``config.max_seconds``
    (when the config has it) end it with a save. A subclass (``GANTrainer`` in
    trainers/engine.py, ``CycleGANTrainer`` in trainers/cyclegan/trainer.py) provides
    ``train_step``, ``sample_grid``, ``meta`` and ``players`` (the networks to save under their prefixes), and sets
    ``config``, ``model_config``, ``out_dir``, ``device``, ``precision``, ``command``, ``opt_g``,
    ``opt_d``, ``step``, ``batches_drawn`` and ``wall_time_before``, and ``dist`` when it trains
    on several processes (trainers/distributed.py): then every process runs this loop in step,
    and only the main process samples and saves.
    """

    config: Any
    model_config: Any
    out_dir: Path | None
    device: torch.device
    precision: str
    command: str
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    step: int
    batches_drawn: int  # GLOBAL batches drawn (world-size independent, see common_meta)
    wall_time_before: float
    dist: Distributed = Distributed()  # one process unless a trainer sets it

    def train_step(self) -> Step:
        raise NotImplementedError

    def sample_grid(self) -> np.ndarray:
        raise NotImplementedError

    def players(self) -> dict[str, nn.Module]:
        """The networks a checkpoint holds, by weight prefix, e.g. {"G": ..., "D": ...}."""
        raise NotImplementedError

    def meta(self) -> dict[str, Any]:
        raise NotImplementedError

    @property
    def epoch(self) -> float:
        raise NotImplementedError

    # --- the loop -------------------------------------------------------------------------------

    def run(
        self, callback: Callback | None = None, stop: threading.Event | None = None
    ) -> Finished:
        """Train until ``config.steps``, until ``stop`` is set or until ``config.max_seconds`` of
        training in this session have passed (both checked between steps); then save."""
        callback = callback or (lambda event: None)
        cfg = self.config
        dist = self.dist
        writes = self.out_dir is not None and dist.is_main  # only the main process writes files
        checksums = ChecksumLog.from_environment(dist.rank)  # None unless debugging
        self._run_started = time.perf_counter()
        max_seconds = getattr(cfg, "max_seconds", 0.0)
        reason, message = "done", ""
        try:
            while self.step < cfg.steps:
                if stop is not None and stop.is_set():
                    reason = "stopped"
                elif max_seconds and time.perf_counter() - self._run_started >= max_seconds:
                    reason, message = "stopped", f"time budget of {max_seconds:g} s reached"
                # Several processes must stop at the same step, or the others would wait forever
                # in the next all-reduce: stop everywhere when one process wants to (an
                # all-reduce per step, only when there is a stop event or a time budget).
                if dist.enabled and (stop is not None or max_seconds):
                    if dist.any(reason == "stopped") and reason != "stopped":
                        reason, message = "stopped", "another process stopped"
                if reason == "stopped":
                    break
                callback(self.train_step())
                if checksums is not None:
                    checksums.write(self.step, self.players())
                if dist.is_main and cfg.sample_every and self.step % cfg.sample_every == 0:
                    callback(Samples(self.step, self.sample_grid()))
                if writes and cfg.checkpoint_every and self.step % cfg.checkpoint_every == 0:
                    # no barrier: the others go on and wait in the next all-reduce
                    callback(Checkpointed(self.step, str(self.save())))
        except KeyboardInterrupt:  # Ctrl-C: keep what was learned, then stop
            if writes and self.step > 0:
                callback(Checkpointed(self.step, str(self.save())))
            callback(Finished(self.step, "stopped", "interrupted"))
            raise
        except TrainingDiverged as error:
            callback(Finished(self.step, "error", str(error)))
            raise
        if writes and self.step > 0:
            callback(Samples(self.step, self.sample_grid()))
            callback(Checkpointed(self.step, str(self.save())))
        dist.barrier()  # the others return once the final checkpoint is on disk
        finished = Finished(self.step, reason, message)
        callback(finished)
        return finished

    # --- checkpoints ----------------------------------------------------------------------------

    def wall_time(self) -> float:
        """Seconds of training in this run, earlier (resumed) sessions included."""
        started = getattr(self, "_run_started", None)
        return self.wall_time_before + (time.perf_counter() - started if started else 0.0)

    def common_meta(
        self,
        model: str,
        dataset: str,
        image_shape: list[int],
        class_names: list[str],
        latent_dim: int | None,
    ) -> dict[str, Any]:
        """The meta.json fields every checkpoint has: enough to rebuild, describe and resume it."""
        return {
            "model": model,
            "config": config_to_dict(self.model_config),
            "train_config": asdict(self.config),
            "dataset": dataset,
            "image_shape": list(image_shape),
            "normalisation": "pixels in [-1, 1]: x / 127.5 - 1; G ends in tanh",
            "class_names": list(class_names),
            "latent_dim": latent_dim,
            "step": self.step,
            "epoch": round(self.epoch, 4),
            # the data position, in GLOBAL batches of global_batch_size images (all processes
            # together): a run resumes at the same place on any number of processes
            "batches_drawn": self.batches_drawn,
            **self.dist.describe(self.config.batch_size),  # world_size, global_batch_size
            "seed": self.config.seed,
            "device": str(self.device),
            "precision": self.precision,
            "wall_time_s": round(self.wall_time(), 2),
            "versions": ckpt.library_versions(),
            "command": self.command,
            "metrics": {},
            "optimizer_param_groups": {},
        }

    def save(self, directory: str | Path | None = None) -> Path:
        """Write the checkpoint (weights, optimisers, RNG, step) to ``out_dir/checkpoint``."""
        directory = Path(directory) if directory is not None else self.out_dir / "checkpoint"
        weights = self.weights()
        state_g, groups_g = ckpt.flatten_optimizer(self.opt_g, "opt_g")
        state_d, groups_d = ckpt.flatten_optimizer(self.opt_d, "opt_d")
        meta = self.meta()
        meta["optimizer_param_groups"] = {"opt_g": groups_g, "opt_d": groups_d}
        return ckpt.save_checkpoint(
            directory, meta, weights, state_g | state_d | self.extra_state()
        )

    def weights(self) -> dict[str, torch.Tensor]:
        """Every player's state dict under its prefix: {"G.net.0.weight": ..., "D....": ...}."""
        return {
            f"{prefix}.{key}": value
            for prefix, module in self.players().items()
            for key, value in module.state_dict().items()
        }

    def extra_state(self) -> dict[str, torch.Tensor]:
        """Further tensors to resume from (RNG states, image pools); stored beside the optimisers."""
        return {}

    def restore(
        self,
        meta: dict[str, Any],
        weights: dict[str, torch.Tensor],
        train_state: dict[str, torch.Tensor],
        source: Path,
    ) -> None:
        """Load the players' weights, both optimisers, the step and the data position."""
        for prefix, module in self.players().items():
            ckpt.load_into(module, weights, prefix, source)
        groups = meta["optimizer_param_groups"]
        ckpt.unflatten_optimizer(self.opt_g, "opt_g", train_state, groups["opt_g"])
        ckpt.unflatten_optimizer(self.opt_d, "opt_d", train_state, groups["opt_d"])
        self.step = int(meta["step"])
        self.batches_drawn = int(meta["batches_drawn"])
        self.wall_time_before = float(meta.get("wall_time_s", 0.0))


def write_run_options(
    out_dir: str | Path, command: str, train_config: Any, model_config: Any
) -> None:
    """Save ``options.json`` (the command and both configs) beside a new run, as junyanz/CycleGAN does."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    options = {
        "command": command,
        "train_config": asdict(train_config),
        "model_config": asdict(model_config),
    }
    (out_dir / "options.json").write_text(json.dumps(options, indent=2) + "\n")


def truncate_log(path: Path, last_step: int) -> None:
    """Drop log lines written after the checkpoint (the run died before saving them)."""
    if not path.exists():
        return
    kept = []
    for line in path.read_text().splitlines():
        try:
            if json.loads(line).get("step", 0) <= last_step:
                kept.append(line)
        except json.JSONDecodeError:
            break  # a half-written last line from a killed process
    path.write_text("".join(line + "\n" for line in kept))


class JsonlLogger:
    """A callback that appends every ``every``-th Step as one JSON line."""

    def __init__(self, path: str | Path, every: int = 10) -> None:
        self.path, self.every = Path(path), max(1, every)
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def __call__(self, event: Any) -> None:
        if isinstance(event, Step) and event.step % self.every == 0:
            record = {
                "step": event.step,
                "epoch": round(event.epoch, 4),
                **event.losses,
                "d_real": event.d_real,
                "d_fake": event.d_fake,
                "images_per_s": round(event.images_per_s, 1),
                "wall_time": round(event.wall_time, 2),
            }
            with self.path.open("a") as handle:
                handle.write(json.dumps(record) + "\n")


class SampleSaver:
    """A callback that writes each Samples grid to ``folder/step_000500.png``."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def __call__(self, event: Any) -> None:
        if isinstance(event, Samples):
            from PIL import Image

            self.folder.mkdir(parents=True, exist_ok=True)
            image = event.image[..., 0] if event.image.shape[-1] == 1 else event.image
            Image.fromarray(image).save(self.folder / f"step_{event.step:06d}.png")
