"""Ask D: upload a picture and see what the trained discriminator thinks of it.

The page (its parameters, rules and words) is :mod:`explorer.ask_d`: the one image loader with
its size limits, then :meth:`GANPipeline.score`; a file that is not a usable picture gives an
``st.error`` with the loader's one-sentence reason, never a traceback.
"""

from __future__ import annotations

import streamlit as st

from explorer import ask_d
from explorer.ask_d import BEST, SPECS, AskDParams
from explorer.streamlit_ui import shared
from explorer.streamlit_ui.widgets import option_widget

P = shared.KEEP + "ask_d."


def render() -> None:
    """The Ask D page."""
    key, pipe = shared.page_model("ask-d", ask_d.ABOUT)
    if pipe is None:
        return
    names = list(pipe.class_names) if pipe.conditional else []
    top = st.columns(3)
    class_name = BEST
    if names:
        shared.choose(P + "class", [BEST, *names], BEST)
        spec = SPECS["class_name"]
        class_name = option_widget(spec, P + "class", container=top[0], options=[BEST, *names])
    invert = option_widget(SPECS["invert"], P + "invert", container=top[1], horizontal=True)
    n = option_widget(SPECS["n"], P + "n", container=top[2])
    upload = st.file_uploader("A picture for D", type=shared.IMAGE_TYPES, key="ask_d.upload")
    if upload is None:
        st.info(ask_d.UPLOAD_PROMPT)
        return
    try:
        with shared.computing():
            picture, scores, text = ask_d.ask_view(
                pipe, upload.getvalue(), AskDParams(class_name, invert, n), top_margin=0
            )
    except ValueError as error:  # ImageInputError: not a picture, too big, too small, ...
        st.error(shared.public(f"{upload.name}: {error}"))
        return
    shared.image(st, picture, caption=ask_d.PICTURE)
    st.markdown(text)
    if scores:
        st.bar_chart({"D's score": scores}, horizontal=True, y_label="class")
