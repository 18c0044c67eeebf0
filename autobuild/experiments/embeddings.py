"""Magnitude-ranked embeddings (paper Sec. 4 and the first part of Sec. 5.1, Figs 2-3).

A predictor trained with Eq. 4,

    L = MSE(y, y') + 1/(M+1) * sum_{m=0..M} (1 - rho(y, ||h_G^m||_1)),

should rank held-out architectures by the l1 norm of every hop's graph embedding. Here:
the test SRCC of ``||h_G^m||_1`` for each hop and of the head's ``y'`` (Fig. 2), the same
with MSE only (``ranking_loss=False``), and the FE-MLP's 0-hop readout ``|phi_f(value)|`` that
ranks op types on IR graphs (Fig. 3) and feature values on the sequence graphs. Two checks of
Secs. 4.1-4.2 that need no figure: how closely the soft-rank SRCC of Eq. 4 follows the exact one
(:func:`soft_rank_fidelity`), and whether Eq. 5's label moments grow with a unit's depth,
``mu_{u,l+1} > mu_{u,l}`` (:func:`label_moment_steps`).

Every training call takes the :class:`TrainConfig` the caller passes; a driver only replaces
the fields it varies (``seed`` and ``ranking_loss`` per run).
"""
from __future__ import annotations

import os
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

import torch

from autobuild.spaces.registry import get_space
from autobuild.data.labelled import IRSet, LabelledSet
from autobuild.data.load import ir_set_from_labelled, load_ir_dataset
from autobuild.graphs.ir import ir_feature_vocab
from autobuild.graphs.table import GraphTable
from autobuild.predictor.scoring import SubgraphScorer
from autobuild.predictor.variants import get_variant
from autobuild.predictor import (
    TrainConfig,
    TrainedPredictor,
    train_predictor,
    train_predictor_on_table,
)
from autobuild.stats import spearman

HOPS = ["hop 0", "hop 1", "hop 2", "hop 3", "hop 4"]
LOSSES = ("Eq. 4", "MSE only")
WIDTH = 100  #: the text a page prints wraps at this many characters


def wrapped(lines) -> str:
    """``lines`` (a string or a sequence of them) as one text, each line wrapped at :data:`WIDTH`
    characters with its continuations indented, so that a page's printed text fits its column."""
    lines = lines.split("\n") if isinstance(lines, str) else lines
    return "\n".join(textwrap.fill(line, WIDTH, subsequent_indent="    ", break_long_words=False,
                                    break_on_hyphens=False) for line in lines)


@dataclass
class TrainingSets:
    """Each space's labelled set, the seeded subset used for training and testing, and the labels
    every space has (of those asked for, in the order asked)."""

    datasets: dict[str, LabelledSet]
    subsets: dict[str, np.ndarray]
    labels: list[str]

    def overview(self) -> pd.DataFrame:
        return pd.DataFrame([{"space": name, "source": os.path.basename(ds.source),
                              "architectures": len(ds.archs), "used for training and testing": len(self.subsets[name])}
                             for name, ds in self.datasets.items()]).set_index("space")

    def provenance(self) -> str:
        return wrapped([f"{get_space(name).label} {label}: {ds.provenance.get(label, 'no provenance recorded')}"
                        for name, ds in self.datasets.items() for label in self.labels])

    def accuracy_means(self) -> dict[str, float]:
        """Mean ``acc`` of each whole labelled set, keyed by space."""
        return {n: float(ds.target("acc").mean()) for n, ds in self.datasets.items()}


def training_sets(datasets: dict[str, LabelledSet], n_archs: int, labels: Sequence[str]) -> TrainingSets:
    """Up to ``n_archs`` architectures of each set, drawn without replacement with seed 0, sorted."""
    subsets = {}
    for name, ds in datasets.items():
        n = min(n_archs, len(ds.archs))
        subsets[name] = np.sort(np.random.default_rng(0).choice(len(ds.archs), n, replace=False))
    usable = [lab for lab in labels if all(lab in ds.labels.columns for ds in datasets.values())]
    return TrainingSets(datasets, subsets, usable)


@dataclass
class HopRuns:
    """One row per trained predictor (``space, label, loss, seed``, the test SRCC of every hop's
    norm and of the head), the seed-0 Eq. 4 predictors with their training data, and every Eq. 4
    predictor by ``(space, label, seed)``."""

    results: pd.DataFrame
    predictors: dict[tuple[str, str], tuple[TrainedPredictor, list, np.ndarray]]
    spaces: list[str]
    labels: list[str]
    n_seeds: int
    by_seed: dict[tuple[str, str, int], TrainedPredictor] = None

    def _eq4(self):
        return self.results[self.results.loss == "Eq. 4"].groupby(["space", "label"], sort=False)[HOPS + ["head"]]

    def hop_srcc(self) -> pd.DataFrame:
        """Fig. 2: mean test SRCC per (space, label) over seeds, Eq. 4 runs."""
        return self._eq4().mean()

    def hop_srcc_std(self) -> pd.DataFrame:
        return self._eq4().std()

    def hop_cells(self) -> pd.DataFrame:
        """Every Eq. 4 predictor's test SRCC at every hop, one row each: ``space, label, seed, hop, srcc``."""
        eq4 = self.results[self.results.loss == "Eq. 4"]
        return eq4.melt(["space", "label", "seed"], HOPS, var_name="hop", value_name="srcc")

    def n_test(self) -> int:
        """The size of the predictors' test split (the smallest, should they differ)."""
        return min(t.metrics["n_test"] for t in self.by_seed.values())

    def ablation(self, labels: Sequence[str]) -> pd.DataFrame:
        """Mean test SRCC per (space, label, loss) for ``labels``: Eq. 4 against MSE only."""
        return (self.results[self.results.label.isin(labels)]
                .groupby(["space", "label", "loss"], sort=False)[HOPS + ["head"]].mean())

    def sequence_feature_importance(self, label: str = "acc") -> pd.DataFrame:
        """FE-MLP importance of every seen feature value, per space, of the seed-0 ``label`` predictor."""
        parts = []
        for name in self.spaces:
            trained, archs, y = self.predictors[name, label]
            parts.append(SubgraphScorer.from_data(trained, archs, y).feature_importance().assign(space=name))
        return pd.concat(parts, ignore_index=True)

    def feature_margins(self, label: str = "acc") -> pd.DataFrame:
        """Sec. 5.1's reading per seed and space, from each Eq. 4 ``label`` predictor's FE-MLP:
        ``e6 - e3`` and ``k7 - k3`` (importance of expand ratio 6 minus 3, kernel 7 minus 3)."""
        rows = []
        for (name, lab, seed), trained in self.by_seed.items():
            if lab != label:
                continue
            vocab, scores = get_space(name).feature_vocab, trained.model.fe_mlp.value_scores()

            def imp(feature, value):
                return float(scores[feature][list(vocab[feature]).index(value)])

            rows.append({"seed": seed, "space": name, "e6 - e3": imp("expand", 6) - imp("expand", 3),
                         "k7 - k3": imp("kernel", 7) - imp("kernel", 3)})
        return pd.DataFrame(rows, columns=["seed", "space", "e6 - e3", "k7 - k3"])


def train_hop_predictors(data: TrainingSets, config: TrainConfig, ablation_labels: Sequence[str],
                         seeds: int) -> HopRuns:
    """Train one predictor per space, label, loss and seed, in that nesting order.

    Every run is ``config`` with ``seed`` (0..seeds-1; it seeds the init and the 90/10 split)
    and ``ranking_loss`` (True for Eq. 4) replaced. MSE-only runs are made for ``ablation_labels``.
    """
    runs = [(name, label, loss, seed) for name in data.datasets for label in data.labels
            for loss in LOSSES if loss == "Eq. 4" or label in ablation_labels for seed in range(seeds)]
    records, predictors, by_seed = [], {}, {}
    for name, label, loss, seed in tqdm(runs, desc="training predictors"):
        ds, idx = data.datasets[name], data.subsets[name]
        archs, y = [ds.archs[i] for i in idx], ds.target(label)[idx]
        trained = train_predictor(ds.space, archs, y, replace(config, seed=seed, ranking_loss=loss == "Eq. 4"))
        m = trained.metrics
        records.append({"space": name, "label": label, "loss": loss, "seed": seed,
                        **dict(zip(HOPS, m["hop_srcc"])), "head": m["srcc"]})
        if loss == "Eq. 4":
            by_seed[name, label, seed] = trained
            if seed == 0:
                predictors[name, label] = (trained, archs, y)
    return HopRuns(pd.DataFrame(records), predictors, list(data.datasets), list(data.labels), seeds, by_seed)


def hop_srcc_summary(cells: pd.DataFrame, strong: float, profile: str, epochs: int, n_archs: int,
                     data_source: str) -> str:
    """What Fig. 2's cells (:meth:`HopRuns.hop_cells`) show beside the paper's "strong positive
    SRCC at every hop": how many reach ``strong``, whether all are positive, the weakest, and why a
    quick or embedded-data run may read differently. The verdict itself is the claim's."""
    worst = cells.loc[cells.srcc.idxmin()]
    per_hop = cells.groupby("hop").srcc.min()
    lines = [f"{(cells.srcc >= strong).mean():.0%} of the {len(cells)} (space, label, hop, seed) test SRCCs reach "
             f"{strong}; all positive: {bool((cells.srcc > 0).all())}; the weakest is {worst.srcc:.2f} "
             f"({get_space(worst.space).label} {worst.label} {worst.hop}, seed {int(worst.seed)}).",
             f"Hops where every predictor reaches {strong}: {', '.join(h for h in HOPS if h in per_hop and per_hop[h] >= strong) or 'none'}."]
    if profile == "quick":
        lines.append(f"The quick profile trains {epochs} epochs on {n_archs} architectures; the full profile "
                     "(200 epochs on 3,000, the paper's setting) gives the weaker hops time to align.")
    if data_source == "embedded":
        lines.append("Why ours may read higher than measured data would: the embedded labels are estimates of the "
                     "authors' own GNN predictors (see the data card), smooth functions of the same node features, "
                     "so they are easier to rank than the paper's measured accuracies and latencies.")
    return wrapped(lines)


def ablation_summary(ablation: pd.DataFrame) -> str:
    """Hop levels where Eq. 4's norm SRCC beats MSE only's, the mean gain, and the head SRCCs."""
    norms = ablation[HOPS].unstack("loss")
    gain = norms.xs("Eq. 4", axis=1, level="loss") - norms.xs("MSE only", axis=1, level="loss")
    head = ablation["head"].unstack("loss")
    return wrapped(f"Eq. 4 ranks better than MSE only at {int((gain > 0).to_numpy().sum())} of {gain.size} hop levels "
            f"(mean SRCC gain {gain.to_numpy().mean():+.2f}); head SRCC Eq. 4 {head['Eq. 4'].mean():.2f} "
            f"vs MSE only {head['MSE only'].mean():.2f}.")


@dataclass
class IRPredictor:
    """An accuracy predictor on op-level IR graphs of several spaces, and its FE-MLP op readout.

    ``op_importance`` has one row per op type present (``op, importance, found in``), sorted by
    importance ascending; ``found in`` is ``both`` or ``<space> only``.
    """

    ir_set: IRSet
    xs: list[np.ndarray]
    spaces: list[str]
    trained: TrainedPredictor
    op_importance: pd.DataFrame
    accuracy_means: dict[str, float]

    def summary(self) -> str:
        families, xs = np.array(self.ir_set.families), self.xs
        counts = ", ".join(f"{int((families == n).sum())} {get_space(n).label}" for n in self.spaces)
        m = self.trained.metrics
        return (f"{len(xs)} IR graphs ({counts}), {np.mean([len(x) for x in xs]):.0f} nodes on average\n"
                f"test SRCC per hop {np.round(m['hop_srcc'], 2)} head {m['srcc']:.2f}")

    def ranked_ops(self) -> pd.DataFrame:
        return self.op_importance.sort_values("importance", ascending=False).reset_index(drop=True)

    def versus_paper(self) -> str:
        """Fig. 3's claims: 0-hop SRCC 0.79, MBv3 more accurate, Add on top, Div and ReLU high (MBv3 only)."""
        means, rank = self.accuracy_means, self.ranked_ops()
        mean_by_origin = self.op_importance.groupby("found in").importance.mean()
        lines = [f"0-hop test SRCC: {self.trained.metrics['hop_srcc'][0]:.2f} (paper: 0.79)",
                 "mean accuracy: " + ", ".join(f"{get_space(k).label} {v:.2%}" for k, v in means.items()) + " "
                 + ("-> MBv3 higher, as in the paper" if means["mbv3"] > means["pn"] else "-> PN higher, unlike the paper"),
                 (f"highest-scoring op: {rank.op[0]} (paper: Add); Add ranks {int(rank.index[rank.op == 'Add'][0]) + 1} "
                  f"of {len(rank)}") if "Add" in set(rank.op) else "no Add node in these graphs",
                 "mean importance by where the op occurs: " + ", ".join(f"{k} {v:.2f}" for k, v in mean_by_origin.items())]
        for op in ("Div", "ReLU"):
            if op in set(rank.op):
                lines.append(f"{op}: rank {int(rank.index[rank.op == op][0]) + 1} of {len(rank)}, found in "
                             f"{rank['found in'][rank.op == op].iloc[0]} (paper: high, MBv3 only)")
        return wrapped(lines)


def op_importance(trained: TrainedPredictor, xs: Sequence[np.ndarray], families: Sequence[str],
                  spaces: Sequence[str]) -> pd.DataFrame:
    """FE-MLP importance ``|phi_op(o)|`` of every op type ``o`` present in the IR graphs ``xs`` of
    ``spaces`` (``families[i]`` is graph ``i``'s space), with the spaces it occurs in."""
    op_col = list(ir_feature_vocab).index("op")
    present = {name: set(np.concatenate([x[:, op_col] for x, s in zip(xs, families) if s == name]))
               for name in spaces}
    scores = trained.model.fe_mlp.value_scores()["op"].cpu().numpy()
    ops = sorted(set.union(*present.values()), key=lambda i: scores[i])
    where = {i: "both" if all(i in p for p in present.values()) else
             f"{get_space(next(n for n, p in present.items() if i in p)).label} only" for i in ops}
    return pd.DataFrame({"op": [ir_feature_vocab["op"][i] for i in ops],
                         "importance": scores[ops], "found in": [where[i] for i in ops]})


def ir_predictor(data: TrainingSets, n_per_space: int, config: TrainConfig, paper_cache: bool = False) -> IRPredictor:
    """Train ``config`` for ``acc`` on IR graphs of up to ``n_per_space`` architectures per space.

    With ``paper_cache`` the graphs are the authors' ONNX-IR cache; otherwise they are traced
    from architectures of ``data``'s sets drawn with seed 1.
    """
    if paper_cache:
        ir_set = load_ir_dataset("paper", n_per_space=n_per_space, seed=1)
    else:
        ir_set = ir_set_from_labelled([
            ds.subset(np.sort(np.random.default_rng(1).choice(len(ds), min(n_per_space, len(ds)), replace=False)))
            for ds in data.datasets.values()])
    xs, edges = ir_set.arrays()
    trained = train_predictor_on_table(GraphTable.from_arrays(xs, edges), ir_feature_vocab, ir_set.target("acc"), config)
    spaces = list(data.datasets)
    return IRPredictor(ir_set, xs, spaces, trained, op_importance(trained, xs, ir_set.families, spaces),
                       data.accuracy_means())


def sequence_importance_summary(importance: pd.DataFrame) -> str:
    """Sec. 5.1's reading of the best accuracy subgraphs beside one predictor's FE-MLP per space
    (``importance``, e.g. seed 0's): e6 against e3, k7 against k3, deep layer positions, resolution."""
    lines = []
    for space in dict.fromkeys(importance.space):
        imp = importance[importance.space == space].set_index(["feature", "value"]).importance
        e_ok, k_ok = imp["expand", 6] > imp["expand", 3], imp["kernel", 7] > imp["kernel", 3]
        lines.append(f"{get_space(space).label}: e6 {'>' if e_ok else '<='} e3 ({imp['expand', 6]:.2f} vs {imp['expand', 3]:.2f}), "
                     f"k7 {'>' if k_ok else '<='} k3 ({imp['kernel', 7]:.2f} vs {imp['kernel', 3]:.2f}): "
                     f"{'as' if e_ok and k_ok else 'unlike'} the paper's reading")
        deep = imp["layer", 2] + imp["layer", 3] > imp["layer", 0] + imp["layer", 1]
        lines.append(f"    layer positions 2-3 (present only in stages of 3-4 layers) "
                     f"{'outscore' if deep else 'do not outscore'} positions 0-1"
                     f"{': deeper stages are worth more, as the paper says of accuracy' if deep else ''}")
        res = imp["resolution"].sort_index()
        if len(res) > 1:
            lines.append(f"    resolution importance {'rises' if (np.diff(res.to_numpy()) > 0).all() else 'does not rise'} "
                         f"steadily from {res.index[0]} to {res.index[-1]} px")
    return wrapped(lines)


# Eq. 5's label moments (Sec. 4.2) -------------------------------------------------------------
def label_moment_steps(data: TrainingSets) -> pd.DataFrame:
    """Eq. 5's label moments ``mu_{u,l}``, the mean label of the architectures whose scoring unit
    ``u`` has ``l`` layers (over each space's training subset, every label), and every step to the
    next depth: one row per ``space, label, unit, layers`` (``l -> l + 1``) with ``n_low, n_high,
    mu_low, mu_high, step = mu_{u,l+1} - mu_{u,l}`` and its Welch standard error ``se``."""
    rows = []
    for name, ds in data.datasets.items():
        space, idx = ds.space, data.subsets[name]
        depths = np.array([[len(space.arch_unit(ds.archs[i], u)) for u in range(space.n_units)] for i in idx])
        for label in data.labels:
            y = ds.target(label)[idx]
            for u in range(space.n_units):
                groups = [(int(l), y[depths[:, u] == l]) for l in np.unique(depths[:, u])]
                for (l0, a), (l1, b) in zip(groups, groups[1:]):
                    if len(a) < 2 or len(b) < 2:
                        continue
                    rows.append({"space": name, "label": label, "unit": u, "layers": f"{l0} -> {l1}",
                                 "n_low": len(a), "n_high": len(b), "mu_low": float(a.mean()),
                                 "mu_high": float(b.mean()), "step": float(b.mean() - a.mean()),
                                 "se": float(np.hypot(a.std(ddof=1) / np.sqrt(len(a)), b.std(ddof=1) / np.sqrt(len(b))))})
    return pd.DataFrame(rows)


def label_moment_summary(steps: pd.DataFrame) -> pd.DataFrame:
    """Per space and label of :func:`label_moment_steps`: how many steps there are, how many grow
    (``mu_{u,l+1} > mu_{u,l}``), and the weakest step in standard errors (``min z``, ``z = step / se``)."""
    z = steps.step / steps.se
    g = steps.assign(z=z, grows=steps.step > 0).groupby(["space", "label"], sort=False)
    return pd.DataFrame({"steps": g.size(), "growing": g.grows.sum(), "min z": g.z.min().round(1)})


# Eq. 4's soft rank against the exact SRCC (Sec. 4.1) ------------------------------------------
def soft_rank_fidelity(trained: Sequence[TrainedPredictor], archs, y, batch_size: int | None = None,
                       n_batches: int = 20, seed: int = 0) -> pd.DataFrame:
    """How closely each predictor's ranking term computes Spearman's rho, where it was trained.

    For ``n_batches`` batches of ``batch_size`` (default: the predictor's own) of its training
    architectures, drawn with ``seed``, and every hop m: the correlation inside its ranking term
    (its variant's, at its ``rank_strength``: soft ranks of ``||h_G^m||_1`` against the exact label
    ranks for ``companion``, against the standardised label values for ``authors``) and the exact
    Spearman rho of the same batch. One row per ``model, seed, hop, batch`` with ``soft, exact, gap``
    (``|soft - exact|``)."""
    y = np.asarray(y, dtype=np.float64)
    rows = []
    for t in trained:
        if len(y) != len(archs) or len(t.train_idx) == 0 or int(t.train_idx.max()) >= len(y):
            raise ValueError(f"soft_rank_fidelity needs the {len(archs)} architectures and labels the predictor "
                             f"was trained on; got {len(y)} labels and training indices up to {int(t.train_idx.max())}")
        term, strength = get_variant(t.config.model).ranking_term, t.config.rank_strength
        size = min(batch_size or t.config.batch_size, len(t.train_idx))
        norms = t.hop_norms(archs)
        target = (y - t.y_mean) / t.y_std
        rng = np.random.default_rng(seed)
        for b in range(n_batches):
            idx = rng.choice(t.train_idx, size=size, replace=False)
            yb = torch.as_tensor(target[idx])
            for m in range(norms.shape[1]):
                h = torch.as_tensor(norms[idx, m:m + 1])  # a one-column "embedding" whose l1 norm is the norm
                soft = 1.0 - float(term([h], yb, strength))
                exact = spearman(norms[idx, m], target[idx])
                rows.append({"model": t.config.model, "seed": t.config.seed, "hop": m, "batch": b,
                             "soft": soft, "exact": exact, "gap": abs(soft - exact)})
    return pd.DataFrame(rows)


# The two predictor variants -----------------------------------------------------------------
VARIANT_RESULTS = ("predictor_variants.csv", "predictor_variants_stability.csv")


@dataclass
class PredictorVariants:
    """Both predictor variants (and the authors' own code) on one labelled set, as
    ``scripts/compare_predictors.py`` stored them: quality per seed and the seed stability of
    their subgraph scores per readout."""

    differences: pd.DataFrame  # aspect -> authors, companion
    runs: pd.DataFrame         # one row per variant and seed, as stored
    stability: pd.DataFrame    # one row per variant, readout, unit and seed pair, as stored

    def quality(self) -> pd.DataFrame:
        """Mean +- std over seeds of the test SRCC (head, every hop) and the MAE, per variant."""
        cols = ["head_srcc"] + sorted(c for c in self.runs if c.startswith("hop")) + ["mae"]
        g = self.runs.groupby("variant", sort=False)
        out = pd.DataFrame({c: [f"{m:.3f} ± {s:.3f}" if c != "mae" else f"{m:.5f} ± {s:.5f}"
                                for m, s in zip(g[c].mean(), g[c].std(ddof=1).fillna(0))] for c in cols},
                           index=list(g.groups))
        out["seeds"] = g.size().to_numpy()
        out["CPU s per run"] = g["train_cpu_seconds"].mean().round(0).astype(int).to_numpy()
        return out.rename_axis("variant")

    def hop_table(self) -> pd.DataFrame:
        """Test SRCC of every hop's norm and of the head, per variant and seed (rounded), with the test size."""
        hops = sorted(c for c in self.runs if c.startswith("hop"))
        table = self.runs.set_index(["variant", "seed"])[hops + ["head_srcc", "n_test"]]
        return table.rename(columns={**{h: h.replace("hop", "hop ").replace("_srcc", "") for h in hops},
                                     "head_srcc": "head", "n_test": "test architectures"}).round(2)

    def hop_cells(self, variant: str) -> pd.DataFrame:
        """``variant``'s test SRCC at every hop and seed, one row each: ``seed, hop, srcc, n_test``."""
        runs = self.runs[self.runs.variant == variant]
        if runs.empty:
            raise ValueError(f"no stored runs of variant {variant!r}; stored: {sorted(set(self.runs.variant))}")
        hops = sorted(c for c in runs if c.startswith("hop"))
        cells = runs.melt(["seed", "n_test"], hops, var_name="hop", value_name="srcc")
        cells["hop"] = cells.hop.str.replace("hop", "hop ").str.replace("_srcc", "")
        return cells[["seed", "hop", "srcc", "n_test"]]

    def stability_summary(self) -> pd.DataFrame:
        """Per variant and readout, over units and seed pairs: Spearman between seeds (mean, min),
        mean top-25 overlap and how many top-1s agree."""
        g = self.stability.groupby(["variant", "readout"])
        return pd.DataFrame({"spearman_mean": g.spearman.mean().round(2), "spearman_min": g.spearman.min().round(2),
                             "top25_overlap_mean": g.top25_overlap.mean().round(1),
                             "top1_agree": [f"{int(a)} of {n}" for a, n in zip(g.top1_agree.sum(), g.size())]})

    def provenance(self) -> str:
        r = self.runs.iloc[-1]
        return wrapped(f"stored by scripts/compare_predictors.py: {r.data_file}, target {r.target}, {int(r.epochs)} epochs, "
                f"{self.runs.date.min()[:10]}, {r.machine}")

    def verdict(self) -> str:
        """Which variant the book uses by default, and why (from the stored numbers)."""
        s = self.stability[self.stability.readout == "pooled"].groupby("variant")
        q = self.runs.groupby("variant")
        a, c = "authors", "companion"
        return wrapped(f"Default: {c}. Its subgraph scores are far steadier across seeds (pooled readout: Spearman "
                f"{s.spearman.mean()[c]:.2f} vs {s.spearman.mean()[a]:.2f}, top-25 overlap {s.top25_overlap.mean()[c]:.1f} "
                f"vs {s.top25_overlap.mean()[a]:.1f} of 25) and its hop-0 (FE-MLP) ranking is meaningful "
                f"(hop-0 SRCC {q.hop0_srcc.mean()[c]:.2f} vs {q.hop0_srcc.mean()[a]:.2f}, min {q.hop0_srcc.min()[a]:.2f}); "
                f"the authors' network predicts whole architectures slightly better (head SRCC {q.head_srcc.mean()[a]:.3f} "
                f"vs {q.head_srcc.mean()[c]:.3f}). Every section scores modules, so every section defaults to {c}; "
                f"model='authors' runs any of them with the authors' network.")


def predictor_variants(folder) -> PredictorVariants | None:
    """The stored comparison of the two variants in ``folder`` (e.g. ``figures/``), or None if absent."""
    from pathlib import Path

    from autobuild.predictor.variants import DIFFERENCES

    paths = [Path(folder) / name for name in VARIANT_RESULTS]
    if not all(p.is_file() for p in paths):
        return None
    runs, stability = (pd.read_csv(p) for p in paths)
    differences = pd.DataFrame(DIFFERENCES, columns=["aspect", "authors", "companion"]).set_index("aspect")
    return PredictorVariants(differences, runs, stability)
