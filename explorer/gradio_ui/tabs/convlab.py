"""The "Transposed convolution" tab: widgets wired to :mod:`explorer.convlab`.

Call :func:`build_tab` inside an open ``gr.Blocks`` / ``gr.Tab`` context::

    with gr.Blocks() as demo:
        with gr.Tab("Transposed convolution"):
            build_tab()

All maths lives in ``explorer/convlab/``; the handlers below only unpack its results into
widget updates, so they can be tested as plain functions. Per-user values (how many steps
there are, whether the animation plays) live in ``gr.State``, never in module globals.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from explorer import charts, convlab, inputs

INTRO_MD = """
### Transposed convolution, opened up

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

SCATTER_MD = """
The same result, seen the other way round: every input pixel **stamps** a copy of the
kernel (not flipped), scaled by its value, onto the output at `(i·s, j·s)`. Where stamps
overlap they add up. Finally `p` rows/columns are cropped from every side (that is what
`padding` does in a transposed convolution: it *removes* border, it does not add it).
"""

CHECKERBOARD_MD = """
### Checkerboard artefacts

Use the scatter picture: with an all-ones kernel on an all-ones input, each output pixel
simply **counts the kernel taps that land on it**. If `k` is a multiple of `s`, every pixel
gets the same number. If not, the stamps overlap unevenly and a periodic pattern appears,
even though the input is perfectly flat. Nearest-neighbour upsampling followed by an
ordinary convolution ("resize-conv", Odena et al. 2016) has no such problem.
"""

MODEL_MD = """
#### On a generator's output

Two small **untrained** generators with the same number of layers and channels: one grows
the image with `ConvTranspose2d(k=3, s=2)`, the other with nearest upsampling + `Conv2d(k=3)`.
The checkerboard shows up at initialisation already: it comes from the layer's shape, not
from training. The high-pass view (image − blurred image, red +, blue −) and the spectrum
(log |FFT|, zero frequency in the centre) make it easy to see; a periodic artefact shows as
bright dots on the circled lattice of frequencies (hover a dot for its frequency).
"""

_ERROR_PREFIX = "⚠️ **PyTorch would refuse these parameters:** "


# --------------------------------------------------------------------------------------
# Handlers (plain functions: testable without a browser)
# --------------------------------------------------------------------------------------


def _checked(size: Any, k: Any, s: Any, p: Any, op: Any, seed: Any) -> tuple[int, ...]:
    """The sliders' values as ints in their ranges (the API can send anything): raises
    ``inputs.InputError`` (a ValueError) in one sentence."""
    d = _DEFAULTS
    return (
        inputs.whole(size, "The input size n", 1, 6, d["size"]),
        inputs.whole(k, "The kernel size k", 1, 5, d["k"]),
        inputs.whole(s, "The stride s", 1, 4, d["s"]),
        inputs.whole(p, "The padding p", 0, 4, d["p"]),
        inputs.whole(op, "The output padding", 0, 3, d["op"]),
        inputs.seed(seed),
    )


def _position(value: Any, what: str) -> int:
    return inputs.whole(value, what, 0, 10**6, 0)


def on_params(
    size: float,
    k: float,
    s: float,
    p: float,
    output_padding: float,
    input_kind: str,
    kernel_kind: str,
    seed: float | None,
    step: float,
    stamp: float,
) -> tuple[Any, ...]:
    """Parameters changed: recompute everything.

    Returns (formula, check, step slider, n_steps, equation, steps html, stamp slider,
    scatter html).
    """
    try:
        *numbers, seed = _checked(size, k, s, p, output_padding, seed)
        step, stamp = _position(step, "The kernel position"), _position(stamp, "The stamp")
    except inputs.InputError as err:
        return (f"⚠️ {err}", "", gr.update(), gr.update(), "", "", gr.update(), "")
    try:
        view = convlab.lab_view(*numbers, step, input_kind, kernel_kind, seed, stamp)
    except ValueError as err:
        return (
            _ERROR_PREFIX + str(err),
            "",
            gr.update(),
            gr.update(),
            "",
            "",
            gr.update(),
            "",
        )
    return (
        view.formula_md,
        view.check_md,
        gr.update(maximum=max(view.n_steps - 1, 1), value=view.step),
        view.n_steps,
        view.equation_md,
        view.steps_html,
        gr.update(maximum=max(view.n_stamps - 1, 1), value=min(int(stamp), view.n_stamps - 1)),
        view.scatter_html,
    )


def on_step(
    size: float,
    k: float,
    s: float,
    p: float,
    output_padding: float,
    input_kind: str,
    kernel_kind: str,
    seed: float | None,
    step: float,
) -> tuple[str, str]:
    """The kernel moved: returns (equation, steps html)."""
    try:
        *numbers, seed = _checked(size, k, s, p, output_padding, seed)
        step = _position(step, "The kernel position")
        view = convlab.lab_view(*numbers, step, input_kind, kernel_kind, seed)
    except ValueError:
        return "", ""
    return view.equation_md, view.steps_html


def on_stamp(
    size: float,
    k: float,
    s: float,
    p: float,
    output_padding: float,
    input_kind: str,
    kernel_kind: str,
    seed: float | None,
    stamp: float,
) -> str:
    """The scatter slider moved: returns the scatter html."""
    try:
        *numbers, seed = _checked(size, k, s, p, output_padding, seed)
        stamp = _position(stamp, "The stamp")
        view = convlab.lab_view(*numbers, 0, input_kind, kernel_kind, seed, stamp)
    except ValueError:
        return ""
    return view.scatter_html


def _move(step: Any, delta: int, n_steps: Any) -> int:
    try:
        step, n_steps = _position(step, "The step"), _position(n_steps, "The steps")
    except inputs.InputError:
        return 0
    return convlab.move_step(step, delta, n_steps)


def on_prev(step: float, n_steps: int) -> int:
    """◀ button: one kernel position back."""
    return _move(step, -1, n_steps)


def on_next(step: float, n_steps: int) -> int:
    """▶ button: one kernel position forward."""
    return _move(step, +1, n_steps)


def on_play(playing: bool, step: float, n_steps: int) -> tuple[Any, bool, Any, int]:
    """Play/pause: toggles the timer. Returns (timer, playing, button, step);
    pressing play on the last step starts again from 0."""
    playing = not playing
    start = 0 if playing and int(step) >= n_steps - 1 else int(step)
    label = "⏸ pause" if playing else "▶ play"
    return gr.Timer(active=playing), playing, gr.Button(value=label), start


def on_tick(step: float, n_steps: int) -> tuple[int, Any, bool, Any]:
    """Timer tick while playing: next step; stops at the last one.
    Returns (step, timer, playing, button)."""
    nxt = convlab.move_step(step, +1, n_steps)
    if nxt >= n_steps - 1:
        return nxt, gr.Timer(active=False), False, gr.Button(value="▶ play")
    return nxt, gr.Timer(active=True), True, gr.Button(value="⏸ pause")


def taps_chart(demo: convlab.CheckerboardDemo) -> Any:
    """The two tap-count maps of a checkerboard demo as one interactive chart."""
    return charts.taps_figure(
        {
            "ConvTranspose (interior)": demo.convt_interior.numpy(),
            "nearest upsample + conv": demo.resize_counts.numpy(),
        }
    )


def on_checkerboard(k: float, s: float, size: float) -> tuple[Any, str]:
    """Returns (the tap-count chart, explanation)."""
    try:
        k = inputs.whole(k, "The kernel size k", 1, 6, 3)
        s = inputs.whole(s, "The stride s", 1, 4, 2)
        size = inputs.whole(size, "The input size", 6, 16, 8)
    except inputs.InputError as err:
        return gr.skip(), f"⚠️ {err}"
    try:
        demo = convlab.checkerboard_demo(k, s, size)
    except ValueError as err:
        return gr.skip(), _ERROR_PREFIX + str(err)
    return taps_chart(demo), demo.explanation


def on_model(seed: float | None) -> tuple[Any, ...]:
    """Returns 4 images (ConvTranspose: image, high-pass; resize-conv: the same), the chart of
    both spectra and the two summaries."""
    try:
        seed = inputs.seed(seed)
    except inputs.InputError as err:
        raise gr.Error(str(err), print_exception=False) from None
    convt, resize = convlab.model_checkerboard_demo(seed)
    text = f"**ConvTranspose generator:** {convt.summary}  \n**Resize-conv generator:** {resize.summary}"
    spectra = charts.spectrum_figure(
        {
            "ConvTranspose: spectrum": convt.spectrum_values,
            "resize-conv: spectrum": resize.spectrum_values,
        },
        period=convt.period,
    )
    return convt.image, convt.high_pass, resize.image, resize.high_pass, spectra, text


# --------------------------------------------------------------------------------------
# Layout and wiring
# --------------------------------------------------------------------------------------

_DEFAULTS = {"size": 3, "k": 3, "s": 2, "p": 1, "op": 1}


def build_tab() -> None:
    """Create the lab's components inside the current Blocks/Tab context."""
    d = _DEFAULTS
    first = convlab.lab_view(d["size"], d["k"], d["s"], d["p"], d["op"])
    cb = convlab.checkerboard_demo(3, 2, 8)
    model = on_model(0)

    gr.Markdown(INTRO_MD)
    with gr.Row():
        size = gr.Slider(1, 6, value=d["size"], step=1, precision=0, label="input size n (n×n)")
        k = gr.Slider(1, 5, value=d["k"], step=1, precision=0, label="kernel size k")
        s = gr.Slider(1, 4, value=d["s"], step=1, precision=0, label="stride s")
        p = gr.Slider(0, 4, value=d["p"], step=1, precision=0, label="padding p")
        op = gr.Slider(0, 3, value=d["op"], step=1, precision=0, label="output padding")
    with gr.Row():
        input_kind = gr.Dropdown(
            list(convlab.INPUT_KINDS),
            value="counting",
            label="input values",
            info="; ".join(f"{n}: {t}" for n, t in convlab.INPUT_KINDS.items()),
        )
        kernel_kind = gr.Dropdown(
            list(convlab.KERNEL_KINDS),
            value="counting",
            label="kernel values",
        )
        seed = gr.Number(0, precision=0, label="seed (for random integers)")
    formula = gr.Markdown(first.formula_md)
    check = gr.Markdown(first.check_md)

    n_steps = gr.State(first.n_steps)  # per user: how many kernel positions there are
    playing = gr.State(False)  # per user: is the animation running
    timer = gr.Timer(0.7, active=False)
    with gr.Row(equal_height=True):
        prev_btn = gr.Button("◀ prev", size="sm", scale=0, min_width=80)
        step = gr.Slider(
            0, first.n_steps - 1, value=0, step=1, precision=0, label="kernel position", scale=4
        )
        next_btn = gr.Button("next ▶", size="sm", scale=0, min_width=80)
        play_btn = gr.Button("▶ play", size="sm", scale=0, min_width=90)
    equation = gr.Markdown(first.equation_md)
    steps_html = gr.HTML(first.steps_html)

    with gr.Accordion("Second view: scatter (each input pixel stamps the kernel)", open=False):
        gr.Markdown(SCATTER_MD)
        stamp = gr.Slider(0, first.n_stamps - 1, value=0, step=1, precision=0, label="stamp")
        scatter_html = gr.HTML(first.scatter_html)

    gr.Markdown(CHECKERBOARD_MD)
    with gr.Row():
        cb_k = gr.Slider(1, 6, value=3, step=1, precision=0, label="kernel size k")
        cb_s = gr.Slider(1, 4, value=2, step=1, precision=0, label="stride s")
        cb_size = gr.Slider(6, 16, value=8, step=1, precision=0, label="input size")
    cb_taps = gr.Plot(
        taps_chart(cb),
        label="taps per output pixel (grey = average; hover for the count)",
        elem_id="convlab-taps",
    )
    cb_text = gr.Markdown(cb.explanation)

    gr.Markdown(MODEL_MD)
    model_seed = gr.Number(
        0, precision=0, label="seed (weights and latent): change it for new generators"
    )
    names = ["ConvTranspose: image", "ConvTranspose: high-pass"]
    names += ["resize-conv: image", "resize-conv: high-pass"]
    with gr.Row():
        model_imgs = [
            gr.Image(v, label=n, format="png", interactive=False)
            for v, n in zip(model[:4], names, strict=True)
        ]
    spectra = gr.Plot(model[4], label="spectra (log |FFT|)", elem_id="convlab-spectra")
    model_text = gr.Markdown(model[5])

    # ---- wiring ----------------------------------------------------------------------
    params = [size, k, s, p, op, input_kind, kernel_kind, seed]
    gr.on(
        triggers=[c.change for c in params],
        fn=on_params,
        inputs=[*params, step, stamp],
        outputs=[formula, check, step, n_steps, equation, steps_html, stamp, scatter_html],
        api_name="convlab_update",
        trigger_mode="always_last",
        show_progress="hidden",
    )
    step.change(
        on_step,
        inputs=[*params, step],
        outputs=[equation, steps_html],
        api_name="convlab_step",
        trigger_mode="always_last",
        show_progress="hidden",
    )
    stamp.change(
        on_stamp,
        inputs=[*params, stamp],
        outputs=scatter_html,
        api_name="convlab_stamp",
        trigger_mode="always_last",
        show_progress="hidden",
    )
    prev_btn.click(on_prev, [step, n_steps], step, api_name="convlab_prev", show_progress="hidden")
    next_btn.click(on_next, [step, n_steps], step, api_name="convlab_next", show_progress="hidden")
    play_btn.click(
        on_play,
        [playing, step, n_steps],
        [timer, playing, play_btn, step],
        api_name="convlab_play",
        show_progress="hidden",
    )
    timer.tick(
        on_tick,
        [step, n_steps],
        [step, timer, playing, play_btn],
        api_name="convlab_tick",
        show_progress="hidden",
    )
    gr.on(
        triggers=[cb_k.change, cb_s.change, cb_size.change],
        fn=on_checkerboard,
        inputs=[cb_k, cb_s, cb_size],
        outputs=[cb_taps, cb_text],
        api_name="convlab_checkerboard",
        trigger_mode="always_last",
        show_progress="hidden",
    )
    gr.on(
        triggers=[model_seed.change],
        fn=on_model,
        inputs=model_seed,
        outputs=[*model_imgs, spectra, model_text],
        api_name="convlab_model",
    )
