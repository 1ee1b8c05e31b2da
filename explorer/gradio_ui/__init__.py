"""The Gradio edition of the explorer (the default, and what a Hugging Face Space serves).

Only layout and wiring live here: ``app.build_app`` puts the tabs together, each module of
``tabs/`` lays out one page and connects its widgets to the plain view functions of the core
(:mod:`explorer.views`, :mod:`explorer.playground`, ...), and ``tempfiles`` makes Gradio's
cache writes atomic and sweeps its old temporary files (the process's own folder, gone when
the server stops, is :mod:`explorer.scratch`). The Streamlit edition
(:mod:`explorer.streamlit_ui`) wires the same view functions.
"""
