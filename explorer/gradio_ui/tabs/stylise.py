"""The explorer's Stylise tab: neural style transfer with a live preview.

Only layout and wiring live here; the settings, words and the one-job-per-machine rule are in
:mod:`explorer.stylise`, the work in :mod:`trainers.style`. Call :func:`build_tab` inside
``with gr.Tab("Stylise"):``.
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
from explorer.gradio_ui.widgets import option_widget


def build_tab(limits: VisitorLimits | None = None, hosted: bool = False) -> None:
    """Create the Stylise tab's components and events in the current Gradio context.

    ``limits`` caps the steps and the output size (a hosted page's :class:`VisitorLimits`);
    ``hosted`` scrubs server paths from messages.
    """
    limits = limits or LOCAL_LIMITS
    specs = core.limited(limits)
    gr.Markdown(f"### {core.TITLE}\n{core.INTRO_MD}")
    examples = core.example_files()
    stop_state = gr.State(None)  # this browser session's threading.Event for the running job

    with gr.Row():
        shown = {"type": "numpy", "image_mode": "RGB", "height": 280}
        pictures = {
            kind: CheckedImage(label=kind.title(), upload_name=f"{kind} image", **shown)
            for kind in core.EXAMPLES
        }
        preview = gr.Image(
            label="Result",
            type="numpy",
            format="png",
            interactive=False,
            height=280,
            buttons=["download"],
        )
    with gr.Row():
        for kind, picture in pictures.items():
            gr.Examples(
                [[p] for p in examples[kind]],
                inputs=[picture],
                label=f"{kind.title()} examples",
                api_name=f"stylise_{kind}_example",
            )
    summary = core.schedule_summary(specs["steps"].default, specs["size"].default, "coarse-to-fine")
    overrides = {
        "schedule": {"choices": list(core.SCHEDULE_CHOICES), "info": summary},
        "features": {"choices": [(label, key) for key, label in core.FEATURE_LABELS.items()]},
    }
    w: dict[str, Any] = {}

    def rows(names: tuple[tuple[str, ...], ...]) -> None:
        for row in names:
            with gr.Row():
                for name in row:
                    w[name] = option_widget(specs[name], **overrides.get(name, {}))

    rows(core.ROWS)
    with gr.Accordion(core.MORE_TITLE, open=False):
        rows(core.MORE_ROWS)
    with gr.Row():
        start = gr.Button("Start", variant="primary")
        stop = gr.Button("Stop", variant="stop")
    status = gr.Markdown(core.READY)
    download = gr.File(label=core.DOWNLOAD_LABEL, interactive=False)
    #: /stylise_run's parameters (their API names and order, kept for gradio_client users) ->
    #: the settings' names (explorer/stylise.py).
    api_names = {
        "n_steps": "steps",
        "px": "size",
        "w_content": "content_weight",
        "w_style_log10": "style_weight_log10",
        "w_tv_log10": "tv_weight_log10",
        "init_from": "init",
        "opt": "optimizer",
        "keep_colors": "preserve_color",
        "feature_net": "features",
        "noise_seed": "seed",
        "plan": "schedule",
    }

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
        given = locals()
        try:
            settings = {name: given[api] for api, name in api_names.items()}
            config = core.config_from(settings, limits)
            yield from core.run_stylise(
                content_image, style_image, config, stop_event or threading.Event()
            )
        except core.REFUSALS as exc:
            message = public_text(str(exc)) if hosted else str(exc)
            raise gr.Error(message, print_exception=False) from None

    start.click(
        core.new_stop_event,
        inputs=[stop_state],
        outputs=[stop_state],
        api_name="stylise_prepare",
        queue=False,
    ).then(
        run,
        inputs=[*pictures.values(), *(w[name] for name in api_names.values()), stop_state],
        outputs=[preview, status, download],
        api_name="stylise_run",
        concurrency_id="stylise",  # one job per machine: core.start_one waits for the running one
    )
    stop.click(core.request_stop, inputs=[stop_state], api_name="stylise_stop", queue=False)

    def plan_info(n_steps: float, px: float, plan: str) -> Any:
        """The schedule's note: where the steps go (the optimiser's own stage plan)."""
        return gr.Radio(info=core.schedule_summary(n_steps, px, plan))

    plan_inputs = [w["steps"], w["size"], w["schedule"]]
    quiet = {"show_progress": "hidden", "queue": False}
    for event in (w["steps"].change, w["size"].change, w["schedule"].input):
        event(plan_info, plan_inputs, w["schedule"], api_name="stylise_plan", **quiet)
