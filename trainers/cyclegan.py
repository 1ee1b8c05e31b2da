"""CycleGAN training, translation and evaluation (Zhu et al. 2017, "Unpaired Image-to-Image
Translation using Cycle-Consistent Adversarial Networks").

Two domains A and B (horses and zebras) and no pairs. Two generators G_AB: A -> B and
G_BA: B -> A, and two PatchGAN discriminators D_A, D_B. One training step, with real a ~ A,
b ~ B (batch size 1 in the paper):

    fake_b = G_AB(a),  rec_a = G_BA(fake_b)          # A -> B -> A
    fake_a = G_BA(b),  rec_b = G_AB(fake_a)          # B -> A -> B

    G step (D frozen), LSGAN adversarial + cycle + identity:
        L_gan      = ½E[(D_B(fake_b) - 1)²] + ½E[(D_A(fake_a) - 1)²]      (LSGAN, Mao et al. 2017)
        L_cycle    = λ (|rec_a - a|₁ + |rec_b - b|₁)                       λ = 10
        L_identity = 0.5 λ (|G_BA(a) - a|₁ + |G_AB(b) - b|₁)              keeps colours when no change is needed
        L_G = L_gan + L_cycle + L_identity

    D step, on a fake drawn from a pool of 50 past fakes (Shrivastava et al. 2017):
        L_D_A = ½E[(D_A(a) - 1)²] + ½E[D_A(pool_a(fake_a))²]
        L_D_B = ½E[(D_B(b) - 1)²] + ½E[D_B(pool_b(fake_b))²]

Learning rate: Adam(2e-4, betas 0.5/0.999), constant for the first ``decay_start`` steps, then
linearly down to 0 at ``steps`` (the paper: 100 epochs constant + 100 epochs decay).

Everything random (data order, crops, flips, the pools' coin flips) comes from seeded generators
whose state is saved in the checkpoint, so ``--resume`` continues the exact same run.

Command lines (see ``add_arguments``, ``add_translate_arguments``, ``add_cyclegan_eval_arguments``):

    gan-train cyclegan --data-a ../shared/data/horse2zebra/trainA --data-b ../shared/data/horse2zebra/trainB \\
        --out runs/cyclegan-horse2zebra --image-size 64 --ngf 32 --n-blocks 6 --steps 6000
    gan-train cyclegan --out runs/cyclegan-horse2zebra --resume
    gan-train translate pretrained/cyclegan-horse2zebra --direction a2b --input horse.jpg --out zebra.png
    gan-train evaluate-cyclegan pretrained/cyclegan-horse2zebra --data ../shared/data/horse2zebra --out runs/eval
"""

from __future__ import annotations

import argparse
import json
import math
import shlex
import sys
import time
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from trainers import checkpoint as ckpt
from trainers.data import IMAGE_EXTENSIONS, to_uint8_images
from trainers.device import DEVICES, PRECISIONS, autocast, pick_device, resolve_precision
from trainers.engine import (
    TrainingDiverged,
    TrainingLoop,
    image_grid,
    truncate_log,
    write_run_options,
)
from trainers.events import Step
from trainers.models.blocks import UPSAMPLE_MODES
from trainers.models.cyclegan import (
    DIRECTIONS,
    CycleGANConfig,
    CycleGANDiscriminators,
    CycleGANGenerators,
    init_cyclegan_weights,
)
from trainers.registry import config_from_dict, get_spec

MODEL_NAME = "cyclegan"


class CycleGANUserError(ValueError):
    """Bad input (missing folder, not an image, ...). The CLI prints it as one line, exit status 2."""


# --- data ---------------------------------------------------------------------------------------


def list_images(folder: str | Path) -> list[Path]:
    """Image files directly inside ``folder`` (sorted), or a clear error."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CycleGANUserError(f"image folder {folder} does not exist")
    paths = sorted(
        p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS
    )
    if not paths:
        raise CycleGANUserError(
            f"no images ({', '.join(sorted(IMAGE_EXTENSIONS))}) found in {folder}"
        )
    return paths


def open_rgb(path: str | Path):
    """Open any image file as an RGB PIL image (grayscale and RGBA are converted), or a clear error."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            img.load()
            return img.convert("RGB")  # 7 of the zebras are grayscale: (H, W) -> (H, W, 3)
    except (UnidentifiedImageError, OSError, ValueError) as error:
        raise CycleGANUserError(
            f"{path} is not a readable image file ({type(error).__name__}: {error})"
        ) from None


def square_resize(img, size: int):
    """Centre-crop a PIL image to a square, then resize it to ``size`` x ``size`` (bicubic)."""
    from PIL import Image

    w, h = img.size
    side = min(w, h)
    left, top = (w - side) // 2, (h - side) // 2
    img = img.crop((left, top, left + side, top + side))
    return img.resize((size, size), Image.Resampling.BICUBIC) if side != size else img


def load_domain(folder: str | Path, size: int, limit: int | None = None) -> torch.Tensor:
    """Decode a folder of images once into memory: uint8 (N, 3, size, size)."""
    paths = list_images(folder)[:limit]
    arrays = [np.asarray(square_resize(open_rgb(p), size)) for p in paths]  # each (size, size, 3)
    return torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()


def to_model_range(images: torch.Tensor) -> torch.Tensor:
    """uint8 (B, C, H, W) -> float32 in [-1, 1]: x / 127.5 - 1."""
    return images.float().div(127.5).sub(1.0)


def random_crop_flip(
    images: torch.Tensor, size: int, flip: bool, rng: torch.Generator
) -> torch.Tensor:
    """The paper's augmentation: a random ``size`` crop of each (load_size) image, and a coin-flip
    horizontal mirror. uint8 (B, C, L, L) -> uint8 (B, C, size, size)."""
    b, _, h, w = images.shape
    out = []
    for i in range(b):
        top = int(torch.randint(0, h - size + 1, (1,), generator=rng))
        left = int(torch.randint(0, w - size + 1, (1,), generator=rng))
        crop = images[i, :, top : top + size, left : left + size]
        if flip and bool(torch.rand((), generator=rng) < 0.5):
            crop = crop.flip(-1)  # mirror left-right
        out.append(crop)
    return torch.stack(out)


def default_sample_folder(train_folder: str | Path) -> Path:
    """``.../trainA`` -> ``.../testA`` when it exists (the fixed sample images), else the train folder."""
    train_folder = Path(train_folder)
    if train_folder.name.startswith("train"):
        test = train_folder.with_name("test" + train_folder.name[len("train") :])
        if test.is_dir():
            return test
    return train_folder


# --- the image pool -----------------------------------------------------------------------------


class ImagePool:
    """A buffer of past fakes for the discriminator (Shrivastava et al. 2017; CycleGAN uses 50).

    D is shown a mix of this step's fakes and older ones, so it does not just chase the generator's
    latest output, which damps oscillation. For each new fake:
        - while the pool holds fewer than ``size`` images: store it and return it;
        - else, with probability ½: return a random stored fake and put the new one in its place;
        - else: return the new fake (the pool is unchanged).
    ``size`` 0 turns the pool off (always returns the new fakes).
    """

    def __init__(self, size: int = 50) -> None:
        self.size = size
        self.images: list[torch.Tensor] = []  # each (C, H, W), detached

    def __len__(self) -> int:
        return len(self.images)

    def query(self, fakes: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
        """(B, C, H, W) new fakes -> (B, C, H, W) fakes to show D (a mix of new and old)."""
        if self.size == 0:
            return fakes
        out = []
        for image in fakes.detach():
            if len(self.images) < self.size:
                self.images.append(image.clone())
                out.append(image)
            elif bool(torch.rand((), generator=rng) < 0.5):
                index = int(torch.randint(0, self.size, (1,), generator=rng))
                out.append(self.images[index].clone())
                self.images[index] = image.clone()
            else:
                out.append(image)
        return torch.stack(out)

    def state(self) -> torch.Tensor:
        """All stored fakes as one float32 tensor (N, C, H, W), for the checkpoint."""
        if not self.images:
            return torch.zeros(0)
        return torch.stack(self.images).float()

    def load_state(self, stored: torch.Tensor | None) -> None:
        self.images = [] if stored is None or stored.numel() == 0 else [t.clone() for t in stored]


# --- training -----------------------------------------------------------------------------------


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

        torch.manual_seed(config.seed)
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
        self.pool_a, self.pool_b = ImagePool(config.pool_size), ImagePool(config.pool_size)

        self.step = 0
        self.batches_drawn = 0  # sets the data order (per-epoch permutations seeded by epoch)
        self.wall_time_before = 0.0
        self.rng = torch.Generator().manual_seed(config.seed + 1)  # crops, flips, pool coin flips

    # --- data -----------------------------------------------------------------------------------

    @property
    def steps_per_epoch(self) -> int:
        """One epoch = one pass over the larger domain (the paper's dataset length max(|A|, |B|))."""
        return max(1, max(len(self.images_a), len(self.images_b)) // self.config.batch_size)

    @property
    def epoch(self) -> float:
        return self.batches_drawn / self.steps_per_epoch

    def _indices(self, n: int, epoch: int, index: int, salt: int) -> torch.Tensor:
        """Batch ``index`` of epoch ``epoch`` for a domain of n images: a seeded permutation,
        repeated when the other domain is larger. Pure function of its inputs -> exact resume."""
        gen = torch.Generator().manual_seed(self.config.seed * 100_003 + epoch * 2 + salt)
        order = torch.randperm(n, generator=gen)
        b = self.config.batch_size
        positions = torch.arange(index * b, (index + 1) * b) % n
        return order[positions]

    def _batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The next (real_a, real_b) pair of batches, augmented, float in [-1, 1], (B, 3, S, S) each."""
        epoch, index = divmod(self.batches_drawn, self.steps_per_epoch)
        self.batches_drawn += 1
        size = self.model_config.image_size
        batches = []
        for salt, images in enumerate((self.images_a, self.images_b)):
            chosen = images[self._indices(len(images), epoch, index, salt)]  # uint8 (B, 3, L, L)
            x = to_model_range(random_crop_flip(chosen, size, self.config.flip, self.rng)).to(
                self.device
            )
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
        g_ab, g_ba = self.generators.a2b, self.generators.b2a

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
        with autocast(self.device, self.precision):
            real_logits_a = self.discriminators.a(real_a)
            real_logits_b = self.discriminators.b(real_b)
            loss_d_a = self.lsgan_real(real_logits_a) + self.lsgan_fake(
                self.discriminators.a(pooled_a)
            )
            loss_d_b = self.lsgan_real(real_logits_b) + self.lsgan_fake(
                self.discriminators.b(pooled_b)
            )
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
        bad = [name for name, value in losses.items() if not math.isfinite(value)]
        if bad:
            raise TrainingDiverged(
                f"the {', '.join(bad)} loss became non-finite at step {self.step} ({losses}); the last checkpoint "
                "on disk is kept. Try a lower --lr or --precision fp32, then --resume."
            )
        elapsed = time.perf_counter() - start
        return Step(
            step=self.step,
            epoch=self.epoch,
            losses=losses | {"lr": lr},
            # mean LSGAN patch scores (1 = "real", 0 = "fake"); fakes scored by D before its update
            d_real=0.5 * (real_logits_a.float().mean() + real_logits_b.float().mean()).item(),
            d_fake=0.5 * (fake_logits_a.float().mean() + fake_logits_b.float().mean()).item(),
            images_per_s=2 * cfg.batch_size / max(elapsed, 1e-9),
            wall_time=self.wall_time(),
        )

    # --- samples --------------------------------------------------------------------------------

    @torch.no_grad()
    def sample_grid(self) -> np.ndarray:
        """uint8 grid, one row per fixed test image pair:  a | G_AB(a) | G_BA(G_AB(a)) | b | G_BA(b) | G_AB(G_BA(b))."""
        self.generators.eval()
        a = to_model_range(self.samples_a).to(self.device)  # (n, 3, S, S)
        b = to_model_range(self.samples_b).to(self.device)
        n = min(len(a), len(b))
        a, b = a[:n], b[:n]
        fake_b = self.generators.a2b(a)
        fake_a = self.generators.b2a(b)
        columns = [a, fake_b, self.generators.b2a(fake_b), b, fake_a, self.generators.a2b(fake_a)]
        rows = torch.stack(columns, dim=1).flatten(0, 1)  # (n * 6, 3, S, S), row-major
        self.generators.train()
        return image_grid(to_uint8_images(rows), nrow=6)

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


# --- CLI: training ------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``gan-train cyclegan``."""
    data = parser.add_argument_group("data")
    data.add_argument(
        "--data-a", type=Path, help="folder of domain A images (e.g. horse2zebra/trainA)"
    )
    data.add_argument(
        "--data-b", type=Path, help="folder of domain B images (e.g. horse2zebra/trainB)"
    )
    data.add_argument(
        "--sample-a",
        type=Path,
        help="fixed A images for the sample grid (default: sibling testA if any)",
    )
    data.add_argument(
        "--sample-b",
        type=Path,
        help="fixed B images for the sample grid (default: sibling testB if any)",
    )
    data.add_argument(
        "--dataset-name", help="name recorded in the checkpoint (default: the parent folder's name)"
    )
    data.add_argument(
        "--image-size",
        type=int,
        default=64,
        help="side of the training crops (default 64; paper 256)",
    )
    data.add_argument(
        "--load-size",
        type=int,
        help="images are resized to this, then cropped (default 1.125 x size)",
    )
    data.add_argument("--no-flip", action="store_true", help="no random horizontal flips")
    length = parser.add_mutually_exclusive_group()
    length.add_argument(
        "--steps", type=int, help="total steps (default 1000); with --resume, a new target"
    )
    length.add_argument(
        "--epochs", type=float, help="passes over the larger domain (converted to steps)"
    )
    parser.add_argument(
        "--decay-start", type=int, help="step where the linear LR decay starts (default steps/2)"
    )
    run = parser.add_argument_group("run")
    run.add_argument("--out", type=Path, help="run folder (default runs/cyclegan-<dataset>)")
    run.add_argument(
        "--resume", action="store_true", help="continue the run in --out from its last checkpoint"
    )
    run.add_argument(
        "--dry-run",
        action="store_true",
        help="2 steps on tiny random images, save, reload; seconds",
    )
    run.add_argument("--device", default="auto", choices=DEVICES)
    run.add_argument("--precision", default="auto", choices=PRECISIONS)
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--sample-every", type=int, default=250)
    run.add_argument("--checkpoint-every", type=int, default=250)
    run.add_argument("--log-every", type=int, default=10)
    run.add_argument(
        "--num-samples", type=int, default=4, help="fixed test images per direction in the grid"
    )
    opt = parser.add_argument_group("optimisation")
    opt.add_argument("--batch-size", type=int, default=1)
    opt.add_argument("--lr", type=float, default=2e-4)
    opt.add_argument("--beta1", type=float, default=0.5)
    opt.add_argument("--lambda-cycle", type=float, default=10.0)
    opt.add_argument(
        "--lambda-identity", type=float, default=0.5, help="fraction of lambda-cycle (0 = off)"
    )
    opt.add_argument("--pool-size", type=int, default=50)
    model = parser.add_argument_group("model")
    model.add_argument("--ngf", type=int, default=32, help="generator width (paper 64)")
    model.add_argument("--ndf", type=int, default=64, help="discriminator width (paper 64)")
    model.add_argument(
        "--n-blocks", type=int, default=6, help="residual blocks (paper 9 at 256 px, 6 at 128 px)"
    )
    model.add_argument("--upsample", choices=UPSAMPLE_MODES, default="convtranspose")


def _command_line(args: argparse.Namespace) -> str:
    if getattr(args, "command_line", None):
        return args.command_line
    argv = sys.argv[1:]
    if argv and argv[0] == MODEL_NAME:
        return "gan-train " + shlex.join(argv)
    return "CycleGANTrainer via run_from_args (" + shlex.join(str(a) for a in argv) + ")"


def _load_images(
    train: CycleGANTrainConfig, model_config: CycleGANConfig
) -> tuple[torch.Tensor, ...]:
    load = train.load_size or model_config.image_size
    size = model_config.image_size
    images_a, images_b = load_domain(train.data_a, load), load_domain(train.data_b, load)
    samples_a = load_domain(train.sample_a or train.data_a, size, train.num_samples)
    samples_b = load_domain(train.sample_b or train.data_b, size, train.num_samples)
    return images_a, images_b, samples_a, samples_b


def _steps(args: argparse.Namespace, n_a: int, n_b: int, batch_size: int) -> int | None:
    if args.epochs is not None:
        return max(1, round(args.epochs * max(n_a, n_b) / batch_size))
    return args.steps


def run_from_args(args: argparse.Namespace) -> int:
    """``gan-train cyclegan ...``: build (or resume) a trainer and run it with the CLI callbacks."""
    from trainers.cli import ProgressBar
    from trainers.engine import JsonlLogger, SampleSaver
    from trainers.events import CallbackList

    device = pick_device(args.device)
    command = _command_line(args)
    if args.dry_run:
        return _dry_run(args, device)
    if args.resume:
        if args.out is None:
            raise CycleGANUserError("--resume needs --out, the run folder to continue")
        trainer = resume_trainer(args.out, device, args, command)
        out = Path(args.out)
    else:
        if args.data_a is None or args.data_b is None:
            raise CycleGANUserError(
                "gan-train cyclegan needs --data-a DIR and --data-b DIR (or --resume / --dry-run)"
            )
        name = args.dataset_name or Path(args.data_a).resolve().parent.name
        out = Path(args.out) if args.out else Path("runs") / f"cyclegan-{name}"
        if (out / "checkpoint" / ckpt.META_FILE).is_file():
            raise CycleGANUserError(
                f"{out} already holds a checkpoint; pass --resume to continue it or choose another --out"
            )
        model_config = CycleGANConfig(
            image_size=args.image_size,
            ngf=args.ngf,
            ndf=args.ndf,
            n_residual_blocks=args.n_blocks,
            upsample=args.upsample,
        )
        n_a, n_b = len(list_images(args.data_a)), len(list_images(args.data_b))
        steps = _steps(args, n_a, n_b, args.batch_size) or 1000
        train = CycleGANTrainConfig(
            data_a=str(args.data_a),
            data_b=str(args.data_b),
            sample_a=str(args.sample_a or default_sample_folder(args.data_a)),
            sample_b=str(args.sample_b or default_sample_folder(args.data_b)),
            steps=steps,
            decay_start=args.decay_start,
            batch_size=args.batch_size,
            load_size=args.load_size or int(round(args.image_size * 1.125)),
            flip=not args.no_flip,
            lr=args.lr,
            beta1=args.beta1,
            lambda_cycle=args.lambda_cycle,
            lambda_identity=args.lambda_identity,
            pool_size=args.pool_size,
            seed=args.seed,
            precision=args.precision,
            sample_every=args.sample_every,
            checkpoint_every=args.checkpoint_every,
            log_every=args.log_every,
            num_samples=args.num_samples,
        )
        trainer = CycleGANTrainer(
            model_config, train, *_load_images(train, model_config), device, out, command, name
        )
        write_run_options(out, command, train, model_config)
    cfg = trainer.config
    print(
        f"gan-train: cyclegan {trainer.model_config.image_size}px ngf {trainer.model_config.ngf} "
        f"blocks {trainer.model_config.n_residual_blocks} on {len(trainer.images_a)} A + {len(trainer.images_b)} B images, "
        f"device {trainer.device}, precision {trainer.precision}, steps {trainer.step} -> {cfg.steps} "
        f"(LR decay from {cfg.decay_start}), run folder {out}",
        file=sys.stderr,
    )
    callback = CallbackList(
        [
            ProgressBar(cfg.steps, trainer.step),
            JsonlLogger(out / "log.jsonl", cfg.log_every),
            SampleSaver(out / "samples"),
        ]
    )
    finished = trainer.run(callback)
    print(
        f"gan-train: {finished.reason} at step {finished.step}; checkpoint in {out / 'checkpoint'}",
        file=sys.stderr,
    )
    return 0


def resume_trainer(
    out_dir: str | Path,
    device: torch.device | str = "cpu",
    args: argparse.Namespace | None = None,
    command: str = "",
) -> CycleGANTrainer:
    """Rebuild a trainer from ``out_dir/checkpoint`` so it continues exactly where it stopped.

    A new ``--steps``/``--epochs`` target keeps ``decay_start`` (unless ``--decay-start`` is given)
    and stretches the decay to the new end; the same target continues the stored schedule exactly.
    """
    out_dir = Path(out_dir)
    meta = ckpt.read_meta(out_dir)
    if meta["model"] != MODEL_NAME:
        raise CycleGANUserError(f"--resume: {out_dir} holds a {meta['model']} run, not cyclegan")
    model_config = config_from_dict(get_spec(MODEL_NAME), meta["config"])
    known = {f.name for f in fields(CycleGANTrainConfig)}
    train = CycleGANTrainConfig(**{k: v for k, v in meta["train_config"].items() if k in known})
    if args is not None:
        steps = _steps(
            args, len(list_images(train.data_a)), len(list_images(train.data_b)), train.batch_size
        )
        if steps is not None:
            if steps < meta["step"]:
                raise CycleGANUserError(
                    f"--steps {steps} is below the checkpoint's step {meta['step']}"
                )
            train.steps = steps
        if getattr(args, "decay_start", None) is not None:
            train.decay_start = args.decay_start
        train.decay_start = min(int(train.decay_start or 0), train.steps)
    old_command = meta.get("command", "")
    if command and command != old_command:
        command = f"{old_command}  # resumed: {command}"
    trainer = CycleGANTrainer(
        model_config,
        train,
        *_load_images(train, model_config),
        device,
        out_dir,
        command or old_command,
        meta.get("dataset", ""),
    )
    trainer.load_training_state(out_dir)
    truncate_log(out_dir / "log.jsonl", trainer.step)
    return trainer


def _dry_run(args: argparse.Namespace, device: torch.device) -> int:
    """2 steps on tiny random images (32 px), save, reload, compare outputs."""
    import tempfile

    gen = torch.Generator().manual_seed(args.seed)
    images_a = torch.randint(0, 256, (6, 3, 36, 36), dtype=torch.uint8, generator=gen)
    images_b = torch.randint(0, 256, (6, 3, 36, 36), dtype=torch.uint8, generator=gen)
    model_config = CycleGANConfig(
        image_size=32, ngf=8, ndf=8, n_residual_blocks=2, upsample=args.upsample
    )
    train = CycleGANTrainConfig(
        steps=2, sample_every=0, checkpoint_every=0, precision=args.precision, num_samples=2
    )
    with tempfile.TemporaryDirectory() as tmp:
        trainer = CycleGANTrainer(
            model_config, train, images_a, images_b, device=device, out_dir=Path(tmp) / "run"
        )
        losses: list[dict[str, float]] = []
        trainer.run(lambda e: losses.append(e.losses) if isinstance(e, Step) else None)
        loaded = ckpt.load_checkpoint(Path(tmp) / "run" / "checkpoint", device)
        x = to_model_range(images_a[:2, :, :32, :32]).to(device)
        trainer.generators.eval()
        with torch.no_grad():
            same = torch.allclose(
                trainer.generators(x, "a2b"), loaded.generator(x, "a2b"), atol=1e-5
            )
        if not same:
            raise CycleGANUserError("dry run: the reloaded checkpoint gives different images")
    print(
        f"dry run OK: cyclegan 32px, 2 steps, last losses {losses[-1]}, checkpoint round trip identical"
    )
    return 0


# --- translation --------------------------------------------------------------------------------


def prepare_image(img, size: int, max_side: int = 1024):
    """Any PIL image -> an RGB image the generator can take.

    The shorter side is resized to ``size`` (keeping the aspect ratio), the longer side is capped
    at ``max_side``, and both sides are centre-cropped down to multiples of 4 (the generator halves
    and doubles twice).
    """
    from PIL import Image

    img = img.convert("RGB")
    w, h = img.size
    scale = size / min(w, h)
    if max(w, h) * scale > max_side:
        scale = max_side / max(w, h)
    new_w, new_h = max(4, round(w * scale)), max(4, round(h * scale))
    img = img.resize((new_w, new_h), Image.Resampling.BICUBIC)
    crop_w, crop_h = new_w - new_w % 4, new_h - new_h % 4
    left, top = (new_w - crop_w) // 2, (new_h - crop_h) // 2
    return img.crop((left, top, left + crop_w, top + crop_h))


def pil_to_tensor(img) -> torch.Tensor:
    """RGB PIL image -> float (1, 3, H, W) in [-1, 1]."""
    array = torch.from_numpy(np.asarray(img.convert("RGB")).copy()).permute(
        2, 0, 1
    )  # (3, H, W) uint8
    return to_model_range(array.unsqueeze(0))


@torch.no_grad()
def translate_tensor(
    generators: torch.nn.Module, x: torch.Tensor, direction: str, precision: str = "auto"
) -> tuple[torch.Tensor, torch.Tensor]:
    """(translation, cycle reconstruction) of (B, 3, H, W) images in [-1, 1].

    a2b: (G_AB(x), G_BA(G_AB(x)));  b2a: (G_BA(x), G_AB(G_BA(x))).
    ``precision`` "auto" runs the convolutions under bf16 autocast where the CPU (or GPU) has
    fast bf16 (about 1.8x faster for a 256 px image here, see benchmarks/cyclegan_speed.py);
    "fp32" keeps everything in float32.
    """
    if direction not in DIRECTIONS:
        raise CycleGANUserError(f"unknown direction {direction!r}; choose a2b or b2a")
    back = "b2a" if direction == "a2b" else "a2b"
    param = next(generators.parameters())
    precision = resolve_precision(precision, param.device, convolutional=True)
    with autocast(param.device, precision):
        fake = generators(x.to(param.device, param.dtype), direction)
        rec = generators(fake, back)
    return fake.float().clamp(-1, 1), rec.float().clamp(-1, 1)


def load_cyclegan(path: str | Path, device: str | torch.device = "cpu") -> ckpt.LoadedCheckpoint:
    """A CycleGAN checkpoint (folder, run folder or its meta.json) for inference, in float32."""
    loaded = ckpt.load_checkpoint(path, device)
    if loaded.meta.get("model") != MODEL_NAME:
        raise CycleGANUserError(
            f"{loaded.path} is a {loaded.meta.get('model')} checkpoint, not a CycleGAN"
        )
    loaded.generator.float()
    return loaded


def translate_file(
    loaded: ckpt.LoadedCheckpoint, source: Path, target: Path, direction: str, size: int
) -> None:
    """Translate one image file into ``target`` (PNG/JPEG by its suffix)."""
    from PIL import Image

    img = prepare_image(open_rgb(source), size)
    fake, _ = translate_tensor(
        loaded.generator,
        pil_to_tensor(img).to(next(loaded.generator.parameters()).device),
        direction,
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(to_uint8_images(fake)[0]).save(target)


def add_translate_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``gan-train translate``."""
    parser.add_argument(
        "checkpoint", type=Path, help="a CycleGAN checkpoint folder (or run folder)"
    )
    parser.add_argument(
        "--direction", choices=DIRECTIONS, default="a2b", help="a2b (e.g. horse -> zebra) or b2a"
    )
    parser.add_argument(
        "--input", type=Path, required=True, help="an image file or a folder of images"
    )
    parser.add_argument(
        "--out", type=Path, required=True, help="an image file (for one input) or a folder"
    )
    parser.add_argument(
        "--size",
        type=int,
        help="shorter side to translate at (default: the training size x 2, at most 256)",
    )
    parser.add_argument("--device", default="auto", choices=DEVICES)


def run_translate_from_args(args: argparse.Namespace) -> int:
    """``gan-train translate``: one file -> one file, or a folder -> a folder of PNGs."""
    device = pick_device(args.device)
    loaded = load_cyclegan(args.checkpoint, device)
    size = args.size or default_translate_size(loaded.config)
    source: Path = args.input
    if not source.exists():
        raise CycleGANUserError(f"--input {source} does not exist")
    if source.is_dir():
        paths = list_images(source)
        out: Path = args.out
        if out.suffix.lower() in IMAGE_EXTENSIONS:
            raise CycleGANUserError(
                f"--input {source} is a folder, so --out must be a folder, not {out}"
            )
        for path in paths:
            translate_file(
                loaded, path, out / f"{path.stem}_{args.direction}.png", args.direction, size
            )
        print(f"translated {len(paths)} images {args.direction} at {size} px into {out}")
        return 0
    out = args.out
    if out.is_dir() or out.suffix.lower() not in IMAGE_EXTENSIONS:
        out = out / f"{source.stem}_{args.direction}.png"
    translate_file(loaded, source, out, args.direction, size)
    print(f"translated {source} {args.direction} at {size} px -> {out}")
    return 0


def default_translate_size(config: CycleGANConfig) -> int:
    """Translate at twice the training crop (up to 256 px): the nets are fully convolutional, and a
    64 px model still paints its textures at 128 px while giving a picture you can see."""
    return min(256, 2 * config.image_size)


# --- evaluation ---------------------------------------------------------------------------------


def add_cyclegan_eval_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``gan-train evaluate-cyclegan``."""
    parser.add_argument(
        "checkpoint", type=Path, help="a CycleGAN checkpoint folder (or run folder)"
    )
    parser.add_argument(
        "--data", type=Path, help="folder with testA/testB (and trainA/trainB for the classifier)"
    )
    parser.add_argument("--test-a", type=Path, help="test images of domain A (default DATA/testA)")
    parser.add_argument("--test-b", type=Path, help="test images of domain B (default DATA/testB)")
    parser.add_argument(
        "--classifier",
        type=Path,
        help="A-vs-B classifier folder (default pretrained/classifiers/<dataset>)",
    )
    parser.add_argument(
        "--train-classifier",
        action="store_true",
        help="(re)train the classifier on DATA/trainA, trainB",
    )
    parser.add_argument(
        "--size", type=int, help="side the test images are evaluated at (default: the model's)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        help="output folder (before/after grids, results.json); keep it outside git",
    )
    parser.add_argument(
        "--grid-n", type=int, default=8, help="test images per direction in the before/after grid"
    )
    parser.add_argument(
        "--write-meta", action="store_true", help="store the figures in the checkpoint's meta.json"
    )
    parser.add_argument("--seed", type=int, default=0)


class DomainClassifier(torch.nn.Module):
    """A small A-vs-B CNN for the evaluation: (B, 3, H, W) in [-1, 1] -> logits (B, 2).

    Three stride-2 conv stages and a global average pool, so it judges texture and colour
    anywhere in the picture (and works at any input size):
        (B, 3, H, W) -> (B, w, H/2, W/2) -> (B, 2w, H/4, W/4) -> (B, 4w, H/8, W/8) -> (B, 4w, H/16, W/16)
        -> mean over H, W -> (B, 4w) -> Linear -> (B, 2)
    """

    def __init__(self, width: int = 32) -> None:
        super().__init__()
        self.width = width
        layers: list[torch.nn.Module] = []
        channels = 3
        for out in (width, 2 * width, 4 * width, 4 * width):
            layers += [
                torch.nn.Conv2d(channels, out, kernel_size=3, stride=2, padding=1, bias=False),
                torch.nn.BatchNorm2d(out),
                torch.nn.ReLU(inplace=True),
            ]
            channels = out
        self.body = torch.nn.Sequential(*layers)
        self.head = torch.nn.Linear(channels, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x).mean(dim=(2, 3)))


DOMAIN_CLASSIFIER_KIND = "gan-explorer-domain-classifier"
DEFAULT_CLASSIFIER_ROOT = Path(__file__).resolve().parents[1] / "pretrained" / "classifiers"


def train_domain_classifier(
    train_a: torch.Tensor,
    train_b: torch.Tensor,
    size: int,
    epochs: int = 8,
    batch_size: int = 32,
    lr: float = 2e-3,
    seed: int = 0,
    log=print,
) -> DomainClassifier:
    """Train the A (label 0) vs B (label 1) classifier on uint8 (N, 3, L, L) images with random
    ``size`` crops and flips, Adam and a cosine-annealed learning rate. Cross-entropy loss:
        L = -mean_i log softmax(f(x_i))[y_i]
    """
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    images = torch.cat([train_a, train_b])  # (N_A + N_B, 3, L, L)
    labels = torch.cat([torch.zeros(len(train_a)), torch.ones(len(train_b))]).long()
    model = DomainClassifier()
    steps = epochs * (len(images) // batch_size)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    model.train()
    for step in range(steps):
        idx = torch.randint(0, len(images), (batch_size,), generator=gen)
        x = to_model_range(random_crop_flip(images[idx], size, True, gen))
        loss = F.cross_entropy(model(x), labels[idx])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        if step % 100 == 0:
            log(f"classifier step {step}/{steps} loss {loss.item():.3f}")
    return model.eval()


def save_domain_classifier(model: DomainClassifier, directory: Path, meta: dict[str, Any]) -> None:
    """``model.safetensors`` + ``meta.json`` (no pickles)."""
    ckpt.save_helper_model(
        model, directory, {"kind": DOMAIN_CLASSIFIER_KIND, "width": model.width, **meta}
    )


def load_domain_classifier(directory: str | Path) -> tuple[DomainClassifier, dict[str, Any]]:
    meta, state = ckpt.read_helper_model(
        directory,
        DOMAIN_CLASSIFIER_KIND,
        "domain classifier",
        hint="pass --train-classifier to train one",
    )
    model = DomainClassifier(meta.get("width", 32))
    model.load_state_dict(state, strict=True)
    return model.eval(), meta


@torch.no_grad()
def share_classified_b(classifier: DomainClassifier, images: torch.Tensor) -> float:
    """Fraction of float (N, 3, H, W) images the classifier calls domain B."""
    predictions = torch.cat(
        [classifier(images[i : i + 64]).argmax(1) for i in range(0, len(images), 64)]
    )
    return predictions.float().mean().item()


@torch.no_grad()
def translate_all(
    generators: torch.nn.Module, images: torch.Tensor, direction: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """(translations, reconstructions) of float (N, 3, H, W) images, 16 at a time."""
    fakes, recs = [], []
    for i in range(0, len(images), 16):
        # fp32 so the figures do not depend on whether this CPU has fast bf16
        fake, rec = translate_tensor(generators, images[i : i + 16], direction, precision="fp32")
        fakes.append(fake)
        recs.append(rec)
    return torch.cat(fakes), torch.cat(recs)


def before_after_grid(generators: torch.nn.Module, a: torch.Tensor, b: torch.Tensor) -> np.ndarray:
    """uint8 grid, one row per test pair:  a | G_AB(a) | G_BA(G_AB(a)) | b | G_BA(b) | G_AB(G_BA(b))."""
    fake_b, rec_a = translate_all(generators, a, "a2b")
    fake_a, rec_b = translate_all(generators, b, "b2a")
    rows = torch.stack([a, fake_b, rec_a, b, fake_a, rec_b], dim=1).flatten(
        0, 1
    )  # (n * 6, 3, H, W)
    return image_grid(to_uint8_images(rows), nrow=6)


def evaluate_cyclegan(
    checkpoint: str | Path,
    test_a: str | Path,
    test_b: str | Path,
    classifier: DomainClassifier,
    out: Path,
    size: int | None = None,
    grid_n: int = 8,
    seed: int = 0,
) -> dict[str, Any]:
    """Cycle L1 and target-domain rates on the test images; writes before/after grids to ``out``.

    Figures (pixels in [-1, 1], so an L1 of 0.1 is about 13 grey levels of 255):
        cycle_l1_a = mean |G_BA(G_AB(a)) - a|,   cycle_l1_b = mean |G_AB(G_BA(b)) - b|
        a2b_target_rate = share of G_AB(test A) the classifier calls B
            beside: the share of untouched test A it calls B (the floor) and of test B (its ceiling)
        b2a_target_rate = share of G_BA(test B) the classifier calls A
            beside: the share of untouched test B it calls A, and of test A
        control_rec_a_called_b / control_rec_b_called_a = the same rates on the cycle
            reconstructions (they carry the generators' artefacts but should look like the source)
    """
    from PIL import Image

    loaded = load_cyclegan(checkpoint)
    size = size or loaded.config.image_size
    a = to_model_range(load_domain(test_a, size))  # (N_A, 3, size, size)
    b = to_model_range(load_domain(test_b, size))
    fake_b, rec_a = translate_all(loaded.generator, a, "a2b")
    fake_a, rec_b = translate_all(loaded.generator, b, "b2a")
    result: dict[str, Any] = {
        "checkpoint": str(loaded.path),
        "step": loaded.meta.get("step"),
        "size": size,
        "test_images": {"a": len(a), "b": len(b)},
        "cycle_l1_a": round(cycle_l1(rec_a, a).item(), 4),
        "cycle_l1_b": round(cycle_l1(rec_b, b).item(), 4),
        "a2b_target_rate": round(share_classified_b(classifier, fake_b), 4),
        "a2b_rate_on_untouched_test_a": round(share_classified_b(classifier, a), 4),
        "b2a_target_rate": round(1 - share_classified_b(classifier, fake_a), 4),
        "b2a_rate_on_untouched_test_b": round(1 - share_classified_b(classifier, b), 4),
        # control: reconstructions went through both generators (same artefacts) but should look
        # like their source domain again; a high "target" rate here means the classifier reacts to
        # generator artefacts rather than to stripes
        "control_rec_a_called_b": round(share_classified_b(classifier, rec_a), 4),
        "control_rec_b_called_a": round(1 - share_classified_b(classifier, rec_b), 4),
        "classifier_accuracy_test_a": round(1 - share_classified_b(classifier, a), 4),
        "classifier_accuracy_test_b": round(share_classified_b(classifier, b), 4),
        "note": "target rate = share of translated test images the domain classifier assigns to the target domain; "
        "'untouched' = the same share for the source test images before translation",
    }
    out.mkdir(parents=True, exist_ok=True)
    gen = torch.Generator().manual_seed(seed)
    pick_a = torch.randperm(len(a), generator=gen)[:grid_n]
    pick_b = torch.randperm(len(b), generator=gen)[:grid_n]
    grid = before_after_grid(loaded.generator, a[pick_a], b[pick_b])
    Image.fromarray(grid).save(out / f"before_after_{size}px.png")
    big = default_translate_size(loaded.config)  # also at the translate CLI's default size
    if big != size:
        a_big = to_model_range(load_domain(test_a, big))[pick_a]
        b_big = to_model_range(load_domain(test_b, big))[pick_b]
        Image.fromarray(before_after_grid(loaded.generator, a_big, b_big)).save(
            out / f"before_after_{big}px.png"
        )
    (out / "results.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


def evaluate_from_args(args: argparse.Namespace) -> int:
    """``gan-train evaluate-cyclegan``: train or load the classifier, evaluate, print and save figures."""
    if args.data is None and (args.test_a is None or args.test_b is None):
        raise CycleGANUserError("pass --data DIR (with testA/testB) or both --test-a and --test-b")
    test_a = args.test_a or args.data / "testA"
    test_b = args.test_b or args.data / "testB"
    meta = ckpt.read_meta(args.checkpoint)
    dataset = meta.get("dataset") or "cyclegan"
    classifier_dir = args.classifier or DEFAULT_CLASSIFIER_ROOT / dataset
    size = args.size or int(meta["config"]["image_size"])
    if args.train_classifier:
        if args.data is None:
            raise CycleGANUserError("--train-classifier needs --data DIR with trainA/trainB")
        start = time.perf_counter()
        load = int(round(size * 1.125))
        model = train_domain_classifier(
            load_domain(args.data / "trainA", load),
            load_domain(args.data / "trainB", load),
            size,
            seed=args.seed,
            log=lambda m: print(m, file=sys.stderr),
        )
        a, b = to_model_range(load_domain(test_a, size)), to_model_range(load_domain(test_b, size))
        accuracy = (
            (1 - share_classified_b(model, a)) * len(a) + share_classified_b(model, b) * len(b)
        ) / (len(a) + len(b))
        save_domain_classifier(
            model,
            classifier_dir,
            {
                "dataset": dataset,
                "class_names": ["A", "B"],
                "domains": {"A": str(args.data / "trainA"), "B": str(args.data / "trainB")},
                "image_size": size,
                "normalisation": "pixels in [-1, 1]",
                "test_accuracy": round(accuracy, 4),
                "test_images": len(a) + len(b),
                "train_seconds": round(time.perf_counter() - start, 1),
                "command": "gan-train " + shlex.join(sys.argv[1:]),
            },
        )
        print(
            f"domain classifier: test accuracy {accuracy:.4f} -> {classifier_dir}", file=sys.stderr
        )
    classifier, _ = load_domain_classifier(classifier_dir)
    result = evaluate_cyclegan(
        args.checkpoint, test_a, test_b, classifier, args.out, size, args.grid_n, args.seed
    )
    print(json.dumps(result, indent=2))
    if args.write_meta:
        meta_path = Path(result["checkpoint"]) / ckpt.META_FILE
        stored = json.loads(meta_path.read_text())
        stored["metrics"] = {k: v for k, v in result.items() if k != "checkpoint"}
        tmp = meta_path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(stored, indent=2) + "\n")
        tmp.replace(meta_path)
    print(f"before/after grids and results.json in {args.out}", file=sys.stderr)
    return 0


def run_cyclegan_eval_from_args(args: argparse.Namespace) -> int:
    """Entry point of ``gan-train evaluate-cyclegan``."""
    return evaluate_from_args(args)


# --- export -------------------------------------------------------------------------------------


def export_generators(
    source: str | Path,
    out: str | Path,
    half: bool = True,
    name: str | None = None,
    note: str | None = None,
) -> Path:
    """An inference-only copy of a CycleGAN run: G_AB and G_BA only (no discriminators, no
    optimiser state), optionally in float16 (loaded back into float32 modules). The meta keeps
    the exact command, total steps, wall time and device of the run.

        python -m trainers.cyclegan export runs/cyclegan-horse2zebra pretrained/cyclegan-horse2zebra --half
    """
    from safetensors.torch import load_file

    directory = ckpt.resolve_checkpoint_dir(source)
    meta = ckpt.read_meta(directory)
    if meta.get("model") != MODEL_NAME:
        raise CycleGANUserError(f"{directory} is a {meta.get('model')} checkpoint, not a CycleGAN")
    weights = load_file(str(directory / ckpt.WEIGHTS_FILE))
    exported = {
        k: (v.half() if half and v.is_floating_point() else v)
        for k, v in weights.items()
        if k.startswith("G.")
    }
    meta = {
        k: v
        for k, v in meta.items()
        if k not in ("format", "kind", "optimizer_param_groups", "pool_sizes")
    }
    meta["weights_dtype"] = "float16" if half else "float32"
    meta["contents"] = (
        "generators only: G.a2b (A -> B) and G.b2a (B -> A); no discriminators, no train state"
    )
    meta["exported_from"] = str(directory)
    meta["total_steps"] = meta.get("step")
    meta["wall_time_h"] = round(float(meta.get("wall_time_s", 0.0)) / 3600, 2)
    meta["cpu"] = _cpu_name() if meta.get("device") == "cpu" else None
    if name:
        meta["name"] = name
    if note:
        meta["note"] = note
    ckpt.save_checkpoint(out, meta, exported)
    load_cyclegan(out)  # refuse to leave behind something we cannot read
    return Path(out)


def _cpu_name() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else the platform's processor string."""
    import os
    import platform

    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return f"{line.split(':', 1)[1].strip()} ({os.cpu_count()} logical CPUs)"
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m trainers.cyclegan", description="CycleGAN helpers"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("export", help="inference-only copy of a run (generators only)")
    p.add_argument("source", type=Path, help="a run folder or checkpoint folder")
    p.add_argument(
        "out", type=Path, help="the folder to write, e.g. pretrained/cyclegan-horse2zebra"
    )
    p.add_argument("--half", action="store_true", help="store weights as float16 (half the size)")
    p.add_argument("--name", help="display name stored in meta.json")
    p.add_argument("--note", help="free text stored in meta.json (e.g. how the CPU was shared)")
    args = parser.parse_args(argv)
    try:
        out = export_generators(args.source, args.out, args.half, args.name, args.note)
    except (CycleGANUserError, ckpt.CheckpointError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"exported {args.source} -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(_main())
