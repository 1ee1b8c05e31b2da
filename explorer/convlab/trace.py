"""Transposed-convolution lab, part 2: the computation the long way, kept step by step.

:func:`transposed_conv_trace` (zero insertion, padding, flipped kernel, sliding window) and
:func:`scatter_view` (every input pixel stamps the kernel) both reproduce
``F.conv_transpose2d`` exactly (see :mod:`explorer.convlab`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import torch
import torch.nn.functional as F
from torch import Tensor

from explorer.convlab.sizes import _as_int, check_params, output_size

# --------------------------------------------------------------------------------------
# The trace: zero insertion, padding, flipped kernel, sliding window
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


def _layer_params(
    stride: object, padding: object, output_padding: object, dilation: object
) -> tuple[int, int, int, int]:
    """(s, p, op, d) as ints (3.0 from a slider is fine, 2.5 is refused)."""
    names = ("stride", "padding", "output_padding", "dilation")
    values = (stride, padding, output_padding, dilation)
    s, p, op, d = (_as_int(name, value) for name, value in zip(names, values, strict=True))
    return s, p, op, d


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
    s, p, op, d = _layer_params(stride, padding, output_padding, dilation)
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
# The scatter view: every input pixel stamps a scaled kernel
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
    s, p, op, d = _layer_params(stride, padding, output_padding, dilation)
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
