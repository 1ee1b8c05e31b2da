"""Pictures for the explorer's Generate, Classes, Interpolate and Inside tabs.

The maths (sampling, truncation, PCA directions, interpolation, class grids, layer
activations) lives in :mod:`trainers.pipeline`, :mod:`trainers.latent_space` and
:mod:`trainers.activations`; this module only turns their arrays into pictures for the
screen. Nothing here imports gradio, so each function can be tested and timed on its own.

Conventions: images from G are uint8 numpy arrays (B, H, W, C); pictures for the screen
are uint8 (H, W, 3).
"""

from __future__ import annotations

import math
import tempfile
import time
import uuid
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw
from torch import Tensor

from explorer import pictures
from trainers import images as image_io
from trainers import latent_space
from trainers.activations import trace_forward
from trainers.data import to_uint8_images
from trainers.latent_space import Interpolation
from trainers.pipeline import GANPipeline

__all__ = [
    "LayerMaps",
    "captioned_grid",
    "channel_grid",
    "display_scale",
    "feature_maps",
    "filmstrip",
    "gif_frames",
    "layers_picture",
    "save_png",
    "score_captions",
    "write_gif",
]

# --- pictures for the screen ------------------------------------------------------------------

_BACKGROUND = (255, 255, 255)
_TEXT = (31, 41, 55)


# PIL's built-in font has no glyphs for these; draw plain-ASCII stand-ins instead.
_ASCII = str.maketrans({"‖": "|", "→": "->", "×": "x", "−": "-", "ψ": "psi", "…": "..."})


@lru_cache(maxsize=2048)
def _text_mask(text: str, size: int) -> np.ndarray:
    """A small uint8 (h, w) alpha mask of ``text``; cached, so drawing a caption costs ~µs."""
    text = text.translate(_ASCII)
    font = pictures.font(size)
    left, top, right, bottom = font.getbbox(text)
    image = Image.new("L", (max(1, right - left), max(1, bottom - top)), 0)
    ImageDraw.Draw(image).text((-left, -top), text, fill=255, font=font)
    mask = np.asarray(image)
    mask.setflags(write=False)
    return mask


def _draw_text(
    canvas: np.ndarray, text: str, x: int, y: int, size: int, centre_width: int = 0
) -> None:
    """Blend dark ``text`` into ``canvas`` (H, W, 3) at (x, y), centred in ``centre_width`` if given."""
    mask = _text_mask(text, size)
    h, w = mask.shape
    if centre_width:
        x += max(0, (centre_width - w) // 2)
    h, w = min(h, canvas.shape[0] - y), min(w, canvas.shape[1] - x)
    if h <= 0 or w <= 0:
        return
    alpha = mask[:h, :w, None].astype(np.float32) / 255.0
    region = canvas[y : y + h, x : x + w].astype(np.float32)
    canvas[y : y + h, x : x + w] = (region * (1 - alpha) + np.asarray(_TEXT) * alpha).astype(
        np.uint8
    )


def display_scale(height: int, target: int = 96) -> int:
    """The whole-number factor that brings a tile of ``height`` pixels near ``target`` pixels."""
    return max(1, round(target / max(1, height)))


def _score_colour(score: float) -> tuple[int, int, int]:
    """Red (D says fake) through amber to green (D says real)."""
    red = np.array([220, 38, 38])
    green = np.array([22, 163, 74])
    return tuple(int(c) for c in (red + (green - red) * float(np.clip(score, 0, 1))))


def captioned_grid(
    images: np.ndarray,
    ncol: int,
    captions: list[str] | None = None,
    scores: np.ndarray | None = None,
    column_titles: list[str] | None = None,
    row_titles: list[str] | None = None,
    scale: int | None = None,
    font_size: int = 12,
    top_margin: int = 0,
) -> np.ndarray:
    """Tiles with optional text: a title above each column, a title left of each row, and
    under each tile a bar as long as its D score plus a caption. ``top_margin`` leaves blank
    rows at the top (Gradio draws an image's label over its top-left corner).

    images: uint8 (B, H, W, C) with C = 1 or 3 -> uint8 (H', W', 3), nearest-upscaled by
    ``scale`` (default: tiles about 96 px) so pixels stay crisp in the browser.
    """
    b, h, w, c = images.shape
    s = scale or display_scale(h)
    ncol = max(1, min(int(ncol), b))
    nrow = math.ceil(b / ncol)
    th, tw, pad = h * s, w * s, 4
    line = font_size + 4
    below = (4 if scores is not None else 0) + (line if captions else 0)
    above = top_margin + (line if column_titles else 0)
    left = (
        (max(_text_mask(t, font_size).shape[1] for t in row_titles) + 2 * pad) if row_titles else 0
    )
    height = above + nrow * (th + below + pad) + pad
    width = left + ncol * (tw + pad) + pad
    canvas = np.full((height, width, 3), _BACKGROUND, dtype=np.uint8)
    tiles = images if c == 3 else np.repeat(images, 3, axis=3)  # (B, H, W, 3)
    tiles = tiles.repeat(s, axis=1).repeat(s, axis=2)  # (B, H*s, W*s, 3)
    for i in range(b):
        r, col = divmod(i, ncol)
        top, x0 = above + pad + r * (th + below + pad), left + pad + col * (tw + pad)
        canvas[top : top + th, x0 : x0 + tw] = tiles[i]
        y = top + th
        if scores is not None:
            bar = max(1, round(tw * float(np.clip(scores[i], 0, 1))))
            canvas[y + 1 : y + 4, x0 : x0 + tw] = (229, 231, 235)
            canvas[y + 1 : y + 4, x0 : x0 + bar] = _score_colour(float(scores[i]))
            y += 4
        if captions:
            _draw_text(canvas, captions[i], x0, y + 2, font_size, centre_width=tw)
    if column_titles:
        for col, title in enumerate(column_titles[:ncol]):
            x = left + pad + col * (tw + pad)
            _draw_text(canvas, title, x, top_margin + 2, font_size, centre_width=tw)
    if row_titles:
        for r, title in enumerate(row_titles[:nrow]):
            y = above + pad + r * (th + below + pad) + th // 2 - font_size // 2
            _draw_text(canvas, title, pad, y, font_size)
    return canvas


def score_captions(scores: np.ndarray | None) -> list[str] | None:
    """``["D 0.83", ...]`` for each score, or None."""
    return None if scores is None else [f"D {float(v):.2f}" for v in scores]


def short_name(name: str, limit: int = 11) -> str:
    """A class name cut to ``limit`` characters (with an ellipsis) to fit over a column."""
    return name if len(name) <= limit else name[: limit - 1] + "…"


def class_pictures(
    pipe: GANPipeline,
    index: int,
    seed: int,
    rows: int,
    side: int,
    truncation: float,
    *,
    top_margin: int = 0,
) -> tuple[np.ndarray, np.ndarray, str]:
    """The Classes pictures of a cGAN, for both editions.

    Returns (every, one, text): ``rows`` latents each drawn in every class (one column per
    class, D's score under each), a ``side`` x ``side`` grid of class ``index``, and the
    Markdown sentence under them (which class D finds most and least convincing).
    """
    names = list(pipe.class_names)
    every, ncol = latent_space.one_z_every_class(pipe, seed, rows, truncation)
    one = latent_space.one_class_grid(pipe, index, seed, side * side, truncation)
    every_picture = captioned_grid(
        every.images,
        ncol,
        score_captions(every.scores),
        every.scores,
        column_titles=[short_name(n) for n in names],
        row_titles=[f"z{r}" for r in range(rows)],
        font_size=11,
        top_margin=top_margin,
    )
    one_picture = captioned_grid(
        one.images, side, score_captions(one.scores), one.scores, top_margin=top_margin
    )
    text = f"Class **{names[index]}**: {len(one.images)} latents of seed {seed}."
    if one.scores is not None and every.scores is not None:
        per_class = every.scores.reshape(rows, ncol).mean(0)  # (K,) mean over rows
        best, worst = int(per_class.argmax()), int(per_class.argmin())
        text += (
            f" Mean D(G(z, y), y) here {one.scores.mean():.2f}. In the every-class grid D is most "
            f"convinced by **{names[best]}** ({per_class[best]:.2f}) and least by "
            f"**{names[worst]}** ({per_class[worst]:.2f})."
        )
    return every_picture, one_picture, text


# --- interpolation pictures ---------------------------------------------------------------


def filmstrip(interp: Interpolation) -> np.ndarray:
    """Two rows (lerp over slerp), one column per frame, each captioned with t and ‖v‖."""
    n = len(interp.t)
    images = np.concatenate([interp.images["lerp"], interp.images["slerp"]])  # (2N, H, W, C)
    captions = [f"|v| {v:.1f}" for m in ("lerp", "slerp") for v in interp.norms[m]]
    scores = None
    if interp.scores["lerp"] is not None:
        scores = np.concatenate([interp.scores["lerp"], interp.scores["slerp"]])
    titles = [f"t={t:.2f}" for t in interp.t]
    return captioned_grid(
        images, n, captions, scores, titles, ["lerp", "slerp"], font_size=11, top_margin=24
    )


def gif_frames(interp: Interpolation) -> list[np.ndarray]:
    """One (H, W, 3) picture per step: the lerp frame beside the slerp frame, with t written on."""
    frames = []
    for i, t in enumerate(interp.t):
        pair = np.stack([interp.images["lerp"][i], interp.images["slerp"][i]])
        frames.append(captioned_grid(pair, 2, ["lerp", "slerp"], column_titles=[f"t={t:.2f}", ""]))
    return frames


_GIF_DIR = Path(tempfile.gettempdir()) / "gan-explorer-gifs"
_GIF_MAX_AGE_S = 3600
_PNG_DIR = Path(tempfile.gettempdir()) / "gan-explorer-png"
_PNG_MAX_AGE_S = 600
_last_sweep = [0.0]  # when the PNG folder was last cleaned (shared, not per user)


def _sweep(folder: Path, pattern: str, max_age_s: float) -> None:
    """Delete files in ``folder`` older than ``max_age_s`` (the server copies what it serves)."""
    now = time.time()
    for old in folder.glob(pattern):
        try:
            if now - old.stat().st_mtime > max_age_s:
                old.unlink()
        except OSError:
            pass


def save_png(picture: np.ndarray, folder: str | Path | None = None) -> Path:
    """Write a uint8 (H, W, 3) picture as a fast PNG (zlib level 1) and return its path.

    Level 1 is about twice as fast as PIL's default and barely bigger for these pictures;
    handing Gradio a finished file means it does not encode the array again. Without
    ``folder`` a temp folder is used and cleaned of files older than ten minutes.
    """
    if folder is None:
        folder = _PNG_DIR
        folder.mkdir(parents=True, exist_ok=True)
        if time.time() - _last_sweep[0] > 60:
            _last_sweep[0] = time.time()
            _sweep(folder, "*.png", _PNG_MAX_AGE_S)
    path = Path(folder) / f"{uuid.uuid4().hex[:16]}.png"
    Image.fromarray(picture).save(path, format="png", compress_level=1)
    return path


def write_gif(
    frames: list[np.ndarray], path: str | Path | None = None, duration_ms: int = 150
) -> Path:
    """Write an endlessly looping animated GIF (``trainers.images.write_gif``); returns its path.

    Without ``path`` a fresh file in the temp folder is used (files older than an hour there
    are removed).
    """
    if path is None:
        _GIF_DIR.mkdir(parents=True, exist_ok=True)
        _sweep(_GIF_DIR, "*.gif", _GIF_MAX_AGE_S)
        path = _GIF_DIR / f"interpolation-{uuid.uuid4().hex[:12]}.gif"
    return image_io.write_gif(frames, path, fps=1000 / duration_ms)


# --- inside the generator ---------------------------------------------------------------------


@dataclass(frozen=True)
class LayerMaps:
    """One layer's output for one latent.

    Attributes:
        name: the module's name in G (e.g. "blocks.0"), or "z" / "output image".
        kind: a short description, e.g. "ConvTranspose2d(128→64, k=4, s=2, p=1)".
        shape: the output shape of one sample, without the batch dimension, e.g. (64, 14, 14).
        image: uint8 (H, W, 3) picture: one tile per channel (or the vector as a square).
        note: how the picture was made (channels shown, reshaping).
        params: number of weights in this module.
    """

    name: str
    kind: str
    shape: tuple[int, ...]
    image: np.ndarray
    note: str
    params: int


def _normalise(x: Tensor) -> Tensor:
    """Each row's values to [0, 1] by its own min and max (a flat row becomes 0.5)."""
    lo = x.amin(dim=1, keepdim=True)
    hi = x.amax(dim=1, keepdim=True)
    return torch.where(hi > lo, (x - lo) / (hi - lo).clamp_min(1e-12), torch.full_like(x, 0.5))


def channel_grid(maps: Tensor, max_channels: int = 64, width: int = 224) -> tuple[np.ndarray, int]:
    """(C, H, W) feature maps -> uint8 (H', W', 3) grid of the first ``max_channels`` channels,
    each scaled to [0, 1] on its own and nearest-upscaled so the grid is about ``width`` pixels
    wide. Returns (picture, channels shown)."""
    c, h, w = maps.shape
    shown = min(c, max_channels)
    flat = _normalise(maps[:shown].reshape(shown, -1).float())  # (shown, H*W)
    tiles = (flat.reshape(shown, h, w, 1) * 255).round().to(torch.uint8).numpy()
    ncol = math.ceil(math.sqrt(shown))
    scale = max(1, (width - 4 * ncol) // (ncol * w))
    return captioned_grid(tiles, ncol, scale=scale), shown


def _vector_picture(v: Tensor, width: int = 224) -> np.ndarray:
    """A 1-D vector (F,) as a near-square grey picture (row-major), scaled to [0, 1]."""
    f = v.numel()
    side = math.ceil(math.sqrt(f))
    padded = torch.full((side * side,), float("nan"))
    padded[:f] = _normalise(v.float().reshape(1, -1))[0]
    grey = (padded.nan_to_num(1.0).reshape(1, side, side, 1) * 255).round().to(torch.uint8).numpy()
    return captioned_grid(grey, 1, scale=max(1, (width - 8) // side))


def feature_maps(
    pipe: GANPipeline, z: Tensor, label: int | None = None, max_channels: int = 64
) -> list[LayerMaps]:
    """Every layer's output for one latent z (d,) as pictures, from z to the image
    (:func:`trainers.activations.trace_forward`).

    A flat vector that the model later reshapes (the DCGAN's Linear output of 128·7·7
    numbers) is shown as the channels it becomes.
    """
    trace = trace_forward(pipe, z, label)
    side = trace.feature_side
    layers = [
        LayerMaps(
            "z",
            f"latent N(0, I), ‖z‖ = {trace.z.norm():.2f}",
            (trace.z.numel(),),
            _vector_picture(trace.z),
            "the latent vector as a square of numbers (white = largest)",
            0,
        )
    ]
    for layer in trace.layers:
        out, shape = layer.value, layer.shape
        if out.dim() == 3:
            picture, shown = channel_grid(out, max_channels)
            note = (
                f"{shown} of {shape[0]} channels"
                if shown < shape[0]
                else f"all {shape[0]} channels"
            )
        elif out.dim() == 1 and side and out.numel() % (side * side) == 0:
            channels = out.numel() // (side * side)
            picture, shown = channel_grid(out.reshape(channels, side, side), max_channels)
            note = f"reshaped by the model to {channels}×{side}×{side}; {shown} channels shown"
        else:
            picture, note = _vector_picture(out.flatten()), "a vector, drawn as a square of numbers"
        note += "; each tile scaled to its own min..max"
        layers.append(LayerMaps(layer.name, layer.kind, shape, picture, note, layer.params))
    final = to_uint8_images(trace.image[None])  # (1, H, W, C)
    layers.append(
        LayerMaps(
            "output image",
            "G(z) as pixels",
            tuple(trace.image.shape),
            captioned_grid(final, 1, scale=display_scale(final.shape[1], 160)),
            "tanh output mapped from [-1, 1] to 0..255",
            0,
        )
    )
    return layers


def _fit(text: str, width: int, size: int) -> str:
    """``text`` shortened with "..." until it is at most ``width`` pixels wide."""
    if _text_mask(text, size).shape[1] <= width:
        return text
    while len(text) > 1 and _text_mask(text + "...", size).shape[1] > width:
        text = text[:-1]
    return text + "..."


def layers_picture(layers: list[LayerMaps], ncol: int = 4, font_size: int = 12) -> np.ndarray:
    """All layers as cards in forward order (left to right, top to bottom): under a title
    ("3. blocks.0", what the layer is, its output shape) each layer's picture. -> (H, W, 3)."""
    pad, line = 10, font_size + 4
    cell = max(layer.image.shape[1] for layer in layers)
    rows = [layers[i : i + ncol] for i in range(0, len(layers), ncol)]
    heights = [3 * line + max(layer.image.shape[0] for layer in row) + pad for row in rows]
    canvas = np.full(
        (sum(heights) + pad, ncol * (cell + pad) + pad, 3), _BACKGROUND, dtype=np.uint8
    )
    top = pad
    for r, row in enumerate(rows):
        for c, layer in enumerate(row):
            index = r * ncol + c
            x = pad + c * (cell + pad)
            shape = " x ".join(str(v) for v in layer.shape)
            for k, text in enumerate((f"{index}. {layer.name}", layer.kind, f"output {shape}")):
                _draw_text(canvas, _fit(text, cell, font_size), x, top + k * line, font_size)
            h, w = layer.image.shape[:2]
            y0, x0 = top + 3 * line, x + (cell - w) // 2
            canvas[y0 : y0 + h, x0 : x0 + w] = layer.image
        top += heights[r]
    return canvas
