"""Pictures in and out of the optimisation: uint8 (H, W, 3) arrays <-> (1, 3, H, W) tensors."""

from __future__ import annotations

import math
import os

import numpy as np
import torch
from PIL import Image

from trainers import images
from trainers.style.config import MIN_SIZE

ImageInput = Image.Image | np.ndarray | str | os.PathLike | bytes


def load_image(source: ImageInput, what: str = "image") -> np.ndarray:
    """A path, bytes, PIL image or array as an RGB ``uint8`` array ``(H, W, 3)``.

    The checks and conversions are trainers.images.load_image's (grey and palette images become
    RGB, transparency is laid on white); a bad input raises its ImageInputError (a ValueError)
    with a one-sentence message naming ``what``.
    """
    return np.array(images.load_image(source, name=what), dtype=np.uint8)  # (H, W, 3)


def resized_shape(height: int, width: int, long_side: int) -> tuple[int, int]:
    """(height, width) of a ``height`` x ``width`` picture resized to ``long_side`` on its
    longer side, as :func:`resize_long_side` rounds them."""
    scale = long_side / max(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))


def fits(height: int, width: int, long_side: int) -> bool:
    """Whether the picture resized to ``long_side`` keeps a shorter side of ``MIN_SIZE`` px."""
    return min(resized_shape(height, width, long_side)) >= MIN_SIZE


def smallest_long_side(height: int, width: int) -> int:
    """The smallest long side at which the picture's shorter side is still ``MIN_SIZE`` px."""
    side = max(MIN_SIZE, math.ceil((MIN_SIZE - 0.5) * max(height, width) / min(height, width)))
    while not fits(height, width, side):
        side += 1
    return side


def resize_long_side(image: np.ndarray, long_side: int, what: str = "image") -> np.ndarray:
    """Resize a uint8 ``(H, W, 3)`` image so its longer side is ``long_side`` (Lanczos)."""
    h, w = image.shape[:2]
    new_h, new_w = resized_shape(h, w, long_side)
    if min(new_w, new_h) < MIN_SIZE:
        raise images.ImageInputError(
            f"The {what} is too thin: {w}x{h} becomes {new_w}x{new_h}, shorter side < {MIN_SIZE} px."
        )
    if (new_w, new_h) == (w, h):
        return image
    return np.asarray(Image.fromarray(image).resize((new_w, new_h), Image.Resampling.LANCZOS))


def to_tensor(image: np.ndarray) -> torch.Tensor:
    """uint8 ``(H, W, 3)`` → float ``(1, 3, H, W)`` in [0, 1]."""
    chw = torch.from_numpy(np.array(image)).permute(2, 0, 1)  # (3, H, W), a strided view
    return chw.unsqueeze(0).float().div(255.0).contiguous()  # (1, 3, H, W)


def to_uint8(image: torch.Tensor) -> np.ndarray:
    """float ``(1, 3, H, W)`` in [0, 1] → uint8 ``(H, W, 3)``."""
    array = image.detach()[0].clamp(0, 1).mul(255).round().byte().permute(1, 2, 0)
    return np.ascontiguousarray(array.numpy())


def preserve_colors(stylised: np.ndarray, content: np.ndarray) -> np.ndarray:
    """Keep the content's colours: luminance Y from ``stylised``, chroma Cb/Cr from ``content``.

    Uses the JPEG (BT.601) YCbCr transform; both inputs are uint8 ``(H, W, 3)`` of the same size.
    """
    y = np.asarray(Image.fromarray(stylised).convert("YCbCr"))[:, :, 0]
    ycbcr = np.asarray(Image.fromarray(content).convert("YCbCr")).copy()
    ycbcr[:, :, 0] = y
    return np.asarray(Image.fromarray(ycbcr, mode="YCbCr").convert("RGB"))
