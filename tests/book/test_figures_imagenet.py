"""Notebook 03's figure helpers: the paired-difference plot and the interactive pair menu."""
import matplotlib
import pandas as pd
import plotly.graph_objects as go

from autobuild.book.figures import imagenet as figures
from autobuild.book.interactive import pair_menu

matplotlib.use("Agg")


def test_pair_menu_shows_one_pair_at_a_time():
    a = go.Figure([go.Scatter(x=[1], y=[1], name="a1"), go.Scatter(x=[2], y=[2], name="a2")])
    a.update_layout(xaxis_title="latency_gpu (ms)", yaxis_title="top-1")
    b = go.Figure([go.Scatter(x=[3], y=[3], name="b1")])
    b.update_layout(xaxis_title="latency_cpu (ms)")
    menu = pair_menu({"MBv3-GPU": a, "PN-CPU": b}, "t")
    assert [t.visible for t in menu.data] == [True, True, False]
    buttons = menu.layout.updatemenus[0].buttons
    assert [btn.label for btn in buttons] == ["MBv3-GPU", "PN-CPU"]
    assert buttons[1].args[0]["visible"] == [False, False, True]
    assert buttons[1].args[1]["xaxis.title.text"] == "latency_cpu (ms)"


def _comparison(recipe, against, d, word):
    return {"recipe": recipe, "model": "companion", "readout": "pooled", "searcher": "AutoBuild-NAS",
            "space": "mbv3", "device": "gpu", "against": against, "opponent": "Layer-Full"}, d, word


def test_comparisons_colour_each_row_by_the_ledgers_verdict():
    cases = [_comparison("quick", "best baseline", 0.01, "agrees"), _comparison("full", "stronger control", -0.01,
                                                                                "differs")]
    diffs = pd.DataFrame([{**keys, "seed": i, "hv": 0.2 + d, "hv_opponent": 0.2, "difference": d}
                          for keys, d, _ in cases for i in range(3)])
    judged = pd.DataFrame([{**keys, "seeds": 3, "mean difference": d, "low": d - 0.001, "high": d + 0.001,
                            "verdict": "x", "opponent HV": 0.2, "word": word} for keys, d, word in cases])
    fig = figures.plot_comparisons(diffs, judged, lambda r: f"{r['recipe']} {r['against']}", "t")
    ax = fig.axes[0]
    bars = list(ax.containers)
    colours = [matplotlib.colors.to_hex(b.lines[0].get_color()) for b in bars]
    assert colours == [figures.VERDICT_COLORS["agrees"], figures.VERDICT_COLORS["differs"]]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["quick best baseline", "full stronger control"]
    # in % of the opponent's mean hypervolume: +0.01 / 0.2 = +5%
    assert abs(bars[0].lines[0].get_xdata()[0] - 5.0) < 1e-9


def test_recipe_table_says_which_recipe_leads():
    table = pd.DataFrame([{"model": "companion", "readout": "pooled", "space": "pn", "device": "gpu", "seeds": 8,
                           "mean difference": 0.01, "low": 0.002, "high": 0.02, "verdict": "better"}])
    shown = figures.recipe_table(table, "15-epoch", "200-epoch")
    assert shown.index.tolist() == [("companion", "pooled", "PN-GPU")]
    assert shown.iloc[0].tolist() == [8, "+0.0100 [+0.0020, +0.0200]", "15-epoch leads"]


def test_hypervolume_panels_fit_the_page_width():
    fig = figures.pair_panels([("mbv3", "gpu"), ("mbv3", "npu"), ("pn", "gpu")], lambda ax, s, d: ax.plot([0], [0]),
                              "t")
    assert fig.get_figwidth() <= 7.5 and sum(ax.get_visible() for ax in fig.axes) == 3
