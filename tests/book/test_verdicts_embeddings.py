"""Section 02's claims (autobuild.book.verdicts.embeddings): each rule follows the results it is given."""
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch

from autobuild.book.verdicts import embeddings as verdicts
from autobuild.experiments.embeddings import HOPS, HopRuns, IRPredictor, PredictorVariants
from autobuild.spaces.ofa import MBV3


def _fe(expand: dict, kernel: dict):
    """A stand-in trained predictor whose FE-MLP gives these importances to expand and kernel values."""
    scores = {name: torch.zeros(len(vocab)) for name, vocab in MBV3.feature_vocab.items()}
    for feature, values in (("expand", expand), ("kernel", kernel)):
        for value, imp in values.items():
            scores[feature][list(MBV3.feature_vocab[feature]).index(value)] = imp
    return SimpleNamespace(metrics={"n_test": 100}, model=SimpleNamespace(fe_mlp=SimpleNamespace(value_scores=lambda: scores)))


def _runs(srcc: dict, margins: list) -> HopRuns:
    """Eq. 4 results: ``srcc[(space, label, seed)]`` = five hop SRCCs; MBv3 acc FE-MLPs per seed from ``margins``
    (e6 - e3, k7 - k3); an MSE-only row per Eq. 4 row, to be ignored."""
    rows = []
    for (space, label, seed), values in srcc.items():
        for loss in ("Eq. 4", "MSE only"):
            rows.append({"space": space, "label": label, "loss": loss, "seed": seed,
                         **dict(zip(HOPS, values if loss == "Eq. 4" else [-0.9] * 5)), "head": 0.9})
    by_seed = {("mbv3", "acc", s): _fe({3: 0.1, 6: 0.1 + e}, {3: 0.2, 7: 0.2 + k}) for s, (e, k) in enumerate(margins)}
    return HopRuns(pd.DataFrame(rows), {}, ["mbv3"], ["acc"], len(margins), by_seed)


def test_fig2_rule_is_decided_by_the_weakest_predictor_and_hop():
    runs = _runs({("mbv3", "acc", 0): [0.95, 0.9, 0.9, 0.9, 0.9], ("mbv3", "acc", 1): [0.95, 0.9, 0.72, 0.9, 0.9]},
                 [(0.1, 0.1)] * 2)
    rho, low, high, what = verdicts.weakest_cell(runs.hop_cells(), 100, "here")
    assert rho == 0.72 and low < verdicts.STRONG < high  # 0.72 on 100 test architectures: the CI reaches 0.7
    assert "weakest of 10 cells, here: MBv3, acc, hop 2, seed 1" in what
    assert verdicts.fig2_claims(runs, "ours", "quick", None)[0].verdict.word == "inconclusive"
    strong = _runs({("mbv3", "acc", 0): [0.95] * 5}, [(0.1, 0.1)])
    assert verdicts.fig2_claims(strong, "ours", "quick", None)[0].verdict.word == "agrees"
    weak = _runs({("mbv3", "acc", 0): [-0.4, 0.95, 0.95, 0.95, 0.95]}, [(0.1, 0.1)])
    assert verdicts.weakest_cell(weak.hop_cells(), 300, "here")[2] < 0


def _variants():
    rows = [{"variant": v, "seed": s, "n_test": 300, **{f"hop{m}_srcc": 0.95 for m in range(5)}}
            for v in ("companion", "authors", "authors' code") for s in range(3)]
    rows[3]["hop0_srcc"] = -0.39  # the authors' network, seed 0
    return PredictorVariants(pd.DataFrame(), pd.DataFrame(rows), pd.DataFrame())


def test_fig2_claims_add_both_stored_networks_unless_the_run_makes_that_row_itself():
    runs = _runs({("mbv3", "acc", 0): [0.95] * 5}, [(0.1, 0.1)])
    rows = verdicts.fig2_claims(runs, "ours", "quick", _variants())
    assert [(c.method, c.profile) for c in rows] == [("ours", None), ("paper", "full"), ("ours", "full")]
    paper = rows[1].verdict
    assert paper.word == "differs" and paper.ours == "-0.39" and "the authors' network, MBv3 acc, 3 seeds): hop 0, seed 0" in paper.interval
    assert rows[2].verdict.word == "agrees"
    assert all(c.claim_id == "fig2_strong_srcc" and c.target.startswith("book:") for c in rows)
    full = verdicts.fig2_claims(runs, "ours", "full", _variants())
    assert [(c.method, c.profile) for c in full] == [("ours", None), ("paper", "full")]
    assert [c.method for c in verdicts.fig2_claims(runs, "paper", "quick", None)] == ["paper"]
    assert verdicts.method_of("authors") == "paper" and verdicts.method_of("companion") == "ours"


def test_ranking_term_gain_is_one_value_per_predictor():
    index = pd.MultiIndex.from_tuples([(s, lab, loss) for s in ("mbv3", "pn") for lab in ("acc", "lat")
                                       for loss in ("Eq. 4", "MSE only")], names=["space", "label", "loss"])
    values = [[0.9] * 5, [0.1] * 5, [0.8] * 5, [0.7] * 5, [0.9] * 5, [-0.1, 0.1, 0.3, 0.5, 0.7], [0.6] * 5, [0.6] * 5]
    ablation = pd.DataFrame([v + [0.9] for v in values], index=index, columns=HOPS + ["head"])
    gains = verdicts.ranking_term_gains(ablation)
    assert gains.to_dict() == pytest.approx({("mbv3", "acc"): 0.8, ("mbv3", "lat"): 0.1, ("pn", "acc"): 0.6,
                                             ("pn", "lat"): 0.0})


def test_e6_k7_needs_five_seeds_and_one_seed_has_no_interval():
    def word(margins):
        runs = _runs({("mbv3", "acc", s): [0.95] * 5 for s in range(len(margins))}, margins)
        return next(c for c in verdicts.claims(runs, _ablation(), _ir(["Add"]), _steps(), model="companion",
                                               profile="quick") if c.claim_id == "sec51_e6_k7").verdict

    one = word([(0.3, 0.4)])
    assert one.word == "too few seeds" and one.ours == "+0.30" and "one seed's value, no interval" in one.interval
    assert word([(0.3, 0.5), (0.2, 0.5), (0.4, 0.5)]).word == "too few seeds"
    assert word([(0.3, 0.5), (0.2, 0.5), (0.4, 0.5), (0.25, 0.5), (0.35, 0.5)]).word == "agrees"
    assert word([(0.3, 0.5), (-0.2, 0.5), (0.4, 0.5), (0.5, -0.25), (0.05, 0.5)]).word == "inconclusive"
    assert verdicts.seed_interval([0.3]).n == 1 and verdicts.seed_interval([0.3, 0.5]).low < 0.3


def test_weakest_step_uses_the_smallest_z_and_a_bonferroni_interval():
    steps = pd.DataFrame({"space": "mbv3", "label": "acc", "unit": [0, 1, 2], "layers": "2 -> 3",
                          "step": [0.5, 0.02, -0.3], "se": [0.1, 0.01, 1.0]})
    row, low, high = verdicts.weakest_step(steps)
    assert row.unit == 2  # z = -0.3, against 2 and 5
    half = 2.394 * 1.0  # the normal quantile at 1 - 0.025 / 3
    assert low == pytest.approx(-0.3 - half, abs=1e-3) and high == pytest.approx(-0.3 + half, abs=1e-3)


def _ir(ranks: list, n_test=60, hop0=0.79):
    ops = pd.DataFrame({"op": ranks, "importance": np.linspace(1, 0, len(ranks)), "found in": "both"})
    trained = SimpleNamespace(metrics={"hop_srcc": [hop0] * 5, "srcc": 0.9, "n_test": n_test})
    return IRPredictor(None, [], ["mbv3", "pn"], trained, ops, {"mbv3": 0.77, "pn": 0.76})


def _ablation():
    index = pd.MultiIndex.from_tuples([("mbv3", lab, loss) for lab in ("a", "b", "c", "d", "e")
                                       for loss in ("Eq. 4", "MSE only")], names=["space", "label", "loss"])
    return pd.DataFrame([[0.9 if loss == "Eq. 4" else 0.1 + 0.01 * i] * 6 for i, (_, _, loss) in enumerate(index)],
                        index=index, columns=HOPS + ["head"])


def _steps():
    return pd.DataFrame({"space": "pn", "label": "acc", "unit": [0, 1], "layers": ["2 -> 3", "3 -> 4"],
                         "step": [0.01, 0.02], "se": [0.001, 0.001]})


def test_every_claim_names_its_method_and_target():
    runs = _runs({("mbv3", "acc", s): [0.95] * 5 for s in range(5)}, [(0.2, 0.1), (0.3, 0.05), (0.1, 0.2),
                                                                      (0.25, 0.15), (0.2, 0.3)])
    steps = _steps()
    ops = ["Add", "ReLU", "Conv", "Div", "BN", "GAP", "Mul", "Input", "Linear", "Output", "Reshape", "ReLU6"]
    rows = {(c.claim_id, c.method, c.profile): c for c in
            verdicts.claims(runs, _ablation(), _ir(ops), steps, model="companion", profile="quick")}
    words = {k[0]: c.verdict.word for k, c in rows.items()}
    assert words == {"fig2_strong_srcc": "agrees", "sec41_ranking_term": "agrees", "fig3_hop0_srcc": "agrees",
                     "fig3_top_op": "agrees", "fig3_div_relu": "agrees", "fig3_mbv3_accuracy": "agrees",
                     "sec51_e6_k7": "agrees", "sec42_label_moments": "agrees"}
    methods = {k[0]: k[1] for k in rows}
    assert methods["fig3_mbv3_accuracy"] == "no predictor" and methods["sec42_label_moments"] == "no predictor"
    assert methods["sec41_ranking_term"] == "ours"
    assert "5 predictors" in rows["sec41_ranking_term", "ours", None].verdict.interval
    assert rows["fig3_div_relu", "ours", None].target.endswith("(the top 4 of 12)")
    # Div at rank 5 of 12 is not among the top third
    late = ops[:3] + ["BN", "Div"] + ops[5:]
    div = {c.claim_id: c for c in verdicts.claims(runs, _ablation(), _ir(late), steps, model="authors",
                                                  profile="quick")}
    assert div["fig3_div_relu"].verdict.word == "differs"
    assert div["fig3_div_relu"].verdict.ours == "Div rank 5, ReLU rank 2 of 12"
    assert div["fig3_div_relu"].method == "paper"  # the authors' network on this page
    steps.loc[1, "step"] = -0.02
    assert {c.claim_id: c for c in verdicts.claims(runs, _ablation(), _ir(ops), steps, model="companion",
                                                   profile="quick")}["sec42_label_moments"].verdict.word == "differs"
