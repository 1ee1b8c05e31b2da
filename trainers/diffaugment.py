"""DiffAugment (Zhao et al. 2020, "Differentiable Augmentation for Data-Efficient GAN Training").

A discriminator trained on few images memorises them. Augmenting only the real images would
teach G to draw augmented images, so DiffAugment applies the *same* random, differentiable
augmentation T to real and fake images before every call of D, in D's step and in G's step:

    L_D = f(D(T(x))) + g(D(T(G(z))))          L_G = h(D(T(G(z))))

Gradients flow through T back to G. Each image gets its own random parameters; the policy
(which kinds of augmentation) is the same for every image. The three kinds of the paper, as in
its reference code (mit-han-lab/data-efficient-gans, DiffAugment_pytorch.py):

- ``color``: random brightness (add U(-0.5, 0.5)), saturation (scale the distance to the
  pixel's channel mean by U(0, 2)) and contrast (scale the distance to the image mean by
  U(0.5, 1.5)). Values may leave [-1, 1], as in the paper.
- ``translation``: shift by up to 1/8 of the side in each direction, filling with 0.
- ``cutout``: zero a random square of half the side (it may stick out of the image).

Images are (B, C, H, W) in [-1, 1]. Random numbers come from a CPU ``torch.Generator`` when one
is given (the trainer passes its noise generator, so a resumed run augments exactly as the
uninterrupted one would).

    >>> augment = DiffAugment("color,translation,cutout")
    >>> augment(x, generator=g).shape == x.shape
    True
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

#: The policies this module knows, in the order they are applied.
POLICIES: tuple[str, ...] = ("color", "translation", "cutout")

Augmentation = Callable[[torch.Tensor, torch.Generator | None], torch.Tensor]


def parse_policy(policy: str | None) -> tuple[str, ...]:
    """ "color,translation" -> ("color", "translation"); "" or None -> () (DiffAugment off).

    Raises ValueError naming the unknown kind, e.g. for "colour".
    """
    names = tuple(name.strip() for name in (policy or "").split(",") if name.strip())
    unknown = [name for name in names if name not in POLICIES]
    if unknown:
        raise ValueError(
            f"unknown DiffAugment policy {', '.join(unknown)}; use a comma-separated list of "
            f"{', '.join(POLICIES)} (or nothing for none)"
        )
    return tuple(dict.fromkeys(names))  # no duplicates, order kept


def _uniform(x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """U(0, 1) of shape (B, 1, 1, 1), drawn on the CPU generator, on x's device and dtype."""
    return torch.rand(x.shape[0], 1, 1, 1, generator=generator).to(x.device, x.dtype)


def _integers(
    low: int, high: int, n: int, generator: torch.Generator | None, device: torch.device
) -> torch.Tensor:
    """n integers in [low, high) as (n, 1, 1), drawn on the CPU generator."""
    return torch.randint(low, high, (n, 1, 1), generator=generator).to(device)


def rand_brightness(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Add one U(-0.5, 0.5) per image."""
    return x + (_uniform(x, generator) - 0.5)


def rand_saturation(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Scale each pixel's distance to its channel mean by U(0, 2) per image (no-op for grey)."""
    mean = x.mean(dim=1, keepdim=True)  # (B, 1, H, W)
    return (x - mean) * (_uniform(x, generator) * 2) + mean


def rand_contrast(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Scale each image's distance to its mean by U(0.5, 1.5)."""
    mean = x.mean(dim=(1, 2, 3), keepdim=True)  # (B, 1, 1, 1)
    return (x - mean) * (_uniform(x, generator) + 0.5) + mean


def rand_translation(
    x: torch.Tensor, generator: torch.Generator | None = None, ratio: float = 0.125
) -> torch.Tensor:
    """Shift each image by up to ``ratio`` of its side (integer pixels), zero-filled."""
    b, _, h, w = x.shape
    shift_h, shift_w = int(h * ratio + 0.5), int(w * ratio + 0.5)
    dy = _integers(-shift_h, shift_h + 1, b, generator, x.device)  # (B, 1, 1)
    dx = _integers(-shift_w, shift_w + 1, b, generator, x.device)
    batch, rows, cols = torch.meshgrid(
        torch.arange(b, device=x.device),
        torch.arange(h, device=x.device),
        torch.arange(w, device=x.device),
        indexing="ij",
    )  # each (B, H, W)
    # Index into a copy padded by one zero pixel; out-of-range positions land on the padding.
    rows = torch.clamp(rows + dy + 1, 0, h + 1)
    cols = torch.clamp(cols + dx + 1, 0, w + 1)
    padded = F.pad(x, [1, 1, 1, 1])  # (B, C, H + 2, W + 2)
    shifted = padded.permute(0, 2, 3, 1)[batch, rows, cols]  # (B, H, W, C)
    return shifted.permute(0, 3, 1, 2).contiguous()


def rand_cutout(
    x: torch.Tensor, generator: torch.Generator | None = None, ratio: float = 0.5
) -> torch.Tensor:
    """Zero one square of ``ratio`` times the side per image, centred anywhere in the image."""
    b, _, h, w = x.shape
    size_h, size_w = int(h * ratio + 0.5), int(w * ratio + 0.5)
    cy = _integers(0, h + (1 - size_h % 2), b, generator, x.device)  # (B, 1, 1) centres
    cx = _integers(0, w + (1 - size_w % 2), b, generator, x.device)
    rows = torch.arange(h, device=x.device).view(1, h, 1)
    cols = torch.arange(w, device=x.device).view(1, 1, w)
    inside = (
        (rows >= cy - size_h // 2)
        & (rows < cy - size_h // 2 + size_h)
        & (cols >= cx - size_w // 2)
        & (cols < cx - size_w // 2 + size_w)
    )  # (B, H, W)
    return x * (~inside).unsqueeze(1).to(x.dtype)


#: What each policy does, in order (color is three augmentations).
AUGMENTATIONS: dict[str, tuple[Augmentation, ...]] = {
    "color": (rand_brightness, rand_saturation, rand_contrast),
    "translation": (rand_translation,),
    "cutout": (rand_cutout,),
}


def diff_augment(
    x: torch.Tensor, policy: str | tuple[str, ...], generator: torch.Generator | None = None
) -> torch.Tensor:
    """Apply a policy ("color,translation,cutout") to a batch (B, C, H, W); same shape back.

    Differentiable in ``x``. An empty policy returns ``x`` itself.
    """
    names = parse_policy(policy) if isinstance(policy, str) else policy
    for name in names:
        for augmentation in AUGMENTATIONS[name]:
            x = augmentation(x, generator)
    return x


class DiffAugment:
    """A policy bound once: ``augment(x, generator)``; ``bool(augment)`` is False when off."""

    def __init__(self, policy: str = "") -> None:
        self.policy = parse_policy(policy)

    def __bool__(self) -> bool:
        return bool(self.policy)

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        return diff_augment(x, self.policy, generator)

    def __repr__(self) -> str:
        return f"DiffAugment({','.join(self.policy)!r})"
