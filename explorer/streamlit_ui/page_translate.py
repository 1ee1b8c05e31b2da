"""Translate (CycleGAN): an upload or an example through :func:`explorer.translate.translate`,
with the cycle reconstruction. A file that is not a usable picture (or too large, or too
thin) gives ``st.error`` with the loader's reason; the networks are cached read-only.
"""

from __future__ import annotations

import streamlit as st

from explorer import translate as tr
from explorer.streamlit_ui import shared

P = shared.KEEP + "translate."
DIRECTIONS = {"a2b": "A → B  (horse → zebra)", "b2a": "B → A  (zebra → horse)"}
NONE = "(none)"

INTRO_MD = """
A CycleGAN (Zhu et al. 2017) learns to map between two sets of photos **without pairs**:
`G_AB: A → B` (horse → zebra) and `G_BA: B → A`. What keeps a horse the same horse once it has
stripes is the **cycle-consistency loss** `λ · |G_BA(G_AB(a)) − a|₁ + …`, so the page shows
the translation **and** its cycle reconstruction. Upload a photo or pick an example
(scikit-image ships no horse or zebra photo: upload your own to see the model at home).
"""

NO_CHECKPOINT_MD = (
    "No CycleGAN checkpoint in `pretrained/` yet. Train one with "
    "`gan-train cyclegan --data-a DIR --data-b DIR` and export it there."
)


@st.cache_resource(show_spinner=False)
def checkpoint_choices() -> list[tuple[str, str]]:
    """(label, folder) of the CycleGAN checkpoints under pretrained/ (found once)."""
    return tr.list_cyclegan_checkpoints()


def render() -> None:
    """The Translate page."""
    st.header("Translate: CycleGAN")
    st.markdown(INTRO_MD)
    choices = dict((folder, label) for label, folder in checkpoint_choices())
    if not choices:
        st.warning(NO_CHECKPOINT_MD)
        return
    shared.choose(P + "checkpoint", list(choices))
    checkpoint = st.selectbox(
        "CycleGAN checkpoint", list(choices), format_func=choices.get, key=P + "checkpoint"
    )
    st.caption(tr.checkpoint_info(checkpoint))
    left, right = st.columns(2)
    upload = left.file_uploader("Upload an image", type=shared.IMAGE_TYPES, key="translate.upload")
    example = right.selectbox(
        "…or an example (scikit-image)",
        [NONE, *tr.example_names()],
        key=shared.init(P + "example", NONE),
    )
    direction = right.radio(
        "direction",
        list(DIRECTIONS),
        format_func=DIRECTIONS.get,
        key=shared.init(P + "direction", "a2b"),
        horizontal=True,
    )
    if upload is not None:
        source, name = upload.getvalue(), upload.name
    elif example != NONE:
        source, name = tr.example_image(example), example
    else:
        st.info("Upload an image or pick an example.")
        return
    try:
        with st.spinner("Translating…"), shared.computing():
            result = tr.translate(checkpoint, source, direction)
    except ValueError as error:  # ImageInputError: not a picture, too big, too thin, ...
        st.error(shared.public(f"{name}: {error}"))
        return
    cols = st.columns(3)
    shared.image(cols[0], result.input, caption="input (resized / cropped)")
    shared.image(cols[1], result.translated, caption="translation")
    shared.image(cols[2], result.reconstruction, caption="cycle reconstruction")
    st.markdown(result.summary)
