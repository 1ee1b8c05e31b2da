"""One training engine for every image GAN family (Goodfellow et al. 2014, Algorithm 1).

Each step:
    for k in range(d_steps):                        # Goodfellow's k
        x ~ data, z ~ N(0, I)
        D <- D - lr_d * grad L_D(D(x), D(G(z)))     # G frozen (fakes detached)
    z ~ N(0, I)
    G <- G - lr_g * grad L_G(D(G(z)))               # D frozen (only G's optimiser steps)

The engine knows nothing about printing or plotting: it reports ``Step``/``Samples``/
``Checkpointed``/``Finished`` events to a callback (see trainers/events.py).
"""

from __future__ import annotations

import copy
import json
import math
import threading
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from trainers import checkpoint as ckpt
from trainers.data import ImageData, to_uint8_images
from trainers.device import autocast, resolve_precision
from trainers.events import Callback, Checkpointed, Finished, Samples, Step
from trainers.losses import check_loss, d_loss, g_loss, gradient_penalty, realness
from trainers.registry import ModelSpec, config_from_dict, config_to_dict, get_spec


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite. The last checkpoint on disk is kept untouched."""


@dataclass
class TrainConfig:
    """How to train (the model's shape lives in the family's own config).

    Args:
        model: registry name, e.g. "dcgan".
        dataset: data set name, e.g. "fashion-mnist" (recorded in the checkpoint).
        steps: total G updates to reach (a resumed run continues towards it).
        batch_size: real images per D update.
        loss: "minimax", "non-saturating", "lsgan", "hinge" or "wgan-gp".
        d_steps: D updates per G update (Goodfellow's k).
        lr_g / lr_d: Adam learning rates of G and D (different values = TTUR).
        beta1 / beta2: Adam betas (0.5, 0.999 as in DCGAN).
        ema_decay: keep an exponential moving average of G's weights (0 = off, e.g. 0.999).
        gp_weight: lambda of the WGAN-GP gradient penalty.
        seed: seeds weights, data order, noise and the fixed sample grid.
        precision: "auto" (bf16 autocast where fast), "fp32" or "bf16".
        sample_every / checkpoint_every / log_every: intervals in steps (0 = never).
        num_samples: images in the fixed-noise grid.
    """

    model: str = "dcgan"
    dataset: str = "mnist"
    steps: int = 1000
    batch_size: int = 64
    loss: str = "non-saturating"
    d_steps: int = 1
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    ema_decay: float = 0.0
    gp_weight: float = 10.0
    seed: int = 0
    precision: str = "auto"
    sample_every: int = 500
    checkpoint_every: int = 1000
    log_every: int = 10
    num_samples: int = 64

    def __post_init__(self) -> None:
        check_loss(self.loss)
        if self.steps < 0 or self.batch_size < 1 or self.d_steps < 1:
            raise ValueError("steps must be >= 0, batch_size >= 1 and d_steps >= 1")
        if not 0.0 <= self.ema_decay < 1.0:
            raise ValueError("ema_decay must be in [0, 1)")


def image_grid(images: np.ndarray, nrow: int, padding: int = 2) -> np.ndarray:
    """uint8 (B, H, W, C) -> one uint8 (rows*(H+p)+p, nrow*(W+p)+p, C) picture."""
    b, h, w, c = images.shape
    rows = math.ceil(b / nrow)
    grid = np.zeros(
        (rows * (h + padding) + padding, nrow * (w + padding) + padding, c), dtype=np.uint8
    )
    for i in range(b):
        r, col = divmod(i, nrow)
        top, left = padding + r * (h + padding), padding + col * (w + padding)
        grid[top : top + h, left : left + w] = images[i]
    return grid


class TrainingLoop:
    """What every trainer here shares: the run loop and the checkpoint bookkeeping.

    The loop: one ``train_step()``, then every ``sample_every`` steps a ``Samples`` grid and every
    ``checkpoint_every`` steps a checkpoint; Ctrl-C saves before it stops. A subclass
    (``GANTrainer`` below, ``CycleGANTrainer`` in trainers/cyclegan.py) provides ``train_step``,
    ``sample_grid``, ``meta`` and ``players`` (the networks to save under their prefixes), and sets
    ``config``, ``model_config``, ``out_dir``, ``device``, ``precision``, ``command``, ``opt_g``,
    ``opt_d``, ``step``, ``batches_drawn`` and ``wall_time_before``.
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
    batches_drawn: int
    wall_time_before: float

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
        """Train until ``config.steps`` or until ``stop`` is set (checked between steps)."""
        callback = callback or (lambda event: None)
        cfg = self.config
        self._run_started = time.perf_counter()
        reason = "done"
        try:
            while self.step < cfg.steps:
                if stop is not None and stop.is_set():
                    reason = "stopped"
                    break
                callback(self.train_step())
                if cfg.sample_every and self.step % cfg.sample_every == 0:
                    callback(Samples(self.step, self.sample_grid()))
                if (
                    self.out_dir is not None
                    and cfg.checkpoint_every
                    and self.step % cfg.checkpoint_every == 0
                ):
                    callback(Checkpointed(self.step, str(self.save())))
        except KeyboardInterrupt:  # Ctrl-C: keep what was learned, then stop
            if self.out_dir is not None and self.step > 0:
                callback(Checkpointed(self.step, str(self.save())))
            callback(Finished(self.step, "stopped", "interrupted"))
            raise
        except TrainingDiverged as error:
            callback(Finished(self.step, "error", str(error)))
            raise
        if self.out_dir is not None and self.step > 0:
            callback(Samples(self.step, self.sample_grid()))
            callback(Checkpointed(self.step, str(self.save())))
        finished = Finished(self.step, reason)
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
            "batches_drawn": self.batches_drawn,
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


class GANTrainer(TrainingLoop):
    """Holds G, D, their optimisers and the step counter; ``run`` trains until ``steps``.

    Args:
        spec: registry entry of the model family.
        model_config: the family's config.
        config: the training config.
        data: images in memory.
        device: where to train.
        out_dir: the run folder (checkpoint/, log.jsonl, samples/); None trains in memory only.
        command: the command line that started the run (stored in checkpoints).
    """

    def __init__(
        self,
        spec: ModelSpec,
        model_config: Any,
        config: TrainConfig,
        data: ImageData,
        device: torch.device | str = "cpu",
        out_dir: str | Path | None = None,
        command: str = "",
    ) -> None:
        self.spec, self.model_config, self.config, self.data = spec, model_config, config, data
        self.device = torch.device(device)
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.command = command
        if spec.conditional and not data.class_names:
            raise ValueError(f"{spec.name} needs a labelled data set; {data.name} has no classes")

        torch.manual_seed(config.seed)
        self.generator, self.discriminator = spec.build(model_config)
        self.generator.to(self.device)
        self.discriminator.to(self.device)
        self.channels_last = any(
            isinstance(m, nn.Conv2d | nn.ConvTranspose2d) for m in self.generator.modules()
        )
        if self.channels_last and self.device.type == "cpu":  # faster conv kernels on CPU
            self.generator.to(memory_format=torch.channels_last)
            self.discriminator.to(memory_format=torch.channels_last)
        self.precision = resolve_precision(
            config.precision, self.device, convolutional=self.channels_last
        )
        self.generator_ema = copy.deepcopy(self.generator).eval() if config.ema_decay > 0 else None
        betas = (config.beta1, config.beta2)
        self.opt_g = torch.optim.Adam(self.generator.parameters(), lr=config.lr_g, betas=betas)
        self.opt_d = torch.optim.Adam(self.discriminator.parameters(), lr=config.lr_d, betas=betas)

        self.step = 0  # G updates done
        self.batches_drawn = 0  # real batches consumed (sets the data order, so resume is exact)
        self.wall_time_before = 0.0  # seconds spent in earlier sessions of this run
        self.rng = torch.Generator().manual_seed(config.seed + 1)  # noise and fake labels
        fixed = torch.Generator().manual_seed(config.seed + 2)
        n = config.num_samples
        if spec.conditional:  # one row per class
            k = model_config.num_classes
            self.grid_columns = max(1, min(10, n // k))
            self.fixed_labels = torch.arange(k).repeat_interleave(self.grid_columns)
            n = len(self.fixed_labels)
        else:
            self.grid_columns = int(math.ceil(math.sqrt(n)))
            self.fixed_labels = None
        self.fixed_noise = torch.randn(n, model_config.latent_dim, generator=fixed)

    # --- data and noise -------------------------------------------------------------------------

    def _real_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The next batch of a per-epoch shuffle seeded by (seed, epoch): resuming replays it exactly."""
        per_epoch = max(1, len(self.data) // self.config.batch_size)
        epoch, index = divmod(self.batches_drawn, per_epoch)
        if getattr(self, "_order_epoch", None) != epoch:  # one shuffle per epoch, cached
            seed = self.config.seed * 100_003 + epoch
            self._order = torch.randperm(
                len(self.data), generator=torch.Generator().manual_seed(seed)
            )
            self._order_epoch = epoch
        order = self._order
        b = self.config.batch_size
        indices = order[index * b : (index + 1) * b]
        self.batches_drawn += 1
        x, y = self.data.batch(indices, self.device)
        if self.channels_last and self.device.type == "cpu":
            x = x.contiguous(memory_format=torch.channels_last)
        return x, y

    def _noise(self, n: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        z = torch.randn(n, self.model_config.latent_dim, generator=self.rng).to(self.device)
        labels = None
        if self.spec.conditional:
            labels = torch.randint(0, self.model_config.num_classes, (n,), generator=self.rng).to(
                self.device
            )
        return z, labels

    @property
    def epoch(self) -> float:
        return self.batches_drawn * self.config.batch_size / len(self.data)

    # --- the two half-steps of the game --------------------------------------------------------

    def d_step(self) -> dict[str, float]:
        """One D update on a real batch and a fresh fake batch (G is not updated)."""
        cfg = self.config
        real, labels = self._real_batch()
        z, _ = self._noise(real.shape[0])
        fake_labels = labels if self.spec.conditional else None
        with autocast(self.device, self.precision):
            with torch.no_grad():
                fake = self.generator(z, fake_labels)  # (B, C, H, W); no graph into G
            real_logits = self.discriminator(
                real, labels if self.spec.conditional else None
            ).float()
            fake_logits = self.discriminator(fake, fake_labels).float()
            loss = d_loss(cfg.loss, real_logits, fake_logits)
        if cfg.loss == "wgan-gp":
            loss = loss + cfg.gp_weight * gradient_penalty(
                self.discriminator, real, fake.float(), fake_labels, generator=self.rng
            )
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_d.step()
        return {
            "d": loss.item(),
            "d_real": realness(cfg.loss, real_logits),
            "d_fake": realness(cfg.loss, fake_logits),
        }

    def g_step(self) -> dict[str, float]:
        """One G update: make fakes, ask D, move G so D calls them real (D is not updated)."""
        z, labels = self._noise(self.config.batch_size)
        self.discriminator.requires_grad_(
            False
        )  # gradients flow through D to G, D's weights stay put
        try:
            with autocast(self.device, self.precision):
                fake = self.generator(z, labels)
                fake_logits = self.discriminator(fake, labels).float()
                loss = g_loss(self.config.loss, fake_logits)
            self.opt_g.zero_grad(set_to_none=True)
            loss.backward()
            self.opt_g.step()
        finally:
            self.discriminator.requires_grad_(True)
        if self.generator_ema is not None:
            self._update_ema()
        return {"g": loss.item(), "d_fake_after": realness(self.config.loss, fake_logits)}

    @torch.no_grad()
    def _update_ema(self) -> None:
        # Warm-up (as TF's ExponentialMovingAverage with num_updates): early on the average
        # follows G closely instead of staying stuck near the random initial weights.
        decay = min(self.config.ema_decay, (1 + self.step) / (10 + self.step))
        for p_ema, p in zip(
            self.generator_ema.parameters(), self.generator.parameters(), strict=True
        ):
            p_ema.lerp_(p, 1.0 - decay)
        for b_ema, b in zip(self.generator_ema.buffers(), self.generator.buffers(), strict=True):
            b_ema.copy_(b)

    def train_step(self) -> Step:
        """k D updates then one G update; returns the Step event."""
        start = time.perf_counter()
        self.generator.train()
        self.discriminator.train()
        d_stats = [self.d_step() for _ in range(self.config.d_steps)]
        g_stats = self.g_step()
        self.step += 1
        d_last = d_stats[-1]
        losses = {"d": d_last["d"], "g": g_stats["g"]}
        if not all(math.isfinite(v) for v in losses.values()):
            raise TrainingDiverged(
                f"the {'D' if not math.isfinite(losses['d']) else 'G'} loss became {losses} at step {self.step}; "
                "the last checkpoint on disk is kept. Try lower learning rates, spectral norm, or --precision fp32."
            )
        elapsed = time.perf_counter() - start
        return Step(
            step=self.step,
            epoch=self.epoch,
            losses=losses,
            d_real=d_last["d_real"],
            d_fake=d_last["d_fake"],
            images_per_s=self.config.batch_size * self.config.d_steps / max(elapsed, 1e-9),
            wall_time=self.wall_time(),
        )

    # --- sampling ---------------------------------------------------------------------------

    @torch.no_grad()
    def sample_grid(self) -> np.ndarray:
        """The fixed-noise grid as uint8 (H, W, C): the same z every time, so progress is visible."""
        net = self.generator_ema if self.generator_ema is not None else self.generator
        was_training = net.training
        net.eval()
        labels = self.fixed_labels.to(self.device) if self.fixed_labels is not None else None
        images = net(self.fixed_noise.to(self.device), labels)
        net.train(was_training)
        return image_grid(to_uint8_images(images), nrow=self.grid_columns)

    # --- checkpoints ----------------------------------------------------------------------------

    def players(self) -> dict[str, nn.Module]:
        players = {"G": self.generator, "D": self.discriminator}
        if self.generator_ema is not None:
            players["G_ema"] = self.generator_ema
        return players

    def extra_state(self) -> dict[str, torch.Tensor]:
        return {"rng/noise": self.rng.get_state()}

    def meta(self) -> dict[str, Any]:
        """Everything needed to rebuild, describe and resume this run (JSON-ready)."""
        return self.common_meta(
            model=self.spec.name,
            dataset=self.data.name,
            image_shape=self.model_config.image_shape,
            class_names=self.data.class_names,
            latent_dim=self.model_config.latent_dim,
        )

    @classmethod
    def resume(
        cls,
        out_dir: str | Path,
        data: ImageData,
        device: torch.device | str = "cpu",
        steps: int | None = None,
        command: str = "",
    ) -> GANTrainer:
        """Rebuild a trainer from ``out_dir/checkpoint``: weights, optimisers, RNG, step, data position.

        ``steps`` raises (or keeps) the target; the JSONL log is cut back to the checkpoint's step
        so the resumed run continues it with no gap and no duplicate.
        """
        out_dir = Path(out_dir)
        meta, weights, train_state = ckpt.load_weights_and_state(out_dir)
        spec = get_spec(meta["model"])
        model_config = config_from_dict(spec, meta["config"])
        known = {f.name for f in fields(TrainConfig)}
        train_config = TrainConfig(**{k: v for k, v in meta["train_config"].items() if k in known})
        if steps is not None:
            train_config.steps = steps
        trainer = cls(
            spec,
            model_config,
            train_config,
            data,
            device,
            out_dir,
            command or meta.get("command", ""),
        )
        trainer.restore(meta, weights, train_state, out_dir / "checkpoint")
        trainer.rng.set_state(train_state["rng/noise"])
        truncate_log(out_dir / "log.jsonl", trainer.step)
        return trainer


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
