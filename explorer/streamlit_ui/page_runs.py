"""Runs, the Streamlit edition (layout and wiring only).

The same core as the Gradio tab (:mod:`explorer.runs`): the runs under the explorer's
checkpoint folders and its live runs, their curves overlaid, the sample grids at one step,
the options that differ, and a note for anything skipped.
"""

from __future__ import annotations

import streamlit as st

from explorer import runs
from explorer.streamlit_ui import shared

P = shared.KEEP + "runs."


def listed_runs(hosted: bool) -> list[runs.RunInfo]:
    """The runs listed: :func:`explorer.runs.visible_runs`."""
    return runs.visible_runs(shared.catalog().roots, hosted, shared.owner() if hosted else None)


def render() -> None:
    """The Runs page."""
    hosted = shared.hosted()
    st.header(runs.TITLE)
    st.markdown(runs.intro_markdown(hosted))
    listed = listed_runs(hosted)
    if not listed:
        st.info(runs.empty_markdown(hosted))
        return
    labels = {run.key: run.label for run in listed}
    keys = st.multiselect(
        runs.RUNS_LABEL, list(labels), format_func=labels.__getitem__, key=P + "keys"
    )
    if not keys:
        st.caption(runs.PICK_MORE)
        return
    steps = runs.grid_steps(listed, keys)
    step = None
    if len(steps) > 1:
        shared.choose(P + "step", steps, steps[-1])  # other runs: start at their last grid
        step = st.select_slider(runs.STEP_LABEL, options=steps, key=P + "step")
    view = runs.view_for_keys(listed, keys, step)
    st.plotly_chart(view.figure, key=P + "curves")
    if view.grids:
        columns = st.columns(min(len(view.grids), 4))
        for i, (caption, picture) in enumerate(view.grids):
            shared.image(columns[i % len(columns)], picture, caption)
    st.markdown(f"**{runs.DIFFERENCES_TITLE}**")
    if view.differences:
        rows = [dict(zip(view.headers, row, strict=True)) for row in view.differences]
        st.dataframe(rows, hide_index=True)
    if view.notes:
        st.info(shared.public(view.notes_markdown))
