"""CycleGAN's data: two folders of unpaired images decoded once into memory, and the paper's
augmentation (a random crop of a slightly larger image and a coin-flip mirror)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from trainers.data import IMAGE_EXTENSIONS
from trainers.images import ImageInputError, to_model_input

MODEL_NAME = "cyclegan"


class CycleGANUserError(ValueError):
    """Bad input (missing folder, not an image, ...). The CLI prints it as one line, exit status 2."""


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


def load_domain(folder: str | Path, size: int, limit: int | None = None) -> torch.Tensor:
    """Decode a folder of images once into memory: uint8 (N, 3, size, size).

    Each image goes through trainers.images (the one loader and its checks), is centre-cropped
    to a square and resized (bicubic); grey images (7 of the zebras) become RGB.
    """
    arrays = []
    for path in list_images(folder)[:limit]:
        try:
            arrays.append(to_model_input(path, (3, size, size)))  # (size, size, 3)
        except ImageInputError as error:
            raise CycleGANUserError(str(error)) from None
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
