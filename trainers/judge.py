"""The held-out judge: a second evaluation classifier per data set, kept apart from tuning.

The reference classifier (trainers/evaluate.py) is a plain CNN with batch norm, max-pooling and a
flattened 128-d layer; checkpoints and recipes are chosen with it. A generator can learn to please
one classifier's blind spots, so every quality figure is also read by a judge of another design,
trained with another seed and with heavy augmentation, and never used to pick anything:

    stem conv (stride 2) -> residual stages with GroupNorm (each after the first halves H, W)
    -> GroupNorm, ReLU, global average pooling = the judge's penultimate features -> linear head

Augmentation (all in one ``grid_sample``): random shifts, small rotations and scalings, a smooth
random ("elastic") displacement field, and for CIFAR-10 horizontal flips.

A judge folder (pretrained/judges/<dataset>/) holds ``model.safetensors`` (float16 weights),
``real_stats.safetensors`` (mean and covariance of the judge's features of the real test images,
so judge-FID needs no data at evaluation time) and ``meta.json`` (config, test accuracy, the
judge-FID floor between real train and real test images, the command and the seconds it took).

    gan-train judge --dataset mnist --data-dir ../shared/data --epochs 4
"""

from __future__ import annotations

import copy
import math
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from torch import nn

from trainers.checkpoint import (
    CheckpointError,
    read_helper_model,
    read_safetensors,
    save_helper_model,
)
from trainers.data import ImageData
from trainers.paths import pretrained_dir, pretrained_dirs

JUDGE_KIND = "gan-explorer-judge"
STATS_FILE = "real_stats.safetensors"
CONFIDENT = 0.9  # a sample "reads confidently" when the judge's top probability is >= this


# --- augmentation ------------------------------------------------------------------------------


@dataclass
class AugmentConfig:
    """Random geometric augmentation, drawn independently per image.

    shift_px: uniform shift in [-shift_px, shift_px] pixels along each axis.
    rotate_deg: uniform rotation in [-rotate_deg, rotate_deg] degrees.
    scale: uniform zoom factor in [1 - scale, 1 + scale].
    elastic_px: std-dev (pixels) of a smooth random displacement field (0 = off).
    elastic_grid: that field is drawn on an elastic_grid x elastic_grid grid, then upsampled.
    flip: random horizontal flips (natural images only).
    padding: what the warp shows outside the image: "border" (digits) or "reflection" (photos).
    """

    shift_px: float = 2.0
    rotate_deg: float = 10.0
    scale: float = 0.1
    elastic_px: float = 1.0
    elastic_grid: int = 5
    flip: bool = False
    padding: str = "border"


def augment(x: torch.Tensor, aug: AugmentConfig, generator: torch.Generator) -> torch.Tensor:
    """Warp a batch (B, C, H, W) in [-1, 1]; returns the same shape, still in [-1, 1].

    Bilinear sampling only averages input pixels, so the range is kept exactly.
    """
    b, c, h, w = x.shape
    rand = lambda *shape: torch.rand(*shape, generator=generator) * 2 - 1  # noqa: E731 U(-1, 1)
    angle = rand(b) * math.radians(aug.rotate_deg)
    zoom = 1 + rand(b) * aug.scale
    pixel = torch.tensor([2.0 / w, 2.0 / h])  # one pixel in affine_grid's [-1, 1] units
    shift = rand(b, 2) * aug.shift_px * pixel  # (B, 2)
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    theta = torch.stack(
        [torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1
    )  # (B, 2, 3): output coordinates -> input coordinates
    grid = F.affine_grid(theta, [b, c, h, w], align_corners=False)  # (B, H, W, 2)
    if aug.elastic_px > 0:
        g = aug.elastic_grid
        noise = torch.randn(b, 2, g, g, generator=generator) * aug.elastic_px
        noise = noise * pixel.view(1, 2, 1, 1)  # (B, 2, g, g) in grid units
        field_ = F.interpolate(noise, size=(h, w), mode="bilinear", align_corners=True)
        grid = grid + field_.permute(0, 2, 3, 1)  # (B, H, W, 2)
    out = F.grid_sample(
        x, grid.to(x.dtype), mode="bilinear", padding_mode=aug.padding, align_corners=False
    )
    if aug.flip:
        flip = torch.rand(b, generator=generator) < 0.5
        out[flip] = out[flip].flip(-1)
    return out.clamp_(-1, 1)  # grid_sample's rounding can stray by an ulp


# --- the network -------------------------------------------------------------------------------


@dataclass
class JudgeConfig:
    """A small residual network; ``widths[-1]`` is the size of the penultimate features."""

    image_shape: tuple[int, int, int] = (1, 28, 28)
    num_classes: int = 10
    widths: tuple[int, ...] = (32, 64, 128)
    blocks: tuple[int, ...] = (1, 1, 1)
    groups: int = 8  # GroupNorm groups
    stem_kernel: int = 5

    @property
    def feature_dim(self) -> int:
        return self.widths[-1]


class ResidualBlock(nn.Module):
    """Pre-activation residual block (He et al. 2016) with GroupNorm: x + f(x), shape kept."""

    def __init__(self, channels: int, groups: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.GroupNorm(groups, channels),
            nn.ReLU(),
            nn.Conv2d(channels, channels, 3, padding=1, bias=False),
            nn.GroupNorm(groups, channels),
            nn.ReLU(),
            nn.Conv2d(channels, channels, 3, padding=1, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class JudgeNet(nn.Module):
    """(B, C, H, W) in [-1, 1] -> logits (B, K); ``features`` gives the (B, widths[-1]) pooled layer."""

    def __init__(self, config: JudgeConfig) -> None:
        super().__init__()
        self.config = config
        c = config.image_shape[0]
        w0 = config.widths[0]
        k = config.stem_kernel
        layers: list[nn.Module] = [
            nn.Conv2d(c, w0, k, stride=2, padding=k // 2)
        ]  # (B, w0, H/2, W/2)
        previous = w0
        for i, (width, n_blocks) in enumerate(zip(config.widths, config.blocks, strict=True)):
            if i > 0:  # halve H, W and widen
                layers += [
                    nn.GroupNorm(config.groups, previous),
                    nn.ReLU(),
                    nn.Conv2d(previous, width, 3, stride=2, padding=1, bias=False),
                ]
            layers += [ResidualBlock(width, config.groups) for _ in range(n_blocks)]
            previous = width
        layers += [
            nn.GroupNorm(config.groups, previous),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),  # (B, widths[-1])
        ]
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(previous, config.num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


# Per data set: the network and the augmentation (the 28x28 sets share a design).
JUDGE_DESIGNS: dict[str, tuple[JudgeConfig, AugmentConfig]] = {
    "mnist": (
        JudgeConfig((1, 28, 28), widths=(32, 64, 96)),
        AugmentConfig(shift_px=2.5, rotate_deg=12, scale=0.1, elastic_px=1.0),
    ),
    "fashion-mnist": (
        JudgeConfig((1, 28, 28), widths=(32, 64, 96)),
        AugmentConfig(shift_px=2.0, rotate_deg=6, scale=0.08, elastic_px=0.6),
    ),
    "cifar10": (
        JudgeConfig((3, 32, 32), widths=(48, 96, 192), stem_kernel=5),
        AugmentConfig(
            shift_px=3.0, rotate_deg=8, scale=0.1, elastic_px=0.5, flip=True, padding="reflection"
        ),
    ),
}


def design_for(dataset: str, image_shape: tuple[int, int, int], num_classes: int):
    """The (JudgeConfig, AugmentConfig) for a data set; other sets get the 28x28 design."""
    config, aug = JUDGE_DESIGNS.get(dataset, JUDGE_DESIGNS["mnist"])
    config = copy.deepcopy(config)
    config.image_shape, config.num_classes = tuple(image_shape), num_classes
    if dataset not in JUDGE_DESIGNS and image_shape[0] == 3:
        aug = AugmentConfig(shift_px=3.0, rotate_deg=8, flip=True, padding="reflection")
    return config, copy.deepcopy(aug)


# --- save and load -----------------------------------------------------------------------------


def judge_dir_for(dataset: str) -> Path:
    """The judge folder of a data set, ``<pretrained>/judges/<dataset>``, from the first
    pretrained folder that has it (see :mod:`trainers.paths`)."""
    for root in pretrained_dirs():
        if (root / "judges" / dataset).is_dir():
            return root / "judges" / dataset
    return pretrained_dir() / "judges" / dataset


def round_to_half(model: nn.Module) -> nn.Module:
    """Round the weights to float16 precision in place (they are stored as float16), so the
    model in memory is exactly the one that will be loaded."""
    with torch.no_grad():
        for tensor in model.state_dict().values():
            if tensor.is_floating_point():
                tensor.copy_(tensor.half().float())
    return model


def save_judge(
    model: JudgeNet,
    directory: str | Path,
    meta: dict[str, Any],
    real_stats: dict[str, torch.Tensor] | None = None,
) -> Path:
    """Write a judge folder: float16 weights, optional real-feature statistics, meta.json."""
    directory = Path(directory)
    round_to_half(model)
    half = copy.deepcopy(model).half()
    config = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(model.config).items()}
    save_helper_model(
        half,
        directory,
        {"kind": JUDGE_KIND, "config": config, "weights_dtype": "float16", **meta},
    )
    if real_stats is not None:
        # float32 is plenty for a mean and covariance and halves the file
        stats = {k: v.float().contiguous() for k, v in real_stats.items()}
        save_file(stats, str(directory / STATS_FILE))
    return directory


def load_judge(dataset_or_dir: str | Path) -> tuple[JudgeNet, dict[str, Any]]:
    """The judge for a data set name ("mnist", ...) or in a folder; float32, eval mode.

    Raises CheckpointError for anything that is not a judge folder (never unpickles).
    """
    directory = Path(dataset_or_dir)
    if not directory.is_dir() and str(dataset_or_dir) in JUDGE_DESIGNS:
        directory = judge_dir_for(str(dataset_or_dir))
    meta, state = read_helper_model(
        directory,
        JUDGE_KIND,
        "held-out judge",
        hint="train one with `gan-train judge --dataset D --data-dir ../shared/data`",
    )
    try:
        raw = meta["config"]
        config = JudgeConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()})
        model = JudgeNet(config)
        model.load_state_dict({k: v.float() for k, v in state.items()}, strict=True)
    except (KeyError, TypeError, RuntimeError) as error:
        detail = " ".join(str(error).split())[:300]
        raise CheckpointError(
            f"{directory}: the judge's weights do not fit its config: {detail}"
        ) from None
    return model.eval(), meta


def read_real_stats(directory: str | Path) -> dict[str, np.ndarray]:
    """{"mu": (D,), "cov": (D, D)} of the judge's features of the real test images (stored as
    float32, returned as float64)."""
    tensors = read_safetensors(Path(directory) / STATS_FILE)
    return {k: v.double().numpy() for k, v in tensors.items()}


# --- training ----------------------------------------------------------------------------------


@dataclass
class TrainSettings:
    """How a judge is trained (AdamW + one-cycle learning rate, augmented mini-batches)."""

    epochs: float = 4.0
    batch_size: int = 128
    lr: float = 3e-3
    weight_decay: float = 5e-4
    seed: int = 1234  # the reference classifier uses seed 0
    save_every_s: float = 120.0  # write a resumable snapshot this often
    extra: dict[str, Any] = field(default_factory=dict)


@torch.no_grad()
def batched(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, batch: int = 500):
    """fn over x in chunks of ``batch`` rows, concatenated."""
    return torch.cat([fn(x[i : i + batch]) for i in range(0, len(x), batch)])


def train_judge(
    train: ImageData,
    config: JudgeConfig,
    aug: AugmentConfig,
    settings: TrainSettings,
    snapshot: Callable[[JudgeNet, dict[str, torch.Tensor], int], None] | None = None,
    resume: dict[str, torch.Tensor] | None = None,
    log: Callable[[str], None] = print,
) -> JudgeNet:
    """Train a judge on augmented batches.

    Args:
        snapshot: called as snapshot(model, train_state, step) every ``settings.save_every_s``
            seconds, where train_state holds the optimiser and RNG tensors for ``resume``.
        resume: a train_state from a snapshot: training continues from its step, same schedule.
    Returns: the model in eval mode.
    """
    from trainers.checkpoint import flatten_optimizer, unflatten_optimizer

    torch.manual_seed(settings.seed)
    model = JudgeNet(config)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=settings.lr, weight_decay=settings.weight_decay
    )
    steps = max(1, int(settings.epochs * len(train) / settings.batch_size))
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=settings.lr, total_steps=steps, pct_start=0.25
    )
    gen = torch.Generator().manual_seed(settings.seed)
    start_step = 0
    if resume is not None:
        model.load_state_dict(
            {k[len("model/") :]: v for k, v in resume.items() if k.startswith("model/")}
        )
        unflatten_optimizer(optimizer, "opt", resume, optimizer.state_dict()["param_groups"])
        start_step = int(resume["step"].item())
        with warnings.catch_warnings():  # "scheduler.step() before optimizer.step()": intended
            warnings.simplefilter("ignore")
            for _ in range(start_step):  # replay the schedule (cheap) to the same learning rate
                scheduler.step()
        gen.set_state(resume["rng"])
    model.train()
    last_save = time.perf_counter()
    for step in range(start_step, steps):
        idx = torch.randint(0, len(train), (settings.batch_size,), generator=gen)
        x, y = train.batch(idx)  # (B, C, H, W) in [-1, 1], (B,)
        x = augment(x, aug, gen)
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        if step % 100 == 0 or step == steps - 1:
            log(
                f"judge step {step}/{steps} loss {loss.item():.4f} lr {scheduler.get_last_lr()[0]:.2e}"
            )
        if snapshot is not None and time.perf_counter() - last_save > settings.save_every_s:
            snapshot(
                model, _train_state(model, optimizer, gen, step + 1, flatten_optimizer), step + 1
            )
            last_save = time.perf_counter()
    return model.eval()


def _train_state(model, optimizer, gen, step, flatten_optimizer) -> dict[str, torch.Tensor]:
    tensors, _ = flatten_optimizer(optimizer, "opt")
    state = {f"model/{k}": v for k, v in model.state_dict().items()}
    return state | tensors | {"step": torch.tensor(step), "rng": gen.get_state()}


def feature_stats(features: np.ndarray) -> dict[str, torch.Tensor]:
    """Mean (D,) and covariance (D, D) of a feature set, as float64 tensors."""
    features = features.astype(np.float64)
    return {
        "mu": torch.from_numpy(features.mean(0)),
        "cov": torch.from_numpy(np.cov(features, rowvar=False)),
    }


def frechet_from_stats(mu_a, cov_a, mu_b, cov_b) -> float:
    """‖μa − μb‖² + Tr(Σa + Σb − 2 (Σa Σb)^½) from means and covariances."""
    from scipy import linalg

    with warnings.catch_warnings():  # near-singular covariances (few samples) still give a value
        warnings.simplefilter("ignore")
        covmean = np.asarray(linalg.sqrtm(cov_a @ cov_b)).real
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a + cov_b - 2 * covmean))


def real_reference(
    model: JudgeNet, train: ImageData, test: ImageData, n_train: int = 10_000, seed: int = 0
) -> tuple[dict[str, torch.Tensor], dict[str, float]]:
    """The judge's feature statistics of the real test set, and figures for meta.json: the
    judge-FID floor (``n_train`` real train images vs the test set) and the confident share of
    real test images."""
    x_test, _ = test.batch(torch.arange(len(test)))
    gen = torch.Generator().manual_seed(seed)
    x_train, _ = train.batch(torch.randperm(len(train), generator=gen)[:n_train])
    f_test = batched(model.features, x_test).numpy()
    f_train = batched(model.features, x_train).numpy()
    test_stats, train_stats = feature_stats(f_test), feature_stats(f_train)
    floor = frechet_from_stats(
        *(s.numpy() for s in (test_stats["mu"], test_stats["cov"])),
        *(s.numpy() for s in (train_stats["mu"], train_stats["cov"])),
    )
    probs = batched(lambda t: F.softmax(model.head(t), 1), torch.from_numpy(f_test))
    figures = {
        "fid_floor_train_vs_test": round(floor, 3),
        "floor_train_images": min(n_train, len(train)),
        "real_test_confident_share": round(
            float((probs.max(1).values >= CONFIDENT).float().mean()), 4
        ),
    }
    return test_stats, figures


# --- one command: train, measure, save ---------------------------------------------------------

TRAIN_STATE_FILE = "train_state.safetensors"
DEFAULT_EPOCHS = {"mnist": 5.0, "fashion-mnist": 8.0, "cifar10": 18.0}


def build_judge(
    train: ImageData,
    test: ImageData,
    out: str | Path,
    run_dir: str | Path,
    settings: TrainSettings,
    resume: bool = False,
    command: str = "",
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Train the judge of ``train.name``, measure it on ``test`` and save it to ``out``.

    Resumable snapshots go to ``run_dir/train_state.safetensors`` (never into ``out``, which is
    what gets shipped). Returns the meta.json that was written.
    """
    run_dir = Path(run_dir)
    config, aug = design_for(train.name, train.image_shape, len(train.class_names))
    state = None
    spent, cpu_spent = 0.0, 0.0  # wall and CPU seconds of earlier sittings
    if resume:
        if not (run_dir / TRAIN_STATE_FILE).is_file():
            raise CheckpointError(f"--resume: no {TRAIN_STATE_FILE} in {run_dir}")
        state = read_safetensors(run_dir / TRAIN_STATE_FILE)
        spent = float(state.pop("seconds").item())
        cpu_spent = float(state.pop("cpu_seconds", torch.tensor(0.0)).item())
        log(f"resuming the judge from step {int(state['step'].item())} ({spent:.0f} s spent)")
    start, cpu_start = time.perf_counter(), time.process_time()

    def snapshot(model: JudgeNet, train_state: dict[str, torch.Tensor], step: int) -> None:
        run_dir.mkdir(parents=True, exist_ok=True)
        seconds = torch.tensor(spent + time.perf_counter() - start, dtype=torch.float64)
        cpu = torch.tensor(cpu_spent + time.process_time() - cpu_start, dtype=torch.float64)
        tmp = run_dir / (TRAIN_STATE_FILE + ".tmp")
        tensors = {k: v.detach().contiguous().clone() for k, v in train_state.items()}
        save_file(tensors | {"seconds": seconds, "cpu_seconds": cpu}, str(tmp))
        tmp.replace(run_dir / TRAIN_STATE_FILE)
        log(f"snapshot at step {step} -> {run_dir / TRAIN_STATE_FILE}")

    model = train_judge(train, config, aug, settings, snapshot=snapshot, resume=state, log=log)
    train_seconds = spent + time.perf_counter() - start
    cpu_seconds = cpu_spent + time.process_time() - cpu_start  # < wall time on a shared CPU
    round_to_half(model)  # measure exactly the weights that are shipped
    x, y = test.batch(torch.arange(len(test)))
    predicted = batched(model, x).argmax(1)
    per_class = [
        round(float((predicted[y == k] == k).float().mean()), 4) for k in range(config.num_classes)
    ]
    stats, figures = real_reference(model, train, test, seed=settings.seed)
    meta = {
        "role": "held-out judge: a second opinion, never used to choose checkpoints or tune recipes",
        "dataset": train.name,
        "class_names": train.class_names,
        "design": describe(config),
        "augmentation": asdict(aug),
        "test_accuracy": round(float((predicted == y).float().mean()), 4),
        "test_accuracy_per_class": per_class,
        "test_images": len(test),
        **figures,
        "epochs": settings.epochs,
        "batch_size": settings.batch_size,
        "lr": settings.lr,
        "seed": settings.seed,
        "train_seconds": round(train_seconds, 1),
        "train_cpu_seconds": round(cpu_seconds, 1),
        "threads": torch.get_num_threads(),
        "command": command,
    }
    save_judge(model, out, meta, stats)
    load_judge(out)  # refuse to leave behind something we cannot read
    return meta


def describe(config: JudgeConfig) -> str:
    """One line naming the architecture, for meta.json and reports."""
    stages = ", ".join(f"{w}x{b}" for w, b in zip(config.widths, config.blocks, strict=True))
    return (
        f"residual CNN: {config.stem_kernel}x{config.stem_kernel} stride-2 stem, pre-activation "
        f"residual stages (width x blocks: {stages}) with GroupNorm({config.groups}), "
        f"global average pooling -> {config.feature_dim}-d features -> linear"
    )
