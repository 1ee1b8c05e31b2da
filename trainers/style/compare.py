"""How the offline fallback was chosen: the random feature networks side by side on skimage pairs."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from trainers.style.config import StyleConfig
from trainers.style.pictures import load_image, resize_long_side
from trainers.style.transfer import stylise_result


def compare_features(
    out: str | os.PathLike = "/tmp/style_compare.png",
    kinds: Sequence[str] = ("random-vgg19", "random-multiscale"),
    pairs: Sequence[tuple[str, str]] = (
        ("astronaut", "gravel"),
        ("coffee", "hubble_deep_field"),
        ("chelsea", "brick"),
    ),
    size: int = 256,
    steps: int = 200,
) -> Path:
    """Run the offline feature networks side by side and save a labelled grid PNG.

    Rows are (content, style) pairs from ``skimage.data``; columns are the content, the style
    and one result per feature network, all with the default weights. This is how
    :data:`RANDOM_FALLBACK` was chosen (``python -c "from trainers.style import compare_features;
    compare_features()"``; it takes a few minutes on a CPU).
    """
    from PIL import ImageDraw
    from skimage import data

    rows = []
    for content_name, style_name in pairs:
        content_rgb = resize_long_side(load_image(getattr(data, content_name)()), size)
        style_rgb = load_image(getattr(data, style_name)())
        cells = [(content_name, content_rgb), (style_name, resize_long_side(style_rgb, size))]
        for kind in kinds:
            config = StyleConfig(features=kind, size=size, steps=steps, allow_download=False)
            result = stylise_result(content_rgb, style_rgb, config)
            print(f"{content_name} x {style_name}, {kind}: {result.losses} {result.seconds:.0f} s")
            cells.append((kind, result.image))
        row = []
        for label, image in cells:
            tile = Image.new("RGB", (size, size + 14), "white")
            tile.paste(Image.fromarray(image), (0, 14))
            ImageDraw.Draw(tile).text((2, 1), label, fill="black")
            row.append(np.asarray(tile))
        rows.append(np.concatenate(row, axis=1))
    out = Path(out)
    Image.fromarray(np.concatenate(rows, axis=0)).save(out)
    return out
