"""Training settings: :class:`TrainConfig` (the one home of training defaults) and the CPU's threads.

Threads on the CPU (:func:`resolve_threads`): a predictor trained alone runs on one thread (its
operations are too small to share: on 2 cores, 2 threads made one predictor 1.7x slower); predictors
trained at once (one stacked computation) use every CPU this process may use,
:func:`available_cpus`. ``TrainConfig.cpu_threads`` overrides both; the environment variable
:data:`THREADS_ENV` sets the share of a process that runs beside others (``make book`` gives each of
its kernels ``cpus // jobs``).
"""
from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import re
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
    #: intra-op threads on the CPU; None: automatic (1 for a predictor alone, :func:`available_cpus`
    #: for predictors trained at once; see :func:`resolve_threads`)
    cpu_threads: int | None = None
    progress: bool = True
    #: predictor variant (autobuild.predictor.variants): "companion" (ours) or "authors" (their
    #: network, loss and gradient clipping; fe_stop_gradient does not apply to it)
    model: str = "companion"
    #: dense chain engine only: run the stacked forward through ``torch.compile`` (equal to eager up
    #: to float rounding; compiled once per process). Both variants' hops have hand-written
    #: gradients, so it seldom pays: ``benchmarks/bench_training.py --compile`` measures it
    compile: bool = False

    def __post_init__(self):
        import math
        import numbers

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
            "cpu_threads": (self.cpu_threads is None
                            or integer(self.cpu_threads) and 1 <= self.cpu_threads <= max_threads,
                            f"None (automatic) or an integer in [1, {max_threads}] (this machine's CPU count)"),
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


#: environment variable: the CPU threads this process may use (default: the CPUs it may run on)
THREADS_ENV = "AUTOBUILD_CPU_THREADS"


def available_cpus() -> int:
    """The CPU threads this process may use: :data:`THREADS_ENV` when set (an integer in
    [1, the machine's CPU count]; anything else is refused, naming the variable), else the CPUs the
    process may run on (its affinity mask where the OS has one, else the CPU count)."""
    raw = os.environ.get(THREADS_ENV)
    if raw is not None:
        limit = max(os.cpu_count() or 1, 1)
        if not re.fullmatch(r"\s*[0-9]+\s*", raw) or not 1 <= int(raw) <= limit:
            raise ValueError(f"environment variable {THREADS_ENV}={raw[:40]!r} must be an integer in [1, {limit}] "
                             "(this machine's CPU count), or be unset (then: every CPU this process may use)")
        return int(raw)
    if hasattr(os, "sched_getaffinity"):
        return max(len(os.sched_getaffinity(0)), 1)
    return max(os.cpu_count() or 1, 1)


def use_threads(threads: int) -> None:
    """Run this process's torch work on ``threads`` CPU threads, the training of many predictors at
    once included (:data:`THREADS_ENV`, capped at the machine's CPUs): for scripts given ``--threads``."""
    torch.set_num_threads(threads)
    os.environ[THREADS_ENV] = str(min(threads, max(os.cpu_count() or 1, 1)))


def resolve_threads(config: "TrainConfig", n_models: int = 1) -> int:
    """Intra-op CPU threads for ``n_models`` predictors of ``config`` trained (or evaluated) at once:
    ``config.cpu_threads`` when given; else 1 for one predictor (its operations are too small to
    gain from threads, which cost synchronisation), :func:`available_cpus` for several."""
    if isinstance(n_models, bool) or not isinstance(n_models, int) or n_models < 1:
        raise ValueError(f"n_models must be an integer >= 1, got {n_models!r}")
    if config.cpu_threads is not None:
        return config.cpu_threads
    return 1 if n_models == 1 else available_cpus()


@contextlib.contextmanager
def cpu_threads(config: "TrainConfig", n_models: int = 1):
    """Run ``n_models`` predictors of ``config`` with :func:`resolve_threads` intra-op threads on
    the CPU (torch's thread count is restored afterwards), with freed memory kept for reuse
    (:func:`keep_freed_memory`). Does nothing to the threads on a GPU."""
    threads = torch.get_num_threads()
    if config.device == "cpu":
        wanted = resolve_threads(config, n_models)  # refuses a bad THREADS_ENV before changing anything
        keep_freed_memory()
        torch.set_num_threads(wanted)
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
