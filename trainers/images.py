"""Images in and out: the one loader (with one set of checks), grids and GIFs.

Every place that reads a user's picture (a ``folder:`` data set, CycleGAN's domains, the style
transfer inputs, the explorer's uploads) goes through :func:`load_image`, so every front end
refuses the same things with the same sentence:

- not an image at all (random bytes, an empty file, a PDF renamed .png), or a truncated file;
- too many pixels to decode safely (a "decompression bomb" declares a huge size in a tiny file);
- too small (under ``min_side`` pixels on a side) or too long and thin (more than
  ``MAX_ASPECT``:1, e.g. 9000x50, which would otherwise end in a PyTorch padding error).

Odd modes are converted: palette (P), alpha (RGBA, LA: composited onto white), 16-bit grey
(I;16), CMYK and 1-bit all become ``L`` or ``RGB``.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_IMAGE_SIDE = 4096  # longer images are downscaled to this side (not refused)
MAX_IMAGE_PIXELS = 4096 * 4096  # more pixels than this (after JPEG draft decoding) are refused
MIN_IMAGE_SIDE = 8
MAX_ASPECT = 20  # longer side / shorter side; 9000x50 is 180:1

ImageSource = str | os.PathLike | bytes | Image.Image | np.ndarray
GREY_MODES = ("1", "L", "LA", "La", "I", "I;16", "I;16L", "I;16B", "I;16N", "F")
FORMATS = "PNG, JPEG, WebP, BMP, GIF or TIFF"


class ImageInputError(ValueError):
    """A picture that cannot be used, with a one-sentence message a user understands."""


def load_image(
    source: ImageSource,
    *,
    mode: str | None = "RGB",
    name: str = "image",
    max_side: int = MAX_IMAGE_SIDE,
    min_side: int = MIN_IMAGE_SIDE,
) -> Image.Image:
    """Open, check and convert a picture; returns a loaded PIL image in ``mode``.

    Args:
        source: a file path, the file's bytes (or a binary file object), a PIL image, or a
            numpy array ``(H, W)`` / ``(H, W, 1|3|4)``: uint8, bool, or float in [0, 1]
            (floats above 1 are taken as 0..255).
        mode: ``"RGB"`` or ``"L"``; ``None`` keeps grey pictures ``L`` and makes the rest ``RGB``.
        name: what the picture is called in error messages ("content image", a file name).
        max_side: a longer side beyond this is downscaled to it (the aspect ratio is kept).
        min_side: either side under this (after downscaling) is refused.
    Raises:
        ImageInputError: the picture is not usable; the message says why in one sentence.
    """
    if mode not in ("RGB", "L", None):
        raise ValueError(f"mode must be 'RGB', 'L' or None, got {mode!r}")
    if source is None:
        raise ImageInputError(f"No {name} was given: upload one or pick an example.")
    if isinstance(source, str | os.PathLike):
        name = f"{name} {Path(source).name}"  # every message names the file
    if isinstance(source, np.ndarray):
        img = _array_to_image(source, name)
    elif isinstance(source, Image.Image):
        img = source
    else:
        img = _open(source, name)
    width, height = img.size
    label = f"The {name} ({width}x{height} pixels)"
    if min(width, height) < 1:
        raise ImageInputError(f"The {name} is empty ({width}x{height} pixels).")
    if max(width, height) > MAX_ASPECT * min(width, height):
        raise ImageInputError(
            f"{label} is too long and thin to use (more than {MAX_ASPECT}:1); "
            "crop it closer to a square."
        )
    scale = min(1.0, max_side / max(width, height))
    new_size = (max(1, round(width * scale)), max(1, round(height * scale)))
    if min(new_size) < min_side:
        raise ImageInputError(
            f"{label} is too small: it needs at least {min_side} pixels on each side"
            + (f" after shrinking it to {new_size[0]}x{new_size[1]}." if scale < 1 else ".")
        )
    if isinstance(source, Image.Image | np.ndarray):
        _check_pixels(img, name)
    else:
        img = _decode(img, new_size, name)
    img = _convert(img, mode)
    width, height = img.size  # after EXIF rotation and JPEG draft decoding
    if max(width, height) > max_side:
        scale = max_side / max(width, height)
        new_size = (max(1, round(width * scale)), max(1, round(height * scale)))
        img = img.resize(new_size, Image.Resampling.LANCZOS)
    return img


def _open(source: Any, name: str) -> Image.Image:
    """A lazily opened PIL image (only the header is read) from a path, bytes or file object."""
    what = f"The {name}"
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if not path.is_file():
            raise ImageInputError(f"{what} does not exist.")
        if path.stat().st_size == 0:
            raise ImageInputError(f"{what} is an empty file, not an image.")
    elif isinstance(source, bytes):
        if not source:
            raise ImageInputError(f"The {name} is empty (0 bytes), not an image.")
        source = io.BytesIO(source)
    elif not hasattr(source, "read"):
        raise ImageInputError(
            f"The {name} should be a file, bytes, a PIL image or an array, not {type(source).__name__}."
        )
    try:
        return Image.open(source)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageInputError(f"{what} declares far too many pixels to decode safely.") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise ImageInputError(f"{what} is not an image this app can read ({FORMATS}).") from None


def _decode(img: Image.Image, size: tuple[int, int], name: str) -> Image.Image:
    """Decode a lazily opened file (JPEGs at a reduced scale when they will be shrunk)."""
    try:
        if img.size != size:
            img.draft(img.mode if img.mode in ("RGB", "L") else None, size)  # JPEG only
        _check_pixels(img, name)
        img.load()
        img = ImageOps.exif_transpose(img)  # phone photos: apply the EXIF rotation
    except ImageInputError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageInputError(f"The {name} has far too many pixels to decode safely.") from None
    except (OSError, ValueError, SyntaxError, EOFError) as error:
        truncated = "truncated" in str(error).lower()
        reason = "is truncated (the file is incomplete)" if truncated else "could not be decoded"
        raise ImageInputError(f"The {name} {reason}; please upload it again.") from None
    return img


def _check_pixels(img: Image.Image, name: str) -> None:
    width, height = img.size
    if width * height > MAX_IMAGE_PIXELS:
        raise ImageInputError(
            f"The {name} is {width}x{height} = {width * height / 1e6:.0f} megapixels, over the "
            f"limit of {MAX_IMAGE_PIXELS / 1e6:.0f} megapixels; please downscale it first."
        )


def _convert(img: Image.Image, mode: str | None) -> Image.Image:
    """Any PIL mode -> ``mode`` ("RGB" / "L"; None: grey stays "L", the rest become "RGB")."""
    if img.mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    if img.mode.startswith("I") or img.mode == "F":
        img = Image.fromarray(_high_bit_depth_to_uint8(np.asarray(img)))  # (H, W) uint8, "L"
    if img.mode in ("RGBA", "LA", "La", "RGBa", "PA"):
        background = Image.new("RGBA", img.size, (255, 255, 255, 255))
        flat = Image.alpha_composite(background, img.convert("RGBA"))
        img = flat.convert("L" if img.mode in ("LA", "La") else "RGB")
    target = mode or ("L" if img.mode in GREY_MODES else "RGB")
    return img if img.mode == target else img.convert(target)


def _high_bit_depth_to_uint8(array: np.ndarray) -> np.ndarray:
    """16-bit, 32-bit or float grey values -> uint8 (PIL's own convert would clip at 255)."""
    values = array.astype(np.float64)
    if not np.all(np.isfinite(values)):
        values = np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0)
    if array.dtype.kind == "f" and values.max(initial=0) <= 1.0:
        values = values * 255.0
    elif values.max(initial=0) > 255:
        values = values / 257.0  # 16-bit: 65535 -> 255
    return np.clip(values + 0.5, 0, 255).astype(np.uint8)


def _array_to_image(array: np.ndarray, name: str) -> Image.Image:
    """``(H, W)`` or ``(H, W, 1|3|4)`` uint8 / bool / float / int array -> PIL L, RGB or RGBA."""
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise ImageInputError(
            f"The {name} should be an (H, W) or (H, W, 1|3|4) array, not one of shape {array.shape}."
        )
    if min(array.shape[:2]) < 1:
        raise ImageInputError(f"The {name} is empty (shape {array.shape}).")
    if array.dtype == bool:
        array = array.astype(np.uint8) * 255
    elif array.dtype != np.uint8:
        if not np.issubdtype(array.dtype, np.number):
            raise ImageInputError(f"The {name} has an unsupported array type ({array.dtype}).")
        if np.issubdtype(array.dtype, np.floating) and not np.all(np.isfinite(array)):
            raise ImageInputError(f"The {name} contains NaN or infinite values.")
        values = array.astype(np.float32)
        if np.issubdtype(array.dtype, np.floating) and values.max(initial=0) <= 1.0:
            values = values * 255.0
        array = np.clip(values + 0.5, 0, 255).astype(np.uint8)
    return Image.fromarray(np.ascontiguousarray(array))


def to_model_input(image: ImageSource, image_shape: tuple[int, int, int]) -> np.ndarray:
    """A picture brought to a model's input: uint8 ``(H, W, C)`` for ``image_shape=(C, H, W)``.

    The picture is loaded with :func:`load_image` (so bad inputs raise ``ImageInputError``),
    centre-cropped to the aspect ratio ``W / H``, resized (bicubic, as the data sets are) and
    given ``C`` channels (1: grey, 3: RGB).
    """
    channels, height, width = image_shape
    if channels not in (1, 3):
        raise ValueError(f"image_shape must have 1 or 3 channels, got {image_shape}")
    img = load_image(image, mode="L" if channels == 1 else "RGB", min_side=1)
    w, h = img.size
    crop_w, crop_h = min(w, round(h * width / height)), min(h, round(w * height / width))
    left, top = (w - crop_w) // 2, (h - crop_h) // 2
    img = img.crop((left, top, left + crop_w, top + crop_h))
    if img.size != (width, height):
        img = img.resize((width, height), Image.Resampling.BICUBIC)
    array = np.asarray(img, dtype=np.uint8)
    return np.ascontiguousarray(array.reshape(height, width, channels))  # (H, W, C)


def make_grid(images: np.ndarray, nrow: int, padding: int = 2) -> np.ndarray:
    """uint8 ``(N, H, W, C)`` -> one uint8 picture, ``nrow`` images per row, black gaps.

    A thin wrapper over ``torchvision.utils.make_grid`` (pad value 0): the result is
    ``(rows * (H + p) + p, min(nrow, N) * (W + p) + p, C)`` with ``rows = ceil(N / nrow)``.
    """
    from torchvision.utils import make_grid as torchvision_grid

    if images.ndim != 4 or images.shape[0] < 1:
        raise ValueError(f"make_grid expects a non-empty (N, H, W, C) array, got {images.shape}")
    channels = images.shape[3]
    batch = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2)  # (N, C, H, W)
    if batch.shape[0] == 1:  # torchvision returns a single image without its border
        grid = torch.nn.functional.pad(batch[0], (padding,) * 4)
    else:
        grid = torchvision_grid(batch, nrow=nrow, padding=padding, pad_value=0)
    grid = grid[:channels]  # torchvision repeats a grey channel three times
    return np.ascontiguousarray(grid.permute(1, 2, 0).numpy().astype(np.uint8))  # (H', W', C)


def write_gif(
    frames: Sequence[np.ndarray | Image.Image],
    path: str | os.PathLike,
    fps: float = 8.0,
    loop: int = 0,
    *,
    durations_ms: Sequence[int] | None = None,
) -> Path:
    """Write an animated GIF (``loop=0``: forever) with one frame per picture; returns its path.

    Frames are uint8 ``(H, W)`` / ``(H, W, C)`` arrays or PIL images, shown ``1 / fps`` seconds
    each, or ``durations_ms[i]`` milliseconds when given. Pillow merges a frame identical to the
    one before it into that frame (their durations add up).
    """
    if not frames:
        raise ValueError("a GIF needs at least one frame")
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    pictures = [_frame(f) for f in frames]
    durations: int | list[int] = round(1000 / fps)
    if durations_ms is not None:
        if len(durations_ms) != len(pictures):
            raise ValueError(f"{len(durations_ms)} durations for {len(pictures)} frames")
        durations = [int(d) for d in durations_ms]
    path = Path(path)
    pictures[0].save(
        path,
        format="GIF",
        save_all=True,
        append_images=pictures[1:],
        duration=durations,
        loop=loop,
        optimize=False,
        disposal=1,
    )
    return path


def _frame(frame: np.ndarray | Image.Image) -> Image.Image:
    """One GIF frame: the app's own pictures, so no user checks, only the shape."""
    if isinstance(frame, Image.Image):
        return frame
    array = np.asarray(frame)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]  # (H, W, 1) -> (H, W)
    if array.dtype != np.uint8:
        raise ValueError(f"GIF frames must be uint8 arrays, got {array.dtype}")
    return Image.fromarray(np.ascontiguousarray(array))


__all__ = [
    "MAX_ASPECT",
    "MAX_IMAGE_PIXELS",
    "MAX_IMAGE_SIDE",
    "MIN_IMAGE_SIDE",
    "ImageInputError",
    "ImageSource",
    "load_image",
    "make_grid",
    "to_model_input",
    "write_gif",
]
