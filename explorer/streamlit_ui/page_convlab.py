"""Transposed convolution: the step-by-step lab (a slider over the kernel positions, or play)
and the checkerboard comparison, on :mod:`explorer.convlab` and :mod:`explorer.charts`.

The stepper is an ``st.fragment``: moving the kernel redraws only the stepper, and while
playing the fragment reruns itself every :data:`TICK_S` seconds (``run_every``).
"""

from __future__ import annotations

import streamlit as st

from explorer import charts, convlab
from explorer.streamlit_ui import shared
from trainers import activations
from trainers.checkpoint import CheckpointError

P = shared.KEEP + "convlab."
TICK_S = 0.7  # play: one kernel position every 0.7 s

INTRO_MD = """
A DCGAN generator grows a 4×4 feature map into an image with `nn.ConvTranspose2d`. Each such
layer is **an ordinary convolution in disguise**: put **s − 1 zeros** between neighbouring
input pixels, pad with **k − p − 1 zeros** on every side (plus `output_padding` at the
bottom/right), then slide the kernel, **rotated by 180°**, with stride 1. Pick the numbers and
step the kernel along; the result is checked live against `F.conv_transpose2d`.
"""

CHECKERBOARD_MD = """
**Checkerboard artefacts.** With an all-ones kernel on an all-ones input each output pixel
counts the kernel taps that land on it. If `k` is not a multiple of `s` the stamps overlap
unevenly and a periodic pattern appears although the input is flat; nearest upsampling + an
ordinary convolution ("resize-conv", Odena et al. 2016) has no such problem.
"""


@st.cache_data(max_entries=256, show_spinner=False)
def lab(params: tuple, step: int = 0, stamp: int = 0) -> convlab.LabView:
    """:func:`explorer.convlab.lab_view` for (size, k, s, p, op, input kind, kernel kind, seed)."""
    size, k, s, p, op, input_kind, kernel_kind, seed = params
    return convlab.lab_view(size, k, s, p, op, step, input_kind, kernel_kind, seed, stamp)


def _move(delta: int, n_steps: int) -> None:
    st.session_state[P + "step"] = convlab.move_step(st.session_state[P + "step"], delta, n_steps)


def _play(n_steps: int) -> None:
    playing = not st.session_state.get(P + "playing", False)
    st.session_state[P + "playing"] = playing
    if playing and st.session_state[P + "step"] >= n_steps - 1:
        st.session_state[P + "step"] = 0  # play again from the start
    st.session_state["_convlab_rebind"] = True  # a new run_every needs a full rerun


def stepper(params: tuple, n_steps: int) -> None:
    """The kernel position slider, prev / next / play, the equation and the five panels.

    Runs as a fragment; while playing it reruns every :data:`TICK_S` s and moves one step.
    """
    key = P + "step"
    shared.init(key, 0)
    shared.clamp(key, 0, max(n_steps - 1, 0))
    playing = st.session_state.get(P + "playing", False)
    if playing:
        st.session_state[key] = convlab.move_step(st.session_state[key], +1, n_steps)
        if st.session_state[key] >= n_steps - 1:  # the end: stop the timer
            st.session_state[P + "playing"] = False
            st.session_state["_convlab_rebind"] = True
    cols = st.columns([1, 6, 1, 1], vertical_alignment="bottom")
    cols[0].button("◀ prev", on_click=_move, args=(-1, n_steps))
    if n_steps > 1:
        cols[1].slider("kernel position", 0, n_steps - 1, key=key)
    cols[2].button("next ▶", on_click=_move, args=(+1, n_steps))
    cols[3].button("⏸ pause" if playing else "▶ play", on_click=_play, args=(n_steps,))
    view = lab(params, int(st.session_state[key]))
    st.markdown(view.equation_md)
    st.html(view.steps_html)
    if st.session_state.pop("_convlab_rebind", False):
        st.rerun()  # the whole page, so the fragment is registered with the new run_every


def lab_section() -> None:
    """Parameters, the size formula, the stepper and the scatter view."""
    row = st.columns(5)
    size = row[0].slider("input size n (n×n)", 1, 6, key=shared.init(P + "size", 3))
    k = row[1].slider("kernel size k", 1, 5, key=shared.init(P + "k", 3))
    s = row[2].slider("stride s", 1, 4, key=shared.init(P + "s", 2))
    p = row[3].slider("padding p", 0, 4, key=shared.init(P + "p", 1))
    op = row[4].slider("output padding", 0, 3, key=shared.init(P + "op", 1))
    row = st.columns(3)
    input_kind = row[0].selectbox(
        "input values", list(convlab.INPUT_KINDS), key=shared.init(P + "input", "counting")
    )
    kernel_kind = row[1].selectbox(
        "kernel values", list(convlab.KERNEL_KINDS), key=shared.init(P + "kernel", "counting")
    )
    seed = row[2].number_input("seed (random integers)", 0, step=1, key=shared.init(P + "seed", 0))
    params = (size, k, s, p, op, input_kind, kernel_kind, int(seed))
    try:
        first = lab(params)
    except ValueError as error:
        st.error(f"PyTorch would refuse these parameters: {error}")
        return
    st.markdown(first.formula_md)
    st.markdown(first.check_md)
    run_every = TICK_S if st.session_state.get(P + "playing") else None
    st.fragment(stepper, run_every=run_every)(params, first.n_steps)
    with st.expander("Second view: scatter (each input pixel stamps the kernel)"):
        st.markdown(
            "Every input pixel **stamps** the kernel (not flipped), scaled by its value, at "
            "`(i·s, j·s)`; overlapping stamps add up; then `p` rows/columns are cropped."
        )
        stamp = 0
        if first.n_stamps > 1:
            shared.clamp(shared.init(P + "stamp", 0), 0, first.n_stamps - 1)
            stamp = st.slider("stamp", 0, first.n_stamps - 1, key=P + "stamp")
        st.html(lab(params, 0, int(stamp)).scatter_html)


def checkerboard_section() -> None:
    """Tap counts of ConvTranspose against resize-conv, then two untrained generators."""
    st.markdown(CHECKERBOARD_MD)
    row = st.columns(3)
    k = row[0].slider("kernel size k ", 1, 6, key=shared.init(P + "cb_k", 3))
    s = row[1].slider("stride s ", 1, 4, key=shared.init(P + "cb_s", 2))
    size = row[2].slider("input size", 6, 16, key=shared.init(P + "cb_size", 8))
    try:
        demo = convlab.checkerboard_demo(k, s, size)
    except ValueError as error:
        st.error(f"PyTorch would refuse these parameters: {error}")
    else:
        maps = {
            "ConvTranspose (interior)": demo.convt_interior.numpy(),
            "nearest upsample + conv": demo.resize_counts.numpy(),
        }
        st.plotly_chart(charts.taps_figure(maps), key="convlab-taps")
        st.markdown(demo.explanation)

    st.markdown(
        "**On a generator's output.** Two small *untrained* generators of the same size: one "
        "grows the image with `ConvTranspose2d(k=3, s=2)`, the other with nearest upsampling "
        "+ `Conv2d(k=3)`. The high-pass view and the spectrum show the checkerboard."
    )
    seed = st.number_input(
        "seed (weights and latent)", 0, step=1, key=shared.init(P + "model_seed", 0)
    )
    convt, resize = convlab.model_checkerboard_demo(int(seed))
    cols = st.columns(4)
    shared.image(cols[0], convt.image, caption="ConvTranspose: image")
    shared.image(cols[1], convt.high_pass, caption="ConvTranspose: high-pass")
    shared.image(cols[2], resize.image, caption="resize-conv: image")
    shared.image(cols[3], resize.high_pass, caption="resize-conv: high-pass")
    spectra = {
        "ConvTranspose: spectrum": convt.spectrum_values,
        "resize-conv: spectrum": resize.spectrum_values,
    }
    st.plotly_chart(charts.spectrum_figure(spectra, period=convt.period), key="convlab-spectra")
    st.markdown(f"**ConvTranspose:** {convt.summary}  \n**Resize-conv:** {resize.summary}")


def trained_section() -> None:
    """The same views of a trained checkpoint's first sample."""
    entries = [e for e in shared.catalog().entries if e.convolutional]
    if not entries:
        st.info("No convolutional checkpoint (DCGAN or cGAN) was found.")
        return
    key = shared.model_picker(entries, P + "trained", "checkpoint")
    try:
        pipe = shared.load(key)
        period = activations.upsampling_period(pipe)
        if period is None:
            raise ValueError(f"{key} has no upsampling layers: nothing to compare")
        view = convlab.artifact_view(activations.first_image(pipe, 0), period=period[0])
    except (CheckpointError, ValueError) as error:
        st.error(shared.public(str(error)))
        return
    cols = st.columns(3)
    shared.image(cols[0], view.image, caption="image")
    shared.image(cols[1], view.high_pass, caption="high-pass")
    shared.image(cols[2], view.spectrum, caption="spectrum")
    st.markdown(f"{period[1]}, total upsampling ×{period[0]}: {view.summary}")


def render() -> None:
    """The Transposed convolution page."""
    st.header("Transposed convolution, opened up")
    st.markdown(INTRO_MD)
    lab_section()
    st.divider()
    checkerboard_section()
    with st.expander("On a trained checkpoint"):
        trained_section()
