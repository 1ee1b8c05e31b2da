"""Evaluating a CycleGAN: cycle L1 on test images and the target-domain rate of a small A-vs-B
classifier (trained here, saved as safetensors), plus before/after grids."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from trainers import checkpoint as ckpt
from trainers.cyclegan.data import load_domain, random_crop_flip, to_model_range
from trainers.cyclegan.trainer import cycle_l1
from trainers.cyclegan.translate import (
    before_after_grid,
    default_translate_size,
    load_cyclegan,
    translate_all,
)

DOMAIN_CLASSIFIER_KIND = "gan-explorer-domain-classifier"


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


def train_domain_classifier(
    train_a: torch.Tensor,
    train_b: torch.Tensor,
    size: int,
    epochs: int = 8,
    batch_size: int = 32,
    lr: float = 2e-3,
    seed: int = 0,
    log: Callable[[str], None] = print,
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
    """The classifier saved by :func:`save_domain_classifier`, in eval mode, and its meta."""
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


def default_classifier_dir(dataset: str) -> Path:
    """Where the A-vs-B classifier of ``dataset`` is kept: ``<pretrained>/classifiers/<dataset>``."""
    from trainers.paths import classifier_dir

    return classifier_dir(dataset)


def train_and_save_classifier(
    data: Path,
    tests: tuple[Path, Path],
    size: int,
    directory: Path,
    *,
    dataset: str,
    seed: int = 0,
    command: str = "",
    log: Callable[[str], None] = print,
) -> float:
    """Train the classifier on ``data/trainA``, ``data/trainB``, save it to ``directory`` (with
    ``dataset`` and ``command`` in its meta.json) and return its accuracy on the test folders
    ``tests = (test_a, test_b)``."""
    test_a, test_b = tests
    start = time.perf_counter()
    load = int(round(size * 1.125))
    model = train_domain_classifier(
        load_domain(data / "trainA", load),
        load_domain(data / "trainB", load),
        size,
        seed=seed,
        log=log,
    )
    a, b = to_model_range(load_domain(test_a, size)), to_model_range(load_domain(test_b, size))
    accuracy = (
        (1 - share_classified_b(model, a)) * len(a) + share_classified_b(model, b) * len(b)
    ) / (len(a) + len(b))
    save_domain_classifier(
        model,
        directory,
        {
            "dataset": dataset,
            "class_names": ["A", "B"],
            "domains": {"A": str(data / "trainA"), "B": str(data / "trainB")},
            "image_size": size,
            "normalisation": "pixels in [-1, 1]",
            "test_accuracy": round(accuracy, 4),
            "test_images": len(a) + len(b),
            "train_seconds": round(time.perf_counter() - start, 1),
            "command": command,
        },
    )
    return accuracy


def store_metrics(result: dict[str, Any]) -> None:
    """Write an evaluation's figures into the checkpoint's meta.json (atomically)."""
    meta_path = Path(result["checkpoint"]) / ckpt.META_FILE
    stored = json.loads(meta_path.read_text())
    stored["metrics"] = {k: v for k, v in result.items() if k != "checkpoint"}
    tmp = meta_path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(stored, indent=2) + "\n")
    tmp.replace(meta_path)
