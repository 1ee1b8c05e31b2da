"""Training a CycleGAN: the configuration, the learning-rate schedule and the trainer.

One step (see trainers/cyclegan/__init__.py for the losses): G_AB and G_BA are updated together
with LSGAN + cycle + identity losses while D is frozen, then D_A and D_B on pooled fakes.

On several processes (``dist``, trainers/distributed.py) each of the four networks is wrapped in
DDP on its own and each process takes its rows of every global batch (crops and flips are drawn
for the global batch, so the augmentation generator stays the same everywhere). Not the same as
one process with the global batch: the image pool is per process (each keeps its own 50 past
fakes; a checkpoint keeps the main process's pool, which every process resumes from).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch

from trainers import checkpoint as ckpt
from trainers.cyclegan.data import (
    MODEL_NAME,
    CycleGANUserError,
    list_images,
    load_domain,
    random_crop_flip,
    to_model_range,
)
from trainers.cyclegan.pool import ImagePool
from trainers.cyclegan.translate import before_after_grid
from trainers.device import autocast, resolve_precision
from trainers.distributed import Distributed, resume_batch_size
from trainers.events import Step
from trainers.loop import TrainingDiverged, TrainingLoop, truncate_log
from trainers.models.cyclegan import (
    CycleGANConfig,
    CycleGANDiscriminators,
    CycleGANGenerators,
    init_cyclegan_weights,
)
from trainers.registry import config_from_dict, get_spec


@dataclass
class CycleGANTrainConfig:
    """How to train a CycleGAN (the networks' shape is in ``CycleGANConfig``).

    Args:
        data_a / data_b: folders of domain A and domain B images.
        sample_a / sample_b: folders of the fixed images shown in the sample grid.
        steps: total steps (one step = one G update and one update of each D).
        decay_start: step where the learning rate starts its linear fall to 0 at ``steps``
            (default: half of ``steps``, as the paper's 100 + 100 epochs).
        batch_size: images per domain per step (paper: 1).
        load_size: images are resized to this side in memory, then randomly cropped to
            ``image_size`` (paper: 286 -> 256; here 1.125 x image_size by default).
        flip: random horizontal flips.
        lr / beta1 / beta2: Adam's settings for all four networks.
        lambda_cycle: weight of the cycle-consistency L1 (paper: 10).
        lambda_identity: identity L1 weight as a fraction of lambda_cycle (paper: 0.5).
        pool_size: past fakes kept for D (paper: 50; 0 = off).
        precision: "auto" (bf16 autocast where fast), "fp32" or "bf16".
        sample_every / checkpoint_every / log_every: intervals in steps (0 = never).
        num_samples: fixed test images per direction in the sample grid.
    """

    data_a: str = ""
    data_b: str = ""
    sample_a: str = ""
    sample_b: str = ""
    steps: int = 1000
    decay_start: int | None = None
    batch_size: int = 1
    load_size: int | None = None
    flip: bool = True
    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    lambda_cycle: float = 10.0
    lambda_identity: float = 0.5
    pool_size: int = 50
    seed: int = 0
    precision: str = "auto"
    sample_every: int = 500
    checkpoint_every: int = 500
    log_every: int = 10
    num_samples: int = 4

    def __post_init__(self) -> None:
        if self.steps < 0 or self.batch_size < 1:
            raise ValueError("steps must be >= 0 and batch_size >= 1")
        if self.decay_start is None:
            self.decay_start = self.steps // 2
        if not 0 <= self.decay_start <= self.steps:
            raise ValueError(f"decay_start {self.decay_start} must lie in [0, steps={self.steps}]")


def lr_at(step: int, config: CycleGANTrainConfig) -> float:
    """The learning rate used for the update that makes step ``step + 1`` (step = updates done so far).

        lr(s) = lr                                                  for s < decay_start
        lr(s) = lr * (steps - s) / (steps - decay_start)            for decay_start <= s < steps
    so it falls linearly from the full rate to 0 over the last (steps - decay_start) steps.
    """
    start, end = int(config.decay_start or 0), config.steps
    if step < start or end <= start:
        return config.lr
    return config.lr * max(0.0, (end - step) / (end - start))


class CycleGANTrainer(TrainingLoop):
    """Holds the two generators, two discriminators, their optimisers, the pools and the step count.

    Args:
        model_config: the networks' shape.
        config: how to train.
        images_a / images_b: uint8 (N, 3, load_size, load_size) training images in memory.
        samples_a / samples_b: uint8 (n, 3, image_size, image_size) fixed images for the grid.
        device: where to train.
        out_dir: the run folder (checkpoint/, log.jsonl, samples/); None trains in memory only.
        command: the command line that started the run (stored in checkpoints).
        dataset: a name for the data, e.g. "horse2zebra" (recorded in the checkpoint).
        dist: the processes training together (default: this one alone); ``config.batch_size``
            is per process.
    """

    def __init__(
        self,
        model_config: CycleGANConfig,
        config: CycleGANTrainConfig,
        images_a: torch.Tensor,
        images_b: torch.Tensor,
        samples_a: torch.Tensor | None = None,
        samples_b: torch.Tensor | None = None,
        device: torch.device | str = "cpu",
        out_dir: str | Path | None = None,
        command: str = "",
        dataset: str = "",
        dist: Distributed | None = None,
    ) -> None:
        self.model_config, self.config = model_config, config
        self.images_a, self.images_b = images_a, images_b
        size = model_config.image_size
        if images_a.shape[-1] < size or images_b.shape[-1] < size:
            raise ValueError(
                f"training images ({images_a.shape[-1]} px) are smaller than the crop ({size} px)"
            )
        self.samples_a = (
            samples_a if samples_a is not None else images_a[: config.num_samples, :, :size, :size]
        )
        self.samples_b = (
            samples_b if samples_b is not None else images_b[: config.num_samples, :, :size, :size]
        )
        self.device = torch.device(device)
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.command, self.dataset = command, dataset
        self.dist = dist or Distributed(device=self.device)
        self.global_batch = config.batch_size * self.dist.world_size

        torch.manual_seed(config.seed)  # the same initial weights in every process
        self.generators = CycleGANGenerators(model_config)  # .a2b = G_AB, .b2a = G_BA
        self.discriminators = CycleGANDiscriminators(model_config)  # .a = D_A, .b = D_B
        self.generators.apply(init_cyclegan_weights)
        self.discriminators.apply(init_cyclegan_weights)
        self.generators.to(self.device)
        self.discriminators.to(self.device)
        self.precision = resolve_precision(config.precision, self.device, convolutional=True)
        # channels_last pays off on CPU with bf16 (oneDNN's blocked kernels); measured in
        # benchmarks/cyclegan_speed.py. With fp32 on CPU it was slower, so only then.
        self.channels_last = self.device.type == "cpu" and self.precision == "bf16"
        if self.channels_last:
            self.generators.to(memory_format=torch.channels_last)
            self.discriminators.to(memory_format=torch.channels_last)
        betas = (config.beta1, config.beta2)
        # One Adam for both generators and one for both discriminators, as the paper's code.
        self.opt_g = torch.optim.Adam(self.generators.parameters(), lr=config.lr, betas=betas)
        self.opt_d = torch.optim.Adam(self.discriminators.parameters(), lr=config.lr, betas=betas)
        # What the step calls: G_AB, G_BA, D_A and D_B each in its own DDP wrapper (one
        # process: the plain modules). Generators are called several times before their one
        # backward (fine: a parameter's gradient is summed before DDP's hook sees it); the
        # discriminators' wrappers only run in D's update, frozen D's are the plain modules.
        self.g_ab = self.dist.wrap(self.generators.a2b)
        self.g_ba = self.dist.wrap(self.generators.b2a)
        self.d_a = self.dist.wrap(self.discriminators.a)
        self.d_b = self.dist.wrap(self.discriminators.b)
        # per process (each rank's fakes); see the module docstring
        self.pool_a, self.pool_b = ImagePool(config.pool_size), ImagePool(config.pool_size)

        self.step = 0
        self.batches_drawn = 0  # sets the data order (per-epoch permutations seeded by epoch)
        self.wall_time_before = 0.0
        # crops, flips, pool coin flips: the same state in every process (global draws, and each
        # process's pools flip the same number of coins), so one saved state resumes them all
        self.rng = torch.Generator().manual_seed(config.seed + 1)

    # --- data -----------------------------------------------------------------------------------

    @property
    def steps_per_epoch(self) -> int:
        """One epoch = one pass over the larger domain (the paper's dataset length max(|A|, |B|)),
        in global batches (all processes together)."""
        return max(1, max(len(self.images_a), len(self.images_b)) // self.global_batch)

    @property
    def epoch(self) -> float:
        return self.batches_drawn / self.steps_per_epoch

    def _indices(self, n: int, epoch: int, index: int, salt: int) -> torch.Tensor:
        """Batch ``index`` of epoch ``epoch`` for a domain of n images: a seeded permutation,
        repeated when the other domain is larger. Pure function of its inputs -> exact resume."""
        gen = torch.Generator().manual_seed(self.config.seed * 100_003 + epoch * 2 + salt)
        order = torch.randperm(n, generator=gen)
        b = self.global_batch
        positions = torch.arange(index * b, (index + 1) * b) % n
        return order[positions]

    def _batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The next (real_a, real_b) pair of batches, augmented, float in [-1, 1], (B, 3, S, S) each:
        this process's rows of the global batch (cropped and flipped as one process would)."""
        epoch, index = divmod(self.batches_drawn, self.steps_per_epoch)
        self.batches_drawn += 1
        size = self.model_config.image_size
        batches = []
        for salt, images in enumerate((self.images_a, self.images_b)):
            chosen = images[self._indices(len(images), epoch, index, salt)]  # (global B, 3, L, L)
            crops = self.dist.local(random_crop_flip(chosen, size, self.config.flip, self.rng))
            x = to_model_range(crops).to(self.device)  # this process's (B, 3, S, S)
            if self.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            batches.append(x)
        return batches[0], batches[1]

    # --- losses ---------------------------------------------------------------------------------

    @staticmethod
    def lsgan_real(logits: torch.Tensor) -> torch.Tensor:
        """½E[(D(x) - 1)²]: pushes patch scores towards 1 ("real")."""
        return 0.5 * ((logits.float() - 1) ** 2).mean()

    @staticmethod
    def lsgan_fake(logits: torch.Tensor) -> torch.Tensor:
        """½E[D(x)²]: pushes patch scores towards 0 ("fake")."""
        return 0.5 * (logits.float() ** 2).mean()

    # --- one step -------------------------------------------------------------------------------

    def _set_lr(self) -> float:
        lr = lr_at(self.step, self.config)
        for opt in (self.opt_g, self.opt_d):
            for group in opt.param_groups:
                group["lr"] = lr
        return lr

    def train_step(self) -> Step:
        """One G update (both directions) then one update of D_A and D_B; returns the Step event."""
        start = time.perf_counter()
        cfg = self.config
        lr = self._set_lr()
        self.generators.train()
        self.discriminators.train()
        real_a, real_b = self._batch()  # (B, 3, S, S) each
        g_ab, g_ba = self.g_ab, self.g_ba  # DDP wrappers on several processes

        # --- generators (D frozen: gradients flow through D into G, D's weights stay put) ---
        self.discriminators.requires_grad_(False)
        try:
            with autocast(self.device, self.precision):
                fake_b = g_ab(real_a)  # A -> B
                rec_a = g_ba(fake_b)  # A -> B -> A
                fake_a = g_ba(real_b)  # B -> A
                rec_b = g_ab(fake_a)  # B -> A -> B
                # D's patch scores, (B, 1, S/8 - 2, S/8 - 2); G wants them all at 1 ("real")
                fake_logits_b = self.discriminators.b(fake_b)
                fake_logits_a = self.discriminators.a(fake_a)
                loss_gan = self.lsgan_real(fake_logits_b) + self.lsgan_real(fake_logits_a)
                loss_cycle = cfg.lambda_cycle * (cycle_l1(rec_a, real_a) + cycle_l1(rec_b, real_b))
                if cfg.lambda_identity > 0:  # G_BA(a) should be a, G_AB(b) should be b
                    loss_identity = (
                        cfg.lambda_identity
                        * cfg.lambda_cycle
                        * (cycle_l1(g_ba(real_a), real_a) + cycle_l1(g_ab(real_b), real_b))
                    )
                else:
                    loss_identity = torch.zeros((), device=self.device)
                loss_g = loss_gan + loss_cycle + loss_identity
            self.opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            self.opt_g.step()
        finally:
            self.discriminators.requires_grad_(True)

        # --- discriminators, on pooled fakes ---
        pooled_a = self.pool_a.query(fake_a.detach().float(), self.rng)
        pooled_b = self.pool_b.query(fake_b.detach().float(), self.rng)
        with autocast(self.device, self.precision):  # D's DDP wrappers: two forwards each
            real_logits_a = self.d_a(real_a)
            real_logits_b = self.d_b(real_b)
            loss_d_a = self.lsgan_real(real_logits_a) + self.lsgan_fake(self.d_a(pooled_a))
            loss_d_b = self.lsgan_real(real_logits_b) + self.lsgan_fake(self.d_b(pooled_b))
        self.opt_d.zero_grad(set_to_none=True)
        (loss_d_a + loss_d_b).backward()
        self.opt_d.step()

        self.step += 1
        losses = {
            "d_a": loss_d_a.item(),
            "d_b": loss_d_b.item(),
            "g_gan": loss_gan.item(),
            "cycle": loss_cycle.item(),
            "identity": loss_identity.item(),
        }
        # totals, for the shared progress bar and the live curves
        losses["d"] = losses["d_a"] + losses["d_b"]
        losses["g"] = loss_g.item()
        # mean LSGAN patch scores (1 = "real", 0 = "fake"); fakes scored by D before its update
        losses["d_real"] = (
            0.5 * (real_logits_a.float().mean() + real_logits_b.float().mean()).item()
        )
        losses["d_fake"] = (
            0.5 * (fake_logits_a.float().mean() + fake_logits_b.float().mean()).item()
        )
        losses = self.dist.mean(losses)  # several processes: the global batch's (all stop alike)
        d_real, d_fake = losses.pop("d_real"), losses.pop("d_fake")
        check_finite(losses, self.step)
        elapsed = time.perf_counter() - start
        return Step(
            step=self.step,
            epoch=self.epoch,
            losses=losses | {"lr": lr},
            d_real=d_real,
            d_fake=d_fake,
            images_per_s=2 * self.global_batch / max(elapsed, 1e-9),
            wall_time=self.wall_time(),
        )

    # --- samples --------------------------------------------------------------------------------

    @torch.no_grad()
    def sample_grid(self) -> np.ndarray:
        """uint8 grid, one row per fixed test image pair:  a | G_AB(a) | G_BA(G_AB(a)) | b | G_BA(b) | G_AB(G_BA(b))."""
        self.generators.eval()
        grid = before_after_grid(
            self.generators, to_model_range(self.samples_a), to_model_range(self.samples_b)
        )
        self.generators.train()
        return grid

    # --- checkpoints ----------------------------------------------------------------------------

    def players(self) -> dict[str, torch.nn.Module]:
        return {"G": self.generators, "D": self.discriminators}  # G.a2b, G.b2a, D.a, D.b

    def extra_state(self) -> dict[str, torch.Tensor]:
        state = {"rng/augment": self.rng.get_state()}
        for name, pool in (("pool/a", self.pool_a), ("pool/b", self.pool_b)):
            if len(pool):
                state[name] = pool.state()
        return state

    def meta(self) -> dict[str, Any]:
        """Everything needed to rebuild, describe and resume this run (JSON-ready)."""
        meta = self.common_meta(
            model=MODEL_NAME,
            dataset=self.dataset,
            image_shape=self.model_config.image_shape,
            class_names=[],
            latent_dim=None,
        )
        meta["domains"] = {"a": self.config.data_a, "b": self.config.data_b}
        meta["lr"] = lr_at(self.step, self.config)
        meta["pool_sizes"] = {"a": len(self.pool_a), "b": len(self.pool_b)}
        return meta

    def load_training_state(self, out_dir: str | Path) -> None:
        """Restore weights, optimisers, pools, RNG, step and data position from ``out_dir/checkpoint``."""
        meta, weights, train_state = ckpt.load_weights_and_state(out_dir)
        self.restore(meta, weights, train_state, Path(out_dir) / "checkpoint")
        self.rng.set_state(train_state["rng/augment"])
        self.pool_a.load_state(train_state.get("pool/a"))
        self.pool_b.load_state(train_state.get("pool/b"))
        if self.channels_last:  # loading copies into the channels_last parameters, but be sure
            self.generators.to(memory_format=torch.channels_last)
            self.discriminators.to(memory_format=torch.channels_last)


def check_finite(losses: dict[str, float], step: int) -> None:
    """Raise ``TrainingDiverged`` naming every loss that became NaN or infinite."""
    bad = [name for name, value in losses.items() if not math.isfinite(value)]
    if bad:
        raise TrainingDiverged(
            f"the {', '.join(bad)} loss became non-finite at step {step} ({losses}); the last "
            "checkpoint on disk is kept. Try a lower --lr or --precision fp32, then --resume."
        )


def cycle_l1(reconstruction: torch.Tensor, original: torch.Tensor) -> torch.Tensor:
    """Mean absolute error |x' - x|₁ / N, the cycle (and identity) loss. 0 when x' == x."""
    return (reconstruction.float() - original.float()).abs().mean()


def cycle_loss(
    g_ab: torch.nn.Module,
    g_ba: torch.nn.Module,
    real_a: torch.Tensor,
    real_b: torch.Tensor,
    lambda_cycle: float = 10.0,
) -> torch.Tensor:
    """λ (|G_BA(G_AB(a)) - a|₁ + |G_AB(G_BA(b)) - b|₁): zero when both maps are the identity."""
    return lambda_cycle * (
        cycle_l1(g_ba(g_ab(real_a)), real_a) + cycle_l1(g_ab(g_ba(real_b)), real_b)
    )


def load_training_images(
    train: CycleGANTrainConfig, model_config: CycleGANConfig
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(images_a, images_b, samples_a, samples_b) for :class:`CycleGANTrainer`, uint8 each:
    the training sets at ``load_size`` and the fixed sample images at ``image_size``."""
    load = train.load_size or model_config.image_size
    size = model_config.image_size
    images_a, images_b = load_domain(train.data_a, load), load_domain(train.data_b, load)
    samples_a = load_domain(train.sample_a or train.data_a, size, train.num_samples)
    samples_b = load_domain(train.sample_b or train.data_b, size, train.num_samples)
    return images_a, images_b, samples_a, samples_b


def steps_for_epochs(epochs: float, n_a: int, n_b: int, batch_size: int) -> int:
    """Steps for ``epochs`` passes over the larger domain (at least one)."""
    return max(1, round(epochs * max(n_a, n_b) / batch_size))


def resume_trainer(
    out_dir: str | Path,
    device: torch.device | str = "cpu",
    *,
    steps: int | None = None,
    epochs: float | None = None,
    decay_start: int | None = None,
    command: str = "",
    dist: Distributed | None = None,
) -> CycleGANTrainer:
    """Rebuild a trainer from ``out_dir/checkpoint`` so it continues exactly where it stopped.

    A new ``steps`` (or ``epochs``) target keeps ``decay_start`` (unless one is given) and
    stretches the decay to the new end; the same target continues the stored schedule exactly.
    A run written by N processes resumes on ``dist``'s M (1 included) with the same global
    batch (per-process batch = global / M), so the data position carries over.
    """
    out_dir = Path(out_dir)
    meta = ckpt.read_meta(out_dir)
    if meta["model"] != MODEL_NAME:
        raise CycleGANUserError(f"--resume: {out_dir} holds a {meta['model']} run, not cyclegan")
    model_config = config_from_dict(get_spec(MODEL_NAME), meta["config"])
    known = {f.name for f in fields(CycleGANTrainConfig)}
    train = CycleGANTrainConfig(**{k: v for k, v in meta["train_config"].items() if k in known})
    world_size = dist.world_size if dist is not None else 1
    global_batch = int(meta.get("global_batch_size", train.batch_size))
    train.batch_size = resume_batch_size(global_batch, world_size)
    if epochs is not None:
        n_a, n_b = len(list_images(train.data_a)), len(list_images(train.data_b))
        steps = steps_for_epochs(epochs, n_a, n_b, global_batch)
    if steps is not None:
        if steps < meta["step"]:
            raise CycleGANUserError(
                f"--steps {steps} is below the checkpoint's step {meta['step']}"
            )
        train.steps = steps
    if decay_start is not None:
        train.decay_start = decay_start
    train.decay_start = min(int(train.decay_start or 0), train.steps)
    old_command = meta.get("command", "")
    if command and command != old_command:
        command = f"{old_command}  # resumed: {command}"
    trainer = CycleGANTrainer(
        model_config,
        train,
        *load_training_images(train, model_config),
        device,
        out_dir,
        command or old_command,
        meta.get("dataset", ""),
        dist,
    )
    trainer.load_training_state(out_dir)
    if trainer.dist.is_main:  # only the main process writes the run folder
        truncate_log(out_dir / "log.jsonl", trainer.step)
    return trainer
