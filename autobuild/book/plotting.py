"""Shared figure style and saving for the book's notebooks.

Every figure is saved twice under a stable name: ``figures/NAME.png`` for the book and
``figures/NAME.pdf`` for papers. Files are written to a temporary name and moved into
place, and carry no creation date, so re-running a notebook rewrites identical files.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import matplotlib

from autobuild._paths import figures_dir

# Colours used across sections, so one space or label looks the same in every figure.
SPACE_COLORS = {"mbv3": "#1f77b4", "pn": "#d62728"}


LABEL_COLORS = {"acc": "#2ca02c", "latency_gpu": "#9467bd", "latency_cpu": "#8c564b",
                "latency_npu": "#e377c2", "latency_note10": "#7f7f7f", "flops": "#bcbd22"}


STYLE = {
    "figure.dpi": 110,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.labelsize": 10,
    "legend.fontsize": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
}


_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-]*")


def use_style() -> None:
    """Apply the book's matplotlib style to every later figure."""
    matplotlib.rcParams.update(STYLE)


def check_figures_dir(directory: str | os.PathLike | None = None) -> Path:
    """The figures folder (``directory`` or :func:`figures_dir`), created if needed and proven
    writable; call it at the start of a notebook so an unwritable folder fails before any
    training, not at the first :func:`save_figure`. Raises ``PermissionError`` or
    ``NotADirectoryError`` naming the folder and ``$AUTOBUILD_FIGURES_DIR``."""
    from autobuild._io import check_writable_dir

    out_dir = Path(directory) if directory is not None else figures_dir()
    try:
        return check_writable_dir(out_dir, "figures folder")
    except (PermissionError, NotADirectoryError) as exc:
        raise type(exc)(f"{exc}; set AUTOBUILD_FIGURES_DIR to a writable folder") from None


def save_figure(fig, name: str, directory: str | os.PathLike | None = None) -> tuple[Path, Path]:
    """Save ``fig`` as ``NAME.png`` and ``NAME.pdf`` in ``directory`` (default :func:`figures_dir`).

    ``name`` is a bare stem such as ``"fig2_hop_srcc"``: letters, digits, ``_`` and ``-``.
    Returns the two paths written.
    """
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(f"figure name must be a bare stem of letters, digits, '_' or '-' "
                         f"(e.g. 'fig2_hop_srcc'); got {name!r}")
    out_dir = check_figures_dir(directory)
    written = []
    for ext, metadata in (("png", {"Software": None}), ("pdf", {"CreationDate": None, "Producer": None})):
        target = out_dir / f"{name}.{ext}"
        tmp = out_dir / f".{name}.{os.getpid()}.tmp.{ext}"
        try:
            fig.savefig(tmp, format=ext, metadata=metadata)
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        written.append(target)
    return written[0], written[1]


#: Fill colour of an MBConv layer: hue by kernel size, darker for larger expand ratios.
LAYER_COLORS = {
    (3, 3): "#c6dbef", (3, 4): "#6baed6", (3, 6): "#08519c",  # (kernel, expand): k3 blues
    (5, 3): "#c7e9c0", (5, 4): "#74c476", (5, 6): "#006d2c",  # k5 greens
    (7, 3): "#fdd0a2", (7, 4): "#fd8d3c", (7, 6): "#a63603",  # k7 oranges
}


#: The width (inches) of the book's page body: figures drawn at it show unscaled.
PAGE_WIDTH = 7.4


METHOD_COLORS = {"AutoBuild-NAS": "#d62728", "Stage-Full": "#1f77b4", "Layer-Full": "#2ca02c",
                 "Layer-Insight": "#9467bd"}


def layer_color(layer) -> str:
    """Fill colour of a layer with ``.kernel`` and ``.expand`` (see :data:`LAYER_COLORS`)."""
    return LAYER_COLORS.get((layer.kernel, layer.expand), "#bbbbbb")


def draw_stage_subgraph(ax, subgraph, x: float, y: float, box: float = 0.9, gap: float = 0.25,
                        fontsize: float = 6) -> None:
    """Draw a stage subgraph as a left-to-right chain of boxes, lower-left corner at ``(x, y)``."""
    from matplotlib.patches import FancyBboxPatch

    for i, layer in enumerate(subgraph):
        left = x + i * (box + gap)
        color = layer_color(layer)
        ax.add_patch(FancyBboxPatch((left, y), box, box, boxstyle="round,pad=0.02,rounding_size=0.12",
                                    facecolor=color, edgecolor="#333333", linewidth=0.6))
        dark = matplotlib.colors.rgb_to_hsv(matplotlib.colors.to_rgb(color))[2] < 0.55
        ax.text(left + box / 2, y + box / 2, f"k{layer.kernel}\ne{layer.expand}", ha="center", va="center",
                fontsize=fontsize, color="white" if dark else "black", linespacing=0.9)
        if i:
            ax.annotate("", (left, y + box / 2), (left - gap, y + box / 2),
                        arrowprops={"arrowstyle": "-|>", "lw": 0.6, "color": "#333333", "shrinkA": 0,
                                    "shrinkB": 0, "mutation_scale": 5})


def plot_best_worst_subgraphs(table, title: str = ""):
    """Fig. 4: best and worst stage subgraph per label equation (row blocks) and stage (columns).

    ``table`` has columns ``equation, stage, which ("best"/"worst"), subgraph`` (layer
    tuples with ``.kernel``/``.expand``), as :meth:`Construction.best_and_worst` returns.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    equations = list(dict.fromkeys(table["equation"]))
    stages = sorted(table["stage"].unique())
    max_len = max(len(s) for s in table["subgraph"])
    col_w, row_h, head_h = max_len * 1.04 + 0.45, 1.04, 0.85
    block_h = head_h + 2 * row_h + 0.2
    width, height = len(stages) * col_w + 2.0, len(equations) * block_h + 1.0
    # Drawn at the page's width (PAGE_WIDTH inches), so that the book shows it unscaled and legible.
    scale = PAGE_WIDTH / width
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH, scale * height + 0.6))
    for r, eq in enumerate(equations):
        top = -r * block_h
        ax.text(-2.0, top - 0.2, f"y = {eq}", ha="left", va="top", fontsize=8.5, fontweight="bold")
        for w, which in enumerate(("best", "worst")):
            y = top - head_h - (w + 1) * row_h + 0.2
            ax.text(-0.2, y + 0.45, which, ha="right", va="center", fontsize=8,
                    color="#2b7a0b" if which == "best" else "#b00020")
            for c, u in enumerate(stages):
                row = table[(table.equation == eq) & (table.stage == u) & (table.which == which)]
                if len(row):
                    draw_stage_subgraph(ax, row["subgraph"].iloc[0], c * col_w, y, gap=0.14, fontsize=6.5)
    for c, u in enumerate(stages):
        ax.text(c * col_w + (col_w - 0.45) / 2, 0.35, f"stage {u + 1}", ha="center", va="bottom", fontsize=8.5)
    handles = [Patch(facecolor=LAYER_COLORS[(k, e)], edgecolor="#333333", label=f"k{k} e{e}")
               for k in (3, 5, 7) for e in (3, 4, 6)]
    ax.legend(handles=handles, ncol=9, loc="upper center", bbox_to_anchor=(0.5, 0.0), fontsize=7.5,
              frameon=False, handlelength=1.0, columnspacing=0.6, handletextpad=0.3)
    ax.set_xlim(-2.1, len(stages) * col_w)
    ax.set_ylim(-len(equations) * block_h, 1.1)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=9.5)
    return fig


def plot_front_and_clusters(ax, data_perf, data_cost, clusters=None, colors=None, marker_size: float = 9,
                            data_label: str = "labelled set", front_label: str = "labelled-set front"):
    """Labelled set (grey points), its Pareto front (grey staircase) and coloured clusters.

    Performance on the y-axis (maximised), cost on the x-axis (minimised). ``clusters`` is a
    DataFrame with ``equation, perf, cost``; ``colors`` maps an equation to a colour.
    """
    import numpy as np

    from autobuild.search.pareto import pareto_front

    data_perf, data_cost = np.asarray(data_perf, float), np.asarray(data_cost, float)
    ax.scatter(data_cost, data_perf, s=3, color="#bdbdbd", alpha=0.5, linewidths=0, label=data_label,
               rasterized=True)
    f = pareto_front(data_perf, data_cost)
    ax.step(data_cost[f], data_perf[f], where="post", color="#525252", lw=1.4, label=front_label)
    if clusters is not None:
        for i, (eq, part) in enumerate(clusters.groupby("equation", sort=False)):
            color = (colors or {}).get(eq, f"C{i}")
            ax.scatter(part["cost"], part["perf"], s=marker_size, color=color, alpha=0.75, linewidths=0,
                       label=f"y = {eq}")


def plot_search_fronts(ax, results, colors=None, lw: float = 1.2) -> None:
    """Fig. 5 (bottom): each search's final accuracy-latency front, one colour per method.

    One staircase per seed (the first seed solid, the others faint), labelled once per method.
    """
    seen = set()
    for r in results:
        f = r.front()
        first = r.method not in seen
        ax.step(r.cost[f], r.perf[f], where="post", color=(colors or METHOD_COLORS).get(r.method),
                lw=lw, alpha=0.9 if first else 0.35, label=r.method if first else None)
        seen.add(r.method)
