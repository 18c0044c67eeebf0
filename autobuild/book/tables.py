"""How the book shows result tables: the experiments' tables name spaces by id (``mbv3``); a page
shows each space by its label for readers (``MBv3``, :attr:`~autobuild.spaces.base.SequenceSpace.label`)."""
from __future__ import annotations

import pandas as pd

from autobuild.spaces.registry import get_space


def space_label(space_id: str) -> str:
    """The readers' name of a space id; an id no space has is shown as it is."""
    try:
        return get_space(space_id).label
    except ValueError:
        return space_id


def named(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every ``space`` column, index level or column level shown by its label."""
    out = frame.copy()
    if "space" in out.columns:
        out["space"] = out["space"].map(space_label)
    for axis in ("index", "columns"):
        labels = getattr(out, axis)
        if "space" in (labels.names or []):
            level = labels.names.index("space")
            if isinstance(labels, pd.MultiIndex):
                labels = labels.set_levels(labels.levels[level].map(space_label), level=level)
            else:
                labels = labels.map(space_label).rename("space")
            setattr(out, axis, labels)
    return out
