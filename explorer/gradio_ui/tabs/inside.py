"""The "Inside the generator" tab: every layer's feature maps for one latent, from z to image.

The latent is one sample of the Generate tab (same seed, truncation and sliders), so moving
a slider there and pressing "Show the layers" here shows which channels respond.

Also here: :func:`build_checkerboard_section`, the "on a trained model's output" part of the
checkerboard comparison, which the app places in the Transposed convolution tab when
:mod:`explorer.convlab` offers ``artifact_view``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import gradio as gr
import numpy as np

from explorer import inputs, latents
from explorer.gradio_ui.tabs.generate import (
    GenerateControls,
    default_settings,
    fill_on_first_open,
    latent_settings,
)
from trainers import activations
from trainers.checkpoint import CheckpointError

if TYPE_CHECKING:
    from explorer.context import ExplorerContext

TEACHING_MD = """
**From latent to image.** Each picture below is one layer's output for the same z, in the
order the forward pass runs. A 4-D layer output is a stack of *channels* (feature maps);
each small tile is one channel, scaled to its own min..max (white = largest). The DCGAN's
first Linear layer makes one long vector that the model reshapes into a small stack of
channels; every `ConvTranspose2d(k=4, s=2, p=1)` then doubles height and width:
H_out = (H_in − 1)·s − 2p + k = 2·H_in. BatchNorm rescales each channel, ReLU zeroes the
negative values (black tiles are channels that are "off" for this z), and tanh squashes
the last layer into [−1, 1], the pixel range.
"""

CHECKERBOARD_MD = """
#### On a trained model's output

The same views for a real checkpoint of this app: its first sample for a seed, the
high-pass residual and the spectrum, with the artefact's period set to the generator's
total upsampling factor. Compare a ConvTranspose generator with a resize-conv one
(`--preset resize-conv`) where both exist. The DCGAN's `ConvTranspose2d(k=4, s=2)` has a
kernel divisible by its stride, so the overlaps are even; any checkerboard left is learned,
and training usually removes most of it.
"""


def on_inside(
    checkpoint: str | None, *values: Any, catalog: Any = None
) -> tuple[np.ndarray | None, str]:
    """Returns (one picture with every layer's channels, Markdown table of the layers).

    ``values`` are the Generate tab's controls (see ``GenerateControls.inputs``) followed by
    the sample index.
    """
    *settings, sample = values
    seed, grid, truncation, class_name, *rest = settings
    try:
        ckpt = catalog.load(checkpoint)
        z, labels, _, _ = latent_settings(ckpt, seed, grid, truncation, class_name, tuple(rest))
        index = min(inputs.whole(sample, "The sample", 0, 63, 0), z.shape[0] - 1)
        label = int(labels[index]) if labels is not None else None
        layers = latents.feature_maps(ckpt, z[index], label)
    except (CheckpointError, ValueError) as error:
        return None, f"⚠️ {error}"
    picture = latents.layers_picture(layers)
    rows = "\n".join(
        f"| {i} | `{layer.name}` | {layer.kind} | {' × '.join(map(str, layer.shape))} | {layer.params:,} | {layer.note} |"
        for i, layer in enumerate(layers)
    )
    what = f"sample {index} of seed {int(seed or 0)}" + (
        f", class {ckpt.class_names[label] if ckpt.class_names else label}"
        if label is not None
        else ""
    )
    table = (
        f"Layers of `{ckpt.name}` for {what}:\n\n"
        "| # | layer | what | output shape (one sample) | weights | picture |\n|---|---|---|---|---|---|\n"
        + rows
    )
    return picture, table


def build_tab(ctx: ExplorerContext, controls: GenerateControls, tab: gr.Tab | None = None) -> None:
    """Create the tab; its latent comes from the Generate tab's ``controls``.

    With ``tab`` the layers are drawn when the user first opens it; without, right now.
    """
    catalog = ctx.catalog
    gr.Markdown(TEACHING_MD)
    with gr.Row(equal_height=True):
        sample = gr.Slider(
            0,
            63,
            value=0,
            step=1,
            precision=0,
            scale=3,
            label="which sample of the Generate tab's grid (0 = top left)",
        )
        button = gr.Button("Show the layers", variant="primary", scale=1)
    first_picture = None
    first_table = "" if ctx.default_key else ctx.empty_message
    if ctx.default_key and tab is None:
        first_picture, first_table = on_inside(
            ctx.default_key, *default_settings(), 0, catalog=catalog
        )
    picture = gr.Image(
        first_picture,
        label="Layer outputs in forward order (left to right, then down)",
        format="png",
        interactive=False,
        show_label=False,
        elem_id="inside-layers",
        buttons=["download", "fullscreen"],
    )
    table = gr.Markdown(first_table)

    def show(checkpoint: str | None, *values: Any) -> tuple[Any, str]:
        return on_inside(checkpoint, *values, catalog=catalog)

    gr.on(
        triggers=[button.click, sample.release, ctx.checkpoint.change],
        fn=show,
        inputs=[ctx.checkpoint, *controls.inputs(), sample],
        outputs=[picture, table],
        api_name="inside",
        trigger_mode="always_last",
        show_progress="minimal",
    )
    fill_on_first_open(
        tab, show, [ctx.checkpoint, *controls.inputs(), sample], [picture, table], "inside_open"
    )


# --- checkerboard on a real model (placed in the Transposed convolution tab) -------------------


def on_model_checkerboard(
    key_a: str | None,
    key_b: str | None,
    seed: float = 0,
    *,
    catalog: Any = None,
    artifact_view: Callable[..., Any] | None = None,
) -> list[Any]:
    """For each checkpoint: (image, high-pass, spectrum) pictures; then one Markdown summary."""
    pictures: list[Any] = []
    lines: list[str] = []
    for key in (key_a, key_b):
        try:
            ckpt = catalog.load(key)
            period = activations.upsampling_period(ckpt)
            if period is None:
                raise ValueError(f"{key} has no upsampling layers (an MLP): nothing to compare")
            factor, mode = period
            view = artifact_view(activations.first_image(ckpt, int(seed or 0)), period=factor)
        except (CheckpointError, ValueError) as error:
            pictures += [None, None, None]
            lines.append(f"**{key}**: ⚠️ {error}")
            continue
        pictures += [view.image, view.high_pass, view.spectrum]
        lines.append(f"**{key}** ({mode}, total upsampling ×{factor}): {view.summary}")
    return [*pictures, "  \n".join(lines)]


def _default_pair(ctx: ExplorerContext) -> tuple[str | None, str | None]:
    """A ConvTranspose checkpoint and, if there is one, a resize-conv checkpoint."""
    conv = [e for e in ctx.catalog.entries if e.convolutional]
    if not conv:
        return None, None
    transposed = [
        e
        for e in conv
        if (e.meta.get("config") or {}).get("upsample", "convtranspose") == "convtranspose"
    ]
    resize = [e for e in conv if (e.meta.get("config") or {}).get("upsample") == "resize-conv"]
    a = (transposed or conv)[0]
    b = resize[0] if resize else (conv[1] if len(conv) > 1 else conv[0])
    return a.key, b.key


def build_checkerboard_section(
    ctx: ExplorerContext, artifact_view: Callable[..., Any], tab: gr.Tab | None = None
) -> None:
    """Two checkpoints side by side under ``explorer.convlab.artifact_view``; drawn when the
    user first opens ``tab``, or right now without it."""
    catalog = ctx.catalog
    gr.Markdown(CHECKERBOARD_MD)
    choices = catalog.choices(convolutional_only=True)
    if not choices:
        gr.Markdown(
            "No convolutional checkpoint (DCGAN or cGAN) was found, so there is no trained model to look at."
        )
        return
    key_a, key_b = _default_pair(ctx)
    with gr.Row(equal_height=True):
        a = gr.Dropdown(choices, value=key_a, label="checkpoint A", scale=2)
        b = gr.Dropdown(choices, value=key_b, label="checkpoint B", scale=2)
        seed = gr.Number(0, precision=0, minimum=0, label="seed", scale=1)
    first: list[Any] = [None] * 6 + [""]
    if tab is None:
        first = on_model_checkerboard(key_a, key_b, 0, catalog=catalog, artifact_view=artifact_view)
    names = ["image", "high-pass", "spectrum"]
    images = []
    for row, tag in enumerate(("A", "B")):
        with gr.Row():
            for j, name in enumerate(names):
                images.append(
                    gr.Image(
                        first[3 * row + j],
                        label=f"{tag}: {name}",
                        format="png",
                        interactive=False,
                        height=230,  # without it an image that starts empty stays 0 px high in a Row
                    )
                )
    summary = gr.Markdown(first[-1])

    def run(key_a: str | None, key_b: str | None, seed: float) -> list[Any]:
        return on_model_checkerboard(
            key_a, key_b, seed, catalog=catalog, artifact_view=artifact_view
        )

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
