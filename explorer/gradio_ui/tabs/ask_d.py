"""The "Ask D" tab: draw or upload a picture and see what the trained discriminator thinks.

Wired to the plain functions of :mod:`explorer.ask_d` (testable without a browser); the picture
goes through the same pipeline as every other tab (:meth:`GANPipeline.score`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import gradio as gr
import numpy as np

from explorer import ask_d
from explorer.gradio_ui.tabs.uploads import (
    CheckedImage,  # HARDEN (issue 17): uploads via load_image
)
from trainers.checkpoint import CheckpointError

if TYPE_CHECKING:
    from explorer.context import ExplorerContext

BEST = "the most convincing class"

TEACHING_MD = """
**Ask D.** The discriminator was trained to output D(x) near 1 for real training images and near
0 for G's fakes. Draw a digit (or a shirt), or upload any picture: it is brought to the model's
size and channels and D gives its verdict, beside its verdicts on G's own samples and, when the
data set is on this machine, on real images. A D at the end of training is often unsure about
everything (scores near ½): that is the equilibrium of the game. For a **cGAN** D judges the
*pair* (image, label): the bars show how real your picture looks *as each class*.
"""


def on_checkpoint(checkpoint: str | None, *, catalog: Any = None) -> list[Any]:
    """A new model: offer its classes and the per-class scores (cGAN only)."""
    try:
        names = catalog.load(checkpoint).class_names
    except (CheckpointError, ValueError):
        names = []
    return [
        gr.Dropdown(choices=[BEST, *names], value=BEST, visible=bool(names)),
        gr.Label(visible=bool(names)),
    ]


def build_tab(ctx: ExplorerContext) -> None:
    """Create the tab's components and events inside the current Tab."""
    catalog = ctx.catalog
    gr.Markdown(TEACHING_MD)
    if not catalog:
        gr.Markdown(ctx.empty_message)
    names: list[str] = []
    if ctx.default_key:
        try:
            names = catalog.load(ctx.default_key).class_names
        except (CheckpointError, ValueError):
            names = []
    with gr.Row(equal_height=True):
        checkpoint = gr.Dropdown(
            catalog.choices(), value=ctx.default_key, label="checkpoint", scale=3
        )
        class_name = gr.Dropdown(
            [BEST, *names],
            value=BEST,
            label="judge it as class (cGAN)",
            visible=bool(names),
            allow_custom_value=True,
            scale=2,
        )
        invert = gr.Radio(
            list(ask_d.INVERT_CHOICES),
            value="auto",
            label="invert brightness",
            info="auto: grey models see light strokes on dark, like MNIST",
            scale=2,
        )
    with gr.Row():
        sketch = gr.Sketchpad(
            np.zeros((280, 280, 3), dtype=np.uint8),  # a black slate: MNIST is light on dark
            label="draw (white on black, like MNIST)",
            canvas_size=(280, 280),
            fixed_canvas=True,
            brush=gr.Brush(colors=["#ffffff", "#000000"], default_color="#ffffff", default_size=18),
            image_mode="RGBA",
            type="numpy",
            layers=False,
            elem_id="ask-d-sketch",
        )
        upload = CheckedImage(
            label="…or upload a picture (used instead of the drawing)",
            type="numpy",
            image_mode="RGB",
            sources=["upload", "clipboard"],
            elem_id="ask-d-upload",
            upload_name="uploaded picture",
        )
    with gr.Row(equal_height=True):
        n = gr.Slider(2, 16, value=8, step=1, precision=0, label="samples to compare", scale=3)
        seed = gr.Number(0, precision=0, minimum=0, label="seed", scale=1)
        button = gr.Button("Ask D", variant="primary", scale=1, elem_id="ask-d-button")
    picture = gr.Image(
        label="D's realness: your picture, G's samples, real images",
        format="png",
        interactive=False,
        buttons=["download"],
    )
    with gr.Row():
        per_class = gr.Label(
            label="D's score under every class label (cGAN)", visible=bool(names), scale=1
        )
        text = gr.Markdown(elem_id="ask-d-info")

    def run(
        checkpoint: str | None,
        sketch: Any,
        upload: Any,
        class_name: str | None,
        invert: str,
        n: float,
        seed: float,
    ) -> tuple[Any, Any, str]:
        image, scores, markdown = ask_d.on_ask(
            checkpoint, sketch, upload, class_name, invert, n, seed, catalog=catalog
        )
        return image, scores, markdown

    gr.on(
        triggers=[button.click, upload.upload, checkpoint.change, invert.input],
        fn=run,
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
