import numpy as np
import pandas as pd
import pytest

from autobuild.predictor.ensemble import EnsembleConfig, autobuild_stage_scores, exhaustive_scores, fold_splits, predict_space, top_by_stage_sum, top_k_indices, train_ensemble
from autobuild.experiments.sd_selection import attention_importance, select
from autobuild.graphs.table import GraphTable
from autobuild.spaces.unet import SD14_UNET as S

FAST = EnsembleConfig.with_training(epochs=40, batch_size=32)


def synthetic(n=68, seed=5):
    """Labels that reward mid-block attention strongly and width mildly."""
    archs = S.sample(n, seed)
    y = np.array([3.0 * S.choices(a)[3].mid_attn + sum(c.width for c in S.choices(a)) for a in archs])
    return archs, y + np.random.default_rng(seed).normal(0, 0.1, n)


@pytest.fixture(scope="module")
def ensembles():
    archs, y = synthetic()
    return archs, y, train_ensemble(S, archs, y, 1, True, FAST, progress=False), \
        train_ensemble(S, archs, y, 1, False, FAST, progress=False)


def test_fold_splits_partition_and_reject_bad_seeds():
    splits = fold_splits(68, 5, 2)
    assert len(splits) == 10
    for s in range(2):
        tests = np.concatenate([te for (ss, _, _, te) in splits if ss == s])
        assert sorted(tests) == list(range(68))
    for _, _, tr, te in splits:
        assert not set(tr) & set(te) and len(tr) + len(te) == 68
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="positive integer"):
            fold_splits(68, 5, bad)


def test_predict_space_matches_the_predictor(ensembles):
    archs, y, ab, es = ensembles
    member = es[0]
    all_pred = predict_space(member, S, check=0)
    assert all_pred.shape == (S.size,)
    idx = S.all_choice_indices()
    pick = np.random.default_rng(1).choice(S.size, 300, replace=False)
    ref = member.predict([S.from_indices(idx[i]) for i in pick])
    np.testing.assert_allclose(all_pred[pick], ref, rtol=1e-4, atol=1e-4)


def test_top_by_stage_sum_is_the_exact_best():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame([{"stage": u, "index": i, "score": rng.normal()}
                          for u in range(4) for i in range(S.n_stage_subgraphs(u))])
    got = top_by_stage_sum(S, frame, 4)
    idx = S.all_choice_indices()
    per = [frame[frame.stage == u].sort_values("index").score.to_numpy() for u in range(4)]
    total = sum(per[u][idx[:, u]] for u in range(4))
    best = top_k_indices(total, 4)
    assert [S.index_of(a) for _, a in got] == list(best)
    assert [s for s, _ in got] == pytest.approx(total[best])


def test_autobuild_and_es_find_the_planted_signal(ensembles):
    archs, y, ab, es = ensembles
    scores = autobuild_stage_scores(ab, archs, y)
    assert len(scores) == sum(S.n_stage_subgraphs(u) for u in range(4)) and scores.score.notna().all()
    imp = attention_importance(S, scores)
    assert imp.set_index(["stage", "path"]).loc[(3, "mid"), "attention_effect"] > 0
    top = [a for _, a in top_by_stage_sum(S, scores, 4)]
    assert all(S.choices(a)[3].mid_attn for a in top)
    es_scores = exhaustive_scores(es, S, progress=False)
    best = [S.from_indices(S.all_choice_indices()[i]) for i in top_k_indices(es_scores, 4)]
    assert all(S.choices(a)[3].mid_attn for a in best)
    assert np.mean(es_scores) < es_scores[top_k_indices(es_scores, 1)[0]]


def test_select_rejects_bad_inputs():
    archs, y = synthetic(10)
    with pytest.raises(ValueError, match="positive integer"):
        select(S, archs, y, seeds=0)
    with pytest.raises(ValueError, match="labels"):
        train_ensemble(S, archs, y[:5], 1, True, FAST, progress=False)


def down_attention_label(n=68, seed=3, stage=1):
    """Labels that depend only on whether ``stage`` has attention on its down path (its first nodes)."""
    archs = S.sample(n, seed)
    y = np.array([float(S.choices(a)[stage].attn_down) for a in archs])
    return archs, y + np.random.default_rng(seed).normal(0, 0.05, n)


@pytest.fixture(scope="module")
def down_attention_members():
    archs, y = down_attention_label()
    return archs, y, train_ensemble(S, archs, y, 1, True, FAST, progress=False)


def test_stage_readout_sees_the_first_nodes_of_the_longest_stage(down_attention_members):
    """A 14-node stage is longer than the 4-hop receptive field. Turning its down-path attention
    layers into residual layers (nodes 1, 3, 5; the last 5 nodes and every position unchanged)
    must move the pooled readout the AutoBuild scores use (towards the label: down-path attention
    scores higher, for members that learnt the label); the root readout (the last node's hop-4
    embedding) cannot see it."""
    archs, y, members = down_attention_members
    longest = max(S.stage_subgraphs(1), key=len)
    feats = S.subgraph_features(1, longest)
    assert len(feats) == 14 and members[0].model.n_hops + 1 < 14
    changed = feats.copy()
    down_attn = [i for i, l in enumerate(longest) if l.path == "down" and l.kind == "attn"]
    changed[down_attn, 0] = S.encode_value("type", "res")
    table = GraphTable.from_arrays([feats, changed])
    for m in members:
        pooled = m.graph_norms_table(table)[:, -1]
        root = m.node_norms_table(table)[[13, 27], -1]
        assert abs(pooled[0] - pooled[1]) > 1e-4 * abs(pooled[0])
        assert root[0] == pytest.approx(root[1], rel=1e-6)
        if m.metrics["hop_srcc"][-1] > 0.2:
            assert pooled[0] > pooled[1]


def test_a_down_path_attention_label_moves_only_that_stage(down_attention_members):
    archs, y, members = down_attention_members
    scores = autobuild_stage_scores(members, archs, y)
    imp = attention_importance(S, scores).set_index(["stage", "path"]).attention_effect
    assert imp[(1, "down")] > 0.5  # the label's step is 1
    assert imp[(1, "down")] > 2 * imp.drop((1, "down")).abs().max()
    stage1 = scores[scores.stage == 1]
    choices = [S.stage_choice(1, S.stage_subgraphs(1)[i]) for i in stage1["index"]]
    best = choices[int(np.argmax(stage1.score.to_numpy()))]
    assert best.attn_down
