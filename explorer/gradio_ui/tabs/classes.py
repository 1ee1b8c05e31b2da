"""The "Classes (cGAN)" tab: ask a conditional GAN for a class.

Two pictures: *one z, every class* (each row keeps its latent, each column changes only the
label) and *one class, many z*. This tab has its own dropdown listing only the conditional
checkpoints. Handlers are plain functions over the checkpoint's pipeline
(:mod:`trainers.latent_space`); :mod:`explorer.latents` draws the pictures.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import gradio as gr
import numpy as np

from explorer import inputs, latents, widget
from explorer.gradio_ui.tabs import latent_widget
from explorer.gradio_ui.tabs.generate import LABEL_MARGIN, class_names
from trainers.checkpoint import CheckpointError

if TYPE_CHECKING:
    from explorer.context import ExplorerContext

TEACHING_MD = """
**Conditional GAN** (Mirza & Osindero 2014). Both players get the class label y: G makes
G(z, y) and D judges the *pair*, D(x, y) = "is x a real image **of class y**?". So D can
reject a perfect "7" that was asked to be a "3", and G must learn to obey the label.

In *one z, every class* only the label changes along a row: whatever stays the same
(thickness, slant, size, brightness) is what z encodes — "style", separated from "content".
The bar and number under each sample are D(G(z, y), y) for the label it was asked for.
"""

NO_CGAN_MD = (
    "⚠️ No conditional GAN (cgan) checkpoint was found. Train one with "
    "`gan-train cgan --dataset fashion-mnist --out runs/cgan-fashion-mnist` and start the "
    "explorer with `--checkpoint-dir runs/`."
)


def on_classes(
    checkpoint: str | None,
    class_name: str | None = None,
    seed: float = 0,
    rows: float = 2,
    side: float = 4,
    truncation: float = 1.0,
    *,
    catalog: Any = None,
) -> tuple[np.ndarray | None, np.ndarray | None, str]:
    """Returns (every-class grid, one-class grid, Markdown)."""
    try:
        ckpt = catalog.load(checkpoint)
        names = class_names(ckpt)
        if not names:
            raise ValueError(f"{checkpoint} is not a conditional GAN: it has no classes")
        index = names.index(class_name) if class_name in names else 0
        seed = inputs.seed(seed)  # the API can send anything: one sentence for a bad value
        rows = inputs.whole(rows, "The number of rows", 1, 4, 2)
        side = inputs.whole(side, "The grid side", 1, 6, 4)
        truncation = inputs.number(truncation, "Truncation ψ", 0.0, 1.5, 1.0)
        return latents.class_pictures(
            ckpt, index, seed, rows, side, truncation, top_margin=LABEL_MARGIN
        )
    except (CheckpointError, ValueError) as error:
        return None, None, f"⚠️ {error}"


def on_class_checkpoint(checkpoint: str | None, *, catalog: Any = None) -> Any:
    """A new cGAN: offer its class names."""
    try:
        names = class_names(catalog.load(checkpoint))
    except (CheckpointError, ValueError):
        names = []
    return gr.Dropdown(choices=names, value=names[0] if names else None)


def build_tab(ctx: ExplorerContext, tab: gr.Tab | None = None) -> tuple[gr.Dropdown, gr.Number]:
    """Create the tab's components and events inside the current Tab.

    The pictures are drawn by the browser widget; the server draws them (``/classes``) only
    when the widget steps aside, or for API users. ``tab`` is not needed any more (kept so
    both build_tab signatures stay alike). Returns the tab's model picker and seed (a link to
    this view sets them).
    """
    catalog = ctx.catalog
    choices = catalog.choices(conditional_only=True)
    conditional_keys = [key for _, key in choices]
    # The explorer's start model when it is a cGAN (the showcase), else the first cGAN.
    default = (
        ctx.default_key
        if ctx.default_key in conditional_keys
        else catalog.default_key(conditional=True)
    )
    gr.Markdown(TEACHING_MD)
    if not choices:
        gr.Markdown(NO_CGAN_MD if catalog else ctx.empty_message)
    names: list[str] = []
    if default:
        try:
            names = class_names(catalog.load(default))
        except (CheckpointError, ValueError):
            names = []
    with gr.Row(equal_height=True):
        checkpoint = gr.Dropdown(choices, value=default, label="conditional checkpoint", scale=3)
        seed = gr.Number(
            0, precision=0, minimum=0, label="seed", scale=1, min_width=90, elem_id="classes-seed"
        )
    # The pictures and their sliders run in the visitor's browser (explorer/web/); the server
    # hands the widget z for the seed and the model's name.
    start = widget.page_config(catalog, default, "classes") if default else None
    widget_html = latent_widget.widget_html(
        json.dumps(start) if start else "", "classes", "classes-draw"
    )
    # The same pictures drawn on the server, shown when the widget steps aside.
    with latent_widget.server_path_group():
        class_name = gr.Dropdown(
            names, value=names[0] if names else None, label="class", allow_custom_value=True
        )
        with gr.Row():
            rows = gr.Slider(
                1, 4, value=2, step=1, precision=0, label="rows (latents) in the every-class grid"
            )
            side = gr.Slider(
                1, 6, value=4, step=1, precision=0, label="one-class grid side (n × n)"
            )
            truncation = gr.Slider(0.0, 1.5, value=1.0, step=0.05, label="truncation ψ")
        button = gr.Button("Draw", variant="primary", elem_id="classes-draw")
        every = gr.Image(
            None,
            label="One z, every class (rows: latents; columns: labels)",
            format="png",
            interactive=False,
            buttons=["download"],
        )
        with gr.Row():
            one = gr.Image(
                None,
                label="One class, many z",
                format="png",
                interactive=False,
                buttons=["download"],
            )
            text = gr.Markdown("")

    def draw(
        checkpoint: str | None,
        class_name: str | None,
        seed: float,
        rows: float,
        side: float,
        truncation: float,
    ) -> tuple[Any, Any, str]:
        return on_classes(checkpoint, class_name, seed, rows, side, truncation, catalog=catalog)

    gr.on(
        triggers=[button.click, class_name.input, rows.release, side.release, truncation.release],
        fn=draw,
        inputs=[checkpoint, class_name, seed, rows, side, truncation],
        outputs=[every, one, text],
        api_name="classes",
        trigger_mode="always_last",
        show_progress="minimal",
    )
    gr.on(
        triggers=[checkpoint.change, seed.change],
        fn=lambda key, seed: json.dumps(widget.page_config(catalog, key, "classes", seed)),
        inputs=[checkpoint, seed],
        outputs=widget_html,
        api_name="classes_widget",
        trigger_mode="always_last",
        show_progress="hidden",
        queue=False,  # a few ms each: no queue, never behind a long job
    )
    checkpoint.change(
        lambda key: on_class_checkpoint(key, catalog=catalog),
        checkpoint,
        class_name,
        api_name="classes_checkpoint_changed",
        show_progress="hidden",
    )
    return checkpoint, seed
