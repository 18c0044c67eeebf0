"""Training settings: :class:`TrainConfig` (the one home of training defaults) and the CPU's threads."""
from __future__ import annotations

import contextlib
import ctypes
import functools
from dataclasses import asdict, dataclass

import numpy as np
import torch

from autobuild.predictor.variants import MODEL_KINDS, is_kind


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
    cpu_threads: int = 1  #: intra-op threads on the CPU (see :func:`cpu_threads`)
    progress: bool = True
    #: predictor variant (autobuild.predictor.variants): "companion" (ours) or "authors" (their
    #: network, loss and gradient clipping; fe_stop_gradient does not apply to it)
    model: str = "companion"
    #: dense chain engine only: run the stacked forward through ``torch.compile`` (fuses its
    #: element-wise operations; equal to eager up to float rounding; compiled once per graph shape).
    #: It pays where element-wise work dominates (``authors``), not where the hops have hand-written
    #: gradients (``companion``): ``benchmarks/bench_training.py --compile`` measures both
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
            "model": (is_kind(self.model), " or ".join(map(repr, MODEL_KINDS))),
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

    The graphs are small: extra threads can cost more in synchronisation than they save, most of
    all on a machine that runs other work (``make book`` runs two kernels at once).
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
    them again. Raising the mmap and trim thresholds keeps them mapped. Process-wide and idempotent; a
    no-op (returns False) where the C library is not glibc.
    """
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):   # not glibc (macOS, musl, Windows)
        return False
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
    return bool(mallopt(M_TRIM_THRESHOLD, 1 << 30) and mallopt(M_MMAP_THRESHOLD, 1 << 25))
