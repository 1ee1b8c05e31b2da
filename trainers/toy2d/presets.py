"""Named starting points of the playground: "default", "collapse" (mode collapse) and "cure"."""

from __future__ import annotations

from trainers.toy2d.models import Toy2DConfig

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
