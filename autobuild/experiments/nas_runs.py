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
spaces of a one-hot additive ridge model.
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
GROUP = ["recipe", "model", "readout", "space", "device"]
DIFFERENCE_COLUMNS = (*GROUP, "seed", "best_baseline", "hv_autobuild", "hv_baseline", "difference")
VERDICT_COLUMNS = (*GROUP, "best baseline", "seeds", "mean difference", "low", "high", "verdict")
CONTROL_COLUMNS = (*GROUP, "control", "seeds", "mean difference", "low", "high", "verdict")


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


def paired_differences(rows: pd.DataFrame) -> pd.DataFrame:
    """Per (recipe, model, readout, space, device, seed): ``d = HV(AutoBuild-NAS) - HV(best baseline)``.

    The best baseline of a (recipe, model, readout, space, device) is the paper's baseline with the
    highest mean hypervolume over the seeds; only seeds holding AutoBuild-NAS and that baseline
    count. The controls' rows are left out (:func:`control_differences`). No rows give an empty frame.
    """
    rows = rows[rows.method.isin(("AutoBuild-NAS", *BASELINES))]
    out = []
    for (recipe, model, readout, s, d), group in rows.groupby(GROUP, sort=False):
        hv = group.pivot_table(index="seed", columns="method", values="hv", aggfunc="first")
        present = [m for m in BASELINES if m in hv.columns]
        if "AutoBuild-NAS" not in hv.columns or not present:
            raise ValueError(f"{recipe}/{model}/{readout}/{s}-{d}: AutoBuild-NAS and at least one baseline are needed")
        best = hv[present].mean().idxmax()
        paired = hv[["AutoBuild-NAS", best]].dropna()
        out.append(pd.DataFrame({"recipe": recipe, "model": model, "readout": readout, "space": s, "device": d,
                                 "seed": paired.index, "best_baseline": best,
                                 "hv_autobuild": paired["AutoBuild-NAS"].to_numpy(),
                                 "hv_baseline": paired[best].to_numpy(),
                                 "difference": (paired["AutoBuild-NAS"] - paired[best]).to_numpy()}))
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=DIFFERENCE_COLUMNS)


def paired_verdicts(rows: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Per (recipe, model, readout, space, device) with at least 2 paired seeds: the mean paired
    difference, its t-interval, the number of seeds and the verdict (*better*, *tie*, *worse*, or
    *too few seeds* below :data:`~autobuild.experiments.intervals.MIN_SEEDS`)."""
    diffs = paired_differences(rows)
    out = []
    for (*keys, best), group in diffs.groupby([*GROUP, "best_baseline"], sort=False):
        if len(group) < 2:
            continue
        ci = t_mean_interval(group["difference"], level=level)
        out.append({**dict(zip(GROUP, keys)), "best baseline": best, "seeds": ci.n, "mean difference": ci.mean,
                    "low": ci.low, "high": ci.high, "verdict": ci.verdict})
    return pd.DataFrame(out, columns=list(VERDICT_COLUMNS))


def control_differences(rows: pd.DataFrame) -> pd.DataFrame:
    """Per AutoBuild-NAS run and control of :data:`CONTROLS`, paired by (recipe, space, device,
    seed): ``d = HV(AutoBuild-NAS) - HV(control)``."""
    ab = rows[rows.method == "AutoBuild-NAS"]
    out = []
    for control in CONTROLS:
        theirs = rows[rows.method == control][["recipe", "space", "device", "seed", "hv"]]
        paired = ab.merge(theirs.rename(columns={"hv": "hv_control"}), on=["recipe", "space", "device", "seed"])
        out.append(paired.assign(control=control, difference=paired.hv - paired.hv_control)
                   [[*GROUP, "seed", "control", "hv", "hv_control", "difference"]])
    return pd.concat(out, ignore_index=True)


def control_verdicts(rows: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Per AutoBuild-NAS run (recipe, model, readout, space, device) and control with at least 2
    paired seeds: the mean of ``HV(AutoBuild-NAS) - HV(control)``, its t-interval and verdict."""
    out = []
    for (*keys, control), group in control_differences(rows).groupby([*GROUP, "control"], sort=False):
        if len(group) < 2:
            continue
        ci = t_mean_interval(group["difference"], level=level)
        out.append({**dict(zip(GROUP, keys)), "control": control, "seeds": ci.n, "mean difference": ci.mean,
                    "low": ci.low, "high": ci.high, "verdict": ci.verdict})
    return pd.DataFrame(out, columns=list(CONTROL_COLUMNS))


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
    """Per (recipe, model, readout): seeds stored, dates, machines and the summed wall time in minutes."""
    per_unit = rows.drop_duplicates(["recipe", "model", "readout", "seed"])
    return (per_unit.groupby(["recipe", "model", "readout"], sort=False)
            .agg(seeds=("seed", "nunique"), epochs=("epochs", "first"), lr=("lr", "first"), k_nas=("k_nas", "first"),
                 budget=("budget", "first"), dates=("date", lambda v: ", ".join(sorted(set(map(str, v))))),
                 machine=("machine", lambda v: ", ".join(sorted(set(map(str, v))))),
                 wall_min=("wall_s", lambda v: round(float(np.sum(v)) / 60, 1)))
            .reset_index())


def rows_of(nas: imagenet.NASComparison, model: str, recipe: str, readout: str = "pooled") -> pd.DataFrame:
    """The searches of a notebook run (:func:`~autobuild.experiments.imagenet.compare_nas`) as
    stored-run rows (space, device, method, model, readout, recipe, seed, hv), for the same statistics."""
    return nas.per_seed().assign(model=model, readout=readout, recipe=recipe)
