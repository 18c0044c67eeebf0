"""Spaces by name: :func:`get_space` (used by checkpoints and the CLI) and :func:`register_space`.
"""
from __future__ import annotations

import importlib

from autobuild.spaces.base import SequenceSpace
from autobuild.spaces.ofa import MBV3, PN

_SPACES: dict[str, SequenceSpace] = {"mbv3": MBV3, "pn": PN}


# Spaces defined in modules with heavier imports register themselves when first asked for.
_LAZY_SPACES = {"sd14_unet": "autobuild.spaces.unet", "macro": "autobuild.spaces.macro"}


def register_space(space: SequenceSpace) -> None:
    """Make a space available by name to :func:`get_space` (and so to checkpoints and the CLI)."""
    _SPACES[space.name] = space


def get_space(name: str) -> SequenceSpace:
    if name not in _SPACES and name in _LAZY_SPACES:
        importlib.import_module(_LAZY_SPACES[name])
    if name not in _SPACES:
        raise ValueError(f"unknown search space {name!r}; known: {sorted(set(_SPACES) | set(_LAZY_SPACES))}")
    return _SPACES[name]
