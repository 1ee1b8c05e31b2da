"""The 2-D data sets: mixtures of Gaussians (ring, grid), two moons, a spiral, or the user's
points (clicked or read from a CSV)."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

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
MAX_USER_POINTS = 10_000


class ToyDataError(ValueError):
    """User-supplied points (clicks or CSV) that cannot be used. The message says why and where."""


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
