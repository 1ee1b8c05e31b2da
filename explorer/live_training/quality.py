"""The quality figure of a live run: classifier-FID (and, for a cGAN, label fidelity).

Measured only when a reference classifier for the data set exists
(``pretrained/classifiers/<dataset>/``); the page skips the figure otherwise.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch

from trainers.data import DATASETS, ImageData, load_dataset
from trainers.engine import GANTrainer


class QualityProbe:
    """classifier-FID (and, for a cGAN, label fidelity) of the generator, measured live.

    classifier-FID = ‖μ_r − μ_g‖² + Tr(Σ_r + Σ_g − 2 (Σ_r Σ_g)^½) on the reference classifier's
    128 penultimate features of ``n`` real and ``n`` generated images. With n = 500 it reads
    higher than a 10,000-sample figure: compare it along the run, not with the tables.
    Label fidelity (cGAN): the share of generated images the classifier labels as the class
    G was asked for.

    Args:
        classifier: a ``trainers.evaluate.ReferenceClassifier``.
        reference: real images to compare with (the test split when available).
        n: images per side.
    """

    def __init__(
        self, classifier: torch.nn.Module, reference: ImageData, n: int = 500, seed: int = 0
    ) -> None:
        self.classifier = classifier.eval()
        self.n = n
        gen = torch.Generator().manual_seed(seed)
        self.reference_index = torch.randperm(len(reference), generator=gen)[:n]
        self.reference = reference
        self.real_features: np.ndarray | None = None

    @torch.no_grad()
    def measure(self, trainer: GANTrainer) -> dict[str, float]:
        from trainers.evaluate import _batched, frechet_distance

        if self.real_features is None:
            x, _ = self.reference.batch(self.reference_index)
            self.real_features = _batched(self.classifier.features, x).numpy().astype(np.float64)
        net = trainer.generator_ema if trainer.generator_ema is not None else trainer.generator
        was_training = net.training
        net.eval()
        try:
            gen = torch.Generator().manual_seed(1234)
            z = torch.randn(self.n, trainer.model_config.latent_dim, generator=gen).to(
                trainer.device
            )
            labels = None
            if trainer.spec.conditional:
                labels = (torch.arange(self.n) % trainer.model_config.num_classes).to(
                    trainer.device
                )
            fake = torch.cat(
                [
                    net(z[i : i + 250], None if labels is None else labels[i : i + 250])
                    .float()
                    .cpu()
                    for i in range(0, self.n, 250)
                ]
            )
        finally:
            net.train(was_training)
        fake_features = _batched(self.classifier.features, fake).numpy().astype(np.float64)
        # 500 samples of 128 features: scipy may warn that the product is singular
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = {"classifier_fid": frechet_distance(self.real_features, fake_features)}
        predicted = _batched(self.classifier, fake).argmax(1)
        if labels is not None:
            result["label_fidelity"] = (predicted == labels.cpu()).float().mean().item()
        else:
            shares = (
                torch.bincount(predicted, minlength=self.classifier.config.num_classes).float()
                / self.n
            )
            result["smallest_class_share"] = shares.min().item()
            result["even_share"] = 1.0 / self.classifier.config.num_classes
        return result


def make_quality_probe(
    dataset: str, data: ImageData, data_dir: str | None, classifier_dir: str | Path | None = None
) -> QualityProbe | None:
    """A probe when ``pretrained/classifiers/<dataset>/`` (or ``classifier_dir``) holds a
    reference classifier for images of this shape; None otherwise (the page skips the figure)."""
    from trainers.checkpoint import CheckpointError
    from trainers.evaluate import classifier_dir_for, load_classifier

    directory = Path(classifier_dir) if classifier_dir is not None else classifier_dir_for(dataset)
    if not (directory / "meta.json").is_file():
        return None
    try:
        classifier, _ = load_classifier(directory)
    except (CheckpointError, RuntimeError, OSError, KeyError, TypeError):
        return None
    if tuple(classifier.config.image_shape) != tuple(data.image_shape):
        return None
    reference = data
    if dataset in DATASETS:
        try:
            reference = load_dataset(dataset, data_dir, train=False, download=False)
        except Exception:  # noqa: BLE001 - the train split is a fine stand-in
            reference = data
    return QualityProbe(classifier, reference)


def quality_markdown(figures: dict[str, float] | None, step: int | None = None) -> str:
    """One Markdown line of the newest figures ("" when there are none)."""
    if not figures:
        return ""
    parts = [
        f"**classifier-FID** {figures['classifier_fid']:.2f} (500 vs 500 images; lower is better)"
    ]
    if "label_fidelity" in figures:
        parts.append(
            f"**label fidelity** {100 * figures['label_fidelity']:.1f} % (classifier agrees with the asked class)"
        )
    if "smallest_class_share" in figures:
        parts.append(
            f"**rarest class** {100 * figures['smallest_class_share']:.1f} % of samples "
            f"({100 * figures.get('even_share', 0.1):.0f} % = even)"
        )
    where = f" at step {step}" if step is not None else ""
    return f"Quality{where}: " + " · ".join(parts)
