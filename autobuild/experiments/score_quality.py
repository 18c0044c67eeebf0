"""How good are the module scores? Scorers of unit subgraphs against the oracle's true marginals.

The labels of our sets come from oracles (OFA's accuracy predictor, the authors' predictors), so
the true marginal effect of every unit subgraph is computable
(:func:`autobuild.evaluators.marginals.true_marginals`). This module compares *scorers* with it:

* ``eq5 <readout> (<model>)``: AutoBuild's norm scores (Eq. 5,
  :class:`~autobuild.predictor.scoring.SubgraphScorer`), readout ``pooled`` (the companion's
  default) or ``root`` (the paper's), for the predictor variants ``companion`` and ``authors``;
* ``head (<model>)``: head marginals, the same predictors' predictions averaged over random
  contexts (drawn independently of the oracle's) with the subgraph inserted;
* ``additive``: a ridge fit on the labelled set of one effect per (unit, depth) and per
  (unit, position, block); a subgraph's score is the sum of its effects;
* ``ensembleN <readout> (<model>)``: the mean of Eq. 5 scores over the N trained seeds (the
  paper ensembles 20 predictors in Sec. 5.3); with at least 4 seeds also two ensembles of
  disjoint halves of the seeds (``ensembleN/2``, "seeds" 0 and 1), whose agreement is the
  ensemble's own seed stability.

Measures per unit (each also within the subgraphs of one depth): Spearman with the true marginal,
overlap of the top-``k`` sets (``k = 25``), and the top-1 regret ``max_s m(s) - m(argmax score)``
in label units. Seed stability: per unit and pair of seeds, Spearman, top-``k`` overlap and
whether the top-1 agrees. Uncertainty: the spread over seeds, the truth's own noise (the same
measure against the two halves of the contexts) and a bootstrap over units for the means.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from autobuild.evaluators.marginals import predictor_oracle, true_marginals
from autobuild.graphs.table import GraphTable
from autobuild.predictor import TrainConfig, train_many
from autobuild.predictor.scoring import SubgraphScorer
from autobuild.stats import spearman, top1_regret, top_k_overlap


# The truth -----------------------------------------------------------------------------------
@dataclass
class Truth:
    """True marginals (``stage, index, subgraph, n_layers, marginal, half_a, half_b``) and their noise."""

    marginals: pd.DataFrame
    noise: pd.DataFrame
    oracle: str
    n_contexts: int


def select_subgraphs(space, unit: int, all_up_to: int | None = None, n_sample: int | None = None,
                     seed: int = 0) -> np.ndarray:
    """Indices of the subgraphs to evaluate: all of depth <= ``all_up_to`` plus ``n_sample`` random deeper ones.

    ``all_up_to=None`` or ``n_sample=None`` keeps every subgraph of the unit.
    """
    depths = np.array([len(s) for s in space.unit_subgraphs(unit)])
    idx = np.arange(len(depths))
    if all_up_to is None or n_sample is None:
        return idx
    deep = idx[depths > all_up_to]
    rng = np.random.default_rng([seed, unit])
    picked = rng.choice(deep, size=min(n_sample, len(deep)), replace=False) if len(deep) else deep
    return np.sort(np.concatenate([idx[depths <= all_up_to], picked]))


def noise_table(marginals: pd.DataFrame, k: int = 25) -> pd.DataFrame:
    """Per unit, how well the two context halves of the truth agree (its own noise)."""
    rows = []
    for u, d in marginals.groupby("stage"):
        diff = (d.half_a - d.half_a.mean()) - (d.half_b - d.half_b.mean())
        rows.append({"stage": int(u), "n_subgraphs": len(d), "spread_sd": float(d.marginal.std()),
                     "halves_spearman": spearman(d.half_a, d.half_b),
                     "halves_top_overlap": top_k_overlap(d.half_a, d.half_b, k),
                     "halves_same_top1": bool(d.half_a.values.argmax() == d.half_b.values.argmax()),
                     "se_marginal": float(diff.std() / 2)})
    return pd.DataFrame(rows)


def compute_truth(space, oracle, n_contexts: int = 32, all_up_to: int | None = None, n_sample: int | None = None,
                  seed: int = 0, batch_size: int = 8192, progress: bool = True, name: str | None = None) -> Truth:
    """True marginals of the selected subgraphs of every unit (see :func:`select_subgraphs`)."""
    frames = [true_marginals(space, oracle, u, select_subgraphs(space, u, all_up_to, n_sample, seed),
                             n_contexts, seed, batch_size, progress) for u in range(space.n_units)]
    marginals = pd.concat(frames, ignore_index=True)
    return Truth(marginals, noise_table(marginals), name or getattr(oracle, "__name__", "oracle"), n_contexts)


# Predictors ----------------------------------------------------------------------------------
def train_predictors(labelled, target: str, config: TrainConfig, models=("companion", "authors"),
                     seeds: int = 4) -> dict:
    """``{model: [TrainedPredictor per seed]}``: ``config`` with each ``model`` and seeds 0..seeds-1,
    every variant's seeds trained at once (``train_many``)."""
    y = labelled.target(target)
    table = GraphTable.from_architectures(labelled.space, labelled.archs)
    out = {}
    for model in models:
        configs = [replace(config, model=model, seed=s) for s in range(seeds)]
        out[model] = train_many(table, labelled.space.feature_vocab, [y] * seeds, configs, space=labelled.space)
    return out


def predictor_metrics(predictors: dict) -> pd.DataFrame:
    """Test SRCC and MAE of the head of every trained predictor."""
    return pd.DataFrame([{"model": m, "seed": t.config.seed, "test_srcc": t.metrics.get("srcc"),
                          "test_mae": t.metrics.get("mae")} for m, ts in predictors.items() for t in ts])


# Scorers -------------------------------------------------------------------------------------
def _keep(frame: pd.DataFrame, truth: Truth) -> pd.DataFrame:
    return frame.merge(truth.marginals[["stage", "index"]], on=["stage", "index"])


def eq5_scores(trained, archs, y, readout: str, truth: Truth) -> pd.DataFrame:
    """Eq. 5 scores (``stage, index, score``) of the truth's subgraphs."""
    scorer = SubgraphScorer.from_data(trained, archs, y, readout=readout)
    return _keep(scorer.score_all()[["stage", "index", "score"]], truth)


def head_scores(trained, truth: Truth, n_contexts: int, seed: int, progress: bool = False) -> pd.DataFrame:
    """Head marginals: the predictor as the oracle, over ``n_contexts`` contexts of its own ``seed``."""
    oracle = predictor_oracle(trained)
    frames = [true_marginals(trained.space, oracle, int(u), d["index"].values, n_contexts, seed,
                             progress=progress)[["stage", "index", "marginal"]]
              for u, d in truth.marginals.groupby("stage")]
    return pd.concat(frames, ignore_index=True).rename(columns={"marginal": "score"})


def _additive_keys(space, arch) -> list:
    keys = []
    for u in range(space.n_units):
        sg = space.arch_unit(arch, u)
        keys.append(("depth", u, len(sg)))
        keys += [("block", u, p, space.subgraph_label((layer,))) for p, layer in enumerate(sg)]
    return keys


def fit_additive(space, archs, y, ridge: float = 1.0) -> dict:
    """Ridge fit of ``y`` on one-hot (unit, depth) and (unit, position, block) effects: ``{key: effect}``."""
    rows = [_additive_keys(space, a) for a in archs]
    vocab = {k: i for i, k in enumerate(sorted({k for r in rows for k in r}, key=str))}
    X = np.zeros((len(rows), len(vocab)))
    for i, r in enumerate(rows):
        X[i, [vocab[k] for k in r]] = 1.0
    y = np.asarray(y, float)
    Xc = X - X.mean(0)
    coef = np.linalg.solve(Xc.T @ Xc + ridge * np.eye(len(vocab)), Xc.T @ (y - y.mean()))
    return {k: float(coef[i]) for k, i in vocab.items()}


def additive_scores(space, archs, y, truth: Truth, ridge: float = 1.0) -> pd.DataFrame:
    """Scores of the truth's subgraphs under :func:`fit_additive` (unseen keys count 0)."""
    effects = fit_additive(space, archs, y, ridge)
    rows = []
    for u, d in truth.marginals.groupby("stage"):
        subgraphs = space.unit_subgraphs(int(u))
        for i in d["index"].values:
            sg = subgraphs[i]
            s = effects.get(("depth", int(u), len(sg)), 0.0)
            s += sum(effects.get(("block", int(u), p, space.subgraph_label((layer,))), 0.0) for p, layer in enumerate(sg))
            rows.append({"stage": int(u), "index": int(i), "score": s})
    return pd.DataFrame(rows)


def collect_scores(predictors: dict, labelled, target: str, truth: Truth, readouts=("pooled", "root"),
                   head_contexts: int = 0, head_seeds: int = 1, head_seed: int = 10_000,
                   ensemble: bool = True, additive: bool = True) -> pd.DataFrame:
    """Every scorer's scores as one long frame: ``scorer, seed, stage, index, score``.

    ``head_contexts = 0`` skips the head marginals; ``head_seeds`` of each variant get them.
    """
    archs, y = labelled.archs, labelled.target(target)
    frames = []
    for model, trained in predictors.items():
        for readout in readouts:
            per_seed = [eq5_scores(t, archs, y, readout, truth).assign(seed=t.config.seed) for t in trained]
            name = f"eq5 {readout} ({model})"
            frames += [f.assign(scorer=name) for f in per_seed]
            if ensemble and len(per_seed) > 1:
                mean = pd.concat(per_seed).groupby(["stage", "index"], as_index=False).score.mean()
                frames.append(mean.assign(seed=-1, scorer=f"ensemble{len(per_seed)} {readout} ({model})"))
            if ensemble and len(per_seed) >= 4:  # two ensembles of disjoint seeds: their stability
                half = len(per_seed) // 2
                for g, group in enumerate((per_seed[:half], per_seed[half:2 * half])):
                    mean = pd.concat(group).groupby(["stage", "index"], as_index=False).score.mean()
                    frames.append(mean.assign(seed=g, scorer=f"ensemble{half} {readout} ({model})"))
        if head_contexts:
            for t in trained[:head_seeds]:
                frames.append(head_scores(t, truth, head_contexts, head_seed + t.config.seed)
                              .assign(seed=t.config.seed, scorer=f"head ({model})"))
    if additive:
        frames.append(additive_scores(labelled.space, archs, y, truth).assign(seed=-1, scorer="additive"))
    return pd.concat(frames, ignore_index=True)[["scorer", "seed", "stage", "index", "score"]]


# Quality against the truth -------------------------------------------------------------------
@dataclass
class Quality:
    """``per_seed``: every scorer x seed x unit x depth (``"all"`` or a number of layers);
    ``per_unit``: over seeds (mean, seed sd, truth-noise sd); ``summary``: mean over units with a
    bootstrap sd over units and the sd over seeds."""

    per_seed: pd.DataFrame
    per_unit: pd.DataFrame
    summary: pd.DataFrame
    label_scale: float = 1.0
    k: int = 25


MEASURES = ("spearman", "overlap", "regret")


def _measures(score, truth, k):
    return {"spearman": spearman(score, truth), "overlap": top_k_overlap(score, truth, k),
            "regret": top1_regret(score, truth)}


def quality(truth: Truth, scores: pd.DataFrame, k: int = 25, label_scale: float = 1.0,
            n_boot: int = 1000, seed: int = 0) -> Quality:
    """Spearman, top-``k`` overlap and top-1 regret (times ``label_scale``) of every scorer per unit."""
    merged = scores.merge(truth.marginals, on=["stage", "index"])
    rows = []
    for (name, s, u), d in merged.groupby(["scorer", "seed", "stage"], sort=False):
        for depth, e in [("all", d), *((int(l), g) for l, g in d.groupby("n_layers"))]:
            r = {"scorer": name, "seed": int(s), "stage": int(u), "depth": str(depth)}
            m = _measures(e.score.values, e.marginal.values, k)
            ma = _measures(e.score.values, e.half_a.values, k)
            mb = _measures(e.score.values, e.half_b.values, k)
            for key in MEASURES:
                scale = label_scale if key == "regret" else 1.0
                r[key] = m[key] * scale
                r[f"{key}_truth_sd"] = abs(ma[key] - mb[key]) * scale / 2
            rows.append(r)
    per_seed = pd.DataFrame(rows)
    agg = {}
    for key in MEASURES:
        agg[key] = (key, "mean")
        agg[f"{key}_seed_sd"] = (key, lambda v: float(np.std(v, ddof=1)) if len(v) > 1 else 0.0)
        agg[f"{key}_truth_sd"] = (f"{key}_truth_sd", "mean")
    per_unit = per_seed.groupby(["scorer", "depth", "stage"], sort=False).agg(**agg).reset_index()
    per_unit["n_seeds"] = per_seed.groupby(["scorer", "depth", "stage"], sort=False).size().values
    rng = np.random.default_rng(seed)
    rows = []
    for (name, depth), d in per_unit.groupby(["scorer", "depth"], sort=False):
        r = {"scorer": name, "depth": depth, "n_units": len(d)}
        seeds_frame = per_seed[(per_seed.scorer == name) & (per_seed.depth == depth)]
        for key in MEASURES:
            v = d[key].values
            boot = v[rng.integers(0, len(v), size=(n_boot, len(v)))].mean(1)
            over_seeds = seeds_frame.groupby("seed")[key].mean()
            r[key] = float(v.mean())
            r[f"{key}_boot_sd"] = float(boot.std())
            r[f"{key}_seed_sd"] = float(over_seeds.std(ddof=1)) if len(over_seeds) > 1 else 0.0
        rows.append(r)
    return Quality(per_seed, per_unit, pd.DataFrame(rows), label_scale, k)


def pm(mean, sd, digits: int = 2) -> str:
    """``"mean ± sd"`` rounded."""
    return f"{mean:.{digits}f} ± {sd:.{digits}f}"


def quality_table(q: Quality, depth: str = "all", digits: int = 2) -> pd.DataFrame:
    """Per unit and scorer: ``mean ± u`` of each measure, u = sqrt(seed sd^2 + truth-noise sd^2); last row the mean."""
    d = q.per_unit[q.per_unit.depth == depth]
    rows = []
    for _, r in d.iterrows():
        row = {"scorer": r.scorer, "stage": str(r.stage)}
        for key in MEASURES:
            row[key] = pm(r[key], np.hypot(r[f"{key}_seed_sd"], r[f"{key}_truth_sd"]), 1 if key == "overlap" else digits)
        rows.append(row)
    for _, r in q.summary[q.summary.depth == depth].iterrows():
        row = {"scorer": r.scorer, "stage": "mean"}
        for key in MEASURES:
            row[key] = pm(r[key], np.hypot(r[f"{key}_boot_sd"], r[f"{key}_seed_sd"]), 1 if key == "overlap" else digits)
        rows.append(row)
    out = pd.DataFrame(rows)
    return out.pivot(index="scorer", columns="stage", values=list(MEASURES)).reindex(d.scorer.unique())


# Seed stability ------------------------------------------------------------------------------
@dataclass
class Stability:
    """``pairs``: scorer x unit x seed pair; ``summary``: per scorer, mean and sd over pairs and units.
    The row ``true marginal (halves)`` compares the truth's two context halves, for scale."""

    pairs: pd.DataFrame
    summary: pd.DataFrame
    k: int = 25


def stability(scores: pd.DataFrame, truth: Truth | None = None, k: int = 25) -> Stability:
    """Across the seeds of every seeded scorer: Spearman, top-``k`` overlap, top-1 agreement per unit."""
    rows = []
    seeded = scores[scores.seed >= 0]
    for (name, u), d in seeded.groupby(["scorer", "stage"], sort=False):
        wide = d.pivot(index="index", columns="seed", values="score")
        for a, b in itertools.combinations(wide.columns, 2):
            rows.append({"scorer": name, "stage": int(u), "seed_a": int(a), "seed_b": int(b),
                         "spearman": spearman(wide[a], wide[b]), "overlap": top_k_overlap(wide[a], wide[b], k),
                         "same_top1": bool(wide[a].values.argmax() == wide[b].values.argmax())})
    if truth is not None:
        for u, d in truth.marginals.groupby("stage"):
            rows.append({"scorer": "true marginal (halves)", "stage": int(u), "seed_a": 0, "seed_b": 1,
                         "spearman": spearman(d.half_a, d.half_b), "overlap": top_k_overlap(d.half_a, d.half_b, k),
                         "same_top1": bool(d.half_a.values.argmax() == d.half_b.values.argmax())})
    pairs = pd.DataFrame(rows, columns=["scorer", "stage", "seed_a", "seed_b", "spearman", "overlap", "same_top1"])
    summary = pairs.groupby("scorer", sort=False).agg(
        n_pairs=("spearman", "size"), spearman=("spearman", "mean"), spearman_sd=("spearman", "std"),
        overlap=("overlap", "mean"), overlap_sd=("overlap", "std"), same_top1=("same_top1", "mean")).reset_index()
    return Stability(pairs, summary, k)
