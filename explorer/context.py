"""What every tab of the explorer shares, and whether training is allowed here.

The tabs import this module, never :mod:`explorer.app`, so the app can import the tabs without
a cycle. Nothing here imports a front end: a Streamlit page uses the same context.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from explorer.checkpoints import Catalog

#: The variable that turns training on in a hosted Space.
ENABLE_ENV = "GAN_EXPLORER_ENABLE_TRAINING"


def training_enabled(environ: Mapping[str, str] | None = None) -> bool:
    """Training features are on locally; on a hosted Space (``SPACE_ID`` set) only with
    ``GAN_EXPLORER_ENABLE_TRAINING=1``: training would take the shared machine."""
    environ = os.environ if environ is None else environ
    if environ.get("SPACE_ID"):
        return environ.get(ENABLE_ENV, "") == "1"
    return True


def training_disabled_reason(environ: Mapping[str, str] | None = None) -> str:
    """Why training is off here ("" when it is on), in one sentence for the page."""
    if training_enabled(environ):
        return ""
    return (
        "Training is switched off on this hosted Space (it would take the shared machine). "
        f"Run GAN Explorer on your own computer, or set {ENABLE_ENV}=1 in the Space's settings."
    )


@dataclass
class ExplorerContext:
    """What the tabs need from the app: the checkpoints and the app-wide model picker.

    Attributes:
        catalog: the checkpoints found at start-up (read-only after that).
        checkpoint: the front end's "Model" picker shared by the Generate, Interpolate and
            Inside tabs (a ``gr.Dropdown`` in the Gradio app).
        default_key: the key selected at start, or None when there are no checkpoints.
        enable_training: whether training features may be shown (see :func:`training_enabled`).
        empty_message: what to show instead of an image when there is no checkpoint.
    """

    catalog: Catalog
    checkpoint: Any = None
    default_key: str | None = None
    enable_training: bool = True
    empty_message: str = ""


def empty_message(catalog: Catalog) -> str:
    """The notice shown when no checkpoint could be found (the app still works otherwise)."""
    roots = ", ".join(f"`{r}`" for r in catalog.roots) or "none"
    text = (
        "⚠️ **No checkpoints found.** Looked in: " + roots + ". Train one, e.g. "
        "`gan-train dcgan --dataset mnist --out runs/dcgan-mnist`, then start "
        "`gan-explorer --checkpoint-dir runs/`; or put a checkpoint folder "
        "(`meta.json` + `model.safetensors`) into `pretrained/`. "
        "The Transposed convolution tab works without any checkpoint."
    )
    return text + problems_message(catalog)


def problems_message(catalog: Catalog) -> str:
    """The checkpoints that were found but could not be used, as one Markdown paragraph."""
    if not catalog.problems:
        return ""
    return "\n\nSkipped (not usable): " + "; ".join(f"`{p}`" for p in catalog.problems)


def make_context(catalog: Catalog, enable_training: bool) -> ExplorerContext:
    """The context for a catalog (the front end fills in ``checkpoint``)."""
    return ExplorerContext(
        catalog,
        default_key=catalog.default_key(),
        enable_training=enable_training,
        empty_message=empty_message(catalog),
    )
