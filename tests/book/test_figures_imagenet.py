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


def test_paired_differences_colour_each_condition_by_its_verdict():
    diffs = pd.DataFrame([{"recipe": r, "model": "companion", "space": "mbv3", "device": "gpu", "seed": i,
                           "best_baseline": "Layer-Full", "hv_autobuild": 0.2 + d, "hv_baseline": 0.2,
                           "difference": d}
                          for r, d in (("quick", 0.01), ("full", -0.01)) for i in range(3)])
    table = pd.DataFrame([{"recipe": r, "model": "companion", "space": "mbv3", "device": "gpu",
                           "best baseline": "Layer-Full", "seeds": 3, "mean difference": d, "low": d - 0.001,
                           "high": d + 0.001, "verdict": v} for r, d, v in (("quick", 0.01, "better"),
                                                                            ("full", -0.01, "worse"))])
    fig = figures.plot_paired_differences(diffs, table, "t")
    ax = fig.axes[0]
    bars = [c for c in ax.containers]
    colours = [matplotlib.colors.to_hex(b.lines[0].get_color()) for b in bars]
    assert colours == [figures.VERDICT_COLORS["better"], figures.VERDICT_COLORS["worse"]]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["quick\ncompanion", "full\ncompanion"]
    # in % of the baseline's mean hypervolume: +0.01 / 0.2 = +5%
    assert abs(bars[0].lines[0].get_ydata()[0] - 5.0) < 1e-9


def test_verdict_table_puts_the_interval_in_one_column():
    table = pd.DataFrame([{"recipe": "full", "model": "authors", "space": "pn", "device": "gpu",
                           "best baseline": "Layer-Full", "seeds": 8, "mean difference": 0.01, "low": -0.002,
                           "high": 0.02, "verdict": "tie"}])
    shown = figures.verdict_table(table)
    assert shown.index.tolist() == [("full", "authors", "PN-GPU")]
    assert shown.iloc[0].tolist() == ["Layer-Full", 8, "+0.0100 [-0.0020, +0.0200]", "tie"]
