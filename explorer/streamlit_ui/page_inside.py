"""Inside the generator: every layer's output for one latent of the Generate page's grid, from
z to the image (:func:`explorer.latents.feature_maps`, drawn by ``layers_picture``).

The latent is the one the Generate page shows with this session's settings (seed, grid,
truncation, class, sliders), so moving a slider there and coming back shows its effect inside.
"""

from __future__ import annotations

import streamlit as st

from explorer import latents
from explorer.streamlit_ui import page_generate, shared
from trainers.checkpoint import CheckpointError

P = shared.KEEP + "inside."

ABOUT_MD = """
Each picture is one layer's output for the same z, in the order the forward pass runs. A layer
output is a stack of *channels* (feature maps); each tile is one channel, scaled to its own
min..max (white = largest). Every `ConvTranspose2d(k=4, s=2, p=1)` doubles height and width;
BatchNorm rescales each channel, ReLU zeroes the negative values (black tiles are channels that
are "off" for this z) and tanh squashes the last layer into the pixel range [−1, 1].
"""


def render() -> None:
    """The Inside the generator page."""
    catalog = shared.catalog()
    st.header("Inside the generator")
    st.markdown(ABOUT_MD)
    key, pipe = shared.page_model(catalog)
    if pipe is None:
        return
    try:
        settings = page_generate.settings_now(pipe)
        n = settings["side"] ** 2
        shared.clamp(shared.init(P + "sample", 0), 0, n - 1)
        index = st.slider(
            "which sample of the Generate page's grid (0 = top left)",
            0,
            max(n - 1, 1),
            key=P + "sample",
            disabled=n == 1,
        )
        index = min(index, n - 1)
        with shared.computing():
            z, labels = page_generate.batch_latents(pipe, **settings)
            label = int(labels[index]) if labels is not None else None
            layers = latents.feature_maps(pipe, z[index], label)
            picture = latents.layers_picture(layers)
    except (CheckpointError, ValueError) as error:
        st.error(shared.public(str(error)))
        return
    what = f"sample {index} of seed {settings['seed']}"
    if label is not None:
        what += f", class {pipe.class_names[label]}"
    shared.image(st, picture, caption=f"Layer outputs of `{pipe.name}` for {what}")
    rows = "\n".join(
        f"| {i} | `{layer.name}` | {layer.kind} | {' × '.join(map(str, layer.shape))} | "
        f"{layer.params:,} | {layer.note} |"
        for i, layer in enumerate(layers)
    )
    st.markdown(
        "| # | layer | what | output shape (one sample) | weights | picture |\n"
        "|---|---|---|---|---|---|\n" + rows
    )
