"""The same-information controls: the additive ridge model's reduced spaces and predictor-guided NSGA-II."""
import numpy as np
import pytest

from autobuild.search.additive import AdditiveModel
from autobuild.search.candidates import layer_full
from autobuild.search.guided import predictor_guided_search
from autobuild.spaces.registry import get_space


@pytest.fixture(scope="module")
def space():
    return get_space("mbv3")


def _additive_truth(space, archs, rng):
    """A label that is exactly additive in (unit, position, layer) with one strongly preferred layer."""
    weight = {}
    y = []
    for a in archs:
        total = 0.0
        for u in range(space.n_units):
            for j, layer in enumerate(space.arch_unit(a, u)):
                weight.setdefault((u, j, layer), rng.normal(0, 0.1))
                total += weight[(u, j, layer)]
        y.append(total)
    return np.array(y), weight


def test_additive_model_ranks_subgraphs_by_their_true_additive_effect(space):
    rng = np.random.default_rng(0)
    archs = space.sample(1500, seed=0)
    y, weight = _additive_truth(space, archs, rng)
    model = AdditiveModel(space, archs, y, ridge=1e-3)
    u = 2
    subgraphs = space.unit_subgraphs(u)
    true = np.array([sum(weight.get((u, j, layer), 0.0) for j, layer in enumerate(sg)) for sg in subgraphs])
    seen = np.array([all((u, j, layer) in weight for j, layer in enumerate(sg)) for sg in subgraphs])
    rho = np.corrcoef(np.argsort(np.argsort(model.unit_scores(u)[seen])), np.argsort(np.argsort(true[seen])))[0, 1]
    assert rho > 0.9
    top = model.top_k(3)
    assert len(top) == space.n_units and all(len(c) == 3 for c in top)
    assert top[u][0] == subgraphs[int(np.argmax(model.unit_scores(u)))]


@pytest.mark.parametrize("kwargs, message", [({"y": [1.0, np.nan]}, "finite"), ({"ridge": 0.0}, "positive"),
                                             ({"y": [1.0]}, "as many labels")])
def test_additive_model_refuses_bad_input(space, kwargs, message):
    archs = space.sample(2, seed=1)
    args = {"y": [1.0, 2.0], "ridge": 1.0} | kwargs
    with pytest.raises(ValueError, match=message):
        AdditiveModel(space, archs, args["y"], args["ridge"])


def test_guided_search_spends_exactly_the_budget_on_true_evaluations_picked_by_the_surrogate(space):
    true_calls = []

    def truth(archs):
        true_calls.append(len(archs))
        return np.array([a.n_layers for a in archs], float), np.ones(len(archs))

    def surrogate(archs):  # agrees with the truth on perf, so the picks are the deepest seen
        return np.array([a.n_layers for a in archs], float), np.ones(len(archs))

    result = predictor_guided_search(layer_full(space), surrogate, truth, budget=20, screen=200, n_initial=20,
                                     per_round=20, seed=0)
    assert true_calls == [20] and result.n_evaluated == 20 and result.method == "Predictor-NSGA-II"
    assert result.info["screened"] == 200
    random = space.sample(20, seed=3)
    assert result.perf.mean() > np.mean([a.n_layers for a in random])
    with pytest.raises(ValueError, match="budget"):
        predictor_guided_search(layer_full(space), surrogate, truth, budget=30, screen=20)
