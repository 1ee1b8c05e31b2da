"""Translate (CycleGAN): layout and wiring over :mod:`explorer.translate` (its words, its
checkpoints and :func:`~explorer.translate.translate_choice`, with the cycle reconstruction).
A file that is not a usable picture gives ``st.error`` with the loader's reason.
"""

from __future__ import annotations

import streamlit as st

from explorer import translate as tr
from explorer.streamlit_ui import shared
from explorer.streamlit_ui.widgets import option_widget

P = shared.KEEP + "translate."
NONE = "(none)"


@st.cache_resource(show_spinner=False)
def checkpoint_choices() -> list[tuple[str, str]]:
    """(label, key) of the CycleGAN checkpoints under pretrained/ (found once)."""
    return tr.cyclegan_choices()


def render() -> None:
    """The Translate page."""
    st.header(tr.TITLE)
    st.markdown(tr.INTRO_MD)
    choices = {key: label for label, key in checkpoint_choices()}
    if not choices:
        st.warning(tr.NO_CHECKPOINT_MD)
        return
    shared.choose(P + "checkpoint", list(choices))
    options = list(choices)
    checkpoint = option_widget(
        tr.SPECS["checkpoint"], P + "checkpoint", options=options, format_func=choices.get
    )
    st.caption(tr.checkpoint_markdown(checkpoint))
    left, right = st.columns(2)
    upload = left.file_uploader(tr.UPLOAD_LABEL, type=shared.IMAGE_TYPES, key="translate.upload")
    example = option_widget(
        tr.SPECS["example"],
        P + "example",
        container=right,
        value=NONE,
        options=[NONE, *tr.example_names()],
    )
    direction = option_widget(
        tr.SPECS["direction"],
        P + "direction",
        container=right,
        format_func=tr.DIRECTIONS.get,
        horizontal=True,
    )
    if upload is not None:
        kind, source, name = "upload", upload.getvalue(), upload.name
    elif example != NONE:
        kind, source, name = "example", example, example
    else:
        st.info(tr.PICK_A_PICTURE)
        return
    try:
        with st.spinner("Translating…"), shared.computing():
            result = tr.translate_choice(checkpoint, kind, source, direction)
    except ValueError as error:  # ImageInputError: not a picture, too big, too thin, ...
        st.error(shared.public(f"{name}: {error}"))
        return
    for column, picture, caption in zip(
        st.columns(3),
        (result.input, result.translated, result.reconstruction),
        tr.CAPTIONS,
        strict=True,
    ):
        shared.image(column, picture, caption=caption)
    st.markdown(result.summary)
