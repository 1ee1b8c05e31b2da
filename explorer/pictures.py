"""Small helpers for the pictures the explorer draws itself (no front end here).

Charts are plotly figures (:mod:`explorer.charts`); what stays a picture (sample grids, the
2-D playground's clickable plane, GIF frames) uses these.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from PIL import ImageFont

_FONT_CACHE: dict[int, Any] = {}


def font(size: int = 12) -> Any:
    """Pillow's built-in scalable font (no system fonts needed)."""
    if size not in _FONT_CACHE:
        try:
            _FONT_CACHE[size] = ImageFont.load_default(size=size)
        except TypeError:  # Pillow < 10.1: the fixed-size bitmap font
            _FONT_CACHE[size] = ImageFont.load_default()
    return _FONT_CACHE[size]


def enlarge(image: np.ndarray, min_side: int = 320) -> np.ndarray:
    """Nearest-neighbour upscale of a small uint8 (H, W, C) picture so pixels stay crisp."""
    factor = max(1, math.ceil(min_side / max(1, min(image.shape[:2]))))
    if factor == 1:
        return image
    return np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)


def as_rgb(image: np.ndarray) -> np.ndarray:
    """uint8 (H, W, 1) or (H, W) -> (H, W, 3)."""
    if image.ndim == 2:
        image = image[..., None]
    return np.repeat(image, 3, axis=2) if image.shape[2] == 1 else image
