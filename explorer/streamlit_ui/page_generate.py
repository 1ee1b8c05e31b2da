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
from explorer.context import empty_message
from explorer.streamlit_ui import latent_widget, shared
from explorer.streamlit_ui.widgets import option_widget
from explorer.views import GENERATE, MIXED, GenerateParams
from trainers import latent_space
from trainers.checkpoint import CheckpointError
from trainers.pipeline import GANPipeline

N_DIMS, N_PCS = widget.N_DIMS, widget.N_PCS
P = shared.KEEP + "generate."  # this page's widget keys
#: Session State keys of the settings (the grid side is "side", one key per slider).
KEYS = {"seed": "seed", "grid": "side", "truncation": "truncation", "class_name": "class"}


@dataclass(frozen=True)
class Grid:
    """One grid for the page: the picture as PNG bytes and the Markdown beside it."""

    png: bytes
    text: str


def settings_now(pipe: GANPipeline) -> GenerateParams:
    """This session's Generate settings (their defaults before the page was opened): the
    Inside page looks at the same latents."""
    state, start = st.session_state, GenerateParams()
    values = {name: state.get(P + key, getattr(start, name)) for name, key in KEYS.items()}
    if values["class_name"] not in views.class_names(pipe):
        values["class_name"] = MIXED
    last = pipe.latent_dim - 1
    return GenerateParams(
        **values,
        dims=tuple(min(int(state.get(P + f"dim{i}", d)), last) for i, d in enumerate(start.dims)),
        offsets=tuple(float(state.get(P + f"offset{i}", 0.0)) for i in range(N_DIMS)),
        pcs=tuple(float(state.get(P + f"pc{i}", 0.0)) for i in range(N_PCS)),
    )


@st.cache_data(max_entries=256, show_spinner=False)
def sample_grid(path: str, stamp: int, params: GenerateParams) -> Grid:
    """The samples for these settings, drawn as a captioned grid (cached by the settings)."""
    pipe = shared.pipeline_at(path, stamp)
    with shared.computing():
        picture, text = views.generate_view(pipe, params)
    return Grid(shared.png(picture), text)


def _new_seed() -> None:
    st.session_state[P + "seed"] = random.randrange(0, 1_000_000)


def _reset() -> None:
    st.session_state[P + "truncation"] = 1.0
    for key in [f"offset{i}" for i in range(N_DIMS)] + [f"pc{i}" for i in range(N_PCS)]:
        st.session_state[P + key] = 0.0


def render() -> None:
    """The Generate page: the model picker, then the sliders and the grid as one fragment, so
    a slider reruns (and redraws) only the fragment, not the page around it."""
    catalog = shared.catalog()
    st.header("Generate")
    if not catalog:
        st.warning(empty_message(catalog, shared.hosted()))
        return
    with st.sidebar:
        key = shared.model_picker(catalog.entries)
    try:
        pipe = shared.load(key)
        latent_space.principal_directions(pipe, k=N_PCS)  # once per model, cached
    except (CheckpointError, ValueError) as error:
        st.error(shared.public(str(error)))
        return
    with st.sidebar:
        row = st.columns([3, 2], vertical_alignment="bottom")
        seed = option_widget(GENERATE["seed"], P + "seed", container=row[0])
        row[1].button(views.NEW_SEED, on_click=_new_seed)
    # The sliders and the grid run in the visitor's browser (explorer/web/latent-widget.js):
    # the server hands over z for the seed, the principal directions and the model's name.
    config = widget.page_config(catalog, key, "generate", seed)
    if latent_widget.show(config, key=P + "widget") is not None:  # drawn on the server
        st.fragment(sliders_and_grid)(key)
    with st.expander(views.GENERATE_ABOUT_TITLE):
        st.markdown(views.GENERATE_ABOUT)


def sliders_and_grid(key: str) -> None:
    """The sidebar's sliders and the grid they make on the server (an ``st.fragment``): the
    page's fallback when the browser widget steps aside."""
    entry = shared.catalog().get(key)
    pipe = shared.load(key)
    pca = latent_space.principal_directions(pipe, k=N_PCS)
    d = pipe.latent_dim
    with st.sidebar:
        option_widget(GENERATE["grid"], P + "side")
        option_widget(GENERATE["truncation"], P + "truncation")
        if pipe.conditional:
            options = [MIXED, *views.class_names(pipe)]
            shared.choose(P + "class", options, MIXED)
            option_widget(GENERATE["class_name"], P + "class", options=options)
        with st.expander(views.DIMS_TITLE, expanded=True):
            for i, start in enumerate(GenerateParams().dims):
                shared.clamp(shared.init(P + f"dim{i}", start), 0, d - 1)
                cols = st.columns([1, 2], vertical_alignment="bottom")
                label = views.dim_label(d)
                option_widget(
                    GENERATE["dims"], P + f"dim{i}", container=cols[0], label=label, max_value=d - 1
                )
                label = f"{GENERATE['offsets'].label} #{i + 1}"
                option_widget(
                    GENERATE["offsets"], P + f"offset{i}", container=cols[1], value=0.0, label=label
                )
        with st.expander(views.PCS_TITLE, expanded=True):
            for i in range(N_PCS):
                label = widget.pc_label(i, float(pca.explained[i]))
                option_widget(GENERATE["pcs"], P + f"pc{i}", value=0.0, label=label)
        st.button(views.RESET, on_click=_reset)
    try:
        grid = sample_grid(str(entry.path), shared.stamp_of(entry), settings_now(pipe))
    except ValueError as error:  # shared.BusyError, a bad class
        st.error(shared.public(str(error)))
        return
    left, right = st.columns([3, 2])
    shared.image(left, grid.png, caption=views.GENERATE_PICTURE)
    right.markdown(grid.text)
