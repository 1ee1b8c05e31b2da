"""Translating pictures with a trained CycleGAN: A -> B (and back, for the cycle reconstruction)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from trainers import checkpoint as ckpt
from trainers.cyclegan.data import MODEL_NAME, CycleGANUserError, to_model_range
from trainers.data import to_uint8_images
from trainers.device import autocast, resolve_precision
from trainers.images import ImageInputError, load_image, make_grid
from trainers.models.cyclegan import DIRECTIONS, CycleGANConfig


def prepare_image(img, size: int, max_side: int = 1024):
    """Any PIL image -> an RGB image the generator can take.

    The shorter side is resized to ``size`` (keeping the aspect ratio), the longer side is capped
    at ``max_side``, and both sides are centre-cropped down to multiples of 4 (the generator halves
    and doubles twice).
    """
    from PIL import Image

    img = img.convert("RGB")
    w, h = img.size
    scale = size / min(w, h)
    if max(w, h) * scale > max_side:
        scale = max_side / max(w, h)
    new_w, new_h = max(4, round(w * scale)), max(4, round(h * scale))
    img = img.resize((new_w, new_h), Image.Resampling.BICUBIC)
    crop_w, crop_h = new_w - new_w % 4, new_h - new_h % 4
    left, top = (new_w - crop_w) // 2, (new_h - crop_h) // 2
    return img.crop((left, top, left + crop_w, top + crop_h))


def pil_to_tensor(img) -> torch.Tensor:
    """RGB PIL image -> float (1, 3, H, W) in [-1, 1]."""
    array = torch.from_numpy(np.asarray(img.convert("RGB")).copy()).permute(2, 0, 1)  # (3, H, W)
    return to_model_range(array.unsqueeze(0))


@torch.no_grad()
def translate_tensor(
    generators: torch.nn.Module, x: torch.Tensor, direction: str, precision: str = "auto"
) -> tuple[torch.Tensor, torch.Tensor]:
    """(translation, cycle reconstruction) of (B, 3, H, W) images in [-1, 1].

    a2b: (G_AB(x), G_BA(G_AB(x)));  b2a: (G_BA(x), G_AB(G_BA(x))).
    ``precision`` "auto" runs the convolutions under bf16 autocast where the CPU (or GPU) has
    fast bf16 (about 1.8x faster for a 256 px image here, see benchmarks/cyclegan_speed.py);
    "fp32" keeps everything in float32.
    """
    if direction not in DIRECTIONS:
        raise CycleGANUserError(f"unknown direction {direction!r}; choose a2b or b2a")
    back = "b2a" if direction == "a2b" else "a2b"
    param = next(generators.parameters())
    precision = resolve_precision(precision, param.device, convolutional=True)
    with autocast(param.device, precision):
        fake = generators(x.to(param.device, param.dtype), direction)
        rec = generators(fake, back)
    return fake.float().clamp(-1, 1), rec.float().clamp(-1, 1)


@torch.no_grad()
def translate_all(
    generators: torch.nn.Module, images: torch.Tensor, direction: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """(translations, reconstructions) of float (N, 3, H, W) images, 16 at a time."""
    fakes, recs = [], []
    for i in range(0, len(images), 16):
        # fp32 so the figures do not depend on whether this CPU has fast bf16
        fake, rec = translate_tensor(generators, images[i : i + 16], direction, precision="fp32")
        fakes.append(fake)
        recs.append(rec)
    return torch.cat(fakes), torch.cat(recs)


def before_after_grid(generators: torch.nn.Module, a: torch.Tensor, b: torch.Tensor) -> np.ndarray:
    """uint8 grid, one row per image pair:  a | G_AB(a) | G_BA(G_AB(a)) | b | G_BA(b) | G_AB(G_BA(b)).

    ``a`` and ``b`` are float (n, 3, H, W) in [-1, 1]; the first min(len(a), len(b)) are shown.
    """
    n = min(len(a), len(b))
    fake_b, rec_a = translate_all(generators, a[:n], "a2b")
    fake_a, rec_b = translate_all(generators, b[:n], "b2a")
    rows = torch.stack([a[:n], fake_b, rec_a, b[:n], fake_a, rec_b], dim=1)  # (n, 6, 3, H, W)
    return make_grid(to_uint8_images(rows.flatten(0, 1)), nrow=6)


def load_cyclegan(path: str | Path, device: str | torch.device = "cpu") -> ckpt.LoadedCheckpoint:
    """A CycleGAN checkpoint (folder, run folder or its meta.json) for inference, in float32."""
    loaded = ckpt.load_checkpoint(path, device)
    if loaded.meta.get("model") != MODEL_NAME:
        raise CycleGANUserError(
            f"{loaded.path} is a {loaded.meta.get('model')} checkpoint, not a CycleGAN"
        )
    loaded.generator.float()
    return loaded


def translate_file(
    loaded: ckpt.LoadedCheckpoint, source: Path, target: Path, direction: str, size: int
) -> None:
    """Translate one image file into ``target`` (PNG/JPEG by its suffix)."""
    from PIL import Image

    try:
        img = prepare_image(load_image(source, name="input"), size)
    except ImageInputError as error:
        raise CycleGANUserError(str(error)) from None
    fake, _ = translate_tensor(
        loaded.generator,
        pil_to_tensor(img).to(next(loaded.generator.parameters()).device),
        direction,
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(to_uint8_images(fake)[0]).save(target)


def default_translate_size(config: CycleGANConfig) -> int:
    """Translate at twice the training crop (up to 256 px): the nets are fully convolutional, and a
    64 px model still paints its textures at 128 px while giving a picture you can see."""
    return min(256, 2 * config.image_size)
