"""A plotly chart that a ``gr.Timer`` can redraw in place.

``gr.Plot`` re-creates its plotly element whenever its figure changes, so a chart updated twice
a second would lose the user's zoom, hover and hidden lines at every tick. :func:`live_plot` is
a ``gr.HTML`` whose value is the figure's JSON; its script calls ``Plotly.react`` on the same
element, and the figures' ``uirevision`` (see :mod:`explorer.charts`) keeps what the user did.
plotly.js comes from the installed plotly package (no internet needed), served from a copy in
Gradio's own temporary folder: the page never names where Python's packages live.

    plot = live_plot(charts.training_curves(None), elem_id="train-curves")
    timer.tick(lambda: plot_value(new_figure()), None, plot)
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import gradio as gr
import plotly
import plotly.graph_objects as go
from gradio.utils import get_upload_folder

PACKAGED_PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def _served_copy(source: Path) -> Path:
    """A copy of ``source`` in Gradio's temporary folder (made once per plotly version)."""
    target = (
        Path(get_upload_folder()) / "gan-explorer-static" / f"plotly-{plotly.__version__}.min.js"
    )
    try:
        if not target.is_file() or target.stat().st_size != source.stat().st_size:
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:6]}")
            shutil.copyfile(source, partial)
            os.replace(partial, target)  # atomic: a page never loads half a file
    except OSError:
        return source  # a read-only temp folder: serve the package's own file
    return target


PLOTLY_JS = _served_copy(PACKAGED_PLOTLY_JS)
gr.set_static_paths([PLOTLY_JS])

_DRAW = """
const config = {responsive: true, displaylogo: false};
const draw = () => {
  const target = element.querySelector('.live-plot');
  if (!target || !props.value) return;
  const figure = JSON.parse(props.value);
  window.Plotly.react(target, figure.data, figure.layout, config);
};
const ready = () => (window.Plotly ? draw() : setTimeout(ready, 50));
ready();
watch('value', ready);
"""


def plot_value(figure: go.Figure | None) -> str:
    """What a handler returns for a :func:`live_plot`: the figure as JSON ("" for none)."""
    return figure.to_json() if figure is not None else ""


def live_plot(figure: go.Figure | None = None, *, height: int = 330, **kwargs) -> gr.HTML:
    """A chart component showing ``figure``; update it with :func:`plot_value`."""
    return gr.HTML(
        plot_value(figure),
        html_template=f'<div class="live-plot" style="width:100%;height:{height}px"></div>',
        js_on_load=_DRAW,
        head=f'<script src="/gradio_api/file={PLOTLY_JS}"></script>',
        min_height=height,
        **kwargs,
    )
