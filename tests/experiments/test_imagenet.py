"""The drivers and tables of notebook 03 (autobuild.experiments.imagenet), on a tiny space and known frames."""
import numpy as np
import pandas as pd
import pytest

from autobuild.data.labelled import LabelledSet
from autobuild.experiments import imagenet
from autobuild.predictor import TrainConfig
from autobuild.search.pareto import Reference
from test_construction import SHALLOW, tiny_labels


@pytest.fixture(scope="module")
def tiny_mbv3():
    """A 120-architecture labelled set of the shallow test space, filed under "mbv3" (for the tables' names)."""
    archs = SHALLOW.sample(120, seed=1)
    labels = tiny_labels(archs)
    labels["latency_npu"] = 3 * labels["latency_gpu"] - 0.01 * np.arange(len(archs))
    data = LabelledSet(SHALLOW, archs, labels, {c: "test formula" for c in labels.columns}, "tiny.parquet")
    return {"mbv3": data}


@pytest.fixture(scope="module")
def built(tiny_mbv3):
    equations = imagenet.label_equations(tiny_mbv3, ("gpu", "npu"), (1.0,))
    config = TrainConfig(epochs=1, batch_size=32, lr=1e-3, progress=False)
    return imagenet.construct_all(tiny_mbv3, equations, config, seeds=2, n_train=100, k=2, progress=False)


def test_construct_all_trains_each_distinct_equation_once_per_repeat_with_its_seed(built):
    eqs = built.equations[("mbv3", "gpu")] + built.equations[("mbv3", "npu")]
    distinct = list(dict.fromkeys(eqs))
    assert len(distinct) == len(eqs) - 1  # 100**acc serves both devices
    assert sorted(built.built) == sorted((seed, "mbv3", eq) for seed in (0, 1) for eq in distinct)
    for (seed, _, _), c in built.built.items():
        assert c.trained.config.seed == seed and c.trained.config.epochs == 1 and c.trained.config.lr == 1e-3
        assert len(c.trained.train_idx) + len(c.trained.test_idx) == 100
    assert [c.equation for c in built.pair(1, "mbv3", "npu")] == built.equations[("mbv3", "npu")]
    summary = built.srcc_summary()
    assert summary.index.tolist() == [("mbv3", eq) for eq in distinct]
    assert ("head", "mean") in summary.columns and ("head", "min") in summary.columns
    assert "seed" not in summary.columns.get_level_values(0)


def test_front_extensions_labels_every_cluster_and_uses_the_nadir(tiny_mbv3, built):
    calls = []

    def objectives(acc, lat):
        calls.append((acc, lat))
        return lambda archs: (tiny_labels(archs)["acc"].to_numpy() + 1, 0.5 * tiny_labels(archs)["latency_gpu"].to_numpy())

    fronts = imagenet.front_extensions(tiny_mbv3, built, objectives)
    assert calls == [("acc", "latency_gpu"), ("acc", "latency_npu")]  # one evaluator per pair
    labels = tiny_mbv3["mbv3"].labels
    assert tuple(fronts.refs[("mbv3", "npu")]) == (labels["acc"].min(), labels["latency_npu"].max())
    assert sorted(fronts.per_cluster) == [(s, "mbv3", d) for s in (0, 1) for d in ("gpu", "npu")]
    # every architecture is more accurate and faster than any labelled one: every cluster reaches beyond
    assert all(t.reaches_beyond.all() for t in fronts.per_cluster.values())
    assert fronts.table.loc[("mbv3", "gpu"), "clusters beyond front, per seed"] == "3 / 3 of 3"
    assert all(len(c) == 3 * 2 ** 5 for c in fronts.clusters.values())
    report = fronts.report("embedded").splitlines()
    assert report[0].startswith("MBv3-GPU, seed 0: 3 of 3 clusters reach beyond the front (100**acc: 32/32")
    assert report[3] == ("seed 0: clusters extend the front on at least one device per space: True; "
                         "every cluster reaches beyond on 2 of 2 space/device pairs")
    assert report[-1].startswith("Differences may come from the data")
    assert fronts.report("paper").splitlines()[-1].startswith("The labelled set is the paper's")


def _traits(acc_top, acc_bottom, lat_top, lat_bottom):
    """Traits rows (mean_layers, share_e6, share_e3, share_k7, share_k3) for the two checked equations."""
    cols = ["mean_layers", "share_e6", "share_e3", "share_k7", "share_k3"]
    rows = [("100**acc", "top-25", acc_top), ("100**acc", "bottom-25", acc_bottom),
            ("acc/latency_gpu", "top-25", lat_top), ("acc/latency_gpu", "bottom-25", lat_bottom)]
    return pd.DataFrame([dict(zip(cols, v), equation=e, which=w) for e, w, v in rows]).set_index(["equation", "which"])


def test_reading_checks_follow_the_papers_claims():
    agrees = _traits((3.8, 0.5, 0.2, 0.4, 0.2), (2.2, 0.3, 0.4, 0.2, 0.5), (2.5, 0.4, 0.3, 0.3, 0.3),
                     (3.5, 0.3, 0.3, 0.3, 0.3))
    checks = imagenet.reading_checks(agrees, "100**acc", "acc/latency_gpu", k=25)
    assert len(checks) == 7 and all(checks.values())
    reading = imagenet.SubgraphReading(agrees, checks)
    assert reading.report("quick", "embedded").splitlines()[-1] == (
        "7 of 7 parts of the paper's reading hold for our predictors (quick profile, embedded data).")
    # short, e3-heavy best subgraphs for 100**acc break three claims, and acc/latency's best are longer
    differs = _traits((3.0, 0.2, 0.5, 0.4, 0.2), (2.2, 0.3, 0.4, 0.2, 0.5), (3.2, 0.4, 0.3, 0.3, 0.3),
                      (3.5, 0.3, 0.3, 0.3, 0.3))
    checks = imagenet.reading_checks(differs, "100**acc", "acc/latency_gpu", k=25)
    assert [c for c, ok in checks.items() if not ok] == [
        "100**acc: best are long (>= 3.5 layers)", "100**acc: best favour e6 over e3",
        "acc/latency: best are shorter than 100**acc's"]
    lines = imagenet.SubgraphReading(differs, checks).report("full", "paper").splitlines()
    assert lines[0] == "DIFFERS  100**acc: best are long (>= 3.5 layers)" and lines[2].startswith("agrees ")
    assert lines[-1].startswith("4 of 7 parts")


def _comparison(hv_by_pair):
    rows = [{"space": s, "device": d, "method": m, "HV mean": mean, "HV std": std, "seeds": 3}
            for (s, d), methods in hv_by_pair.items() for m, (mean, std) in methods.items()]
    sizes = pd.DataFrame([{**{k: r[k] for k in ("space", "device", "method")}, "architectures": 10 ** i}
                          for i, r in enumerate(rows)])
    refs = {("mbv3", "gpu"): Reference(0.7, 10.0, "nadir"), ("pn", "gpu"): Reference(0.7, 12.0, "nadir")}
    return imagenet.NASComparison({("mbv3", "gpu"): [], ("pn", "gpu"): []}, pd.DataFrame(rows), sizes, refs, 3)


def test_nas_tables_and_verdict():
    nas = _comparison({
        ("mbv3", "gpu"): {"Layer-Insight": (0.20, 0.01), "AutoBuild-NAS": (0.25, 0.02), "Stage-Full": (0.1, 0.0),
                          "Layer-Full": (0.15, 0.01)},
        ("pn", "gpu"): {"AutoBuild-NAS": (0.11, 0.01), "Stage-Full": (0.12, 0.0), "Layer-Full": (0.1, 0.0),
                        "Layer-Insight": (0.118, 0.002)}})
    table = nas.hv_table()
    assert table.index.tolist() == list(imagenet.METHODS)
    assert table.loc["AutoBuild-NAS", ("mbv3", "gpu")] == "0.2500 ± 0.0200"
    assert nas.size_table().loc["Layer-Insight", ("mbv3", "gpu")] == "1.00e+00"


def test_per_seed_rows_give_every_search_its_hypervolume_under_the_pair_reference():
    from autobuild.experiments import nas_runs
    from autobuild.search.evolution import SearchResult

    def result(method, seed, perf):
        return SearchResult(method, seed, 10, ["a"], np.array([perf]), np.array([5.0]), np.array([0]))

    refs = {("mbv3", "gpu"): Reference(0.7, 10.0, "nadir")}
    runs = [result(m, seed, 0.7 + 0.01 * (seed + 1) * (2 if m == "AutoBuild-NAS" else 1))
            for seed in (0, 1, 2) for m in imagenet.METHODS]
    nas = imagenet.NASComparison({("mbv3", "gpu"): runs}, pd.DataFrame(), pd.DataFrame(), refs, 3)
    rows = nas_runs.rows_of(nas, "companion", "quick")
    assert len(rows) == 12 and set(rows.recipe) == {"quick"}
    ab = rows[(rows.method == "AutoBuild-NAS") & (rows.seed == 1)].hv.iloc[0]
    assert ab == pytest.approx(0.04 * 5.0)  # (0.74 - 0.7) x (10 - 5)
    verdict = nas_runs.comparisons(rows).iloc[0]
    assert verdict["against"] == "best baseline" and verdict["opponent"] in nas_runs.BASELINES
    assert verdict["seeds"] == 3
    assert verdict["verdict"] == "too few seeds"  # 3 seeds: below intervals.MIN_SEEDS, no verdict


def test_k_sensitivity_counts_pairs_above_the_best_baseline():
    table = pd.DataFrame([{"space": s, "device": "gpu", "K": k, "architectures": 1, "HV mean": hv, "HV std": 0.0,
                           "best baseline": base}
                          for s, base, hvs in (("mbv3", 0.2, (0.19, 0.21)), ("pn", 0.1, (0.11, 0.12)))
                          for k, hv in zip((3, 10), hvs)])
    sweep = imagenet.KSensitivity(table, [("mbv3", "gpu"), ("pn", "gpu")], n_seeds=2)
    assert sweep.ks == [3, 10]
    assert sweep.beats_table().loc[3].tolist() == [False, True]
    assert sweep.report().splitlines() == [
        "K= 3: AutoBuild-NAS above every baseline's mean hypervolume on 1 of 2 pairs",
        "K=10: AutoBuild-NAS above every baseline's mean hypervolume on 2 of 2 pairs"]


def test_tail_dominance_finds_reduced_architectures_beating_the_most_accurate_labelled_one(tiny_mbv3):
    labels = tiny_mbv3["mbv3"].labels
    top = int(np.argmax(labels["acc"].to_numpy()))
    acc, lat = float(labels["acc"].iloc[top]), float(labels["latency_gpu"].iloc[top])
    clusters = {(0, "mbv3", "gpu"): pd.DataFrame({"perf": [acc, acc + 0.01, acc - 0.01], "cost": [0.8 * lat, 0.9 * lat,
                                                                                                   0.1 * lat]}),
                (1, "mbv3", "gpu"): pd.DataFrame({"perf": [acc + 0.01, acc - 0.01], "cost": [1.2 * lat, 0.1 * lat]})}
    fronts = imagenet.FrontExtensions(pd.DataFrame(), clusters, {}, {}, (0, 1))
    tails = imagenet.tail_dominance(tiny_mbv3, fronts).set_index("seed")
    assert tails.loc[0, "found"] and tails.loc[0, "saving"] == pytest.approx(0.2)  # the fastest as accurate one
    assert not tails.loc[1, "found"] and np.isnan(tails.loc[1, "saving"])  # more accurate only at more latency
    assert tails.loc[0, "tail_acc"] == acc and tails.loc[0, "tail_latency"] == lat


def test_best_accuracy_keeps_to_the_latency_mark():
    from autobuild.search.evolution import SearchResult

    run = SearchResult("AutoBuild-NAS", 0, 10, ["a", "b", "c"], np.array([0.8, 0.79, 0.7]), np.array([6.0, 4.0, 1.0]),
                       np.array([0, 0, 0]))
    nas = imagenet.NASComparison({("mbv3", "npu"): [run]}, pd.DataFrame(), pd.DataFrame(), {}, 1)
    assert imagenet.best_accuracy(nas).best_acc.iloc[0] == 0.8
    assert imagenet.best_accuracy(nas, max_latency=5.0).best_acc.iloc[0] == 0.79
    assert np.isnan(imagenet.best_accuracy(nas, max_latency=0.5).best_acc.iloc[0])


def test_latency_drivers_tell_depth_from_layer_type(tiny_mbv3):
    data = tiny_mbv3["mbv3"]
    depth_only = np.array([a.n_layers for a in data.archs], dtype=float)
    kernels = np.array([sum(layer.kernel for stage in a.stages for layer in stage) for a in data.archs], dtype=float)
    rng = np.random.default_rng(0)
    labels = data.labels.assign(by_depth=depth_only + 0.01 * rng.standard_normal(len(depth_only)),
                                by_type=kernels - 5 * depth_only + 0.01 * rng.standard_normal(len(depth_only)))
    data = LabelledSet(data.space, data.archs, labels, {c: "test" for c in labels.columns}, "tiny.parquet")
    deep = imagenet.latency_drivers(data, "by_depth", n_boot=100)
    assert deep.share > 0.99 and deep.low > 0.99 and deep.n == len(data.archs)
    assert deep.r2["+ layer types"] >= deep.r2["+ depth"] >= deep.r2["resolution"]
    typed = imagenet.latency_drivers(data, "by_type", n_boot=100)
    assert typed.share < 0.5 and typed.high < 0.5
    with pytest.raises(ValueError, match="no label 'nope'"):
        imagenet.latency_drivers(data, "nope")
    with pytest.raises(ValueError, match="n_boot must be at least 100"):
        imagenet.latency_drivers(data, "by_depth", n_boot=5)
