"""Interactive (plotly) versions of the book's scatter figures, for the HTML pages.

The PNG and PDF in ``figures/`` stay matplotlib's; these figures only replace them on the page.
:func:`show` displays a figure as a small HTML block that draws with the page's plotly.js (the book
loads it, see :mod:`autobuild.book.sphinx_ext`) or, in Jupyter or Colab, fetches plotly.js first.
Hovering a point shows its architecture (or subgraph) and labels.
"""
from __future__ import annotations

import json
import re

import numpy as np

_ID = re.compile(r"[A-Za-z][A-Za-z0-9_\-]*")


def to_html(fig, div_id: str, height: int = 460) -> str:
    """The figure as an HTML block with a stable ``div_id`` (so stored outputs do not change
    between runs), as wide as the page."""
    if not isinstance(div_id, str) or not _ID.fullmatch(div_id):
        raise ValueError(f"div_id must be letters, digits, '_' or '-', starting with a letter; got {div_id!r}")
    spec = json.loads(fig.to_json())
    spec["layout"].pop("template", None)
    spec["layout"].update(autosize=True, height=height)
    data, layout = json.dumps(spec["data"], separators=(",", ":")), json.dumps(spec["layout"], separators=(",", ":"))
    config = json.dumps({"responsive": True, "displaylogo": False})
    from plotly.offline import get_plotlyjs_version

    cdn = f"https://cdn.plot.ly/plotly-{get_plotlyjs_version()}.min.js"
    return (f'<div id="{div_id}" class="plotly-graph-div" style="width:100%;max-width:100%;height:{height}px"></div>\n'
            f"<script>(function(){{var draw=function(){{Plotly.newPlot({json.dumps(div_id)},{data},{layout},{config});}};"
            f"if(window.Plotly){{draw();}}else{{var s=document.createElement('script');s.src={json.dumps(cdn)};"
            f"s.onload=draw;document.head.appendChild(s);}}}})();</script>")


def show(fig, div_id: str, height: int = 460) -> None:
    """Display ``fig`` (see :func:`to_html`); the plain-text form is its title."""
    from IPython.display import display

    title = fig.layout.title.text or div_id
    display({"text/html": to_html(fig, div_id, height), "text/plain": f"<interactive figure: {title}>"}, raw=True)


def _round(x, digits: int = 4) -> list[float]:
    """Rounded plain floats: plotly writes numpy arrays as base64, which stored outputs, diffs
    and nbval's sanitising regexes handle badly."""
    return np.round(np.asarray(x, dtype=float), digits).tolist()


def front_figure(data_perf, data_cost, data_names, clusters, colors: dict, x_title: str, y_title: str,
                 title: str, data_label: str = "labelled set"):
    """A labelled set (grey), its Pareto front (staircase) and coloured clusters of built points.

    ``clusters`` is a DataFrame with ``group, perf, cost, name``; hovering any point shows its
    ``name`` (the architecture string) with both labels.
    """
    import plotly.graph_objects as go
    from plotly.colors import qualitative

    from autobuild.search.pareto import pareto_front

    data_perf, data_cost = np.asarray(data_perf, float), np.asarray(data_cost, float)
    if not (len(data_perf) == len(data_cost) == len(data_names)):
        raise ValueError(f"data_perf, data_cost and data_names differ in length: "
                         f"{len(data_perf)}, {len(data_cost)}, {len(data_names)}")
    missing = {"group", "perf", "cost", "name"} - set(clusters.columns)
    if missing:
        raise ValueError(f"clusters lacks the columns {sorted(missing)}")
    hover = f"%{{text}}<br>{x_title} %{{x}}<br>{y_title} %{{y}}<extra></extra>"
    fig = go.Figure()
    fig.add_trace(go.Scattergl(x=_round(data_cost), y=_round(data_perf), mode="markers", name=data_label,
                               text=list(data_names), hovertemplate=hover,
                               marker={"size": 4, "color": "#bdbdbd", "opacity": 0.6}))
    f = pareto_front(data_perf, data_cost)
    fig.add_trace(go.Scatter(x=_round(data_cost[f]), y=_round(data_perf[f]), mode="lines", line_shape="hv",
                             name="front of the labelled set", line={"color": "#525252", "width": 1.6},
                             hoverinfo="skip"))
    for i, (group, part) in enumerate(clusters.groupby("group", sort=False)):
        fig.add_trace(go.Scatter(x=_round(part.cost), y=_round(part.perf), mode="markers", name=str(group),
                                 text=list(part.name), hovertemplate=hover,
                                 marker={"size": 8, "color": colors.get(group, qualitative.D3[i % 10]), "opacity": 0.8}))
    fig.update_layout(title=title, xaxis_title=x_title, yaxis_title=y_title, margin={"l": 60, "r": 10, "t": 50, "b": 50},
                      legend={"orientation": "h", "y": -0.2}, template="plotly_white")
    return fig


def pair_menu(figs: dict, title: str):
    """One plotly figure holding every ``figs[label]`` (e.g. one per space and device), shown one at
    a time by a drop-down menu that also sets the x-axis title."""
    import plotly.graph_objects as go

    combined, spans = go.Figure(), []
    for label, f in figs.items():
        start = len(combined.data)
        for trace in f.data:
            combined.add_trace(trace.update(visible=not spans))
        spans.append((label, start, len(combined.data)))
    n = len(combined.data)
    buttons = [{"label": label, "method": "update",
                "args": [{"visible": [start <= i < end for i in range(n)]},
                         {"xaxis.title.text": figs[label].layout.xaxis.title.text}]}
               for label, start, end in spans]
    first = next(iter(figs.values())).layout
    combined.update_layout(title=title, xaxis_title=first.xaxis.title.text, yaxis_title=first.yaxis.title.text,
                           template="plotly_white", margin={"l": 60, "r": 10, "t": 80, "b": 50},
                           legend={"orientation": "h", "y": -0.2},
                           updatemenus=[{"buttons": buttons, "x": 0, "y": 1.13, "xanchor": "left",
                                         "direction": "down"}])
    return combined


def sample_for_hover(frame, score: str, truth: str, by, top: int = 100, others: int = 300, seed: int = 0):
    """Per group of ``by``: the ``top`` rows by ``score``, the ``top`` by ``truth`` and ``others``
    random rows, so that a scatter of thousands of points stays light on the page."""
    import pandas as pd

    parts = []
    for _, g in frame.groupby(by, sort=True):
        keep = set(g.nlargest(top, score).index) | set(g.nlargest(top, truth).index)
        rest = g.index.difference(list(keep))
        rng = np.random.default_rng(seed)
        keep |= set(rng.choice(rest, min(others, len(rest)), replace=False)) if len(rest) else set()
        parts.append(g.loc[sorted(keep)])
    return pd.concat(parts)


def scores_vs_truth_figure(points, scorers, x_title: str, title: str, depth_colors: dict):
    """One row per scorer, one column per stage: a subgraph's score against its true marginal.

    ``points`` has ``scorer, stage, n_layers, marginal, score, name``; hover shows ``name``.
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    stages = sorted(points.stage.unique())
    fig = make_subplots(rows=len(scorers), cols=len(stages), shared_xaxes=False, horizontal_spacing=0.03,
                        vertical_spacing=0.08, column_titles=[f"stage {u}" for u in stages], row_titles=list(scorers))
    hover = f"%{{text}}<br>{x_title} %{{x}}<br>score %{{y}}<extra></extra>"
    shown = set()
    for r, name in enumerate(scorers, start=1):
        for c, u in enumerate(stages, start=1):
            d = points[(points.scorer == name) & (points.stage == u)]
            for depth, g in d.groupby("n_layers"):
                label = f"{depth} layers"
                fig.add_trace(go.Scattergl(x=_round(g.marginal), y=_round(g.score), mode="markers", name=label,
                                           legendgroup=label, showlegend=label not in shown, text=list(g.name),
                                           hovertemplate=hover,
                                           marker={"size": 4, "opacity": 0.6,
                                                   "color": depth_colors.get(int(depth), "#7f7f7f")}),
                              row=r, col=c)
                shown.add(label)
    fig.update_layout(title=title, margin={"l": 50, "r": 30, "t": 70, "b": 40}, template="plotly_white",
                      legend={"orientation": "h", "y": -0.08})
    fig.update_annotations(font_size=10)
    fig.update_xaxes(tickfont_size=8)
    fig.update_yaxes(tickfont_size=8)
    return fig
