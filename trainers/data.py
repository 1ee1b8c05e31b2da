"""Data sets as uint8 tensors held in memory.

Small image sets (MNIST is 47 MB decoded) are decoded once into a ``(N, C, H, W)`` uint8
tensor; a training step then picks a batch by indexing and scales it to [-1, 1]. The usual
per-item PIL -> ToTensor -> DataLoader pipeline spends most of a small CPU on Python overhead.

Where data comes from:
- ``mnist``, ``fashion-mnist``, ``cifar10``: torchvision, downloaded into ``data_dir`` when
  online. Offline, point ``data_dir`` at a folder that already holds them (torchvision's
  ``MNIST/raw``, ``FashionMNIST/raw``; CIFAR-10 either as torchvision's archive or as an
  image folder ``CIFAR10/train/<class>/*.png``).
- ``folder:PATH``: your own images, one sub-folder per class.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from trainers.images import ImageInputError, load_image, to_model_input

DATASETS: tuple[str, ...] = ("mnist", "fashion-mnist", "cifar10")
IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}
DEFAULT_DATA_DIR = Path(
    os.environ.get("GAN_EXPLORER_DATA", Path.home() / ".cache" / "gan-explorer" / "data")
)


class DataUnavailableError(RuntimeError):
    """A data set is not on disk and could not be downloaded. The message says how to get it."""


@dataclass
class ImageData:
    """Images in memory.

    Args:
        images: uint8 (N, C, H, W).
        labels: int64 (N,); all zeros when the set has no classes.
        class_names: one name per label value (empty for unlabelled data).
        name: the data set's name as the CLI spells it.
    """

    images: torch.Tensor
    labels: torch.Tensor
    class_names: list[str]
    name: str

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.images.shape[1:])  # type: ignore[return-value]

    def __len__(self) -> int:
        return self.images.shape[0]

    def batch(
        self, indices: torch.Tensor, device: torch.device | str = "cpu"
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Images scaled to [-1, 1] (float32, (B, C, H, W)) and their labels (B,)."""
        x = self.images[indices].to(device, non_blocking=True).float().div_(127.5).sub_(1.0)
        return x, self.labels[indices].to(device)


def to_uint8_images(x: torch.Tensor) -> np.ndarray:
    """[-1, 1] float (B, C, H, W) -> uint8 (B, H, W, C), the one place that undoes the scaling."""
    x = ((x.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return x.permute(0, 2, 3, 1).numpy()


def parse_dataset_name(name: str) -> str:
    if name in DATASETS or (name.startswith("folder:") and len(name) > len("folder:")):
        return name
    raise ValueError(f"unknown dataset {name!r}; use one of {', '.join(DATASETS)} or folder:PATH")


def load_dataset(
    name: str,
    data_dir: str | Path | None = None,
    train: bool = True,
    download: bool = True,
    image_size: int | None = None,
) -> ImageData:
    """Load a data set into memory.

    Args:
        name: "mnist", "fashion-mnist", "cifar10" or "folder:PATH".
        data_dir: where torchvision keeps (or downloads) the data. Default: $GAN_EXPLORER_DATA
            or ~/.cache/gan-explorer/data.
        train: the training split (else the test split).
        download: try to download when not on disk.
        image_size: for folders, the side images are centre-cropped and resized to (default 64).
    Raises:
        DataUnavailableError: not on disk and not downloadable, with a one-line fix.
    """
    parse_dataset_name(name)
    root = Path(data_dir) if data_dir is not None else DEFAULT_DATA_DIR
    if name.startswith("folder:"):
        return load_image_folder(
            Path(name[len("folder:") :]), image_size=image_size or 64, name=name
        )
    if name in ("mnist", "fashion-mnist"):
        return _load_torchvision_digits(name, root, train, download)
    return _load_cifar10(root, train, download)


def _offline_message(name: str, root: Path, layout: str) -> str:
    return (
        f"{name} is not in {root} (looked for {layout}) and could not be downloaded. "
        f"Connect to the internet once, or pass --data-dir pointing at a folder that holds {layout}."
    )


def _load_torchvision_digits(name: str, root: Path, train: bool, download: bool) -> ImageData:
    from torchvision import datasets

    cls = datasets.MNIST if name == "mnist" else datasets.FashionMNIST
    layout = f"{cls.__name__}/raw/"
    try:
        ds = cls(str(root), train=train, download=download)
    except Exception as error:  # torchvision raises RuntimeError offline, URLError mid-download
        raise DataUnavailableError(_offline_message(name, root, layout)) from error
    images = ds.data.unsqueeze(1).contiguous()  # (N, 28, 28) -> (N, 1, 28, 28) uint8
    class_names = [str(c).split(" - ")[-1] for c in ds.classes]  # MNIST's "0 - zero" -> "zero"
    if name == "mnist":
        class_names = [str(i) for i in range(10)]
    return ImageData(images, ds.targets.long(), class_names, name)


def _load_cifar10(root: Path, train: bool, download: bool) -> ImageData:
    folder = root / "CIFAR10" / ("train" if train else "test")
    if folder.is_dir():  # an image-folder copy (as in ../shared/data)
        data = load_image_folder(folder, image_size=32, name="cifar10")
        return data
    from torchvision import datasets

    try:
        ds = datasets.CIFAR10(str(root), train=train, download=download)
    except Exception as error:
        raise DataUnavailableError(
            _offline_message(
                "cifar10", root, "cifar-10-batches-py/ or CIFAR10/{train,test}/<class>/"
            )
        ) from error
    images = (
        torch.from_numpy(ds.data).permute(0, 3, 1, 2).contiguous()
    )  # (N, 32, 32, 3) -> (N, 3, 32, 32)
    return ImageData(
        images, torch.tensor(ds.targets, dtype=torch.long), list(ds.classes), "cifar10"
    )


def load_image_folder(folder: Path, image_size: int = 64, name: str | None = None) -> ImageData:
    """Decode every image under ``folder/<class>/`` once into memory.

    Each image goes through :func:`trainers.images.load_image` (the one set of checks), is
    centre-cropped to a square and resized to ``image_size``. If every image is grayscale the
    set keeps one channel, else all become RGB.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataUnavailableError(f"image folder {folder} does not exist")
    class_dirs = sorted(p for p in folder.iterdir() if p.is_dir())
    if not class_dirs:  # a flat folder of images is one unnamed class
        class_dirs = [folder]
    arrays: list[np.ndarray] = []
    labels: list[int] = []
    grayscale = True
    for label, class_dir in enumerate(class_dirs):
        for path in sorted(class_dir.iterdir()):
            if path.suffix.lower() not in IMAGE_EXTENSIONS:
                continue
            try:
                img = load_image(path, mode=None)
            except ImageInputError as error:
                raise DataUnavailableError(f"{path}: {error}") from error
            grayscale &= img.mode == "L"
            arrays.append(to_model_input(img, (3, image_size, image_size)))  # (S, S, 3)
            labels.append(label)
    if not arrays:
        raise DataUnavailableError(
            f"no images ({', '.join(sorted(IMAGE_EXTENSIONS))}) found under {folder}"
        )
    images = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()  # (N, 3, S, S)
    if grayscale:
        images = images[:, :1].contiguous()
    class_names = [d.name for d in class_dirs] if class_dirs != [folder] else []
    return ImageData(
        images, torch.tensor(labels, dtype=torch.long), class_names, name or f"folder:{folder}"
    )


def synthetic_dataset(
    image_shape: tuple[int, int, int] = (1, 28, 28),
    num_classes: int = 10,
    n: int = 512,
    seed: int = 0,
) -> ImageData:
    """A small made-up data set for ``--dry-run`` and tests: class k is a bright square at a
    position that depends on k, on a dark background, with a little noise."""
    gen = torch.Generator().manual_seed(seed)
    c, h, w = image_shape
    labels = torch.arange(n) % max(num_classes, 1)
    images = (torch.rand(n, c, h, w, generator=gen) * 40).to(torch.uint8)
    side = max(h // 4, 2)
    for k in range(max(num_classes, 1)):
        row, col = (k * 5) % (h - side), (k * 7) % (w - side)
        images[labels == k, :, row : row + side, col : col + side] = 230
    names = [f"class {k}" for k in range(num_classes)] if num_classes else []
    return ImageData(images, labels, names, "synthetic")
