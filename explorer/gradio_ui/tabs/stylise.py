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
from explorer.jobs import JobBusyError


def new_stop_event(old: threading.Event | None) -> threading.Event:
    """A fresh Stop flag for this browser session's next run (a previous run should end)."""
    if old is not None:
        old.set()
    return threading.Event()


def request_stop(stop_event: threading.Event | None) -> None:
    if stop_event is not None:
        stop_event.set()


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
        pictures = {
            kind: CheckedImage(
                label=kind.title(),
                type="numpy",
                image_mode="RGB",
                height=280,
                upload_name=f"{kind} image",
            )
            for kind in ("content", "style")
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
    w: dict[str, Any] = {}
    summary = core.schedule_summary(specs["steps"].default, specs["size"].default, "coarse-to-fine")
    with gr.Row():
        for name in ("steps", "size"):
            w[name] = option_widget(specs[name])
    w["schedule"] = option_widget(
        specs["schedule"], choices=list(core.SCHEDULE_CHOICES), info=summary
    )
    with gr.Row():
        for name in ("content_weight", "style_weight_log10", "tv_weight_log10"):
            w[name] = option_widget(specs[name])
    with gr.Accordion("More settings", open=False):
        with gr.Row():
            for name in ("init", "optimizer", "preserve_color"):
                w[name] = option_widget(specs[name])
        with gr.Row():
            features = [(label, key) for key, label in core.FEATURE_LABELS.items()]
            w["features"] = option_widget(specs["features"], choices=features)
            w["seed"] = option_widget(specs["seed"])
    with gr.Row():
        start = gr.Button("Start", variant="primary")
        stop = gr.Button("Stop", variant="stop")
    status = gr.Markdown(core.READY)
    download = gr.File(label=core.DOWNLOAD_LABEL, interactive=False)
    names = list(w)

    def run(
        content_image: np.ndarray | None, style_image: np.ndarray | None, *values: Any
    ) -> Iterator[tuple[np.ndarray | None, str, str | None]]:
        *settings, stop_event = values
        chosen = dict(zip(names, settings, strict=True))
        try:
            config = core.config_from(chosen, limits)
            yield from core.run_stylise(
                content_image, style_image, config, stop_event or threading.Event()
            )
        except (ValueError, TypeError, FileNotFoundError, OverflowError, JobBusyError) as exc:
            message = public_text(str(exc)) if hosted else str(exc)
            raise gr.Error(message, print_exception=False) from None

    start.click(
        new_stop_event,
        inputs=[stop_state],
        outputs=[stop_state],
        api_name="stylise_prepare",
        queue=False,
    ).then(
        run,
        inputs=[*pictures.values(), *w.values(), stop_state],
        outputs=[preview, status, download],
        api_name="stylise_run",
        concurrency_id="stylise",  # the one-job rule is core.SLOT: a second start is refused
    )
    stop.click(request_stop, inputs=[stop_state], api_name="stylise_stop", queue=False)

    def plan_info(n_steps: float, px: float, plan: str) -> Any:
        """The schedule's note: where the steps go (the optimiser's own stage plan)."""
        return gr.Radio(info=core.schedule_summary(int(n_steps or 10), int(px or 64), plan))

    plan_inputs = [w["steps"], w["size"], w["schedule"]]
    for event in (w["steps"].change, w["size"].change, w["schedule"].input):
        event(
            plan_info,
            plan_inputs,
            w["schedule"],
            api_name="stylise_plan",
            show_progress="hidden",
            queue=False,
        )
