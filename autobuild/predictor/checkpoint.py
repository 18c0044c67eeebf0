"""One-file checkpoints of a trained predictor and everything needed to score with it later.

The file holds only tensors and plain Python values, so it loads with
``torch.load(weights_only=True)``: PyTorch's restricted unpickler, safe for shared files.
Its metadata is checked field by field (:func:`validate_checkpoint`) before anything is built
from it, so an edited or foreign file gives a message naming the file and the field; the same
check runs before a checkpoint is written, so training never leaves one that ``score`` refuses.
``torch.save`` stores its zip entries uncompressed, so a compressed entry is refused before
loading (a small file cannot decompress to gigabytes), and the tensors may hold at most
:data:`MAX_STATE_FACTOR` times the bytes of the model the metadata describes.

A training run writes two files, ``predictor.pt`` and ``metrics.json`` (:func:`save_run`),
holding an exclusive lock on the folder itself, so that concurrent runs into it take turns.
The checkpoint is the source of truth: it holds the run's report (the metrics and run
settings, with a ``run_id``), and ``metrics.json`` is derived from it. They are written so
that they never disagree: the old ``metrics.json`` is removed first, then the checkpoint is
replaced atomically, then ``metrics.json`` is written from it. A run killed in between leaves
a checkpoint without ``metrics.json`` (rewrite it with :func:`write_metrics_json`), never a
new checkpoint beside old metrics. Temporary files of killed writers are removed by the next
write (:func:`autobuild._io.atomic_write`).
"""
from __future__ import annotations

import dataclasses
import fcntl
import math
import numbers
import os
import uuid
import zipfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch

from autobuild._io import atomic_write, write_json
from autobuild.predictor.config import TrainConfig
from autobuild.predictor.trained import TrainedPredictor
from autobuild.predictor.variants import MODEL_KINDS, make_model, model_kind
from autobuild.spaces.registry import get_space

FORMAT = "autobuild-predictor"
VERSION = 1
METRICS_NAME = "metrics.json"

#: Keys of a checkpoint: required, and those older checkpoints may lack.
REQUIRED_KEYS = ("format", "version", "state_dict", "model", "config", "space", "y_mean", "y_std",
                 "train_idx", "test_idx", "metrics", "history", "equation", "scorer_state", "data_source")
OPTIONAL_KEYS = ("report",)
MODEL_KEYS = ("feature_vocab", "hidden", "n_hops", "fe_stop_gradient")
#: Model keys older checkpoints may lack: ``kind`` (the predictor variant; absent = "companion").
OPTIONAL_MODEL_KEYS = ("kind",)
#: TrainConfig fields older checkpoints may lack, and the value they had then.
CONFIG_DEFAULTS_OF_OLD_FILES = {"model": "companion"}
MAX_CPU_THREADS = 4096  #: a stored cpu_threads above this is corrupt (libgomp runs out of memory)
MAX_MOMENT = 1e100  #: |mean| and std of stored moments above this overflow when scores are shifted (Eq. 5)
MAX_STATE_FACTOR = 2  #: the tensors may hold at most this many times the model's parameter bytes


def save_predictor(trained: TrainedPredictor, path, *, equation: str | None = None,
                   scorer_state: dict | None = None, data_source: str | None = None,
                   report: dict | None = None) -> Path:
    """Write ``trained`` (weights, hyper-parameters, split, metrics, label equation, scorer moments
    and, from :func:`save_run`, the run's ``report``), atomically."""
    path = Path(path)
    model = trained.model
    payload = {
        "format": FORMAT, "version": VERSION,
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "model": {"feature_vocab": {k: list(v) for k, v in model.feature_vocab.items()},
                  "hidden": model.hidden, "n_hops": model.n_hops, "fe_stop_gradient": model.fe_stop_gradient,
                  "kind": model_kind(model)},
        "config": trained.config.to_dict(),
        "space": getattr(trained.space, "name", None),
        "y_mean": trained.y_mean, "y_std": trained.y_std,
        "train_idx": np.asarray(trained.train_idx).tolist(), "test_idx": np.asarray(trained.test_idx).tolist(),
        "metrics": trained.metrics, "history": list(trained.history),
        "equation": equation, "scorer_state": scorer_state, "data_source": data_source,
    }
    if report is not None:
        payload["report"] = report
    validate_checkpoint(payload, path)  # never write a checkpoint that reading would refuse
    with atomic_write(path) as tmp:
        torch.save(payload, tmp)
    return path


def save_run(trained: TrainedPredictor, folder, report: dict, *, equation: str | None = None,
             scorer_state: dict | None = None, data_source: str | None = None,
             checkpoint_name: str = "predictor.pt") -> tuple[Path, Path]:
    """Write ``folder/predictor.pt`` and ``folder/metrics.json`` so that they never disagree.

    ``report`` (the metrics and run settings) is stored inside the checkpoint with a fresh
    ``run_id``, and ``metrics.json`` is derived from it. Order: remove the old
    ``metrics.json``, replace the checkpoint atomically, write ``metrics.json``; all under an
    exclusive lock on the folder, so concurrent writers take turns.
    """
    folder = Path(folder)
    checkpoint, metrics = folder / checkpoint_name, folder / METRICS_NAME
    report = {**report, "run_id": uuid.uuid4().hex}
    with run_lock(folder):
        metrics.unlink(missing_ok=True)
        save_predictor(trained, checkpoint, equation=equation, scorer_state=scorer_state,
                       data_source=data_source, report=report)
        write_json(metrics, {**report, "checkpoint": checkpoint.name})
    return checkpoint, metrics


@contextmanager
def run_lock(folder):
    """An exclusive ``flock`` on the folder ``folder`` itself for the duration of the block."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def write_metrics_json(checkpoint, path=None) -> Path:
    """(Re)write ``metrics.json`` beside ``checkpoint`` from the report stored inside it."""
    checkpoint = Path(checkpoint)
    payload = read_checkpoint(checkpoint)
    report = payload.get("report") or {**payload["metrics"], "config": payload["config"]}
    path = Path(path) if path is not None else checkpoint.with_name(METRICS_NAME)
    return write_json(path, {**report, "checkpoint": checkpoint.name})


# Reading and validation ---------------------------------------------------------------------

def _short(value, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def _describe_load_failure(path: Path, exc: Exception) -> str:
    with open(path, "rb") as f:
        head = f.read(64)
    if head[:4] == b"PK\x03\x04":
        what = "a truncated or corrupt PyTorch zip archive"
    elif head[:2] == b"\x80\x02" or head[:1] == b"\x80":
        what = "a legacy PyTorch file or a pickle that torch cannot read safely"
    elif head and all(32 <= b < 127 or b in b"\t\r\n" for b in head):
        what = f"a text file (it starts with {_short(head.decode('ascii'), 40)}), not a PyTorch checkpoint"
    else:
        what = "not a PyTorch checkpoint (unknown binary format)"
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    detail = detail if len(detail) <= 120 else detail[:120] + "…"
    return (f"{path} is not a readable AutoBuild checkpoint: {what} "
            f"({type(exc).__name__}{': ' + detail if detail else ''}); retrain with `autobuild train`")


def read_checkpoint(path) -> dict:
    """The checkpoint dict, after checking that it is one of ours, of a known version, and
    that every field is what ``save_predictor`` writes (:func:`validate_checkpoint`)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint at {path}")
    if path.is_dir():
        raise IsADirectoryError(f"checkpoint {path} is a folder, not a file")
    if not path.is_file():
        raise ValueError(f"checkpoint {path} is not a regular file (a FIFO, device or socket); give predictor.pt")
    if path.stat().st_size == 0:
        raise ValueError(f"{path} is not a readable AutoBuild checkpoint: the file is empty (0 bytes); "
                         "retrain with `autobuild train`")
    _check_stored_entries(path)
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # corrupt file, foreign pickle, truncated download ...
        raise ValueError(_describe_load_failure(path, exc)) from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"{path} is not an AutoBuild predictor checkpoint (format tag missing)")
    if payload.get("version") != VERSION:
        raise ValueError(f"{path} has checkpoint version {_short(payload.get('version'))}; "
                         f"this autobuild reads version {VERSION}")
    validate_checkpoint(payload, path)
    return payload


def _check_stored_entries(path: Path) -> None:
    """Refuse a zip whose entries are compressed, or declare more bytes than the file holds."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return  # not a zip: torch.load refuses it below with a description of what it is
    packed = [e.filename for e in entries if e.compress_type != zipfile.ZIP_STORED]
    if packed:
        raise ValueError(f"{path} is not a checkpoint written by `autobuild train`: entry {packed[0][:80]!r} is "
                         "compressed (torch.save stores entries uncompressed); refusing to decompress it")
    declared = sum(e.file_size for e in entries)
    if declared > path.stat().st_size:
        raise ValueError(f"{path} is not a readable AutoBuild checkpoint: its entries declare {declared} bytes, "
                         f"more than the file's {path.stat().st_size}")


def _is_int(v) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_))


def _is_finite(v) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_)) and math.isfinite(v)


def validate_checkpoint(payload: dict, path="<checkpoint>") -> None:
    """Refuse a checkpoint whose metadata is not what ``save_predictor`` writes, naming the field."""
    def bad(field: str, why: str):
        raise ValueError(f"{path}: checkpoint field {field!r} {why}; the file was edited or is damaged "
                         "(retrain with `autobuild train`)")

    missing = [k for k in REQUIRED_KEYS if k not in payload]
    extra = [k for k in payload if k not in REQUIRED_KEYS + OPTIONAL_KEYS]
    if missing:
        bad(missing[0], f"is missing (missing: {missing})")
    if extra:
        bad(str(extra[0])[:40], f"is not a checkpoint field (unknown: {[str(k)[:40] for k in extra[:5]]})")

    config = payload["config"]
    if not isinstance(config, dict):
        bad("config", "is not a dict")
    fields = [f.name for f in dataclasses.fields(TrainConfig)]
    missing = [k for k in fields if k not in config and k not in CONFIG_DEFAULTS_OF_OLD_FILES]
    extra = [k for k in config if k not in fields]
    if missing or extra:
        bad("config", f"does not hold exactly TrainConfig's fields (missing: {missing}, unknown: "
                      f"{[str(k)[:40] for k in extra[:5]]})")
    threads = config["cpu_threads"]  # None (automatic, the default) or a count (all files of older versions)
    if threads is not None and (not _is_int(threads) or not 1 <= threads <= MAX_CPU_THREADS):
        bad("config.cpu_threads", f"is {_short(threads)}, not None or an integer in [1, {MAX_CPU_THREADS}]")
    try:
        TrainConfig(**{**config, "device": "cpu", "cpu_threads": None})
    except (TypeError, ValueError) as exc:
        bad("config", f"is invalid: {exc}")

    spec = payload["model"]
    if not isinstance(spec, dict) or not set(MODEL_KEYS) <= set(spec) <= set(MODEL_KEYS + OPTIONAL_MODEL_KEYS):
        keys = sorted(map(str, spec)) if isinstance(spec, dict) else type(spec).__name__
        bad("model", f"must be a dict with keys {list(MODEL_KEYS)} (and optionally {list(OPTIONAL_MODEL_KEYS)}), "
                     f"got {_short(keys)}")
    kind = spec.get("kind", "companion")
    if not isinstance(kind, str) or kind not in MODEL_KINDS:
        bad("model.kind", f"is {_short(kind)}, not one of {list(MODEL_KINDS)}")
    if kind != config.get("model", "companion"):
        bad("model.kind", f"is {kind!r} but its config says model={_short(config.get('model'))}")
    if not _is_int(spec["hidden"]) or not 1 <= spec["hidden"] <= 4096:
        bad("model.hidden", f"is {_short(spec['hidden'])}, not an integer in [1, 4096]")
    if not _is_int(spec["n_hops"]) or not 1 <= spec["n_hops"] <= 64:
        bad("model.n_hops", f"is {_short(spec['n_hops'])}, not an integer in [1, 64]")
    if not isinstance(spec["fe_stop_gradient"], bool):
        bad("model.fe_stop_gradient", f"is {_short(spec['fe_stop_gradient'])}, not True or False")
    vocab = spec["feature_vocab"]
    if not isinstance(vocab, dict) or not vocab or not all(
            isinstance(k, str) and isinstance(v, (list, tuple)) and 0 < len(v) <= 10_000 for k, v in vocab.items()):
        bad("model.feature_vocab", "is not a dict of feature name -> non-empty list of values")
    if (spec["hidden"], spec["n_hops"]) != (config["hidden"], config["n_hops"]):
        bad("model", f"(hidden={spec['hidden']}, n_hops={spec['n_hops']}) disagrees with its config "
                     f"(hidden={config['hidden']}, n_hops={config['n_hops']})")

    space_name = payload["space"]
    if space_name is not None:
        if not isinstance(space_name, str):
            bad("space", f"is {_short(space_name)}, not a space name")
        try:
            space = get_space(space_name)
        except (ValueError, KeyError):
            bad("space", f"is {_short(space_name)}, not a known search space")
        expected = {k: list(v) for k, v in space.feature_vocab.items()}
        if {k: list(v) for k, v in vocab.items()} != expected:
            bad("model.feature_vocab", f"does not match the vocabulary of space {space_name!r} (features "
                                       f"{_short(list(vocab))} vs {list(expected)})")

    for key in ("y_mean", "y_std"):
        if not _is_finite(payload[key]):
            bad(key, f"is {_short(payload[key])}, not a finite number")
    if payload["y_std"] <= 0:
        bad("y_std", f"is {payload['y_std']!r}, not > 0")
    for key in ("train_idx", "test_idx"):
        idx = payload[key]
        if not isinstance(idx, list) or not all(_is_int(i) and i >= 0 for i in idx):
            bad(key, "is not a list of non-negative integers")
    if not isinstance(payload["metrics"], dict):
        bad("metrics", "is not a dict")
    if not isinstance(payload["history"], list):
        bad("history", "is not a list")
    for key in ("equation", "data_source"):
        if payload[key] is not None and not isinstance(payload[key], str):
            bad(key, f"is {_short(payload[key])}, not a string")
    if payload.get("report") is not None and not isinstance(payload["report"], dict):
        bad("report", "is not a dict")
    state = payload["scorer_state"]
    if state is not None:
        _validate_scorer_state(state, spec["n_hops"], space_name, bad)

    for key in ("y_mean", "y_std"):
        if abs(payload[key]) > MAX_MOMENT:
            bad(key, f"is {payload[key]!r}; at most {MAX_MOMENT:g} in size")
    sd = payload["state_dict"]
    if not isinstance(sd, dict) or not sd or not all(isinstance(k, str) and isinstance(v, torch.Tensor)
                                                     for k, v in sd.items()):
        bad("state_dict", "is not a non-empty dict of parameter name -> tensor")
    for key, tensor in sd.items():  # dtypes are compared with the model's in load_predictor
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            bad(f"state_dict.{key[:80]}", "holds NaN or infinite values")
    if not any(tensor.any() for tensor in sd.values()):
        bad("state_dict", "holds only zeros: these are no trained weights")


def _validate_scorer_state(state, n_hops: int, space_name, bad) -> None:
    if not isinstance(state, dict):
        bad("scorer_state", "is not a dict")
    need = ("hop_moments", "label_moments", "label_overall", "seen_values")
    missing = [k for k in need if k not in state]
    if missing:
        bad("scorer_state", f"lacks {missing}")
    hop = state["hop_moments"]
    if not (isinstance(hop, list) and len(hop) == n_hops + 1 and all(
            isinstance(r, list) and len(r) == 2 and all(_is_finite(v) for v in r) for r in hop)):
        bad("scorer_state.hop_moments", f"is not {n_hops + 1} finite (mean, std) pairs")
    for m, (mean, std) in enumerate(hop):
        if not 0 < std <= MAX_MOMENT or abs(mean) > MAX_MOMENT:
            bad(f"scorer_state.hop_moments[{m}]", f"is (mean {mean!r}, std {std!r}); the std must be in "
                                                  f"(0, {MAX_MOMENT:g}] and |mean| at most {MAX_MOMENT:g}")
    lab = state["label_moments"]
    if not (isinstance(lab, list) and lab and all(
            isinstance(r, (list, tuple)) and len(r) == 4 and _is_int(r[0]) and _is_int(r[1])
            and _is_finite(r[2]) and _is_finite(r[3]) for r in lab)):
        bad("scorer_state.label_moments", "is not a non-empty list of finite (stage, layers, mean, std) rows")
    keys = [(int(r[0]), int(r[1])) for r in lab]
    if len(set(keys)) < len(keys):
        twice = next(k for k in keys if keys.count(k) > 1)
        bad("scorer_state.label_moments", f"holds the row (stage {twice[0]}, layers {twice[1]}) more than once")
    for r in lab:
        if not 0 <= r[3] <= MAX_MOMENT or abs(r[2]) > MAX_MOMENT:
            bad("scorer_state.label_moments", f"row (stage {r[0]}, layers {r[1]}) has mean {r[2]!r} and std "
                                              f"{r[3]!r}; the std must be in [0, {MAX_MOMENT:g}] and |mean| at "
                                              f"most {MAX_MOMENT:g}")
    if all(r[3] == 0 for r in lab):
        bad("scorer_state.label_moments", "has label std 0 in every row: no scoring unit's labels vary")
    if space_name is not None:  # the scoring units and depths of the moments must be the space's
        space = get_space(space_name)
        units = {int(r[0]) for r in lab}
        wrong = [r[:2] for r in lab if not (0 <= r[0] < space.n_units and r[1] in space.unit_depths(int(r[0])))]
        if wrong or units != set(range(space.n_units)):
            bad("scorer_state.label_moments", f"does not describe the {space.n_units} scoring units of space "
                                              f"{space_name!r} (units {sorted(units)[:10]}, e.g. {_short(wrong[:3])}); "
                                              "a checkpoint scored before units existed needs retraining")
    if state.get("readout", "root") not in ("pooled", "root"):
        bad("scorer_state.readout", f"is {_short(state.get('readout'))}, not 'pooled' or 'root'")
    overall = state["label_overall"]
    if not (isinstance(overall, (list, tuple)) and len(overall) == 2 and all(_is_finite(v) for v in overall)):
        bad("scorer_state.label_overall", "is not a finite (mean, std) pair")
    if not overall[1] > 0:
        bad("scorer_state.label_overall", f"has label std {overall[1]!r}: the target had zero spread")
    if overall[1] > MAX_MOMENT or abs(overall[0]) > MAX_MOMENT:
        bad("scorer_state.label_overall", f"is (mean {overall[0]!r}, std {overall[1]!r}); both must be at most "
                                          f"{MAX_MOMENT:g} in size")
    if not isinstance(state["seen_values"], dict):
        bad("scorer_state.seen_values", "is not a dict")
    context = state.get("context", {})
    if not isinstance(context, dict) or set(context) - {"resolution"}:
        bad("scorer_state.context", f"is {_short(context)}, not {{}} or {{'resolution': ...}}")
    if "resolution" in context and space_name is not None:
        allowed = getattr(get_space(space_name), "resolutions", ())
        if not _is_int(context["resolution"]) or context["resolution"] not in allowed:
            bad("scorer_state.context.resolution", f"is {_short(context['resolution'])}, not one of {tuple(allowed)}")


def load_predictor(path, device: str = "cpu") -> tuple[TrainedPredictor, dict]:
    """``(trained predictor, payload)``; the payload holds the equation, scorer state, metrics.

    Everything is validated before the model is built; a state dict that does not fit the
    model is refused with a message naming the file.
    """
    path = Path(path)
    payload = read_checkpoint(path)
    spec = payload["model"]
    model = make_model(spec.get("kind", "companion"), spec["feature_vocab"], hidden=spec["hidden"],
                       n_hops=spec["n_hops"], fe_stop_gradient=spec["fe_stop_gradient"])
    wanted = model.state_dict()
    for key, tensor in payload["state_dict"].items():
        if key in wanted and tensor.dtype != wanted[key].dtype:
            raise ValueError(f"{path}: checkpoint field 'state_dict.{key[:80]}' has dtype {tensor.dtype}, the model's "
                             f"is {wanted[key].dtype}; the file was edited or is damaged (retrain with `autobuild train`)")
    expected = sum(t.numel() * t.element_size() for t in wanted.values())
    stored = sum(t.untyped_storage().nbytes() for t in payload["state_dict"].values())
    if stored > MAX_STATE_FACTOR * expected:
        raise ValueError(f"{path}: checkpoint field 'state_dict' holds {stored} bytes of tensors, more than "
                         f"{MAX_STATE_FACTOR}x the {expected} bytes of the model it describes; the file was edited "
                         "or is damaged (retrain with `autobuild train`)")
    try:
        model.load_state_dict(payload["state_dict"])
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        raise ValueError(f"{path}: checkpoint field 'state_dict' does not fit the model it describes "
                         f"({(first[1] if len(first) > 1 else first[0])[:200].strip()}); the file was edited "
                         "or is damaged (retrain with `autobuild train`)") from None
    # cpu_threads is a setting of the machine that trained: use at most this machine's CPUs
    threads = payload["config"]["cpu_threads"]
    if threads is not None:
        threads = min(threads, max(os.cpu_count() or 1, 1))
    config = TrainConfig(**{**payload["config"], "device": device, "cpu_threads": threads})
    space = get_space(payload["space"]) if payload["space"] else None
    trained = TrainedPredictor(model.to(device).eval(), config, space, payload["y_mean"], payload["y_std"],
                               np.asarray(payload["train_idx"], dtype=np.int64),
                               np.asarray(payload["test_idx"], dtype=np.int64),
                               payload["metrics"], payload["history"])
    return trained, payload
