"""Ask D: upload a picture and see what the trained discriminator thinks of it.

The picture goes through :func:`explorer.ask_d.ask` (the one image loader with its size
limits, then :meth:`GANPipeline.score`); a file that is not a usable picture gives an
``st.error`` with the loader's one-sentence reason, never a traceback.
"""

from __future__ import annotations

import streamlit as st

from explorer import ask_d
from explorer.streamlit_ui import shared

P = shared.KEEP + "ask_d."
BEST = "the most convincing class"

ABOUT_MD = """
D was trained to say D(x) ≈ 1 for real training images and ≈ 0 for G's fakes. Upload any
picture: it is brought to the model's size and channels and D gives its verdict, beside its
verdicts on G's own samples and, when the data set is on this machine, on real images. A D at
the end of training is often unsure about everything (scores near ½): that is the equilibrium
of the game. A **cGAN**'s D judges the pair (image, label), so your picture is scored under
every label.
"""


def render() -> None:
    """The Ask D page."""
    catalog = shared.catalog()
    st.header("Ask D")
    st.markdown(ABOUT_MD)
    key, pipe = shared.page_model(catalog)
    if pipe is None:
        return
    names = list(pipe.class_names) if pipe.conditional else []
    top = st.columns(3)
    label = None
    if names:
        shared.choose(P + "class", [BEST, *names], BEST)
        chosen = top[0].selectbox("judge it as class (cGAN)", [BEST, *names], key=P + "class")
        label = None if chosen == BEST else names.index(chosen)
    invert = top[1].radio(
        "invert brightness",
        list(ask_d.INVERT_CHOICES),
        key=shared.init(P + "invert", "auto"),
        horizontal=True,
        help="auto: grey models see light strokes on dark, like MNIST",
    )
    n = top[2].slider("samples to compare", 2, 16, key=shared.init(P + "n", 8))
    upload = st.file_uploader("A picture for D", type=shared.IMAGE_TYPES, key="ask_d.upload")
    if upload is None:
        st.info("Upload a picture (a digit on paper, a shirt, anything) to ask D.")
        return
    try:
        with shared.computing():
            verdict = ask_d.ask(
                pipe, upload.getvalue(), label, int(n), 0, ask_d.INVERT_CHOICES[invert]
            )
    except ValueError as error:  # ImageInputError: not a picture, too big, too small, ...
        st.error(shared.public(f"{upload.name}: {error}"))
        return
    shared.image(
        st,
        ask_d.verdict_picture(verdict, top_margin=0),
        caption="D's realness: your picture, G's samples, real images",
    )
    st.markdown(ask_d.verdict_markdown(pipe, verdict))
    scores = ask_d.class_score_dict(pipe, verdict)
    if scores:
        st.bar_chart({"D's score": scores}, horizontal=True, y_label="class")
