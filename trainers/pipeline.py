"""``GANPipeline``: one object that loads a checkpoint and draws from it, the same way everywhere.

``gan-train sample``, ``gan-train evaluate``, every explorer tab and the live-training export
draw through this class, so the same checkpoint, seed, n, labels and truncation give the same
pixels in the CLI, in the app and in a notebook::

    from trainers.pipeline import GANPipeline

    pipe = GANPipeline.from_pretrained("pretrained/cgan-mnist")
    out = pipe(n=16, seed=3, labels=7, truncation=0.7)
    out.images   # uint8 (16, 28, 28, 1)
    out.scores   # D's realness sigmoid(D(x, y)) (16,)

The sampler
-----------
z for seed s is ``numpy.random.default_rng(s).standard_normal((n, d), float32)``: numpy fills
the array row by row, so sample i of a seed is the same vector in a batch of 4 and of 400.
Truncation ψ shrinks z towards the mean of the prior, z' = ψ·z (ψ = 1 is off; ψ = 0 gives
every row the mean latent). Latent arithmetic, interpolation and PCA directions are plain
functions over a pipeline in :mod:`trainers.latent_space`; layer activations in
:mod:`trainers.activations`.

The modules are used read-only (eval mode, no gradients). Every forward pass holds
``pipe.lock``, so forward hooks added under the same lock never see another thread's tensors.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from trainers.checkpoint import CheckpointError, LoadedCheckpoint, load_checkpoint
from trainers.data import to_uint8_images
from trainers.registry import ModelSpec

#: Images per forward pass when sampling many (keeps memory flat for n = 10,000).
BATCH = 500

Labels = int | Sequence[int] | np.ndarray | Tensor | None


@dataclass(frozen=True)
class PipelineOutput:
    """What G made and what D thought of it.

    Attributes:
        images: uint8 (N, H, W, C).
        scores: D's realness sigmoid(D(x)) (N,) float32 of G's output x before it is rounded
            to uint8 (``pipe.score(images)`` differs in the third decimal); None when there is
            no D (or it was not asked).
        logits: D's raw outputs (N,) float32; None likewise.
        latents: (N, latent_dim) float32, the z actually fed to G (on the CPU).
        labels: (N,) int64 class labels for a cGAN, else None.
    """

    images: np.ndarray
    scores: np.ndarray | None
    logits: Tensor | None
    latents: Tensor
    labels: Tensor | None


def uint8_to_model_input(images: np.ndarray) -> Tensor:
    """uint8 (N, H, W, C) -> float32 (N, C, H, W) in [-1, 1], the models' normalisation
    (the inverse of :func:`trainers.data.to_uint8_images`)."""
    return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float() / 127.5 - 1


def _not_a_sampler(folder: Path, spec: ModelSpec) -> CheckpointError:
    return CheckpointError(
        f"{folder} is a {spec.name} checkpoint: it translates images rather than sampling "
        "from noise; use `gan-train translate`, `gan-train evaluate-cyclegan` or the Translate tab"
    )


def display_name(path: Path, meta: dict[str, Any]) -> str:
    """meta["name"], else the folder; a run's ``<run>/checkpoint`` folder is called ``<run>``."""
    if meta.get("name"):
        return str(meta["name"])
    return path.parent.name if path.name == "checkpoint" else path.name


class GANPipeline:
    """A loaded GAN ready for inference: sampling, scoring and the attributes tabs need.

    Attributes:
        name: display name (meta["name"], or the folder; ``run/checkpoint`` -> "run").
        path: the checkpoint folder (the one with meta.json).
        meta, spec, config: its metadata, registry entry and model config.
        generator, discriminator: modules in eval mode (D is None when none was saved).
        image_shape: (C, H, W). latent_dim: size of z.
        class_names, conditional, num_classes: the labels of a cGAN ([] / False / 0 otherwise).
        device: where the modules live. lock: held around every forward pass.
    """

    def __init__(self, loaded: LoadedCheckpoint, device: str | torch.device = "cpu") -> None:
        if not loaded.spec.samples_from_noise:  # the registry says (CycleGAN translates)
            raise _not_a_sampler(loaded.path, loaded.spec)
        self.path: Path = loaded.path
        self.meta: dict[str, Any] = loaded.meta
        self.spec: ModelSpec = loaded.spec
        self.config: Any = loaded.config
        self.device = torch.device(device)
        self.generator: nn.Module = loaded.generator.to(self.device).eval().requires_grad_(False)
        self.discriminator: nn.Module | None = loaded.discriminator
        if self.discriminator is not None:
            self.discriminator.to(self.device).eval().requires_grad_(False)
        self.name = display_name(self.path, self.meta)
        self.image_shape: tuple[int, int, int] = tuple(self.config.image_shape)  # type: ignore[assignment]
        self.latent_dim = int(self.config.latent_dim)
        self.conditional = bool(self.spec.conditional)
        self.num_classes = int(self.config.num_classes) if self.conditional else 0
        names = list(self.meta.get("class_names") or []) if self.conditional else []
        if len(names) != self.num_classes:  # a cGAN saved without names: "0", "1", ...
            names = [str(i) for i in range(self.num_classes)]
        self.class_names: list[str] = names  # the labels G takes; [] for unconditional models
        self.lock = threading.RLock()

    @classmethod
    def from_pretrained(
        cls, path: str | os.PathLike, device: str | torch.device = "cpu", use_ema: bool = True
    ) -> GANPipeline:
        """Load a checkpoint folder, a training run folder (its ``checkpoint/``) or
        ``hf://OWNER/NAME[@REV]`` (see :func:`trainers.checkpoint.load_checkpoint`, which reads
        it once), and wrap it.

        Args:
            device: where to run ("cpu", "cuda", ...).
            use_ema: use the EMA generator when the checkpoint kept one.
        Raises:
            CheckpointError: not a GAN Explorer checkpoint (the message says what it is), corrupt,
                or a family that does not sample from noise (CycleGAN).
        """
        return cls(load_checkpoint(path, device=device, use_ema=use_ema), device)

    def __repr__(self) -> str:
        shape = "x".join(map(str, self.image_shape))
        return f"GANPipeline({self.name!r}, {self.spec.name}, {shape}, z={self.latent_dim})"

    # --- latents and labels -------------------------------------------------------------------

    def latents(self, seed: int, n: int, truncation: float = 1.0) -> Tensor:
        """``n`` latents for a seed: (n, latent_dim) float32 on the CPU (see the module docstring).

        Row i does not depend on ``n``; ``truncation`` ψ scales z towards the mean: z' = ψ·z.
        """
        rng = np.random.default_rng(int(seed))
        z = torch.from_numpy(rng.standard_normal((int(n), self.latent_dim), dtype=np.float32))
        return z if float(truncation) == 1.0 else z * float(truncation)

    def class_labels(self, n: int, label: int | None = None) -> Tensor | None:
        """(n,) int64 labels: all ``label``, or 0, 1, 2, ... cycling through the classes when
        ``label`` is None. None for an unconditional model (asking it for a label is an error)."""
        if not self.conditional:
            if label is not None:
                raise ValueError(
                    f"a class label only works with a cGAN checkpoint; {self.name} is an "
                    f"unconditional {self.spec.name}"
                )
            return None
        if label is None:
            return torch.arange(int(n)) % self.num_classes
        self._check_label(int(label))
        return torch.full((int(n),), int(label), dtype=torch.long)

    def _check_label(self, label: int) -> None:
        if not 0 <= label < self.num_classes:
            raise ValueError(
                f"label {label} is out of range: {self.name} has classes 0..{self.num_classes - 1}"
            )

    def _labels_for(self, labels: Labels, n: int) -> Tensor | None:
        """Normalise ``labels`` (None, one int, or n ints) to (n,) int64 or None, checked."""
        if labels is None:
            return self.class_labels(n)
        if not self.conditional:
            raise ValueError(
                f"class labels only work with a cGAN checkpoint; {self.name} is an "
                f"unconditional {self.spec.name}"
            )
        if isinstance(labels, int | np.integer):
            return self.class_labels(n, int(labels))
        tensor = torch.as_tensor(np.asarray(labels), dtype=torch.long).reshape(-1).cpu()
        if len(tensor) != n:
            raise ValueError(f"got {len(tensor)} labels for {n} images")
        for value in tensor.unique().tolist():
            self._check_label(int(value))
        return tensor

    # --- sampling and scoring ------------------------------------------------------------------

    def __call__(
        self,
        n: int = 16,
        seed: int = 0,
        labels: Labels = None,
        truncation: float = 1.0,
        latents: Tensor | None = None,
        *,
        with_scores: bool = True,
    ) -> PipelineOutput:
        """Draw ``n`` images of ``seed`` (or exactly the given ``latents`` (N, d), then ``n``,
        ``seed`` and ``truncation`` are not used) and D's verdict on each.

        Args:
            labels: cGAN only: None (cycle 0, 1, 2, ...), one class for all, or (N,) classes.
            with_scores: also run D (off for bulk sampling such as evaluation).
        """
        if latents is None:
            z = self.latents(seed, n, truncation)
        else:
            z = torch.as_tensor(latents, dtype=torch.float32).detach().cpu()
            z = z.reshape(-1, self.latent_dim)
        y = self._labels_for(labels, len(z))
        images, logits = [], []
        with self.lock, torch.inference_mode():
            for start in range(0, len(z), BATCH):
                zb = z[start : start + BATCH].to(self.device)
                yb = y[start : start + BATCH].to(self.device) if y is not None else None
                x = self.generator(zb, yb)  # (B, C, H, W) in [-1, 1]
                images.append(to_uint8_images(x))
                if with_scores and self.discriminator is not None:
                    logits.append(self.discriminator(x, yb).float().reshape(-1).cpu())
        all_logits = torch.cat(logits) if logits else None
        scores = torch.sigmoid(all_logits).numpy() if all_logits is not None else None
        c, h, w = self.image_shape
        stacked = np.concatenate(images) if images else np.zeros((0, h, w, c), np.uint8)
        return PipelineOutput(stacked, scores, all_logits, z, y)

    def logits(self, images: np.ndarray, labels: Labels = None) -> Tensor:
        """D's raw outputs (N,) for uint8 images (N, H, W, C) or one image (H, W, C).

        A cGAN's D judges an (image, label) pair, so it needs ``labels`` (one or N ints).
        """
        if self.discriminator is None:
            raise ValueError(f"{self.name} was saved without its discriminator: nothing to ask")
        batch = self._check_images(images)
        if self.conditional and labels is None:
            raise ValueError(
                f"{self.name} is a cGAN: its D judges an (image, label) pair; pass labels"
            )
        y = self._labels_for(labels, len(batch))
        out = []
        with self.lock, torch.inference_mode():
            for start in range(0, len(batch), BATCH):
                x = uint8_to_model_input(batch[start : start + BATCH]).to(self.device)
                yb = y[start : start + BATCH].to(self.device) if y is not None else None
                out.append(self.discriminator(x, yb).float().reshape(-1).cpu())
        return torch.cat(out)

    def score(self, images: np.ndarray, labels: Labels = None) -> np.ndarray:
        """D's realness sigmoid(D(x)) (N,) float32 of uint8 images (N, H, W, C) of this
        checkpoint's shape (bring other images to it with ``trainers.images.to_model_input``)."""
        return torch.sigmoid(self.logits(images, labels)).numpy()

    def _check_images(self, images: np.ndarray) -> np.ndarray:
        batch = np.asarray(images)
        if batch.ndim == 3:
            batch = batch[None]
        c, h, w = self.image_shape
        if batch.dtype != np.uint8 or batch.ndim != 4 or batch.shape[1:] != (h, w, c):
            raise ValueError(
                f"{self.name} judges uint8 images of shape (N, {h}, {w}, {c}); got "
                f"{batch.dtype} {tuple(np.shape(images))}"
            )
        return batch


__all__ = [
    "BATCH",
    "GANPipeline",
    "PipelineOutput",
    "display_name",
    "uint8_to_model_input",
]
