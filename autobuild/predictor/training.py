"""Training an AutoBuild predictor with the hop-level ranking loss (Eq. 4), and its metrics."""
from __future__ import annotations

import contextlib
import ctypes
import functools
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from scipy.stats import spearmanr
from tqdm.auto import tqdm

from autobuild.graphs.table import GraphTable
from autobuild.predictor.model import AutoBuildPredictor
from autobuild.predictor.variants import MODEL_KINDS, build_model, clip_gradients, ranking_term


@dataclass
class TrainConfig:
    """Hyper-parameters; the defaults are the paper code's."""

    epochs: int = 200
    batch_size: int = 128
    lr: float = 1e-4
    weight_decay: float = 1e-5
    test_fraction: float = 0.1
    seed: int = 0
    device: str = "cpu"
    ranking_loss: bool = True
    hidden: int = 32
    n_hops: int = 4
    fe_stop_gradient: bool = True
    rank_strength: float = 1.0
    cpu_threads: int = 1  # see cpu_threads(): one intra-op thread is fastest for these small graphs
    progress: bool = True
    #: predictor variant (autobuild.predictor.variants): "companion" (ours) or "authors" (their
    #: network, loss and gradient clipping; fe_stop_gradient does not apply to it)
    model: str = "companion"
    #: train_many only: run the stacked forward through ``torch.compile`` (fuses its element-wise
    #: operations; equal to eager up to float rounding; a one-off compile of ~20 s per graph shape).
    #: On a 2-core CPU it made ``authors`` 1.6x faster per epoch and ``companion``, whose hops have
    #: hand-written gradients (chain_ops), 2.2x slower
    compile: bool = False

    def __post_init__(self):
        import math
        import numbers
        import os

        def integer(v):
            return isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_))

        def real(v):  # a finite real number (every float parameter must be finite)
            return isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_)) and math.isfinite(v)

        max_threads = max(os.cpu_count() or 1, 1)
        checks = {  # parameter: (valid?, what it must be)
            "epochs": (integer(self.epochs) and self.epochs >= 1, "an integer >= 1"),
            "batch_size": (integer(self.batch_size) and self.batch_size >= 2, "an integer >= 2"),
            "lr": (real(self.lr) and self.lr > 0, "a finite number > 0"),
            "weight_decay": (real(self.weight_decay) and self.weight_decay >= 0, "a finite number >= 0"),
            "test_fraction": (real(self.test_fraction) and 0 <= self.test_fraction < 1, "a number in [0, 1)"),
            "seed": (integer(self.seed) and 0 <= self.seed < 2**32, "an integer in [0, 2**32)"),
            "hidden": (integer(self.hidden) and 1 <= self.hidden <= 4096, "an integer in [1, 4096]"),
            "n_hops": (integer(self.n_hops) and 1 <= self.n_hops <= 64, "an integer in [1, 64]"),
            "rank_strength": (real(self.rank_strength) and self.rank_strength > 0, "a finite number > 0"),
            "cpu_threads": (integer(self.cpu_threads) and 1 <= self.cpu_threads <= max_threads,
                            f"an integer in [1, {max_threads}] (this machine's CPU count)"),
            "ranking_loss": (isinstance(self.ranking_loss, (bool, np.bool_)), "True or False"),
            "fe_stop_gradient": (isinstance(self.fe_stop_gradient, (bool, np.bool_)), "True or False"),
            "progress": (isinstance(self.progress, (bool, np.bool_)), "True or False"),
            "compile": (isinstance(self.compile, (bool, np.bool_)), "True or False"),
            "device": (isinstance(self.device, str), "a string"),
            "model": (isinstance(self.model, str) and self.model in MODEL_KINDS, " or ".join(map(repr, MODEL_KINDS))),
        }
        bad = [k for k, (ok, _) in checks.items() if not ok]
        if bad:
            raise ValueError("impossible training parameter(s): " + ", ".join(
                f"{k}={str(repr(getattr(self, k)))[:40]} (must be {checks[k][1]})" for k in bad))
        self.device = resolve_device(self.device)

    def to_dict(self) -> dict:
        return asdict(self)


def resolve_device(device: str) -> str:
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device not in ("cpu", "cuda") and not device.startswith("cuda:"):
        raise ValueError(f"unknown device {device!r}; use 'cpu', 'cuda' or 'auto'")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} requested but torch sees no CUDA GPU")
    return device


@contextlib.contextmanager
def cpu_threads(config: "TrainConfig"):
    """Run with ``config.cpu_threads`` intra-op threads on the CPU (restored afterwards), with
    freed memory kept for reuse (:func:`keep_freed_memory`).

    The graphs are small: extra threads cost more in synchronisation than they save, and on
    a busy 2-core machine two threads were measured 5-10x slower than one.
    """
    threads = torch.get_num_threads()
    if config.device == "cpu":
        keep_freed_memory()
        torch.set_num_threads(config.cpu_threads)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@functools.cache
def keep_freed_memory() -> bool:
    """Ask glibc's allocator to keep freed memory for reuse instead of returning it to the OS.

    A training step allocates and frees the same few hundred MB of activations; by default glibc
    unmaps or trims them after every step, and the next step pays a page fault per 4 KiB to touch
    them again (measured: 1,500 faults and ~15% of a step for 20 stacked predictors on a 2-core
    CPU). Raising the mmap and trim thresholds keeps them mapped. Process-wide and idempotent; a
    no-op (returns False) where the C library is not glibc.
    """
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):   # not glibc (macOS, musl, Windows)
        return False
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
    return bool(mallopt(M_TRIM_THRESHOLD, 1 << 30) and mallopt(M_MMAP_THRESHOLD, 1 << 25))


def split_indices(n: int, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded random split into train and test indices."""
    perm = np.random.default_rng(seed).permutation(n)
    n_test = int(round(n * test_fraction))
    return np.sort(perm[n_test:]), np.sort(perm[:n_test])


def _srcc(a, b) -> float:
    if len(a) < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(spearmanr(a, b).statistic)


@dataclass
class TrainedPredictor:
    """A trained model with everything needed to predict and score later."""

    model: AutoBuildPredictor
    config: TrainConfig
    space: object | None
    y_mean: float
    y_std: float
    train_idx: np.ndarray
    test_idx: np.ndarray
    metrics: dict = field(default_factory=dict)
    history: list = field(default_factory=list)

    @torch.no_grad()
    def _run(self, table: GraphTable, chunk: int = 2048):
        """Head predictions (label scale), graph-embedding norms per hop, node-embedding norms per hop."""
        self.model.eval()
        dev = next(self.model.parameters()).device
        table = table.to(dev)
        preds, hop, nodes = [], [], []
        with cpu_threads(self.config):
            for s in range(0, len(table), chunk):
                idx = torch.arange(s, min(s + chunk, len(table)), device=dev)
                pred, node_embs, graph_embs = self.model(*table.batch(idx))
                preds.append(pred * self.y_std + self.y_mean)
                hop.append(torch.stack([g.abs().sum(1) for g in graph_embs], 1))
                nodes.append(torch.stack([h.abs().sum(1) for h in node_embs], 1))
        return (torch.cat(preds).cpu().numpy(), torch.cat(hop).cpu().numpy(), torch.cat(nodes).cpu().numpy())

    def table(self, archs) -> GraphTable:
        if self.space is None:
            raise ValueError("this predictor was trained on pre-built graphs; pass a GraphTable")
        return GraphTable.from_architectures(self.space, archs)

    def predict(self, archs) -> np.ndarray:
        return self._run(self.table(archs))[0]

    def hop_norms(self, archs) -> np.ndarray:
        """``||h_G^m||_1`` for every architecture (rows) and hop m = 0..M (columns)."""
        return self._run(self.table(archs))[1]

    def graph_norms_table(self, table: GraphTable) -> np.ndarray:
        """``||h_G^m||_1`` (mean-pooled) for every graph of the table (rows) and hop m (columns)."""
        return self._run(table)[1]

    def node_norms_table(self, table: GraphTable) -> np.ndarray:
        """``||h_v^m||_1`` for every node of the table (rows) and hop m (columns)."""
        return self._run(table)[2]

    def evaluate(self, table: GraphTable, y: np.ndarray, idx: np.ndarray) -> dict:
        """Test metrics: SRCC of each hop's graph-embedding norm, SRCC and MAE of the head."""
        pred, hop, _ = self._run(_subset(table, idx))
        y = np.asarray(y, dtype=np.float64)[idx]
        return {"hop_srcc": [_srcc(hop[:, m], y) for m in range(hop.shape[1])],
                "srcc": _srcc(pred, y), "mae": float(np.mean(np.abs(pred - y))), "n_test": int(len(idx))}


def _subset(table: GraphTable, idx) -> GraphTable:
    idx = torch.as_tensor(np.asarray(idx), dtype=torch.long)
    x, edge_index, batch, n = table.batch(idx)
    counts = table.n_nodes[idx]
    node_ptr = torch.cat([torch.zeros(1, dtype=torch.long), torch.cumsum(counts, 0)])
    e_counts = (table.edge_ptr[idx + 1] - table.edge_ptr[idx])
    edge_ptr = torch.cat([torch.zeros(1, dtype=torch.long), torch.cumsum(e_counts, 0)])
    e_graph = torch.repeat_interleave(torch.arange(n), e_counts)
    local_edges = edge_index - node_ptr[e_graph]
    return GraphTable(x, node_ptr, local_edges, edge_ptr)


def train_predictor(space, archs, y, config: TrainConfig | None = None,
                    train_idx=None, test_idx=None, path: str = "auto") -> TrainedPredictor:
    """Train on architectures of ``space`` with labels ``y`` (one float per architecture)."""
    table = GraphTable.from_architectures(space, archs)
    trained = train_predictor_on_table(table, space.feature_vocab, y, config, train_idx, test_idx, path=path)
    trained.space = space
    return trained


def check_labels(y, n_graphs: int) -> np.ndarray:
    """``y`` as float64, after refusing a wrong length, NaN or infinite values and zero spread."""
    y = np.asarray(y, dtype=np.float64)
    if y.ndim != 1 or len(y) != n_graphs:
        raise ValueError(f"need one label per graph: {n_graphs} graphs, labels of shape {y.shape}")
    if not np.isfinite(y).all():
        raise ValueError(f"{int((~np.isfinite(y)).sum())} labels are NaN or infinite; clean the target first")
    if len(y) and np.ptp(y) == 0:
        raise ValueError(f"every label is {y[0]!r}: a target with zero spread has nothing to rank "
                         "(a constant equation, duplicated architectures, or a column cast to one value?)")
    return y


def train_predictor_on_table(table: GraphTable, feature_vocab: dict, y, config: TrainConfig | None = None,
                             train_idx=None, test_idx=None, path: str = "auto") -> TrainedPredictor:
    """Train on pre-built graphs (e.g. op-level IR graphs). See :func:`train_predictor`.

    ``path``: ``"dense"`` trains through :mod:`autobuild.predictor.batched`'s dense chain path
    (chain graphs only), ``"pyg"`` through PyG's message passing (the reference, and the path for
    any other graph); ``"auto"`` takes the dense path whenever every graph is a chain.
    """
    from autobuild.predictor.batched import is_chain_table, train_many

    if path not in ("auto", "dense", "pyg"):
        raise ValueError(f"unknown training path {path!r}; use 'auto', 'dense' or 'pyg'")
    config = config or TrainConfig()
    y = check_labels(y, len(table))
    if train_idx is None:
        train_idx, test_idx = split_indices(len(y), config.test_fraction, config.seed)
    train_idx = np.asarray(train_idx, dtype=np.int64)
    test_idx = np.asarray(test_idx if test_idx is not None else [], dtype=np.int64)
    if len(train_idx) < 2:
        raise ValueError(f"need at least 2 training graphs, got {len(train_idx)}")
    if path == "dense" or (path == "auto" and is_chain_table(table)):
        return train_many(table, feature_vocab, [y], [config], [(train_idx, test_idx)])[0]
    with cpu_threads(config):
        return _fit(table, feature_vocab, y, config, train_idx, test_idx)


def _fit(table, feature_vocab, y, config, train_idx, test_idx) -> TrainedPredictor:
    torch.manual_seed(config.seed)
    dev = torch.device(config.device)
    model = build_model(config, feature_vocab).to(dev)
    rank_loss = ranking_term(config.model)
    y_mean, y_std = float(y[train_idx].mean()), float(y[train_idx].std() or 1.0)
    y_t = torch.as_tensor((y - y_mean) / y_std, dtype=torch.float32, device=dev)
    dtable = table.to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay,
                            fused=True)
    gen = torch.Generator().manual_seed(config.seed)
    train_t = torch.as_tensor(train_idx)
    history = []
    for _ in tqdm(range(config.epochs), desc="training", disable=not config.progress, leave=False):
        model.train()
        perm = train_t[torch.randperm(len(train_t), generator=gen)].to(dev)
        total, steps = 0.0, 0
        for s in range(0, len(perm), config.batch_size):
            idx = perm[s:s + config.batch_size]
            if len(idx) < 2:
                continue
            pred, _, graph_embs = model(*dtable.batch(idx))
            target = y_t[idx]
            loss = torch.nn.functional.mse_loss(pred, target)
            if config.ranking_loss:
                loss = loss + rank_loss(graph_embs, target, config.rank_strength)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            clip_gradients(config.model, model)
            opt.step()
            total += float(loss.detach())
            steps += 1
        history.append(total / max(steps, 1))
    trained = TrainedPredictor(model.eval(), config, None, y_mean, y_std, train_idx, test_idx, history=history)
    if len(test_idx):
        trained.metrics = trained.evaluate(table, y, test_idx)
    return trained
