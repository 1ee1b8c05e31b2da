"""The latent widget in the Gradio edition: a ``gr.HTML`` host and the routes serving its files.

The widget (``explorer/web/latent-widget.js``) and its config (:mod:`explorer.widget`) are core.
:func:`widget_html` makes the ``gr.HTML`` whose value is the config (JSON text): ``js_on_load``
mounts the widget, a new value (a new seed or model) updates it in place. :func:`install_routes`
makes ``demo.launch`` serve the widget's folder at ``/latent-widget/`` (by name only, gzipped
for browsers that accept it). A page's server-drawn controls sit in :func:`server_path_group`:
hidden while the widget runs, shown when it steps aside; the API endpoints work either way.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import gradio as gr
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from explorer import widget

#: A server-drawn picture's settings (a lossless PNG the visitor may download).
PICTURE = {"format": "png", "interactive": False, "buttons": ["download"]}
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


def widget_html(catalog: Any, mode: str, server_button: str, inputs: list[Any]) -> gr.HTML:
    """The widget's host component, its value the widget's config (JSON text).

    Args:
        catalog: the explorer's checkpoints (:func:`explorer.widget.page_config`).
        mode: "generate", "classes" or "interpolate" (a data attribute, for tests and CSS).
        server_button: elem_id of the page's server-path button, pressed when the widget steps
            aside so the server draws the same picture.
        inputs: the page's model picker and seed (Interpolate: seeds A and B); when one
            changes, the widget is handed a new config (``/<mode>_widget``).
    """

    def config(key: str | None, seed: Any) -> str:
        return json.dumps(widget.page_config(catalog, key, mode, seed))

    def config_of_pair(key: str | None, a: Any, b: Any) -> str:  # Interpolate: seeds A and B
        return json.dumps(widget.page_config(catalog, key, mode, a, seed_b=b))

    make = config_of_pair if len(inputs) == 3 else config  # (the API's parameter names)
    start = make(*(component.value for component in inputs))
    template = (
        f'<div class="latent-widget-root" id="latent-widget" data-mode="{mode}" '
        f'data-server-button="{server_button}"></div>'
    )
    html = gr.HTML(
        start if '"model"' in start else "",  # nothing to mount without a model that loads
        html_template=template,
        js_on_load=_MOUNT,
        head=HEAD,
        elem_classes=["latent-widget-host"],
        padding=False,
    )
    gr.on(
        triggers=[component.change for component in inputs],
        fn=make,
        inputs=inputs,
        outputs=html,
        api_name=f"{mode}_widget",
        trigger_mode="always_last",
        show_progress="hidden",
        queue=False,  # a few ms each: no queue, never behind a long job
    )
    return html


def server_path_group(**kwargs: Any) -> gr.Group:
    """The group holding a page's server-drawn controls and picture."""
    return gr.Group(elem_classes=[SERVER_PATH_CLASS], **kwargs)


async def _serve(request: Request) -> Response:
    """A widget file (:func:`explorer.widget.response_for`: gzip, caching), or 404."""
    encoding = request.headers.get("accept-encoding", "")
    try:
        path, kind, headers = await run_in_threadpool(
            widget.response_for, request.path_params["path"], encoding
        )
    except FileNotFoundError:
        return PlainTextResponse("not found", status_code=404)
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
