"""The "Interpolate" tab: walk from one sample to another, in a straight line and on the sphere.

Between two seeds (sample 0 of each), or, for a cGAN, between two classes with z fixed
(the class *embedding* is interpolated). Both lerp and slerp are shown, as a filmstrip and as
an animated GIF to download. Handlers are plain functions over the checkpoint's pipeline
(:mod:`trainers.latent_space`); :mod:`explorer.latents` draws the pictures.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import gradio as gr
import numpy as np

from explorer import inputs, latents, widget
from explorer.gradio_ui.tabs import latent_widget
from explorer.gradio_ui.tabs.generate import class_names, fill_on_first_open
from trainers import latent_space
from trainers.checkpoint import CheckpointError

MAX_FRAMES = 24  # frames of a filmstrip and its GIF (VisitorLimits.interpolate_frames)

if TYPE_CHECKING:
    from explorer.context import ExplorerContext

SEEDS = "two seeds"
CLASSES = "two classes (cGAN, same z)"

TEACHING_MD = """
**lerp** walks the straight line `(1 − t)·a + t·b`. **slerp** walks the great circle
`sin((1 − t)Ω)/sin Ω · a + sin(tΩ)/sin Ω · b` (Ω = angle between a and b).

Why bother? A latent z ~ N(0, I) in d dimensions almost always has length close to √d
(the "soap bubble": nearly all the probability sits in a thin shell). Halfway along the
straight line between two such vectors the length drops to about √(d/2), a region G was
rarely trained on, so lerp's middle frames can look washed out or odd. slerp keeps the
length, as the ‖v‖ under each frame shows (White 2016, "Sampling Generative Networks").
"""


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
    try:
        ckpt = catalog.load(checkpoint)
        n = inputs.whole(frames, "The number of frames", 2, MAX_FRAMES, 8)
        seed_a, seed_b = inputs.seed(seed_a, "Seed A"), inputs.seed(seed_b, "Seed B")
        names = class_names(ckpt)
        note = ""
        if mode == CLASSES and not names:
            note = " (this model has no classes, so between two seeds)"
        if mode == CLASSES and names:
            a = names.index(class_a) if class_a in names else 0
            b = names.index(class_b) if class_b in names else min(1, len(names) - 1)
            interp = latent_space.interpolate_classes(ckpt, int(seed_a or 0), a, b, n)
            what = f"class **{names[a]}** → **{names[b]}**, same z (seed {int(seed_a or 0)})"
        else:
            label = names.index(class_a) if class_a in names else (0 if names else None)
            interp = latent_space.interpolate_seeds(
                ckpt, int(seed_a or 0), int(seed_b or 0), n, label
            )
            what = f"seed {int(seed_a or 0)} → seed {int(seed_b or 0)}{note}"
            if names:
                what += f", class **{names[label]}**"
        strip = latents.filmstrip(interp)
        gif = str(latents.write_gif(latents.gif_frames(interp)))
    except (CheckpointError, ValueError) as error:
        return None, None, None, f"⚠️ {error}"
    lerp_mid = float(interp.norms["lerp"][n // 2])
    slerp_mid = float(interp.norms["slerp"][n // 2])
    text = (
        f"{n} frames, {what}. Length of the interpolated {interp.what} halfway: "
        f"lerp **{lerp_mid:.2f}**, slerp **{slerp_mid:.2f}** (ends: {interp.norms['lerp'][0]:.2f} and "
        f"{interp.norms['lerp'][-1]:.2f}; typical: {interp.reference_norm:.2f})."
    )
    if interp.scores["lerp"] is not None:
        text += (
            f" Mean D(G(z)) along the path: lerp {interp.scores['lerp'].mean():.2f}, "
            f"slerp {interp.scores['slerp'].mean():.2f}."
        )
    return strip, gif, gif, text


def on_interpolate_checkpoint(checkpoint: str | None, *, catalog: Any = None) -> list[Any]:
    """A new model: offer its class names (cGAN only); other models go back to two seeds."""
    try:
        names = class_names(catalog.load(checkpoint))
    except (CheckpointError, ValueError):
        names = []
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
    names: list[str] = []
    if ctx.default_key:
        try:
            names = class_names(catalog.load(ctx.default_key))
        except (CheckpointError, ValueError):
            names = []
    with gr.Row(equal_height=True):
        mode = gr.Radio(
            [SEEDS, CLASSES], value=SEEDS, label="between", info="classes: cGAN only", scale=2
        )
        seed_a = gr.Number(
            0, precision=0, minimum=0, label="seed A (cGAN class mode: the z)", scale=1
        )
        seed_b = gr.Number(1, precision=0, minimum=0, label="seed B", scale=1)
        class_a = gr.Dropdown(
            names,
            value=names[0] if names else None,
            label="class A (cGAN)",
            visible=bool(names),
            scale=1,
            allow_custom_value=True,
        )
        class_b = gr.Dropdown(
            names,
            value=names[1] if len(names) > 1 else None,
            label="class B",
            visible=bool(names),
            scale=1,
            allow_custom_value=True,
        )
    # Scrub t: lerp and slerp side by side, morphing in the visitor's browser (explorer/web/).
    start = widget.page_config(catalog, ctx.default_key, "interpolate", 0, seed_b=1)
    widget_html = latent_widget.widget_html(
        json.dumps(start) if ctx.default_key else "", "interpolate", "interpolate-button"
    )
    with gr.Row(equal_height=True):
        frames = gr.Slider(2, MAX_FRAMES, value=8, step=1, precision=0, label="frames N", scale=3)
        button = gr.Button("Interpolate", variant="primary", scale=1, elem_id="interpolate-button")
    first = (
        on_interpolate(ctx.default_key, catalog=catalog)
        if ctx.default_key and tab is None
        else (None, None, None, "" if ctx.default_key else ctx.empty_message)
    )
    strip = gr.Image(
        first[0],
        label="Filmstrip: lerp (top) and slerp (bottom); ‖v‖ under each frame",
        format="png",
        interactive=False,
        buttons=["download"],
    )
    text = gr.Markdown(first[3])
    with gr.Row():
        gif = gr.Image(
            first[1], label="Animated: lerp | slerp", type="filepath", interactive=False, scale=2
        )
        download = gr.File(first[2], label="GIF to download", interactive=False, scale=1)
    with gr.Accordion("Why slerp? (the soap-bubble effect)", open=False):
        gr.Markdown(TEACHING_MD)

    def run(
        checkpoint: str | None,
        mode: str,
        seed_a: float,
        seed_b: float,
        class_a: str | None,
        class_b: str | None,
        frames: float,
    ) -> tuple[Any, Any, Any, str]:
        return on_interpolate(
            checkpoint, mode, seed_a, seed_b, class_a, class_b, frames, catalog=catalog
        )

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
        inputs=[ctx.checkpoint, mode, seed_a, seed_b, class_a, class_b, frames],
        outputs=[strip, gif, download, text],
        api_name="interpolate",
        trigger_mode="always_last",
        show_progress="minimal",
    )
    gr.on(
        triggers=[ctx.checkpoint.change, seed_a.change, seed_b.change],
        fn=lambda key, a, b: json.dumps(
            widget.page_config(catalog, key, "interpolate", a, seed_b=b)
        ),
        inputs=[ctx.checkpoint, seed_a, seed_b],
        outputs=widget_html,
        api_name="interpolate_widget",
        trigger_mode="always_last",
        show_progress="hidden",
        queue=False,  # a few ms each: no queue, never behind a long job
    )
    fill_on_first_open(
        tab,
        run,
        [ctx.checkpoint, mode, seed_a, seed_b, class_a, class_b, frames],
        [strip, gif, download, text],
        "interpolate_open",
    )
    ctx.checkpoint.change(
        lambda key: on_interpolate_checkpoint(key, catalog=catalog),
        ctx.checkpoint,
        [mode, class_a, class_b],
        api_name="interpolate_checkpoint_changed",
        show_progress="hidden",
    )
    return seed_a
