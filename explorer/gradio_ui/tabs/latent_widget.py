"""The latent widget in the Gradio edition: a ``gr.HTML`` host and the routes serving its files.

The widget itself (``explorer/web/latent-widget.js``) and what the server hands it
(:mod:`explorer.widget`) are shared with the Streamlit edition; this module only wires them into
Gradio:

* :func:`widget_html` makes the ``gr.HTML`` whose value is the widget's config (JSON text); its
  ``js_on_load`` mounts the widget, and a new value (a new seed or model) updates it in place.
* :func:`install_routes` makes ``demo.launch`` serve the widget's folder at ``/latent-widget/``
  (FastAPI routes passed through ``app_kwargs``): the script, onnxruntime-web and the ONNX files,
  by name only, gzip-compressed for browsers that accept it.
* The server-drawn controls of each page sit in a group with :data:`SERVER_PATH_CLASS`: hidden
  while the widget runs, shown when it steps aside (no WebAssembly, or a model that cannot be
  exported). The Gradio API endpoints (``/generate``, ...) work either way.
"""

from __future__ import annotations

import functools
from typing import Any

import gradio as gr
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from explorer import widget

#: The class of a page's server-drawn group (shown only when the widget steps aside).
SERVER_PATH_CLASS = "lw-server-path"
_P = widget.GRADIO_PREFIX
HEAD = (
    f'<link rel="stylesheet" href="{_P}/static/latent-widget.css">'
    f'<script src="{_P}/static/ort.wasm.min.js"></script>'
    f'<script src="{_P}/static/latent-widget.js"></script>'
)
_MOUNT = (
    "(function mount() { if (window.LatentWidget) LatentWidget.mountGradio(element, props, watch);"
    " else setTimeout(mount, 25); })();"
)
_COMPRESSIBLE = {".wasm", ".onnx", ".js", ".mjs", ".css", ".json", ".html"}


def widget_html(config_json: str, mode: str, server_button: str) -> gr.HTML:
    """The widget's host component.

    Args:
        config_json: :func:`explorer.widget.config_json` for the page's start (or "").
        mode: "generate", "classes" or "interpolate" (a data attribute, for tests and CSS).
        server_button: elem_id of the page's server-path button, pressed when the widget steps
            aside so the server draws the same picture.
    """
    template = (
        f'<div class="latent-widget-root" id="latent-widget" data-mode="{mode}" '
        f'data-server-button="{server_button}"></div>'
    )
    return gr.HTML(
        config_json,
        html_template=template,
        js_on_load=_MOUNT,
        head=HEAD,
        elem_classes=["latent-widget-host"],
        padding=False,
    )


def server_path_group(**kwargs: Any) -> gr.Group:
    """The group holding a page's server-drawn controls and picture."""
    return gr.Group(elem_classes=[SERVER_PATH_CLASS], **kwargs)


async def _serve(request: Request) -> Response:
    path = widget.served_file(request.path_params["path"])
    if path is None:
        return PlainTextResponse("not found", status_code=404)
    immutable = path.parent.parent.name == "models"  # named by content: never changes
    headers = {
        "Cache-Control": "public, max-age=31536000, immutable"
        if immutable
        else "public, max-age=600",
        "Vary": "Accept-Encoding",
    }
    kind = widget.media_type(path)
    if path.suffix in _COMPRESSIBLE and "gzip" in request.headers.get("accept-encoding", ""):
        gz = await run_in_threadpool(widget.compressed, path)
        headers["Content-Encoding"] = "gzip"
        return FileResponse(gz, media_type=kind, headers=headers)
    return FileResponse(path, media_type=kind, headers=headers)


def routes() -> list[Route]:
    """The routes serving the widget's folder (see :func:`explorer.widget.served_file`)."""
    return [Route(f"/{_P}/{{path:path}}", _serve, methods=["GET", "HEAD"])]


def _launch_with_routes(launch, *args: Any, **kwargs: Any):
    app_kwargs = dict(kwargs.get("app_kwargs") or {})
    app_kwargs["routes"] = [*app_kwargs.get("routes", []), *routes()]
    # The page (~0.9 MB) and its /config (~0.6 MB) gzipped: a class arriving at once downloads
    # a fifth as much. Event streams, pictures and the widget's own gzip files pass untouched.
    app_kwargs["middleware"] = [
        *app_kwargs.get("middleware", []),
        Middleware(GZipMiddleware, minimum_size=2048),
    ]
    kwargs["app_kwargs"] = app_kwargs
    return launch(*args, **kwargs)


def install_routes(demo: gr.Blocks) -> None:
    """Make ``demo.launch`` (whoever calls it: ``gan-explorer``, a Space's app.py, a test) serve
    the widget's files, and gzip what the server sends once per page."""
    widget.widget_root()  # copy the files in before the first visitor asks for them
    demo.launch = functools.partial(_launch_with_routes, demo.launch)  # type: ignore[method-assign]
