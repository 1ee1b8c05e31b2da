"""The one image loader: every refusal is an ImageInputError with one sentence; modes convert."""

from __future__ import annotations

import io
import math
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from trainers import images
from trainers.images import ImageInputError, load_image, make_grid, to_model_input, write_gif


def _png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares ``width`` x ``height`` pixels (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grey
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0"))


def _one_sentence(message: str) -> bool:
    return message.endswith(".") and ". " not in message[:-1] and "\n" not in message


RANDOM = np.random.default_rng(0).integers(0, 256, 500, dtype=np.uint8).tobytes()
GOOD = _png_bytes(Image.new("RGB", (32, 32), (10, 20, 30)))


@pytest.mark.parametrize(
    ("source", "words"),
    [
        (RANDOM, "not an image"),
        (b"", "empty"),
        (GOOD[: len(GOOD) // 2], "truncated"),
        (_png_declaring(100_000, 100_000), "too many pixels"),
        (_png_declaring(5000, 5000), "megapixels"),
        (_png_bytes(Image.new("RGB", (9000, 50))), "too long and thin"),
        (_png_bytes(Image.new("RGB", (2, 2))), "too small"),
        (np.zeros((2, 2, 3), np.uint8), "too small"),
        (np.full((20, 20), np.nan), "NaN"),
        (np.zeros((4, 4, 2), np.uint8), "array"),
        (None, "No image"),
    ],
    ids=[
        "random-bytes",
        "empty",
        "truncated-png",
        "bomb",
        "over-limit",
        "9000x50",
        "2x2",
        "2x2-array",
        "nan",
        "two-channels",
        "none",
    ],
)
def test_refusals_are_one_clear_sentence(source, words) -> None:
    with pytest.raises(ImageInputError) as caught:
        load_image(source)
    message = str(caught.value)
    assert words.lower() in message.lower() and _one_sentence(message), message
    assert isinstance(caught.value, ValueError)  # callers that catch ValueError still work


def test_files_on_disk(tmp_path) -> None:
    (tmp_path / "notes.png").write_text("this is not a picture")
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "ok.png").write_bytes(GOOD)
    for name, words in (("missing.png", "does not exist"), ("notes.png", "not an image")):
        with pytest.raises(ImageInputError, match=words):
            load_image(tmp_path / name, name="content image")
    with pytest.raises(ImageInputError, match="empty file"):
        load_image(str(tmp_path / "empty.jpg"))
    img = load_image(tmp_path / "ok.png")
    assert img.mode == "RGB" and img.size == (32, 32)
    with open(tmp_path / "ok.png", "rb") as handle:  # a binary file object
        assert load_image(handle).size == (32, 32)


def test_the_name_appears_in_the_message() -> None:
    with pytest.raises(ImageInputError, match="style image"):
        load_image(RANDOM, name="style image")


def _modes() -> list[Image.Image]:
    rgba = Image.new("RGBA", (16, 12), (255, 0, 0, 0))  # fully transparent red
    palette = Image.new("P", (16, 12), 3)
    grey16 = Image.fromarray(np.full((12, 16), 65535, np.uint16))
    return [
        palette,
        rgba,
        Image.new("LA", (16, 12), (0, 0)),
        grey16,
        Image.new("CMYK", (16, 12), (0, 0, 0, 0)),
        Image.new("1", (16, 12), 1),
        Image.new("F", (16, 12), 0.5),
    ]


@pytest.mark.parametrize("image", _modes(), ids=lambda im: im.mode)
@pytest.mark.parametrize("through_png", [False, True])
def test_odd_modes_convert(image: Image.Image, through_png: bool) -> None:
    if through_png and image.mode in ("CMYK", "F"):
        pytest.skip("PNG cannot store this mode")
    source = _png_bytes(image) if through_png else image
    rgb = load_image(source)
    assert rgb.mode == "RGB" and rgb.size == (16, 12)
    assert load_image(source, mode="L").mode == "L"
    natural = load_image(source, mode=None).mode
    assert natural == ("RGB" if image.mode in ("P", "RGBA", "CMYK") else "L")


def test_conversions_keep_the_values_a_person_sees() -> None:
    grey16 = Image.fromarray(np.full((12, 16), 65535, np.uint16))  # white, not clipped noise
    assert np.asarray(load_image(grey16, mode="L")).min() == 255
    transparent = Image.new("RGBA", (16, 12), (255, 0, 0, 0))  # transparent -> white paper
    assert (np.asarray(load_image(transparent)) == 255).all()
    floats = np.full((10, 10, 3), 0.5, np.float32)  # floats in [0, 1]
    assert (np.asarray(load_image(floats)) == 128).all()
    assert load_image(np.ones((10, 10), bool), mode=None).mode == "L"


def test_big_images_are_downscaled_not_refused() -> None:
    img = load_image(np.zeros((300, 150, 3), np.uint8), max_side=100)
    assert img.size == (50, 100)
    with pytest.raises(ImageInputError, match="too small"):  # 300x10 at max_side 100: 100x3
        load_image(np.zeros((10, 150, 3), np.uint8), max_side=50)


def test_limit_is_read_at_call_time(monkeypatch) -> None:
    monkeypatch.setattr(images, "MAX_IMAGE_PIXELS", 1000)
    with pytest.raises(ImageInputError, match="megapixels"):
        load_image(Image.new("RGB", (40, 40)))


def test_to_model_input_crops_resizes_and_sets_channels() -> None:
    wide = np.zeros((20, 40, 3), np.uint8)
    wide[:, 10:30] = 200  # the centre square is bright
    out = to_model_input(wide, (1, 8, 8))
    assert out.shape == (8, 8, 1) and out.dtype == np.uint8 and (out == 200).all()
    rgb = to_model_input(Image.new("L", (30, 30), 77), (3, 16, 8))
    assert rgb.shape == (16, 8, 3) and (rgb == 77).all()
    with pytest.raises(ImageInputError):
        to_model_input(RANDOM, (3, 8, 8))


def _old_image_grid(images: np.ndarray, nrow: int, padding: int = 2) -> np.ndarray:
    """The hand-made grid trainers/engine.py had before torchvision's make_grid."""
    b, h, w, c = images.shape
    rows = math.ceil(b / nrow)
    grid = np.zeros((rows * (h + padding) + padding, nrow * (w + padding) + padding, c), np.uint8)
    for i in range(b):
        r, col = divmod(i, nrow)
        top, left = padding + r * (h + padding), padding + col * (w + padding)
        grid[top : top + h, left : left + w] = images[i]
    return grid


@pytest.mark.parametrize(("n", "channels", "nrow"), [(6, 3, 3), (7, 1, 4), (4, 3, 4)])
def test_make_grid_matches_the_old_layout(n: int, channels: int, nrow: int) -> None:
    rng = np.random.default_rng(n)
    batch = rng.integers(1, 256, (n, 5, 6, channels), dtype=np.uint8)
    np.testing.assert_array_equal(make_grid(batch, nrow=nrow), _old_image_grid(batch, nrow))


def test_make_grid_of_one_image_keeps_its_border() -> None:
    one = np.full((1, 4, 4, 3), 9, np.uint8)
    np.testing.assert_array_equal(make_grid(one, nrow=8, padding=1)[1:-1, 1:-1], one[0])


def test_write_gif_round_trips_frames(tmp_path) -> None:
    frames = [np.full((12, 10, 3), 30 * i, np.uint8) for i in range(5)]
    path = write_gif(frames, tmp_path / "a.gif", fps=5)
    with Image.open(path) as gif:
        assert gif.n_frames == 5 and gif.size == (10, 12)
        assert gif.info["duration"] == 200 and gif.info.get("loop") == 0
    grey = [np.full((8, 8), 50 * i, np.uint8) for i in range(3)]
    path = write_gif(grey, tmp_path / "b.gif", durations_ms=[100, 100, 1500])
    with Image.open(path) as gif:
        assert gif.n_frames == 3
    with pytest.raises(ValueError):
        write_gif([], tmp_path / "c.gif")
