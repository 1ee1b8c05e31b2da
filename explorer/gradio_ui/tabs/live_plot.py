"""A plotly chart that a ``gr.Timer`` can redraw in place.

``gr.Plot`` re-creates its plotly element whenever its figure changes, so a chart updated twice
a second would lose the user's zoom, hover and hidden lines at every tick. :func:`live_plot` is
a ``gr.HTML`` whose value is the figure's JSON; its script calls ``Plotly.react`` on the same
element, and the figures' ``uirevision`` (see :mod:`explorer.charts`) keeps what the user did.
plotly.js comes from the installed plotly package (no internet needed), served by name with the
browser widget's files (``/latent-widget/static/plotly.min.js``, gzipped; see
:mod:`explorer.widget`): the page never names where Python's packages live, and no copy is left
in a temporary folder.

    plot = live_plot(charts.training_curves(None), elem_id="train-curves")
    timer.tick(lambda: plot_value(new_figure()), None, plot)
"""

from __future__ import annotations

import gradio as gr
import plotly.graph_objects as go

from explorer import widget

#: Where the page loads plotly.js from (relative to the page; explorer/gradio_ui/tabs/latent_widget.py).
PLOTLY_SRC = f"{widget.GRADIO_PREFIX}/static/plotly.min.js"

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
        head=f'<script src="{PLOTLY_SRC}"></script>',
        min_height=height,
        **kwargs,
    )
