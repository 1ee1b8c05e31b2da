"""The Streamlit edition of the GAN Explorer: the same core as the Gradio app, other widgets.

    gan-explorer --ui streamlit [--host 127.0.0.1] [--port 8501] [--checkpoint-dir runs/]
    streamlit run explorer/streamlit_ui/app.py -- --checkpoint-dir runs/

``app.py`` is the entry script (``st.navigation`` over one ``st.Page`` per ``page_*.py``
module); :mod:`explorer.streamlit_ui.shared` holds the settings, the models cached with
``st.cache_resource`` and a few small widgets every page uses. Pages only wire widgets to the
core (:mod:`trainers.pipeline`, :mod:`trainers.latent_space`, :mod:`explorer.charts`,
:mod:`explorer.convlab`, :mod:`explorer.playground`, :mod:`explorer.live_training`, ...):
no maths here, and nothing imports gradio.

The package is deliberately not called ``streamlit``: Streamlit puts the script's folder on
``sys.path``, and every module here is imported with its full name (``explorer.streamlit_ui...``).
"""

from pathlib import Path

#: The file ``streamlit run`` starts.
APP_FILE = Path(__file__).resolve().parent / "app.py"
#: Each view's page module (its ``render``) and Material icon, by the view's id; titles and the
#: order are the core's (:data:`explorer.links.TITLES`).
PAGE_MODULES = {
    "generate": ("page_generate", "casino"),
    "classes": ("page_classes", "category"),
    "interpolate": ("page_interpolate", "swap_horiz"),
    "inside": ("page_inside", "biotech"),
    "ask-d": ("page_ask_d", "policy"),
    "convlab": ("page_convlab", "grid_on"),
    "stylise": ("page_stylise", "palette"),
    "translate": ("page_translate", "translate"),
    "train": ("page_train", "monitoring"),
    "runs": ("page_runs", "compare"),
    "playground": ("page_playground", "scatter_plot"),
}
