"""NAS-Bench-Macro's CIFAR-10 file as a :class:`LabelledSet` of the ``macro`` space.

The benchmark (Su et al., CVPR 2021; Apache-2.0, github.com/xiusu/NAS-Bench-Macro at commit
61a2bfc) trained all 6,561 networks of its space three times on CIFAR-10. Its JSON maps each
8-digit architecture to ``test_acc`` (the three runs, %), ``mean_acc``, ``std``, ``params`` and
``flops``. :func:`read_benchmark_json` checks that file and names the columns as the embedded
set keeps them (:data:`PROVENANCE`); ``scripts/make_macro_data.py`` writes that set.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd

from autobuild.data.labelled import LabelledSet
from autobuild.spaces.registry import get_space

#: sha256 of the published ``nas-bench-macro_cifar10.json`` (1,178,821 bytes).
SHA256 = "686dee8363cc21cca8c1f321ad5749454f2d9b9ca5972682e137e539bc522297"
SOURCE = "NAS-Bench-Macro (Su et al., CVPR 2021), github.com/xiusu/NAS-Bench-Macro at commit 61a2bfc, Apache-2.0"
#: Column -> (field of the JSON, provenance).
PROVENANCE = {
    "acc": ("mean_acc", f"CIFAR-10 test accuracy (%), mean of the benchmark's three training runs; {SOURCE}"),
    "acc_run0": ("test_acc[0]", f"CIFAR-10 test accuracy (%) of training run 1; {SOURCE}"),
    "acc_run1": ("test_acc[1]", f"CIFAR-10 test accuracy (%) of training run 2; {SOURCE}"),
    "acc_run2": ("test_acc[2]", f"CIFAR-10 test accuracy (%) of training run 3; {SOURCE}"),
    "acc_std": ("std", f"standard deviation (%) of the three runs' test accuracy, as the benchmark gives it; {SOURCE}"),
    "params": ("params", f"parameter count; {SOURCE}"),
    "flops": ("flops", f"FLOPs of one 32x32 forward pass, as the benchmark counts them; {SOURCE}"),
}
_FIELDS = ("test_acc", "mean_acc", "std", "params", "flops")


class BenchmarkFormatError(ValueError):
    """The file is not NAS-Bench-Macro's CIFAR-10 JSON."""


def file_sha256(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def read_benchmark_json(path, check_hash: bool = True) -> LabelledSet:
    """Every architecture of the benchmark file, in the space's base-3 order, with :data:`PROVENANCE`'s columns."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist (NAS-Bench-Macro's nas-bench-macro_cifar10.json)")
    if check_hash and file_sha256(path) != SHA256:
        raise BenchmarkFormatError(f"{path}: sha256 is not the published file's {SHA256}")
    try:
        raw = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise BenchmarkFormatError(f"{path} is not JSON: {exc}") from None
    space = get_space("macro")
    keys = space.all_strings()
    if not isinstance(raw, dict) or set(raw) != set(keys):
        n = len(raw) if isinstance(raw, dict) else 0
        raise BenchmarkFormatError(f"{path}: expected one entry for each of the {len(keys)} architectures "
                                   f"'00000000'..'22222222', got {n} entries of another set")
    rows = []
    for k in keys:
        e = raw[k]
        if not isinstance(e, dict) or any(f not in e for f in _FIELDS) or len(e["test_acc"]) != 3:
            raise BenchmarkFormatError(f"{path}: entry {k!r} lacks one of {_FIELDS} or three test_acc runs")
        rows.append([e["mean_acc"], *e["test_acc"], e["std"], e["params"], e["flops"]])
    labels = pd.DataFrame(np.asarray(rows, dtype=np.float64), columns=list(PROVENANCE))
    if not np.isfinite(labels.to_numpy()).all():
        raise BenchmarkFormatError(f"{path}: some values are not finite numbers")
    return LabelledSet(space, [space.from_string(k) for k in keys], labels,
                       {c: p for c, (_, p) in PROVENANCE.items()}, str(path))
