"""The one event stream every trainer speaks.

A trainer never prints, plots or writes logs itself: it calls ``callback(event)`` with one of the
small dataclasses below. The CLI progress bar, the JSONL log and the explorer's live tab are all
just callbacks, so they always see the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Step:
    """One optimisation step finished.

    Args:
        step: global step count after this step (1-based, continues across ``--resume``).
        epoch: passes over the data so far (fractional).
        losses: named scalar losses, e.g. ``{"d": 1.2, "g": 0.8}`` or, for style transfer,
            ``{"content": ..., "style": ..., "tv": ..., "total": ...}``.
        d_real: mean D(x) on the real batch as a probability (GANs only, else ``None``).
        d_fake: mean D(G(z)) on the fake batch as a probability (GANs only, else ``None``).
        images_per_s: training throughput over the last step (real images seen per second).
        wall_time: seconds since this run (or resumed run) started.
    """

    step: int
    epoch: float
    losses: dict[str, float]
    d_real: float | None = None
    d_fake: float | None = None
    images_per_s: float = 0.0
    wall_time: float = 0.0


@dataclass
class Samples:
    """A picture to show: the fixed-noise grid of a GAN, or the current image of style transfer.

    ``image`` is uint8 (H, W, C) so any front end can show it without knowing the model.
    """

    step: int
    image: np.ndarray


@dataclass
class Checkpointed:
    """A checkpoint folder was (atomically) written."""

    step: int
    path: str


@dataclass
class Finished:
    """The run ended. ``reason`` is "done", "stopped" (a stop flag was set) or "error"."""

    step: int
    reason: str
    message: str = ""


Event = Step | Samples | Checkpointed | Finished
Callback = Callable[[Event], None]


@dataclass
class CallbackList:
    """Fan one event out to several callbacks."""

    callbacks: list[Callback] = field(default_factory=list)

    def __call__(self, event: Event) -> None:
        for callback in self.callbacks:
            callback(event)
