"""The "Classes (cGAN)" tab: one z in every class, and a grid of one class.

The page (its parameters, rules and words) is :mod:`explorer.views`; this tab has its own
dropdown listing only the conditional checkpoints.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import gradio as gr
import numpy as np

from explorer import views
from explorer.gradio_ui.tabs import latent_widget
from explorer.gradio_ui.widgets import option_widget
from explorer.views import CLASSES, LABEL_MARGIN

if TYPE_CHECKING:
    from explorer.context import ExplorerContext


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
    """The /classes endpoint: (every-class grid, one-class grid, Markdown)."""
    params = views.ClassesParams(seed, class_name, rows, side, truncation)
    return views.shown(views.classes_view, catalog, checkpoint, params, LABEL_MARGIN, blanks=2)


def on_class_checkpoint(checkpoint: str | None, *, catalog: Any = None) -> Any:
    """A new cGAN: offer its class names."""
    names = views.names_of(catalog, checkpoint)
    return gr.Dropdown(choices=names, value=names[0] if names else None)


def build_tab(ctx: ExplorerContext, tab: gr.Tab | None = None) -> tuple[gr.Dropdown, gr.Number]:
    """Create the tab's components and events inside the current Tab.

    The browser widget draws the pictures; the server (``/classes``) only when it steps aside,
    or for API users. ``tab`` is unused (kept so the build_tab signatures stay alike). Returns
    the tab's model picker and seed (a link to this view sets them).
    """
    catalog = ctx.catalog
    choices = catalog.choices(conditional_only=True)
    keys = [key for _, key in choices]
    # The explorer's start model when it is a cGAN (the showcase), else the first cGAN.
    default = ctx.default_key if ctx.default_key in keys else catalog.default_key(conditional=True)
    gr.Markdown(views.CLASSES_ABOUT)
    if not choices:
        gr.Markdown(views.NO_CGAN if catalog else ctx.empty_message)
    with gr.Row(equal_height=True):
        checkpoint = gr.Dropdown(choices, value=default, label="conditional checkpoint", scale=3)
        seed = option_widget(CLASSES["seed"], scale=1, min_width=90, elem_id="classes-seed")
    # The pictures and their sliders run in the visitor's browser (explorer/web/); the server
    # hands the widget z for the seed and the model's name.
    latent_widget.widget_html(catalog, "classes", "classes-draw", [checkpoint, seed])
    # The same pictures drawn on the server, shown when the widget steps aside.
    with latent_widget.server_path_group():
        names = views.names_of(catalog, default)
        first = names[0] if names else None
        class_name = option_widget(
            CLASSES["class_name"], choices=names, value=first, allow_custom_value=True
        )
        with gr.Row():
            rows = option_widget(CLASSES["rows"], precision=0)
            side = option_widget(CLASSES["side"], precision=0)
            truncation = option_widget(CLASSES["truncation"])
        button = gr.Button("Draw", variant="primary", elem_id="classes-draw")
        every = gr.Image(None, label=views.EVERY_CLASS_PICTURE, **latent_widget.PICTURE)
        with gr.Row():
            one = gr.Image(None, label=views.ONE_CLASS_PICTURE, **latent_widget.PICTURE)
            text = gr.Markdown("")

    gr.on(
        triggers=[button.click, class_name.input, rows.release, side.release, truncation.release],
        fn=functools.partial(on_classes, catalog=catalog),  # API names: on_classes's
        inputs=[checkpoint, class_name, seed, rows, side, truncation],
        outputs=[every, one, text],
        api_name="classes",
        trigger_mode="always_last",
        show_progress="minimal",
    )
    checkpoint.change(
        lambda key: on_class_checkpoint(key, catalog=catalog),
        checkpoint,
        class_name,
        api_name="classes_checkpoint_changed",
        show_progress="hidden",
    )
    return checkpoint, seed
