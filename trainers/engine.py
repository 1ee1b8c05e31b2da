"""One training engine for every image GAN family (Goodfellow et al. 2014, Algorithm 1).

Each step:
    for k in range(d_steps):                        # Goodfellow's k
        x ~ data, z ~ N(0, I)
        D <- D - lr_d * grad L_D(D(x), D(G(z)))     # G frozen (fakes detached)
    z ~ N(0, I)
    G <- G - lr_g * grad L_G(D(G(z)))               # D frozen (only G's optimiser steps)

Read ``GANTrainer.train_step``, then ``d_step`` (1) and ``g_step`` (2), top to bottom, as in
pytorch/examples' dcgan/main.py. Every option is one named helper called from there, or an
identity when it is off: ``self.augment`` (DiffAugment), ``autocast`` (mixed precision),
``_class_loss`` (AC-GAN), ``_gradient_penalty`` (WGAN-GP), ``frozen`` (D during G's update),
``_update`` (zero_grad, backward, step), ``_update_ema`` (the EMA of G); ``d_train`` and
``g_train`` are D and G, or their DDP wrappers on several processes.

The engine knows nothing about printing or plotting: it reports ``Step``/``Samples``/
``Checkpointed``/``Finished`` events to a callback (see trainers/events.py). The run loop it
shares with the CycleGAN trainer is trainers/loop.py; its options are ``TrainConfig`` below.

On several processes (``dist``, trainers/distributed.py) each one takes its own rows of every
global batch (real images and noise) and DDP averages the gradients: the run is the one a single
process would make with the global batch, up to BatchNorm (and minibatch-std) statistics, which
are per process, and float rounding.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel

from trainers import checkpoint as ckpt
from trainers.data import DATASETS, ImageData, to_uint8_images
from trainers.device import PRECISIONS, autocast, resolve_precision
from trainers.diffaugment import DiffAugment, parse_policy
from trainers.distributed import Distributed, resume_batch_size
from trainers.events import Step
from trainers.images import make_grid
from trainers.loop import TrainingDiverged, TrainingLoop, truncate_log
from trainers.losses import (
    LOSSES,
    check_loss,
    class_loss,
    d_loss,
    g_loss,
    gradient_penalty,
    realness,
)
from trainers.models.blocks import categorical_code
from trainers.options import option
from trainers.registry import ModelSpec, config_from_dict, get_spec
from trainers.tracking import report_to_field


@dataclass
class TrainConfig:
    """How to train (the model's shape lives in the family's own config).

    Every field but ``model`` is an ``option``: its help text, CLI flag and Train-tab widget are
    declared here once (see trainers/options.py). ``model`` is the registry name, e.g. "dcgan"
    (the CLI sub-command, the Train tab's family picker).
    """

    model: str = "dcgan"
    dataset: str = option(
        "mnist",
        f"{', '.join(DATASETS)} or folder:PATH (one sub-folder per class); synthetic[:N] = "
        "N made-up 28x28 images (smoke tests)",
        group="data",
        ui=False,  # the Train tab offers the data sets it finds
    )
    steps: int = option(
        1000,
        "total G updates to train to; with --resume, the new target",
        minimum=1,
        maximum=10_000_000,
        step=100,
    )
    batch_size: int = option(
        64,
        "real images per D update (per process: the global batch is this x the processes)",
        group="optimisation",
        minimum=2,
        maximum=4096,
        step=1,
    )
    loss: str = option(
        "non-saturating",
        "the GAN objective (non-saturating: G maximises log D(G(z)))",
        choices=LOSSES,
        group="optimisation",
    )
    d_steps: int = option(
        1,
        "D updates per G update (Goodfellow's k)",
        group="optimisation",
        minimum=1,
        maximum=20,
        step=1,
        ui_label="k (D steps per G step)",
    )
    lr_g: float = option(
        2e-4,
        "G's Adam learning rate",
        group="optimisation",
        minimum=1e-6,
        maximum=1.0,
        ui_label="G learning rate",
    )
    lr_d: float = option(
        2e-4,
        "D's Adam learning rate (differs from --lr-g: TTUR)",
        group="optimisation",
        minimum=1e-6,
        maximum=1.0,
        ui_label="D learning rate",
    )
    beta1: float = option(
        0.5, "Adam beta1 (0.5 as in DCGAN)", group="optimisation", minimum=0.0, maximum=0.999
    )
    beta2: float = option(0.999, "Adam beta2", group="optimisation", minimum=0.0, maximum=0.9999)
    ema_decay: float = option(
        0.0,
        "EMA decay of G's weights, e.g. 0.999 (0 = off); samples and exports use the average",
        flag="--ema",
        group="optimisation",
        minimum=0.0,
        maximum=0.9999,
        ui_label="EMA decay of G (0 = off)",
    )
    gp_weight: float = option(
        10.0, "WGAN-GP penalty weight (lambda)", group="optimisation", minimum=0.0
    )
    diffaugment: str = option(  # QUALITY: trainers/diffaugment.py (Zhao et al. 2020)
        "",
        "DiffAugment policy applied to real and fake images before every D call, e.g. "
        "color,translation,cutout (default off; for small data sets)",
        group="optimisation",
        ui_label="DiffAugment policy",
    )
    seed: int = option(0, "seeds weights, data order and noise", minimum=0, step=1)
    precision: str = option(
        "auto",
        "auto = bf16 autocast for conv models on CPUs with AVX-512 BF16 and on CUDA",
        choices=PRECISIONS,
        ui=False,
    )
    max_seconds: float = option(
        0.0,
        "stop and save after S seconds of training; 0 = no limit",
        minimum=0.0,
        step=10,
        ui_label="time budget (s)",
    )
    report_to: str = report_to_field()  # trainers/tracking.py: TensorBoard / trackio / W&B
    sample_every: int = option(500, "save the fixed-noise grid every N steps (0 = never)", ui=False)
    checkpoint_every: int = option(
        500, "write the checkpoint every N steps (0 = only at the end)", ui=False
    )
    log_every: int = option(10, "append to log.jsonl every N steps", ui=False)
    num_samples: int = option(64, "images in the fixed-noise sample grid", ui=False)

    def __post_init__(self) -> None:
        check_loss(self.loss)
        if self.steps < 0 or self.batch_size < 1 or self.d_steps < 1:
            raise ValueError("steps must be >= 0, batch_size >= 1 and d_steps >= 1")
        if not 0.0 <= self.ema_decay < 1.0:
            raise ValueError("ema_decay must be in [0, 1)")
        if self.max_seconds < 0:
            raise ValueError("max_seconds must be >= 0 (0 = no time limit)")
        parse_policy(self.diffaugment)  # ValueError for an unknown kind


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
        dist: the processes training together (default: this one alone); ``config.batch_size``
            is per process.
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
        dist: Distributed | None = None,
    ) -> None:
        self.spec, self.model_config, self.config, self.data = spec, model_config, config, data
        self.device = torch.device(device)
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.command = command
        self.dist = dist or Distributed(device=self.device)
        if spec.conditional and not data.class_names:
            raise ValueError(f"{spec.name} needs a labelled data set; {data.name} has no classes")
        self.global_batch = config.batch_size * self.dist.world_size
        if self.dist.enabled and len(data) < self.global_batch:
            raise ValueError(
                f"{data.name} has {len(data)} images, fewer than the global batch of "
                f"{self.global_batch} ({self.dist.world_size} processes x {config.batch_size})"
            )

        torch.manual_seed(config.seed)  # the same initial weights in every process
        self.generator, self.discriminator = spec.build(model_config)
        # SyncBatchNorm only on several GPUs (no CPU kernels); before the optimisers and EMA
        self.generator = self.dist.convert_batchnorm(self.generator)
        self.discriminator = self.dist.convert_batchnorm(self.discriminator)
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
        # EMA of G's weights: torch's AveragedModel with the warm-up decay below. The averaged
        # copy is ``generator_ema`` (AveragedModel.module), saved as "G_ema.*".
        # Several processes: only the main one keeps it (G is the same everywhere, so its average
        # is too: the same EMA as one process with the global batch) and saves it.
        self.ema: AveragedModel | None = None
        self.generator_ema: nn.Module | None = None
        if config.ema_decay > 0 and self.dist.is_main:
            self.ema = AveragedModel(
                self.generator, multi_avg_fn=ema_with_warmup(config.ema_decay), use_buffers=False
            )
            self.ema.update_parameters(self.generator)  # the first call copies G: n_averaged = 1
            self.generator_ema = self.ema.module.eval()
        betas = (config.beta1, config.beta2)
        self.opt_g = torch.optim.Adam(self.generator.parameters(), lr=config.lr_g, betas=betas)
        self.opt_d = torch.optim.Adam(self.discriminator.parameters(), lr=config.lr_d, betas=betas)
        # What the half-steps call. G and D are wrapped in DDP separately (never one module
        # holding both), and each wrapper only runs in its own half-step (d_train in d_step,
        # g_train in g_step), so a DDP forward is always followed by a backward into all of its
        # parameters. With one process both are the plain modules: no overhead.
        self.g_train = self.dist.wrap(self.generator)
        self.d_train = self.dist.wrap(self.discriminator)
        # QUALITY: DiffAugment before every D call (identity when the policy is empty), and
        # the AC-GAN class-loss weight (0 unless the cGAN's conditioning is "acgan").
        self.augment = DiffAugment(config.diffaugment)
        self.class_weight = (
            float(model_config.acgan_weight)
            if getattr(model_config, "conditioning", None) == "acgan"
            else 0.0
        )
        # QUALITY: InfoGAN's categorical code (DCGAN's latent_code): K categories read off z,
        # guessed by D's Q head; weight 0 without a code.
        self.code_size = int(getattr(model_config, "latent_code", 0) or 0)
        self.code_weight = float(model_config.info_weight) if self.code_size else 0.0

        self.step = 0  # G updates done
        self.batches_drawn = 0  # GLOBAL real batches consumed (sets the data order: exact resume)
        self.wall_time_before = 0.0  # seconds spent in earlier sessions of this run
        # Noise, fake labels and WGAN-GP's mixing weights: the SAME generator in every process,
        # each drawing the global batch and keeping its own rows (_draw). So ranks get different
        # noise, reproducibly; N processes see the noise one process sees with the global batch;
        # and the one saved state resumes on any number of processes.
        self.rng = torch.Generator().manual_seed(config.seed + 1)
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
        """This process's rows of the next global batch of a per-epoch shuffle seeded by
        (seed, epoch): every process shuffles alike and takes its own block, and resuming (on
        any number of processes) replays the order exactly."""
        per_epoch = max(1, len(self.data) // self.global_batch)
        epoch, index = divmod(self.batches_drawn, per_epoch)
        if getattr(self, "_order_epoch", None) != epoch:  # one shuffle per epoch, cached
            seed = self.config.seed * 100_003 + epoch
            self._order = torch.randperm(
                len(self.data), generator=torch.Generator().manual_seed(seed)
            )
            self._order_epoch = epoch
        order = self._order
        b = self.global_batch
        indices = self.dist.local(order[index * b : (index + 1) * b])  # (batch_size,)
        self.batches_drawn += 1
        x, y = self.data.batch(indices, self.device)
        if self.channels_last and self.device.type == "cpu":
            x = x.contiguous(memory_format=torch.channels_last)
        return x, y

    def _draw(self, sample: Callable[..., torch.Tensor], n: int, *shape: int) -> torch.Tensor:
        """``sample((n * world_size, *shape), generator=self.rng)``, this process's n rows, on
        the device. One process: exactly ``sample((n, *shape), generator=self.rng)``."""
        rows = sample((n * self.dist.world_size, *shape), generator=self.rng)
        return self.dist.local(rows).to(self.device)

    def _noise(self, n: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        z = self._draw(torch.randn, n, self.model_config.latent_dim)  # (n, latent_dim)
        labels = None
        if self.spec.conditional:
            k = self.model_config.num_classes
            labels = self._draw(partial(torch.randint, 0, k), n)  # (n,)
        return z, labels

    @property
    def epoch(self) -> float:
        return self.batches_drawn * self.global_batch / len(self.data)

    # --- one step of the game: (1) update D, (2) update G ------------------------------------

    def train_step(self) -> Step:
        """One step: (1) k updates of D, then (2) one update of G; returns the Step event."""
        start = time.perf_counter()
        self.generator.train()
        self.discriminator.train()
        d_stats = [self.d_step() for _ in range(self.config.d_steps)]  # (1) Goodfellow's k
        g_stats = self.g_step()  # (2)
        self.step += 1
        losses, d_real, d_fake = self._global_stats(d_stats[-1], g_stats)
        self._stop_if_diverged(losses)
        elapsed = time.perf_counter() - start
        return Step(
            step=self.step,
            epoch=self.epoch,
            losses=losses,
            d_real=d_real,
            d_fake=d_fake,
            images_per_s=self.global_batch * self.config.d_steps / max(elapsed, 1e-9),
            wall_time=self.wall_time(),
        )

    def d_step(self) -> dict[str, float]:
        """(1) Update D: maximise log D(x) + log(1 - D(G(z))) on a real batch and a fresh fake
        batch (as the loss asks); G is not updated."""
        real, labels = self._real_batch()  # (B, C, H, W), (B,) class labels or None
        z, _ = self._noise(real.shape[0])  # (B, latent_dim); fakes take the real batch's labels
        labels = labels if self.spec.conditional else None
        with autocast(self.device, self.precision):  # mixed precision (a no-op in fp32)
            with torch.no_grad():
                fake = self.generator(z, labels)  # (B, C, H, W); no graph into G
            real, fake = self.augment(real, self.rng), self.augment(fake, self.rng)  # DiffAugment
            real_logits, real_classes = self._discriminate(real, labels, self.d_train)  # (B,)
            fake_logits, fake_classes = self._discriminate(fake, labels, self.d_train)  # (B,)
            loss = d_loss(self.config.loss, real_logits, fake_logits)
            if self.class_weight:  # AC-GAN: D also classifies real and fake images
                loss = loss + self._class_loss((real_classes, labels), (fake_classes, labels))
            if self.code_weight:  # InfoGAN: Q learns to read the code G was given
                loss = loss + self._code_loss(fake_classes, z)
        if self.config.loss == "wgan-gp":  # WGAN-GP: D's gradient norm near 1 between x and G(z)
            loss = loss + self.config.gp_weight * self._gradient_penalty(real, fake, labels)
        self._update(self.opt_d, loss)
        return {
            "d": loss.item(),
            "d_real": realness(self.config.loss, real_logits),
            "d_fake": realness(self.config.loss, fake_logits),
        }

    def g_step(self) -> dict[str, float]:
        """(2) Update G: make fakes, ask D, move G so that D calls them real; D is not updated."""
        z, labels = self._noise(self.config.batch_size)  # (B, latent_dim), (B,) or None
        with frozen(self.discriminator):  # gradients flow through D into G; D's weights stay put
            with autocast(self.device, self.precision):
                fake = self.g_train(z, labels)  # (B, C, H, W), through G's DDP wrapper
                fake_logits, fake_classes = self._discriminate(self.augment(fake, self.rng), labels)
                loss = g_loss(self.config.loss, fake_logits)  # fake_logits: (B,)
                if self.class_weight:  # AC-GAN: G wants its fakes classified as their labels
                    loss = loss + self._class_loss((fake_classes, labels))
                if self.code_weight:  # InfoGAN: G wants Q to read its code back
                    loss = loss + self._code_loss(fake_classes, z)
            self._update(self.opt_g, loss)
        self._update_ema()
        return {"g": loss.item(), "d_fake_after": realness(self.config.loss, fake_logits)}

    # --- the options the step calls ---------------------------------------------------------

    @staticmethod
    def _update(optimizer: torch.optim.Optimizer, loss: torch.Tensor) -> None:
        """zero_grad, backward, step: the three lines every PyTorch example ends a step with.
        ACC: on several processes the backward all-reduces the gradients (DDP's hooks)."""
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    def _discriminate(
        self, x: torch.Tensor, labels: torch.Tensor | None, net: nn.Module | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """D's logits (B,) in float32 and, for an AC-GAN, its class logits (B, K) (InfoGAN: Q's
        category logits), else None.

        ``net``: D or its DDP wrapper (ACC: d_step passes ``d_train``: two forwards, one
        backward, safe because buffers are not broadcast, see trainers/distributed.py); default
        the plain D (g_step: D is frozen there, so no DDP wrapper waits for its gradients)."""
        net = self.discriminator if net is None else net
        if self.class_weight or self.code_weight:
            logits, class_logits = net(x, labels, return_classes=True)
            return logits.float(), class_logits
        return net(x, labels).float(), None

    def _class_loss(self, *pairs: tuple[torch.Tensor | None, torch.Tensor | None]) -> torch.Tensor:
        """QUALITY: AC-GAN's auxiliary loss (Odena et al. 2017): the weight times the sum of the
        cross-entropies of D's class logits (B, K) against the labels (B,) of each pair."""
        total = class_loss(*pairs[0])
        for class_logits, labels in pairs[1:]:
            total = total + class_loss(class_logits, labels)
        return self.class_weight * total

    def _code_loss(self, code_logits: torch.Tensor | None, z: torch.Tensor) -> torch.Tensor:
        """QUALITY: InfoGAN's mutual-information bound (Chen et al. 2016) for a categorical code:
        the weight times the cross-entropy of Q's logits (B, K) against the category each z
        chose (B,). Low when G's categories look different enough for Q to tell apart."""
        _, codes = categorical_code(z, self.code_size)  # (B,)
        return self.code_weight * class_loss(code_logits, codes)

    def _gradient_penalty(
        self, real: torch.Tensor, fake: torch.Tensor, labels: torch.Tensor | None
    ) -> torch.Tensor:
        """WGAN-GP's penalty on random mixes of the (augmented) real and fake batches.

        ACC: on the UNWRAPPED D: its inner torch.autograd.grad never enters DDP (which does not
        support it); the outer backward still all-reduces the penalty's share of D's gradients,
        as DDP's hooks sit on the parameters. The mixing weights are the global batch's, this
        process's rows (as the noise)."""
        alpha = self._draw(torch.rand, real.shape[0], *[1] * (real.dim() - 1))  # (B, 1, 1, 1)
        return gradient_penalty(self.discriminator, real, fake.float(), labels, alpha=alpha)

    def _update_ema(self) -> None:
        """EMA of G's weights after each G update (buffers, e.g. BatchNorm stats, are copied)."""
        if self.ema is not None:
            self.ema.update_parameters(self.generator)

    def _global_stats(
        self, d_stats: dict[str, float], g_stats: dict[str, float]
    ) -> tuple[dict[str, float], float, float]:
        """({"d": ..., "g": ...}, D(x), D(G(z))) of the global batch: one all-reduce on several
        processes (as is on one), so all see the same numbers and stop together on a NaN."""
        shared = self.dist.mean(
            {
                "d": d_stats["d"],
                "g": g_stats["g"],
                "d_real": d_stats["d_real"],
                "d_fake": d_stats["d_fake"],
            }
        )
        d_real, d_fake = shared.pop("d_real"), shared.pop("d_fake")
        return shared, d_real, d_fake

    def _stop_if_diverged(self, losses: dict[str, float]) -> None:
        if not all(math.isfinite(v) for v in losses.values()):
            which = "D" if not math.isfinite(losses["d"]) else "G"
            raise TrainingDiverged(
                f"the {which} loss became {losses} at step {self.step}; the last checkpoint on "
                "disk is kept. Try lower learning rates, spectral norm, or --precision fp32."
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
        return make_grid(to_uint8_images(images), nrow=self.grid_columns)

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
        overrides: dict[str, Any] | None = None,
        dist: Distributed | None = None,
    ) -> GANTrainer:
        """Rebuild a trainer from ``out_dir/checkpoint``: weights, optimisers, RNG, step, data position.

        ``steps`` raises (or keeps) the target; ``overrides`` changes other TrainConfig fields
        (e.g. ``max_seconds``, the intervals). The JSONL log is cut back to the checkpoint's step
        so the resumed run continues it with no gap and no duplicate.

        A run written by N processes resumes on ``dist``'s M (1 included): the global batch
        stays (the per-process batch becomes global / M), so the data position (in global
        batches), the noise generator's state (the same in every process) and the optimisation
        continue as if nothing had changed.
        """
        out_dir = Path(out_dir)
        meta, weights, train_state = ckpt.load_weights_and_state(out_dir)
        spec = get_spec(meta["model"])
        model_config = config_from_dict(spec, meta["config"])
        known = {f.name for f in fields(TrainConfig)}
        values = {k: v for k, v in meta["train_config"].items() if k in known}
        values |= overrides or {}
        if steps is not None:
            values["steps"] = steps
        world_size = dist.world_size if dist is not None else 1
        global_batch = int(meta.get("global_batch_size", values["batch_size"]))
        values["batch_size"] = resume_batch_size(global_batch, world_size)
        train_config = TrainConfig(**values)
        trainer = cls(
            spec,
            model_config,
            train_config,
            data,
            device,
            out_dir,
            command or meta.get("command", ""),
            dist,
        )
        trainer.restore(meta, weights, train_state, out_dir / "checkpoint")
        trainer.rng.set_state(train_state["rng/noise"])
        if trainer.ema is not None:  # one average per G update, plus the initial copy
            trainer.ema.n_averaged.fill_(trainer.step + 1)
        if trainer.dist.is_main:  # only the main process writes the run folder
            truncate_log(out_dir / "log.jsonl", trainer.step)
        return trainer


@contextmanager
def frozen(module: nn.Module) -> Iterator[None]:
    """``requires_grad_(False)`` on ``module`` inside the block, then back on (even on an error):
    gradients still flow through it to what came before, its own weights get none."""
    module.requires_grad_(False)
    try:
        yield
    finally:
        module.requires_grad_(True)


def ema_with_warmup(decay: float) -> Callable[[list, list, torch.Tensor], None]:
    """An AveragedModel ``multi_avg_fn``: p_ema <- d * p_ema + (1 - d) * p with the warm-up
    d = min(decay, (1 + t) / (10 + t)), t = G updates before this one (as TF's
    ExponentialMovingAverage with num_updates): early on the average follows G closely instead
    of staying near the random initial weights. torch's ``get_ema_multi_avg_fn`` has no warm-up.
    """

    @torch.no_grad()
    def update(ema_params: list, params: list, num_averaged: torch.Tensor) -> None:
        t = int(num_averaged) - 1  # AveragedModel counts the initial copy as one average
        d = min(decay, (1 + t) / (10 + t))
        for p_ema, p in zip(ema_params, params, strict=True):
            p_ema.lerp_(p, 1.0 - d)

    return update
