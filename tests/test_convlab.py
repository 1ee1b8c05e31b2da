"""Tests for the transposed-convolution lab (explorer/convlab.py and its tab)."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from explorer import convlab
from explorer.convlab import CellRole


def _int_tensor(*shape: int, seed: int = 0) -> torch.Tensor:
    """Integer-valued float64 tensor: every sum is exact, so results must be *equal*."""
    g = torch.Generator().manual_seed(seed)
    return torch.randint(-4, 5, shape, generator=g).to(torch.float64)


def _torch_raises(n: int, k: int, s: int, p: int, op: int, d: int = 1) -> bool:
    """Does F.conv_transpose2d itself refuse these parameters?"""
    try:
        F.conv_transpose2d(
            torch.ones(1, 1, n, n, dtype=torch.float64),
            torch.ones(1, 1, k, k, dtype=torch.float64),
            stride=s,
            padding=p,
            output_padding=op,
            dilation=d,
        )
    except RuntimeError:
        return True
    return False


# ---------------------------------------------------------------------------------------
# The trace equals F.conv_transpose2d
# ---------------------------------------------------------------------------------------

GRID = [
    (n, k, s, p, op)
    for n, k, s in itertools.product((1, 2, 3, 4), (1, 2, 3, 4), (1, 2, 3))
    for p in range(0, k + 1)  # p = k goes past k − 1: PyTorch allows it (it crops)
    for op in range(0, s)
]


def test_trace_equals_conv_transpose2d_over_grid() -> None:
    checked = 0
    for i, (n, k, s, p, op) in enumerate(GRID):
        if _torch_raises(n, k, s, p, op):
            with pytest.raises(ValueError):
                convlab.transposed_conv_trace(torch.ones(n, n), torch.ones(k, k), s, p, op)
            continue
        x = _int_tensor(n, n, seed=i)  # (n, n)
        w = _int_tensor(1, 1, k, k, seed=10_000 + i)  # (C_in, C_out, k, k)
        trace = convlab.transposed_conv_trace(x, w, s, p, op)
        expected = F.conv_transpose2d(x[None, None], w, stride=s, padding=p, output_padding=op)
        assert torch.equal(trace.output_like_input, expected[0, 0]), (n, k, s, p, op)
        assert convlab.max_abs_diff_vs_torch(trace) == 0.0
        checked += 1
    assert checked > 200  # the grid really ran


@pytest.mark.parametrize(
    ("c_in", "c_out", "h", "w", "k", "s", "p", "op", "d"),
    [
        (2, 3, 3, 4, 3, 2, 1, 1, 1),  # multi-channel, rectangular input
        (3, 2, 2, 2, 4, 2, 1, 0, 1),  # DCGAN's k=4, s=2, p=1 doubling layer
        (1, 2, 5, 3, 2, 3, 0, 2, 1),
        (2, 2, 3, 3, 3, 1, 0, 0, 2),  # dilation
        (2, 1, 3, 3, 2, 1, 1, 1, 2),  # output_padding < dilation (allowed although s = 1)
        (1, 1, 4, 4, 3, 2, 3, 1, 1),  # p > k − 1: negative "padding" = crop
    ],
)
def test_trace_multichannel_dilation_and_crop(
    c_in: int, c_out: int, h: int, w: int, k: int, s: int, p: int, op: int, d: int
) -> None:
    x = _int_tensor(c_in, h, w, seed=1)  # (C_in, H, W)
    weight = _int_tensor(c_in, c_out, k, k, seed=2)  # (C_in, C_out, k, k)
    trace = convlab.transposed_conv_trace(x, weight, s, p, op, d)
    expected = F.conv_transpose2d(
        x[None], weight, stride=s, padding=p, output_padding=op, dilation=d
    )[0]
    assert torch.equal(trace.output, expected)
    assert trace.output.shape == (
        c_out,
        convlab.output_size(h, k, s, p, op, d),
        convlab.output_size(w, k, s, p, op, d),
    )
    # the scatter view is a second, independent computation of the same thing
    assert torch.equal(convlab.scatter_view(x, weight, s, p, op, d).output, expected)


def test_random_float_inputs_agree_to_rounding() -> None:
    g = torch.Generator().manual_seed(3)
    x = torch.randn(2, 4, 4, generator=g, dtype=torch.float64)
    weight = torch.randn(2, 3, 3, 3, generator=g, dtype=torch.float64)
    trace = convlab.transposed_conv_trace(x, weight, 2, 1, 1)
    expected = F.conv_transpose2d(x[None], weight, stride=2, padding=1, output_padding=1)[0]
    assert float((trace.output - expected).abs().max()) < 1e-12


def test_steps_are_the_output_values() -> None:
    x, w = _int_tensor(2, 3, 3), _int_tensor(2, 2, 3, 3, seed=5)
    trace = convlab.transposed_conv_trace(x, w, 2, 1, 1)
    c_out, h_out, w_out = trace.output.shape
    assert len(trace.steps) == c_out * h_out * w_out
    K = trace.effective_kernel_size
    for step in trace.steps:
        assert step.window.shape == (2, K, K)
        assert torch.equal(
            step.window, trace.padded[:, step.row : step.row + K, step.col : step.col + K]
        )
        assert step.product_sum == trace.output[step.out_channel, step.row, step.col]
    assert [st.index for st in trace.steps] == list(range(len(trace.steps)))


# ---------------------------------------------------------------------------------------
# Output size and the formula string
# ---------------------------------------------------------------------------------------


def test_output_size_formula_example_and_shape() -> None:
    assert convlab.output_size(4, 3, 2, 1, 1) == 8
    assert convlab.output_size_formula(4, 3, 2, 1, 1) == "(4 − 1)·2 − 2·1 + 3 + 1 = 8"
    assert convlab.output_size_formula(4, 3, 2, 1, 1, dilation=2).endswith(" = 10")


def test_output_size_matches_tensor_shape_over_grid() -> None:
    for n, k, s, p, op in GRID:
        for d in (1, 2):
            if _torch_raises(n, k, s, p, op, d):
                continue
            y = F.conv_transpose2d(
                torch.ones(1, 1, n, n, dtype=torch.float64),
                torch.ones(1, 1, k, k, dtype=torch.float64),
                stride=s,
                padding=p,
                output_padding=op,
                dilation=d,
            )
            size = convlab.output_size(n, k, s, p, op, d)
            assert y.shape[-1] == size
            assert convlab.output_size_formula(n, k, s, p, op, d).endswith(f"= {size}")
            if d == 1:
                # the walk-through reaches the same number in its last line
                assert f"**{size}**" in convlab.size_walkthrough(n, k, s, p, op)[-1]


# ---------------------------------------------------------------------------------------
# Zero insertion, padding, flipped kernel
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "k", "s", "p", "op"), [(3, 3, 2, 1, 1), (2, 4, 3, 0, 2), (4, 2, 1, 0, 0)]
)
def test_zero_insertion_and_padding_grids(n: int, k: int, s: int, p: int, op: int) -> None:
    x = torch.arange(1.0, n * n + 1).reshape(n, n)  # no zeros in x: zeros come from the lab
    trace = convlab.transposed_conv_trace(x, torch.ones(1, 1, k, k), s, p, op)
    zi, zr = trace.zero_inserted[0], trace.zero_inserted_roles  # (H_z, W_z)
    hz = (n - 1) * s + 1
    assert zi.shape == zr.shape == (hz, hz)
    assert torch.equal(zi[::s, ::s], x)  # x[i, j] sits at (i·s, j·s)
    on_grid = torch.zeros(hz, hz, dtype=torch.bool)
    on_grid[::s, ::s] = True
    assert torch.all(zi[~on_grid] == 0)  # everything else is an inserted zero
    assert torch.all(zr[on_grid] == CellRole.INPUT)
    assert torch.all(zr[~on_grid] == CellRole.INSERTED)
    assert int((zr == CellRole.INSERTED).sum()) == hz * hz - n * n

    before = k - p - 1
    assert trace.pad_before == before and trace.pad_after == before + op
    pd, pr = trace.padded[0], trace.padded_roles
    hp = hz + 2 * before + op
    assert pd.shape == pr.shape == (hp, hp)
    inner = (slice(before, before + hz), slice(before, before + hz))
    assert torch.equal(pd[inner], zi) and torch.equal(pr[inner], zr)
    border = torch.ones(hp, hp, dtype=torch.bool)
    border[inner] = False
    assert torch.all(pd[border] == 0) and torch.all(pr[border] == CellRole.PAD)
    # output_padding goes to the bottom/right only
    assert int((pr[:before, :] == CellRole.PAD).sum()) == before * hp
    assert int((pr[hp - before - op :, :] == CellRole.PAD).sum()) == (before + op) * hp


def test_flipped_kernel_is_rotated_and_channel_swapped() -> None:
    w = torch.arange(2 * 3 * 3 * 3, dtype=torch.float64).reshape(2, 3, 3, 3)  # (C_in, C_out, k, k)
    trace = convlab.transposed_conv_trace(torch.ones(2, 2, 2), w, 2, 0, 0)
    assert trace.flipped_kernel.shape == (3, 2, 3, 3)  # (C_out, C_in, k, k)
    for o, c in itertools.product(range(3), range(2)):
        assert torch.equal(trace.flipped_kernel[o, c], torch.rot90(w[c, o], 2))


# ---------------------------------------------------------------------------------------
# Invalid parameters: ValueError exactly where PyTorch refuses
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "k", "s", "p", "op", "d"),
    [
        (3, 3, 0, 0, 0, 1),  # stride 0
        (3, 3, 2, -1, 0, 1),  # negative padding
        (3, 3, 2, 0, 2, 1),  # output_padding == stride
        (3, 3, 1, 0, 1, 1),  # output_padding with stride 1
        (3, 3, 2, 0, -1, 1),  # negative output_padding
        (2, 3, 1, 3, 0, 1),  # output size (2−1)·1 − 6 + 3 = −2 < 1
        (3, 3, 1, 0, 0, 0),  # dilation 0
    ],
)
def test_invalid_parameters_raise_value_error(
    n: int, k: int, s: int, p: int, op: int, d: int
) -> None:
    assert _torch_raises(n, k, s, p, op, d) or s < 1  # PyTorch refuses them too
    with pytest.raises(ValueError):
        convlab.transposed_conv_trace(torch.ones(n, n), torch.ones(k, k), s, p, op, d)
    with pytest.raises(ValueError):
        convlab.output_size(n, k, s, p, op, d)
    with pytest.raises(ValueError):
        convlab.scatter_view(torch.ones(n, n), torch.ones(k, k), s, p, op, d)


def test_invalid_shapes_and_types_raise_value_error() -> None:
    with pytest.raises(ValueError, match="whole number"):
        convlab.output_size(4, 3, 2.5, 1, 0)
    with pytest.raises(ValueError, match="C_in"):
        convlab.transposed_conv_trace(torch.ones(2, 3, 3), torch.ones(3, 1, 3, 3), 2, 0, 0)
    with pytest.raises(ValueError, match="square"):
        convlab.transposed_conv_trace(torch.ones(3, 3), torch.ones(1, 1, 3, 2), 2, 0, 0)
    with pytest.raises(ValueError):
        convlab.transposed_conv_trace(torch.ones(1, 1, 3, 3), torch.ones(1, 1, 3, 3), 2, 0, 0)
    assert convlab.output_size(4.0, 3, 2, 1, 1) == 8  # a UI slider's 4.0 is fine


# ---------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------


def _td_classes(html: str) -> list[set[str]]:
    """The class list of every table cell in a rendered HTML string."""
    return [set(m.split()) for m in re.findall(r'<td(?: class="([^"]*)")?', html)]


def test_step_html_highlights_window_and_roles() -> None:
    trace = convlab.transposed_conv_trace(torch.ones(3, 3), torch.ones(3, 3), 2, 1, 1)
    cells = _td_classes(convlab.trace_step_html(trace, step_index=5))
    K = trace.effective_kernel_size
    # amber window: K·K cells of the padded grid + K·K of the flipped kernel + 1 output cell
    assert sum("w" in c for c in cells) == 2 * K * K + 1
    n_pad = int((trace.padded_roles == CellRole.PAD).sum())
    n_ins = int((trace.zero_inserted_roles == CellRole.INSERTED).sum())
    n_ins_padded = int((trace.padded_roles == CellRole.INSERTED).sum())
    assert sum("p" in c for c in cells) == n_pad > 0
    assert sum("z" in c for c in cells) == n_ins + n_ins_padded > 0
    # output cells after the current step are not computed yet: drawn as "·"
    h_out, w_out = trace.output.shape[-2:]
    assert sum("n" in c for c in cells) == h_out * w_out - 6
    step = trace.steps[5]
    eq = convlab.step_equation(trace, 5)
    assert "step 6 of" in eq and f"**{int(step.product_sum)}**" in eq


def test_lab_view_reports_exact_match_and_clamps_step() -> None:
    view = convlab.lab_view(3, 3, 2, 1, 1, step=10_000)
    assert view.step == view.n_steps - 1 == 6 * 6 - 1
    assert "max |diff| = 0 " in view.check_md
    assert "(3 − 1)·2 − 2·1 + 3 + 1 = 6" in view.formula_md
    assert convlab.move_step(0, -1, 36) == 0 and convlab.move_step(35, +1, 36) == 35
    assert convlab.move_step(4, +1, 36) == 5


# ---------------------------------------------------------------------------------------
# Checkerboard
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("k", "s"), [(3, 2), (5, 2), (4, 3), (1, 2), (2, 3)])
def test_checkerboard_uneven_when_k_not_divisible_by_s(k: int, s: int) -> None:
    demo = convlab.checkerboard_demo(k, s, size=8)
    values = demo.convt_interior.unique()
    assert len(values) > 1  # a checkerboard
    assert torch.equal(demo.resize_counts, torch.full_like(demo.resize_counts, k * k))  # flat
    assert "not divisible" in demo.explanation
    for v in values.tolist():  # every count in the map is named in the text
        assert str(int(v)) in demo.explanation
    assert len(demo.axis_counts) == s and sum(demo.axis_counts) == k


@pytest.mark.parametrize(("k", "s"), [(4, 2), (3, 3), (2, 1), (6, 2)])
def test_checkerboard_uniform_interior_when_k_divisible_by_s(k: int, s: int) -> None:
    demo = convlab.checkerboard_demo(k, s, size=8)
    assert torch.all(demo.convt_interior == (k // s) ** 2)
    assert not torch.all(demo.convt_counts == (k // s) ** 2) or k == s  # border differs
    assert torch.all(demo.resize_counts == k * k)
    assert "is divisible" in demo.explanation


def test_checkerboard_size_too_small_raises() -> None:
    with pytest.raises(ValueError, match="too small"):
        convlab.checkerboard_demo(6, 1, size=3)


def test_artifact_view_separates_checkerboard_from_smooth() -> None:
    yy, xx = torch.meshgrid(torch.arange(32.0), torch.arange(32.0), indexing="ij")
    smooth = torch.sin(xx / 7) + torch.cos(yy / 5)  # (32, 32)
    checker = smooth + 0.3 * ((xx + yy) % 2)  # + a period-2 checkerboard
    a = convlab.artifact_view(smooth[None], period=2)
    b = convlab.artifact_view(checker.expand(3, 32, 32), period=2)  # RGB is fine too
    assert b.peak_ratio > 10 * a.peak_ratio
    assert b.image.shape == b.high_pass.shape == b.spectrum.shape
    assert b.image.dtype == np.uint8 and b.image.shape[-1] == 3
    assert b.spectrum_values.shape == (32, 32)  # the chart's numbers (fftshift-ed log |FFT|)


def test_untrained_convtranspose_generator_shows_more_periodic_energy() -> None:
    convt, resize = convlab.model_checkerboard_demo(seed=0)
    assert convt.peak_ratio > 3 * resize.peak_ratio


# ---------------------------------------------------------------------------------------
# The tab
# ---------------------------------------------------------------------------------------


def test_tab_builds_and_every_event_has_a_convlab_api_name() -> None:
    gr = pytest.importorskip("gradio")
    from explorer.convlab import page as core
    from explorer.gradio_ui.tabs import convlab as tab

    with gr.Blocks() as demo:
        with gr.Tab("Transposed convolution"):
            tab.build_tab()
    deps = demo.config["dependencies"]
    assert len(deps) >= 8
    assert all(str(d["api_name"]).startswith("convlab_") for d in deps)

    # handlers are plain functions
    out = tab.on_params(3, 3, 2, 1, 1, "counting", "counting", 0, 0, 0)
    assert "max |diff| = 0" in out[1] and out[3] == 36
    bad = tab.on_params(3, 3, 2, 1, 2, "counting", "counting", 0, 0, 0)  # op == s
    assert bad[0].startswith(core.ERROR_PREFIX)
    assert tab.on_next(35, 36) == 35 and tab.on_prev(0, 36) == 0
    taps, text = tab.on_checkerboard(3, 2, 8)
    assert "not divisible" in text
    assert [trace.type for trace in taps.data] == ["heatmap", "heatmap"]
    convt_map, resize_map = (np.asarray(trace.customdata) for trace in taps.data)
    assert len(np.unique(convt_map)) > 1 and len(np.unique(resize_map)) == 1  # hover = counts
    *pictures, spectra, summary = tab.on_model(0)
    assert all(p.dtype == np.uint8 for p in pictures) and "ConvTranspose" in summary
    assert sum(trace.type == "heatmap" for trace in spectra.data) == 2
