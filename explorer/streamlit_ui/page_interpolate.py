"""Interpolate: lerp and slerp side by side, as a filmstrip and as a GIF to download.

Between sample 0 of two seeds, or (cGAN) between two classes with z fixed; the frames come
from :func:`trainers.latent_space.interpolate_seeds` / ``interpolate_classes`` and the
pictures from :mod:`explorer.latents`.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from explorer import latents, widget
from explorer.streamlit_ui import latent_widget, shared
from trainers import latent_space
from trainers.pipeline import GANPipeline

P = shared.KEEP + "interpolate."
SEEDS = "two seeds"
CLASSES = "two classes (cGAN, same z)"

ABOUT_MD = """
**lerp** walks the straight line `(1 − t)·a + t·b`; **slerp** walks the great circle between
a and b. A latent z ~ N(0, I) in d dimensions almost always has length close to √d; halfway
along the straight line the length drops to about √(d/2), where G was rarely trained, so
lerp's middle frames can look washed out. slerp keeps the length, as ‖v‖ under each frame
shows (White 2016, "Sampling Generative Networks").
"""


@dataclass(frozen=True)
class Walk:
    """The filmstrip (PNG bytes), the animated GIF (bytes) and the sentence under them."""

    strip: bytes
    gif: bytes
    text: str


@st.cache_data(max_entries=32, show_spinner=False)
def walk(
    path: str, stamp: int, classes: tuple[int, int] | None, seed_a: int, seed_b: int, frames: int
) -> Walk:
    """Interpolate between two classes (``classes``) or two seeds; cached by the settings."""
    pipe = shared.pipeline_at(path, stamp)
    with shared.computing():
        return _walk(pipe, classes, seed_a, seed_b, frames)


def _walk(
    pipe: GANPipeline, classes: tuple[int, int] | None, seed_a: int, seed_b: int, frames: int
) -> Walk:
    if classes is not None:
        interp = latent_space.interpolate_classes(pipe, seed_a, classes[0], classes[1], frames)
    else:
        label = 0 if pipe.conditional else None
        interp = latent_space.interpolate_seeds(pipe, seed_a, seed_b, frames, label)
    with tempfile.TemporaryDirectory(prefix="gan-explorer-gif-") as tmp:
        gif = latents.write_gif(latents.gif_frames(interp), Path(tmp) / "walk.gif")
        gif_bytes = gif.read_bytes()
    norms = interp.norms
    text = (
        f"{frames} frames. Length of the interpolated {interp.what} halfway: "
        f"lerp **{norms['lerp'][frames // 2]:.2f}**, slerp **{norms['slerp'][frames // 2]:.2f}** "
        f"(ends {norms['lerp'][0]:.2f} and {norms['lerp'][-1]:.2f}; typical "
        f"{interp.reference_norm:.2f})."
    )
    if interp.scores["lerp"] is not None:
        text += (
            f" Mean D(G(z)) along the path: lerp {interp.scores['lerp'].mean():.2f}, "
            f"slerp {interp.scores['slerp'].mean():.2f}."
        )
    return Walk(shared.png(latents.filmstrip(interp)), gif_bytes, text)


def render() -> None:
    """The Interpolate page."""
    catalog = shared.catalog()
    st.header("Interpolate")
    key, pipe = shared.page_model(catalog)
    if pipe is None:
        return
    names = list(pipe.class_names) if pipe.conditional else []
    modes = [SEEDS, CLASSES] if names else [SEEDS]
    shared.choose(P + "mode", modes, SEEDS)
    top = st.columns([2, 1, 1, 1, 1], vertical_alignment="bottom")
    mode = top[0].radio("between", modes, key=P + "mode", horizontal=True)
    seed_a = top[1].number_input("seed A (the z)", min_value=0, step=1, key=shared.init(P + "a", 0))
    seed_b = top[2].number_input(
        "seed B", min_value=0, step=1, key=shared.init(P + "b", 1), disabled=mode == CLASSES
    )
    classes = None
    if mode == CLASSES:
        shared.choose(P + "class_a", names)
        shared.choose(P + "class_b", names, names[min(1, len(names) - 1)])
        class_a = top[3].selectbox("class A", names, key=P + "class_a")
        class_b = top[4].selectbox("class B", names, key=P + "class_b")
        classes = (names.index(class_a), names.index(class_b))
    # Scrub t: lerp and slerp side by side, morphing in the visitor's browser (explorer/web/).
    config = widget.page_config(catalog, key, "interpolate", seed_a, seed_b=seed_b)
    reason = latent_widget.show(config, key=P + "widget")
    if reason is not None:
        latent_widget.fallback_note(reason)
    most = shared.limits().interpolate_frames
    shared.clamp(shared.init(P + "frames", 8), 2, most)
    frames = st.slider("frames N", 2, most, key=P + "frames")
    entry = catalog.get(key)
    try:
        result = walk(
            str(entry.path), shared.stamp_of(entry), classes, int(seed_a), int(seed_b), int(frames)
        )
    except ValueError as error:
        st.error(shared.public(str(error)))
        return
    shared.image(
        st, result.strip, caption="Filmstrip: lerp (top) and slerp (bottom); ‖v‖ under each frame"
    )
    st.markdown(result.text)
    left, right = st.columns([2, 1])
    left.image(result.gif, caption="Animated: lerp | slerp")
    right.download_button(
        "Download the GIF",
        result.gif,
        file_name="interpolation.gif",
        mime="image/gif",
        on_click="ignore",
    )
    with st.expander("Why slerp? (the soap-bubble effect)"):
        st.markdown(ABOUT_MD)
