"""The Gradio edition of the explorer (the default, and what a Hugging Face Space serves).

Only layout and wiring live here: ``app.build_app`` puts the tabs together, each module of
``tabs/`` lays out one page and connects its widgets to the plain view functions of the core
(:mod:`explorer.latents`, :mod:`explorer.playground`, ...), and ``tempfiles`` keeps Gradio's
temporary files in one folder that goes when the server stops. The Streamlit edition
(:mod:`explorer.streamlit_ui`) wires the same view functions.
"""
