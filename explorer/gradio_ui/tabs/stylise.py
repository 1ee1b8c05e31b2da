"""The explorer's Stylise tab: neural style transfer with a live preview.

Only layout and wiring live here; the work is in :mod:`explorer.stylise` and
:mod:`trainers.style`. Call :func:`build_tab` inside ``with gr.Tab("Stylise"):``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import gradio as gr
import numpy as np

from explorer import stylise as core
from explorer.context import LOCAL_LIMITS, VisitorLimits, public_text
from explorer.gradio_ui.tabs.uploads import CheckedImage

INTRO = """\
### Neural style transfer (Gatys et al. 2016)
We optimise the **pixels** of an image so that its CNN features match the *content* photo at a
deep layer, its Gram matrices (which features fire together) match the *style* image at several
layers, and neighbouring pixels stay similar (total variation). Watch the image change step by
step; the losses below are relative errors (1 ≈ as far from the target as zero is).
"""


def check_limits(steps: float, size: float, limits: VisitorLimits) -> None:
    """Refuse more steps or a larger output than a visitor may ask for, in one sentence."""
    if steps > limits.stylise_steps:
        raise gr.Error(f"Stylise runs at most {limits.stylise_steps} steps here.")
    if size > limits.stylise_size:
        raise gr.Error(f"Stylise makes images of at most {limits.stylise_size} px here.")


def build_tab(limits: VisitorLimits | None = None, hosted: bool = False) -> None:
    """Create the Stylise tab's components and events in the current Gradio context.

    ``limits`` caps the steps and the output size (a hosted page's :class:`VisitorLimits`);
    ``hosted`` scrubs server paths from messages.
    """
    limits = limits or LOCAL_LIMITS
    gr.Markdown(INTRO)
    examples = core.example_files()
    stop_state = gr.State(None)  # this browser session's threading.Event for the running job

    with gr.Row():
        content = CheckedImage(
            label="Content", type="numpy", image_mode="RGB", height=280, upload_name="content image"
        )
        style = CheckedImage(
            label="Style", type="numpy", image_mode="RGB", height=280, upload_name="style image"
        )
        preview = gr.Image(
            label="Result",
            type="numpy",
            format="png",
            interactive=False,
            height=280,
            buttons=["download"],
        )
    with gr.Row():
        gr.Examples(
            [[p] for p in examples["content"]],
            inputs=[content],
            label="Content examples",
            api_name="stylise_content_example",
        )
        gr.Examples(
            [[p] for p in examples["style"]],
            inputs=[style],
            label="Style examples",
            api_name="stylise_style_example",
        )
    with gr.Row():
        most_steps, most_size = limits.stylise_steps, limits.stylise_size
        steps = gr.Slider(10, most_steps, value=min(200, most_steps), step=10, label="Steps")
        size = gr.Slider(
            64, most_size, value=min(256, most_size), step=32, label="Output size (long side, px)"
        )
    schedule = gr.Radio(
        list(core.SCHEDULE_CHOICES),
        value="coarse-to-fine",
        label="Schedule",
        info=core.schedule_summary(min(200, most_steps), min(256, most_size), "coarse-to-fine"),
    )
    with gr.Row():
        content_weight = gr.Slider(0, 10, value=1, step=0.1, label="Content weight")
        style_weight = gr.Slider(
            -1, 4, value=1, step=0.1, label="Style weight (log₁₀)", info="1 means 10, 3 means 1000"
        )
        tv_weight = gr.Slider(
            -3, 2, value=0, step=0.1, label="Smoothness (TV) weight (log₁₀)", info="0 means 1"
        )
    with gr.Accordion("More settings", open=False):
        with gr.Row():
            init = gr.Radio(["content", "noise"], value="content", label="Start from")
            optimizer = gr.Radio(["lbfgs", "adam"], value="lbfgs", label="Optimizer")
            preserve = gr.Checkbox(False, label="Keep the content's colours")
        with gr.Row():
            features = gr.Dropdown(
                [(label, key) for key, label in core.FEATURE_LABELS.items()],
                value="auto",
                label="Feature network",
            )
            seed = gr.Number(0, label="Seed (noise start)", precision=0)
    with gr.Row():
        start = gr.Button("Start", variant="primary")
        stop = gr.Button("Stop", variant="stop")
    status = gr.Markdown("Choose a content and a style image, then press Start.")
    download = gr.File(label="Download the result (PNG)", interactive=False)

    def new_stop_event(old: threading.Event | None) -> threading.Event:
        if old is not None:
            old.set()  # a previous run from this session should end
        return threading.Event()

    def run(
        content_image: np.ndarray | None,
        style_image: np.ndarray | None,
        n_steps: float,
        px: float,
        w_content: float,
        w_style_log10: float,
        w_tv_log10: float,
        init_from: str,
        opt: str,
        keep_colors: bool,
        feature_net: str,
        noise_seed: float | None,
        plan: str,
        stop_event: threading.Event | None,
    ) -> Iterator[tuple[np.ndarray | None, str, str | None]]:
        try:
            check_limits(float(n_steps or 0), float(px or 0), limits)
            config = core.make_config(
                steps=int(n_steps),
                size=int(px),
                content_weight=w_content,
                style_weight_log10=w_style_log10,
                tv_weight_log10=w_tv_log10,
                init=init_from,
                optimizer=opt,
                preserve_color=keep_colors,
                features=feature_net,
                seed=int(noise_seed or 0),
                schedule=plan,
            )
            yield from core.run_stylise(
                content_image, style_image, config, stop_event or threading.Event()
            )
        except (ValueError, TypeError, FileNotFoundError, OverflowError) as exc:
            message = public_text(str(exc)) if hosted else str(exc)
            raise gr.Error(message, print_exception=False) from None

    def request_stop(stop_event: threading.Event | None) -> None:
        if stop_event is not None:
            stop_event.set()

    start.click(
        new_stop_event,
        inputs=[stop_state],
        outputs=[stop_state],
        api_name="stylise_prepare",
        queue=False,
    ).then(
        run,
        inputs=[
            content,
            style,
            steps,
            size,
            content_weight,
            style_weight,
            tv_weight,
            init,
            optimizer,
            preserve,
            features,
            seed,
            schedule,
            stop_state,
        ],
        outputs=[preview, status, download],
        api_name="stylise_run",
        concurrency_limit=1,  # one optimisation at a time: it uses every CPU core
        concurrency_id="stylise",
    )
    stop.click(request_stop, inputs=[stop_state], api_name="stylise_stop", queue=False)

    def plan_info(n_steps: float, px: float, plan: str) -> Any:
        """The schedule's note: where the steps go (the optimiser's own stage plan)."""
        return gr.Radio(info=core.schedule_summary(int(n_steps or 10), int(px or 64), plan))

    for event in (steps.change, size.change, schedule.input):
        event(
            plan_info,
            [steps, size, schedule],
            schedule,
            api_name="stylise_plan",
            show_progress="hidden",
            queue=False,
        )
