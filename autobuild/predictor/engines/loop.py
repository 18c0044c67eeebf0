"""The fitting loop both engines share: seeded epochs of mini-batches, a step per batch."""
from __future__ import annotations

from typing import Callable, Sequence

import torch
from tqdm.auto import tqdm


def fit_epochs(step: Callable[[torch.Tensor], torch.Tensor], trains: Sequence[torch.Tensor],
               generators: Sequence[torch.Generator], epochs: int, batch_size: int, device,
               desc: str = "training", progress: bool = True) -> list[list[float]]:
    """Run ``epochs`` epochs for n predictors at once; returns each predictor's mean loss per epoch.

    Every epoch, predictor i shuffles its training indices ``trains[i]`` with its own generator
    (the order it would get alone); the rows are stacked into ``[n, T]`` and cut into batches of
    ``batch_size`` columns. ``step(idx)`` takes the ``[n, B]`` indices of one batch, makes one
    optimiser step and returns the n losses. A last batch of fewer than 2 graphs is skipped (a
    ranking term needs two).
    """
    histories: list[list[float]] = [[] for _ in trains]
    for _ in tqdm(range(epochs), desc=desc, disable=not progress, leave=False):
        perm = torch.stack([tr[torch.randperm(len(tr), generator=g)] for tr, g in zip(trains, generators)]).to(device)
        total, steps = torch.zeros(len(trains), dtype=torch.float64, device=device), 0
        for s in range(0, perm.shape[1], batch_size):
            idx = perm[:, s:s + batch_size]
            if idx.shape[1] < 2:
                continue
            total += step(idx)
            steps += 1
        for history, value in zip(histories, (total / max(steps, 1)).tolist()):
            history.append(value)
    return histories
