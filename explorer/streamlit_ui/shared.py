"""What every page of the Streamlit edition shares: settings, cached models, small widgets.

Sharing between users: the catalog of checkpoints and the loaded pipelines are
``st.cache_resource`` objects (one per server, used read-only: the pipeline holds a lock
around every forward pass); everything that belongs to one user (widget values, a playground
session, the id of "my" training job) lives in ``st.session_state``.

Widget values survive a page switch: keys that start with :data:`KEEP` are handed back to
Session State at the top of every run (:func:`keep_widget_values`), and their start values
are set with :func:`init` (never with a widget's ``value=``, which would fight Session State).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st
from PIL import Image

from explorer import checkpoints, jobs, links, scratch, server_options, summary
from explorer.checkpoints import Catalog, CheckpointEntry
from explorer.context import (
    VisitorLimits,
    empty_message,
    hosted_mode,
    limits_for,
    public_text,
    showcase_key,
    training_disabled_reason,
    training_enabled,
)
from explorer.widget import page_asset
from trainers.checkpoint import WEIGHTS_FILE, CheckpointError
from trainers.pipeline import GANPipeline

#: Prefix of the widget keys whose values survive a page switch.
KEEP = "k:"
#: Session State key of the app-wide model picker (Generate, Interpolate, Ask D).
MODEL_KEY = KEEP + "checkpoint"
#: Image types offered by the upload widgets; the content is checked by trainers.images.
IMAGE_TYPES = ["png", "jpg", "jpeg", "gif", "bmp", "webp", "tif", "tiff"]


# --- settings: the script's own arguments ------------------------------------------------------


def parse_settings(argv: Sequence[str]) -> argparse.Namespace:
    """The arguments after ``--`` in ``streamlit run app.py -- ...`` (those of
    :func:`explorer.server_options.add_page_arguments`, and ``--no-pretrained``: search only the
    given folders); unknown ones are ignored."""
    parser = argparse.ArgumentParser(prog="explorer/streamlit_ui/app.py", add_help=False)
    server_options.add_page_arguments(parser)
    parser.add_argument("--no-pretrained", action="store_true")
    return parser.parse_known_args(list(argv))[0]


def settings() -> argparse.Namespace:
    """This server's settings (``sys.argv`` of the script, set by ``streamlit run``)."""
    return parse_settings(sys.argv[1:])


@st.cache_resource(show_spinner=False)
def _torch_threads(threads: int) -> int:
    import torch

    torch.set_num_threads(threads)
    return threads


def configure_torch() -> None:
    """Torch threads per request, once per server (``--threads``, default 1)."""
    _torch_threads(max(1, settings().threads))


def training_allowed() -> tuple[bool, str]:
    """(training features on, why not) from :mod:`explorer.context`."""
    return training_enabled(), training_disabled_reason()


def hosted() -> bool:
    """Strangers use this server (:func:`explorer.context.hosted_mode`): on a Space, with
    ``--public``, or listening on an address other machines reach. Streamlit listens on every
    interface when ``server.address`` is not set, so that counts as reachable."""
    address = st.get_option("server.address") or "0.0.0.0"
    return hosted_mode(address, settings().public)


def limits() -> VisitorLimits:
    """What one visitor may ask of this machine (the hosted limits when :func:`hosted`)."""
    return limits_for(hosted())


def public(text: str) -> str:
    """A message as this page may show it: server paths scrubbed when hosted."""
    return public_text(text) if hosted() else str(text)


# --- models: cached once per server, read-only ------------------------------------------------


@st.cache_resource(show_spinner=False)
def _catalog(dirs: tuple[str, ...], include_default: bool, training: bool) -> Catalog:
    return checkpoints.explorer_catalog([Path(d) for d in dirs], include_default, training)


def catalog() -> Catalog:
    """The checkpoints of this server (found once; ``catalog().refresh()`` rescans)."""
    s = settings()
    dirs = tuple(str(folder) for folder in s.checkpoint_dir)
    return _catalog(dirs, not s.no_pretrained, training_enabled())


@st.cache_resource(show_spinner=False, max_entries=8)
def pipeline_at(path: str, stamp: int) -> GANPipeline:
    """The pipeline of a checkpoint folder, cached by (folder, weights mtime): a retrained
    checkpoint is loaded again, an unchanged one never."""
    return GANPipeline.from_pretrained(path, device="cpu")


def stamp_of(entry: CheckpointEntry) -> int:
    """The weights' modification time (ns), part of the cache key."""
    try:
        return (entry.path / WEIGHTS_FILE).stat().st_mtime_ns
    except OSError:
        return -1  # let from_pretrained say what is wrong


def load(key: str | None) -> GANPipeline:
    """The pipeline of the checkpoint with this catalog key (CheckpointError if unusable)."""
    entry = catalog().get(key)
    return pipeline_at(str(entry.path), stamp_of(entry))


# --- the machine's share: a few computations at once ------------------------------------------


@st.cache_resource(show_spinner=False)
def _gate(concurrency: int, queue_size: int) -> jobs.Gate:
    return jobs.Gate(concurrency, queue_size)


def computing() -> contextlib.AbstractContextManager[None]:
    """``with shared.computing(): ...`` around model work: waits for one of the machine's
    :attr:`VisitorLimits.concurrency` slots (:class:`explorer.jobs.BusyError` when the queue
    is full)."""
    limits_now = limits()
    return _gate(limits_now.concurrency, limits_now.queue_size)()


# --- per-user state ---------------------------------------------------------------------------


def keep_widget_values() -> None:
    """Hand the kept widget values back to Session State, so that Streamlit does not drop
    them when the user opens another page (it forgets the state of widgets not drawn)."""
    for key in list(st.session_state.keys()):
        if isinstance(key, str) and key.startswith(KEEP):
            st.session_state[key] = st.session_state[key]


def init(key: str, value: Any) -> str:
    """Give a widget key its start value (once per session); returns the key."""
    if key not in st.session_state:
        st.session_state[key] = value
    return key


def clamp(key: str, low: float, high: float) -> None:
    """Keep a number in Session State inside a widget's bounds (they change with the model)."""
    if key in st.session_state:
        st.session_state[key] = min(max(st.session_state[key], low), high)


def choose(key: str, options: Sequence[Any], default: Any = None) -> None:
    """Reset a choice in Session State that the widget no longer offers."""
    if st.session_state.get(key) not in options:
        st.session_state[key] = default if default in options else (options[0] if options else None)


def owner() -> str:
    """How other users see who runs a job: this browser session, by a short id."""
    if "_owner" not in st.session_state:
        st.session_state["_owner"] = f"browser session {uuid.uuid4().hex[:6]}"
    return st.session_state["_owner"]


# --- small widgets ----------------------------------------------------------------------------


def model_picker(
    entries: Sequence[CheckpointEntry], key: str = MODEL_KEY, label: str = "Model"
) -> str | None:
    """A select box over checkpoints (by key, shown with their labels); None when empty."""
    keys = [e.key for e in entries]
    if not keys:
        return None
    labels = {e.key: e.label for e in entries}
    choose(key, keys)
    value = st.selectbox(label, keys, format_func=lambda k: labels.get(k, k), key=key)
    if key == MODEL_KEY and st.button("↻ Find new checkpoints", key="refresh-checkpoints"):
        catalog().refresh()  # e.g. one the Train page just saved
        st.rerun()
    return value


def page_model(tab: str, about: str = "") -> tuple[str | None, GANPipeline | None]:
    """The top of a page about the app-wide model: its title (:data:`explorer.links.TITLES`)
    and ``about`` text, the sidebar's model picker and the loaded pipeline.

    With no checkpoint at all: a warning and (None, None). A checkpoint that does not load:
    an ``st.error`` naming why and (key, None). The caller returns when the pipeline is None.
    """
    st.header(links.TITLES[tab])
    if about:
        st.markdown(about)
    found = catalog()
    if not found:
        st.warning(empty_message(found, hosted()))
        return None, None
    with st.sidebar:
        key = model_picker(found.entries)
    try:
        return key, load(key)
    except (CheckpointError, ValueError) as error:
        st.error(public(str(error)))
        return key, None


def png(picture: np.ndarray) -> bytes:
    """A uint8 (H, W, 3) picture as fast PNG bytes (zlib level 1): ``st.image`` sends PNG bytes
    as they are, without encoding the array again."""
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, format="png", compress_level=1)
    return buffer.getvalue()


def warning(text: str) -> None:
    """A core function's "⚠️ ..." message as ``st.error`` (the other lines as Markdown)."""
    st.error(text.removeprefix("⚠️").strip())


def image(where: Any, picture: np.ndarray | bytes, caption: str | None = None) -> None:
    """Show a picture (uint8 (H, W, C) array or PNG bytes) as a lossless PNG in ``where``
    (``st`` or a column): ``st.image`` would otherwise send RGB pictures as JPEG."""
    data = picture if isinstance(picture, bytes) else png(picture)
    where.image(data, caption=caption, output_format="PNG")


# --- temporary files, links, the model summary, the presenter's view -------------------------


@st.cache_resource(show_spinner=False)
def temp_folder() -> str:
    """This server's temporary folder (:func:`explorer.scratch.install`: removed when the
    server stops; Streamlit handles SIGTERM itself, then the process exits normally)."""
    return str(scratch.install(gradio=False, signals=False))


#: Session State keys a link sets: the seed of each page that has one ...
LINK_SEEDS = {
    "generate": KEEP + "generate.seed",
    "classes": KEEP + "classes.seed",
    "interpolate": KEEP + "interpolate.a",
}
#: ... the Classes page's own model picker (conditional models only), and the presenter's view.
CLASSES_MODEL_KEY = KEEP + "classes.checkpoint"
PRESENTER_KEY = KEEP + "presenter"
_LINK_DONE = "_link_applied"


def start_view(catalog: Catalog) -> links.ViewLink:
    """Where a visit starts without a link: ``--model`` (or the showcase) and ``--tab``."""
    s = settings()
    try:
        model = showcase_key(catalog, s.model)
    except ValueError:  # --model names no checkpoint here: the page says so (apply_link)
        model = showcase_key(catalog)
    return links.ViewLink(model=model, tab=s.tab)


def apply_link(catalog: Catalog, query: Any) -> tuple[links.ViewLink | None, list[str]]:
    """Once per session, before any page draws: the view of the link it was opened with
    (``st.query_params``) and the start settings, written into Session State. Returns the view
    (None after the first run) and the link's problems."""
    if st.session_state.get(_LINK_DONE):
        return None, []
    st.session_state[_LINK_DONE] = True
    view, problems = links.read_link(dict(query), catalog.keys(), start=start_view(catalog))
    s = settings()
    if s.model and s.model not in catalog.keys():
        problems.append(f"--model {s.model[:60]!r} is not a checkpoint here")
    conditional = [entry.key for entry in catalog.entries if entry.conditional]
    sets = links.link_targets(view, conditional)
    if sets.model:
        st.session_state[MODEL_KEY] = sets.model
    if sets.classes_model:
        st.session_state[CLASSES_MODEL_KEY] = sets.classes_model
    for tab, seed in sets.seeds.items():
        st.session_state[LINK_SEEDS[tab]] = seed
    st.session_state[PRESENTER_KEY] = sets.presenter
    return view, problems


def current_view(page_path: str) -> links.ViewLink:
    """The view this session shows now (for "Copy link to this view")."""
    state = st.session_state
    seeds = {tab: state.get(key) for tab, key in LINK_SEEDS.items()}
    return links.page_view(
        page_path,
        state.get(PRESENTER_KEY, False),
        state.get(MODEL_KEY),
        seeds,
        state.get(CLASSES_MODEL_KEY),
    )


def show_summary(entry: CheckpointEntry, where: Any = st) -> None:
    """The model in plain words (:mod:`explorer.summary`): its figures with their help on
    hover, "What the figures mean" and the raw meta.json a click away."""
    where.html(summary.meta_html(entry.meta, hosted()))


def presenter_style(on: bool) -> None:
    """The presenter's view: larger pictures (drawn without smoothing) and larger text, and
    ``body.presenter`` set as in the Gradio edition (the latent widget follows it)."""
    flag = "true" if on else "false"
    css = (page_asset("presenter-streamlit.css") if on else "") + page_asset("summary.css")
    st.html(
        f"<style>{css}</style>"
        f"<script>document.body.classList.toggle('presenter', {flag});</script>",
        unsafe_allow_javascript=True,
    )
