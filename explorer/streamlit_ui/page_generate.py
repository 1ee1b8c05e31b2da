"""Generate: seed, grid side, truncation, raw-dimension and PCA sliders in the sidebar; the
grid with D's score under each sample, and both G losses on these samples.

The page (its parameters, rules and words) is :mod:`explorer.views`. The server-drawn grid is
cached with ``st.cache_data`` by the settings (:func:`sample_grid`), so a slider redraws only
the grid; with the sliders at 0 the pixels are ``gan-train sample``'s.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import streamlit as st

from explorer import views, widget
from explorer.streamlit_ui import latent_widget, shared
from explorer.streamlit_ui.widgets import option_widget
from explorer.views import GENERATE, MIXED, GenerateParams
from trainers.pipeline import GANPipeline

N_DIMS, N_PCS = widget.N_DIMS, widget.N_PCS
P = shared.KEEP + "generate."  # this page's widget keys
#: Session State keys of the settings, in ``GenerateParams.values`` order (the grid side is
#: "side", one key per slider).
PAIRS = [key for i in range(N_DIMS) for key in (f"dim{i}", f"offset{i}")]
KEYS = ["seed", "side", "truncation", "class", *PAIRS, *[f"pc{i}" for i in range(N_PCS)]]


@dataclass(frozen=True)
class Grid:
    """One grid for the page: the picture as PNG bytes and the Markdown beside it."""

    png: bytes
    text: str


def settings_now(pipe: GANPipeline) -> GenerateParams:
    """This session's Generate settings (their defaults before the page was opened): the
    Inside page looks at the same latents."""
    starts = GenerateParams().values()
    values = [st.session_state.get(P + key, start) for key, start in zip(KEYS, starts, strict=True)]
    return views.fitted(pipe, GenerateParams.from_values(*values[:4], values[4:]))


@st.cache_data(max_entries=256, show_spinner=False)
def sample_grid(path: str, stamp: int, params: GenerateParams) -> Grid:
    """The samples for these settings, drawn as a captioned grid (cached by the settings)."""
    pipe = shared.pipeline_at(path, stamp)
    with shared.computing():
        picture, text = views.generate_view(pipe, params)
    return Grid(shared.png(picture), text)


def _new_seed() -> None:
    st.session_state[P + "seed"] = random.randrange(0, views.NEW_SEED_MAX)


def _reset() -> None:
    """Truncation back to 1 and every slider to 0."""
    st.session_state[P + "truncation"] = 1.0
    for key in KEYS[4:]:
        if not key.startswith("dim"):
            st.session_state[P + key] = 0.0


def render() -> None:
    """The Generate page: the model picker, then the sliders and the grid as one fragment, so
    a slider reruns (and redraws) only the fragment, not the page around it."""
    key, pipe = shared.page_model("generate")
    if pipe is None:
        return
    with st.sidebar:
        row = st.columns([3, 2], vertical_alignment="bottom")
        seed = option_widget(GENERATE["seed"], P + "seed", container=row[0])
        row[1].button(views.NEW_SEED, on_click=_new_seed)
    # The sliders and the grid run in the visitor's browser (explorer/web/latent-widget.js):
    # the server hands over z for the seed, the principal directions and the model's name.
    config = widget.page_config(shared.catalog(), key, "generate", seed)
    if latent_widget.show(config, key=P + "widget") is not None:  # drawn on the server
        st.fragment(sliders_and_grid)(key)
    with st.expander(views.GENERATE_ABOUT_TITLE):
        st.markdown(views.GENERATE_ABOUT)


def sliders_and_grid(key: str) -> None:
    """The sidebar's sliders and the grid they make on the server (an ``st.fragment``): the
    page's fallback when the browser widget steps aside."""
    entry = shared.catalog().get(key)
    pipe = shared.load(key)
    model = views.generate_model(pipe)
    with st.sidebar:
        option_widget(GENERATE["grid"], P + "side")
        option_widget(GENERATE["truncation"], P + "truncation")
        if model.conditional:
            shared.choose(P + "class", model.choices, MIXED)
            option_widget(GENERATE["class_name"], P + "class", options=model.choices)
        with st.expander(views.DIMS_TITLE, expanded=True):
            box = {"label": model.dim_label, "max_value": model.last_dim}
            for i, start in enumerate(GenerateParams().dims):
                shared.clamp(shared.init(P + f"dim{i}", start), 0, model.last_dim)
                left, right = st.columns([1, 2], vertical_alignment="bottom")
                option_widget(GENERATE["dims"], P + f"dim{i}", container=left, **box)
                slider = {"label": views.offset_label(i), "value": 0.0}
                option_widget(GENERATE["offsets"], P + f"offset{i}", container=right, **slider)
        with st.expander(views.PCS_TITLE, expanded=True):
            for i, label in enumerate(model.pc_labels):
                option_widget(GENERATE["pcs"], P + f"pc{i}", value=0.0, label=label)
        st.button(views.RESET, on_click=_reset)
    try:
        grid = sample_grid(str(entry.path), shared.stamp_of(entry), settings_now(pipe))
    except ValueError as error:  # explorer.jobs.BusyError, a bad class
        st.error(shared.public(str(error)))
        return
    left, right = st.columns([3, 2])
    shared.image(left, grid.png, caption=views.GENERATE_PICTURE)
    right.markdown(grid.text)
