"""Measuring a GAN: a small reference classifier per data set, classifier-FID, mode coverage
and cGAN label accuracy.

classifier-FID (not Inception FID): the Fréchet distance between Gaussians fitted to the
classifier's penultimate features of real test images and of generated images,

    FID = ‖μ_r − μ_g‖² + Tr(Σ_r + Σ_g − 2 (Σ_r Σ_g)^½)

It is always printed beside its floor, the same distance between real *train* and real *test*
images: a perfect generator would score about the floor, not zero.

    gan-train classifier --dataset mnist --data-dir ../shared/data --out pretrained/classifiers/mnist
    gan-train evaluate pretrained/dcgan-mnist --data-dir ../shared/data --n 10000
"""

from __future__ import annotations

import functools
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from trainers.checkpoint import CheckpointError, read_helper_model, save_helper_model
from trainers.data import ImageData, load_dataset
from trainers.judge import CONFIDENT, frechet_from_stats
from trainers.judge_report import judge_report, label_figures
from trainers.models.blocks import categorical_code
from trainers.paths import classifier_dir
from trainers.pipeline import GANPipeline, uint8_to_model_input

CLASSIFIER_KIND = "gan-explorer-classifier"


@dataclass
class ClassifierConfig:
    """A small CNN: two conv+pool stages, a 128-wide penultimate layer (the FID features)."""

    image_shape: tuple[int, int, int] = (1, 28, 28)
    num_classes: int = 10
    width: int = 32
    feature_dim: int = 128


class ReferenceClassifier(nn.Module):
    """(B, C, H, W) in [-1, 1] -> logits (B, K); ``features`` gives the (B, 128) penultimate layer."""

    def __init__(self, config: ClassifierConfig) -> None:
        super().__init__()
        self.config = config
        c, h, w = config.image_shape
        k = config.width
        self.body = nn.Sequential(
            nn.Conv2d(c, k, 3, padding=1),
            nn.BatchNorm2d(k),
            nn.ReLU(),  # (B, 32, H, W)
            nn.Conv2d(k, k, 3, padding=1),
            nn.BatchNorm2d(k),
            nn.ReLU(),
            nn.MaxPool2d(2),  # (B, 32, H/2, W/2)
            nn.Conv2d(k, 2 * k, 3, padding=1),
            nn.BatchNorm2d(2 * k),
            nn.ReLU(),
            nn.Conv2d(2 * k, 2 * k, 3, padding=1),
            nn.BatchNorm2d(2 * k),
            nn.ReLU(),
            nn.MaxPool2d(2),  # (B, 64, H/4, W/4)
            nn.Flatten(),
            nn.Dropout(0.3),
            nn.Linear(2 * k * (h // 4) * (w // 4), config.feature_dim),
            nn.ReLU(),  # (B, 128)
        )
        self.head = nn.Linear(config.feature_dim, config.num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


def save_classifier(model: ReferenceClassifier, directory: Path, meta: dict[str, Any]) -> None:
    save_helper_model(
        model, directory, {"kind": CLASSIFIER_KIND, "config": asdict(model.config), **meta}
    )


def load_classifier(directory: str | Path) -> tuple[ReferenceClassifier, dict[str, Any]]:
    meta, state = read_helper_model(directory, CLASSIFIER_KIND, "reference classifier")
    config = ClassifierConfig(
        **{k: tuple(v) if isinstance(v, list) else v for k, v in meta["config"].items()}
    )
    model = ReferenceClassifier(config)
    model.load_state_dict(state, strict=True)
    return model.eval(), meta


def classifier_dir_for(dataset: str) -> Path:
    """``<pretrained>/classifiers/<dataset>`` (see :mod:`trainers.paths`)."""
    return classifier_dir(dataset)


def train_classifier(
    train: ImageData,
    test: ImageData,
    epochs: float = 3,
    batch_size: int = 128,
    lr: float = 1e-3,
    seed: int = 0,
    log=print,
) -> tuple[ReferenceClassifier, float]:
    """Train the reference classifier with Adam and light augmentation; returns it and its test accuracy."""
    torch.manual_seed(seed)
    model = ReferenceClassifier(ClassifierConfig(train.image_shape, len(train.class_names)))
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    steps = max(1, int(epochs * len(train) / batch_size))
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=steps)
    gen = torch.Generator().manual_seed(seed)
    model.train()
    for step in range(steps):
        idx = torch.randint(0, len(train), (batch_size,), generator=gen)
        x, y = train.batch(idx)
        if x.shape[1] == 3:  # random horizontal flip for natural images
            flip = torch.rand(batch_size, generator=gen) < 0.5
            x[flip] = x[flip].flip(-1)
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        if step % 100 == 0:
            log(f"classifier step {step}/{steps} loss {loss.item():.3f}")
    model.eval()
    return model, accuracy(model, test)


@torch.no_grad()
def _batched(model_fn, x: torch.Tensor, batch: int = 500) -> torch.Tensor:
    return torch.cat([model_fn(x[i : i + batch]) for i in range(0, len(x), batch)])


def accuracy(model: ReferenceClassifier, data: ImageData) -> float:
    x, y = data.batch(torch.arange(len(data)))
    return (_batched(model, x).argmax(1) == y).float().mean().item()


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """FID between feature sets a (N, D) and b (M, D): ‖μa − μb‖² + Tr(Σa + Σb − 2 (Σa Σb)^½)
    (the formula is :func:`trainers.judge.frechet_from_stats`, shared with the judge)."""
    return frechet_from_stats(
        a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False)
    )


@functools.cache
def real_features(
    dataset: str, data_dir: str, classifier_dir: str, n: int, seed: int, image_size: int
) -> tuple[np.ndarray, np.ndarray]:
    """Classifier features of all test images and of max(n, #test) train images (cached: several
    checkpoints of one data set share them)."""
    classifier, _ = load_classifier(classifier_dir)
    root = None if data_dir == "None" else data_dir
    test = load_dataset(dataset, root, train=False, download=False, image_size=image_size)
    train = load_dataset(dataset, root, train=True, download=False, image_size=image_size)
    x_test, _ = test.batch(torch.arange(len(test)))
    gen = torch.Generator().manual_seed(seed)
    x_train, _ = train.batch(torch.randperm(len(train), generator=gen)[: max(n, len(test))])
    f_test = _batched(classifier.features, x_test).numpy().astype(np.float64)
    f_train = _batched(classifier.features, x_train).numpy().astype(np.float64)
    return f_test, f_train


def evaluate_checkpoint(
    checkpoint: str | Path,
    data_dir: str | Path | None = None,
    n: int = 10_000,
    classifier_dir: str | Path | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """All quality figures of one checkpoint (see the module docstring).

    The ``n`` samples are ``GANPipeline.from_pretrained(checkpoint)(n, seed)``: the images
    ``gan-train sample CKPT --n N --seed S`` writes (a cGAN cycles through its classes).
    """
    pipe = GANPipeline.from_pretrained(checkpoint)
    dataset = pipe.meta["dataset"]
    classifier_path = Path(classifier_dir or classifier_dir_for(dataset))
    classifier, cmeta = load_classifier(classifier_path)
    f_test, f_train = real_features(
        dataset, str(data_dir), str(classifier_path), n, seed, pipe.image_shape[1]
    )
    start = time.perf_counter()
    samples = pipe(n=n, seed=seed, with_scores=False)
    sample_seconds = time.perf_counter() - start
    fake = uint8_to_model_input(samples.images)
    f_fake = _batched(classifier.features, fake).numpy().astype(np.float64)
    probs = torch.softmax(_batched(classifier, fake), dim=1)  # (N, K)
    top, predicted_t = probs.max(1)
    predicted = predicted_t.numpy()
    k = classifier.config.num_classes
    shares = np.bincount(predicted, minlength=k) / len(predicted)
    result: dict[str, Any] = {
        "checkpoint": str(pipe.path),
        "model": pipe.spec.name,
        "dataset": dataset,
        "samples": n,
        "classifier_test_accuracy": cmeta.get("test_accuracy"),
        "classifier_fid": round(frechet_distance(f_test, f_fake), 3),
        "classifier_fid_floor_train_vs_test": round(frechet_distance(f_test, f_train), 3),
        "fid_note": "classifier-FID (not Inception FID): penultimate features of the project's reference classifier",
        "class_shares": [round(float(s), 4) for s in shares],
        "smallest_class_share": round(float(shares.min()), 4),
        "confident_share": round(float((top >= CONFIDENT).float().mean()), 4),
        "sampling_images_per_s": round(n / sample_seconds, 1),
        "inception_fid": _inception_fid_note(),
    }
    names = list(cmeta.get("class_names") or [str(i) for i in range(k)])
    asked = None if samples.labels is None else samples.labels.numpy()
    if asked is not None:
        result |= label_figures(predicted_t, top, torch.as_tensor(asked), names)
    code_size = int(getattr(pipe.config, "latent_code", 0) or 0)
    if code_size:  # InfoGAN: which class the classifier reads in each of G's own categories
        _, codes = categorical_code(samples.latents, code_size)
        result["code_categories"] = code_readings(codes.numpy(), predicted, names, code_size)
    # The second opinion: a held-out judge of another design, never used to choose checkpoints
    # or tune recipes (trainers/judge.py). Same images, its own classifier-FID and floor.
    try:
        result["judge"] = judge_report(samples.images, asked, dataset)
    except CheckpointError as error:  # e.g. folder: data sets have no judge
        result["judge"] = {"skipped": str(error)}
    return result


def code_readings(
    codes: np.ndarray, predicted: np.ndarray, names: list[str], code_size: int
) -> list[dict]:
    """For each of ``code_size`` InfoGAN categories (codes (N,), read off z): how many samples
    it drew, the class the classifier reads most often among them and that class's share. A
    category that is one digit reads ~100% as it; one that mixes two shows ~50%."""
    rows = []
    for category in range(code_size):
        read = predicted[codes == category]
        if not len(read):
            rows.append({"category": category, "samples": 0, "read_as": None, "share": 0.0})
            continue
        counts = np.bincount(read, minlength=len(names))
        rows.append(
            {
                "category": category,
                "samples": len(read),
                "read_as": names[int(counts.argmax())],
                "share": round(float(counts.max() / len(read)), 4),
            }
        )
    return rows


def _inception_fid_note() -> str:
    try:
        import torch_fidelity  # noqa: F401
    except ImportError:
        return "skipped: torch-fidelity is not installed (pip install torch-fidelity; needs Inception weights online)"
    return "skipped: run torch-fidelity online with the sample .npz from `gan-train sample`"


def write_sample_grid(checkpoint: str | Path, out: Path, n: int = 100, seed: int = 1) -> Path:
    """A 10x10 grid of the model's own samples (cGAN: one row per class)."""
    from PIL import Image

    from trainers.images import make_grid

    pipe = GANPipeline.from_pretrained(checkpoint)
    if pipe.conditional:
        rows = [
            pipe(10, seed + c, labels=c, with_scores=False).images for c in range(pipe.num_classes)
        ]
        images = np.concatenate(rows)
    else:
        images = pipe(n, seed, with_scores=False).images
    grid = make_grid(images, nrow=10)
    out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(grid[..., 0] if grid.shape[-1] == 1 else grid).resize(
        (grid.shape[1] * 2, grid.shape[0] * 2), Image.Resampling.NEAREST
    ).save(out)
    return out
