"""Figures of sections 2 and 2b: the MSE ablation reads at page width; the 2b scatter has its titles."""
import matplotlib
import numpy as np
import pandas as pd

from autobuild.book.figures import embeddings as fig2
from autobuild.book.figures import score_quality as fig2b
from autobuild.experiments import score_quality as sq
from autobuild.experiments.embeddings import HOPS

matplotlib.use("Agg")


def test_mse_ablation_is_a_grid_of_labels_by_spaces_at_page_width():
    index = pd.MultiIndex.from_tuples([(s, lab, loss) for s in ("mbv3", "pn") for lab in ("acc", "latency_gpu", "x")
                                       for loss in ("Eq. 4", "MSE only") if (s, lab) != ("pn", "x")],
                                      names=["space", "label", "loss"])
    ablation = pd.DataFrame(np.linspace(-0.5, 0.9, len(index) * 6).reshape(len(index), 6), index=index,
                            columns=HOPS + ["head"])
    fig = fig2.plot_mse_ablation(ablation)
    axes = np.array(fig.axes).reshape(3, 2)
    assert [ax.get_title() for ax in axes[:, 0]] == ["MBv3, acc", "MBv3, latency_gpu", "MBv3, x"]
    assert axes[0, 1].get_title() == "PN, acc" and not axes[2, 1].axison  # PN has no label x
    assert len(axes[1, 1].get_lines()) == 3  # Eq. 4, MSE only, the zero line
    width, height = fig.get_size_inches()
    assert width <= 8 and height > width  # two panels a row: readable when scaled to a page or a phone
    matplotlib.pyplot.close(fig)


def test_interactive_scatter_has_axis_titles_and_a_title_clear_of_the_toolbar():
    rows = [{"stage": u, "index": i, "subgraph": f"s{i}", "n_layers": 2 + i % 3, "marginal": i / 100,
             "half_a": i / 100, "half_b": i / 100} for u in range(2) for i in range(20)]
    truth = sq.Truth(pd.DataFrame(rows), pd.DataFrame(), "oracle", 4)
    scores = pd.concat([pd.DataFrame({"scorer": name, "seed": 0, "stage": [r["stage"] for r in rows],
                                      "index": [r["index"] for r in rows], "score": np.arange(len(rows), dtype=float)})
                        for name in ("a", "b")])
    fig = fig2b.interactive_score_vs_truth(truth, scores, ["a", "b"], label="true marginal (points)", top=3, others=4)
    assert fig.layout.title.text == "Scores vs the true marginal (oracle)"
    assert fig.layout.title.xanchor == "left" and fig.layout.margin.t >= 90
    assert "toImage" in fig.layout.modebar.remove  # a short toolbar leaves the title room
    assert "top 3 by score" in fig.layout.title.subtitle.text
    assert "true marginal (points)" in [a.text for a in fig.layout.annotations]  # one x title under the bottom row
    y_titles = [a.get("title", {}).get("text") for k, a in fig.layout.to_plotly_json().items() if k.startswith("yaxis")]
    assert y_titles.count("Eq. 5 score") == 2  # the first column's two scorers
