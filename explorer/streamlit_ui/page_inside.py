"""Inside the generator: every layer's output for one latent of the Generate page's grid, from
z to the image (:func:`explorer.views.inside_view`).

The latent is the one the Generate page shows with this session's settings (seed, grid,
truncation, class, sliders), so moving a slider there and coming back shows its effect inside.
"""

from __future__ import annotations

import streamlit as st

from explorer import views
from explorer.streamlit_ui import page_generate, shared
from explorer.streamlit_ui.widgets import option_widget
from trainers.checkpoint import CheckpointError

P = shared.KEEP + "inside."


def render() -> None:
    """The Inside the generator page."""
    key, pipe = shared.page_model("inside", views.INSIDE_ABOUT)
    if pipe is None:
        return
    try:
        settings = page_generate.settings_now(pipe)
        n = views.checked(views.GENERATE["grid"], settings.grid, "The grid side") ** 2
        shared.clamp(shared.init(P + "sample", 0), 0, n - 1)
        spec = views.INSIDE["sample"]
        index = option_widget(spec, P + "sample", max_value=max(n - 1, 1), disabled=n == 1)
        with shared.computing():
            picture, table = views.inside_view(pipe, settings, min(index, n - 1))
    except (CheckpointError, ValueError) as error:
        st.error(shared.public(str(error)))
        return
    shared.image(st, picture, caption=views.INSIDE_PICTURE)
    st.markdown(table)
