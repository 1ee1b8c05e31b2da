"""Where the shipped files live: the one lookup of the ``pretrained/`` folder.

``pretrained/`` (checkpoints, reference classifiers, sample grids) is installed as package
data, so the lookup works the same from a git clone, an editable install, a wheel
(``pip install .``) or a copy of the app on a Space:

1. ``$GAN_EXPLORER_PRETRAINED``, when set: it replaces the shipped folder (several folders
   may be joined with ``os.pathsep``; the first is *the* pretrained folder),
2. the installed ``pretrained`` package (``importlib.resources``),
3. ``pretrained/`` next to the ``trainers`` package (a source tree that was never installed).
"""

from __future__ import annotations

import importlib.resources
import os
from pathlib import Path

#: Environment variable naming the pretrained folder(s) to use instead of the shipped one.
PRETRAINED_ENV = "GAN_EXPLORER_PRETRAINED"


def _packaged_pretrained() -> Path | None:
    """The installed ``pretrained`` package's folder, or None when it is not importable."""
    try:
        root = importlib.resources.files("pretrained")
    except (ModuleNotFoundError, TypeError):
        return None
    path = Path(str(root))  # a plain folder for every installer we support (no zip imports)
    return path if path.is_dir() else None


def source_pretrained_dir() -> Path:
    """``pretrained/`` at the root of the source tree (the folder above ``trainers/``)."""
    return Path(__file__).resolve().parents[1] / "pretrained"


def pretrained_dirs() -> list[Path]:
    """Every pretrained folder to use, in order (see the module docstring)."""
    override = [Path(p) for p in os.environ.get(PRETRAINED_ENV, "").split(os.pathsep) if p.strip()]
    if override:
        return override
    return [_packaged_pretrained() or source_pretrained_dir()]


def pretrained_dir() -> Path:
    """*The* pretrained folder: ``$GAN_EXPLORER_PRETRAINED`` (its first entry), else the
    installed package data, else the source tree's ``pretrained/``."""
    return pretrained_dirs()[0]


def classifier_dir(dataset: str) -> Path:
    """The reference classifier folder for a data set: ``<pretrained>/classifiers/<dataset>``,
    taken from the first pretrained folder that has it."""
    for root in pretrained_dirs():
        candidate = root / "classifiers" / dataset
        if candidate.is_dir():
            return candidate
    return pretrained_dir() / "classifiers" / dataset


#: Environment variable naming the cache folder (ONNX exports, the widget's served files).
CACHE_ENV = "GAN_EXPLORER_CACHE"


def cache_dir() -> Path:
    """The project's cache folder: ``$GAN_EXPLORER_CACHE``, else ``$XDG_CACHE_HOME/gan-explorer``,
    else ``~/.cache/gan-explorer``. Things here can always be made again."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "gan-explorer"
