"""Classes (cGAN): one z across every class, or a grid of one class.

Each row of the first picture keeps its latent while only the label changes, so whatever stays
the same (thickness, slant, brightness) is what z encodes. The pictures come from
:func:`trainers.latent_space.one_z_every_class` and :func:`~trainers.latent_space.one_class_grid`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import streamlit as st

from explorer import latents, widget
from explorer.context import empty_message
from explorer.streamlit_ui import latent_widget, shared
from trainers import latent_space
from trainers.checkpoint import CheckpointError

P = shared.KEEP + "classes."

ABOUT_MD = """
**Conditional GAN** (Mirza & Osindero 2014): G makes G(z, y) and D judges the *pair*
D(x, y), "is x a real image **of class y**?", so G must learn to obey the label.
The number under each sample is D(G(z, y), y) for the label it was asked for.
"""

NO_CGAN_MD = (
    "No conditional GAN (cgan) checkpoint was found. Train one with "
    "`gan-train cgan --dataset fashion-mnist --out runs/cgan-fashion-mnist` and start the "
    "explorer with `--checkpoint-dir runs/`."
)


@dataclass(frozen=True)
class ClassPictures:
    """The two pictures (PNG bytes) and the sentence under them."""

    every: bytes
    one: bytes
    text: str


@st.cache_data(max_entries=64, show_spinner=False)
def class_pictures(
    path: str, stamp: int, index: int, seed: int, rows: int, side: int, truncation: float
) -> ClassPictures:
    """Both pictures for these settings (cached by the settings)."""
    pipe = shared.pipeline_at(path, stamp)
    with shared.computing():
        every_picture, one_picture, text = latents.class_pictures(
            pipe, index, seed, rows, side, truncation
        )
    return ClassPictures(shared.png(every_picture), shared.png(one_picture), text)


def render() -> None:
    """The Classes page."""
    catalog = shared.catalog()
    st.header("Classes (cGAN)")
    st.markdown(ABOUT_MD)
    entries = [e for e in catalog.entries if e.conditional]
    if not entries:
        st.warning(NO_CGAN_MD if catalog else empty_message(catalog, shared.hosted()))
        return
    top = st.columns([3, 2, 1], vertical_alignment="bottom")
    with top[0]:
        key = shared.model_picker(entries, P + "checkpoint", "conditional checkpoint")
    try:
        pipe = shared.load(key)
        latent_space.require_conditional(pipe)
    except (CheckpointError, ValueError) as error:
        st.error(shared.public(str(error)))
        return
    seed = top[2].number_input("seed", min_value=0, step=1, key=shared.init(P + "seed", 0))
    # The pictures and their sliders run in the visitor's browser (explorer/web/).
    config = widget.page_config(shared.catalog(), key, "classes", seed)
    reason = latent_widget.show(config, key=P + "widget")
    if reason is not None:  # drawn on the server instead
        latent_widget.fallback_note(reason)
        server_pictures(key, pipe, int(seed), top[1])


def server_pictures(key: str, pipe: Any, seed: int, class_column: Any) -> None:
    """The Classes pictures drawn on the server (when the browser widget steps aside)."""
    catalog = shared.catalog()
    names = list(pipe.class_names)
    shared.choose(P + "class", names)
    class_name = class_column.selectbox("class", names, key=P + "class")
    sliders = st.columns(3)
    rows = sliders[0].slider(
        "rows (latents) in the every-class grid", 1, 4, key=shared.init(P + "rows", 2)
    )
    side = sliders[1].slider("one-class grid side (n × n)", 1, 6, key=shared.init(P + "side", 4))
    truncation = sliders[2].slider(
        "truncation ψ", 0.0, 1.5, step=0.05, key=shared.init(P + "truncation", 1.0)
    )
    entry = catalog.get(key)
    try:
        pictures = class_pictures(
            str(entry.path),
            shared.stamp_of(entry),
            names.index(class_name),
            int(seed),
            int(rows),
            int(side),
            float(truncation),
        )
    except ValueError as error:  # shared.BusyError
        st.error(shared.public(str(error)))
        return
    shared.image(st, pictures.every, caption="One z, every class (rows: latents; columns: labels)")
    left, right = st.columns([1, 1])
    shared.image(left, pictures.one, caption=f"One class ({class_name}), many z")
    right.markdown(pictures.text)
