"""Data in memory: synthetic sets, image folders, torchvision sets offline, scaling to [-1, 1]."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from trainers.data import (
    DataUnavailableError,
    ImageData,
    load_dataset,
    load_image_folder,
    parse_dataset_name,
    synthetic_dataset,
    to_uint8_images,
)

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


# --- synthetic -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "classes"), [((1, 28, 28), 10), ((3, 32, 32), 10), ((1, 8, 8), 2)]
)
def test_synthetic_dataset_shapes_and_labels(shape, classes):
    data = synthetic_dataset(shape, num_classes=classes, n=40)
    assert isinstance(data, ImageData) and len(data) == 40
    assert data.images.dtype == torch.uint8 and tuple(data.images.shape) == (40, *shape)
    assert data.image_shape == shape
    assert data.labels.dtype == torch.int64 and data.labels.tolist() == [
        i % classes for i in range(40)
    ]
    assert data.class_names == [f"class {k}" for k in range(classes)]
    # each class has its bright square: the class means differ
    means = torch.stack([data.images[data.labels == k].float().mean(0) for k in range(classes)])
    assert all(not torch.equal(means[0], means[k]) for k in range(1, classes))
    assert data.images.max() == 230


def test_synthetic_dataset_is_seeded():
    a, b, c = (
        synthetic_dataset(n=16, seed=1),
        synthetic_dataset(n=16, seed=1),
        synthetic_dataset(n=16, seed=2),
    )
    assert torch.equal(a.images, b.images)
    assert not torch.equal(a.images, c.images)


def test_synthetic_dataset_without_classes():
    data = synthetic_dataset((1, 8, 8), num_classes=0, n=8)
    assert data.class_names == [] and data.labels.tolist() == [0] * 8


# --- scaling -------------------------------------------------------------------------------------


def test_batch_scales_to_minus_one_one():
    images = torch.tensor([0, 127, 128, 255], dtype=torch.uint8).view(4, 1, 1, 1)
    data = ImageData(images, torch.tensor([3, 2, 1, 0]), ["a", "b", "c", "d"], "tiny")
    x, y = data.batch(torch.tensor([0, 3, 1]))
    assert x.dtype == torch.float32 and x.shape == (3, 1, 1, 1)
    assert x.flatten().tolist() == pytest.approx([-1.0, 1.0, 127 / 127.5 - 1])
    assert y.tolist() == [3, 0, 2]
    assert torch.equal(
        data.images, torch.tensor([0, 127, 128, 255], dtype=torch.uint8).view(4, 1, 1, 1)
    )


def test_to_uint8_images_undoes_the_scaling():
    data = synthetic_dataset((3, 8, 8), num_classes=2, n=6)
    x, _ = data.batch(torch.arange(6))
    assert x.min() >= -1 and x.max() <= 1
    back = to_uint8_images(x)
    assert back.dtype == np.uint8 and back.shape == (6, 8, 8, 3)
    assert np.array_equal(back, data.images.permute(0, 2, 3, 1).numpy())
    clipped = to_uint8_images(torch.tensor([-3.0, 3.0]).view(2, 1, 1, 1))
    assert clipped.flatten().tolist() == [0, 255]


# --- image folders -------------------------------------------------------------------------------


def _save(path: Path, array: np.ndarray, mode: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array, mode).save(path)


def test_grayscale_folder_keeps_one_channel(tmp_path):
    for name, value in (("zeros", 0), ("ones", 255)):
        for i in range(3):
            _save(tmp_path / name / f"{i}.png", np.full((10, 10), value, dtype=np.uint8), "L")
    (tmp_path / "ones" / "notes.txt").write_text("not an image, ignored")
    data = load_image_folder(tmp_path, image_size=10)
    assert data.class_names == ["ones", "zeros"]  # sorted sub-folders
    assert tuple(data.images.shape) == (6, 1, 10, 10)
    assert data.labels.tolist() == [0, 0, 0, 1, 1, 1]
    assert (data.images[data.labels == 0] == 255).all() and (
        data.images[data.labels == 1] == 0
    ).all()
    assert data.name == f"folder:{tmp_path}"


def test_rgb_folder_resizes_and_crops(tmp_path):
    rng = np.random.default_rng(0)
    _save(tmp_path / "a" / "wide.png", rng.integers(0, 256, (12, 20, 3), dtype=np.uint8), "RGB")
    _save(tmp_path / "b" / "gray.png", np.full((16, 16), 77, dtype=np.uint8), "L")
    _save(tmp_path / "b" / "palette.gif", np.zeros((16, 16), dtype=np.uint8), "L")
    data = load_image_folder(tmp_path, image_size=8)
    assert tuple(data.images.shape) == (3, 3, 8, 8)  # any RGB image makes the set RGB
    assert data.class_names == ["a", "b"] and data.labels.tolist() == [0, 1, 1]
    gray = data.images[1]
    assert (gray[0] == gray[1]).all() and (
        gray[1] == gray[2]
    ).all()  # grayscale copied to 3 channels
    assert (gray == 77).all()


def test_centre_crop_keeps_the_middle(tmp_path):
    wide = np.zeros((8, 12), dtype=np.uint8)
    wide[:, 2:10] = 200  # the centre 8x8 square is bright, the 2-pixel side strips dark
    _save(tmp_path / "a" / "wide.png", wide, "L")
    data = load_image_folder(tmp_path, image_size=8)
    assert tuple(data.images.shape) == (1, 1, 8, 8)
    assert (data.images == 200).all()


def test_flat_folder_is_one_unnamed_class(tmp_path):
    for i in range(2):
        _save(tmp_path / f"{i}.jpg", np.zeros((8, 8, 3), dtype=np.uint8), "RGB")
    data = load_image_folder(tmp_path, image_size=8)
    assert data.class_names == [] and len(data) == 2


def test_load_dataset_folder_uses_image_size(tmp_path):
    _save(tmp_path / "pets" / "cats" / "0.png", np.zeros((32, 32), dtype=np.uint8), "L")
    data = load_dataset(f"folder:{tmp_path / 'pets'}", image_size=16)
    assert data.image_shape == (1, 16, 16) and data.name == f"folder:{tmp_path / 'pets'}"
    assert load_dataset(f"folder:{tmp_path / 'pets'}").image_shape == (
        1,
        64,
        64,
    )  # the default side


def test_non_image_with_image_extension_is_refused(tmp_path):
    _save(tmp_path / "a" / "good.png", np.zeros((8, 8), dtype=np.uint8), "L")
    (tmp_path / "a" / "bad.png").write_bytes(b"this is not a PNG")
    with pytest.raises(DataUnavailableError, match=r"bad\.png is not an image"):
        load_image_folder(tmp_path, image_size=8)


def test_empty_or_missing_folder_is_refused(tmp_path):
    with pytest.raises(DataUnavailableError, match="does not exist"):
        load_image_folder(tmp_path / "missing")
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "readme.md").write_text("no images")
    with pytest.raises(DataUnavailableError, match="no images"):
        load_image_folder(tmp_path)


# --- torchvision sets offline --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "layout"), [("mnist", "MNIST/raw"), ("fashion-mnist", "FashionMNIST/raw")]
)
def test_offline_without_data_says_how_to_fix_it(name, layout, tmp_path):
    with pytest.raises(DataUnavailableError) as error:
        load_dataset(name, data_dir=tmp_path, download=False)
    message = str(error.value)
    assert "\n" not in message
    assert name in message and str(tmp_path) in message and layout in message
    assert "--data-dir" in message and "internet" in message


def test_cifar10_offline_without_data_says_how_to_fix_it(tmp_path):
    with pytest.raises(DataUnavailableError, match="--data-dir.*CIFAR10"):
        load_dataset("cifar10", data_dir=tmp_path, download=False)


def test_cifar10_image_folder_layout_is_used(tmp_path):
    for cls in ("airplane", "cat"):
        _save(
            tmp_path / "CIFAR10" / "train" / cls / "0.png",
            np.zeros((32, 32, 3), dtype=np.uint8),
            "RGB",
        )
    data = load_dataset("cifar10", data_dir=tmp_path, download=False)
    assert data.name == "cifar10" and data.image_shape == (3, 32, 32)
    assert data.class_names == ["airplane", "cat"]


@pytest.mark.parametrize("bad", ["imagenet", "folder:", "MNIST"])
def test_unknown_dataset_names(bad):
    with pytest.raises(ValueError, match="unknown dataset"):
        parse_dataset_name(bad)


@pytest.mark.shared_data
@pytest.mark.skipif(
    not (SHARED_DATA / "MNIST" / "raw").is_dir(),
    reason="needs ../shared/data (not in a fresh clone)",
)
def test_real_mnist_from_shared_data():
    data = load_dataset("mnist", data_dir=SHARED_DATA, train=False, download=False)
    assert len(data) == 10_000 and data.image_shape == (1, 28, 28)
    assert data.images.dtype == torch.uint8 and data.class_names == [str(i) for i in range(10)]
    assert sorted(data.labels.unique().tolist()) == list(range(10))
    assert data.images.max() == 255 and data.images.min() == 0
    x, _ = data.batch(torch.arange(8))
    assert x.min() >= -1 and x.max() <= 1


@pytest.mark.shared_data
@pytest.mark.skipif(
    not (SHARED_DATA / "FashionMNIST" / "raw").is_dir(), reason="needs ../shared/data"
)
def test_real_fashion_mnist_class_names():
    data = load_dataset("fashion-mnist", data_dir=SHARED_DATA, train=False, download=False)
    assert (
        len(data) == 10_000 and data.class_names[0] == "T-shirt/top" and len(data.class_names) == 10
    )
