"""The "Interpolate" tab: walk from one sample to another, in a straight line and on the sphere.

The page (its parameters, rules and words) is :mod:`explorer.views`: between two seeds, or, for
a cGAN, between two classes with z fixed; lerp and slerp as a filmstrip and an animated GIF.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import gradio as gr
import numpy as np

from explorer import views
from explorer.gradio_ui.tabs import latent_widget
from explorer.gradio_ui.tabs.generate import fill_on_first_open
from explorer.gradio_ui.widgets import option_widget
from explorer.views import BETWEEN_CLASSES as CLASSES  # noqa: F401 (tests)
from explorer.views import INTERPOLATE, SEEDS

if TYPE_CHECKING:
    from explorer.context import ExplorerContext


def on_interpolate(
    checkpoint: str | None,
    mode: str = SEEDS,
    seed_a: float = 0,
    seed_b: float = 1,
    class_a: str | None = None,
    class_b: str | None = None,
    frames: float = 8,
    *,
    catalog: Any = None,
) -> tuple[np.ndarray | None, str | None, str | None, str]:
    """Returns (filmstrip picture, GIF path for display, the same path to download, Markdown)."""
    params = views.InterpolateParams(mode, seed_a, seed_b, class_a, class_b, frames)
    strip, gif, text = views.shown(views.interpolate_view, catalog, checkpoint, params, blanks=2)
    return strip, gif and str(gif), gif and str(gif), text


def on_interpolate_checkpoint(checkpoint: str | None, *, catalog: Any = None) -> list[Any]:
    """A new model: offer its class names (cGAN only); other models go back to two seeds."""
    names = views.names_of(catalog, checkpoint)
    return [
        gr.Radio() if names else gr.Radio(value=SEEDS),
        gr.Dropdown(choices=names, value=names[0] if names else None, visible=bool(names)),
        gr.Dropdown(choices=names, value=names[1] if len(names) > 1 else None, visible=bool(names)),
    ]


def build_tab(ctx: ExplorerContext, tab: gr.Tab | None = None) -> gr.Number:
    """Create the tab's components and events inside the current Tab.

    With ``tab`` the first interpolation is made when the user first opens it; without, now.
    Returns seed A (a link to this view sets it).
    """
    catalog = ctx.catalog
    names = views.names_of(catalog, ctx.default_key)
    with gr.Row(equal_height=True):
        mode = option_widget(INTERPOLATE["mode"], scale=2)
        seed_a = option_widget(INTERPOLATE["seed_a"], scale=1)
        seed_b = option_widget(INTERPOLATE["seed_b"], scale=1)
        class_a, class_b = (
            option_widget(
                INTERPOLATE[name],
                choices=names,
                value=names[i] if len(names) > i else None,
                info=None,
                visible=bool(names),
                scale=1,
                allow_custom_value=True,
            )
            for i, name in enumerate(("class_a", "class_b"))
        )
    # Scrub t: lerp and slerp side by side, morphing in the visitor's browser (explorer/web/).
    inputs = [ctx.checkpoint, seed_a, seed_b]
    latent_widget.widget_html(catalog, "interpolate", "interpolate-button", inputs)
    with gr.Row(equal_height=True):
        frames = option_widget(INTERPOLATE["frames"], precision=0, scale=3)
        button = gr.Button("Interpolate", variant="primary", scale=1, elem_id="interpolate-button")
    first = (
        on_interpolate(ctx.default_key, catalog=catalog)
        if ctx.default_key and tab is None
        else (None, None, None, "" if ctx.default_key else ctx.empty_message)
    )
    strip = gr.Image(first[0], label=views.FILMSTRIP, **latent_widget.PICTURE)
    text = gr.Markdown(first[3])
    with gr.Row():
        gif = gr.Image(first[1], label=views.ANIMATION, type="filepath", interactive=False, scale=2)
        download = gr.File(first[2], label="GIF to download", interactive=False, scale=1)
    with gr.Accordion(views.INTERPOLATE_ABOUT_TITLE, open=False):
        gr.Markdown(views.INTERPOLATE_ABOUT)

    run = functools.partial(on_interpolate, catalog=catalog)  # API names: on_interpolate's
    inputs = [ctx.checkpoint, mode, seed_a, seed_b, class_a, class_b, frames]
    outputs = [strip, gif, download, text]
    gr.on(
        triggers=[
            button.click,
            ctx.checkpoint.change,
            mode.input,
            frames.release,
            seed_a.submit,
            seed_b.submit,
            class_a.input,
            class_b.input,
        ],
        fn=run,
        inputs=inputs,
        outputs=outputs,
        api_name="interpolate",
        trigger_mode="always_last",
        show_progress="minimal",
    )
    fill_on_first_open(tab, run, inputs, outputs, "interpolate_open")
    ctx.checkpoint.change(
        lambda key: on_interpolate_checkpoint(key, catalog=catalog),
        ctx.checkpoint,
        [mode, class_a, class_b],
        api_name="interpolate_checkpoint_changed",
        show_progress="hidden",
    )
    return seed_a
