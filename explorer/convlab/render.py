"""Transposed-convolution lab, part 3: HTML tables of the trace and one call for the tab.

:func:`lab_view` builds everything the step-by-step view shows, as ready-made strings.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import torch
from torch import Tensor

from explorer.convlab.sizes import (
    OUTPUT_SIZE_SYMBOLS,
    _as_int,
    _fmt,
    example_input,
    example_kernel,
    output_size_formula,
    size_walkthrough,
)
from explorer.convlab.trace import (
    NO_ROLE,
    CellRole,
    ConvTransposeTrace,
    ScatterView,
    WindowStep,
    max_abs_diff_vs_torch,
    scatter_view,
    transposed_conv_trace,
)

# --------------------------------------------------------------------------------------
# Rendering: HTML tables that work in light and dark themes
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
# One call for the tab: everything the step-by-step view shows
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
