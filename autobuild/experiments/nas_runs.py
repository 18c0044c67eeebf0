"""Fig. 5 (bottom) over many paired seeds: full-profile runs stored by a script, judged by intervals.

``scripts/run_full_nas.py`` runs, for every repeat seed ``i``, predictor variant and training
recipe, the whole of Fig. 5 (bottom) -- predictors trained with seed ``i``, then every search
run with seed ``i`` -- and appends one row per (space, device, method) to a CSV as each seed
finishes (:class:`NASRunStore`), so an interrupted run resumes where it stopped. Notebook 03
reads that file. A run is one method: a predictor network (``model``) with a subgraph readout
(``readout``); the paper's method as published is the authors' network with the root readout.

For each pair the verdict compares AutoBuild-NAS with the *best baseline* (the paper's three,
whichever has the highest mean hypervolume over the seeds) through the per-seed differences
``d_i = HV_i(AutoBuild-NAS) - HV_i(best baseline)`` and the Student-t interval of their mean
(:mod:`autobuild.experiments.intervals`). The baselines never see the labelled architectures, so
two same-information controls (:data:`CONTROLS`, :func:`run_controls`) use the same labels and
the same evaluation budget: NSGA-II over the whole space guided by a surrogate, and the reduced
spaces of a one-hot additive ridge model. :func:`comparisons` judges every pairing: each
AutoBuild-NAS run and each control against the best baseline, and AutoBuild-NAS against each
control and the stronger of the two.
"""
from __future__ import annotations

import datetime as _dt
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from autobuild._io import TableStore, machine_description
from autobuild._paths import stored_results_dir
from autobuild.experiments import imagenet
from autobuild.experiments.intervals import t_mean_interval
from autobuild.graphs.table import GraphTable
from autobuild.predictor import TrainConfig, train_many
from autobuild.search.additive import AdditiveModel
from autobuild.search.candidates import autobuild_nas, layer_full
from autobuild.search.evolution import evolutionary_search
from autobuild.search.guided import predictor_guided_search
from autobuild.search.objectives import Objectives
from autobuild.search.pareto import Reference, nadir_reference
from autobuild.spaces.registry import get_space

#: The stored file of notebook 03's full profile, under the checkout's ``figures/``.
FULL_RUNS_FILE = "fig5_nas_hypervolume_full.csv"
#: The columns of the stored file, in order.
COLUMNS = ("space", "device", "method", "model", "recipe", "seed", "hv", "architectures", "epochs", "lr",
           "k_nas", "budget", "n_initial", "per_round", "n_train", "readout", "date", "machine", "wall_s")
BASELINES = tuple(m for m in imagenet.METHODS if m != "AutoBuild-NAS")
#: The same-information controls and the (model, readout) each is stored under: the surrogate's
#: network and its head, or the ridge model.
CONTROLS = {"Predictor-NSGA-II": ("companion", "head"), "Ridge-Reduced": ("ridge", "additive")}
#: Surrogate evaluations per true evaluation of the predictor-guided control.
SCREEN_FACTOR = 10
#: The ridge penalty of the additive control (on one-hot indicators, labels as stored).
RIDGE = 1.0
#: The two methods of the ledger, as (model, readout) of a run.
METHOD_RUNS = {"paper": ("authors", "root"), "ours": ("companion", "pooled")}
COMPARISON_COLUMNS = ("recipe", "model", "readout", "searcher", "space", "device", "against", "opponent", "seed",
                      "hv", "hv_opponent", "difference")
JUDGED_COLUMNS = ("recipe", "model", "readout", "searcher", "space", "device", "against", "opponent", "seeds",
                  "mean difference", "low", "high", "verdict", "opponent HV")


@dataclass(frozen=True)
class NASRecipe:
    """One training and search recipe of the full profile of notebook 03 (a row's ``recipe``)."""

    name: str
    epochs: int
    lr: float
    n_train: int
    k_nas: int
    tradeoff_weights: tuple
    budget: int
    n_initial: int
    per_round: int

    @classmethod
    def from_settings(cls, name: str, settings: Mapping, **override) -> "NASRecipe":
        """The recipe of a profile's settings (``book.profiles``), with ``override`` replacing fields."""
        fields = {f: settings[f] for f in ("epochs", "lr", "n_train", "k_nas", "budget", "n_initial", "per_round")}
        base = cls(name=name, tradeoff_weights=tuple(settings["tradeoff_weights"]), **fields)
        return replace(base, **override)

    @property
    def search(self) -> dict:
        """The evolutionary search's settings (the baselines' searches depend on nothing else)."""
        return {"budget": self.budget, "n_initial": self.n_initial, "per_round": self.per_round}


class NASRunStore(TableStore):
    """The stored per-seed hypervolumes of Fig. 5 (bottom): one CSV of :data:`COLUMNS`, a row per
    (space, device, method, model, recipe, seed); several processes (e.g. one per predictor
    variant) may add to it at once (:class:`~autobuild._io.TableStore`)."""

    def __init__(self, path: Path | str):
        super().__init__(path, COLUMNS, keys=("space", "device", "method", "model", "readout", "recipe", "seed"),
                         dtypes={"seed": int, "hv": float, "wall_s": float},
                         sort=["recipe", "model", "readout", "seed", "space", "device", "method"])

    def has_seed(self, recipe: str, model: str, seed: int, readout: str = "pooled") -> bool:
        """Whether seed ``seed`` of ``(recipe, model, readout)`` is stored."""
        return self.has(recipe=recipe, model=model, seed=seed, readout=readout)


def stored_full_runs() -> pd.DataFrame:
    """The stored full-profile rows of this checkout (:data:`FULL_RUNS_FILE`); an empty frame outside
    a checkout or before any run was stored."""
    folder = stored_results_dir()
    return NASRunStore(folder / FULL_RUNS_FILE).read() if folder is not None else pd.DataFrame(columns=list(COLUMNS))


def label_references(datasets: Mapping, devices: Sequence[str]) -> dict:
    """The hypervolume reference of every (space, device): the labelled set's nadir."""
    return {(s, d): nadir_reference(data.labels["acc"].to_numpy(), data.labels[f"latency_{d}"].to_numpy())
            for s, data in datasets.items() for d in devices}


def stored_baselines(rows: pd.DataFrame, seed: int, recipe: NASRecipe) -> pd.DataFrame | None:
    """The baselines' rows of ``seed`` stored under the same search settings as ``recipe``, if any."""
    same = (rows.seed == seed) & rows.method.isin(BASELINES)
    for key, value in recipe.search.items():
        same &= rows[key] == value
    found = rows[same].drop_duplicates(["space", "device", "method"])
    return found if len(found) else None


def run_seed(datasets: Mapping, devices: Sequence[str], recipe: NASRecipe, model: str, seed: int,
             refs: Mapping[tuple, Reference], baselines: pd.DataFrame | None = None, device: str = "cpu",
             readout: str = "pooled", objectives: Callable = Objectives,
             compile: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fig. 5 (bottom) for one seed: train every equation's predictor with ``seed``, search
    AutoBuild-NAS with ``seed`` and, unless ``baselines`` (their rows for this seed) are given, the
    three baselines too. Returns ``(rows of every method, the baselines' rows)``, in :data:`COLUMNS`;
    ``compile`` trains through ``torch.compile`` (``TrainConfig.compile``; noted in ``machine``).
    """
    start = time.perf_counter()
    equations = imagenet.label_equations(datasets, devices, recipe.tradeoff_weights)
    config = TrainConfig(epochs=recipe.epochs, lr=recipe.lr, device=device, model=model, progress=False,
                         compile=compile)
    built = imagenet.construct_all(datasets, equations, config, [seed], recipe.n_train, k=recipe.k_nas,
                                   progress=False, readout=readout)
    searched = imagenet.compare_nas(built, refs, recipe.k_nas, objectives, methods=("AutoBuild-NAS",),
                                    **recipe.search).per_seed()
    if baselines is None:
        baselines = imagenet.compare_nas(built, refs, recipe.k_nas, objectives, methods=BASELINES,
                                         **recipe.search).per_seed()
    rows = pd.concat([searched, baselines[["space", "device", "method", "seed", "hv", "architectures"]]],
                     ignore_index=True)
    rows = rows.assign(model=model, recipe=recipe.name, epochs=recipe.epochs, lr=recipe.lr, k_nas=recipe.k_nas,
                       **recipe.search, n_train=recipe.n_train, readout=readout,
                       date=_dt.date.today().isoformat(),
                       machine=machine_description(device) + (", torch.compile" if compile else ""),
                       wall_s=round(time.perf_counter() - start, 1))
    return rows[list(COLUMNS)], baselines


def run_controls(datasets: Mapping, devices: Sequence[str], recipe: NASRecipe, seed: int,
                 refs: Mapping[tuple, Reference], device: str = "cpu", objectives: Callable = Objectives,
                 compile: bool = False) -> pd.DataFrame:
    """The same-information controls (:data:`CONTROLS`) of one seed on every (space, device), in :data:`COLUMNS`.

    Both see what AutoBuild-NAS sees: the first ``recipe.n_train`` labelled architectures, and
    ``recipe.budget`` true evaluations with seed ``seed``. *Predictor-NSGA-II* trains companion
    predictors of ``acc`` and each device's latency with the recipe's training (seed ``seed``) and
    searches the whole space on them (:func:`~autobuild.search.guided.predictor_guided_search`,
    :data:`SCREEN_FACTOR` surrogate evaluations per true one). *Ridge-Reduced* keeps, per label
    equation of the pair, the top ``recipe.k_nas`` subgraphs per unit of a one-hot additive ridge
    model (:class:`~autobuild.search.additive.AdditiveModel`) and searches their union like
    AutoBuild-NAS.
    """
    start = time.perf_counter()
    equations = imagenet.label_equations(datasets, devices, recipe.tradeoff_weights)
    surrogate_model, _ = CONTROLS["Predictor-NSGA-II"]
    config = TrainConfig(epochs=recipe.epochs, lr=recipe.lr, device=device, model=surrogate_model, seed=seed,
                         progress=False, compile=compile)
    rows = []
    for s, data in datasets.items():
        space = get_space(s)
        train_set = data.subset(np.arange(min(recipe.n_train, len(data))))
        targets = ["acc", *(f"latency_{d}" for d in devices)]
        table = GraphTable.from_architectures(space, train_set.archs)
        heads = dict(zip(targets, train_many(table, space.feature_vocab, [train_set.target(t) for t in targets],
                                             [config] * len(targets), space=space)))
        for d in devices:
            evaluate = objectives("acc", f"latency_{d}")

            def surrogate(archs, latency=f"latency_{d}"):
                return heads["acc"].predict(archs), heads[latency].predict(archs)

            guided = predictor_guided_search(layer_full(space), surrogate, evaluate, budget=recipe.budget,
                                             screen=SCREEN_FACTOR * recipe.budget, n_initial=recipe.n_initial,
                                             per_round=recipe.per_round, seed=seed)
            additive = [AdditiveModel(space, train_set.archs, train_set.target(eq), RIDGE).top_k(recipe.k_nas)
                        for eq in equations[(s, d)]]
            reduced = evolutionary_search(autobuild_nas(space, additive), evaluate, seed=seed,
                                          method="Ridge-Reduced", progress=False, **recipe.search)
            for result in (guided, reduced):
                model, readout = CONTROLS[result.method]
                rows.append({"space": s, "device": d, "method": result.method, "model": model, "readout": readout,
                             "seed": seed, "hv": result.hypervolume(refs[(s, d)]),
                             "architectures": result.space_size})
    out = pd.DataFrame(rows).assign(recipe=recipe.name, epochs=recipe.epochs, lr=recipe.lr, k_nas=recipe.k_nas,
                                    **recipe.search, n_train=recipe.n_train, date=_dt.date.today().isoformat(),
                                    machine=machine_description(device) + (", torch.compile" if compile else ""),
                                    wall_s=round(time.perf_counter() - start, 1))
    return out[list(COLUMNS)]


def method_of(model: str, readout: str) -> str | None:
    """``"paper"`` or ``"ours"`` for the (model, readout) of the two methods (:data:`METHOD_RUNS`);
    None for any other variant (e.g. the authors' network with the pooled readout)."""
    return next((m for m, run in METHOD_RUNS.items() if run == (model, readout)), None)


def comparison_differences(rows: pd.DataFrame) -> pd.DataFrame:
    """Every paired comparison of Fig. 5 (bottom), seed by seed: :data:`COMPARISON_COLUMNS`.

    Per (recipe, space, device), each *searcher* -- an AutoBuild-NAS run (model, readout) or a
    control of :data:`CONTROLS` -- meets its opponents by seed: ``d_i = HV_i(searcher) -
    HV_i(opponent)``. Every searcher meets the *best baseline* (of the paper's three, the highest
    mean HV over the seeds it is paired on); AutoBuild-NAS also meets each control and the
    *stronger control* (of the two, the higher mean HV over the paired seeds). The baselines do not
    depend on the predictors, so a recipe's baseline rows are pooled over its runs (one per seed).
    """
    searchers = ("AutoBuild-NAS", *CONTROLS)
    out = []
    for (recipe, s, d), part in rows.groupby(["recipe", "space", "device"], sort=False):
        pool = part[part.method.isin((*BASELINES, *CONTROLS))].drop_duplicates(["method", "seed"])
        opponents = pool.pivot_table(index="seed", columns="method", values="hv", aggfunc="first")
        for (model, readout, method), group in part[part.method.isin(searchers)].groupby(
                ["model", "readout", "method"], sort=False):
            mine = group.drop_duplicates("seed").set_index("seed")["hv"].rename("_mine")
            against = {"best baseline": BASELINES}
            if method == "AutoBuild-NAS":
                against.update({c: (c,) for c in CONTROLS}, **{"stronger control": tuple(CONTROLS)})
            for label, candidates in against.items():
                present = [c for c in candidates if c in opponents.columns]
                paired = opponents[present].join(mine, how="inner").dropna()
                if not present or paired.empty:
                    continue
                best = paired[present].mean().idxmax()
                out.append(pd.DataFrame({"recipe": recipe, "model": model, "readout": readout, "searcher": method,
                                         "space": s, "device": d, "against": label, "opponent": best,
                                         "seed": paired.index, "hv": paired["_mine"].to_numpy(),
                                         "hv_opponent": paired[best].to_numpy(),
                                         "difference": (paired["_mine"] - paired[best]).to_numpy()}))
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=COMPARISON_COLUMNS)


def comparisons(rows: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """:func:`comparison_differences` judged: per comparison with at least 2 paired seeds, the mean
    difference, its Student-t interval and verdict (*better*, *tie*, *worse*, or *too few seeds*
    below :data:`~autobuild.experiments.intervals.MIN_SEEDS`), in :data:`JUDGED_COLUMNS`."""
    keys = [c for c in COMPARISON_COLUMNS if c not in ("seed", "hv", "hv_opponent", "difference")]
    out = []
    for values, group in comparison_differences(rows).groupby(keys, sort=False):
        if len(group) < 2:
            continue
        ci = t_mean_interval(group["difference"], level=level)
        out.append({**dict(zip(keys, values)), "seeds": ci.n, "mean difference": ci.mean, "low": ci.low,
                    "high": ci.high, "verdict": ci.verdict, "opponent HV": float(group["hv_opponent"].mean())})
    return pd.DataFrame(out, columns=list(JUDGED_COLUMNS))


def strongest_baseline(rows: pd.DataFrame, baseline: str = "Layer-Insight", level: float = 0.95) -> pd.DataFrame:
    """Per recipe and pair: ``HV(baseline) - HV(the better of the other two baselines)``, paired by
    seed, with its t-interval and verdict (*better*: ``baseline`` is the strongest competitor). The
    baselines use no predictor, so a recipe's baseline rows are pooled over its runs."""
    if baseline not in BASELINES:
        raise ValueError(f"unknown baseline {baseline!r}; choose from {BASELINES}")
    columns = ["recipe", "space", "device", "baseline", "opponent", "seeds", "mean difference", "low", "high",
               "verdict", "opponent HV"]
    pool = rows[rows.method.isin(BASELINES)].drop_duplicates(["recipe", "space", "device", "method", "seed"])
    out = []
    for (recipe, s, d), part in pool.groupby(["recipe", "space", "device"], sort=False):
        hv = part.pivot_table(index="seed", columns="method", values="hv", aggfunc="first").dropna()
        others = [m for m in BASELINES if m != baseline and m in hv.columns]
        if baseline not in hv.columns or not others or len(hv) < 2:
            continue
        best = hv[others].mean().idxmax()
        ci = t_mean_interval(hv[baseline] - hv[best], level=level)
        out.append({"recipe": recipe, "space": s, "device": d, "baseline": baseline, "opponent": best,
                    "seeds": ci.n, "mean difference": ci.mean, "low": ci.low, "high": ci.high,
                    "verdict": ci.verdict, "opponent HV": float(hv[best].mean())})
    return pd.DataFrame(out, columns=columns)


def recipe_differences(rows: pd.DataFrame, first: str, second: str, level: float = 0.95) -> pd.DataFrame:
    """Per (model, readout, space, device) with at least 2 seeds of both: AutoBuild-NAS's hypervolume
    under recipe ``first`` minus under ``second``, paired by seed, with its t-interval and verdict
    (*better*: ``first`` leads)."""
    ab = rows[(rows.method == "AutoBuild-NAS") & rows.recipe.isin([first, second])]
    columns = ["model", "readout", "space", "device", "seeds", "mean difference", "low", "high", "verdict"]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    missing = [r for r in (first, second) if r not in set(ab.recipe)]
    if missing:
        raise ValueError(f"no AutoBuild-NAS rows of recipe(s) {missing}; stored: {sorted(set(rows.recipe))}")
    out = []
    for (model, readout, s, d), group in ab.groupby(["model", "readout", "space", "device"], sort=False):
        hv = group.pivot_table(index="seed", columns="recipe", values="hv", aggfunc="first")
        if first not in hv.columns or second not in hv.columns:
            continue
        paired = hv[[first, second]].dropna()
        if len(paired) < 2:
            continue
        ci = t_mean_interval(paired[first] - paired[second], level=level)
        out.append({"model": model, "readout": readout, "space": s, "device": d, "seeds": ci.n,
                    "mean difference": ci.mean, "low": ci.low, "high": ci.high, "verdict": ci.verdict})
    return pd.DataFrame(out, columns=columns)


def provenance(rows: pd.DataFrame) -> pd.DataFrame:
    """Per (recipe, model, readout): seeds stored, training and search settings, the first and last
    date, and the summed wall time in minutes (the two controls are one run: each row shows its time).
    The machines are :func:`machines`."""
    per_unit = rows.drop_duplicates(["recipe", "model", "readout", "seed"])
    return (per_unit.groupby(["recipe", "model", "readout"], sort=False)
            .agg(seeds=("seed", "nunique"), epochs=("epochs", "first"), lr=("lr", "first"), K=("k_nas", "first"),
                 budget=("budget", "first"),
                 dates=("date", lambda v: " to ".join(dict.fromkeys((min(map(str, v)), max(map(str, v)))))),
                 wall_min=("wall_s", lambda v: round(float(np.sum(v)) / 60, 1)))
            .rename(columns={"wall_min": "wall (min)"}))


def machines(rows: pd.DataFrame) -> str:
    """The machines the stored rows ran on, each once."""
    return "; ".join(sorted(set(map(str, rows["machine"])))) if len(rows) else "none"


def rows_of(nas: imagenet.NASComparison, model: str, recipe: str, readout: str = "pooled") -> pd.DataFrame:
    """The searches of a notebook run (:func:`~autobuild.experiments.imagenet.compare_nas`) as
    stored-run rows (space, device, method, model, readout, recipe, seed, hv), for the same statistics."""
    return nas.per_seed().assign(model=model, readout=readout, recipe=recipe)
