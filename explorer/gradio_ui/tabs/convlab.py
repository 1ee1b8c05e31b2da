"""The "Transposed convolution" tab: layout and wiring over :mod:`explorer.convlab.page`
(its parameters, words and views). The handlers only unpack the core's results into widget
updates; per-user values (how many steps there are, whether it plays) live in ``gr.State``.
"""

from __future__ import annotations

from dataclasses import astuple
from typing import Any

import gradio as gr

from explorer.convlab import page as core
from explorer.gradio_ui.widgets import option_widget


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
    """/convlab_update: the parameters (those of :data:`core.LAB`, in order; the names are the
    API's) changed: (formula, check, step slider, n_steps, equation, steps html, stamp slider,
    scatter html)."""
    params = [size, k, s, p, output_padding, input_kind, kernel_kind, seed]
    try:
        view = core.lab(params, step, stamp)
    except ValueError as error:
        return (core.refusal(error), "", gr.update(), gr.update(), "", "", gr.update(), "")
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
    """/convlab_step: the kernel moved; returns (equation, steps html)."""
    params = [size, k, s, p, output_padding, input_kind, kernel_kind, seed]
    view = core.lab_or_none(params, step)
    return (view.equation_md, view.steps_html) if view else ("", "")


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
    """/convlab_stamp: the scatter slider moved; returns the scatter html."""
    params = [size, k, s, p, output_padding, input_kind, kernel_kind, seed]
    view = core.lab_or_none(params, 0, stamp)
    return view.scatter_html if view else ""


def on_prev(step: float, n_steps: int) -> int:
    """◀ button: one kernel position back."""
    return core.step_by(step, -1, n_steps)


def on_next(step: float, n_steps: int) -> int:
    """▶ button: one kernel position forward."""
    return core.step_by(step, +1, n_steps)


def on_play(playing: bool, step: float, n_steps: int) -> tuple[Any, bool, Any, int]:
    """Play/pause: toggles the timer. Returns (timer, playing, button, step)."""
    playing, start = core.play(playing, step, n_steps)
    return gr.Timer(active=playing), playing, gr.Button(value=core.play_label(playing)), start


def on_tick(step: float, n_steps: int) -> tuple[int, Any, bool, Any]:
    """Timer tick while playing: next step; stops at the last one.
    Returns (step, timer, playing, button)."""
    nxt, playing = core.tick(step, n_steps)
    return nxt, gr.Timer(active=playing), playing, gr.Button(value=core.play_label(playing))


def on_checkerboard(k: float, s: float, size: float) -> tuple[Any, str]:
    """Returns (the tap-count chart, explanation)."""
    try:
        return core.checkerboard(k, s, size)
    except ValueError as error:
        return gr.skip(), core.refusal(error)


def on_model(seed: float | None) -> tuple[Any, ...]:
    """Returns 4 images (ConvTranspose: image, high-pass; resize-conv: the same), the chart of
    both spectra and the two summaries."""
    try:
        view = core.model(seed)
    except ValueError as error:
        raise gr.Error(str(error), print_exception=False) from None
    return (*view.pictures, view.spectra, view.summary)


def build_tab() -> None:
    """Create the lab's components inside the current Blocks/Tab context."""
    first = core.lab(astuple(core.LabParams()))
    cb_chart, cb_explanation = core.checkerboard(*astuple(core.CheckerboardParams()))
    model = core.model(core.ModelParams().seed)

    gr.Markdown(f"### {core.TITLE}\n{core.INTRO_MD}")
    lab: dict[str, Any] = {}
    with gr.Row():
        for name in ("size", "k", "s", "p", "op"):
            lab[name] = option_widget(core.LAB[name], precision=0)
    with gr.Row():
        for name in ("input_kind", "kernel_kind", "seed"):
            lab[name] = option_widget(core.LAB[name])
    formula = gr.Markdown(first.formula_md)
    check = gr.Markdown(first.check_md)

    n_steps = gr.State(first.n_steps)  # per user: how many kernel positions there are
    playing = gr.State(False)  # per user: is the animation running
    timer = gr.Timer(core.TICK_S, active=False)
    with gr.Row(equal_height=True):
        prev_btn = gr.Button(core.PREV, size="sm", scale=0, min_width=80)
        step = gr.Slider(
            0, first.n_steps - 1, value=0, step=1, precision=0, label=core.STEP_LABEL, scale=4
        )
        next_btn = gr.Button(core.NEXT, size="sm", scale=0, min_width=80)
        play_btn = gr.Button(core.play_label(False), size="sm", scale=0, min_width=90)
    equation = gr.Markdown(first.equation_md)
    steps_html = gr.HTML(first.steps_html)

    with gr.Accordion(core.SCATTER_TITLE, open=False):
        gr.Markdown(core.SCATTER_MD)
        stamp = gr.Slider(
            0, first.n_stamps - 1, value=0, step=1, precision=0, label=core.STAMP_LABEL
        )
        scatter_html = gr.HTML(first.scatter_html)

    gr.Markdown(f"### {core.CHECKERBOARD_TITLE}\n{core.CHECKERBOARD_MD}")
    with gr.Row():
        cb = [option_widget(spec, precision=0) for spec in core.CHECKERBOARD.values()]
    cb_taps = gr.Plot(cb_chart, label=core.TAPS_LABEL, elem_id="convlab-taps")
    cb_text = gr.Markdown(cb_explanation)

    gr.Markdown(f"#### {core.MODEL_TITLE}\n{core.MODEL_MD}")
    model_seed = option_widget(core.MODEL["seed"])
    with gr.Row():
        model_imgs = [
            gr.Image(v, label=n, format="png", interactive=False)
            for v, n in zip(model.pictures, core.MODEL_NAMES, strict=True)
        ]
    spectra = gr.Plot(model.spectra, label=core.SPECTRA_LABEL, elem_id="convlab-spectra")
    model_text = gr.Markdown(model.summary)

    params = list(lab.values())
    quiet = {"trigger_mode": "always_last", "show_progress": "hidden"}
    gr.on(
        triggers=[c.change for c in params],
        fn=on_params,
        inputs=[*params, step, stamp],
        outputs=[formula, check, step, n_steps, equation, steps_html, stamp, scatter_html],
        api_name="convlab_update",
        **quiet,
    )
    step.change(on_step, [*params, step], [equation, steps_html], api_name="convlab_step", **quiet)
    stamp.change(on_stamp, [*params, stamp], scatter_html, api_name="convlab_stamp", **quiet)
    hidden = {"show_progress": "hidden"}
    prev_btn.click(on_prev, [step, n_steps], step, api_name="convlab_prev", **hidden)
    next_btn.click(on_next, [step, n_steps], step, api_name="convlab_next", **hidden)
    playing_out = [timer, playing, play_btn, step]
    play_btn.click(
        on_play, [playing, step, n_steps], playing_out, api_name="convlab_play", **hidden
    )
    ticked = [step, timer, playing, play_btn]
    timer.tick(on_tick, [step, n_steps], ticked, api_name="convlab_tick", **hidden)
    gr.on(
        triggers=[c.change for c in cb],
        fn=on_checkerboard,
        inputs=cb,
        outputs=[cb_taps, cb_text],
        api_name="convlab_checkerboard",
        **quiet,
    )
    model_seed.change(
        on_model, model_seed, [*model_imgs, spectra, model_text], api_name="convlab_model"
    )
