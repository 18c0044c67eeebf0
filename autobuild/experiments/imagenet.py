"""Section 5.1 on the ImageNet macro-search spaces (MBv3, PN): what notebook 03 runs (Figs. 4 and 5).

Every result is repeated over the repeat seeds: repeat ``i`` trains every label equation's
predictor with seed ``i`` (its own train/test split and initialisation) and runs every search
with seed ``i``, so a spread covers which subgraphs make the top-K as well as the search's luck.
Results are keyed by space name (``"mbv3"``, ``"pn"``) and device (``"gpu"``, ``"cpu"``, ``"npu"``),
whose latency column is ``latency_<device>``. Everything is labelled through ``objectives(acc,
lat)``, by default :class:`autobuild.search.Objectives` (the authors' published predictors).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from autobuild.experiments.construction import (Construction, construct, evaluate_reduced_spaces, front_extension,
                                                subgraph_traits, tradeoff_equations)
from autobuild.experiments.nas import compare_searches
from autobuild.predictor import TrainConfig
from autobuild.search.candidates import autobuild_nas, layer_full, stage_full
from autobuild.search.insight import layer_insight
from autobuild.search.objectives import Objectives
from autobuild.search.pareto import Reference, nadir_reference
from autobuild.spaces.registry import get_space

#: The four candidate spaces of Fig. 5 (bottom), in the order they are searched and shown.
METHODS = ("AutoBuild-NAS", "Stage-Full", "Layer-Full", "Layer-Insight")


Pair = tuple[str, str]  # (space, device)


def describe_sets(datasets: Mapping, devices: Sequence[str]) -> str:
    """Size and file of each labelled set, and the provenance of ``acc`` and each device's latency."""
    lines = []
    for s, data in datasets.items():
        lines.append(f"{get_space(s).label}: {len(data)} labelled architectures ({os.path.basename(data.source)})")
        for col in ("acc",) + tuple(f"latency_{d}" for d in devices):
            lines.append(f"  {col}: {data.provenance.get(col, 'no provenance recorded')}")
    return "\n".join(lines)


def label_equations(datasets: Mapping, devices: Sequence[str], weights: Sequence[float]) -> dict[Pair, list[str]]:
    """Per (space, device): :func:`~autobuild.experiments.construction.tradeoff_equations` of
    ``acc`` and ``latency_<device>``, scaled over that space's labelled set."""
    return {(s, d): tradeoff_equations(data.labels, "acc", f"latency_{d}", weights)
            for s, data in datasets.items() for d in devices}


def equation_table(equations: Mapping[Pair, list[str]]) -> pd.DataFrame:
    """The equations of each (space, device), one row per pair."""
    return pd.DataFrame([{"space": s, "device": d, "equations": "   |   ".join(eqs)}
                         for (s, d), eqs in equations.items()]).set_index(["space", "device"])


@dataclass
class Constructions:
    """Fig. 4: the predictor, subgraph scores and top-K reduced space of every (repeat, space, equation)."""

    equations: dict[Pair, list[str]]
    built: dict[tuple[int, str, str], Construction]
    seeds: tuple[int, ...]

    @property
    def n_seeds(self) -> int:
        return len(self.seeds)

    @property
    def pairs(self) -> list[Pair]:
        return list(self.equations)

    def pair(self, seed: int, space: str, device: str) -> list[Construction]:
        """The constructions of repeat ``seed`` for the equations of ``(space, device)``, in order."""
        return [self.built[(seed, space, eq)] for eq in self.equations[(space, device)]]

    def srcc(self) -> pd.DataFrame:
        """Test SRCC of each predictor's head and of each hop's embedding norms (one row per predictor)."""
        return pd.DataFrame([{"space": s, "equation": eq, "seed": seed, "head": c.trained.metrics["srcc"],
                              **{f"hop {h}": v for h, v in enumerate(c.trained.metrics["hop_srcc"])}}
                             for (seed, s, eq), c in self.built.items()])

    def srcc_summary(self) -> pd.DataFrame:
        """Mean and worst test SRCC over the repeats, per space and equation (3 decimals)."""
        return self.srcc().groupby(["space", "equation"], sort=False).agg(["mean", "min"]).drop(columns="seed").round(3)

    def best_and_worst(self, space: str, device: str, seed: int = 0) -> pd.DataFrame:
        """Fig. 4's table: best and worst subgraph per stage of each equation of ``(space, device)``."""
        return pd.concat([c.best_and_worst() for c in self.pair(seed, space, device)], ignore_index=True)

    def nas_spaces(self, space: str, device: str, k: int) -> list:
        """One AutoBuild-NAS space per repeat: the union of the top-``k`` of that repeat's predictors."""
        return [autobuild_nas(get_space(space), [c.scorer.top_k(k) for c in self.pair(seed, space, device)])
                for seed in self.seeds]


def construct_all(datasets: Mapping, equations: Mapping[Pair, list[str]], config: TrainConfig,
                  seeds: int | Sequence[int], n_train: int, k: int, progress: bool = True,
                  readout: str = "pooled") -> Constructions:
    """Train one predictor per repeat, space and distinct equation, and keep its top-``k`` subgraphs.

    ``seeds`` is the repeat seeds, or a count ``n`` for seeds ``0..n-1``. Repeat ``i`` trains
    with ``replace(config, seed=i)`` on the first ``n_train`` architectures of each labelled set.
    An equation shared by several devices (``100**acc``) is trained once. Every repeat and
    equation of a space trains at once.
    """
    seeds = tuple(range(seeds)) if isinstance(seeds, int) else tuple(int(s) for s in seeds)
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"construct_all needs distinct repeat seeds, got {list(seeds)}")
    built = {}
    for s, data in tqdm(datasets.items(), desc="spaces", disable=not progress):
        train_set = data.subset(np.arange(min(n_train, len(data))))
        unique = list(dict.fromkeys(eq for (s2, _), eqs in equations.items() if s2 == s for eq in eqs))
        for c in construct(train_set, unique, k=k, config=config, progress=False, seeds=seeds,
                           readout=readout):
            built[(c.trained.config.seed, s, c.equation)] = c
    return Constructions(dict(equations), built, seeds)


@dataclass
class SubgraphReading:
    """The paper's reading of Fig. 4, checked on the top-k and bottom-k subgraphs of every stage."""

    traits: pd.DataFrame  # index (equation, which), columns mean_layers, share_e6/e3/k7/k3 (2 decimals)
    checks: dict[str, bool]

    def report(self, profile: str, data_source: str) -> str:
        lines = [f"{'agrees ' if ok else 'DIFFERS'}  {claim}" for claim, ok in self.checks.items()]
        lines.append(f"{sum(self.checks.values())} of {len(self.checks)} parts of the paper's reading hold for our "
                     f"predictors ({profile} profile, {data_source} data).")
        return "\n".join(lines)


def reading_checks(traits: pd.DataFrame, acc_eq: str, lat_eq: str, k: int) -> dict[str, bool]:
    """The seven parts of the paper's Fig. 4 reading, for the accuracy-only equation ``acc_eq``
    and the accuracy-per-latency equation ``lat_eq``, from :func:`paper_reading`'s traits."""
    t = traits.reset_index()
    top = t[t.which == f"top-{k}"].set_index("equation")
    bottom = t[t.which == f"bottom-{k}"].set_index("equation")
    return {
        "100**acc: best are long (>= 3.5 layers)": top.loc[acc_eq, "mean_layers"] >= 3.5,
        "100**acc: best favour e6 over e3": top.loc[acc_eq, "share_e6"] > top.loc[acc_eq, "share_e3"],
        "100**acc: best favour k7 over k3": top.loc[acc_eq, "share_k7"] > top.loc[acc_eq, "share_k3"],
        "100**acc: worst are shorter than best": bottom.loc[acc_eq, "mean_layers"] < top.loc[acc_eq, "mean_layers"],
        "acc/latency: best are shorter than 100**acc's":
            top.loc[lat_eq, "mean_layers"] < top.loc[acc_eq, "mean_layers"],
        "acc/latency: best keep e6 over e3": top.loc[lat_eq, "share_e6"] > top.loc[lat_eq, "share_e3"],
        "acc/latency: worst are longer than best": bottom.loc[lat_eq, "mean_layers"] > top.loc[lat_eq, "mean_layers"],
    }


def paper_reading(constructions: Sequence[Construction], k: int = 25) -> SubgraphReading:
    """Fig. 4's reading in numbers: the first equation is accuracy only, the last accuracy per latency."""
    traits = subgraph_traits(constructions, k=k).round(2).set_index(["equation", "which"])
    return SubgraphReading(traits, reading_checks(traits, constructions[0].equation, constructions[-1].equation, k))


@dataclass
class FrontExtensions:
    """Fig. 5 (top): the K-subgraph reduced spaces of every repeat against the labelled set's front.

    ``table`` has one row per (space, device); ``clusters[(seed, space, device)]`` holds every
    evaluated architecture (``equation, arch, perf, cost``) and ``per_cluster`` the matching
    :func:`~autobuild.experiments.construction.front_extension` table; ``refs`` the
    hypervolume reference of each pair, the labelled set's nadir.
    """

    table: pd.DataFrame
    clusters: dict[tuple[int, str, str], pd.DataFrame]
    per_cluster: dict[tuple[int, str, str], pd.DataFrame]
    refs: dict[Pair, Reference]
    seeds: tuple[int, ...]

    def report(self, data_source: str) -> str:
        """The first repeat's clusters per pair, then per repeat whether every space is extended somewhere."""
        spaces = list(dict.fromkeys(s for s, _ in self.refs))
        devices = list(dict.fromkeys(d for _, d in self.refs))
        lines = []
        for (seed, s, d), table in self.per_cluster.items():
            if seed == self.seeds[0]:
                each = ", ".join(f"{r.equation}: {r.n_beyond_front}/{r.n_archs}" for r in table.itertuples())
                lines.append(f"{get_space(s).label}-{d.upper()}, seed {seed}: {int(table.reaches_beyond.sum())} of {len(table)} "
                             f"clusters reach beyond the front ({each})")
        lines.append("")
        for seed in self.seeds:
            somewhere = {s: any(self.per_cluster[(seed, s, d)].reaches_beyond.any() for d in devices) for s in spaces}
            every = sum(bool(self.per_cluster[(seed, s, d)].reaches_beyond.all()) for s, d in self.refs)
            lines.append(f"seed {seed}: clusters extend the front on at least one device per space: "
                         f"{all(somewhere.values())}; every cluster reaches beyond on {every} of {len(self.refs)} "
                         f"space/device pairs")
        lines.append("(paper: all clusters on the three MBv3 devices, PN-GPU and PN-NPU; 2 of 4 on PN-CPU)")
        lines.append("Differences may come from the data (the embedded labels are the authors' predictor estimates on "
                     "our own 3,000 random architectures, not their measured set), the profile, and the equations, "
                     "which are ours." if data_source == "embedded" else
                     "The labelled set is the paper's; the clusters are labelled by the authors' predictors, not by "
                     "evaluating OFA subnets on ImageNet and the devices as the paper did.")
        return "\n".join(lines)


def front_extensions(datasets: Mapping, constructions: Constructions,
                     objectives: Callable = Objectives) -> FrontExtensions:
    """Evaluate every repeat's reduced spaces exhaustively and measure how far they reach beyond the front.

    The hypervolume gain of a repeat is ``HV(labelled ∪ clusters) / HV(labelled) - 1`` under the
    labelled set's nadir ``(min acc, max latency)``; the table gives its mean ± std over repeats.
    """
    rows, clusters, per_cluster, refs = [], {}, {}, {}
    for s, d in constructions.pairs:
        data, lat_col = datasets[s], f"latency_{d}"
        evaluate = objectives("acc", lat_col)
        acc, lat = data.labels["acc"].to_numpy(), data.labels[lat_col].to_numpy()
        refs[(s, d)] = nadir_reference(acc, lat)
        beyond, gains = [], []
        for seed in constructions.seeds:
            built = constructions.pair(seed, s, d)
            clusters[(seed, s, d)] = evaluate_reduced_spaces(built, evaluate)
            per_cluster[(seed, s, d)], summary = front_extension(acc, lat, clusters[(seed, s, d)], refs[(s, d)])
            beyond.append(summary["clusters_beyond"])
            gains.append(100 * summary["hv_gain"])
        rows.append({"space": s, "device": d,
                     "clusters beyond front, per seed": f"{' / '.join(map(str, beyond))} of {len(built)}",
                     "HV data": round(summary["hv_data"], 4),
                     "HV gain % (mean ± std)": f"{np.mean(gains):.1f} ± {np.std(gains):.1f}",
                     "reference (acc, ms)": f"({refs[(s, d)].perf:.4f}, {refs[(s, d)].cost:.2f})"})
    return FrontExtensions(pd.DataFrame(rows).set_index(["space", "device"]), clusters, per_cluster, refs,
                           constructions.seeds)


def _by_method(rows: pd.DataFrame, values: str) -> pd.DataFrame:
    """``rows`` (space, device, method, values) as a method x (space, device) table in :data:`METHODS` order."""
    return rows.pivot_table(index="method", columns=["space", "device"], values=values,
                            aggfunc="first").reindex(list(METHODS))


@dataclass
class NASComparison:
    """Fig. 5 (bottom): the candidate spaces searched with every repeat's seed, per (space, device).

    ``results[(space, device)]`` holds every search; ``hv`` one row per pair and method (mean and
    std of the final hypervolume over the repeats, under ``refs``); ``sizes`` the search-space size
    (for AutoBuild-NAS the median over the repeats).
    """

    results: dict[Pair, list]
    hv: pd.DataFrame
    sizes: pd.DataFrame
    refs: dict[Pair, Reference]
    n_seeds: int

    def per_seed(self) -> pd.DataFrame:
        """One row per search: space key, device, method, seed, final hypervolume, space size."""
        return pd.DataFrame([{"space": s, "device": d, "method": r.method, "seed": r.seed,
                              "hv": r.hypervolume(self.refs[(s, d)]), "architectures": r.space_size}
                             for (s, d), runs in self.results.items() for r in runs])

    def size_table(self) -> pd.DataFrame:
        return _by_method(self.sizes, "architectures").map(lambda v: f"{float(v):.2e}")

    def hv_table(self) -> pd.DataFrame:
        shown = [f"{m:.4f} ± {sd:.4f}" for m, sd in zip(self.hv["HV mean"], self.hv["HV std"])]
        return _by_method(self.hv.assign(**{"HV mean ± std": shown}), "HV mean ± std")


def _candidates(constructions: Constructions, s: str, d: str, k: int, method: str):
    """The candidate space(s) of ``method`` on ``(s, d)``: AutoBuild-NAS has one per repeat."""
    if method == "AutoBuild-NAS":
        return constructions.nas_spaces(s, d, k)
    if method == "Layer-Insight":
        return layer_insight(get_space(s), d)
    return {"Stage-Full": stage_full, "Layer-Full": layer_full}[method](get_space(s))


def compare_nas(constructions: Constructions, refs: Mapping[Pair, Reference], k: int,
                objectives: Callable = Objectives, methods: Sequence[str] = METHODS, **search) -> NASComparison:
    """Search the candidate spaces ``methods`` (of :data:`METHODS`) on every pair, once per repeat seed.

    AutoBuild-NAS is the union of every equation's top-``k``; Stage-Full, Layer-Full and
    Layer-Insight do not depend on the predictors. ``search`` goes to
    :func:`~autobuild.search.evolution.evolutionary_search` (``budget``, ``n_initial``, ``per_round``).
    """
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        raise ValueError(f"unknown search method(s) {unknown or list(methods)}; choose from {METHODS}")
    results, hv_rows, size_rows = {}, [], []
    for s, d in constructions.pairs:
        results[(s, d)], summary = compare_searches({m: _candidates(constructions, s, d, k, m) for m in methods},
                                                    objectives("acc", f"latency_{d}"),
                                                    seeds=constructions.seeds, ref=refs[(s, d)],
                                                    progress=False, **search)
        for row in summary.itertuples():
            hv_rows.append({"space": s, "device": d, "method": row.method,
                            "HV mean": row.hv_mean, "HV std": row.hv_std, "seeds": row.n_seeds})
            size_rows.append({"space": s, "device": d, "method": row.method,
                              "architectures": row.space_size})
    return NASComparison(results, pd.DataFrame(hv_rows), pd.DataFrame(size_rows), dict(refs), constructions.n_seeds)


@dataclass
class KSensitivity:
    """AutoBuild-NAS's mean hypervolume for several K beside the best baseline of each pair.

    ``table``: space, device, K, architectures, HV mean, HV std (over ``n_seeds`` repeats), best baseline.
    """

    table: pd.DataFrame
    pairs: list[Pair]
    n_seeds: int

    @property
    def ks(self) -> list[int]:
        return list(dict.fromkeys(self.table["K"]))

    def beats(self) -> pd.Series:
        return self.table["HV mean"] > self.table["best baseline"]

    def beats_table(self) -> pd.DataFrame:
        """K x (space, device): whether AutoBuild-NAS's mean hypervolume beats every baseline's."""
        return self.table.assign(beats_baselines=self.beats()).pivot_table(
            index="K", columns=["space", "device"], values="beats_baselines", aggfunc="first")

    def report(self) -> str:
        wins = self.beats().groupby(self.table["K"]).sum()
        return "\n".join(f"K={k:>2}: AutoBuild-NAS above every baseline's mean hypervolume on {n} of "
                         f"{len(self.pairs)} pairs" for k, n in wins.items())


def k_sensitivity(constructions: Constructions, nas: NASComparison, ks: Sequence[int],
                  objectives: Callable = Objectives, **search) -> KSensitivity:
    """Repeat only the AutoBuild-NAS search for every K in ``ks`` (same predictors, seeds, budget, reference)."""
    baseline_best = nas.hv[nas.hv.method != "AutoBuild-NAS"].groupby(["space", "device"])["HV mean"].max()
    rows = []
    for s, d in constructions.pairs:
        variants = {k: constructions.nas_spaces(s, d, k) for k in ks}
        _, by_k = compare_searches({f"K={k}": cs for k, cs in variants.items()}, objectives("acc", f"latency_{d}"),
                                   seeds=constructions.seeds, ref=nas.refs[(s, d)], progress=False, **search)
        for k, row in zip(variants, by_k.itertuples()):
            rows.append({"space": s, "device": d, "K": k, "architectures": row.space_size,
                         "HV mean": row.hv_mean, "HV std": row.hv_std,
                         "best baseline": baseline_best[(s, d)]})
    return KSensitivity(pd.DataFrame(rows), constructions.pairs, constructions.n_seeds)


def tail_dominance(datasets: Mapping, fronts: FrontExtensions) -> pd.DataFrame:
    """Fig. 5 (top), the high-accuracy tail: per repeat and pair, whether a reduced-space architecture
    is at least as accurate as the labelled set's most accurate one at lower latency.

    Columns: seed, space, device, ``tail_acc``/``tail_latency`` (the labelled set's most accurate
    architecture, the high-accuracy end of its front), ``found`` and ``saving``: ``1 - lat/tail_latency``
    of the fastest such architecture (NaN when none is found).
    """
    rows = []
    for (seed, s, d), clusters in fronts.clusters.items():
        labels = datasets[s].labels
        top = int(np.argmax(labels["acc"].to_numpy()))
        tail_acc, tail_lat = float(labels["acc"].iloc[top]), float(labels[f"latency_{d}"].iloc[top])
        better = clusters[(clusters.perf >= tail_acc) & (clusters.cost < tail_lat)]
        rows.append({"seed": seed, "space": s, "device": d, "tail_acc": tail_acc, "tail_latency": tail_lat,
                     "found": not better.empty,
                     "saving": 1 - better.cost.min() / tail_lat if not better.empty else float("nan")})
    return pd.DataFrame(rows)


def best_accuracy(nas: NASComparison, max_latency: float | None = None) -> pd.DataFrame:
    """Per pair, method and repeat: the highest accuracy a search evaluated (``best_acc``), among
    architectures under ``max_latency`` ms when given (NaN when it found none there)."""
    rows = []
    for (s, d), runs in nas.results.items():
        for r in runs:
            keep = r.cost < max_latency if max_latency is not None else np.ones(len(r.perf), dtype=bool)
            rows.append({"space": s, "device": d, "method": r.method, "seed": r.seed,
                         "best_acc": float(r.perf[keep].max()) if keep.any() else float("nan")})
    return pd.DataFrame(rows)


@dataclass
class LatencyDrivers:
    """How much of a latency label the stages' depths explain, and how much their layer types add.

    ``r2`` holds the in-sample R^2 of three least-squares fits over the labelled set:
    ``resolution`` (one-hot input resolution), ``+ depth`` (and the layers per stage),
    ``+ layer types`` (and per stage the count of each block, expand x kernel). The depth share is
    ``(R^2_depth - R^2_res) / (R^2_types - R^2_res)``: the part of what architecture explains beyond
    the resolution that depth alone explains; ``low``/``high`` its percentile bootstrap interval over
    the architectures (resampled with replacement, ``n_boot`` times).
    """

    label: str
    r2: dict[str, float]
    share: float
    low: float
    high: float
    n: int


def _driver_features(archs: Sequence) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Design matrices of :func:`latency_drivers`: resolution one-hot, + depths, + block counts per stage."""
    resolutions = sorted({a.resolution for a in archs})
    blocks = sorted({(layer.expand, layer.kernel) for a in archs for stage in a.stages for layer in stage})
    res = np.array([[a.resolution == r for r in resolutions] for a in archs], dtype=float)
    depth = np.array([a.depths for a in archs], dtype=float)
    types = np.array([[sum((layer.expand, layer.kernel) == b for layer in stage) for stage in a.stages for b in blocks]
                      for a in archs], dtype=float)
    return res, np.hstack([res, depth]), np.hstack([res, depth, types])


def _r2(x, y, w) -> float:
    """R^2 of the least-squares fit of ``y`` on ``x`` with row weights ``w`` (float64 tensors; torch's
    BLAS keeps to the kernel's threads, numpy's crawls on a busy CPU). The design is rank-deficient
    (block counts sum to the depth), so a vanishing ridge picks the minimum-norm fit."""
    xw = x * w[:, None]
    gram = xw.T @ x
    coef = torch.linalg.solve(gram + 1e-9 * torch.trace(gram) * torch.eye(len(gram), dtype=x.dtype), xw.T @ y)
    mean = (w * y).sum() / w.sum()
    return 1.0 - float((w * (y - x @ coef) ** 2).sum() / (w * (y - mean) ** 2).sum())


def latency_drivers(data, label: str, n_boot: int = 500, level: float = 0.95, seed: int = 0) -> LatencyDrivers:
    """:class:`LatencyDrivers` of ``label`` (e.g. ``latency_gpu``) over the labelled set ``data``."""
    if label not in data.labels.columns:
        raise ValueError(f"no label {label!r} in the labelled set; it has {list(data.labels.columns)}")
    if n_boot < 100:
        raise ValueError(f"n_boot must be at least 100, got {n_boot}")
    y = torch.tensor(data.labels[label].to_numpy(dtype=float, copy=True))
    designs = [torch.as_tensor(x) for x in _driver_features(data.archs)]

    def share(w):
        r_res, r_depth, r_types = (_r2(x, y, w) for x in designs)
        return (r_depth - r_res) / (r_types - r_res), (r_res, r_depth, r_types)

    value, r2 = share(torch.ones(len(y), dtype=y.dtype))
    rng = np.random.default_rng(seed)
    boots = [share(torch.as_tensor(rng.multinomial(len(y), np.full(len(y), 1 / len(y))), dtype=y.dtype))[0]
             for _ in range(n_boot)]
    low, high = np.quantile(boots, [(1 - level) / 2, (1 + level) / 2])
    return LatencyDrivers(label, dict(zip(("resolution", "+ depth", "+ layer types"), r2)), float(value),
                          float(low), float(high), len(y))
