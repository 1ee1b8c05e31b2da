"""The playground's quality figures (plain numpy: testable on hand-made point sets): modes
covered and high-quality share (ring, grid), a JS divergence from 2-D histograms, and D's
output as a colour for the plane."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from trainers.toy2d.data import VIEW_LIMIT

MIN_SHARE_OF_FAIR = 0.2  # a mode is covered with >= 0.2 / M of the samples (PacGAN: 20 of 2500)
JS_BINS = 40  # histogram cells per axis for the JS estimate: 40 x 40 over [-3, 3]^2


@dataclass
class ModeCoverage:
    """Mode metrics of a sample.

    Args:
        covered: modes with at least ``min_count`` high-quality samples.
        num_modes: M.
        high_quality_share: share of samples within 3 sigma of their nearest mode.
        counts: high-quality samples per mode, (M,).
        min_count: the threshold used.
    """

    covered: int
    num_modes: int
    high_quality_share: float
    counts: list[int]
    min_count: int


def mode_coverage(
    samples: np.ndarray, modes: np.ndarray, sigma: float, min_share: float | None = None
) -> ModeCoverage:
    """Modes covered and high-quality share.

    A sample x is high quality when min_m ||x - mu_m|| <= 3 sigma; it then belongs to its nearest
    mode. A mode is covered when it holds at least ``min_share * N`` high-quality samples
    (default ``MIN_SHARE_OF_FAIR / M``: a fifth of its fair share).

    Args:
        samples: (N, 2) generated points.
        modes: (M, 2) mode centres.
        sigma: the modes' standard deviation.
    """
    samples = np.asarray(samples, dtype=np.float64)
    modes = np.asarray(modes, dtype=np.float64)
    n, m = len(samples), len(modes)
    share = MIN_SHARE_OF_FAIR / m if min_share is None else min_share
    min_count = max(1, int(math.ceil(share * n)))
    distances = np.linalg.norm(samples[:, None, :] - modes[None, :, :], axis=2)  # (N, M)
    nearest = distances.argmin(axis=1)  # (N,)
    good = distances[np.arange(n), nearest] <= 3 * sigma  # (N,)
    counts = np.bincount(nearest[good], minlength=m)  # (M,)
    return ModeCoverage(
        covered=int((counts >= min_count).sum()),
        num_modes=m,
        high_quality_share=float(good.mean()) if n else 0.0,
        counts=[int(c) for c in counts],
        min_count=min_count,
    )


def histogram2d(points: np.ndarray, bins: int = JS_BINS, limit: float = VIEW_LIMIT) -> np.ndarray:
    """Normalised (bins, bins) histogram of (N, 2) points over [-limit, limit]^2.
    Points outside the window are clipped into the border cells (they still count)."""
    clipped = np.clip(np.asarray(points, dtype=np.float64), -limit, limit - 1e-9)
    hist, _, _ = np.histogram2d(
        clipped[:, 0], clipped[:, 1], bins=bins, range=[[-limit, limit], [-limit, limit]]
    )
    return hist / max(hist.sum(), 1.0)


def js_divergence(p: np.ndarray, q: np.ndarray) -> float:
    """JS(P, Q) = 1/2 KL(P || M) + 1/2 KL(Q || M), M = (P + Q) / 2, in bits: 0 (same) .. 1 (disjoint)."""
    p, q = p.ravel(), q.ravel()
    m = 0.5 * (p + q)

    def kl(a: np.ndarray) -> float:
        nz = a > 0  # 0 log 0 = 0; where a > 0, m > 0 too
        return float((a[nz] * np.log2(a[nz] / m[nz])).sum())

    return 0.5 * kl(p) + 0.5 * kl(q)


def js_estimate(real: np.ndarray, fake: np.ndarray, bins: int = JS_BINS) -> float:
    """JS divergence between the 2-D histograms of real (N, 2) and fake (N, 2) points."""
    return js_divergence(histogram2d(real, bins), histogram2d(fake, bins))


@dataclass
class Toy2DMetrics:
    """The live figures of the playground.

    Args:
        modes_covered / num_modes / high_quality_share: mode metrics (None without modes).
        js: JS divergence estimate (bits) between real and fake histograms.
        js_floor: the same estimate between two independent real samples (sampling noise).
        mode_counts: high-quality samples per mode.
    """

    js: float
    js_floor: float
    modes_covered: int | None = None
    num_modes: int | None = None
    high_quality_share: float | None = None
    mode_counts: list[int] | None = None


def realness_map(
    loss: str, logits: torch.Tensor, real_mean: float, fake_mean: float
) -> torch.Tensor:
    """D's output as a number in [0, 1] to colour the plane (1 = "real", 0 = "fake").

    minimax / non-saturating: D(x) = sigmoid(logit). lsgan: the output clipped to [0, 1] (its
    targets are 1 and 0). hinge: (s + 1) / 2 clipped (targets +1 and -1). wgan-gp: a critic
    score has no fixed scale (adding a constant changes nothing), so it is centred between the
    mean scores of the real and fake batches: 1/2 + 1/2 tanh((s - c) / h), c = midpoint,
    h = half the gap but at least 0.5 (the penalty keeps the critic's slope near 1, so across
    the window scores differ by several units; smaller differences are shown pale, e.g. at
    initialisation).
    """
    if loss in ("minimax", "non-saturating"):
        return torch.sigmoid(logits)
    if loss == "lsgan":
        return logits.clamp(0, 1)
    if loss == "hinge":
        return ((logits + 1) / 2).clamp(0, 1)
    centre = (real_mean + fake_mean) / 2
    half_gap = max(abs(real_mean - fake_mean) / 2, 0.5)
    return 0.5 + 0.5 * torch.tanh((logits - centre) / half_gap)
