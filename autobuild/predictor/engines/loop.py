"""The fitting loop both engines share: seeded epochs of mini-batches, a step per batch."""
from __future__ import annotations

from typing import Callable, Sequence

import torch
from tqdm.auto import tqdm


def epoch_batches(perm: torch.Tensor, batch_size: int) -> list[torch.Tensor]:
    """The ``[n, B]`` column blocks of an epoch's ``[n, T]`` permutation, ``batch_size`` wide; a last
    block of fewer than 2 graphs is dropped (a ranking term needs two)."""
    return [b for b in perm.split(batch_size, 1) if b.shape[1] >= 2]


def fit_epochs(step: Callable, trains: Sequence[torch.Tensor], generators: Sequence[torch.Generator], epochs: int,
               batch_size: int, device, desc: str = "training", progress: bool = True,
               prepare: Callable[[list[torch.Tensor]], list] | None = None) -> list[list[float]]:
    """Run ``epochs`` epochs for n predictors at once; returns each predictor's mean loss per epoch.

    Every epoch, predictor i shuffles its training indices ``trains[i]`` with its own generator
    (the order it would get alone); the rows are stacked into ``[n, T]`` and cut into batches
    (:func:`epoch_batches`). ``step(batch)`` makes one optimiser step and returns the n losses,
    where ``batch`` is a batch's ``[n, B]`` indices, or what ``prepare`` (called once per epoch with
    all of them) makes of it.
    """
    histories: list[list[float]] = [[] for _ in trains]
    for _ in tqdm(range(epochs), desc=desc, disable=not progress, leave=False):
        perm = torch.stack([tr[torch.randperm(len(tr), generator=g)] for tr, g in zip(trains, generators)]).to(device)
        batches = epoch_batches(perm, batch_size)
        total = torch.zeros(len(trains), dtype=torch.float64, device=device)
        for batch in (prepare(batches) if prepare else batches):
            total += step(batch)
        for history, value in zip(histories, (total / max(len(batches), 1)).tolist()):
            history.append(value)
    return histories
