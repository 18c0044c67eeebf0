"""Every environment variable and default folder the package reads, in one place.

| variable | default | what lives there |
|---|---|---|
| ``AUTOBUILD_DATA_DIR`` | the embedded sets shipped inside the package (``autobuild/data/embedded``, the repository's ``data/``) | ``ofa_mbv3.parquet``, ``ofa_pn.parquet``, ``nas_bench_macro/``, ``sd_mini/`` |
| ``AUTOBUILD_CACHE`` | ``~/.cache/autobuild`` | the paper's caches (HF hub), the authors' predictors (``l1_models/``) |
| ``AUTOBUILD_SHARED_DATA`` | ``../shared/data`` beside the repository | third-party files: the authors' predictors, OFA's tables |
| ``AUTOBUILD_FIGURES_DIR`` | ``figures/`` at the book's root | every figure and table the notebooks write |
| ``AUTOBUILD_SCHEDULER`` | unset: jobs run in process | the Dask scheduler that :mod:`autobuild.executor` sends jobs to |
"""
from __future__ import annotations

import importlib.resources
import os
from pathlib import Path

DATA_ENV = "AUTOBUILD_DATA_DIR"
CACHE_ENV = "AUTOBUILD_CACHE"
SHARED_ENV = "AUTOBUILD_SHARED_DATA"
FIGURES_ENV = "AUTOBUILD_FIGURES_DIR"
SCHEDULER_ENV = "AUTOBUILD_SCHEDULER"

EMBEDDED_FILES = {"mbv3": "ofa_mbv3.parquet", "pn": "ofa_pn.parquet", "macro": "nas_bench_macro/cifar10.parquet"}

_REPO_ROOT = Path(__file__).resolve().parents[1]


def data_dir() -> Path:
    """The embedded sets' folder: ``$AUTOBUILD_DATA_DIR``, else the package data ``autobuild/data/embedded``
    (in a checkout a link to the repository's ``data/``; a non-editable install carries a copy)."""
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env)
    return Path(str(importlib.resources.files("autobuild.data").joinpath("embedded")))


def sd_mini_dir() -> Path:
    """The stored SD-mini evaluations (Sec. 5.3): ``sd_mini/`` of :func:`data_dir`."""
    return data_dir() / "sd_mini"


def cache_dir() -> Path:
    """Where paper caches and downloads live: ``$AUTOBUILD_CACHE`` or ``~/.cache/autobuild``."""
    return _expand(os.environ.get(CACHE_ENV) or "~/.cache/autobuild", CACHE_ENV)


def _expand(text: str, variable: str) -> Path:
    """``text`` with ``~`` or ``~user`` expanded; a ``~user`` that names no user is a ``ValueError``."""
    try:
        return Path(text).expanduser()
    except RuntimeError:  # Python 3.11+: "Could not determine home directory."
        raise ValueError(f"${variable}={text[:80]!r}: {text.split('/')[0][:40]!r} names no user of this machine "
                         "(or $HOME is unset); give an absolute path") from None


def shared_data_dir(path: str | Path | None = None) -> Path:
    """The third-party data directory: ``path``, else ``$AUTOBUILD_SHARED_DATA``, else ``../shared/data``."""
    if path is None:
        path = os.environ.get(SHARED_ENV) or _REPO_ROOT.parent / "shared" / "data"
    return _expand(str(path), SHARED_ENV)


def figures_dir() -> Path:
    """Where figures go: ``$AUTOBUILD_FIGURES_DIR``, else ``figures/`` at the book's root (the
    nearest folder above the working directory holding ``_toc.yml``), else ``./figures``."""
    env = os.environ.get(FIGURES_ENV)
    if env:
        return Path(env)
    return stored_results_dir() or Path.cwd().resolve() / "figures"


def stored_results_dir() -> Path | None:
    """The committed ``figures/`` at the book's root, where scripts store the results of long runs
    that the book reads (whatever ``$AUTOBUILD_FIGURES_DIR`` says); None outside a checkout."""
    cwd = Path.cwd().resolve()
    for folder in (cwd, *cwd.parents):
        if (folder / "_toc.yml").is_file():
            return folder / "figures"
    return None


def scheduler_address() -> str | None:
    """The Dask scheduler jobs go to: ``$AUTOBUILD_SCHEDULER`` (e.g. ``tcp://HOST:8786``), or None."""
    return os.environ.get(SCHEDULER_ENV) or None
