"""2-D toy GANs: the whole adversarial game on a plane you can look at (GAN Lab's job, in Python).

Real data are points x in R^2 drawn from a toy distribution (a ring of 8 Gaussians, a 5x5 grid
of Gaussians, two moons, a spiral, or points you click / upload). G is a small MLP that maps
noise z ~ N(0, I) to a point G(z) in R^2; D is a small MLP that maps a point to one logit.
Because everything lives in two dimensions we can *see* the game:

- D's opinion of every point of the plane (a heatmap),
- the real and the fake points,
- the direction in which G's loss pushes every fake point, -dL_G/dx at x = G(z) (arrows).

The losses are the project's own (``trainers.losses``), so what you learn here is exactly what
the image trainers do. One round of training is Goodfellow et al.'s Algorithm 1:

    repeat k_D times:  D <- D - lr_D * grad_D L_D      (G frozen: fakes are detached)
    repeat k_G times:  G <- G - lr_G * grad_G L_G      (D frozen: only G's optimiser steps)

Quality figures (the usual ones for the ring and the grid, as in Metz et al. 2017 "Unrolled
GANs" and Lin et al. 2018 "PacGAN"):

- a generated sample is *high quality* if it lies within 3 sigma of its nearest mode centre;
- a mode is *covered* if at least ``MIN_SHARE_OF_FAIR / M`` of all samples are high-quality
  samples of that mode (M modes; a fifth of its fair share by default);
- a Jensen-Shannon divergence estimated from 2-D histograms on a grid (any data set). With
  finite samples even two real samples differ a little, so it is reported with that floor.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

from trainers.losses import LOSSES, check_loss, d_loss, g_loss, gradient_penalty, realness
from trainers.models.blocks import MinibatchStdDev, maybe_spectral_norm

# The square window every built-in data set fits into, and the playground shows: [-3, 3]^2.
VIEW_LIMIT = 3.0
TOY_DATASETS: tuple[str, ...] = ("ring", "grid", "moons", "spiral", "points")
DATASET_LABELS: dict[str, str] = {
    "ring": "ring of 8 Gaussians",
    "grid": "5x5 grid of Gaussians",
    "moons": "two moons",
    "spiral": "spiral",
    "points": "your points (click or CSV)",
}
MIN_SHARE_OF_FAIR = (
    0.2  # a mode is covered with >= 0.2 / M of the samples (PacGAN: 20 of 2500 for 25 modes)
)
MAX_USER_POINTS = 10_000
EVAL_SAMPLES = 2000  # samples for the figures (real and fake)
JS_BINS = 40  # histogram cells per axis for the JS estimate: 40 x 40 over [-3, 3]^2


class ToyDataError(ValueError):
    """User-supplied points (clicks or CSV) that cannot be used. The message says why and where."""


# --------------------------------------------------------------------------------------------
# Data sets
# --------------------------------------------------------------------------------------------


@dataclass
class Toy2DData:
    """A 2-D distribution we can sample from.

    Args:
        name: one of ``TOY_DATASETS``.
        kind: how ``sample`` works: "modes" (mixture of Gaussians at ``centres``), "moons",
            "spiral" or "points" (a random user point plus Gaussian jitter).
        centres: (M, 2) mode centres for "modes", or the user's (N, 2) points for "points".
        sigma: standard deviation of each Gaussian (per axis).
        has_modes: True when the mode metrics make sense (ring and grid).
    """

    name: str
    kind: str
    centres: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), dtype=np.float32))
    sigma: float = 0.05
    has_modes: bool = False

    @property
    def modes(self) -> np.ndarray | None:
        """(M, 2) mode centres for the mode metrics, or None (moons, spiral, user points)."""
        return self.centres if self.has_modes else None

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """n real points, float32 (n, 2)."""
        if self.kind in ("modes", "points"):
            centres = torch.as_tensor(self.centres, dtype=torch.float32)  # (M, 2)
            index = torch.randint(0, len(centres), (n,), generator=generator)  # (n,)
            return centres[index] + self.sigma * torch.randn(n, 2, generator=generator)
        if self.kind == "moons":
            # sklearn's two moons: upper (cos t, sin t), lower (1 - cos t, 1/2 - sin t), t in [0, pi],
            # centred and scaled by 1.6 to fill the window.
            t = math.pi * torch.rand(n, generator=generator)
            upper = torch.rand(n, generator=generator) < 0.5
            x = torch.where(upper, torch.cos(t), 1 - torch.cos(t)) - 0.5
            y = torch.where(upper, torch.sin(t), 0.5 - torch.sin(t)) - 0.25
            return 1.6 * torch.stack([x, y], dim=1) + self.sigma * torch.randn(
                n, 2, generator=generator
            )
        if self.kind == "spiral":
            # r = 2.5 * u, angle = 3 pi u with u = sqrt(uniform): one and a half turns, even density
            u = torch.rand(n, generator=generator).sqrt()
            angle = 3 * math.pi * u
            points = 2.5 * u[:, None] * torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)
            return points + self.sigma * torch.randn(n, 2, generator=generator)
        raise ValueError(f"unknown toy data kind {self.kind!r}")


def ring_modes(count: int = 8, radius: float = 2.0) -> np.ndarray:
    """(count, 2) centres evenly spaced on a circle: (r cos 2 pi i/count, r sin 2 pi i/count)."""
    angles = 2 * np.pi * np.arange(count) / count
    return (radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)).astype(np.float32)


def grid_modes(side: int = 5, spacing: float = 1.0) -> np.ndarray:
    """(side*side, 2) centres on a square grid centred on 0: {-2, -1, 0, 1, 2}^2 by default."""
    ticks = (np.arange(side) - (side - 1) / 2) * spacing
    xx, yy = np.meshgrid(ticks, ticks)
    return np.stack([xx.ravel(), yy.ravel()], axis=1).astype(np.float32)


def make_dataset(name: str, points: np.ndarray | list | None = None) -> Toy2DData:
    """A toy data set by name; "points" needs the user's (N, 2) points."""
    if name == "ring":
        return Toy2DData("ring", "modes", ring_modes(8, 2.0), sigma=0.05, has_modes=True)
    if name == "grid":
        return Toy2DData("grid", "modes", grid_modes(5, 1.0), sigma=0.05, has_modes=True)
    if name == "moons":
        return Toy2DData("moons", "moons", sigma=0.06)
    if name == "spiral":
        return Toy2DData("spiral", "spiral", sigma=0.05)
    if name == "points":
        array = check_points(points)
        return Toy2DData("points", "points", array, sigma=0.08)
    raise ValueError(f"unknown toy data set {name!r}; choose one of {', '.join(TOY_DATASETS)}")


def check_points(points: np.ndarray | list | None) -> np.ndarray:
    """User points as float32 (N, 2), or a ToyDataError saying what is wrong."""
    if points is None or len(points) == 0:
        raise ToyDataError(
            "no points yet: click on the plot to add some, or upload a CSV with x,y columns"
        )
    array = np.asarray(points, dtype=np.float64)
    if array.ndim != 2 or array.shape[1] != 2:
        raise ToyDataError(f"points must be pairs (x, y); got an array of shape {array.shape}")
    if not np.isfinite(array).all():
        raise ToyDataError("points must be finite numbers (no NaN or infinity)")
    if len(array) > MAX_USER_POINTS:
        raise ToyDataError(f"{len(array)} points is too many; at most {MAX_USER_POINTS}")
    return array.astype(np.float32)


def points_from_csv(source: str | Path | bytes, fit: bool = True) -> np.ndarray:
    """Read (N, 2) points from CSV text or a file: two numeric columns x,y, optional header row.

    With ``fit`` the points are shifted and scaled into [-2.5, 2.5]^2 when any lies outside the
    playground's window [-3, 3]^2 (the shape is kept: one scale for both axes).

    Raises:
        ToyDataError: naming the line and what is wrong with it.
    """
    if isinstance(source, bytes):
        text = source.decode("utf-8", errors="replace")
    elif isinstance(source, Path) or (
        isinstance(source, str) and "\n" not in source and Path(source).is_file()
    ):
        path = Path(source)
        if path.stat().st_size > 5_000_000:
            raise ToyDataError(
                f"{path.name} is larger than 5 MB; a 2-D point set needs at most {MAX_USER_POINTS} rows"
            )
        text = path.read_text(encoding="utf-8", errors="replace")
    else:
        text = str(source)
    rows: list[tuple[float, float]] = []
    dialect = csv.excel_tab if "\t" in text and "," not in text else csv.excel
    for number, row in enumerate(csv.reader(io.StringIO(text), dialect), start=1):
        cells = [c.strip() for c in row if c.strip() != ""]
        if not cells or cells[0].startswith("#"):
            continue
        if len(cells) < 2:
            raise ToyDataError(
                f"CSV line {number}: expected two columns x,y, got {len(cells)} ({','.join(row)!r})"
            )
        try:
            x, y = float(cells[0]), float(cells[1])
        except ValueError:
            if not rows and number == _first_content_line(text):
                continue  # a header such as "x,y"
            raise ToyDataError(
                f"CSV line {number}: {cells[0]!r}, {cells[1]!r} are not numbers"
            ) from None
        if not (math.isfinite(x) and math.isfinite(y)):
            raise ToyDataError(f"CSV line {number}: values must be finite, got {x}, {y}")
        rows.append((x, y))
        if len(rows) > MAX_USER_POINTS:
            raise ToyDataError(f"the CSV has more than {MAX_USER_POINTS} points")
    if not rows:
        raise ToyDataError(
            "the CSV holds no points: expected lines like '0.5,-1.2' (two numeric columns x,y)"
        )
    points = np.asarray(rows, dtype=np.float32)  # (N, 2)
    if fit and np.abs(points).max() > VIEW_LIMIT:
        centre = (points.max(0) + points.min(0)) / 2
        half_range = float(np.abs(points - centre).max())
        points = (points - centre) * (2.5 / max(half_range, 1e-9))
    return points


def _first_content_line(text: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip() and not line.strip().startswith("#"):
            return number
    return 0


# --------------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------------


@dataclass
class Toy2DConfig:
    """Everything that defines one 2-D GAN experiment.

    Args:
        dataset: one of ``TOY_DATASETS``.
        latent_dim: size of z.
        width / depth: hidden units per layer and hidden layers, for both G and D.
        loss: "minimax", "non-saturating", "lsgan", "hinge" or "wgan-gp" (trainers.losses).
        d_steps / g_steps: updates per side in one round of "Step both" (k_D, k_G).
        lr_d / lr_g: Adam learning rates; beta1 / beta2: Adam betas.
        batch_size: real points (and fake points) per update.
        spectral_norm: spectral normalisation on D's layers (Miyato et al. 2018).
        minibatch_std: minibatch discrimination in D: the batch's spread as an extra feature.
        gp_weight: lambda of WGAN-GP's gradient penalty.
        seed: seeds the weights, the noise and the real samples.
    """

    dataset: str = "ring"
    latent_dim: int = 2
    width: int = 64
    depth: int = 2
    loss: str = "non-saturating"
    d_steps: int = 1
    g_steps: int = 1
    lr_d: float = 1e-3
    lr_g: float = 1e-3
    beta1: float = 0.5
    beta2: float = 0.999
    batch_size: int = 256
    spectral_norm: bool = False
    minibatch_std: bool = False
    gp_weight: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        check_loss(self.loss)
        if self.dataset not in TOY_DATASETS:
            raise ValueError(
                f"unknown toy data set {self.dataset!r}; choose one of {', '.join(TOY_DATASETS)}"
            )
        if self.width < 1 or self.depth < 1 or self.latent_dim < 1 or self.batch_size < 2:
            raise ValueError("width, depth and latent_dim must be >= 1 and batch_size >= 2")
        if self.d_steps < 1 or self.g_steps < 1:
            raise ValueError("d_steps and g_steps must be >= 1")


class Toy2DGenerator(nn.Module):
    """z (B, latent_dim) -> [Linear -> ReLU] x depth -> Linear -> x (B, 2). No tanh: R^2 is unbounded."""

    def __init__(self, config: Toy2DConfig) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = config.latent_dim
        for _ in range(config.depth):
            layers += [nn.Linear(width, config.width), nn.ReLU()]
            width = config.width
        layers.append(nn.Linear(width, 2))
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(z)  # (B, latent_dim) -> (B, 2)


class Toy2DDiscriminator(nn.Module):
    """x (B, 2) -> [Linear -> LeakyReLU(0.2)] x depth -> (minibatch std) -> Linear -> logit (B,).

    With ``minibatch_std`` the last layer also sees s = mean over features of the std across
    the batch (``trainers.models.blocks.MinibatchStdDev``): a collapsed G makes a batch with a
    tiny s, which D can learn to call fake.
    """

    def __init__(self, config: Toy2DConfig) -> None:
        super().__init__()
        sn = config.spectral_norm
        layers: list[nn.Module] = []
        width = 2
        for _ in range(config.depth):
            layers += [maybe_spectral_norm(nn.Linear(width, config.width), sn), nn.LeakyReLU(0.2)]
            width = config.width
        self.body = nn.Sequential(*layers)
        self.minibatch_std = MinibatchStdDev() if config.minibatch_std else None
        self.head = maybe_spectral_norm(
            nn.Linear(width + (1 if config.minibatch_std else 0), 1), sn
        )

    def forward(
        self,
        x: torch.Tensor,
        labels: torch.Tensor | None = None,
        batch_std: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Logits (B,). ``batch_std`` replaces the minibatch-std feature (to judge single points
        "as if they came in that batch", e.g. for the heatmap)."""
        h = self.body(x)  # (B, width)
        if self.minibatch_std is not None:
            if batch_std is None:
                h = self.minibatch_std(h)  # (B, width + 1)
            else:
                h = torch.cat([h, batch_std.reshape(1, 1).expand(h.shape[0], 1).to(h.dtype)], dim=1)
        return self.head(h).squeeze(1)

    @torch.no_grad()
    def batch_std_of(self, x: torch.Tensor) -> torch.Tensor | None:
        """The minibatch-std feature D computes for batch x (a scalar), or None without it."""
        if self.minibatch_std is None:
            return None
        h = self.body(x)
        return h.float().std(dim=0, unbiased=False).mean()


# --------------------------------------------------------------------------------------------
# Metrics (plain numpy: testable on hand-made point sets)
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# The trainer
# --------------------------------------------------------------------------------------------


class Toy2DTrainer:
    """G, D, their Adam optimisers and the counters of one 2-D experiment.

    ``step_d`` only changes D and ``step_g`` only changes G (the other network is put in eval
    mode and its optimiser does not step), so you can play one side at a time, as in GAN Lab.

    Args:
        config: the experiment.
        points: the user's (N, 2) points when ``config.dataset == "points"``.
    """

    def __init__(self, config: Toy2DConfig, points: np.ndarray | list | None = None) -> None:
        self.config = config
        self.points = None if points is None else check_points(points)
        self.data = make_dataset(config.dataset, self.points)
        self.reset()

    # --- setup ----------------------------------------------------------------------------------

    def reset(self, seed: int | None = None) -> None:
        """New random G and D (same seed = same start), fresh optimisers, counters at 0."""
        if seed is not None:
            self.config = replace(self.config, seed=seed)
        cfg = self.config
        torch.manual_seed(cfg.seed)
        self.generator = Toy2DGenerator(cfg)
        self.discriminator = Toy2DDiscriminator(cfg)
        betas = (cfg.beta1, cfg.beta2)
        self.opt_g = torch.optim.Adam(self.generator.parameters(), lr=cfg.lr_g, betas=betas)
        self.opt_d = torch.optim.Adam(self.discriminator.parameters(), lr=cfg.lr_d, betas=betas)
        self.rng = torch.Generator().manual_seed(cfg.seed + 1)  # training noise and real batches
        fixed = torch.Generator().manual_seed(cfg.seed + 2)
        self.eval_z = torch.randn(
            EVAL_SAMPLES, cfg.latent_dim, generator=fixed
        )  # (2000, latent): figures and plot
        reference = torch.Generator().manual_seed(10_000 + cfg.seed)
        self.eval_real = self.data.sample(EVAL_SAMPLES, reference).numpy()  # (2000, 2)
        self.js_floor = js_estimate(
            self.eval_real, self.data.sample(EVAL_SAMPLES, reference).numpy()
        )
        self.d_updates = 0
        self.g_updates = 0
        self.history: list[
            dict[str, float]
        ] = []  # one entry per update: kind, losses, D(x), D(G(z))

    def set_options(self, **changes) -> bool:
        """Change settings. Loss, k, learning rates and batch size apply at once (the networks
        keep learning); anything that changes the networks or the data resets. Returns True on reset."""
        live = {
            "loss",
            "d_steps",
            "g_steps",
            "lr_d",
            "lr_g",
            "batch_size",
            "gp_weight",
            "beta1",
            "beta2",
        }
        points = changes.pop("points", None)
        new = replace(self.config, **changes)
        if points is not None:
            self.points = check_points(points)
        needs_reset = any(
            getattr(new, k) != getattr(self.config, k) for k in asdict(new) if k not in live
        )
        needs_reset |= points is not None
        self.config = new
        if needs_reset:
            self.data = make_dataset(new.dataset, self.points)
            self.reset()
            return True
        for group in self.opt_d.param_groups:
            group["lr"], group["betas"] = new.lr_d, (new.beta1, new.beta2)
        for group in self.opt_g.param_groups:
            group["lr"], group["betas"] = new.lr_g, (new.beta1, new.beta2)
        return False

    # --- the two half-steps ---------------------------------------------------------------------

    def _noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.config.latent_dim, generator=self.rng)  # (n, latent_dim)

    def _real(self, n: int) -> torch.Tensor:
        return self.data.sample(n, self.rng)  # (n, 2)

    def step_d(self, k: int | None = None) -> dict[str, float]:
        """k updates of D only (default ``config.d_steps``); returns the last one's numbers."""
        cfg = self.config
        self.generator.eval()  # G is only used, never changed
        self.discriminator.train()
        stats: dict[str, float] = {}
        for _ in range(cfg.d_steps if k is None else k):
            real = self._real(cfg.batch_size)  # (B, 2)
            with torch.no_grad():
                fake = self.generator(self._noise(cfg.batch_size))  # (B, 2), no graph into G
            real_logits = self.discriminator(real)  # (B,)
            fake_logits = self.discriminator(fake)  # (B,)
            loss = d_loss(cfg.loss, real_logits, fake_logits)
            if cfg.loss == "wgan-gp":
                loss = loss + cfg.gp_weight * gradient_penalty(self.discriminator, real, fake)
            self.opt_d.zero_grad(set_to_none=True)
            loss.backward()
            self.opt_d.step()
            self.d_updates += 1
            stats = {
                "d": loss.item(),
                "d_real": realness(cfg.loss, real_logits),
                "d_fake": realness(cfg.loss, fake_logits),
            }
            self.history.append(
                {"kind": 0, "d_updates": self.d_updates, "g_updates": self.g_updates, **stats}
            )
        return stats

    def step_g(self, k: int | None = None) -> dict[str, float]:
        """k updates of G only (default ``config.g_steps``); D is frozen and in eval mode
        (so spectral norm's power iteration does not touch D's buffers either)."""
        cfg = self.config
        self.generator.train()
        self.discriminator.eval()
        self.discriminator.requires_grad_(False)  # gradients flow through D into G; D stays put
        stats: dict[str, float] = {}
        try:
            for _ in range(cfg.g_steps if k is None else k):
                fake = self.generator(self._noise(cfg.batch_size))  # (B, 2)
                fake_logits = self.discriminator(fake)  # (B,)
                loss = g_loss(cfg.loss, fake_logits)
                self.opt_g.zero_grad(set_to_none=True)
                loss.backward()
                self.opt_g.step()
                self.g_updates += 1
                stats = {"g": loss.item(), "d_fake": realness(cfg.loss, fake_logits)}
                self.history.append(
                    {"kind": 1, "d_updates": self.d_updates, "g_updates": self.g_updates, **stats}
                )
        finally:
            self.discriminator.requires_grad_(True)
        return stats

    def step_both(self, rounds: int = 1) -> dict[str, float]:
        """``rounds`` rounds of (k_D D-updates, then k_G G-updates)."""
        stats: dict[str, float] = {}
        for _ in range(rounds):
            stats = self.step_d() | self.step_g()
            if not all(math.isfinite(v) for v in stats.values()):
                raise FloatingPointError(
                    f"a loss became {stats}; press Reset and lower the learning rates"
                )
        return stats

    def last_stats(self) -> dict[str, float]:
        """The latest numbers of each side: L_D, L_G, D(x), D(G(z)) (probabilities for the
        log losses, raw scores otherwise: ``trainers.losses.realness``)."""
        stats: dict[str, float] = {}
        for entry in reversed(self.history):
            side = "d" if entry["kind"] == 0 else "g"
            if side in stats:
                continue
            stats[side] = entry[side]
            if side == "d":
                stats["d_real"], stats["d_fake"] = entry["d_real"], entry["d_fake"]
            if "d" in stats and "g" in stats:
                break
        return stats

    @property
    def rounds(self) -> int:
        """G updates count the rounds, as in the image engine's ``step``."""
        return self.g_updates

    # --- what the playground shows --------------------------------------------------------------

    @torch.no_grad()
    def fake_points(self, n: int = EVAL_SAMPLES) -> np.ndarray:
        """G's output for the fixed evaluation noise, (n, 2): the same z every time."""
        self.generator.eval()
        return self.generator(self.eval_z[:n]).numpy()

    def real_points(self, n: int = EVAL_SAMPLES) -> np.ndarray:
        """A fixed real sample, (n, 2)."""
        return self.eval_real[:n]

    @torch.no_grad()
    def d_on_grid(self, resolution: int = 64, limit: float = VIEW_LIMIT) -> np.ndarray:
        """D's opinion of the plane as float32 (resolution, resolution) in [0, 1] (1 = real).

        Row i is y = ys[i] with ys *descending* (row 0 is the top of the picture), column j is
        x = xs[j] ascending, cell centres over [-limit, limit]^2.
        """
        self.discriminator.eval()
        centres = (np.arange(resolution) + 0.5) / resolution * 2 * limit - limit
        xs, ys = np.meshgrid(centres, centres[::-1])
        grid = torch.as_tensor(
            np.stack([xs.ravel(), ys.ravel()], axis=1), dtype=torch.float32
        )  # (R*R, 2)
        fake = torch.as_tensor(self.fake_points(self.config.batch_size))
        real = torch.as_tensor(self.real_points(self.config.batch_size))
        std = self.discriminator.batch_std_of(fake)  # judge grid points as members of G's batch
        logits = self.discriminator(grid, batch_std=std)
        real_mean = self.discriminator(real).mean().item()
        fake_mean = self.discriminator(fake).mean().item()
        values = realness_map(self.config.loss, logits, real_mean, fake_mean)
        return values.reshape(resolution, resolution).numpy().astype(np.float32)

    def g_gradients(self, n: int = 256) -> tuple[np.ndarray, np.ndarray]:
        """Fake points x = G(z) (n, 2) and the direction G's loss moves them, -dL_G/dx (n, 2).

        L_G is the sum over the batch of the per-point loss, so each arrow is that point's own
        push (with minimax loss they shrink to nothing once D confidently rejects the fakes:
        the saturation that the non-saturating loss fixes).
        """
        self.generator.eval()
        self.discriminator.eval()
        with torch.no_grad():
            x = self.generator(self.eval_z[:n])  # (n, 2)
        x.requires_grad_(True)
        self.discriminator.requires_grad_(False)
        try:
            loss = g_loss(self.config.loss, self.discriminator(x)) * n  # sum of per-point losses
            (grad,) = torch.autograd.grad(loss, x)
        finally:
            self.discriminator.requires_grad_(True)
        return x.detach().numpy(), (-grad).numpy()

    def metrics(self) -> Toy2DMetrics:
        """Modes covered, high-quality share (ring and grid) and the JS estimate, on 2000 samples."""
        fake = self.fake_points()
        result = Toy2DMetrics(js=js_estimate(self.eval_real, fake), js_floor=self.js_floor)
        if self.data.modes is not None:
            coverage = mode_coverage(fake, self.data.modes, self.data.sigma)
            result.modes_covered = coverage.covered
            result.num_modes = coverage.num_modes
            result.high_quality_share = coverage.high_quality_share
            result.mode_counts = coverage.counts
        return result

    def parameter_snapshot(self) -> dict[str, dict[str, torch.Tensor]]:
        """Copies of every parameter and buffer of G and D (for "did this change?" checks)."""
        return {
            "G": {k: v.detach().clone() for k, v in self.generator.state_dict().items()},
            "D": {k: v.detach().clone() for k, v in self.discriminator.state_dict().items()},
        }


# --------------------------------------------------------------------------------------------
# Presets
# --------------------------------------------------------------------------------------------

# Chosen by experiment (benchmarks/playground.py prints the table). Over seeds 0-4, after 1000
# rounds: "collapse" covered 3, 1, 2, 3, 2 of the 8 ring modes with 89 % of its samples high
# quality (G parks on a few modes and stays); "cure" (the same, with the loss switched to
# WGAN-GP) covered 8, 8, 7, 8, 8. Minibatch discrimination instead of WGAN-GP helped less
# (2-4 modes after 800 rounds, seeds 0-4).
PRESETS: dict[str, dict] = {
    "default": {},
    "collapse": {
        "dataset": "ring",
        "loss": "non-saturating",
        "depth": 3,
        "d_steps": 5,
        "lr_d": 1e-3,
        "lr_g": 5e-4,
    },
    "cure": {
        "dataset": "ring",
        "loss": "wgan-gp",
        "depth": 3,
        "d_steps": 5,
        "lr_d": 1e-3,
        "lr_g": 5e-4,
    },
}

PRESET_NOTES: dict[str, str] = {
    "default": "ring of 8, non-saturating loss, k = 1, Adam 1e-3 for both, 2 hidden layers of 64.",
    "collapse": (
        "Mode collapse: non-saturating loss, D trained 5 times per G step (k = 5), G at half D's "
        "learning rate, 3 hidden layers. D sharpens around the real points before G moves, so G's "
        "points follow D's gradient to the *nearest* modes; once they sit there, nothing pulls "
        "them on to the modes nobody generates. Most seeds end on 1-3 of the 8 modes."
    ),
    "cure": (
        "The cure, one switch: the loss becomes WGAN-GP. The critic's score is not squashed by a "
        "sigmoid, and the gradient penalty keeps its slope near 1 between real and fake points, "
        "so modes far from every fake point still pull: G spreads over (almost) all 8."
    ),
}


def preset_config(name: str, seed: int = 0) -> Toy2DConfig:
    """The config of a named preset ("default", "collapse", "cure")."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    return Toy2DConfig(**{**PRESETS[name], "seed": seed})


__all__ = [
    "DATASET_LABELS",
    "LOSSES",
    "PRESETS",
    "TOY_DATASETS",
    "VIEW_LIMIT",
    "ModeCoverage",
    "Toy2DConfig",
    "Toy2DData",
    "Toy2DDiscriminator",
    "Toy2DGenerator",
    "Toy2DMetrics",
    "Toy2DTrainer",
    "ToyDataError",
    "check_points",
    "js_divergence",
    "js_estimate",
    "make_dataset",
    "mode_coverage",
    "points_from_csv",
    "preset_config",
]
