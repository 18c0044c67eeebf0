"""Predictor ensembles for few labels (paper Sec. 5.3): AutoBuild and Exhaustive Search.

With only 68 labelled architectures the paper trains an ensemble: 5 cross-validation folds
times ``seeds`` shuffles (``seeds=4`` -> 20 predictors), each member tested on its held-out fold.

* **AutoBuild**: members trained with Eq. 4 (hop-level ranking loss + MSE). Every stage
  subgraph gets, from every member, its Eq. 5-shifted embedding-norm score (see
  :mod:`autobuild.predictor.scoring`); the ensemble score is the average of the members' scores
  weighted by each member's held-out SRCC at that subgraph's hop level (negative SRCCs count
  as 0). An architecture scores the sum of its stage scores; the top-k are built directly.
* **Exhaustive Search (ES)**: members trained with MSE only; every architecture of the space
  is predicted by every member and the predictions are averaged with weights = each member's
  held-out SRCC of its predictions (negative -> 0); the top-k predictions are taken.

Labels are "higher is better" (SD-mini passes ``-FD``).

**Stages longer than the GNN's reach.** The members have 4 hops, but a U-Net stage has up to
14 nodes. Its score reads the *pooled* readout (:mod:`autobuild.predictor.scoring`): the L1
norm of the mean over **all** its nodes of their hop-4 embeddings, the functional Eq. 4 ranks
for whole graphs; every node, down-path attention included, enters it through the 5-node
window ending at it. (The root readout, the last node's hop-4 embedding, would see only the
stage's last 5 nodes.) We keep 4 hops rather than the paper's ``m = l - 1`` (13 hops here):
the per-stage tables of :func:`predict_space` would then span every earlier stage, i.e. the
whole space, and Eq. 5's hop moments would split over 13 levels of about 20 labelled stage
subgraphs each.
"""
from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from autobuild.graphs.table import GraphTable
from autobuild.predictor.scoring import SubgraphScorer
from autobuild.predictor.training import train_many
from autobuild.predictor.config import TrainConfig
from autobuild.predictor.trained import TrainedPredictor


# Member training for tens of labels (not the paper's 3k): one full-batch step per epoch on 4/5
# of 68, and a larger learning rate. Everything else is TrainConfig's default.
MEMBER_TRAINING = {"batch_size": 64, "lr": 3e-3, "progress": False}


@dataclass(frozen=True)
class EnsembleConfig:
    """``folds``-fold cross-validation, members trained with ``train`` (seed and loss set per member)."""

    folds: int = 5
    train: TrainConfig = field(default_factory=lambda: TrainConfig(**MEMBER_TRAINING))

    @classmethod
    def with_training(cls, folds: int = 5, **changes) -> "EnsembleConfig":
        """Members trained with :data:`MEMBER_TRAINING` updated by ``changes`` (any TrainConfig field)."""
        return cls(folds, TrainConfig(**{**MEMBER_TRAINING, **changes}))


def fold_splits(n: int, folds: int, seeds: int) -> list[tuple[int, int, np.ndarray, np.ndarray]]:
    """``(shuffle, fold, train_idx, test_idx)`` for ``seeds`` shuffles of ``folds``-fold CV."""
    if not isinstance(seeds, (int, np.integer)) or isinstance(seeds, bool) or seeds < 1:
        raise ValueError(f"seeds (number of shuffles of the {folds}-fold ensemble) must be a positive integer, got {seeds!r}")
    if folds < 2 or n < folds:
        raise ValueError(f"need 2 <= folds <= number of architectures, got folds={folds}, n={n}")
    out = []
    for s in range(int(seeds)):
        parts = np.array_split(np.random.default_rng(s).permutation(n), folds)
        for k in range(folds):
            out.append((s, k, np.sort(np.concatenate([p for j, p in enumerate(parts) if j != k])), np.sort(parts[k])))
    return out


def train_ensemble(space, archs, y, seeds: int, ranking_loss: bool, config: EnsembleConfig = EnsembleConfig(),
                   progress: bool = True) -> list[TrainedPredictor]:
    """``config.folds * seeds`` predictors, one per (shuffle, fold), each tested on its fold, trained at once."""
    archs, y = list(archs), np.asarray(y, dtype=np.float64)
    if len(archs) != len(y):
        raise ValueError(f"{len(archs)} architectures but {len(y)} labels")
    splits = fold_splits(len(y), config.folds, seeds)
    table = GraphTable.from_architectures(space, archs)
    configs = [replace(config.train, seed=1000 * s + k, ranking_loss=ranking_loss, progress=progress)
               for s, k, _, _ in splits]
    return train_many(table, space.feature_vocab, [y] * len(splits), configs,
                      splits=[(tr, te) for _, _, tr, te in splits], space=space)


def _weight(value: float) -> float:
    return max(float(value), 0.0) if np.isfinite(value) else 0.0


# AutoBuild --------------------------------------------------------------------------------
def autobuild_stage_scores(members: list[TrainedPredictor], archs, y) -> pd.DataFrame:
    """Every stage subgraph with its ensemble score (``score``) and the total hop-SRCC weight."""
    frames, weights = [], []
    for m in members:
        df = SubgraphScorer.from_data(m, archs, y).score_all()
        w = np.array([_weight(m.metrics["hop_srcc"][h]) for h in df["hop"]])
        frames.append(df["score"].to_numpy() * w)
        weights.append(w)
    total_w = np.sum(weights, axis=0)
    out = df[["stage", "index", "subgraph", "n_layers", "hop"]].copy()
    out["weight"] = total_w
    out["score"] = np.where(total_w > 0, np.sum(frames, axis=0) / np.where(total_w > 0, total_w, 1), np.nan)
    if out["score"].isna().any():
        bad = sorted(set(out.loc[out.score.isna(), "hop"]))
        raise ValueError(f"no ensemble member has a positive held-out SRCC at hop level(s) {bad}; "
                         "the labels carry no rankable signal for those subgraphs")
    return out


def top_by_stage_sum(space, stage_scores: pd.DataFrame, k: int = 4) -> list[tuple[float, object]]:
    """The ``k`` architectures with the highest summed stage scores (exact: sums are separable,
    so only the top-k subgraphs of every scoring unit can take part)."""
    per_stage = []
    for u in range(space.n_units):
        df = stage_scores[stage_scores.stage == u].nlargest(k, "score")
        per_stage.append(list(zip(df["score"], df["index"])))
    combos = [(sum(s for s, _ in c), [i for _, i in c]) for c in itertools.product(*per_stage)]
    best = heapq.nlargest(k, combos, key=lambda t: t[0])
    return [(float(s), space.build_units([space.unit_subgraphs(u)[i] for u, i in enumerate(idx)])) for s, idx in best]


# Exhaustive search ----------------------------------------------------------------------------
def predict_space(trained: TrainedPredictor, space, check: int = 128, chunk: int = 200_000) -> np.ndarray:
    """The head prediction of ``trained`` for every architecture of ``space``, in the order of
    ``space.all_choice_indices()``.

    Exact and fast for chain graphs: edges point forward and the model has ``n_hops`` layers,
    so a node's last-hop embedding depends only on itself and its ``n_hops`` predecessors. Each
    stage's summed node embeddings are computed once per (preceding tail, stage choice); an
    architecture's mean-pooled embedding is then a sum of table look-ups, and the head runs on
    it. A sample of ``check`` architectures is compared with :meth:`TrainedPredictor.predict`.
    """
    model, K = trained.model.eval(), trained.model.n_hops
    dev = next(model.parameters()).device
    U = space.n_stages
    rows = [[space.subgraph_features(u, sg) for sg in space.stage_subgraphs(u)] for u in range(U)]
    lens = [np.array([len(r) for r in rs]) for rs in rows]
    for u in range(2, U):
        if lens[u - 1].min() + lens[u - 2].min() < K:
            raise ValueError(f"stages {u - 2}-{u - 1} can be shorter than {K} nodes: predict_space needs a "
                             "deeper context; use TrainedPredictor.predict")
    sums, tails = [], []
    for u in range(U):
        if u == 0:
            contexts, tail_of = [np.zeros((0, rows[0][0].shape[1]), np.int64)], None
        else:  # the last K nodes before stage u, for every choice of the (up to) two stages before
            lo = max(0, u - 2)
            shape = [len(rows[v]) for v in range(lo, u)]
            keys, contexts, ids = {}, [], []
            for combo in itertools.product(*(range(n) for n in shape)):
                tail = np.concatenate([rows[v][c] for v, c in zip(range(lo, u), combo)])[-K:]
                key = tail.tobytes()
                if key not in keys:
                    keys[key] = len(contexts)
                    contexts.append(tail)
                ids.append(keys[key])
            tail_of = np.array(ids).reshape(shape)
        xs = [np.concatenate([ctx, r]) for ctx in contexts for r in rows[u]]
        table = GraphTable.from_arrays(xs).to(dev)
        with torch.no_grad():
            x, ei, batch, n = table.batch(torch.arange(len(table)))
            h = model.node_embeddings(x, ei)[-1]
        ptr = table.node_ptr.cpu().numpy()
        own = torch.as_tensor(np.concatenate([np.arange(ptr[g + 1] - lens[u][g % len(rows[u])], ptr[g + 1])
                                              for g in range(len(table))]), device=dev)
        seg = torch.repeat_interleave(torch.arange(len(table), device=dev),
                                      torch.as_tensor(np.tile(lens[u], len(contexts)), device=dev))
        s = torch.zeros(len(table), h.shape[1], device=dev).index_add_(0, seg, h[own])
        sums.append(s.reshape(len(contexts), len(rows[u]), -1))
        tails.append(None if tail_of is None else torch.as_tensor(tail_of, device=dev))

    idx = space.all_choice_indices()
    lens_t = [torch.as_tensor(n, device=dev) for n in lens]
    out = np.empty(len(idx))
    with torch.no_grad():
        for a in range(0, len(idx), chunk):
            c = torch.as_tensor(idx[a:a + chunk], device=dev)
            total = sums[0][0, c[:, 0]]
            n_nodes = lens_t[0][c[:, 0]].clone()
            for u in range(1, U):
                t = tails[u][tuple(c[:, v] for v in range(max(0, u - 2), u))]
                total = total + sums[u][t, c[:, u]]
                n_nodes += lens_t[u][c[:, u]]
            pred = model.head(total / n_nodes[:, None].to(total.dtype)).squeeze(1)
            out[a:a + chunk] = (pred * trained.y_std + trained.y_mean).cpu().numpy()
    if check:
        pick = np.random.default_rng(0).choice(len(idx), size=min(check, len(idx)), replace=False)
        ref = trained.predict([space.from_indices(idx[i]) for i in pick])
        if not np.allclose(out[pick], ref, rtol=1e-4, atol=1e-5 * max(1.0, abs(trained.y_std))):
            raise RuntimeError("predict_space disagrees with TrainedPredictor.predict (max error "
                               f"{np.abs(out[pick] - ref).max():.3g}); the model is not a forward chain GNN")
    return out


def exhaustive_scores(members: list[TrainedPredictor], space, progress: bool = True) -> np.ndarray:
    """ES: held-out-SRCC-weighted mean prediction of every architecture (``all_choice_indices`` order)."""
    w = np.array([_weight(m.metrics.get("srcc", np.nan)) for m in members])
    if w.sum() == 0:
        raise ValueError("no ES ensemble member has a positive held-out SRCC; nothing to weight by")
    total = np.zeros(space.size)
    for m, wj in tqdm(list(zip(members, w)), desc="ES: scoring the whole space", disable=not progress):
        if wj > 0:
            total += wj * predict_space(m, space)
    return total / w.sum()


def top_k_indices(scores: np.ndarray, k: int) -> np.ndarray:
    part = np.argpartition(-scores, k - 1)[:k]
    return part[np.argsort(-scores[part], kind="stable")]
