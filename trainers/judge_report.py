"""What the held-out judge says about a set of generated images.

    report = judge_report(images, asked_labels, "mnist")   # images: uint8 (N, H, W, C)
    print(format_per_class_table(report))

Figures (every one printed beside the reference classifier's in ``gan-train evaluate``):

- ``judge_fid``: Fréchet distance between the judge's penultimate features of the images and of
  the real test set (statistics shipped in the judge folder, so no data is needed), beside
  ``judge_fid_floor`` (real train vs real test images: what a perfect generator would score);
  the judge's features have their own scale, so compare ``judge_fid_over_floor`` across
  classifiers, not the raw distances.
- ``class_shares`` / ``smallest_class_share`` / ``rarest_class``: mode coverage.
- ``confident_share``: share of images whose top class probability is >= 0.9 (real test images:
  ``real_test_confident_share``).
- with asked labels (cGAN): ``label_accuracy`` and a ``per_class`` table (accuracy per asked
  class, what the misses were read as).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from trainers.judge import (
    CONFIDENT,
    JudgeNet,
    batched,
    frechet_from_stats,
    judge_dir_for,
    load_judge,
    read_real_stats,
)


def images_to_input(images: np.ndarray) -> torch.Tensor:
    """uint8 (N, H, W, C) -> float (N, C, H, W) in [-1, 1], the models' normalisation."""
    return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float() / 127.5 - 1


def judge_report(
    images: np.ndarray,
    labels: np.ndarray | torch.Tensor | None,
    dataset: str,
    judge_dir: str | Path | None = None,
) -> dict[str, Any]:
    """The held-out judge's reading of generated images.

    Args:
        images: uint8 (N, H, W, C), the generator's samples (C = 1 or 3).
        labels: the classes asked for (N,) for a cGAN, else None.
        dataset: "mnist", "fashion-mnist" or "cifar10": picks pretrained/judges/<dataset>.
        judge_dir: another judge folder (overrides ``dataset``'s).
    Returns: a JSON-ready dict (see the module docstring); judge-FID needs >= 2 images.
    Raises: CheckpointError when there is no judge; ValueError for images of the wrong shape.
    """
    directory = Path(judge_dir) if judge_dir is not None else judge_dir_for(dataset)
    model, meta, real = _load(directory)
    c, h, w = model.config.image_shape
    if images.ndim != 4 or images.shape[1:] != (h, w, c) or images.dtype != np.uint8:
        raise ValueError(
            f"the {meta.get('dataset', dataset)} judge reads uint8 images of shape (N, {h}, {w}, {c}); "
            f"got {images.dtype} {tuple(images.shape)}"
        )
    x = images_to_input(images)
    features = batched(model.features, x)  # (N, D)
    probs = F.softmax(model.head(features), dim=1)  # (N, K)
    top, predicted = probs.max(1)
    k = model.config.num_classes
    names = list(meta.get("class_names") or [str(i) for i in range(k)])
    shares = np.bincount(predicted.numpy(), minlength=k) / len(predicted)
    report: dict[str, Any] = {
        "judge": str(directory),
        "judge_design": meta.get("design"),
        "judge_test_accuracy": meta.get("test_accuracy"),
        "samples": len(images),
        "class_shares": [round(float(s), 4) for s in shares],
        "smallest_class_share": round(float(shares.min()), 4),
        "rarest_class": names[int(shares.argmin())],
        "confident_share": round(float((top >= CONFIDENT).float().mean()), 4),
        "real_test_confident_share": meta.get("real_test_confident_share"),
    }
    if len(images) >= 2:
        f = features.double().numpy()
        fid = frechet_from_stats(real["mu"], real["cov"], f.mean(0), np.cov(f, rowvar=False))
        report["judge_fid"] = round(fid, 3)
        floor = meta.get("fid_floor_train_vs_test")
        report["judge_fid_floor"] = floor
        if floor:  # the judge's feature scale differs from the reference's: compare ratios
            report["judge_fid_over_floor"] = round(fid / floor, 1)
    if labels is not None:
        asked = torch.as_tensor(np.asarray(labels), dtype=torch.long)
        if asked.shape != predicted.shape:
            raise ValueError(f"{len(asked)} labels for {len(predicted)} images")
        report |= label_figures(predicted, top, asked, names)
    return report


def _load(directory: Path) -> tuple[JudgeNet, dict[str, Any], dict[str, np.ndarray]]:
    """The judge in ``directory`` with its real-feature statistics, loaded once per file version."""
    weights = directory / "model.safetensors"
    stamp = weights.stat().st_mtime_ns if weights.is_file() else 0
    return _load_cached(str(directory.resolve()), stamp)


@functools.lru_cache(maxsize=4)
def _load_cached(directory: str, stamp: int):
    model, meta = load_judge(directory)
    return model, meta, read_real_stats(directory)


def label_figures(
    predicted: torch.Tensor, top: torch.Tensor, asked: torch.Tensor, names: list[str]
) -> dict[str, Any]:
    """A cGAN's figures by one classifier: ``label_accuracy`` (read as the class asked for),
    ``per_class`` (:func:`per_class_rows`) and ``worst_class_accuracy``."""
    rows = per_class_rows(predicted, top, asked, names)
    return {
        "label_accuracy": round(float((predicted == asked).float().mean()), 4),
        "per_class": rows,
        "worst_class_accuracy": min((r["accuracy"] for r in rows if r["asked"]), default=None),
    }


def per_class_rows(
    predicted: torch.Tensor, top: torch.Tensor, asked: torch.Tensor, names: list[str]
) -> list[dict[str, Any]]:
    """A cGAN's reading per asked class: how often a classifier reads the class asked for, how
    often it is sure (top probability >= 0.9), and what it most often reads instead.
    ``predicted``/``top``: the classifier's class and top probability per image (N,);
    ``asked``: the labels G was given (N,)."""
    rows = []
    for c, name in enumerate(names):
        mask = asked == c
        n = int(mask.sum())
        row: dict[str, Any] = {"class": c, "name": name, "asked": n}
        if n:
            read = predicted[mask]
            wrong = read[read != c]
            row["accuracy"] = round(float((read == c).float().mean()), 4)
            row["confident_share"] = round(float((top[mask] >= CONFIDENT).float().mean()), 4)
            if len(wrong):
                counts = np.bincount(wrong.numpy(), minlength=len(names))
                row["most_read_as"] = names[int(counts.argmax())]
                row["most_read_as_share"] = round(float(counts.max() / n), 4)
        rows.append(row)
    return rows


def format_per_class_table(report: dict[str, Any]) -> str:
    """A markdown table of ``report["per_class"]`` (a cGAN's label accuracy per asked class)."""
    lines = [
        "| asked | n | read as asked | confident | most often misread as |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in report.get("per_class", []):
        if not row["asked"]:
            continue
        miss = (
            f"{row['most_read_as']} ({row['most_read_as_share']:.1%})"
            if "most_read_as" in row
            else "–"
        )
        lines.append(
            f"| {row['name']} | {row['asked']} | {row['accuracy']:.1%} | "
            f"{row['confident_share']:.1%} | {miss} |"
        )
    return "\n".join(lines)
