"""The GAN Explorer, Streamlit edition: the entry script.

    gan-explorer --ui streamlit [--host 127.0.0.1] [--port 8501] [--checkpoint-dir runs/]
    streamlit run explorer/streamlit_ui/app.py -- [--checkpoint-dir runs/] [--threads 1]

Streamlit runs this file from the top at every interaction; it only sets the page up and
hands over to the chosen page (``st.navigation``), whose module wires widgets to the core.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from urllib.parse import urlsplit

try:  # `streamlit run` puts this file's folder on sys.path, not the project's
    import explorer  # noqa: F401
except ImportError:  # a source tree that is not installed (e.g. a Docker Space's /app)
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import streamlit as st  # noqa: E402

from explorer import links  # noqa: E402
from explorer.context import limits_markdown  # noqa: E402
from explorer.streamlit_ui import PAGE_MODULES, shared  # noqa: E402

PAGES = [
    st.Page(
        importlib.import_module(f"explorer.streamlit_ui.{PAGE_MODULES[tab][0]}").render,
        title=title,
        icon=f":material/{PAGE_MODULES[tab][1]}:",
        url_path=tab,
        default=tab == links.DEFAULT_TAB,
    )
    for tab, title in links.TITLES.items()
]


def page_id(page: st.Page) -> str:
    """The page's id as links name it: its url_path ("" for the start page, Generate)."""
    return page.url_path or links.DEFAULT_TAB


def open_view(page: st.Page, view: links.ViewLink | None) -> None:
    """On a session's first run: go to the page its link names (``?tab=classes``), or, at the
    bare address, to the start page (``--tab``); a page's own path (``/classes``) is kept."""
    if view is None:
        return
    named = st.query_params.get("tab")
    if named is not None:
        wanted = view.tab if links.normalise_tab(named) == view.tab else page_id(page)
    else:
        path = urlsplit(st.context.url or "").path.strip("/")
        wanted = view.tab if not path else page_id(page)
    if wanted != page_id(page):
        target = next((p for p in PAGES if p.url_path == wanted), None)
        if target is not None:
            st.switch_page(target)


def view_bar(page: st.Page) -> None:
    """The sidebar's presenter switch and "Copy link to this view" (explorer/links.py)."""
    with st.sidebar:
        on = st.toggle(
            "Presenter view (large pictures)", key=shared.init(shared.PRESENTER_KEY, False)
        )
        if st.button("🔗 Copy link to this view", key="copy-link"):
            view = shared.current_view(page_id(page))
            st.code(links.build_link(view, st.context.url or ""), language=None)
    shared.presenter_style(on)


def main() -> None:
    """Set the page up, then run the page the user chose."""
    st.set_page_config(page_title="GAN Explorer", page_icon="🎛️", layout="wide")
    shared.configure_torch()
    shared.temp_folder()
    shared.keep_widget_values()
    catalog = shared.catalog()
    view, problems = shared.apply_link(catalog, st.query_params)
    page = st.navigation(PAGES)
    open_view(page, view)
    view_bar(page)
    if problems:
        st.warning(links.link_problems_text(problems))
    if shared.hosted():  # strangers share this machine: say what each may ask of it
        with st.sidebar:
            st.info(limits_markdown(shared.limits(), shared.training_allowed()[0]))
    key = st.session_state.get(shared.MODEL_KEY)
    if page_id(page) in links.MODEL_TABS and key in catalog.keys():
        shared.show_summary(catalog.get(key))  # the app-wide model, in plain words
    page.run()


main()
