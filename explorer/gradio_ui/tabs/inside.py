"""The "Inside the generator" tab: every layer's feature maps for one latent, from z to image.

The latent is one sample of the Generate tab (same seed, truncation and sliders); the page is
:func:`explorer.views.inside_view`. Also here: :func:`build_checkerboard_section`, the "on a
trained model's output" part of the checkerboard comparison, which the app places in the
Transposed convolution tab (:func:`explorer.views.model_checkerboard`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import gradio as gr
import numpy as np

from explorer import views
from explorer.gradio_ui.tabs.generate import GenerateControls, default_settings, fill_on_first_open
from explorer.gradio_ui.widgets import option_widget

if TYPE_CHECKING:
    from explorer.context import ExplorerContext


def on_inside(
    checkpoint: str | None, *values: Any, catalog: Any = None
) -> tuple[np.ndarray | None, str]:
    """The /inside endpoint: (one picture with every layer's channels, Markdown table).

    ``values`` are the Generate tab's controls (``GenerateControls.inputs``), then the sample.
    """
    *settings, sample = values
    params = views.GenerateParams.from_values(*settings[:4], settings[4:])
    return views.shown(views.inside_view, catalog, checkpoint, params, sample)


def build_tab(ctx: ExplorerContext, controls: GenerateControls, tab: gr.Tab | None = None) -> None:
    """Create the tab; its latent comes from the Generate tab's ``controls``.

    With ``tab`` the layers are drawn when the user first opens it; without, right now.
    """
    catalog = ctx.catalog
    gr.Markdown(views.INSIDE_ABOUT)
    with gr.Row(equal_height=True):
        sample = option_widget(views.INSIDE["sample"], precision=0, scale=3)
        button = gr.Button("Show the layers", variant="primary", scale=1)
    first = (None, "" if ctx.default_key else ctx.empty_message)
    if ctx.default_key and tab is None:
        first = on_inside(ctx.default_key, *default_settings(), 0, catalog=catalog)
    picture = gr.Image(
        first[0],
        label=views.INSIDE_PICTURE,
        format="png",
        interactive=False,
        show_label=False,
        elem_id="inside-layers",
        buttons=["download", "fullscreen"],
    )
    table = gr.Markdown(first[1])

    show = functools.partial(on_inside, catalog=catalog)
    inputs = [ctx.checkpoint, *controls.inputs(), sample]
    gr.on(
        triggers=[button.click, sample.release, ctx.checkpoint.change],
        fn=show,
        inputs=inputs,
        outputs=[picture, table],
        api_name="inside",
        trigger_mode="always_last",
        show_progress="minimal",
    )
    fill_on_first_open(tab, show, inputs, [picture, table], "inside_open")


def build_checkerboard_section(
    ctx: ExplorerContext, artifact_view: Callable[..., Any], tab: gr.Tab | None = None
) -> None:
    """Two checkpoints side by side under ``explorer.convlab.artifact_view``; drawn when the
    user first opens ``tab``, or right now without it."""
    catalog = ctx.catalog
    gr.Markdown(f"#### {views.CHECKERBOARD_TITLE}\n{views.CHECKERBOARD_ABOUT}")
    choices = catalog.choices(convolutional_only=True)
    if not choices:
        gr.Markdown(views.NO_CONVOLUTIONAL)
        return
    key_a, key_b = views.checkerboard_pair(catalog)
    with gr.Row(equal_height=True):
        a = gr.Dropdown(choices, value=key_a, label="checkpoint A", scale=2)
        b = gr.Dropdown(choices, value=key_b, label="checkpoint B", scale=2)
        seed = gr.Number(0, precision=0, minimum=0, label="seed", scale=1)

    def run(key_a: str | None, key_b: str | None, seed: float) -> list[Any]:
        return views.model_checkerboard(catalog, (key_a, key_b), seed, artifact_view)

    first = run(key_a, key_b, 0) if tab is None else [None] * 6 + [""]
    images = []
    for row, tag in enumerate(("A", "B")):
        with gr.Row():
            for j, name in enumerate(views.CHECKERBOARD_PICTURES):
                # a height: without it an image that starts empty stays 0 px high in a Row
                shown = {"label": f"{tag}: {name}", "format": "png", "interactive": False}
                images.append(gr.Image(first[3 * row + j], height=230, **shown))
    summary = gr.Markdown(first[-1])
    gr.on(
        triggers=[a.change, b.change, seed.change],
        fn=run,
        inputs=[a, b, seed],
        outputs=[*images, summary],
        api_name="checkerboard_on_model",
        trigger_mode="always_last",
        show_progress="minimal",
    )
    fill_on_first_open(tab, run, [a, b, seed], [*images, summary], "checkerboard_open")
