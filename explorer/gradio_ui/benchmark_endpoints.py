"""Hidden endpoints that only the benchmarks use, added to a built app when
``GAN_EXPLORER_BENCHMARK=1`` (``gan-explorer`` reads it; benchmarks/ui_latency.py and
benchmarks/soak.py set it): ``/trivial_image``, Gradio's own floor for the latency benchmark,
and ``/debug_threads``, the server's thread names."""

from __future__ import annotations

import json
import threading

import gradio as gr
import numpy as np

from explorer.gradio_ui.tabs import generate


def add(demo: gr.Blocks) -> None:
    """Add ``/trivial_image`` (a fixed picture the size of /generate's default one and a line
    of text) and ``/debug_threads`` (a JSON list of the live threads' names) to ``demo``."""
    ctx = demo.explorer_context  # type: ignore[attr-defined]
    picture, _ = generate.on_generate(ctx.default_key, catalog=ctx.catalog)
    shape = picture.shape if picture is not None else (436, 356, 3)
    fixed = np.random.default_rng(0).integers(0, 256, size=shape, dtype=np.uint8)
    fixed_text = "a fixed image (benchmark floor)"

    def trivial_image(seed: float = 0) -> tuple[np.ndarray, str]:
        return fixed, fixed_text

    def debug_threads() -> str:
        return json.dumps(sorted(thread.name for thread in threading.enumerate()))

    with demo:
        with gr.Row(visible=False):
            seed = gr.Number(0, precision=0)
            button = gr.Button("trivial")
            image = gr.Image(format="png", interactive=False)
            text = gr.Markdown()
            threads = gr.Textbox()
        button.click(
            trivial_image,
            seed,
            [image, text],
            api_name="trivial_image",
            api_visibility="undocumented",
        )
        button.click(
            debug_threads, None, threads, api_name="debug_threads", api_visibility="undocumented"
        )
