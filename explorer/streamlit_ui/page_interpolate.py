"""Interpolate: lerp and slerp side by side, as a filmstrip and as a GIF to download.

The page (its parameters, rules and words) is :mod:`explorer.views`: between sample 0 of two
seeds, or (cGAN) between two classes with z fixed.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from explorer import views, widget
from explorer.streamlit_ui import latent_widget, shared
from explorer.streamlit_ui.widgets import option_widget
from explorer.views import BETWEEN_CLASSES, INTERPOLATE, SEEDS, InterpolateParams

P = shared.KEEP + "interpolate."


@st.cache_data(max_entries=32, show_spinner=False)
def walk(path: str, stamp: int, params: InterpolateParams) -> tuple[bytes, bytes, str]:
    """The filmstrip (PNG bytes), the GIF (bytes) and the sentence; cached by the settings."""
    pipe = shared.pipeline_at(path, stamp)
    with shared.computing(), tempfile.TemporaryDirectory(prefix="gan-explorer-gif-") as tmp:
        strip, gif, text = views.interpolate_view(pipe, params, Path(tmp) / "walk.gif")
        return shared.png(strip), gif.read_bytes(), text


def render() -> None:
    """The Interpolate page."""
    key, pipe = shared.page_model("interpolate")
    if pipe is None:
        return
    names = views.class_names(pipe)
    modes = [SEEDS, BETWEEN_CLASSES] if names else [SEEDS]
    shared.choose(P + "mode", modes, SEEDS)
    top = st.columns([2, 1, 1, 1, 1], vertical_alignment="bottom")
    spec = INTERPOLATE["mode"]
    mode = option_widget(spec, P + "mode", container=top[0], options=modes, horizontal=True)
    classes = mode == BETWEEN_CLASSES
    seed_a = option_widget(INTERPOLATE["seed_a"], P + "a", container=top[1])
    seed_b = option_widget(INTERPOLATE["seed_b"], P + "b", container=top[2], disabled=classes)
    picked = [None, None]
    if classes:
        for i, name in enumerate(("class_a", "class_b")):
            shared.choose(P + name, names, names[min(i, len(names) - 1)])
            spec = INTERPOLATE[name]
            picked[i] = option_widget(spec, P + name, container=top[3 + i], options=names)
    # Scrub t: lerp and slerp side by side, morphing in the visitor's browser (explorer/web/).
    config = widget.page_config(shared.catalog(), key, "interpolate", seed_a, seed_b=seed_b)
    latent_widget.show(config, key=P + "widget")
    most = shared.limits().interpolate_frames
    shared.clamp(shared.init(P + "frames", 8), 2, most)
    frames = option_widget(INTERPOLATE["frames"], P + "frames", max_value=most)
    params = InterpolateParams(mode, seed_a, seed_b, *picked, frames)
    entry = shared.catalog().get(key)
    try:
        strip, gif, text = walk(str(entry.path), shared.stamp_of(entry), params)
    except ValueError as error:
        st.error(shared.public(str(error)))
        return
    shared.image(st, strip, caption=views.FILMSTRIP)
    st.markdown(text)
    left, right = st.columns([2, 1])
    left.image(gif, caption=views.ANIMATION)
    right.download_button(
        "Download the GIF", gif, file_name="interpolation.gif", mime="image/gif", on_click="ignore"
    )
    with st.expander(views.INTERPOLATE_ABOUT_TITLE):
        st.markdown(views.INTERPOLATE_ABOUT)
