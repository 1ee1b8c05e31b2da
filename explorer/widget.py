"""The latent widget's server side: what a page needs once, and the files the browser fetches.

The Generate, Classes and Interpolate pages of both editions show one web widget
(``explorer/web/latent-widget.js``) that runs G and D in the visitor's browser with
onnxruntime-web, so a slider step costs the server nothing. The server only hands out, per page
or per seed, what the browser cannot make:

* :func:`widget_config`: z for the seed from the one sampler (``GANPipeline.latents``, numpy),
  the principal directions (:func:`trainers.latent_space.principal_directions`), the model's
  shape and classes, the slider start values, and the *name* of its ONNX files;
* the files themselves, from one folder (:func:`widget_root`): the widget's script and style,
  the vendored onnxruntime-web (``explorer/web/vendor/``) and the ONNX exports
  (:func:`trainers.onnx_export.cached_export`, keyed by the checkpoint's content). Gradio serves
  that folder under ``/latent-widget/`` (:func:`served_file` decides what may be read); Streamlit
  declares it as a component, whose ``index.html`` it also holds.

Nothing here imports gradio or streamlit. No server path reaches the page: models are named by
their content key (``models/<key>/G.onnx``).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import mimetypes
import os
import re
import shutil
import threading
from pathlib import Path
from typing import Any

import numpy as np
import plotly

from explorer import inputs
from trainers import latent_space
from trainers.checkpoint import CheckpointError
from trainers.onnx_export import OnnxExportError, cached_export
from trainers.paths import cache_dir
from trainers.pipeline import GANPipeline

#: The onnxruntime-web release vendored in explorer/web/vendor/onnxruntime-web.
ORT_VERSION = "1.31.1"
WEB_DIR = Path(__file__).resolve().parent / "web"


def page_asset(name: str) -> str:
    """The text of one of the pages' own CSS or script files (``explorer/web/pages/NAME``),
    kept beside the widget's so that both editions' styles live in CSS files, not in Python."""
    return (WEB_DIR / "pages" / name).read_text(encoding="utf-8")


_VENDOR = WEB_DIR / "vendor" / "onnxruntime-web"
#: Served name (under static/) -> the file in the package.
STATIC_FILES: dict[str, Path] = {
    "latent-widget.js": WEB_DIR / "latent-widget.js",
    "latent-widget.css": WEB_DIR / "latent-widget.css",
    "ort.wasm.min.js": _VENDOR / "ort.wasm.min.js",
    "ort-wasm-simd-threaded.mjs": _VENDOR / "ort-wasm-simd-threaded.mjs",
    "ort-wasm-simd-threaded.wasm": _VENDOR / "ort-wasm-simd-threaded.wasm",
    "LICENSE-onnxruntime-web": _VENDOR / "LICENSE",
    # the installed plotly package's own plotly.js, for the live charts (explorer/gradio_ui/tabs/live_plot.py)
    "plotly.min.js": Path(plotly.__file__).parent / "package_data" / "plotly.min.js",
}
MEDIA_TYPES = {
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".wasm": "application/wasm",
    ".onnx": "application/octet-stream",
    ".json": "application/json",
    ".html": "text/html",
    "": "text/plain",
}
#: The URL prefix of the widget's folder in the Gradio edition (relative to the page).
GRADIO_PREFIX = "latent-widget"

# Page parameters shared by both editions (the widget's sliders and the server path's).
N_DIMS = 3  # raw-dimension sliders
N_PCS = 5  # principal-direction sliders
MAX_GRID = 8  # grid side: at most 8 x 8 samples
DEFAULT_GRID = 4
MAX_ROWS = 4  # Classes: latents drawn in every class
MAX_TRUNCATION = 1.5
OFFSET_MAX = 4.0  # raw-dimension and principal-direction sliders: -4 .. 4
MIXED = "every class in turn"

TEXT = {
    "fallback": "Pictures come from the server:",
    "where": (
        "Drawn in your browser: G and D run here with onnxruntime-web; a slider step sends "
        "nothing to the server."
    ),
    "mixed": MIXED,
}

_ROOT_LOCK = threading.Lock()
_PREPARED: set[Path] = set()
_KEY = re.compile(r"^[0-9a-f]{20}$")
for _suffix, _type in MEDIA_TYPES.items():  # Streamlit's component server guesses by suffix
    if _suffix:
        mimetypes.add_type(_type, _suffix)


# --- the served folder --------------------------------------------------------------------------


def widget_root() -> Path:
    """``<cache>/latent-widget``: index.html, static/ and models/, ready to serve.

    The package's files are copied in (once per process, only when they changed), so that one
    folder holds everything the browser may fetch: Streamlit's component server serves only
    files under the component's folder and refuses symbolic links that leave it.
    """
    root = cache_dir() / "latent-widget"
    with _ROOT_LOCK:
        if root not in _PREPARED:
            (root / "static").mkdir(parents=True, exist_ok=True)
            (root / "models").mkdir(exist_ok=True)
            for name, source in [*STATIC_FILES.items(), ("../index.html", WEB_DIR / "index.html")]:
                _copy_if_changed(source, (root / "static" / name).resolve())
            _PREPARED.add(root)
    return root


def _copy_if_changed(source: Path, target: Path) -> None:
    stat = source.stat()
    if target.is_file() and target.stat().st_size == stat.st_size:
        if target.read_bytes() == source.read_bytes():
            return
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    shutil.copyfile(source, tmp)
    os.replace(tmp, target)  # atomic: a browser never gets half a file
    gz = target.with_name(target.name + ".gz")
    gz.unlink(missing_ok=True)  # stale compressed copy


def served_file(relative: str) -> Path | None:
    """The file for a URL path under the widget's folder, or None when it may not be served.

    Only the widget's own files (``index.html``, ``static/<name>``) and ONNX exports
    (``models/<20 hex digits>/G.onnx|D.onnx|export.json``) are served; nothing else, however
    the path is spelled.
    """
    parts = relative.strip("/").split("/")
    root = widget_root()
    if parts == ["index.html"]:
        return root / "index.html"
    if len(parts) == 2 and parts[0] == "static" and parts[1] in STATIC_FILES:
        return root / "static" / parts[1]
    if (
        len(parts) == 3
        and parts[0] == "models"
        and _KEY.match(parts[1])
        and parts[2] in ("G.onnx", "D.onnx", "export.json")
    ):
        path = root / "models" / parts[1] / parts[2]
        return path if path.is_file() else None
    return None


def media_type(path: Path) -> str:
    """The Content-Type for a served file."""
    return MEDIA_TYPES.get(path.suffix, "application/octet-stream")


def compressed(path: Path) -> Path:
    """A gzip copy beside ``path`` (made once), for browsers that accept gzip."""
    gz = path.with_name(path.name + ".gz")
    if not gz.is_file() or gz.stat().st_mtime < path.stat().st_mtime:
        tmp = gz.with_name(f".{gz.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        with open(path, "rb") as source, gzip.open(tmp, "wb", compresslevel=6) as sink:
            shutil.copyfileobj(source, sink)
        os.replace(tmp, gz)
    return gz


#: Files worth sending gzipped (pictures are compressed already).
COMPRESSIBLE = frozenset({".wasm", ".onnx", ".js", ".mjs", ".css", ".json", ".html"})


def response_for(relative: str, accept_encoding: str = "") -> tuple[Path, str, dict[str, str]]:
    """What a server sends for ``GET <widget prefix>/<relative>``: the file (its gzip copy when
    the browser accepts gzip and the file compresses), its Content-Type and its headers. Model
    files are named by their content, so a browser keeps them for a year; the widget's own files
    for ten minutes. FileNotFoundError when it may not be served (:func:`served_file`)."""
    path = served_file(relative)
    if path is None:
        raise FileNotFoundError(relative)
    immutable = path.parent.parent.name == "models"
    headers = {
        "Cache-Control": "public, max-age=31536000, immutable"
        if immutable
        else "public, max-age=600",
        "Vary": "Accept-Encoding",
    }
    if path.suffix in COMPRESSIBLE and "gzip" in accept_encoding:
        headers["Content-Encoding"] = "gzip"
        return compressed(path), media_type(path), headers
    return path, media_type(path), headers


def export_for(pipe: GANPipeline):
    """The ONNX export the widget runs for a checkpoint (made on first use, then reused)."""
    return cached_export(pipe, widget_root() / "models")


# --- what a page needs once ---------------------------------------------------------------------


def _b64(array: np.ndarray) -> str:
    """float32 little-endian bytes as URL-safe base64 (no "/" that could pass for a path)."""
    data = np.ascontiguousarray(array, dtype="<f4").tobytes()
    return base64.urlsafe_b64encode(data).decode("ascii")


def pc_label(i: int, explained: float | None) -> str:
    """A principal-direction slider's label, e.g. "PC1 · 12.3% of the layer's variance"."""
    share = f" · {explained * 100:.1f}% of the layer's variance" if explained is not None else ""
    return f"PC{i + 1}{share}"


def default_values(mode: str) -> dict[str, Any]:
    """The widget's slider start values for a page."""
    if mode == "generate":
        return {
            "grid": DEFAULT_GRID,
            "psi": 1.0,
            "class": -1,
            "dims": list(range(N_DIMS)),
            "offsets": [0.0] * N_DIMS,
            "pcs": [0.0] * N_PCS,
        }
    if mode == "classes":
        return {"psi": 1.0, "rows": 2, "class": 0, "side": 4}
    if mode == "interpolate":
        return {"t": 0.5, "class": 0}
    raise ValueError(f"unknown widget mode {mode!r}; use generate, classes or interpolate")


def checked_values(pipe: GANPipeline, mode: str, values: dict[str, Any] | None) -> dict[str, Any]:
    """The start values with ``values`` (e.g. from a link) laid over the defaults, each clamped
    to its slider's range; unknown names are a ValueError."""
    result = default_values(mode)
    for name, value in (values or {}).items():
        if name not in result:
            raise ValueError(
                f"the {mode} widget has no slider {name!r}; it has {', '.join(result)}"
            )
        result[name] = value

    def clamp(x: Any, low: float, high: float) -> float:
        number = float(x)
        if not np.isfinite(number):
            raise ValueError(f"{x!r} is not a finite number")
        return min(max(number, low), high)

    classes = max(1, pipe.num_classes)
    if mode == "generate":
        result["grid"] = int(clamp(result["grid"], 1, MAX_GRID))
        result["psi"] = clamp(result["psi"], 0.0, MAX_TRUNCATION)
        # -1: every class in turn (what an unconditional model always gets)
        result["class"] = int(clamp(result["class"], -1, classes - 1)) if pipe.conditional else -1
        result["dims"] = [int(clamp(d, 0, pipe.latent_dim - 1)) for d in result["dims"]][:N_DIMS]
        result["offsets"] = [clamp(o, -OFFSET_MAX, OFFSET_MAX) for o in result["offsets"]][:N_DIMS]
        result["pcs"] = [clamp(p, -OFFSET_MAX, OFFSET_MAX) for p in result["pcs"]][:N_PCS]
    elif mode == "classes":
        result["psi"] = clamp(result["psi"], 0.0, MAX_TRUNCATION)
        result["rows"] = int(clamp(result["rows"], 1, MAX_ROWS))
        result["class"] = int(clamp(result["class"], 0, classes - 1))
        result["side"] = int(clamp(result["side"], 1, MAX_GRID))
    else:
        result["t"] = clamp(result["t"], 0.0, 1.0)
        result["class"] = int(clamp(result["class"], 0, classes - 1))
    return result


def widget_config(
    pipe: GANPipeline,
    mode: str,
    seed: int,
    *,
    seed_b: int | None = None,
    values: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Everything the widget needs for one page, model and seed (JSON-ready).

    Args:
        pipe: the checkpoint.
        mode: "generate", "classes" or "interpolate".
        seed: the page's seed (Interpolate: seed A).
        seed_b: Interpolate's seed B.
        values: slider start values over the defaults (see :func:`checked_values`).
    Returns:
        A dict; ``config["fallback"]`` is set (and no model named) when the checkpoint cannot
        be exported, so the page draws on the server instead and says why.
    """
    values = checked_values(pipe, mode, values)
    config: dict[str, Any] = {
        "version": 1,
        "mode": mode,
        "seed": int(seed),
        "values": values,
        "text": TEXT,
        "limits": {
            "max_grid": MAX_GRID,
            "max_psi": MAX_TRUNCATION,
            "offset_max": OFFSET_MAX,
            "max_rows": MAX_ROWS,
        },
        "model": {
            "name": pipe.name,
            "latent_dim": pipe.latent_dim,
            "image_shape": list(pipe.image_shape),
            "conditional": pipe.conditional,
            "class_names": list(pipe.class_names),
            "has_discriminator": pipe.discriminator is not None,
        },
    }
    if mode == "interpolate":
        b = int(seed if seed_b is None else seed_b)
        z = np.concatenate([pipe.latents(int(seed), 1).numpy(), pipe.latents(b, 1).numpy()])
        config["seed_b"] = b
    else:
        n = MAX_GRID * MAX_GRID  # row i of a seed does not depend on n (the one sampler)
        z = pipe.latents(int(seed), n).numpy()
    config["z"] = _b64(z)
    if mode == "generate":
        pca = latent_space.principal_directions(pipe, k=N_PCS)
        config["pca"] = {
            "directions": _b64(pca.directions.numpy()),
            "labels": [pc_label(i, float(pca.explained[i])) for i in range(N_PCS)],
        }
    try:
        export = export_for(pipe)
        config["model"]["key"] = export.key
        config["model_base"] = f"models/{export.key}/"
    except OnnxExportError as error:
        config["model"]["key"] = None
        config["fallback"] = str(error)
    digest = hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]
    config["id"] = digest
    return config


def config_json(*args: Any, **kwargs: Any) -> str:
    """:func:`widget_config` as JSON text (what the Gradio edition's gr.HTML holds)."""
    return json.dumps(widget_config(*args, **kwargs))


def fallback_config(reason: str, mode: str) -> dict[str, Any]:
    """A config that makes the widget step aside with one line (no usable checkpoint)."""
    return {"version": 1, "mode": mode, "fallback": reason, "text": TEXT, "id": reason}


__all__ = [
    "DEFAULT_GRID",
    "MAX_GRID",
    "MIXED",
    "N_DIMS",
    "N_PCS",
    "ORT_VERSION",
    "checked_values",
    "compressed",
    "config_json",
    "default_values",
    "export_for",
    "fallback_config",
    "media_type",
    "served_file",
    "widget_config",
    "widget_root",
]


def page_config(
    catalog: Any,
    key: str | None,
    mode: str,
    seed: Any = 0,
    *,
    seed_b: Any = None,
    values: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The widget config for a page of either edition: the checkpoint ``key`` from the
    explorer's catalog, a seed as a widget sends it (checked by :func:`explorer.inputs.seed`).
    A missing or broken checkpoint or a bad value gives a config that steps aside and says why."""
    try:
        if not key:
            raise ValueError("no checkpoint is chosen")
        pipe = catalog.load(key)
        first = inputs.seed(seed, "Seed A" if mode == "interpolate" else "The seed")
        second = inputs.seed(seed_b, "Seed B") if seed_b is not None else None
        return widget_config(pipe, mode, first, seed_b=second, values=values)
    except (CheckpointError, ValueError) as error:
        return fallback_config(str(error), mode)
