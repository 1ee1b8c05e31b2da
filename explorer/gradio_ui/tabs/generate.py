"""The "Generate" tab: seeds, truncation and latent sliders -> a grid of samples with D's verdict.

Handlers are plain functions over the checkpoint's :class:`trainers.pipeline.GANPipeline`
(testable without a browser; the grid shows exactly ``gan-train sample``'s images for the
same seed, n, class and ψ); the checkpoint is chosen with the app-wide dropdown
(``ctx.checkpoint``). The main event is the
``/generate`` API endpoint::

    from gradio_client import Client
    Client("http://127.0.0.1:7860/").predict(checkpoint="dcgan-mnist", seed=3, api_name="/generate")
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import gradio as gr
import numpy as np

from explorer import inputs, latents, widget
from explorer.gradio_ui.tabs import latent_widget
from trainers import latent_space
from trainers.checkpoint import CheckpointError
from trainers.losses import FORMULAS, g_loss_report
from trainers.pipeline import GANPipeline, PipelineOutput

if TYPE_CHECKING:
    from explorer.context import ExplorerContext

N_DIMS = widget.N_DIMS  # raw-dimension sliders
N_PCS = widget.N_PCS  # principal-direction sliders
MIXED = widget.MIXED
DEFAULT_GRID = widget.DEFAULT_GRID
MAX_GRID = widget.MAX_GRID  # the grid slider's range: at most 8 x 8 samples
MAX_TRUNCATION = widget.MAX_TRUNCATION
OFFSET_MAX = widget.OFFSET_MAX  # the offset and principal-direction sliders: -4 .. 4
LABEL_MARGIN = 24  # blank pixels above a picture, where Gradio draws the image's label

TEACHING_MD = f"""
**The game.** The generator G turns noise z ~ N(0, I) into an image; the discriminator D
outputs D(x), its probability that x is a *real* training image. Goodfellow et al. (2014)
set them a minimax game, min over G and max over D of

`V(D, G) = E_x[log D(x)] + E_z[log(1 − D(G(z)))]`

D maximises V, i.e. minimises `{FORMULAS["minimax"]["d"]}`.

**D(x) and D(G(z)).** D(x) near 1: "this looks real"; D(G(z)) near 0: "this is a fake".
The bar and number under each sample are D(G(z)) = sigmoid(D's logit) for that sample.
At the ideal end of the game G's samples look like the data and D can only guess: ½.

**Why the non-saturating G loss.** The minimax G loss
`{FORMULAS["minimax"]["g"]}` is flat exactly when G most needs help: early on D rejects
the fakes (D(G(z)) ≈ 0) and the gradient per sample, sigmoid(logit), is ≈ 0. The
non-saturating loss `{FORMULAS["non-saturating"]["g"]}` has the same fixed point but a
gradient of 1 − sigmoid(logit) ≈ 1 there. The numbers beside the grid compare both on
the samples you are looking at, computed by the same `trainers.losses.g_loss` used in training.

**The sliders.** *Truncation ψ* multiplies z by ψ: ψ < 1 keeps to the well-trained
middle of the prior (cleaner, less varied). *Raw dimensions* add to one coordinate of z;
single coordinates rarely mean anything on their own. *Principal directions* (GANSpace,
Härkönen et al. 2020) are the main axes of variation of G's first layer over 1,000 random
z, carried back to z-space; they tend to change one visible property at a time.
"""


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
        """In the order of :func:`latent_settings` after the checkpoint."""
        pairs = [c for pair in zip(self.dims, self.offsets, strict=True) for c in pair]
        return [self.seed, self.grid, self.truncation, self.class_name, *pairs, *self.pcs]


def default_settings() -> tuple[Any, ...]:
    """The Generate controls' start values, in ``GenerateControls.inputs`` order."""
    dims = [v for i in range(N_DIMS) for v in (i, 0.0)]
    return (0, DEFAULT_GRID, 1.0, MIXED, *dims, *[0.0] * N_PCS)


# --- plain handlers ---------------------------------------------------------------------------


def class_index(checkpoint: GANPipeline, class_name: str | None) -> int | None:
    """The label index for a dropdown value, or None for "every class in turn"/unconditional."""
    if not checkpoint.conditional or not class_name or class_name == MIXED:
        return None
    names = class_names(checkpoint)
    if class_name not in names:
        raise ValueError(
            f"{checkpoint.name} has no class {class_name!r}; classes: {', '.join(names)}"
        )
    return names.index(class_name)


def latent_settings(
    checkpoint: GANPipeline,
    seed: float,
    grid: float,
    truncation: float,
    class_name: str | None,
    values: tuple[float, ...],
) -> tuple[Any, Any, list[tuple[int, float]], list[float]]:
    """Unpack the widget values: (z (n, d), labels, dim edits, PC amounts).

    Raises ``explorer.inputs.InputError`` (a ValueError) for a value no widget can send
    (NaN, infinity, a 10**6 grid): the API reaches this function too.
    """
    last = checkpoint.latent_dim - 1
    dims = [inputs.whole(values[2 * i], "A latent dimension", 0, last, 0) for i in range(N_DIMS)]
    offsets = [
        inputs.number(values[2 * i + 1], "A dimension's offset", -OFFSET_MAX, OFFSET_MAX, 0)
        for i in range(N_DIMS)
    ]
    pcs = [
        inputs.number(v, "A principal direction's amount", -OFFSET_MAX, OFFSET_MAX, 0)
        for v in values[2 * N_DIMS : 2 * N_DIMS + N_PCS]
    ]
    n = inputs.whole(grid, "The grid side", 1, MAX_GRID, 1) ** 2
    truncation = inputs.number(truncation, "Truncation ψ", 0.0, MAX_TRUNCATION, 1.0)
    edits = list(zip(dims, offsets, strict=True))
    z = latent_space.build_latents(checkpoint, inputs.seed(seed), n, truncation, edits, pcs)
    labels = checkpoint.class_labels(n, class_index(checkpoint, class_name))
    return z, labels, edits, pcs


def generate_batch(
    checkpoint: GANPipeline,
    seed: float = 0,
    grid: float = DEFAULT_GRID,
    truncation: float = 1.0,
    class_name: str | None = MIXED,
    values: tuple[float, ...] = (),
) -> tuple[PipelineOutput, list[tuple[int, float]], float]:
    """The Generate tab's samples for its widget values: (pipeline output, dim edits, seconds).

    With the sliders at 0 this is ``pipe(n=grid², seed, labels, truncation)``, i.e. exactly
    ``gan-train sample CKPT --n grid² --seed S [--label L] --truncation ψ``.
    """
    values = tuple(values) + (0.0,) * (2 * N_DIMS + N_PCS - len(values))
    start = time.perf_counter()
    z, labels, edits, _ = latent_settings(checkpoint, seed, grid, truncation, class_name, values)
    out = checkpoint(latents=z, labels=labels)
    return out, edits, time.perf_counter() - start


def g_formula(loss: str) -> str:
    """G's loss formula from ``trainers.losses.FORMULAS``, without its comment."""
    return FORMULAS[loss]["g"].split("   (")[0].strip()


def describe_batch(
    checkpoint: GANPipeline,
    out: PipelineOutput,
    edits: list[tuple[int, float]],
    seed: int,
    truncation: float,
    seconds: float = 0.0,
) -> str:
    """The Markdown beside the grid: D's verdict, both G losses on these fakes, z facts."""
    n = len(out.images)
    lines = [
        f"**{n} samples** from `{checkpoint.name}` · seed {seed} · ψ {truncation:g} · "
        f"model work {seconds * 1000:.0f} ms"
    ]
    if out.scores is not None:
        s = out.scores
        verdict = "mostly real" if s.mean() > 0.6 else "mostly fake" if s.mean() < 0.4 else "unsure"
        lines.append(
            f"**D(G(z))** mean {s.mean():.2f} (min {s.min():.2f}, max {s.max():.2f}): D thinks "
            f"these are {verdict}."
        )
        report = g_loss_report(out.logits)
        mm, ns = report["minimax"], report["non-saturating"]
        lines.append(
            "| G loss on these fakes | value | push per sample, mean abs(dℓ/dlogit) |\n|---|---|---|\n"
            f"| minimax `{g_formula('minimax')}` | {mm['loss']:.3f} | {mm['grad']:.3f} |\n"
            f"| non-saturating `{g_formula('non-saturating')}` | {ns['loss']:.3f} | {ns['grad']:.3f} |"
        )
    else:
        lines.append("This checkpoint has no discriminator, so there are no D scores.")
    d = checkpoint.latent_dim
    lines.append(
        f"Sample 0: ‖z‖ = {float(out.latents[0].norm()):.2f} (a typical N(0, I) latent in {d} "
        f"dimensions has ‖z‖ ≈ √{d} = {d**0.5:.1f})."
    )
    base = checkpoint.latents(seed, 1, truncation)[0]
    for dim, offset in edits:
        if offset:
            k = min(max(dim, 0), d - 1)
            lines.append(
                f"Dimension {k}: sample 0 has z[{k}] = {float(base[k]):+.2f}, moved to "
                f"{float(base[k]) + offset:+.2f}."
            )
    return "\n\n".join(lines)


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
    try:
        ckpt = catalog.load(checkpoint)
        out, edits, seconds = generate_batch(ckpt, seed, grid, truncation, class_name, values)
    except (CheckpointError, ValueError) as error:
        return None, f"⚠️ {error}"
    picture = latents.captioned_grid(
        out.images,
        int(grid or 1),
        latents.score_captions(out.scores),
        out.scores,
        top_margin=LABEL_MARGIN,
    )
    text = describe_batch(ckpt, out, edits, int(seed or 0), float(truncation), seconds)
    return picture, text


def on_checkpoint(checkpoint: str | None, *, catalog: Any = None) -> list[Any]:
    """New checkpoint chosen: relabel the PC sliders, bound the dims, offer its classes."""
    try:
        ckpt = catalog.load(checkpoint)
        pca = latent_space.principal_directions(ckpt, k=N_PCS)
    except (CheckpointError, ValueError):
        return [gr.update()] * (N_PCS + N_DIMS + 1)
    pcs = [gr.Slider(label=pc_label(i, float(pca.explained[i]))) for i in range(N_PCS)]
    dims = [
        gr.Number(maximum=ckpt.latent_dim - 1, label=f"dimension (0–{ckpt.latent_dim - 1})")
        for _ in range(N_DIMS)
    ]
    return [*pcs, *dims, class_dropdown_update(ckpt)]


pc_label = widget.pc_label


def class_names(ckpt: GANPipeline) -> list[str]:
    """The class names of a cGAN ("0", "1", ... when none were stored); [] for other models."""
    return list(ckpt.class_names) if ckpt.conditional else []


def class_dropdown_update(ckpt: GANPipeline) -> Any:
    names = class_names(ckpt)
    return gr.Dropdown(choices=[MIXED, *names], value=MIXED, visible=bool(names))


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


#: "New seed" picks the seed in the browser (one server call fewer: the new seed's z is the
#: only thing the server is asked for).
NEW_SEED_JS = "() => Math.floor(Math.random() * 1000000)"


def on_reset() -> list[float]:
    """Truncation back to 1 and every slider back to 0."""
    return [1.0] + [0.0] * (N_DIMS + N_PCS)


# --- layout and wiring ------------------------------------------------------------------------


def build_tab(ctx: ExplorerContext) -> GenerateControls:
    """Create the tab's components inside the current Tab; returns the controls for reuse."""
    catalog = ctx.catalog
    first = None
    latent_dim = 100
    try:
        if ctx.default_key:
            first = catalog.load(ctx.default_key)
            latent_dim = first.latent_dim
    except (CheckpointError, ValueError):
        first = None
    explained: list[float | None] = [None] * N_PCS  # the page-load event fills these in (app.py)

    with gr.Row(equal_height=True):
        seed = gr.Number(0, label="seed", precision=0, minimum=0, scale=3, elem_id="generate-seed")
        randomise = gr.Button("New seed", scale=1, min_width=90, elem_id="new-seed")
    # The sliders and the grid run in the visitor's browser (explorer/web/latent-widget.js); the
    # server hands the widget z for the seed, the principal directions and the model's name.
    start = widget.page_config(catalog, ctx.default_key, "generate") if first else None
    widget_html = latent_widget.widget_html(
        json.dumps(start) if start else "", "generate", "generate-button"
    )
    # The same page drawn on the server: shown when the widget steps aside (no WebAssembly, a
    # model that cannot be exported); its /generate endpoint serves gradio_client users.
    with latent_widget.server_path_group(), gr.Row():
        with gr.Column(scale=2, min_width=300):
            grid = gr.Slider(
                1, 8, value=DEFAULT_GRID, step=1, precision=0, label="grid side n (n × n samples)"
            )
            truncation = gr.Slider(
                0.0, 1.5, value=1.0, step=0.05, label="truncation ψ (z → ψ·z; 1 = off)"
            )
            names = class_names(first) if first is not None else []
            class_name = gr.Dropdown(
                choices=[MIXED, *names],
                value=MIXED,
                label="class (cGAN)",
                visible=bool(names),
                allow_custom_value=True,  # the API may name any class of any cGAN; checked by the handler
            )
            with gr.Accordion("Raw latent dimensions: pick a coordinate of z, slide it", open=True):
                dims, offsets = [], []
                for i in range(N_DIMS):
                    with gr.Row(equal_height=True):
                        dims.append(
                            gr.Number(
                                i,
                                precision=0,
                                minimum=0,
                                maximum=latent_dim - 1,
                                label=f"dimension (0–{latent_dim - 1})",
                                scale=1,
                                min_width=110,
                            )
                        )
                        offsets.append(
                            gr.Slider(
                                -4,
                                4,
                                value=0,
                                step=0.1,
                                label=f"add to z[dimension] #{i + 1}",
                                scale=3,
                            )
                        )
            with gr.Accordion(
                "Principal directions (GANSpace): unit steps along the main axes", open=True
            ):
                pcs = [
                    gr.Slider(-4, 4, value=0, step=0.1, label=pc_label(i, explained[i]))
                    for i in range(N_PCS)
                ]
            with gr.Row():
                button = gr.Button("Generate", variant="primary", elem_id="generate-button")
                reset = gr.Button("Reset sliders")
        with gr.Column(scale=3, min_width=320):
            initial_image, initial_text = (
                on_generate(ctx.default_key, catalog=catalog)
                if first
                else (None, ctx.empty_message)
            )
            image = gr.Image(
                initial_image,
                label="G(z): D(G(z)) under each sample (bar: 0 = fake … 1 = real)",
                format="png",
                interactive=False,
                elem_id="generate-image",
                buttons=["download"],
            )
            info = gr.Markdown(initial_text, elem_id="generate-info")
    with gr.Accordion(
        "What am I looking at? The GAN game, D(x), D(G(z)) and the G loss", open=False
    ):
        gr.Markdown(TEACHING_MD)

    controls = GenerateControls(seed, grid, truncation, class_name, dims, offsets, pcs)

    def generate(*values: Any) -> tuple[str | None, str]:
        picture, text = on_generate(*values, catalog=catalog)
        return (str(latents.save_png(picture)) if picture is not None else None), text

    generate.__signature__ = _api_signature()  # type: ignore[attr-defined]
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
        inputs=[ctx.checkpoint, *controls.inputs()],
        outputs=[image, info],
        api_name="generate",
        trigger_mode="always_last",
        show_progress="minimal",
    )
    gr.on(
        triggers=[seed.change, ctx.checkpoint.change],
        fn=lambda key, seed: json.dumps(widget.page_config(catalog, key, "generate", seed)),
        inputs=[ctx.checkpoint, seed],
        outputs=widget_html,
        api_name="generate_widget",
        trigger_mode="always_last",
        show_progress="hidden",
        queue=False,  # a few ms each: no queue, never behind a long job
    )
    randomise.click(None, None, seed, js=NEW_SEED_JS, api_name="new_seed", show_progress="hidden")
    reset.click(
        on_reset,
        None,
        [truncation, *offsets, *pcs],
        api_name="reset_sliders",
        show_progress="hidden",
    ).then(
        generate,
        [ctx.checkpoint, *controls.inputs()],
        [image, info],
        api_name="generate_after_reset",
        show_progress="hidden",
    )
    ctx.checkpoint.change(
        lambda key: on_checkpoint(key, catalog=catalog),
        ctx.checkpoint,
        [*pcs, *dims, class_name],
        api_name="generate_checkpoint_changed",
        show_progress="hidden",
    )
    return controls


def _api_signature() -> Any:
    """The signature gradio_client shows for /generate: on_generate's, without ``catalog``."""
    import inspect

    sig = inspect.signature(on_generate)
    return sig.replace(parameters=[p for p in sig.parameters.values() if p.name != "catalog"])
