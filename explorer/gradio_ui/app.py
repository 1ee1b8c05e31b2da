"""The Gradio edition: :func:`build_app` puts the tabs together, :func:`serve` runs it.

Each tab (:mod:`explorer.gradio_ui.tabs`) lays out one page and wires it to the core's view
functions; per-visitor values live in the widgets and ``gr.State``, and the only module-level
objects are caches of read-only models. Hosted mode (:func:`explorer.context.hosted_mode`): no
server path in the page or the API, the visitor limits stated at the top and enforced, uploads
capped, Gradio's temporary files swept (:mod:`explorer.gradio_ui.tempfiles`).
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
from explorer.widget import page_asset

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
    catalog = checkpoints.explorer_catalog(checkpoint_dirs, include_default, enable_training)
    ctx = GradioContext.of(make_context(catalog, enable_training, hosted, model))
    limits = ctx.limits
    tab = links.checked_tab(tab)

    def summary_html(key: str | None) -> str:
        return summary.meta_html(catalog.get(key).meta, hosted) if key in catalog.keys() else ""

    with gr.Blocks(title="GAN Explorer", delete_cache=tempfiles.delete_cache_setting()) as demo:
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
        page_seeds = {"generate": controls.seed, "classes": classes_seed}
        page_seeds["interpolate"] = interpolate_seed

        def refresh_catalog(current: str | None) -> gr.Dropdown:
            value = catalog.refresh_keeping(current)  # e.g. a checkpoint Train just saved
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
            """A link's view (explorer/links.py): model, tab, the page's seed, presenter."""
            query = dict(request.query_params) if request is not None else {}
            view, note = links.open_link(query, catalog.keys(), tab)
            conditional = [key for _, key in catalog.choices(conditional_only=True)]
            sets = links.link_targets(view, conditional)
            return [
                sets.model if sets.model and sets.model != ctx.default_key else gr.skip(),
                gr.Tabs(selected=view.tab) if view.tab != tab else gr.skip(),
                view.tab,
                *[sets.seeds.get(name, gr.skip()) for name in links.SEEDED_TABS],
                sets.classes_model or gr.skip(),
                True if sets.presenter else gr.skip(),
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
                *(page_seeds[name] for name in links.SEEDED_TABS),
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
        tempfiles.start_sweeper(demo, *tempfiles.delete_cache_setting())  # what delete_cache misses
    return demo


def _styled_launch(launch, *args, **kwargs):
    """``demo.launch`` with the explorer's CSS (the presenter's view, the model summary), added
    to any ``css=`` the caller gives (Gradio 6 takes CSS at launch, not in ``gr.Blocks``)."""
    kwargs["css"] = PAGE_CSS + (kwargs.get("css") or "")
    if scratch.process_root() is not None:  # the system temp dir, served as before install()
        kwargs["allowed_paths"] = [*(kwargs.get("allowed_paths") or []), scratch.system_tempdir()]
    return launch(*args, **kwargs)


def _hosted_launch(launch, ctx: ExplorerContext, *args, **kwargs):
    """``demo.launch`` of a hosted explorer, whoever calls it (:func:`serve` or a Space's app.py):
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
