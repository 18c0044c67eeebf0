r"""AutoBuild against measured truth: NAS-Bench-Macro's 6,561 CIFAR-10-trained networks (notebook 06).

Every network of the ``macro`` space was trained, so every quantity AutoBuild estimates has an
exact answer (:mod:`autobuild.evaluators.exact_truth`). For a label budget ``N`` and a repeat
seed ``s``, the labelled set is the first ``N`` architectures of the seed's random permutation of
the space (nested over budgets), and both methods train on it:

* ``paper``: the authors' network (``model="authors"``) with the root readout;
* ``ours``: the companion network (``model="companion"``) with the pooled readout.

Each trains one predictor per target, ``acc`` and equations that trade accuracy against FLOPs
(the recipe's ``tradeoffs``), and answers four questions, written to four files by
:func:`run_budget` (through :class:`autobuild._io.TableStore`):

1. **scores** (``macro_scores.csv``): Eq. 5 scores of every full stage configuration (``acc``),
   against the exact marginals (``macro_stage_truth.csv``);
2. **build** (``macro_build.csv``): the architecture built from the top-1 configuration per stage,
   and the same-information controls: the best of the ``N`` labelled, the head's top-1 over the
   whole space, a one-hot additive ridge model's top-1 and a random architecture;
3. **reduced spaces** and 4. **NAS** (``macro_nas.csv``): the true accuracy-FLOPs hypervolume of
   the top-K spaces (union over the targets, as AutoBuild-NAS builds them) and of searches
   that measure the same total number of architectures, ``N`` labels plus the search budget:
   AutoBuild-NAS in the top-K space, random search, NSGA-II and NSGA-II guided by the head
   predictor (same ``N`` labels) over the full space. FLOPs are counted, not measured, so every
   method knows them; only accuracies count as evaluations.

Hypervolumes are relative: the dominated area under the space's nadir (widened by
:data:`REF_MARGIN` of each range) divided by that of the space's true front (1 = the whole front found). Verdicts compare paired seeds by the Student-t
interval of the mean difference (:mod:`autobuild.experiments.intervals`; none below
``MIN_SEEDS`` seeds) and call a difference
smaller than the training noise floor a tie: the median standard deviation of the benchmark's
three training runs (accuracy points), and for hypervolumes that floor times the FLOPs span of
the front, relative to the front's hypervolume (:func:`~autobuild.evaluators.exact_truth.hypervolume_floor`).
"""
from __future__ import annotations

import datetime as _dt
import functools
import itertools
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from autobuild._io import TableStore, machine_description
from autobuild._paths import stored_results_dir
from autobuild.evaluators.exact_truth import (best_indices, exact_front, hypervolume_floor, rank_percentile,
                                              stage_marginals)
from autobuild.experiments.intervals import MIN_SEEDS, Interval, t_mean_interval
from autobuild.graphs.table import GraphTable
from autobuild.predictor import SubgraphScorer, TrainConfig, train_many
from autobuild.search.candidates import autobuild_nas, layer_full
from autobuild.search.evolution import evolutionary_search, nsga_order
from autobuild.search.pareto import hypervolume
from autobuild.stats import spearman, top1_regret, top_k_overlap

#: The hypervolume reference: the space's nadir widened by this share of each range.
REF_MARGIN = 0.05
#: method -> (predictor model, readout)
METHODS = {"paper": ("authors", "root"), "ours": ("companion", "pooled")}
#: ``model`` of the rows that use no predictor.
NO_MODEL = "none"
#: Build methods: AutoBuild, the head's top-1 (both per model), then the controls without a predictor.
BUILD_METHODS = ("autobuild", "head top-1", "best labelled", "ridge top-1", "random")
NAS_METHODS = ("AutoBuild-NAS", "predictor NSGA-II", "NSGA-II", "random search")
FILES = {"stage_truth": "macro_stage_truth.csv", "scores": "macro_scores.csv", "build": "macro_build.csv",
         "nas": "macro_nas.csv", "runs": "macro_runs.csv"}
COLUMNS = {
    "stage_truth": ("stage", "config", "marginal_acc"),
    "scores": ("budget", "seed", "model", "readout", "stage", "config", "score"),
    "build": ("budget", "seed", "target", "method", "model", "arch", "true_acc", "percentile"),
    "nas": ("budget", "seed", "method", "model", "evaluations", "hypervolume"),
    "runs": ("budget", "seed", "model", "recipe", "date", "machine", "wall_s"),
}
KEYS = {
    "stage_truth": ("stage", "config"),
    "scores": ("budget", "seed", "model", "readout", "stage", "config"),
    "build": ("budget", "seed", "target", "method", "model"),
    "nas": ("budget", "seed", "method", "model"),
    "runs": ("budget", "seed", "model"),
}
_TYPES = {"budget": int, "seed": int, "stage": int, "evaluations": int, "config": str, "arch": str,
          "marginal_acc": float, "score": float, "true_acc": float, "percentile": float, "hypervolume": float,
          "wall_s": float}


def stores(folder) -> dict[str, TableStore]:
    """The five result files of ``folder`` (``figures/`` of the checkout for the stored full run).

    They are kept as text (digit strings such as ``"00"`` or ``"00201200"`` keep their zeros):
    write with :func:`add`, read with :func:`read`."""
    folder = Path(folder)
    return {name: TableStore(folder / FILES[name], COLUMNS[name], KEYS[name], sort=list(KEYS[name]), text=True)
            for name in FILES}


def add(store: TableStore, rows: pd.DataFrame) -> None:
    """Store ``rows`` as text (floats at full precision)."""
    store.add(rows[list(store.columns)].astype(str))


def read(store: TableStore) -> pd.DataFrame:
    """The stored rows with numbers as numbers (``int``/``float`` columns of :data:`_TYPES`)."""
    frame = store.read()
    for c in frame.columns:
        if _TYPES.get(c) in (int, float):
            frame[c] = frame[c].astype(_TYPES[c])
    return frame


def stored_results() -> dict[str, pd.DataFrame] | None:
    """The stored full run of this checkout (``figures/macro_*.csv``, typed), or None outside a
    checkout or before any run was stored."""
    folder = stored_results_dir()
    if folder is None or not (folder / FILES["runs"]).exists():
        return None
    return {name: read(s) for name, s in stores(folder).items()}


def provenance(runs: pd.DataFrame) -> pd.DataFrame:
    """What a results folder holds: per budget and model, the seeds, recipe, dates, machines and wall time."""
    return (runs.groupby(["budget", "model"])
            .agg(seeds=("seed", "nunique"), recipe=("recipe", lambda v: json.loads(v.iloc[0])["name"]),
                 dates=("date", lambda v: ", ".join(sorted(set(v)))),
                 machine=("machine", lambda v: ", ".join(sorted(set(v)))), wall_s=("wall_s", "sum"))
            .reset_index())


def stored(store: TableStore, **keys) -> bool:
    return store.has(**{k: str(v) for k, v in keys.items()})


# The recipe ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Recipe:
    """Training and search settings of one profile (``book.profiles``: ``06_measured_truth``)."""

    name: str
    epochs: tuple          # (budget, epochs) pairs: about the same number of optimiser steps per budget
    lr: float
    batch_size: int
    tradeoffs: tuple       # label equations that trade accuracy against FLOPs (question 2 reads the first)
    ks: tuple              # K of the top-K reduced spaces (question 3)
    k_nas: int             # K of AutoBuild-NAS's space
    search_budget: int     # evaluations after the N labels
    n_initial: int         # random architectures first, then rounds of per_round mutants
    per_round: int
    surrogate_budget: int  # predictions the predictor-guided NSGA-II may make
    ridge: float           # ridge penalty of the additive control

    @classmethod
    def from_settings(cls, name: str, settings: Mapping) -> "Recipe":
        fields = {f: settings[f] for f in cls.__dataclass_fields__ if f != "name"}
        fields["epochs"] = tuple((int(b), int(e)) for b, e in dict(settings["epochs"]).items())
        fields["ks"], fields["tradeoffs"] = tuple(settings["ks"]), tuple(settings["tradeoffs"])
        return cls(name=name, **fields)

    def epochs_for(self, budget: int) -> int:
        table = dict(self.epochs)
        if budget not in table:
            raise ValueError(f"recipe {self.name!r} has no epochs for budget {budget}; it has {sorted(table)}")
        return table[budget]

    @property
    def targets(self) -> tuple:
        """``acc`` and the trade-off equations: one predictor each, AutoBuild-NAS joins their top-K."""
        return ("acc", *self.tradeoffs)

    def text(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


# The exact truth of the benchmark -------------------------------------------------------------
class MacroTruth:
    """The measured table with its exact answers: accuracy, FLOPs, the true front's reference and
    hypervolume, and the noise floor (median seed std of the three training runs)."""

    def __init__(self, dataset):
        self.dataset, self.space = dataset, dataset.space
        self.strings = dataset.arch_strings
        self.row = {s: i for i, s in enumerate(self.strings)}
        self.codes = np.array([[int(c) for c in s] for s in self.strings], dtype=np.int64)
        self.acc = dataset.target("acc")
        self.flops = dataset.target("flops")
        self.noise = float(np.median(dataset.target("acc_std")))
        _, self.hv_full, self.ref = exact_front(self.acc, self.flops, margin=REF_MARGIN)
        self.hv_floor = hypervolume_floor(self.acc, self.flops, self.ref, self.noise) / self.hv_full

    @functools.cached_property
    def table(self) -> GraphTable:
        return GraphTable.from_architectures(self.space, self.dataset.archs)

    def values(self, target: str) -> np.ndarray:
        """The target (a label equation) of every architecture."""
        return self.dataset.target(target)

    def index(self, archs) -> np.ndarray:
        return np.array([self.row[self.space.to_string(a)] for a in archs], dtype=np.int64)

    def stage_truth(self) -> pd.DataFrame:
        """``stage, config, marginal_acc``: the exact marginal accuracy of every full stage configuration."""
        m = stage_marginals(self.codes, self.acc, self.space.stage_depths, len(self.space.feature_vocab["op"]))
        return m.rename(columns={"marginal": "marginal_acc"})

    def true_best(self, targets) -> pd.DataFrame:
        """Per target: the networks that maximise it (ties kept), the maximum, their accuracy and MFLOPs."""
        rows = []
        for t in targets:
            idx = best_indices(self.values(t))
            rows.append({"target": t, "best": ", ".join(self.strings[i] for i in idx),
                         "value": float(self.values(t)[idx[0]]), "acc": float(self.acc[idx[0]]),
                         "MFLOPs": float(self.flops[idx[0]] / 1e6)})
        return pd.DataFrame(rows)

    def relative_hv(self, idx) -> float:
        """Hypervolume of the architectures ``idx`` over the true front's."""
        idx = np.unique(np.asarray(idx, dtype=np.int64))
        return hypervolume(self.acc[idx], self.flops[idx], self.ref) / self.hv_full

    def evaluate(self, archs):
        """``(acc, flops)`` of architectures by lookup (the searches' objective)."""
        idx = self.index(archs)
        return self.acc[idx], self.flops[idx]


def labelled(n_archs: int, budget: int, seed: int) -> np.ndarray:
    """The seed's labelled set: the first ``budget`` of its permutation of the space (nested in budget)."""
    if not 2 <= budget <= n_archs:
        raise ValueError(f"a label budget must lie in 2..{n_archs}, got {budget}")
    return np.random.default_rng(seed).permutation(n_archs)[:budget]


# Training ------------------------------------------------------------------------------------
def train(truth: MacroTruth, recipe: Recipe, budget: int, seeds: Sequence[int], model: str, device: str = "cpu",
          progress: bool = False) -> dict:
    """``{(seed, target): TrainedPredictor}``, every seed x target of one model trained at once.

    The graph table holds the whole space, but each predictor reads only its labelled rows: the
    others carry the labelled mean, never a measured value.
    """
    targets = recipe.targets
    labels, configs, splits, keys = [], [], [], []
    for seed in seeds:
        idx = labelled(len(truth.strings), budget, seed)
        for target in targets:
            y = truth.values(target)
            masked = np.full(len(y), y[idx].mean())
            masked[idx] = y[idx]
            labels.append(masked)
            configs.append(TrainConfig(model=model, epochs=recipe.epochs_for(budget), lr=recipe.lr,
                                       batch_size=recipe.batch_size, seed=int(seed), device=device, progress=progress))
            splits.append((np.sort(idx), np.array([], dtype=np.int64)))
            keys.append((int(seed), target))
    trained = train_many(truth.table, truth.space.feature_vocab, labels, configs, splits, space=truth.space)
    return dict(zip(keys, trained))


# One seed's rows -------------------------------------------------------------------------------
def ridge_predictions(codes, idx, y, n_ops: int, ridge: float) -> np.ndarray:
    r"""The additive control: ridge regression of ``y`` on one-hot (layer, op) indicators of the
    labelled rows ``idx``, :math:`\hat y = \bar y + (X - \bar X)\beta`, predicted for every row."""
    X = np.zeros((len(codes), codes.shape[1] * n_ops))
    X[np.arange(len(codes))[:, None], np.arange(codes.shape[1]) * n_ops + codes] = 1.0
    Xl, yl = X[idx], np.asarray(y, float)[idx]
    mean = Xl.mean(0)
    beta = np.linalg.solve((Xl - mean).T @ (Xl - mean) + ridge * np.eye(X.shape[1]), (Xl - mean).T @ (yl - yl.mean()))
    return yl.mean() + (X - mean) @ beta


def _build_row(truth, budget, seed, target, method, model, i, values) -> dict:
    return {"budget": budget, "seed": seed, "target": target, "method": method, "model": model,
            "arch": truth.strings[i], "true_acc": float(truth.acc[i]),
            "percentile": float(rank_percentile(values, values[i]))}


def _union(reduced: Sequence, n_units: int) -> list:
    return [list(dict.fromkeys(sg for r in reduced for sg in r.candidates[u])) for u in range(n_units)]


def _nas_row(budget, seed, method, model, idx, truth) -> dict:
    idx = np.unique(np.asarray(idx, dtype=np.int64))
    return {"budget": budget, "seed": seed, "method": method, "model": model, "evaluations": int(idx.size),
            "hypervolume": truth.relative_hv(idx)}


def method_rows(truth: MacroTruth, recipe: Recipe, budget: int, seed: int, predictors: Mapping, method: str):
    """Scores, build and NAS rows of one method (``paper`` or ``ours``) for one seed."""
    model, readout = METHODS[method]
    idx = labelled(len(truth.strings), budget, seed)
    archs = [truth.dataset.archs[i] for i in idx]
    targets = recipe.targets
    scorers = {t: SubgraphScorer.from_data(predictors[(seed, t)], archs, truth.values(t)[idx], readout=readout)
               for t in targets}
    s = scorers["acc"].score_all()
    scores = pd.DataFrame({"budget": budget, "seed": seed, "model": model, "readout": readout,
                           "stage": s.stage.astype(int), "config": s.subgraph, "score": s.score})
    build = []
    for t in targets:
        values = truth.values(t)
        built = truth.index([scorers[t].top_k(1).best()])[0]
        head = int(np.argmax(predictors[(seed, t)].predict(truth.dataset.archs)))
        build += [_build_row(truth, budget, seed, t, "autobuild", model, built, values),
                  _build_row(truth, budget, seed, t, "head top-1", model, head, values)]
    n_units = truth.space.n_units
    nas = []
    for k in recipe.ks:
        reduced = _union([scorers[t].top_k(k) for t in targets], n_units)
        space_idx = truth.index(truth.space.build_units(c) for c in itertools.product(*reduced))
        nas.append(_nas_row(budget, seed, f"top-{k} space", model, space_idx, truth))
    cspace = autobuild_nas(truth.space, [scorers[t].top_k(recipe.k_nas) for t in targets])
    found = evolutionary_search(cspace, truth.evaluate, budget=recipe.search_budget, n_initial=recipe.n_initial,
                                per_round=recipe.per_round, seed=seed, progress=False)
    nas.append(_nas_row(budget, seed, "AutoBuild-NAS", model, np.concatenate([idx, truth.index(found.archs)]), truth))
    predicted = predictors[(seed, "acc")].predict(truth.dataset.archs)

    def surrogate(batch):
        rows = truth.index(batch)
        return predicted[rows], truth.flops[rows]

    guided = evolutionary_search(layer_full(truth.space), surrogate, budget=recipe.surrogate_budget,
                                 n_initial=recipe.n_initial, per_round=recipe.per_round, seed=seed, progress=False)
    order = truth.index(guided.archs)[nsga_order(guided.perf, guided.cost)]
    known = set(idx.tolist())
    picked = [i for i in order if i not in known][:recipe.search_budget]
    nas.append(_nas_row(budget, seed, "predictor NSGA-II", model, np.concatenate([idx, picked]), truth))
    return scores, pd.DataFrame(build), pd.DataFrame(nas)


def control_rows(truth: MacroTruth, recipe: Recipe, budget: int, seed: int):
    """Build and NAS rows of the controls that use no predictor, for one seed."""
    perm = np.random.default_rng(seed).permutation(len(truth.strings))
    idx = perm[:budget]
    n_ops = len(truth.space.feature_vocab["op"])
    rng = np.random.default_rng([seed, budget, 1])
    build = []
    for t in recipe.targets:
        values = truth.values(t)
        ridge = int(np.argmax(ridge_predictions(truth.codes, idx, values, n_ops, recipe.ridge)))
        build += [_build_row(truth, budget, seed, t, "best labelled", NO_MODEL, int(idx[np.argmax(values[idx])]), values),
                  _build_row(truth, budget, seed, t, "ridge top-1", NO_MODEL, ridge, values),
                  _build_row(truth, budget, seed, t, "random", NO_MODEL, int(rng.integers(len(values))), values)]
    total = budget + recipe.search_budget
    nsga = evolutionary_search(layer_full(truth.space), truth.evaluate, budget=total, n_initial=recipe.n_initial,
                               per_round=recipe.per_round, seed=seed, progress=False)
    nas = [_nas_row(budget, seed, "random search", NO_MODEL, perm[:total], truth),
           _nas_row(budget, seed, "NSGA-II", NO_MODEL, truth.index(nsga.archs), truth)]
    return pd.DataFrame(build), pd.DataFrame(nas)


def run_budget(truth: MacroTruth, recipe: Recipe, budget: int, seeds: Sequence[int], store: Mapping[str, TableStore],
               methods: Sequence[str] = tuple(METHODS), device: str = "cpu", progress: bool = False) -> None:
    """Every method and the controls for one budget and the seeds not yet stored; each method's
    seeds train at once, and every seed's rows (with date, machine and wall time) are stored as
    soon as they exist."""
    if not stored(store["stage_truth"]):
        add(store["stage_truth"], truth.stage_truth())
    for model in [NO_MODEL] + [METHODS[m][0] for m in methods]:
        todo = [int(s) for s in seeds if not stored(store["runs"], budget=budget, seed=int(s), model=model)]
        if not todo:
            continue
        start = time.perf_counter()
        method = next((m for m in methods if METHODS[m][0] == model), None)
        predictors = train(truth, recipe, budget, todo, model, device, progress) if method else {}
        per_seed_train = (time.perf_counter() - start) / len(todo)
        for seed in todo:
            t0 = time.perf_counter()
            if method:
                scores, build, nas = method_rows(truth, recipe, budget, seed, predictors, method)
                add(store["scores"], scores)
            else:
                build, nas = control_rows(truth, recipe, budget, seed)
            add(store["build"], build)
            add(store["nas"], nas)
            wall = per_seed_train + time.perf_counter() - t0
            add(store["runs"], pd.DataFrame([{"budget": budget, "seed": seed, "model": model, "recipe": recipe.text(),
                                             "date": _dt.date.today().isoformat(),
                                             "machine": machine_description(device), "wall_s": round(wall, 1)}]))


# Reading the results ---------------------------------------------------------------------------
def judge(interval: Interval, floor: float) -> str:
    """``better``/``worse`` when the interval excludes 0 and the mean difference reaches the
    noise ``floor``; otherwise ``tie``; ``too few seeds`` below :data:`MIN_SEEDS` seeds."""
    if interval.n < MIN_SEEDS:
        return "too few seeds"
    if interval.low > 0 and interval.mean >= floor:
        return "better"
    if interval.high < 0 and interval.mean <= -floor:
        return "worse"
    return "tie"


def _interval_row(values, floor: float, **keys) -> dict:
    keys = {k: int(v) if isinstance(v, (np.integer, float)) and float(v).is_integer() else v for k, v in keys.items()}
    iv = t_mean_interval(values)
    return {**keys, "seeds": iv.n, "mean": iv.mean, "low": iv.low, "high": iv.high, "verdict": judge(iv, floor)}


def score_quality(scores: pd.DataFrame, stage_truth: pd.DataFrame, k: int = 3) -> pd.DataFrame:
    """Per budget, seed and method, means over stages: Spearman of the scores with the exact
    marginals, top-1 regret (accuracy points) and top-``k`` overlap; and seed stability (mean
    Spearman with every other seed's scores of the same budget and method)."""
    merged = scores.merge(stage_truth, on=["stage", "config"])
    method_of = {v: m for m, v in METHODS.items()}
    rows = []
    for (b, s, model, readout), d in merged.groupby(["budget", "seed", "model", "readout"]):
        per_stage = []
        for _, g in d.groupby("stage"):
            sc, tr = g.score.to_numpy(), g.marginal_acc.to_numpy()
            per_stage.append((spearman(sc, tr), top1_regret(sc, tr), top_k_overlap(sc, tr, k)))
        rho, regret, overlap = np.mean(per_stage, axis=0)
        rows.append({"budget": b, "seed": s, "method": method_of.get((model, readout), f"{model} {readout}"),
                     "spearman": rho, "regret": regret, "overlap": overlap})
    out = pd.DataFrame(rows)
    wide = scores.assign(key=scores.stage.astype(str) + ":" + scores.config)
    stability = []
    for (b, model, readout), d in wide.groupby(["budget", "model", "readout"]):
        table = d.pivot_table(index="key", columns="seed", values="score")
        stages = table.index.str.split(":").str[0]
        corr = np.mean([table[stages == u].corr(method="spearman").to_numpy() for u in np.unique(stages)], axis=0)
        np.fill_diagonal(corr, np.nan)
        stability += [{"budget": b, "seed": s, "method": method_of.get((model, readout), f"{model} {readout}"),
                       "stability": float(np.nanmean(corr[i]))} for i, s in enumerate(table.columns)]
    return out.merge(pd.DataFrame(stability), on=["budget", "seed", "method"])


def build_values(build: pd.DataFrame, truth: MacroTruth) -> pd.DataFrame:
    """``build`` with ``value``, the true target value of each built architecture (accuracy points)."""
    out = build.copy()
    out["value"] = [truth.values(t)[truth.row[a]] for t, a in zip(out.target, out.arch)]
    return out


def paired(frame: pd.DataFrame, value: str, ours: Mapping, controls: Mapping, floor: float,
           by: Sequence[str] = ("budget",)) -> pd.DataFrame:
    """Paired per-seed differences ``ours - control`` of ``value`` with their t-intervals
    and verdicts. ``ours`` and each control select rows by column values (e.g. ``{"method":
    "autobuild", "model": "companion"}``); rows pair on ``by`` and ``seed``."""
    def pick(sel):
        mask = np.ones(len(frame), dtype=bool)
        for c, v in sel.items():
            mask &= (frame[c] == v).to_numpy()
        return frame[mask].set_index([*by, "seed"])[value]

    a = pick(ours)
    rows = []
    for name, sel in controls.items():
        d = (a - pick(sel)).dropna()
        for key, g in d.groupby(level=list(range(len(by)))):
            key = key if isinstance(key, tuple) else (key,)
            rows.append(_interval_row(g.to_numpy(), floor, **dict(zip(by, key)), control=name))
    return pd.DataFrame(rows)


def summary(frame: pd.DataFrame, value: str, by: Sequence[str], floor: float = 0.0) -> pd.DataFrame:
    """Mean of ``value`` and its t-interval over seeds, per group of ``by``."""
    return pd.DataFrame([_interval_row(g[value].to_numpy(), floor, **dict(zip(by, key if isinstance(key, tuple) else (key,))))
                         for key, g in frame.groupby(list(by))]).drop(columns="verdict")


def random_sets(truth: MacroTruth, spaces: pd.DataFrame) -> pd.DataFrame:
    """The control of question 3: for every stored top-K space, as many architectures drawn at
    random from the whole space (seeded by budget, seed and K), with their relative hypervolume."""
    out = spaces.copy()
    out["hypervolume"] = [truth.relative_hv(np.random.default_rng([int(b), int(s), int(k), 3]).choice(
        len(truth.strings), int(e), replace=False)) for b, s, k, e in zip(out.budget, out.seed, out.k, out.evaluations)]
    return out


@dataclass
class Report:
    """The four questions' answers over paired seeds (every table has ``mean, low, high`` = the
    95% t-interval, and ``verdict`` where two things are compared).

    ``quality``: per seed (Q1); ``q1``: per budget and method; ``q1_diff``: ours - paper;
    ``q2``: the built architecture's true target value minus each same-information control's;
    ``q3``: relative hypervolume of the top-K spaces; ``q3_diff``: minus that of as many random architectures;
    ``q4``: AutoBuild-NAS's relative hypervolume minus each control's at equal evaluations;
    ``controls``: the same-information controls judged as AutoBuild is (``subject`` minus each
    label-free or simpler choice, see :data:`CONTROL_SUBJECTS`);
    ``build_summary`` and ``nas_summary``: every method's own value (``label`` names it with its method).
    """

    quality: pd.DataFrame
    q1: pd.DataFrame
    q1_diff: pd.DataFrame
    build: pd.DataFrame
    q2: pd.DataFrame
    q3: pd.DataFrame
    q3_diff: pd.DataFrame
    q4: pd.DataFrame
    build_summary: pd.DataFrame
    nas_summary: pd.DataFrame
    controls: pd.DataFrame
    noise: float
    hv_floor: float


def report(results: Mapping[str, pd.DataFrame], truth: MacroTruth, recipe: Recipe) -> Report:
    """Answer the four questions from the stored frames (``results[name]`` = :func:`read` of each file)."""
    quality = score_quality(results["scores"], results["stage_truth"])
    q1 = pd.concat([summary(quality, m, ["budget", "method"]).assign(measure=m)
                    for m in ("spearman", "regret", "overlap", "stability")], ignore_index=True)
    q1_diff = paired(quality, "spearman", {"method": "ours"}, {"paper": {"method": "paper"}}, 0.0)
    build = build_values(results["build"], truth)
    q2 = []
    for method, (model, _) in METHODS.items():
        controls = {"best labelled": {"method": "best labelled"}, "head top-1": {"method": "head top-1", "model": model},
                    "ridge top-1": {"method": "ridge top-1"}, "random": {"method": "random"}}
        q2.append(paired(build, "value", {"method": "autobuild", "model": model}, controls, truth.noise,
                         by=("budget", "target")).assign(method=method))
    nas = results["nas"]
    spaces = nas[nas.method.str.endswith(" space")].assign(k=lambda f: f.method.str[4].astype(int))
    names = {v[0]: m for m, v in METHODS.items()}
    q3 = summary(spaces.assign(method=spaces.model.map(names)), "hypervolume", ["budget", "method", "k"])
    both = pd.concat([spaces.assign(which="autobuild"), random_sets(truth, spaces).assign(which="random")])
    q3_diff = pd.concat([paired(both[both.model == model], "hypervolume", {"which": "autobuild"},
                                {"as many random architectures": {"which": "random"}}, truth.hv_floor,
                                by=("budget", "k")).assign(method=method)
                         for method, (model, _) in METHODS.items() if (both.model == model).any()], ignore_index=True)
    q4 = []
    for method, (model, _) in METHODS.items():
        controls = {"random search": {"method": "random search"}, "NSGA-II": {"method": "NSGA-II"},
                    "predictor NSGA-II": {"method": "predictor NSGA-II", "model": model}}
        q4.append(paired(nas, "hypervolume", {"method": "AutoBuild-NAS", "model": model}, controls,
                         truth.hv_floor).assign(method=method))
    build_summary = summary(build.assign(label=method_labels(build)), "value", ["budget", "target", "label"])
    nas_summary = summary(nas.assign(label=method_labels(nas)), "hypervolume", ["budget", "label"])
    subject, others = CONTROL_SUBJECTS["build"]
    controls = [paired(build, "value", subject, {o: {"method": o} for o in others}, truth.noise,
                       by=("budget", "target")).assign(question="build", subject=control_label(subject))]
    subject, others = CONTROL_SUBJECTS["nas"]
    controls.append(paired(nas, "hypervolume", subject, {o: {"method": o} for o in others},
                           truth.hv_floor).assign(question="nas", subject=control_label(subject)))
    return Report(quality, q1, q1_diff, build, _concat(q2), q3, q3_diff, _concat(q4), build_summary, nas_summary,
                  _concat(controls), truth.noise, truth.hv_floor)


#: The same-information controls judged as AutoBuild is: (the control's rows, the choices it must
#: beat). Building: the one-hot additive ridge model's top-1 (the same N labels, no GNN) against
#: the best labelled network and a random one. NAS: NSGA-II guided by our head predictor (the same
#: N labels, the full space) against the label-free searches at the same number of evaluations.
CONTROL_SUBJECTS = {
    "build": ({"method": "ridge top-1"}, ("best labelled", "random")),
    "nas": ({"method": "predictor NSGA-II", "model": METHODS["ours"][0]}, ("NSGA-II", "random search")),
}


def control_label(subject: Mapping) -> str:
    """A control's name for readers: its method, and whose predictor it uses where it has one."""
    names = {v[0]: m for m, v in METHODS.items()}
    model = subject.get("model", NO_MODEL)
    return subject["method"] if model == NO_MODEL else f"{subject['method']} ({names[model]})"


def _concat(frames) -> pd.DataFrame:
    return pd.concat([f for f in frames if len(f)], ignore_index=True)


def method_labels(frame: pd.DataFrame) -> list[str]:
    """``method`` for rows without a predictor, else ``method (paper)`` or ``method (ours)``."""
    names = {v[0]: m for m, v in METHODS.items()}
    return [m if model == NO_MODEL else f"{m} ({names[model]})" for m, model in zip(frame.method, frame.model)]


#: The rows of the verdict table: (question, what is measured).
QUESTIONS = (
    ("1. scores rank modules", "Spearman of Eq. 5 stage scores with the exact marginals (mean over stages)"),
    ("2. building without search (acc)", "true accuracy of the built architecture minus the strongest "
                                         "same-information control's (points)"),
    ("2. building without search (trade-off)", "true trade-off value of the built architecture minus the strongest "
                                               "same-information control's (points)"),
    ("3. reduced spaces hold good architectures", "relative hypervolume of the largest top-K space minus that of as "
                                                  "many random architectures"),
    ("4. reduced-space NAS at equal evaluations", "AutoBuild-NAS's relative hypervolume minus the strongest control's"),
)


def headline(rep: Report, budget: int, tradeoff: str) -> pd.DataFrame:
    """The verdict table at one budget: per question and method (``paper``, ``ours``, then
    ``control``, the same-information controls of questions 2 and 4) the measure's mean, its
    interval, who is measured (``subject``), the strongest competitor where there is one
    (``against``) and the verdict (``better``/``tie``/``worse``/``too few seeds``; question 1
    against 0, the others with the noise floor)."""
    rows = []

    def add(question, method, subject, c, against, verdict):
        measure = dict(QUESTIONS)[question]
        rows.append({"question": question, "method": method, "subject": subject, "measure": measure,
                     "against": against, "seeds": int(c["seeds"]), "mean": float(c["mean"]), "low": float(c["low"]),
                     "high": float(c["high"]), "verdict": verdict})

    for method in METHODS:
        q1 = rep.q1[(rep.q1.budget == budget) & (rep.q1.method == method) & (rep.q1.measure == "spearman")]
        if q1.empty:
            continue
        r = q1.iloc[0]
        add(QUESTIONS[0][0], method, "AutoBuild", r, "—", judge(Interval(r["mean"], r["low"], r["high"],
                                                                         int(r["seeds"])), 0.0))
        for question, target in zip((QUESTIONS[1][0], QUESTIONS[2][0]), ("acc", tradeoff)):
            c = strongest_control(rep.q2, budget=budget, method=method, target=target)
            add(question, method, "AutoBuild", c, c.control, c.verdict)
        q3 = rep.q3_diff[(rep.q3_diff.budget == budget) & (rep.q3_diff.method == method)]
        c = q3.loc[q3.k.idxmax()]
        add(QUESTIONS[3][0], method, "AutoBuild", c, f"{c.control} (K={int(c.k)})", c.verdict)
        c = strongest_control(rep.q4, budget=budget, method=method)
        add(QUESTIONS[4][0], method, "AutoBuild-NAS", c, c.control, c.verdict)
    controls = rep.controls[rep.controls.budget == budget]
    for question, key, target in ((QUESTIONS[1][0], "build", "acc"), (QUESTIONS[2][0], "build", tradeoff),
                                  (QUESTIONS[4][0], "nas", None)):
        where = {"question": key} | ({"target": target} if target else {})
        if controls.empty:
            continue
        c = strongest_control(controls, **where)
        add(question, "control", c.subject, c, c.control, c.verdict)
    return pd.DataFrame(rows)


def strongest_control(table: pd.DataFrame, **where) -> pd.Series:
    """The row of the control with the smallest mean advantage of AutoBuild (the strongest control)."""
    rows = table
    for c, v in where.items():
        rows = rows[rows[c] == v]
    if rows.empty:
        raise ValueError(f"no comparison for {where}")
    return rows.loc[rows["mean"].idxmin()]
