"""The GAN Explorer Gradio app: ``build_app()`` wires the tabs together; ``main()`` serves it.

    gan-explorer [--host 127.0.0.1] [--port 7860] [--checkpoint-dir runs/] [--public]
    python -m explorer --checkpoint-dir runs/

This module only builds and wires widgets. Every computation lives in plain functions
(:mod:`explorer.latents`, :mod:`explorer.checkpoints`, :mod:`explorer.convlab`) that the tab
modules in :mod:`explorer.gradio_ui.tabs` call, so it can all be tested without a browser.

Sharing and hosting: per-user values live in the widgets and ``gr.State``; the only
module-level objects are caches of read-only models. On Hugging Face Spaces (``SPACE_ID``
set) training features are off unless ``GAN_EXPLORER_ENABLE_TRAINING=1``.

Hosted mode (:func:`explorer.context.hosted_mode`: a Space, a ``--host`` other machines can
reach, or ``--public``): no server path in the page or the API schema, training data only built
in or uploaded, the visitor limits stated at the top and enforced, only one's own training job
can be stopped or exported, uploads capped at ``VisitorLimits.upload_mb`` and Gradio's temporary
files deleted after an hour (``delete_cache``).
"""

from __future__ import annotations

import argparse
import functools
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gradio as gr

from explorer import checkpoints, convlab, links, scratch, summary
from explorer.context import (
    ExplorerContext,
    hosted_mode,
    limits_markdown,
    make_context,
    problems_message,
    training_enabled,
)
from explorer.gradio_ui import benchmark_endpoints, tempfiles
from explorer.gradio_ui.context import GradioContext
from explorer.gradio_ui.tabs import (
    ask_d,
    classes,
    generate,
    inside,
    interpolate,
    latent_widget,
    playground,
    runs,
    stylise,
    train,
    translate,
)
from explorer.gradio_ui.tabs import convlab as convlab_tab
from explorer.live_training.places import default_checkpoint_dir
from explorer.widget import page_asset

#: Requests running at once (the CPU has few cores; each request uses one torch thread).
CONCURRENCY = 2
#: Requests waiting in the queue before new ones are turned away.
QUEUE_SIZE = 64
#: Gradio's temporary files (uploads, results) are deleted every hour once an hour old;
#: ``GAN_EXPLORER_DELETE_CACHE=EVERY_S,AGE_S`` changes it (benchmarks/soak.py uses minutes).
DELETE_CACHE = (3600, 3600)


def delete_cache_setting(environ=os.environ) -> tuple[int, int]:
    """(how often, how old) for ``gr.Blocks(delete_cache=...)``, in seconds."""
    text = environ.get("GAN_EXPLORER_DELETE_CACHE", "")
    try:
        every, age = (int(part) for part in text.split(","))
    except ValueError:
        return DELETE_CACHE
    return (every, age) if every > 0 and age > 0 else DELETE_CACHE


#: The page's own CSS and the "Copy link" script (explorer/web/pages/).
PAGE_CSS = page_asset("summary.css") + page_asset("presenter-gradio.css")
COPY_LINK_JS = page_asset("copy-link.js")
PRESENTER_JS = "(on) => { document.body.classList.toggle('presenter', !!on); return []; }"

INTRO_MD = """
# GAN Explorer
Touch a trained generative adversarial network: slide its latent vector, ask it for a class,
walk between two samples, open up its layers and its transposed convolutions.
"""


def build_app(
    checkpoint_dirs: Sequence[Path] | None = None,
    enable_training: bool | None = None,
    *,
    include_default: bool = True,
    hosted: bool | None = None,
    model: str | None = None,
    tab: str = links.DEFAULT_TAB,
) -> gr.Blocks:
    """Build the explorer.

    Args:
        checkpoint_dirs: extra folders to search (``--checkpoint-dir``), besides ``pretrained/``
            and ``$GAN_EXPLORER_PRETRAINED``.
        enable_training: allow training features (the Train tab's buttons); None = decide
            from the environment (:func:`explorer.context.training_enabled`). Exposed as
            ``demo.enable_training``.
        include_default: also search ``pretrained/`` and ``$GAN_EXPLORER_PRETRAINED`` (tests
            turn this off to see only their own tiny checkpoints).
        hosted: serve strangers (see the module docstring); None = decide from the
            environment (:func:`explorer.context.hosted_mode`: ``SPACE_ID``,
            ``GAN_EXPLORER_PUBLIC=1``). Exposed as ``demo.hosted``.
        model: the checkpoint a visit starts on (``--model``); None = the showcase
            (:func:`explorer.context.showcase_key`). A ValueError names the ones there are.
        tab: the tab a visit starts on (``--tab``, one of :data:`explorer.links.TABS`).

    A link ``?model=NAME&tab=TAB&seed=N&presenter=1`` opens that view (:mod:`explorer.links`).
    """
    if enable_training is None:
        enable_training = training_enabled()
    if hosted is None:
        hosted = hosted_mode()
    tempfiles.patch_gradio_cache_writes()  # two users, the same picture: no torn downloads
    checkpoint_dirs = list(checkpoint_dirs or [])
    if enable_training and include_default:  # where the Train tab's "Save checkpoint" writes
        live_dir = default_checkpoint_dir()
        live_dir.mkdir(parents=True, exist_ok=True)
        checkpoint_dirs.append(live_dir)
    catalog = checkpoints.discover(checkpoint_dirs, include_default=include_default)
    ctx = GradioContext.of(make_context(catalog, enable_training, hosted, model))
    limits = ctx.limits
    tab = links.normalise_tab(tab)
    if tab not in links.TABS:
        raise ValueError(f"no tab named {tab!r}; tabs: {', '.join(links.TABS)}")

    def summary_html(key: str | None) -> str:
        """The model row's plain-words summary (explorer/summary.py) of a checkpoint."""
        if key not in catalog.keys():
            return ""
        return summary.summary_html(summary.model_summary(catalog.get(key).meta, hosted))

    with gr.Blocks(title="GAN Explorer", delete_cache=delete_cache_setting()) as demo:
        gr.Markdown(INTRO_MD)
        if hosted:
            gr.Markdown(limits_markdown(limits, enable_training), elem_id="visitor-limits")
        if not catalog:
            gr.Markdown(ctx.empty_message, elem_id="no-checkpoints")
        with gr.Row(equal_height=True):
            ctx.checkpoint = gr.Dropdown(
                catalog.choices(),
                value=ctx.default_key,
                label="Model (for Generate, Interpolate and Inside)",
                info="family · data set · training steps · metrics — folder",
                scale=3,
                elem_id="checkpoint",
            )
            model_summary = gr.HTML(
                summary_html(ctx.default_key), elem_id="checkpoint-summary", scale=5
            )
            with gr.Column(scale=0, min_width=200):
                refresh = gr.Button("↻ Find new checkpoints", size="sm")
                presenter = gr.Checkbox(
                    False, label="Presenter view (large pictures)", elem_id="presenter-view"
                )
                copy_link = gr.Button("🔗 Copy link to this view", size="sm", elem_id="copy-link")
        view_link = gr.Textbox(
            label="Link to this view (copied)",
            visible=False,
            elem_id="view-link",
            interactive=False,
        )
        link_note = gr.Markdown("", visible=False, elem_id="link-problems")
        current_tab = gr.State(tab)
        if catalog and catalog.problems:
            gr.Markdown(problems_message(catalog, hosted).strip())

        with gr.Tabs(selected=tab) as tabs:
            with gr.Tab(links.TITLES["generate"], id="generate"):
                controls = generate.build_tab(ctx)
            with gr.Tab(links.TITLES["classes"], id="classes") as tab:
                classes_model, classes_seed = classes.build_tab(ctx, tab)
            with gr.Tab(links.TITLES["interpolate"], id="interpolate") as tab:
                interpolate_seed = interpolate.build_tab(ctx, tab)
            with gr.Tab(links.TITLES["inside"], id="inside") as tab:
                inside.build_tab(ctx, controls, tab)
            with gr.Tab(links.TITLES["ask-d"], id="ask-d"):
                ask_d.build_tab(ctx)
            with gr.Tab(links.TITLES["convlab"], id="convlab") as tab:
                convlab_tab.build_tab()
                inside.build_checkerboard_section(ctx, convlab.artifact_view, tab)
            with gr.Tab(links.TITLES["stylise"], id="stylise"):
                stylise.build_tab(limits, hosted)
            with gr.Tab(links.TITLES["translate"], id="translate"):
                translate.build_tab()
            with gr.Tab(links.TITLES["train"], id="train"):
                train.build_tab(enable_training, hosted, limits)
            with gr.Tab(links.TITLES["runs"], id="runs") as runs_page:
                runs.build_tab(ctx, runs_page)
            with gr.Tab(links.TITLES["playground"], id="playground"):
                playground.build_tab(enable_training)

        # The seed a link sets and "Copy link" reads, per tab (others use Generate's).
        page_seeds = {"classes": classes_seed, "interpolate": interpolate_seed}

        def refresh_catalog(current: str | None) -> gr.Dropdown:
            catalog.refresh()  # e.g. a checkpoint the Train tab just saved
            keys = catalog.keys()
            value = current if current in keys else (keys[0] if keys else None)
            return gr.Dropdown(choices=catalog.choices(), value=value)

        refresh.click(
            refresh_catalog, ctx.checkpoint, ctx.checkpoint, api_name="refresh_checkpoints"
        )

        labels = {child.label: child.id for child in tabs.children if getattr(child, "id", None)}

        def tab_selected(evt: gr.SelectData) -> str:
            """The id of the tab the visitor opened (for "Copy link to this view")."""
            return labels.get(evt.value, links.DEFAULT_TAB)

        tabs.select(tab_selected, None, current_tab, api_name="tab_selected", queue=False)

        def load_link(request: gr.Request) -> list[Any]:
            """A link's view (explorer/links.py): model, tab, Generate's seed, presenter."""
            query = dict(request.query_params) if request is not None else {}
            view, note = links.open_link(query, catalog.keys(), tab)
            model_update = view.model if view.model and view.model != ctx.default_key else gr.skip()
            conditional = {key for _, key in catalog.choices(conditional_only=True)}
            seeded = view.tab if view.tab in page_seeds else "generate"
            seeds = [
                view.seed if view.seed is not None and seeded == name else gr.skip()
                for name in ("generate", *page_seeds)
            ]
            return [
                model_update,
                gr.Tabs(selected=view.tab) if view.tab != tab else gr.skip(),
                view.tab,
                *seeds,
                view.model if view.model in conditional else gr.skip(),
                True if view.presenter else gr.skip(),
                gr.Markdown(note, visible=bool(note)),
            ]

        # The PCA behind the principal-direction sliders is computed on the first page load,
        # not at start-up, so the first image is served sooner; this relabels the sliders.
        demo.load(
            load_link,
            None,
            [
                ctx.checkpoint,
                tabs,
                current_tab,
                controls.seed,
                *page_seeds.values(),
                classes_model,
                presenter,
                link_note,
            ],
            api_name="open_link",
            show_progress="hidden",
        ).then(
            lambda key: generate.on_checkpoint(key, catalog=catalog),
            ctx.checkpoint,
            [*controls.pcs, *controls.dims, controls.class_name],
            api_name="generate_page_loaded",
            show_progress="hidden",
        )
        ctx.checkpoint.change(
            summary_html,
            ctx.checkpoint,
            model_summary,
            api_name="checkpoint_summary",
            show_progress="hidden",
        )
        presenter.change(None, presenter, None, js=PRESENTER_JS, api_name="presenter_view")

        def view_query(
            key: str | None,
            tab_id: str,
            seed: float | None,
            classes_key: str | None,
            classes_at: float | None,
            interpolate_at: float | None,
            on: bool,
        ) -> Any:
            """This view's link, as a query (the browser puts its own address before it)."""
            seeds = {"generate": seed, "classes": classes_at, "interpolate": interpolate_at}
            view = links.page_view(tab_id, on, key, seeds, classes_key)
            return gr.Textbox(value=links.build_link(view), visible=True)

        copy_link.click(
            view_query,
            [
                ctx.checkpoint,
                current_tab,
                controls.seed,
                classes_model,
                classes_seed,
                interpolate_seed,
                presenter,
            ],
            view_link,
            api_name="view_link",
            queue=False,
        ).then(None, view_link, view_link, js=COPY_LINK_JS, api_name="view_link_copy")

    demo.queue(default_concurrency_limit=limits.concurrency, max_size=limits.queue_size)
    latent_widget.install_routes(demo)  # /latent-widget/: the browser widget's files
    demo.enable_training = enable_training  # type: ignore[attr-defined]
    demo.explorer_context = ctx  # type: ignore[attr-defined]
    demo.hosted = hosted  # type: ignore[attr-defined]
    demo.launch = functools.partial(_styled_launch, demo.launch)  # type: ignore[method-assign]
    if hosted:
        demo.launch = functools.partial(_hosted_launch, demo.launch, ctx)  # type: ignore[method-assign]
        tempfiles.start_sweeper(demo, *delete_cache_setting())  # what delete_cache misses
    return demo


def _styled_launch(launch, *args, **kwargs):
    """``demo.launch`` with the explorer's CSS (the presenter's view, the model summary), added
    to any ``css=`` the caller gives (Gradio 6 takes CSS at launch, not in ``gr.Blocks``)."""
    kwargs["css"] = PAGE_CSS + (kwargs.get("css") or "")
    if scratch.process_root() is not None:  # the system temp dir, served as before install()
        kwargs["allowed_paths"] = [*(kwargs.get("allowed_paths") or []), scratch.system_tempdir()]
    return launch(*args, **kwargs)


def _hosted_launch(launch, ctx: ExplorerContext, *args, **kwargs):
    """``demo.launch`` of a hosted explorer, whoever calls it (``main`` or a Space's app.py):
    uploads capped at the visitor limit, and an unexpected error shows Gradio's generic message
    (its text could name server paths; the tabs' own messages are ``gr.Error`` and still show)."""
    kwargs.setdefault("max_file_size", f"{ctx.limits.upload_mb}mb")
    kwargs["show_error"] = False
    return launch(*args, **kwargs)


def serve(args: argparse.Namespace) -> None:
    """Build the app for ``gan-explorer``'s parsed arguments (:func:`explorer.launcher.main`)
    and serve it until the process is stopped."""
    started = time.perf_counter()
    import torch

    torch.set_num_threads(max(1, args.threads))
    hosted = hosted_mode(args.host, args.public)
    scratch.install()  # this server's temporary files: one folder, gone when it stops
    try:
        demo = build_app(args.checkpoint_dir, hosted=hosted, model=args.model, tab=args.tab)
    except ValueError as error:  # --model names no checkpoint here
        raise SystemExit(f"gan-explorer: {error}") from None
    if os.environ.get("GAN_EXPLORER_BENCHMARK") == "1":
        benchmark_endpoints.add(demo)
    mode = " (hosted mode: visitor limits, no server paths)" if hosted else ""
    print(f"GAN Explorer built in {time.perf_counter() - started:.1f} s{mode}", flush=True)
    demo.launch(server_name=args.host, server_port=args.port, show_error=True)
