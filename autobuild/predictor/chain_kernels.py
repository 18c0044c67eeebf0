"""The dense chain path's fused CPU kernels (``csrc/chain_kernels.cpp``), compiled on first use.

On a CPU a hop of the stacked predictors is bound by memory traffic, not arithmetic: each
element-wise op of :mod:`~autobuild.predictor.chain_ops` streams a whole ``[n, P, d]`` tensor.
The C++ kernels do a hop's element-wise work model by model in one or two sweeps over rows that
stay in cache; the matrix products stay with MKL. ``torch.utils.cpp_extension`` compiles them
once per machine (about half a minute; cached in ``TORCH_EXTENSIONS_DIR``). Where no compiler is found,
or ``AUTOBUILD_FUSED_KERNELS=0`` is set, :func:`cpu_kernels` returns None and the hops run the
Python passes of :mod:`~autobuild.predictor.chain_ops`, which compute the same functions (to
float rounding; ``tests/predictor/test_chain_kernels.py``). A GPU always runs the Python passes.
"""
from __future__ import annotations

import functools
import logging
import os
import warnings
from pathlib import Path
from types import ModuleType

import torch

#: set to 0 to run the Python passes on the CPU too
FUSED_ENV = "AUTOBUILD_FUSED_KERNELS"
SOURCE = Path(__file__).parent / "csrc" / "chain_kernels.cpp"


@functools.cache
def _build() -> ModuleType | None:
    """The compiled kernels (built once per machine and source, then loaded from the cache), or None
    with one warning when they cannot be built."""
    logger = logging.getLogger("torch.utils.cpp_extension")
    level = logger.level
    logger.setLevel(logging.ERROR)   # its import notes that no CUDA runtime is found: not news on a CPU
    try:
        from torch.utils import cpp_extension
    finally:
        logger.setLevel(level)
    path = os.environ.get("PATH", "")
    try:
        import ninja   # the build tool cpp_extension runs; pip puts it beside the interpreter, maybe off PATH

        os.environ["PATH"] = os.pathsep.join([ninja.BIN_DIR, path])
    except ImportError:
        pass
    try:
        return cpp_extension.load(name="autobuild_chain_kernels", sources=[str(SOURCE)],
                                  extra_cflags=["-O3", "-fopenmp", "-fno-trapping-math", "-ffp-contract=off"],
                                  extra_ldflags=["-fopenmp"], verbose=False)
    except (OSError, RuntimeError, ImportError) as err:   # no compiler, no ninja, a failed build
        warnings.warn(f"autobuild's fused CPU kernels did not build ({str(err).strip()[:300]}); "
                      "the dense chain path runs its Python passes instead (slower, same results)", stacklevel=3)
        return None
    finally:
        os.environ["PATH"] = path


def cpu_kernels(t: torch.Tensor) -> ModuleType | None:
    """The compiled kernels, when ``t`` (a hop's input) lives on the CPU as float32, they are enabled
    (:data:`FUSED_ENV`) and they built; otherwise None."""
    if t.device.type != "cpu" or t.dtype != torch.float32:
        return None
    setting = os.environ.get(FUSED_ENV, "1")
    if setting not in ("0", "1"):
        raise ValueError(f"{FUSED_ENV} must be 0 or 1; got {setting[:20]!r}")
    return _build() if setting == "1" else None
