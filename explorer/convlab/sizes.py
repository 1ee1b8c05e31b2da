"""Transposed-convolution lab, part 1: PyTorch's parameter rules, the output-size formula and
the small example inputs and kernels (see :mod:`explorer.convlab`)."""

from __future__ import annotations

import math
import operator

import torch
from torch import Tensor

# --------------------------------------------------------------------------------------
# Parameters and the output-size formula
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
# Example inputs for the lab
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


def _fmt(v: float) -> str:
    """Short number text: 3 for 3.0, 2.25 for 2.25, −1.5 with a real minus sign."""
    if math.isfinite(v) and float(v).is_integer():
        text = str(int(v))
    else:
        text = f"{v:.3g}" if abs(v) < 1000 else f"{v:.0f}"
    return text.replace("-", "−")
