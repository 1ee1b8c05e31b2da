"""The transposed-convolution lab: pure functions behind the "Transposed convolution" tab.

A transposed convolution (``torch.nn.ConvTranspose2d``, sometimes wrongly called
"deconvolution") is how most DCGAN-style generators grow a 4x4 feature map into a 64x64
image. This module opens it up in two equivalent ways:

1. **Zero insertion + ordinary convolution** (:func:`transposed_conv_trace`).
   For stride ``s``, padding ``p``, output padding ``op`` and kernel size ``k``:

   * put ``s - 1`` zeros between neighbouring input pixels,
   * pad that grid with ``k - p - 1`` zeros on every side (plus ``op`` extra rows/columns
     at the bottom/right),
   * slide the kernel, flipped by 180°, over it with stride 1 (an ordinary convolution).

2. **Scatter** (:func:`scatter_view`). Every input pixel stamps a copy of the kernel,
   scaled by the pixel's value, onto the output canvas at ``(i·s, j·s)``; overlapping stamps
   add up; finally ``p`` rows/columns are cropped from every side.

Both give exactly what ``torch.nn.functional.conv_transpose2d`` gives (tested in
``tests/test_convlab.py``), and both give the output size

    H_out = (H_in − 1)·s − 2·p + d·(k − 1) + op + 1            (d = dilation, usually 1)

The second half of the module is the **checkerboard** demo: when ``k`` is not divisible by
``s`` the stamps of the scatter view overlap unevenly, so some output pixels receive more
kernel taps than their neighbours, and a periodic pattern appears
(Odena, Dumoulin & Olah, "Deconvolution and Checkerboard Artifacts", Distill 2016).
Nearest-neighbour upsampling followed by an ordinary convolution ("resize-conv") does not
have this problem.

Nothing here imports gradio: the tab in ``explorer/tabs/convlab.py`` only wires these
functions to widgets, so every number on screen comes from the code below.
"""

from __future__ import annotations

import html
import math
import operator
from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "CellRole",
    "NO_ROLE",
    "WindowStep",
    "ConvTransposeTrace",
    "ScatterStamp",
    "ScatterView",
    "LabView",
    "CheckerboardDemo",
    "ArtifactView",
    "OUTPUT_SIZE_SYMBOLS",
    "INPUT_KINDS",
    "KERNEL_KINDS",
    "check_params",
    "output_size",
    "output_size_formula",
    "size_walkthrough",
    "example_input",
    "example_kernel",
    "insert_zeros",
    "flip_kernel",
    "transposed_conv_trace",
    "torch_reference",
    "max_abs_diff_vs_torch",
    "scatter_view",
    "grid_html",
    "legend_html",
    "with_style",
    "trace_step_html",
    "step_equation",
    "scatter_step_html",
    "lab_view",
    "move_step",
    "checkerboard_demo",
    "artifact_view",
    "tiny_generators",
    "model_checkerboard_demo",
    "to_uint8_image",
]


# --------------------------------------------------------------------------------------
# 1. Parameters and the output-size formula
# --------------------------------------------------------------------------------------

#: The output-size formula in symbols (dilation 1), shown above the numbers.
OUTPUT_SIZE_SYMBOLS = "H_out = (H_in − 1)·s − 2·p + k + output_padding"


def _as_int(name: str, value: object) -> int:
    """Return ``value`` as an int; accept 3 and 3.0 (what a UI slider sends), reject 2.5."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"{name} must be a whole number, got {value}")
        return int(value)
    try:
        return operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise ValueError(f"{name} must be an integer, got {value!r}") from None


def _size_terms(n: int, k: int, s: int, p: int, op: int, d: int) -> list[tuple[str, int]]:
    """The signed terms of the output-size formula, each with its rendered text.

    ``output_size`` adds the numbers and ``output_size_formula`` joins the texts, so the
    number on screen and the number used by the code cannot disagree.
    """
    terms = [(f"({n} − 1)·{s}", (n - 1) * s), (f"2·{p}", -2 * p)]
    if d == 1:
        terms.append((f"{k}", k))  # d·(k − 1) + 1 = k when d = 1
        terms.append((f"{op}", op))
    else:
        terms.append((f"{d}·({k} − 1)", d * (k - 1)))
        terms.append((f"{op}", op))
        terms.append(("1", 1))
    return terms


def _render_terms(terms: list[tuple[str, int]]) -> str:
    text = terms[0][0]
    for label, value in terms[1:]:
        text += f" − {label}" if value < 0 else f" + {label}"
    return text


def check_params(
    n: int, k: int, s: int, p: int, output_padding: int = 0, dilation: int = 1
) -> None:
    """Raise ``ValueError`` wherever ``F.conv_transpose2d`` would refuse these parameters.

    PyTorch's rules (checked by trying them on torch 2.x):

    * stride ``s >= 1``, dilation ``d >= 1``, padding ``p >= 0``, output padding ``op >= 0``;
    * ``op < s`` or ``op < d`` ("output padding must be smaller than either stride or
      dilation"): ``op`` only chooses among the ``s`` input-compatible output sizes;
    * the output size must be at least 1 ("Output size is too small").

    Note that PyTorch does *not* require ``p <= k − 1``: a larger ``p`` simply crops more.
    In the zero-insertion view the "padding" ``k − p − 1`` is then negative, i.e. a crop;
    :func:`transposed_conv_trace` handles that too.
    """
    n, k, s, p = (_as_int(a, v) for a, v in (("input size", n), ("k", k), ("s", s), ("p", p)))
    op = _as_int("output_padding", output_padding)
    d = _as_int("dilation", dilation)
    if n < 1:
        raise ValueError(f"input size must be >= 1, got {n}")
    if k < 1:
        raise ValueError(f"kernel size k must be >= 1, got {k}")
    if s < 1:
        raise ValueError(f"stride s must be >= 1 (PyTorch: non-positive stride), got {s}")
    if d < 1:
        raise ValueError(f"dilation must be >= 1, got {d}")
    if p < 0:
        raise ValueError(f"padding p must be >= 0 (PyTorch: negative padding), got {p}")
    if op < 0:
        raise ValueError(f"output_padding must be >= 0, got {op}")
    if not (op < s or op < d):
        raise ValueError(
            f"output_padding must be smaller than the stride (or the dilation): got "
            f"output_padding={op}, s={s}, dilation={d}. With stride s, s different output "
            f"sizes map back to the same input size; output_padding (0 … s−1) picks one."
        )
    terms = _size_terms(n, k, s, p, op, d)
    size = sum(v for _, v in terms)
    if size < 1:
        raise ValueError(
            f"output size {_render_terms(terms)} = {size} is too small (PyTorch: 'Output size "
            f"is too small'); use less padding p or a bigger input"
        )


def output_size(n: int, k: int, s: int, p: int, output_padding: int = 0, dilation: int = 1) -> int:
    """Output height (or width) of ``ConvTranspose2d``: ``(n−1)·s − 2·p + d·(k−1) + op + 1``.

    >>> output_size(4, k=3, s=2, p=1, output_padding=1)
    8
    """
    check_params(n, k, s, p, output_padding, dilation)
    terms = _size_terms(*(int(v) for v in (n, k, s, p, output_padding, dilation)))
    return sum(v for _, v in terms)


def output_size_formula(
    n: int, k: int, s: int, p: int, output_padding: int = 0, dilation: int = 1
) -> str:
    """The output-size formula with the numbers substituted, from the same terms as
    :func:`output_size`.

    >>> output_size_formula(4, k=3, s=2, p=1, output_padding=1)
    '(4 − 1)·2 − 2·1 + 3 + 1 = 8'
    """
    check_params(n, k, s, p, output_padding, dilation)
    terms = _size_terms(*(int(v) for v in (n, k, s, p, output_padding, dilation)))
    return f"{_render_terms(terms)} = {sum(v for _, v in terms)}"


def size_walkthrough(
    n: int, k: int, s: int, p: int, output_padding: int = 0, dilation: int = 1
) -> list[str]:
    """The same size, reached step by step through the zero-insertion view.

    Returns one line per step (Markdown), e.g. for n=4, k=3, s=2, p=1, op=1::

        insert s − 1 = 1 zero between pixels: (4 − 1)·2 + 1 = 7
        pad k − p − 1 = 1 on each side, + output_padding 1 bottom/right: 7 + 1 + 1 + 1 = 10
        slide the 3×3 kernel with stride 1: 10 − 3 + 1 = 8  ← the output size
    """
    out = output_size(n, k, s, p, output_padding, dilation)  # validates
    K = dilation * (k - 1) + 1  # effective (dilated) kernel size
    zi = (n - 1) * s + 1
    before = K - p - 1
    after = before + output_padding
    padded = zi + before + after
    pad_text = "k − p − 1" if dilation == 1 else "d·(k − 1) − p"
    pad_nums = f"{k} − {p} − 1" if dilation == 1 else f"{dilation}·({k} − 1) − {p}"
    lines = [
        f"insert s − 1 = {s - 1} zero{'s' if s - 1 != 1 else ''} between pixels: "
        f"({n} − 1)·{s} + 1 = **{zi}**",
    ]
    if before >= 0:
        lines.append(
            f"pad {pad_text} = {pad_nums} = {before} on each side, + output_padding "
            f"{output_padding} at the bottom/right: {zi} + {before} + {before} + "
            f"{output_padding} = **{padded}**"
        )
    else:
        lines.append(
            f"{pad_text} = {pad_nums} = {_fmt(before)} is negative: crop {-before} on each side "
            f"instead of padding, + output_padding {output_padding} at the bottom/right: "
            f"{zi} − {-before} − {-before} + {output_padding} = **{padded}**"
        )
    kernel_text = f"{k}×{k}" if dilation == 1 else f"{k}×{k} (dilated to {K}×{K})"
    lines.append(
        f"slide the flipped {kernel_text} kernel with stride 1: {padded} − {K} + 1 = **{out}** "
        f"← the output size"
    )
    assert padded - K + 1 == out, "the two size computations must agree"
    return lines


# --------------------------------------------------------------------------------------
# 2. Example inputs for the lab
# --------------------------------------------------------------------------------------

#: Input patterns the lab offers (name -> short description).
INPUT_KINDS = {
    "counting": "1, 2, 3, … row by row: every pixel is easy to follow",
    "single pixel": "one 1 in the middle: the output is the kernel itself, stamped once",
    "ones": "all ones: shows how many kernel taps each output pixel gets",
    "random integers": "integers from −3 to 3",
}
#: Kernel patterns the lab offers.
KERNEL_KINDS = {
    "counting": "1, 2, 3, … row by row: shows the 180° flip",
    "ones": "all ones",
    "random integers": "integers from −2 to 2",
}


def example_input(size: int, kind: str = "counting", seed: int = 0) -> Tensor:
    """A small ``(size, size)`` float64 input with integer values (so sums are exact)."""
    size = _as_int("input size", size)
    if size < 1:
        raise ValueError(f"input size must be >= 1, got {size}")
    if kind == "counting":
        return torch.arange(1, size * size + 1, dtype=torch.float64).reshape(size, size)
    if kind == "single pixel":
        x = torch.zeros(size, size, dtype=torch.float64)
        x[size // 2, size // 2] = 1.0
        return x
    if kind == "ones":
        return torch.ones(size, size, dtype=torch.float64)
    if kind == "random integers":
        g = torch.Generator().manual_seed(int(seed))
        return torch.randint(-3, 4, (size, size), generator=g).to(torch.float64)
    raise ValueError(f"unknown input kind {kind!r}; choose one of {list(INPUT_KINDS)}")


def example_kernel(k: int, kind: str = "counting", seed: int = 0) -> Tensor:
    """A ``(1, 1, k, k)`` float64 kernel, laid out as ``ConvTranspose2d.weight``:
    ``(C_in, C_out, k, k)``."""
    k = _as_int("k", k)
    if k < 1:
        raise ValueError(f"kernel size k must be >= 1, got {k}")
    if kind == "counting":
        w = torch.arange(1, k * k + 1, dtype=torch.float64).reshape(k, k)
    elif kind == "ones":
        w = torch.ones(k, k, dtype=torch.float64)
    elif kind == "random integers":
        g = torch.Generator().manual_seed(int(seed) + 1)
        w = torch.randint(-2, 3, (k, k), generator=g).to(torch.float64)
    else:
        raise ValueError(f"unknown kernel kind {kind!r}; choose one of {list(KERNEL_KINDS)}")
    return w.reshape(1, 1, k, k)


# --------------------------------------------------------------------------------------
# 3. The trace: zero insertion, padding, flipped kernel, sliding window
# --------------------------------------------------------------------------------------


class CellRole(IntEnum):
    """What a cell of the zero-inserted / padded grid is (used to colour the tables)."""

    PAD = 0  #: padding added around the grid (k − p − 1 per side, + output_padding)
    INSERTED = 1  #: one of the s − 1 zeros inserted between input pixels
    INPUT = 2  #: an original input pixel


#: A role code meaning "plain cell, no role colour" (for :func:`grid_html`).
NO_ROLE = -1


@dataclass(frozen=True)
class WindowStep:
    """One position of the sliding kernel = one output value."""

    index: int  #: position in the animation (0-based)
    out_channel: int  #: which output channel this step computes
    row: int  #: top-left row of the window in the padded grid (= output row)
    col: int  #: top-left column of the window in the padded grid (= output column)
    window: Tensor  #: (C_in, K, K) the padded-grid values under the kernel
    product_sum: float  #: Σ window ⊙ flipped_kernel[out_channel]  = output[out_channel, row, col]


@dataclass(frozen=True)
class ConvTransposeTrace:
    """Everything ``conv_transpose2d`` does, kept so a UI can show it step by step.

    Shapes (C_in input channels, C_out output channels, K = d·(k − 1) + 1):

    * ``x``             (C_in, H, W)
    * ``weight``        (C_in, C_out, k, k)   the ``ConvTranspose2d.weight`` layout
    * ``zero_inserted`` (C_in, (H−1)·s + 1, (W−1)·s + 1)
    * ``padded``        (C_in, H_p, W_p) with H_p = (H−1)·s + 1 + 2·(K − p − 1) + op
    * ``flipped_kernel``(C_out, C_in, K, K)   weight with in/out swapped, rotated 180°
    * ``output``        (C_out, H_out, W_out) with H_out = H_p − K + 1
    """

    x: Tensor
    weight: Tensor
    stride: int
    padding: int
    output_padding: int
    dilation: int
    zero_inserted: Tensor
    zero_inserted_roles: Tensor  #: (H_z, W_z) int64 CellRole values
    pad_before: int  #: K − p − 1 rows/cols added at the top/left (negative = cropped)
    pad_after: int  #: K − p − 1 + output_padding rows/cols added at the bottom/right
    padded: Tensor
    padded_roles: Tensor  #: (H_p, W_p) int64 CellRole values
    flipped_kernel: Tensor
    steps: list[WindowStep]
    output: Tensor
    input_was_2d: bool  #: the caller passed x as (H, W)

    @property
    def kernel_size(self) -> int:
        """k, the kernel size as given."""
        return int(self.weight.shape[-1])

    @property
    def effective_kernel_size(self) -> int:
        """K = d·(k − 1) + 1, the size of the (dilated) kernel window."""
        return int(self.flipped_kernel.shape[-1])

    @property
    def output_like_input(self) -> Tensor:
        """The output as (H_out, W_out) if x was (H, W) and C_out is 1, else (C_out, H, W)."""
        if self.input_was_2d and self.output.shape[0] == 1:
            return self.output[0]
        return self.output


def _pad_or_crop(t: Tensor, before: int, after: int, value: float = 0.0) -> Tensor:
    """Pad (positive amounts) or crop (negative amounts) the last two dims of ``t``:
    ``before`` rows/cols at the top/left, ``after`` at the bottom/right."""
    # F.pad takes (left, right, top, bottom) for the last two dims; negative values crop.
    return F.pad(t, (before, after, before, after), value=value)


def _normalise_operands(x: Tensor, weight: Tensor) -> tuple[Tensor, Tensor, bool]:
    """Bring x to (C_in, H, W) and weight to (C_in, C_out, k, k), both float64."""
    if not isinstance(x, Tensor) or not isinstance(weight, Tensor):
        raise ValueError("x and weight must be torch tensors")
    was_2d = x.dim() == 2
    if was_2d:
        x = x.unsqueeze(0)  # (H, W) -> (1, H, W)
    if x.dim() != 3:
        raise ValueError(f"x must be (H, W) or (C_in, H, W), got shape {tuple(x.shape)}")
    if weight.dim() == 2:
        weight = weight.reshape(1, 1, *weight.shape)  # (k, k) -> (1, 1, k, k)
    if weight.dim() != 4:
        raise ValueError(
            f"weight must be (C_in, C_out, k, k) (or (k, k) for one channel), "
            f"got shape {tuple(weight.shape)}"
        )
    if weight.shape[-1] != weight.shape[-2]:
        raise ValueError(f"the lab uses square kernels, got {tuple(weight.shape[-2:])}")
    if weight.shape[0] != x.shape[0]:
        raise ValueError(
            f"weight has C_in = {weight.shape[0]} but x has {x.shape[0]} channels "
            f"(ConvTranspose2d.weight is laid out (C_in, C_out, k, k))"
        )
    return x.to(torch.float64), weight.to(torch.float64), was_2d


def insert_zeros(x: Tensor, stride: int) -> Tensor:
    """Put ``stride − 1`` zeros between neighbouring pixels of ``x`` (last two dims).

    (…, H, W) -> (…, (H − 1)·s + 1, (W − 1)·s + 1); ``x[..., i, j]`` lands at ``(i·s, j·s)``.
    """
    *lead, h, w = x.shape
    out = x.new_zeros(*lead, (h - 1) * stride + 1, (w - 1) * stride + 1)
    out[..., ::stride, ::stride] = x
    return out


def flip_kernel(weight: Tensor, dilation: int = 1) -> Tensor:
    """The kernel an ordinary convolution needs to reproduce ``conv_transpose2d``.

    (C_in, C_out, k, k) -> (C_out, C_in, K, K): swap the channel axes, rotate each k×k
    kernel by 180° (flip rows and columns), and for dilation d > 1 spread the taps d apart
    (K = d·(k − 1) + 1).
    """
    flipped = weight.transpose(0, 1).flip(-2, -1)  # (C_out, C_in, k, k)
    if dilation == 1:
        return flipped.contiguous()
    k = weight.shape[-1]
    big = (k - 1) * dilation + 1
    dilated = flipped.new_zeros(*flipped.shape[:2], big, big)
    dilated[..., ::dilation, ::dilation] = flipped
    return dilated


def transposed_conv_trace(
    x: Tensor,
    weight: Tensor,
    stride: int = 1,
    padding: int = 0,
    output_padding: int = 0,
    dilation: int = 1,
) -> ConvTransposeTrace:
    """Compute ``conv_transpose2d(x, weight, stride, padding, output_padding, dilation)``
    the long way, keeping every intermediate grid and every kernel position.

    Args:
        x: (H, W) or (C_in, H, W) input.
        weight: (C_in, C_out, k, k), exactly like ``nn.ConvTranspose2d.weight``
            ((k, k) is accepted when there is one channel).
        stride, padding, output_padding, dilation: as in ``nn.ConvTranspose2d``
            (validated with :func:`check_params`, PyTorch's rules).

    The recipe (all in float64):

    1. ``zero_inserted``: s − 1 zeros between pixels.
    2. ``padded``: K − p − 1 zeros on every side (K = d·(k−1) + 1, i.e. k − p − 1 for
       d = 1), plus ``output_padding`` more at the bottom/right. A negative amount crops.
    3. ``flipped_kernel``: in/out channels swapped, rotated 180°.
    4. Slide the flipped kernel over ``padded`` with stride 1; each position's product sum
       is one output value.
    """
    x, weight, was_2d = _normalise_operands(x, weight)
    s, p, op, d = (
        _as_int(a, v)
        for a, v in (
            ("stride", stride),
            ("padding", padding),
            ("output_padding", output_padding),
            ("dilation", dilation),
        )
    )
    k = weight.shape[-1]
    c_in, h, w = x.shape
    check_params(h, k, s, p, op, d)
    check_params(w, k, s, p, op, d)

    # 1. zero insertion: (C_in, H, W) -> (C_in, H_z, W_z), H_z = (H − 1)·s + 1
    zero_inserted = insert_zeros(x, s)
    roles = torch.full((h, w), int(CellRole.INPUT), dtype=torch.int64)
    zero_inserted_roles = insert_zeros(roles, s)  # inserted cells get 0 …
    zero_inserted_roles[zero_inserted_roles == 0] = int(CellRole.INSERTED)  # … = INSERTED

    # 2. padding: K − p − 1 on each side, + output_padding at the bottom/right
    K = d * (k - 1) + 1
    before = K - p - 1
    after = before + op
    padded = _pad_or_crop(zero_inserted, before, after, value=0.0)  # (C_in, H_p, W_p)
    padded_roles = _pad_or_crop(zero_inserted_roles, before, after, value=int(CellRole.PAD))

    # 3. the flipped kernel: (C_in, C_out, k, k) -> (C_out, C_in, K, K)
    flipped = flip_kernel(weight, d)
    c_out = flipped.shape[0]

    # 4. ordinary (stride-1) convolution, one window at a time
    h_out = padded.shape[-2] - K + 1
    w_out = padded.shape[-1] - K + 1
    assert (h_out, w_out) == (output_size(h, k, s, p, op, d), output_size(w, k, s, p, op, d))
    output = torch.zeros(c_out, h_out, w_out, dtype=torch.float64)
    steps: list[WindowStep] = []
    for o in range(c_out):
        for r in range(h_out):
            for c in range(w_out):
                window = padded[:, r : r + K, c : c + K]  # (C_in, K, K)
                value = (window * flipped[o]).sum()  # Σ over C_in, K, K
                output[o, r, c] = value
                steps.append(WindowStep(len(steps), o, r, c, window, float(value)))

    return ConvTransposeTrace(
        x=x,
        weight=weight,
        stride=s,
        padding=p,
        output_padding=op,
        dilation=d,
        zero_inserted=zero_inserted,
        zero_inserted_roles=zero_inserted_roles,
        pad_before=before,
        pad_after=after,
        padded=padded,
        padded_roles=padded_roles,
        flipped_kernel=flipped,
        steps=steps,
        output=output,
        input_was_2d=was_2d,
    )


def torch_reference(trace: ConvTransposeTrace) -> Tensor:
    """``F.conv_transpose2d`` on the trace's input and weight: (C_out, H_out, W_out)."""
    return F.conv_transpose2d(
        trace.x.unsqueeze(0),  # (1, C_in, H, W): PyTorch wants a batch axis
        trace.weight,
        stride=trace.stride,
        padding=trace.padding,
        output_padding=trace.output_padding,
        dilation=trace.dilation,
    )[0]


def max_abs_diff_vs_torch(trace: ConvTransposeTrace) -> float:
    """max |trace.output − F.conv_transpose2d(...)| (0.0 for integer inputs)."""
    return float((trace.output - torch_reference(trace)).abs().max())


# --------------------------------------------------------------------------------------
# 4. The scatter view: every input pixel stamps a scaled kernel
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScatterStamp:
    """One input pixel's contribution: ``x[c, i, j] · weight[c, :]`` added at (top, left)."""

    index: int
    in_channel: int
    row: int  #: input row i
    col: int  #: input column j
    value: float  #: x[c, i, j]
    top: int  #: i·s, top row of the stamp on the canvas
    left: int  #: j·s


@dataclass(frozen=True)
class ScatterView:
    """The "scatter" way to compute a transposed convolution.

    * ``canvas``  (C_out, H_c, W_c), H_c = (H − 1)·s + K + op: all stamps added up
    * ``output``  = canvas[:, p : p + H_out, p : p + W_out]  (crop p on every side)
    """

    x: Tensor
    weight: Tensor  #: (C_in, C_out, K, K), dilated if d > 1 (not flipped!)
    stride: int
    padding: int
    stamps: list[ScatterStamp]
    canvas: Tensor
    output: Tensor


def scatter_view(
    x: Tensor,
    weight: Tensor,
    stride: int = 1,
    padding: int = 0,
    output_padding: int = 0,
    dilation: int = 1,
) -> ScatterView:
    """Compute the transposed convolution by stamping: pixel ``x[c, i, j]`` adds
    ``x[c, i, j] · weight[c, o]`` to output channel ``o`` at rows ``i·s … i·s + K − 1``.

    This is why it is called the *transpose*: an ordinary strided convolution gathers a
    K×K patch into one pixel; this scatters one pixel into a K×K patch.
    """
    x, weight, _ = _normalise_operands(x, weight)
    s, p, op, d = (
        _as_int(a, v)
        for a, v in (
            ("stride", stride),
            ("padding", padding),
            ("output_padding", output_padding),
            ("dilation", dilation),
        )
    )
    c_in, h, w = x.shape
    k = weight.shape[-1]
    check_params(h, k, s, p, op, d)
    check_params(w, k, s, p, op, d)
    if d > 1:  # spread the taps d apart (no flip here: scattering uses the kernel as is)
        big = (k - 1) * d + 1
        dilated = weight.new_zeros(*weight.shape[:2], big, big)
        dilated[..., ::d, ::d] = weight
        weight = dilated
    K = weight.shape[-1]
    c_out = weight.shape[1]
    canvas = torch.zeros(c_out, (h - 1) * s + K + op, (w - 1) * s + K + op, dtype=torch.float64)
    stamps: list[ScatterStamp] = []
    for c in range(c_in):
        for i in range(h):
            for j in range(w):
                top, left = i * s, j * s
                canvas[:, top : top + K, left : left + K] += x[c, i, j] * weight[c]  # (C_out,K,K)
                stamps.append(ScatterStamp(len(stamps), c, i, j, float(x[c, i, j]), top, left))
    h_out, w_out = output_size(h, k, s, p, op, d), output_size(w, k, s, p, op, d)
    output = canvas[:, p : p + h_out, p : p + w_out]
    return ScatterView(x, weight, s, p, stamps, canvas, output)


# --------------------------------------------------------------------------------------
# 5. Rendering: HTML tables that work in light and dark themes
# --------------------------------------------------------------------------------------

# Colours are semi-transparent and the text colour is inherited, so the same HTML reads well
# on a white and on a near-black page. Cells carry one-letter classes (the tables can have
# ~2000 cells, sent again at every step); the style sheet below travels with every render
# and is scoped to ``.cl-lab`` so it touches nothing else on the page. The role rules are
# written ``td.x`` so they are more specific than the base cell rule.
_AMBER = "#f59e0b"
_CLASS = {  # CellRole -> CSS class
    CellRole.INPUT: "i",  # input pixel: blue, bold
    CellRole.INSERTED: "z",  # inserted zero: grey text, faint fill
    CellRole.PAD: "p",  # padding: grey text, hatched
}
_CSS = f"""<style>
.cl-lab table.cl-g{{border-collapse:collapse;width:auto;margin:0;font-size:13px;line-height:1.2;
 font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}}
.cl-lab .cl-g td,.cl-lab .cl-sw{{min-width:2.3em;height:1.9em;padding:1px 4px;text-align:center;
 vertical-align:middle;border:1px solid rgba(128,128,128,.45);color:inherit;
 background:transparent;font-variant-numeric:tabular-nums}}
.cl-lab .cl-sw{{display:inline-block;min-width:1.6em;height:1.2em;padding:0}}
.cl-lab .cl-g td.i,.cl-lab .cl-sw.i{{background:rgba(59,130,246,.25);font-weight:700}}
.cl-lab .cl-g td.z,.cl-lab .cl-sw.z{{color:#8c8c8c;background:rgba(128,128,128,.10)}}
.cl-lab .cl-g td.p,.cl-lab .cl-sw.p{{color:#8c8c8c;background:repeating-linear-gradient(45deg,
 rgba(128,128,128,.22) 0 3px,rgba(128,128,128,.06) 3px 7px)}}
.cl-lab .cl-g td.n{{color:#8c8c8c}}
.cl-lab .cl-g td.o,.cl-lab .cl-sw.o{{box-shadow:inset 0 0 0 2px {_AMBER}}}
.cl-lab .cl-g td.w,.cl-lab .cl-sw.w{{box-shadow:inset 0 0 0 40px rgba(245,158,11,.30),
 inset 0 0 0 2px {_AMBER}}}
.cl-lab .cl-panel{{display:inline-block;vertical-align:top}}
.cl-lab .cl-title{{font-weight:700;margin-bottom:2px}}
.cl-lab .cl-sub{{font-size:12px;opacity:.8;margin-bottom:4px}}
.cl-lab .cl-row{{display:flex;flex-wrap:wrap;gap:18px;align-items:flex-start}}
</style>"""


def with_style(body: str) -> str:
    """Put rendered tables (e.g. from :func:`grid_html`) inside the lab's scoped style sheet."""
    return f'<div class="cl-lab">{_CSS}{body}</div>'


def _fmt(v: float) -> str:
    """Short number text: 3 for 3.0, 2.25 for 2.25, −1.5 with a real minus sign."""
    if math.isfinite(v) and float(v).is_integer():
        text = str(int(v))
    else:
        text = f"{v:.3g}" if abs(v) < 1000 else f"{v:.0f}"
    return text.replace("-", "−")


def grid_html(
    values: Tensor,
    roles: Tensor | None = None,
    window: tuple[int, int, int, int] | None = None,
    outlined: set[tuple[int, int]] | None = None,
    shown: Tensor | None = None,
    titles: dict[tuple[int, int], str] | None = None,
) -> str:
    """One (H, W) grid of numbers as an HTML table.

    Args:
        values: (H, W) numbers.
        roles: (H, W) :class:`CellRole` codes (or ``NO_ROLE``); colours input /
            inserted-zero / padding cells.
        window: (top, left, height, width): cells filled amber (the kernel's position).
        The table uses the classes of the lab's style sheet: show it inside
        ``trace_step_html``'s output or wrap it with :func:`with_style`.
        outlined: cells to outline in amber (e.g. the input pixels under the window).
        shown: (H, W) bool; False cells are drawn as "·" (not computed yet).
        titles: hover text per cell.
    """
    if values.dim() != 2:
        raise ValueError(f"grid_html wants an (H, W) grid, got {tuple(values.shape)}")
    h, w = values.shape
    rows = []
    for r in range(h):
        cells = []
        for c in range(w):
            classes = []
            if roles is not None and int(roles[r, c]) != NO_ROLE:
                classes.append(_CLASS[CellRole(int(roles[r, c]))])
            text = _fmt(float(values[r, c]))
            if shown is not None and not bool(shown[r, c]):
                text = "·"
                classes.append("n")
            if window is not None:
                top, left, wh, ww = window
                if top <= r < top + wh and left <= c < left + ww:
                    classes.append("w")
            if outlined and (r, c) in outlined:
                classes.append("o")
            cls = f' class="{" ".join(classes)}"' if classes else ""
            title = f' title="{html.escape(titles[(r, c)])}"' if titles and (r, c) in titles else ""
            cells.append(f"<td{cls}{title}>{text}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return '<table class="cl-g">' + "".join(rows) + "</table>"


def _panel(title: str, subtitle: str, body: str) -> str:
    return (
        '<div class="cl-panel">'
        f'<div class="cl-title">{html.escape(title)}</div>'
        f'<div class="cl-sub">{html.escape(subtitle)}</div>'
        f"{body}</div>"
    )


def _swatch(cls: str, label: str) -> str:
    return (
        '<span style="display:inline-flex;align-items:center;gap:4px;margin-right:14px">'
        f'<span class="cl-sw {cls}"></span>{html.escape(label)}</span>'
    )


def legend_html() -> str:
    """A one-line colour key for the lab's tables (wrap it with the style sheet to show it
    alone: it is included in :func:`trace_step_html`)."""
    return (
        '<div style="font-size:12px;margin:4px 0 10px 0">'
        + _swatch("i", "input pixel")
        + _swatch("z", "inserted zero")
        + _swatch("p", "padding")
        + _swatch("w", "kernel window / current output")
        + _swatch("o", "input pixels under the window")
        + "</div>"
    )


def _clamp_step(trace: ConvTransposeTrace, step_index: int) -> WindowStep:
    i = min(max(int(step_index), 0), len(trace.steps) - 1)
    return trace.steps[i]


def _input_position(trace: ConvTransposeTrace, r: int, c: int) -> tuple[int, int]:
    """Input pixel (i, j) that sits at padded-grid cell (r, c) (only valid for INPUT cells)."""
    s = trace.stride
    return (r - trace.pad_before) // s, (c - trace.pad_before) // s


def trace_step_html(trace: ConvTransposeTrace, step_index: int, channel: int = 0) -> str:
    """The whole lab for one kernel position, as HTML panels side by side:

    input → zero-inserted → padded (window highlighted) → flipped kernel → output so far.

    ``channel`` picks which input channel's grids to draw (the product sum uses them all).
    """
    step = _clamp_step(trace, step_index)
    c = int(channel)
    K = trace.effective_kernel_size
    k, s, p, op = trace.kernel_size, trace.stride, trace.padding, trace.output_padding
    c_in = trace.x.shape[0]
    ch = f" (channel {c} of {c_in})" if c_in > 1 else ""

    # input pixels under the window, in input coordinates and in padded coordinates
    under_padded: set[tuple[int, int]] = set()
    under_input: set[tuple[int, int]] = set()
    for r in range(step.row, step.row + K):
        for cc in range(step.col, step.col + K):
            if trace.padded_roles[r, cc] == CellRole.INPUT:
                under_padded.add((r, cc))
                under_input.add(_input_position(trace, r, cc))

    h, w = trace.x.shape[-2:]
    in_titles = {(i, j): f"x[{i},{j}]" for i in range(h) for j in range(w)}
    input_panel = _panel(
        f"1. input x{ch}",
        f"{h}×{w}",
        grid_html(trace.x[c], outlined=under_input, titles=in_titles),
    )
    zi = trace.zero_inserted
    zi_panel = _panel(
        "2. zeros inserted",
        f"s − 1 = {s - 1} between pixels → {zi.shape[-2]}×{zi.shape[-1]}",
        grid_html(zi[c], roles=trace.zero_inserted_roles),
    )
    pad_word = "pad" if trace.pad_before >= 0 else "crop"
    pad_amount = abs(trace.pad_before)
    pad_formula = "k − p − 1" if trace.dilation == 1 else "d·(k − 1) − p"
    pd = trace.padded
    padded_panel = _panel(
        "3. padded, kernel sliding",
        f"{pad_word} {pad_formula} = {pad_amount}, + output_padding {op} → "
        f"{pd.shape[-2]}×{pd.shape[-1]}",
        grid_html(
            pd[c],
            roles=trace.padded_roles,
            window=(step.row, step.col, K, K),
            outlined=under_padded,
        ),
    )
    fk = trace.flipped_kernel[step.out_channel, c]  # (K, K)
    orig = trace.weight[c, step.out_channel]  # (k, k)
    kernel_panel = _panel(
        "4. kernel, then flipped 180°",
        f"{k}×{k} as given | as used",
        '<div style="display:flex;gap:10px;align-items:flex-start">'
        + grid_html(orig)
        + '<span style="align-self:center">→</span>'
        + grid_html(fk, window=(0, 0, K, K))
        + "</div>",
    )
    out = trace.output[step.out_channel]  # (H_out, W_out)
    flat = torch.arange(out.numel()).reshape(out.shape)  # row-major position of each cell
    shown = flat <= step.row * out.shape[-1] + step.col  # computed so far in this channel
    out_ch = f" channel {step.out_channel}" if trace.output.shape[0] > 1 else ""
    out_panel = _panel(
        f"5. output{out_ch}",
        f"{out.shape[-2]}×{out.shape[-1]}: {output_size_formula(h, k, s, p, op, trace.dilation)}",
        grid_html(out, window=(step.row, step.col, 1, 1), shown=shown),
    )
    return with_style(
        legend_html()
        + '<div class="cl-row">'
        + "".join([input_panel, zi_panel, padded_panel, kernel_panel, out_panel])
        + "</div>"
    )


def step_equation(trace: ConvTransposeTrace, step_index: int) -> str:
    """The product sum of one kernel position, written out (Markdown).

    Only the taps that land on non-zero grid cells are listed; the rest multiply a zero.
    """
    step = _clamp_step(trace, step_index)
    kernel = trace.flipped_kernel[step.out_channel]  # (C_in, K, K)
    terms = []
    for idx in torch.nonzero(step.window != 0).tolist():
        ci, a, b = idx
        terms.append(f"{_fmt(float(step.window[ci, a, b]))}·{_fmt(float(kernel[ci, a, b]))}")
    n_taps = step.window.numel()
    where = f"y[{step.out_channel}, {step.row}, {step.col}]"
    head = f"**step {step.index + 1} of {len(trace.steps)}**: {where} = Σ window ⊙ flipped kernel"
    if not terms:
        return f"{head} = **0**: all {n_taps} taps land on inserted zeros or padding."
    zeros = n_taps - len(terms)
    tail = f" ({zeros} other taps land on zeros)" if zeros else ""
    return f"{head} = {' + '.join(terms)} = **{_fmt(step.product_sum)}**{tail}"


def scatter_step_html(view: ScatterView, stamp_index: int, out_channel: int = 0) -> str:
    """The scatter view after stamping input pixels 0 … ``stamp_index``: the canvas, the
    current stamp in amber, and the cells cropped by the padding p drawn as padding."""
    if not view.stamps:
        return ""
    i = min(max(int(stamp_index), 0), len(view.stamps) - 1)
    stamp = view.stamps[i]
    K = view.weight.shape[-1]
    _, hc, wc = view.canvas.shape
    o = int(out_channel)
    partial = torch.zeros(hc, wc, dtype=torch.float64)
    for st in view.stamps[: i + 1]:
        partial[st.top : st.top + K, st.left : st.left + K] += (
            st.value * view.weight[st.in_channel, o]
        )
    h_out, w_out = view.output.shape[-2:]
    p = view.padding
    roles = torch.full((hc, wc), int(CellRole.PAD), dtype=torch.int64)  # cropped by p …
    roles[p : p + h_out, p : p + w_out] = NO_ROLE  # … except the part that is kept
    table = grid_html(partial, roles=roles, window=(stamp.top, stamp.left, K, K))
    x = view.x[stamp.in_channel]
    in_table = grid_html(x, outlined={(stamp.row, stamp.col)})
    return with_style(
        '<div class="cl-row">'
        + _panel("input x", f"pixel ({stamp.row}, {stamp.col}) = {_fmt(stamp.value)}", in_table)
        + _panel(
            f"canvas after stamp {i + 1} of {len(view.stamps)}",
            f"x[{stamp.row},{stamp.col}]·kernel added at ({stamp.top}, {stamp.left}) = "
            f"(i·s, j·s); "
            + (f"hatched = cropped by p = {p}" if p else "p = 0: nothing is cropped"),
            table,
        )
        + "</div>"
    )


# --------------------------------------------------------------------------------------
# 6. One call for the tab: everything the step-by-step view shows
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LabView:
    """Everything the step-by-step part of the tab displays, as ready-made strings."""

    n_steps: int  #: number of kernel positions (the step slider's range)
    step: int  #: the step actually shown (clamped into range)
    formula_md: str  #: output-size formula with numbers, and the zero-insertion walk-through
    check_md: str  #: "matches F.conv_transpose2d: max |diff| = 0"
    steps_html: str  #: the five panels for this step
    equation_md: str  #: the product sum of this step
    n_stamps: int  #: number of scatter stamps (input pixels)
    scatter_html: str  #: the scatter view at stamp ``stamp``


def lab_view(
    size: int,
    k: int,
    s: int,
    p: int,
    output_padding: int,
    step: int = 0,
    input_kind: str = "counting",
    kernel_kind: str = "counting",
    seed: int = 0,
    stamp: int = 0,
) -> LabView:
    """Build the lab for one set of parameters (raises ValueError on invalid ones)."""
    size, k, s, p, op = (
        _as_int(a, v)
        for a, v in (("input size", size), ("k", k), ("s", s), ("p", p), ("op", output_padding))
    )
    x = example_input(size, input_kind, seed)  # (size, size)
    weight = example_kernel(k, kernel_kind, seed)  # (1, 1, k, k)
    trace = transposed_conv_trace(x, weight, s, p, op)
    shown = min(max(int(step), 0), len(trace.steps) - 1)
    diff = max_abs_diff_vs_torch(trace)
    verdict = "exactly equal" if diff == 0.0 else "equal up to float64 rounding"
    check_md = (
        f"✅ matches `torch.nn.functional.conv_transpose2d`: max |diff| = {diff:.3g} ({verdict})"
        if diff < 1e-9
        else f"❌ differs from `F.conv_transpose2d`: max |diff| = {diff:.3g}"
    )
    formula_md = (
        f"**Output size** `{OUTPUT_SIZE_SYMBOLS}`  \n"
        f"= {output_size_formula(size, k, s, p, op)}\n\n"
        "**The same size through the zero-insertion view**\n\n"
        + "\n".join(
            f"{i + 1}. {line}" for i, line in enumerate(size_walkthrough(size, k, s, p, op))
        )
    )
    view = scatter_view(x, weight, s, p, op)
    return LabView(
        n_steps=len(trace.steps),
        step=shown,
        formula_md=formula_md,
        check_md=check_md,
        steps_html=trace_step_html(trace, shown),
        equation_md=step_equation(trace, shown),
        n_stamps=len(view.stamps),
        scatter_html=scatter_step_html(view, stamp),
    )


def move_step(step: int, delta: int, n_steps: int) -> int:
    """The step index after pressing prev (−1) / next (+1), kept in 0 … n_steps − 1."""
    return min(max(int(step) + int(delta), 0), max(int(n_steps) - 1, 0))


# --------------------------------------------------------------------------------------
# 7. Checkerboard: uneven overlap of ConvTranspose vs resize-conv
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
    convt_image: np.ndarray  #: (H, W, 3) uint8, interior; grey = average taps, black = 0
    resize_image: np.ndarray  #: (H, W, 3) uint8, same mapping: grey = average taps
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
    # Brightness = taps / (2 · average taps of that map): mid-grey is "average", so a flat
    # map is uniformly grey and the two pictures can be compared directly.
    convt_img = to_uint8_image(
        interior, scale=_display_scale(*interior.shape), vmax=2 * float(interior.mean())
    )
    resize_img = to_uint8_image(
        resize, scale=_display_scale(*resize.shape), vmax=2 * float(resize.mean())
    )
    return CheckerboardDemo(
        kernel_size=k,
        stride=s,
        size=n,
        convt_counts=convt,
        convt_interior=interior,
        resize_counts=resize,
        axis_counts=axis_counts,
        convt_image=convt_img,
        resize_image=resize_img,
        explanation="\n\n".join(lines),
    )


# --------------------------------------------------------------------------------------
# 8. Periodic artefacts in a model's output
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
