"""One-file checkpoints of a trained predictor and everything needed to score with it later.

The file holds only tensors and plain Python values, so it loads with
``torch.load(weights_only=True)``: PyTorch's restricted unpickler, safe for shared files.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from autobuild._io import atomic_write
from autobuild.predictor.model import AutoBuildPredictor
from autobuild.predictor.training import TrainConfig, TrainedPredictor
from autobuild.spaces.registry import get_space

FORMAT = "autobuild-predictor"


VERSION = 1


def save_predictor(trained: TrainedPredictor, path, *, equation: str | None = None,
                   scorer_state: dict | None = None, data_source: str | None = None) -> Path:
    """Write ``trained`` (weights, hyper-parameters, split, metrics, label equation, scorer moments)."""
    path = Path(path)
    model = trained.model
    payload = {
        "format": FORMAT, "version": VERSION,
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "model": {"feature_vocab": {k: list(v) for k, v in model.feature_vocab.items()},
                  "hidden": model.hidden, "n_hops": model.n_hops, "fe_stop_gradient": model.fe_stop_gradient},
        "config": trained.config.to_dict(),
        "space": getattr(trained.space, "name", None),
        "y_mean": trained.y_mean, "y_std": trained.y_std,
        "train_idx": np.asarray(trained.train_idx).tolist(), "test_idx": np.asarray(trained.test_idx).tolist(),
        "metrics": trained.metrics, "history": list(trained.history),
        "equation": equation, "scorer_state": scorer_state, "data_source": data_source,
    }
    with atomic_write(path) as tmp:
        torch.save(payload, tmp)
    return path


def read_checkpoint(path) -> dict:
    """The raw checkpoint dict, after checking that it is one of ours and of a known version."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # corrupt file, foreign pickle, truncated download ...
        raise ValueError(f"{path} is not a readable AutoBuild checkpoint: {exc}") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"{path} is not an AutoBuild predictor checkpoint (format tag missing)")
    if payload.get("version") != VERSION:
        raise ValueError(f"{path} has checkpoint version {payload.get('version')!r}; "
                         f"this autobuild reads version {VERSION}")
    return payload


def load_predictor(path, device: str = "cpu") -> tuple[TrainedPredictor, dict]:
    """``(trained predictor, payload)``; the payload holds the equation, scorer state, metrics."""
    payload = read_checkpoint(path)
    spec = payload["model"]
    model = AutoBuildPredictor(spec["feature_vocab"], hidden=spec["hidden"], n_hops=spec["n_hops"],
                               fe_stop_gradient=spec["fe_stop_gradient"])
    model.load_state_dict(payload["state_dict"])
    config = TrainConfig(**{**payload["config"], "device": device})
    space = get_space(payload["space"]) if payload["space"] else None
    trained = TrainedPredictor(model.to(device).eval(), config, space, payload["y_mean"], payload["y_std"],
                               np.asarray(payload["train_idx"], dtype=np.int64),
                               np.asarray(payload["test_idx"], dtype=np.int64),
                               payload["metrics"], payload["history"])
    return trained, payload
