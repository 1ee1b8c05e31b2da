"""The Runs tab: pick training runs and compare them side by side (layout and wiring only).

Everything it shows comes from :mod:`explorer.runs` (discover the runs, read ``log.jsonl``
and ``samples/``, the overlaid curves, the grids at one step, the options that differ). Its
events have ``api_name`` ``runs_list`` and ``runs_compare``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gradio as gr

from explorer import runs
from explorer.context import ExplorerContext, public_text
from explorer.gradio_ui.tabs.train import session_of


def list_runs(
    roots: Sequence[Path], hosted: bool = False, request: gr.Request | None = None
) -> list[runs.RunInfo]:
    """This visitor's runs (:func:`explorer.runs.visible_runs`)."""
    return runs.visible_runs(roots, hosted, session_of(request) if hosted else None)


def on_refresh(
    roots: Sequence[Path], hosted: bool = False, request: gr.Request | None = None
) -> tuple[Any, str]:
    """The run picker's choices, and the note when there is none."""
    listed = list_runs(roots, hosted, request)
    empty = "" if listed else runs.empty_markdown(hosted)
    return gr.Dropdown(choices=[(run.label, run.key) for run in listed]), empty


def on_compare(
    keys: list[str] | None,
    step: float | None,
    roots: Sequence[Path],
    hosted: bool = False,
    request: gr.Request | None = None,
) -> tuple[Any, ...]:
    """(curves, grids, step slider, options that differ, notes) of the chosen runs."""
    listed = list_runs(roots, hosted, request)
    wanted = int(step) if step is not None else None
    view = runs.view_for_keys(listed, keys, wanted)
    gallery = [(picture, caption) for caption, picture in view.grids]
    low, high, value, movable = view.step_range
    slider = gr.Slider(minimum=low, maximum=high, value=value, interactive=movable)
    table = gr.Dataframe(value=view.differences, headers=view.headers)
    notes = view.notes_markdown
    return view.figure, gallery, slider, table, public_text(notes) if hosted else notes


def build_tab(ctx: ExplorerContext, tab: gr.Tab | None = None) -> None:
    """The Runs tab's widgets and events (``tab``: refresh the list when it is opened)."""
    roots = list(ctx.catalog.roots)
    hosted = ctx.hosted
    listed = list_runs(roots, hosted)  # hosted: no visitor yet, so the shipped runs only
    gr.Markdown(runs.intro_markdown(hosted))
    with gr.Row():
        picker = gr.Dropdown(
            choices=[(run.label, run.key) for run in listed],
            multiselect=True,
            label=runs.RUNS_LABEL,
            scale=4,
            elem_id="runs-picker",
        )
        refresh = gr.Button("Refresh list", scale=1)
    empty = gr.Markdown("" if listed else runs.empty_markdown(hosted))
    plot = gr.Plot(label="curves", elem_id="runs-curves")
    step = gr.Slider(0, 1, value=0, step=1, label=runs.STEP_LABEL, interactive=False)
    gallery = gr.Gallery(label="sample grids", columns=4, height="auto", elem_id="runs-grids")
    gr.Markdown(f"**{runs.DIFFERENCES_TITLE}**")
    table = gr.Dataframe(headers=["option"], interactive=False, elem_id="runs-differences")
    notes = gr.Markdown(elem_id="runs-notes")

    def refresh_list(request: gr.Request) -> tuple[Any, str]:
        return on_refresh(roots, hosted, request)

    def compare(keys: list[str] | None, at: float, request: gr.Request) -> tuple[Any, ...]:
        return on_compare(keys, at, roots, hosted, request)

    def compare_latest(keys: list[str] | None, request: gr.Request) -> tuple[Any, ...]:
        return on_compare(keys, None, roots, hosted, request)

    outputs = [plot, gallery, step, table, notes]
    refresh.click(refresh_list, None, [picker, empty], api_name="runs_list")
    picker.change(compare_latest, [picker], outputs, api_name="runs_compare_latest")
    step.release(compare, [picker, step], outputs, api_name="runs_compare")
    if tab is not None:  # the list is read again whenever the tab is opened
        tab.select(refresh_list, None, [picker, empty], api_name="runs_list_on_open")
