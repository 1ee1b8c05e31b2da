"""The "Ask D" tab: draw or upload a picture and see what the trained discriminator thinks.

The page (its parameters, rules and words) is :mod:`explorer.ask_d`; the picture goes through
the same pipeline as every other tab (:meth:`GANPipeline.score`).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import gradio as gr
import numpy as np

from explorer import ask_d, views
from explorer.ask_d import BEST, SPECS
from explorer.gradio_ui.tabs.uploads import CheckedImage  # HARDEN (issue 17): load_image
from explorer.gradio_ui.widgets import option_widget

if TYPE_CHECKING:
    from explorer.context import ExplorerContext


def on_checkpoint(checkpoint: str | None, *, catalog: Any = None) -> list[Any]:
    """A new model: offer its classes and the per-class scores (cGAN only)."""
    names = views.names_of(catalog, checkpoint)
    return [
        gr.Dropdown(choices=[BEST, *names], value=BEST, visible=bool(names)),
        gr.Label(visible=bool(names)),
    ]


def build_tab(ctx: ExplorerContext) -> None:
    """Create the tab's components and events inside the current Tab."""
    catalog = ctx.catalog
    gr.Markdown(ask_d.ABOUT)
    if not catalog:
        gr.Markdown(ctx.empty_message)
    names = views.names_of(catalog, ctx.default_key)
    with gr.Row(equal_height=True):
        checkpoint = gr.Dropdown(
            catalog.choices(), value=ctx.default_key, label="checkpoint", scale=3
        )
        class_name = option_widget(
            SPECS["class_name"],
            choices=[BEST, *names],
            visible=bool(names),
            allow_custom_value=True,
            scale=2,
        )
        invert = option_widget(SPECS["invert"], scale=2)
    with gr.Row():
        sketch = gr.Sketchpad(
            np.zeros((280, 280, 3), dtype=np.uint8),  # a black slate: MNIST is light on dark
            label=ask_d.SKETCH,
            canvas_size=(280, 280),
            fixed_canvas=True,
            brush=gr.Brush(colors=["#ffffff", "#000000"], default_color="#ffffff", default_size=18),
            image_mode="RGBA",
            type="numpy",
            layers=False,
            elem_id="ask-d-sketch",
        )
        upload = CheckedImage(
            label=ask_d.UPLOAD,
            type="numpy",
            image_mode="RGB",
            sources=["upload", "clipboard"],
            elem_id="ask-d-upload",
            upload_name="uploaded picture",
        )
    with gr.Row(equal_height=True):
        n = option_widget(SPECS["n"], precision=0, scale=3)
        seed = option_widget(SPECS["seed"], scale=1)
        button = gr.Button("Ask D", variant="primary", scale=1, elem_id="ask-d-button")
    picture = gr.Image(label=ask_d.PICTURE, format="png", interactive=False, buttons=["download"])
    with gr.Row():
        per_class = gr.Label(label=ask_d.CLASS_SCORES, visible=bool(names), scale=1)
        text = gr.Markdown(elem_id="ask-d-info")

    gr.on(
        triggers=[button.click, upload.upload, checkpoint.change, invert.input],
        fn=functools.partial(ask_d.on_ask, catalog=catalog),  # API names: on_ask's
        inputs=[checkpoint, sketch, upload, class_name, invert, n, seed],
        outputs=[picture, per_class, text],
        api_name="ask_d",
        trigger_mode="always_last",
        show_progress="minimal",
    )
    checkpoint.change(
        lambda key: on_checkpoint(key, catalog=catalog),
        checkpoint,
        [class_name, per_class],
        api_name="ask_d_checkpoint_changed",
        show_progress="hidden",
    )
