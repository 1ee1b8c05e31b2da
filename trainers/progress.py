"""A terminal progress bar that listens to the trainers' event stream (trainers/events.py)."""

from __future__ import annotations

from typing import Any

from trainers.events import Finished, Step


class ProgressBar:
    """A tqdm bar with the losses, D(x), D(G(z)) and images/s; a callback for ``trainer.run``,
    used as ``with ProgressBar(total, initial) as bar:``.

    Args:
        total: the step the run trains to.
        initial: the step it starts from (non-zero when resuming).
    """

    def __init__(self, total: int, initial: int) -> None:
        from tqdm import tqdm

        self.bar = tqdm(
            total=total, initial=initial, unit="step", dynamic_ncols=True, mininterval=0.5
        )

    def __call__(self, event: Any) -> None:
        if isinstance(event, Step):
            self.bar.update(event.step - self.bar.n)
            if event.step % 5 == 0:
                self.bar.set_postfix(
                    d=f"{event.losses['d']:.3f}",
                    g=f"{event.losses['g']:.3f}",
                    Dx=f"{event.d_real:.2f}",
                    DGz=f"{event.d_fake:.2f}",
                    img_s=f"{event.images_per_s:.0f}",
                    refresh=False,
                )
        elif isinstance(event, Finished):
            self.bar.close()

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Close the bar however the run ends (an error included), so the error message that
        follows starts on its own line."""
        self.bar.close()
