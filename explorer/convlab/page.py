"""The "Transposed convolution" page, written once for both editions: its parameters (bounds,
labels, defaults), its words and its views, as plain data (no front end here).

Each edition builds its widgets from :data:`LAB`, :data:`CHECKERBOARD` and :data:`MODEL`
(``page_specs``) and shows what :func:`lab`, :func:`checkerboard` and :func:`model` return.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from explorer import charts
from explorer.convlab.checkerboard import checkerboard_demo, model_checkerboard_demo
from explorer.convlab.render import LabView, lab_view, move_step
from explorer.convlab.sizes import INPUT_KINDS, KERNEL_KINDS
from explorer.inputs import whole
from explorer.page_check import checked_all
from explorer.params import page_specs
from trainers.options import option

TITLE = "Transposed convolution, opened up"
TICK_S = 0.7  # Play: one kernel position every 0.7 s
#: The start of a refusal of parameters PyTorch's layer would not take.
REFUSED = "PyTorch would refuse these parameters:"
#: How a page shows that refusal (PyTorch's refusals in bold).
ERROR_PREFIX = f"⚠️ **{REFUSED}** "
#: The stepper's words.
PREV, NEXT, STEP_LABEL, STAMP_LABEL = "◀ prev", "next ▶", "kernel position", "stamp"


@dataclass
class LabParams:
    """The step-by-step lab's parameters (the order :func:`lab` takes them in)."""

    size: int = option(3, "", minimum=1, maximum=6, step=1, ui_label="input size n (n×n)")
    k: int = option(3, "", minimum=1, maximum=5, step=1, ui_label="kernel size k")
    s: int = option(2, "", minimum=1, maximum=4, step=1, ui_label="stride s")
    p: int = option(1, "", minimum=0, maximum=4, step=1, ui_label="padding p")
    op: int = option(1, "", minimum=0, maximum=3, step=1, ui_label="output padding")
    input_kind: str = option(
        "counting",
        "; ".join(f"{name}: {text}" for name, text in INPUT_KINDS.items()),
        choices=list(INPUT_KINDS),
        ui_label="input values",
    )
    kernel_kind: str = option(
        "counting",
        "; ".join(f"{name}: {text}" for name, text in KERNEL_KINDS.items()),
        choices=list(KERNEL_KINDS),
        ui_label="kernel values",
    )
    seed: int = option(0, "", minimum=0, ui_label="seed (for random integers)", widget="integer")


@dataclass
class CheckerboardParams:
    """The tap-count comparison's parameters."""

    k: int = option(3, "", minimum=1, maximum=6, step=1, ui_label="kernel size k")
    s: int = option(2, "", minimum=1, maximum=4, step=1, ui_label="stride s")
    size: int = option(8, "", minimum=6, maximum=16, step=1, ui_label="input size")


@dataclass
class ModelParams:
    """The two untrained generators' seed."""

    seed: int = option(
        0,
        "",
        minimum=0,
        ui_label="seed (weights and latent): change it for new generators",
        widget="integer",
    )


LAB, CHECKERBOARD, MODEL = (page_specs(c) for c in (LabParams, CheckerboardParams, ModelParams))
WHAT = {
    "size": "The input size n",
    "k": "The kernel size k",
    "s": "The stride s",
    "p": "The padding p",
    "op": "The output padding",
    "seed": "The seed",
}

INTRO_MD = """
A DCGAN generator grows a 4×4 feature map into an image with `nn.ConvTranspose2d` layers.
Each one is **an ordinary convolution in disguise**:

1. put **s − 1 zeros** between neighbouring input pixels (s = stride),
2. pad the result with **k − p − 1 zeros** on every side (k = kernel size, p = padding),
   plus `output_padding` extra rows/columns at the bottom/right,
3. slide the kernel, **rotated by 180°**, over it with stride 1.

Why "transposed"? An ordinary convolution is a matrix `C` acting on the flattened image;
this layer multiplies by `Cᵀ` instead. It is exactly the gradient of a strided convolution
with respect to its input, which is why its stride *enlarges* the image.

Pick the numbers below and step the kernel along. The result is checked live against
`torch.nn.functional.conv_transpose2d`.
"""

SCATTER_TITLE = "Second view: scatter (each input pixel stamps the kernel)"
SCATTER_MD = """
The same result, seen the other way round: every input pixel **stamps** a copy of the
kernel (not flipped), scaled by its value, onto the output at `(i·s, j·s)`. Where stamps
overlap they add up. Finally `p` rows/columns are cropped from every side (that is what
`padding` does in a transposed convolution: it *removes* border, it does not add it).
"""

CHECKERBOARD_TITLE = "Checkerboard artefacts"
CHECKERBOARD_MD = """
Use the scatter picture: with an all-ones kernel on an all-ones input, each output pixel
simply **counts the kernel taps that land on it**. If `k` is a multiple of `s`, every pixel
gets the same number. If not, the stamps overlap unevenly and a periodic pattern appears,
even though the input is perfectly flat. Nearest-neighbour upsampling followed by an
ordinary convolution ("resize-conv", Odena et al. 2016) has no such problem.
"""
TAPS_LABEL = "taps per output pixel (grey = average; hover for the count)"

MODEL_TITLE = "On a generator's output"
MODEL_MD = """
Two small **untrained** generators with the same number of layers and channels: one grows
the image with `ConvTranspose2d(k=3, s=2)`, the other with nearest upsampling + `Conv2d(k=3)`.
The checkerboard shows up at initialisation already: it comes from the layer's shape, not
from training. The high-pass view (image − blurred image, red +, blue −) and the spectrum
(log |FFT|, zero frequency in the centre) make it easy to see; a periodic artefact shows as
bright dots on the circled lattice of frequencies (hover a dot for its frequency).
"""
MODEL_NAMES = (
    "ConvTranspose: image",
    "ConvTranspose: high-pass",
    "resize-conv: image",
    "resize-conv: high-pass",
)
SPECTRA_LABEL = "spectra (log |FFT|)"


def checked_lab(*values: Any) -> tuple[Any, ...]:
    """(size, k, s, p, op, input kind, kernel kind, seed) checked against :data:`LAB`."""
    return tuple(checked_all(LAB, dict(zip(LAB, values, strict=True)), WHAT).values())


def position(value: Any, what: str = "The kernel position") -> int:
    """A kernel position or a stamp: a whole number from 0 (the lab clamps it)."""
    return whole(value, what, 0, 10**6, 0)


def lab(values: tuple, step: Any = 0, stamp: Any = 0) -> LabView:
    """The lab for (size, k, s, p, op, input kind, kernel kind, seed) at a kernel position
    and a stamp. Raises InputError for a bad value, ValueError (starting with
    :data:`REFUSED`) for parameters PyTorch refuses."""
    size, k, s, p, op, input_kind, kernel_kind, seed = checked_lab(*values)
    step, stamp = position(step), position(stamp, "The stamp")
    try:
        return lab_view(size, k, s, p, op, step, input_kind, kernel_kind, seed, stamp)
    except ValueError as error:
        raise ValueError(f"{REFUSED} {error}") from None


def lab_or_none(values: tuple, step: Any = 0, stamp: Any = 0) -> LabView | None:
    """:func:`lab`, or None for values it refuses (a page that already shows why)."""
    try:
        return lab(values, step, stamp)
    except ValueError:
        return None


def taps_chart(demo: Any) -> Any:
    """The two tap-count maps of a checkerboard demo as one interactive chart."""
    return charts.taps_figure(
        {
            "ConvTranspose (interior)": demo.convt_interior.numpy(),
            "nearest upsample + conv": demo.resize_counts.numpy(),
        }
    )


def checkerboard(k: Any, s: Any, size: Any) -> tuple[Any, str]:
    """(the tap-count chart, its explanation); raises as :func:`lab` does."""
    k, s, size = checked_all(CHECKERBOARD, {"k": k, "s": s, "size": size}, WHAT).values()
    try:
        demo = checkerboard_demo(k, s, size)
    except ValueError as error:
        raise ValueError(f"{REFUSED} {error}") from None
    return taps_chart(demo), demo.explanation


@dataclass
class ModelView:
    """Two untrained generators' outputs: pictures named by :data:`MODEL_NAMES`, the chart of
    both spectra and a summary."""

    pictures: tuple[np.ndarray, ...]
    spectra: Any
    summary: str


def model(seed: Any) -> ModelView:
    """:func:`model_checkerboard_demo` as pictures, a chart and a summary."""
    convt, resize = model_checkerboard_demo(checked_all(MODEL, {"seed": seed}, WHAT)["seed"])
    spectra = charts.spectrum_figure(
        {
            "ConvTranspose: spectrum": convt.spectrum_values,
            "resize-conv: spectrum": resize.spectrum_values,
        },
        period=convt.period,
    )
    summary = (
        f"**ConvTranspose generator:** {convt.summary}  \n"
        f"**Resize-conv generator:** {resize.summary}"
    )
    return ModelView(
        (convt.image, convt.high_pass, resize.image, resize.high_pass), spectra, summary
    )


def refusal(error: ValueError) -> str:
    """A refusal as a page's "⚠️" line (PyTorch's refusals in bold)."""
    text = str(error)
    if text.startswith(REFUSED):
        return ERROR_PREFIX + text.removeprefix(REFUSED).strip()
    return f"⚠️ {text}"


def step_by(step: Any, delta: int, n_steps: Any) -> int:
    """◀ / ▶: the kernel position ``delta`` steps on, within 0..n_steps − 1 (0 for bad values)."""
    try:
        step, n_steps = position(step), position(n_steps)
    except ValueError:
        return 0
    return move_step(step, delta, n_steps)


def tick(step: Any, n_steps: int) -> tuple[int, bool]:
    """One tick of play: (the next kernel position, whether to play on); stops at the last."""
    nxt = move_step(step, +1, n_steps)
    return nxt, nxt < n_steps - 1


def play(playing: bool, step: int, n_steps: int) -> tuple[bool, int]:
    """Play / pause: (playing, step to show); playing from the last step starts again."""
    playing = not playing
    return playing, 0 if playing and int(step) >= n_steps - 1 else int(step)


def play_label(playing: bool) -> str:
    """The play button: what pressing it does next."""
    return "⏸ pause" if playing else "▶ play"
