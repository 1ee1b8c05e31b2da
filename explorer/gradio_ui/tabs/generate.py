"""The "Generate" tab: seeds, truncation and latent sliders -> a grid of samples with D's verdict.

The page (its parameters, rules and words) is :mod:`explorer.views`; this module lays it out
and wires it. The main event is the ``/generate`` API endpoint::

    from gradio_client import Client
    Client("http://127.0.0.1:7860/").predict(checkpoint="dcgan-mnist", seed=3, api_name="/generate")
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import gradio as gr
import numpy as np

from explorer import latents, views, widget
from explorer.gradio_ui.tabs import latent_widget
from explorer.gradio_ui.widgets import option_widget
from explorer.views import DEFAULT_GRID, GENERATE, LABEL_MARGIN, MIXED, generate_batch  # noqa: F401
from trainers.checkpoint import CheckpointError

if TYPE_CHECKING:
    from explorer.context import ExplorerContext

N_DIMS, N_PCS = widget.N_DIMS, widget.N_PCS


@dataclass
class GenerateControls:
    """The components other tabs reuse (the Inside tab looks at the same latents)."""

    seed: gr.Number
    grid: gr.Slider
    truncation: gr.Slider
    class_name: gr.Dropdown
    dims: list[gr.Number]
    offsets: list[gr.Slider]
    pcs: list[gr.Slider]

    def inputs(self) -> list[Any]:
        """In the order of ``GenerateParams.values``."""
        pairs = [c for pair in zip(self.dims, self.offsets, strict=True) for c in pair]
        return [self.seed, self.grid, self.truncation, self.class_name, *pairs, *self.pcs]


def default_settings() -> tuple[Any, ...]:
    """The Generate controls' start values, in ``GenerateControls.inputs`` order."""
    return views.GenerateParams().values()


def on_generate(
    checkpoint: str | None,
    seed: float = 0,
    grid: float = DEFAULT_GRID,
    truncation: float = 1.0,
    class_name: str | None = MIXED,
    dim_1: float = 0,
    offset_1: float = 0,
    dim_2: float = 1,
    offset_2: float = 0,
    dim_3: float = 2,
    offset_3: float = 0,
    pc_1: float = 0,
    pc_2: float = 0,
    pc_3: float = 0,
    pc_4: float = 0,
    pc_5: float = 0,
    *,
    catalog: Any = None,
) -> tuple[np.ndarray | None, str]:
    """The /generate endpoint: (captioned grid (H, W, 3) uint8 or None, Markdown)."""
    values = (dim_1, offset_1, dim_2, offset_2, dim_3, offset_3, pc_1, pc_2, pc_3, pc_4, pc_5)
    params = views.GenerateParams.from_values(seed, grid, truncation, class_name, values)
    return views.shown(views.generate_view, catalog, checkpoint, params, LABEL_MARGIN)


def on_checkpoint(checkpoint: str | None, *, catalog: Any = None) -> list[Any]:
    """New checkpoint chosen: relabel the PC sliders, bound the dims, offer its classes."""
    try:
        model = views.generate_model(catalog.load(checkpoint))
    except (CheckpointError, ValueError):
        return [gr.update()] * (N_PCS + N_DIMS + 1)
    pcs = [gr.Slider(label=label) for label in model.pc_labels]
    dims = [gr.Number(maximum=model.last_dim, label=model.dim_label) for _ in range(N_DIMS)]
    classes = gr.Dropdown(choices=model.choices, value=MIXED, visible=model.conditional)
    return [*pcs, *dims, classes]


def fill_on_first_open(
    tab: gr.Tab | None, fn: Any, inputs: list[Any], outputs: list[Any], api_name: str
) -> None:
    """Run ``fn(*inputs)`` into ``outputs`` the first time a user opens ``tab`` (a per-user
    flag in ``gr.State``), so start-up does not wait for pictures nobody has asked for yet."""
    if tab is None:
        return
    filled = gr.State(False)

    def fill(done: bool, *values: Any) -> list[Any]:
        if done:
            return [gr.skip()] * len(outputs) + [True]
        result = fn(*values)
        return [*(result if isinstance(result, tuple | list) else [result]), True]

    tab.select(
        fill, [filled, *inputs], [*outputs, filled], api_name=api_name, show_progress="minimal"
    )


#: "New seed" picks the seed in the browser (the server is asked only for the new seed's z).
NEW_SEED_JS = f"() => Math.floor(Math.random() * {views.NEW_SEED_MAX})"


def build_tab(ctx: ExplorerContext) -> GenerateControls:
    """Create the tab's components inside the current Tab; returns the controls for reuse."""
    catalog = ctx.catalog
    first = views.loaded(catalog, ctx.default_key)
    model = views.generate_model(first, explained=False)  # the page-load event labels the PCs
    box = {"maximum": model.last_dim, "label": model.dim_label, "info": None, "min_width": 110}

    with gr.Row(equal_height=True):
        seed = option_widget(GENERATE["seed"], elem_id="generate-seed", scale=3)
        randomise = gr.Button(views.NEW_SEED, scale=1, min_width=90, elem_id="new-seed")
    # The sliders and the grid run in the visitor's browser (explorer/web/latent-widget.js); the
    # server hands the widget z for the seed, the principal directions and the model's name.
    latent_widget.widget_html(catalog, "generate", "generate-button", [ctx.checkpoint, seed])
    # The same page drawn on the server: shown when the widget steps aside (no WebAssembly, a
    # model that cannot be exported); its /generate endpoint serves gradio_client users.
    with latent_widget.server_path_group(), gr.Row():
        with gr.Column(scale=2, min_width=300):
            grid = option_widget(GENERATE["grid"], precision=0)
            truncation = option_widget(GENERATE["truncation"])
            class_name = option_widget(
                GENERATE["class_name"],
                choices=model.choices,
                visible=model.conditional,
                allow_custom_value=True,  # the API may name any class of any cGAN: checked
            )
            dims, offsets = [], []
            with gr.Accordion(views.DIMS_TITLE, open=True):
                for i in range(N_DIMS):
                    with gr.Row(equal_height=True):
                        dims.append(option_widget(GENERATE["dims"], value=i, scale=1, **box))
                        label = views.offset_label(i)
                        offsets.append(
                            option_widget(GENERATE["offsets"], value=0.0, label=label, scale=3)
                        )
            with gr.Accordion(views.PCS_TITLE, open=True):
                pcs = [
                    option_widget(GENERATE["pcs"], value=0.0, label=label)
                    for label in model.pc_labels
                ]
            with gr.Row():
                button = gr.Button("Generate", variant="primary", elem_id="generate-button")
                reset = gr.Button(views.RESET)
        with gr.Column(scale=3, min_width=320):
            picture, text = None, ctx.empty_message
            if first:
                picture, text = on_generate(ctx.default_key, catalog=catalog)
            shown = {"label": views.GENERATE_PICTURE, **latent_widget.PICTURE}
            image = gr.Image(picture, elem_id="generate-image", **shown)
            info = gr.Markdown(text, elem_id="generate-info")
    with gr.Accordion(views.GENERATE_ABOUT_TITLE, open=False):
        gr.Markdown(views.GENERATE_ABOUT)

    controls = GenerateControls(seed, grid, truncation, class_name, dims, offsets, pcs)

    def generate(*values: Any) -> tuple[str | None, str]:
        picture, text = on_generate(*values, catalog=catalog)
        return (str(latents.save_png(picture)) if picture is not None else None), text

    api = inspect.signature(on_generate)  # what gradio_client shows: without ``catalog``
    generate.__signature__ = api.replace(parameters=list(api.parameters.values())[:-1])
    inputs, outputs = [ctx.checkpoint, *controls.inputs()], [image, info]
    gr.on(
        triggers=[  # a new seed or model reaches the server path through the widget's button
            button.click,
            grid.release,
            truncation.release,
            class_name.input,
            *[d.input for d in dims],
            *[o.release for o in offsets],
            *[p.release for p in pcs],
        ],
        fn=generate,
        inputs=inputs,
        outputs=outputs,
        api_name="generate",
        trigger_mode="always_last",
        show_progress="minimal",
    )
    hidden = {"show_progress": "hidden"}
    randomise.click(None, None, seed, js=NEW_SEED_JS, api_name="new_seed", **hidden)
    reset.click(
        lambda: [1.0] + [0.0] * (N_DIMS + N_PCS),  # truncation 1, every slider 0
        None,
        [truncation, *offsets, *pcs],
        api_name="reset_sliders",
        **hidden,
    ).then(generate, inputs, outputs, api_name="generate_after_reset", **hidden)
    ctx.checkpoint.change(
        lambda key: on_checkpoint(key, catalog=catalog),  # the API's parameter: "key"
        ctx.checkpoint,
        [*pcs, *dims, class_name],
        api_name="generate_checkpoint_changed",
        **hidden,
    )
    return controls
