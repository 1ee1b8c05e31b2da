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

The package: ``data`` (the distributions and user points), ``models`` (G and D), ``metrics``
(the figures above), ``game`` (``Toy2DTrainer``: the half-steps and what the playground shows),
``presets`` ("default", "collapse", "cure").
"""

from trainers.losses import LOSSES
from trainers.toy2d.data import (
    DATASET_LABELS,
    MAX_USER_POINTS,
    TOY_DATASETS,
    VIEW_LIMIT,
    Toy2DData,
    ToyDataError,
    check_points,
    grid_modes,
    make_dataset,
    points_from_csv,
    ring_modes,
)
from trainers.toy2d.game import EVAL_SAMPLES, Toy2DTrainer
from trainers.toy2d.metrics import (
    JS_BINS,
    MIN_SHARE_OF_FAIR,
    ModeCoverage,
    Toy2DMetrics,
    histogram2d,
    js_divergence,
    js_estimate,
    mode_coverage,
    realness_map,
)
from trainers.toy2d.models import Toy2DConfig, Toy2DDiscriminator, Toy2DGenerator
from trainers.toy2d.presets import PRESET_NOTES, PRESETS, preset_config

__all__ = [
    "DATASET_LABELS",
    "EVAL_SAMPLES",
    "JS_BINS",
    "LOSSES",
    "MAX_USER_POINTS",
    "MIN_SHARE_OF_FAIR",
    "PRESETS",
    "PRESET_NOTES",
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
    "grid_modes",
    "histogram2d",
    "js_divergence",
    "js_estimate",
    "make_dataset",
    "mode_coverage",
    "points_from_csv",
    "preset_config",
    "realness_map",
    "ring_modes",
]
