"""The plotly figures of the HTML book: stable, plain-number HTML, hover names, clear errors."""
import numpy as np
import pandas as pd
import pytest

from autobuild.book import interactive


def _front():
    clusters = pd.DataFrame({"group": ["y = a", "y = a", "y = b"], "perf": [0.8, 0.9, 0.7],
                             "cost": [3.0, 4.0, 1.0], "name": ["224:e6k7", "224:e4k5", "224:e3k3"]})
    return interactive.front_figure(np.array([0.5, 0.6, 0.75]), np.array([1.0, 2.0, 3.0]), ["a1", "a2", "a3"],
                                    clusters, {"y = a": "#d62728"}, "FLOPs", "acc", "title")


def test_front_figure_names_every_point_on_hover():
    fig = _front()
    assert [t.name for t in fig.data] == ["labelled set", "front of the labelled set", "y = a", "y = b"]
    assert list(fig.data[0].text) == ["a1", "a2", "a3"] and list(fig.data[2].text) == ["224:e6k7", "224:e4k5"]
    assert "%{text}" in fig.data[2].hovertemplate and fig.data[2].marker.color == "#d62728"


def test_html_is_stable_and_holds_plain_numbers():
    one, two = interactive.to_html(_front(), "fig-x"), interactive.to_html(_front(), "fig-x")
    assert one == two and 'id="fig-x"' in one and "Plotly.newPlot" in one
    assert "bdata" not in one and "[0.5,0.6,0.75]" in one.replace(" ", "")


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="div_id"):
        interactive.to_html(_front(), "1 bad")
    with pytest.raises(ValueError, match="differ in length"):
        interactive.front_figure([1, 2], [1, 2], ["a"], pd.DataFrame(), {}, "x", "y", "t")
    with pytest.raises(ValueError, match=r"lacks the columns \['name'\]"):
        interactive.front_figure([1], [1], ["a"], pd.DataFrame(columns=["group", "perf", "cost"]), {}, "x", "y", "t")


def test_sample_for_hover_keeps_both_top_lists_per_group():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"stage": np.repeat([0, 1], 500), "score": rng.normal(size=1000),
                          "truth": rng.normal(size=1000)})
    kept = interactive.sample_for_hover(frame, "score", "truth", "stage", top=10, others=20)
    for _, g in frame.groupby("stage"):
        assert set(g.nlargest(10, "score").index) <= set(kept.index)
        assert set(g.nlargest(10, "truth").index) <= set(kept.index)
    assert 2 * 20 < len(kept) <= 2 * 40
