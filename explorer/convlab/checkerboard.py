"""Transposed-convolution lab, part 4: checkerboard artefacts.

:func:`checkerboard_demo` counts the kernel taps each output pixel gets (ConvTranspose against
resize-conv); :func:`artifact_view` shows a generated image's high-pass and spectrum, where a
periodic artefact is a lattice of bright frequencies (Odena, Dumoulin & Olah, Distill 2016).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from explorer.convlab.sizes import _as_int, _fmt, check_params

# --------------------------------------------------------------------------------------
# Checkerboard: uneven overlap of ConvTranspose vs resize-conv
# --------------------------------------------------------------------------------------


def to_uint8_image(
    values: Tensor | np.ndarray,
    scale: int = 1,
    signed: bool = False,
    vmax: float | None = None,
) -> np.ndarray:
    """(H, W) numbers -> (H·scale, W·scale, 3) uint8 RGB, enlarged with nearest neighbours.

    * ``signed=False``: 0 → black, ``vmax`` (default: the maximum) → white.
    * ``signed=True``: diverging map, −vmax → blue, 0 → white, +vmax → red
      (vmax defaults to max |value|).
    """
    a = values.detach().cpu().double().numpy() if isinstance(values, Tensor) else values
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != 2:
        raise ValueError(f"to_uint8_image wants (H, W), got {a.shape}")
    if signed:
        top = float(np.abs(a).max()) if vmax is None else float(vmax)
        v = np.clip(a / top, -1.0, 1.0) if top > 0 else np.zeros_like(a)
        pos, neg = np.clip(v, 0, 1), np.clip(-v, 0, 1)
        rgb = np.stack([1 - neg, 1 - pos - neg, 1 - pos], axis=-1)  # red for +, blue for −
    else:
        top = float(a.max()) if vmax is None else float(vmax)
        v = np.clip(a / top, 0.0, 1.0) if top > 0 else np.zeros_like(a)
        rgb = np.repeat(v[..., None], 3, axis=-1)
    img = np.round(rgb * 255).astype(np.uint8)
    scale = max(int(scale), 1)
    return np.repeat(np.repeat(img, scale, axis=0), scale, axis=1)


def _display_scale(h: int, w: int, target: int = 256) -> int:
    return max(1, target // max(h, w))


@dataclass(frozen=True)
class CheckerboardDemo:
    """ConvTranspose vs nearest-upsample + conv, both with an all-ones k×k kernel on an
    all-ones ``size``×``size`` input, so each output value *counts* the kernel taps it gets.

    * ``convt_counts``  (H_c, W_c), H_c = (size − 1)·s + k: ``conv_transpose2d``, p = 0
    * ``convt_interior``  the same without its k − 1 outer rows/columns (the border, where
      fewer input pixels exist, has fewer taps for an unrelated reason)
    * ``resize_counts``  (size·s, size·s): nearest ×s, replicate-pad, stride-1 k×k conv
    * ``axis_counts``  taps per output pixel along one axis, one period (s values)
    """

    kernel_size: int
    stride: int
    size: int
    convt_counts: Tensor
    convt_interior: Tensor
    resize_counts: Tensor
    axis_counts: list[int]
    explanation: str  #: Markdown, generated from the numbers above


def _taps(n: int) -> str:
    return f"{n} tap" if n == 1 else f"{n} taps"


def _join_or(values: list[int]) -> str:
    texts = [str(v) for v in values]
    return texts[0] if len(texts) == 1 else ", ".join(texts[:-1]) + " or " + texts[-1]


def checkerboard_demo(kernel_size: int, stride: int, size: int = 8) -> CheckerboardDemo:
    """The uneven-overlap count map of ConvTranspose against flat resize-conv."""
    k, s, n = (_as_int(a, v) for a, v in (("k", kernel_size), ("s", stride), ("size", size)))
    check_params(n, k, s, 0, 0)
    if (n - 1) * s < k - 1:
        raise ValueError(
            f"size {n} is too small for k={k}, s={s}: the interior (away from the border) is "
            f"empty; use size >= {math.ceil((k - 1) / s) + 1}"
        )
    ones = torch.ones(1, 1, n, n, dtype=torch.float64)  # (1, 1, n, n) constant input
    kernel = torch.ones(1, 1, k, k, dtype=torch.float64)  # (C_in, C_out, k, k) all ones

    # ConvTranspose: every input pixel stamps a k×k block of ones, s apart.
    convt = F.conv_transpose2d(ones, kernel, stride=s)[0, 0]  # ((n−1)s+k, (n−1)s+k)
    interior = convt[k - 1 : convt.shape[0] - (k - 1), k - 1 : convt.shape[1] - (k - 1)]

    # Resize-conv: nearest upsample ×s, then an ordinary stride-1 k×k convolution.
    up = F.interpolate(ones, scale_factor=s, mode="nearest")  # (1, 1, n·s, n·s)
    up = F.pad(up, ((k - 1) // 2, k // 2, (k - 1) // 2, k // 2), mode="replicate")
    resize = F.conv2d(up, kernel)[0, 0]  # (n·s, n·s)

    # Along one axis: how many of the k taps land on each output position (period s).
    line = F.conv_transpose1d(
        torch.ones(1, 1, n, dtype=torch.float64), torch.ones(1, 1, k, dtype=torch.float64), stride=s
    )[0, 0]
    axis_counts = [int(v) for v in line[k - 1 : k - 1 + s]]

    values = sorted({int(v) for v in interior.flatten().tolist()})
    flat = resize.unique().tolist()
    lines = []
    if k % s == 0:
        lines.append(
            f"**k = {k} is divisible by s = {s}**: along each axis every output pixel gets "
            f"k/s = {_taps(k // s)}, so every interior pixel receives the same "
            f"({k // s})² = {_taps(values[0])}. The overlap is even: no checkerboard from the "
            f"layer's shape (a learned kernel can still make one)."
        )
    else:
        period = ", ".join(str(v) for v in axis_counts)
        lines.append(
            f"**k = {k} is not divisible by s = {s}** (k/s = {k / s:.3g}): along each axis "
            f"the number of kernel taps per output pixel repeats {period}, {period}, … "
            f"(period s = {s}). In 2-D the two axes multiply, so interior output pixels "
            f"receive {_join_or(values)} kernel taps."
        )
        if values[0] == 0:
            lines.append(
                f"k < s: some output pixels get **no tap at all**: holes in a {s}-pixel grid."
            )
        else:
            lines.append(
                f"The busiest pixels get {values[-1] / values[0]:.3g}× the taps of the "
                f"quietest: even a perfectly smooth input comes out with a "
                f"{s}-periodic checkerboard, and the network must learn weights that cancel it."
            )
    if len(flat) == 1:
        result = f"the constant input stays constant (value {_fmt(flat[0])} everywhere)"
    else:  # cannot happen with replicate padding; say so rather than hide it
        result = f"values range from {_fmt(min(flat))} to {_fmt(max(flat))}"
    lines.append(
        f"**Resize-conv** (nearest ×{s}, then a stride-1 {k}×{k} conv) touches every output "
        f"pixel with all k² = {_taps(k * k)}: {result}."
    )
    return CheckerboardDemo(
        kernel_size=k,
        stride=s,
        size=n,
        convt_counts=convt,
        convt_interior=interior,
        resize_counts=resize,
        axis_counts=axis_counts,
        explanation="\n\n".join(lines),
    )


# --------------------------------------------------------------------------------------
# Periodic artefacts in a model's output
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArtifactView:
    """Views of one generated image that make periodic (checkerboard) artefacts visible."""

    image: np.ndarray  #: (H', W', 3) uint8, the image itself, enlarged
    high_pass: np.ndarray  #: (H', W', 3) uint8, image − blurred image (red +, blue −)
    spectrum: np.ndarray  #: (H', W', 3) uint8, log |FFT|, zero frequency in the centre
    period: int  #: the period looked for (the generator's total upsampling factor)
    peak_ratio: float  #: mean spectral power on the period's frequency lattice / neighbours
    summary: str  #: one Markdown line built from the numbers above
    spectrum_values: np.ndarray | None = None  #: (H, W) float log10 |FFT|, fftshift-ed (charts)


def _to_gray(image: Tensor) -> tuple[Tensor, Tensor]:
    """(H, W), (C, H, W) or (1, C, H, W) -> ((H, W) gray, (C, H, W) colour), float64."""
    t = image.detach().cpu().to(torch.float64)
    if t.dim() == 4:
        if t.shape[0] != 1:
            raise ValueError(f"pass one image, got a batch of {t.shape[0]}")
        t = t[0]
    if t.dim() == 2:
        t = t.unsqueeze(0)
    if t.dim() != 3:
        raise ValueError(f"image must be (H, W), (C, H, W) or (1, C, H, W), got {tuple(t.shape)}")
    return t.mean(0), t


def artifact_view(
    image: Tensor, period: int = 2, blur: int = 3, display: int = 192
) -> ArtifactView:
    """High-pass and spectrum views of a generator's output image.

    Args:
        image: a generator output, (H, W), (C, H, W) or (1, C, H, W), any value range.
        period: the period of the artefact to look for: the stride (2), or the product of
            the strides of all upsampling layers (e.g. 8 for three stride-2 layers).
        blur: size of the box blur subtracted for the high-pass view.
        display: approximate side of the returned images in pixels.

    A pattern that repeats every ``period`` pixels has all its power on the frequencies
    (u, v) that are multiples of H/period (a lattice in the spectrum). ``peak_ratio``
    compares the power there (zero frequency excluded) with the power right next to it:
    about 1 for a natural image, much larger for a checkerboard.
    """
    gray, colour = _to_gray(image)  # (H, W), (C, H, W)
    h, w = gray.shape
    period = _as_int("period", period)
    if period < 2 or h < 2 * period or w < 2 * period:
        raise ValueError(f"need period >= 2 and an image of at least 2·period pixels, got {h}×{w}")

    # high-pass: the image minus a blurred copy (reflect padding keeps the border honest)
    g = gray[None, None]  # (1, 1, H, W)
    box = torch.full((1, 1, blur, blur), 1.0 / blur**2, dtype=torch.float64)
    lo, hi = (blur - 1) // 2, blur // 2
    blurred = F.conv2d(F.pad(g, (lo, hi, lo, hi), mode="reflect"), box)[0, 0]
    high = gray - blurred  # (H, W)

    # spectrum: |FFT| of the mean-free image; fftshift puts frequency 0 in the centre
    power = torch.fft.fft2(gray - gray.mean()).abs() ** 2  # (H, W), unshifted
    magnitude = power.sqrt()
    # log scale over two decades below the peak: small peaks stay visible, noise stays dark
    spectrum = torch.fft.fftshift(torch.log10(magnitude + 1e-2 * float(magnitude.max()) + 1e-300))

    # the lattice of frequencies a period-`period` pattern can use (rows and columns)
    rows = {round(m * h / period) % h for m in range(period)}
    cols = {round(m * w / period) % w for m in range(period)}
    lattice = torch.zeros(h, w, dtype=torch.bool)
    for r in rows:
        for c in cols:
            lattice[r, c] = True
    lattice[0, 0] = False  # the mean (DC) is not an artefact
    neighbours = torch.zeros(h, w, dtype=torch.bool)
    for r, c in torch.nonzero(lattice).tolist():
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                neighbours[(r + dr) % h, (c + dc) % w] = True
    neighbours &= ~lattice
    neighbours[0, 0] = False
    on = float(power[lattice].mean())
    around = float(power[neighbours].mean())
    ratio = on / around if around > 0 else (math.inf if on > 0 else 1.0)

    # display: colour image scaled to [0, 1] from its own min/max
    lo_v, hi_v = float(colour.min()), float(colour.max())
    norm = (colour - lo_v) / (hi_v - lo_v) if hi_v > lo_v else torch.zeros_like(colour)
    scale = _display_scale(h, w, display)
    if norm.shape[0] == 3:
        rgb = (norm.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)  # (H, W, 3)
        img = np.repeat(np.repeat(rgb, scale, axis=0), scale, axis=1)
    else:
        img = to_uint8_image(norm.mean(0), scale=scale, vmax=1.0)
    verdict = (
        "strong periodic artefact"
        if ratio > 10
        else "some periodic structure"
        if ratio > 2
        else "no clear periodic artefact"
    )
    summary = (
        f"period {period}: power on the period-{period} frequency lattice is "
        f"**{ratio:.3g}×** the power right next to it ({verdict}; ≈1 means none)"
    )
    return ArtifactView(
        image=img,
        high_pass=to_uint8_image(high, scale=scale, signed=True),
        spectrum=to_uint8_image(spectrum - spectrum.min(), scale=scale),
        period=period,
        peak_ratio=ratio,
        summary=summary,
        spectrum_values=spectrum.numpy(),
    )


def tiny_generators(
    seed: int = 0, channels: int = 16, layers: int = 3
) -> tuple[nn.Module, nn.Module]:
    """Two untrained, same-shaped generators: ConvTranspose (k=3, s=2) vs resize-conv.

    Both map a (1, channels, 4, 4) latent to a (1, 1, 4·2^layers, 4·2^layers) image.
    Odena et al. showed the checkerboard is visible already at initialisation, before any
    training: the layer's shape alone puts it there.
    """
    torch.manual_seed(int(seed))
    convt: list[nn.Module] = []
    resize: list[nn.Module] = []
    for _ in range(layers):
        # (C, H, W) -> (C, 2H, 2W): (H−1)·2 − 2·1 + 3 + 1 = 2H
        convt += [nn.ConvTranspose2d(channels, channels, 3, 2, padding=1, output_padding=1)]
        convt += [nn.ReLU()]
        resize += [nn.Upsample(scale_factor=2, mode="nearest")]
        resize += [nn.Conv2d(channels, channels, 3, padding=1, padding_mode="replicate")]
        resize += [nn.ReLU()]
    convt += [nn.Conv2d(channels, 1, 1), nn.Tanh()]
    resize += [nn.Conv2d(channels, 1, 1), nn.Tanh()]
    return nn.Sequential(*convt).double().eval(), nn.Sequential(*resize).double().eval()


@torch.no_grad()
def model_checkerboard_demo(
    seed: int = 0, channels: int = 16, layers: int = 3
) -> tuple[ArtifactView, ArtifactView]:
    """:func:`artifact_view` of both :func:`tiny_generators` on the same smooth latent."""
    convt, resize = tiny_generators(seed, channels, layers)
    g = torch.Generator().manual_seed(int(seed))
    z = torch.randn(1, channels, 4, 4, generator=g, dtype=torch.float64)  # (1, C, 4, 4)
    period = 2**layers
    return artifact_view(convt(z), period=period), artifact_view(resize(z), period=period)
