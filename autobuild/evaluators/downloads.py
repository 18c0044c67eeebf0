"""Third-party files fetched once where their authors publish them (via ``torch.hub``: temp
file, then rename), when the shared-data copy lacks them.
"""
from __future__ import annotations

from pathlib import Path

import torch

from autobuild._paths import SHARED_ENV

_OFA_FILES = "https://raw.githubusercontent.com/han-cai/files/master/ofa/"


# The authors' public repository, pinned to the commit that added their predictors (l1_models/).
_AUTHORS_FILES = ("https://raw.githubusercontent.com/Ascend-Research/AutoBuild/"
                  "a2675b9a9d2d6396f477272f882739863f4b7d9c/l1_models/")


def _download(url: str, model_dir: str) -> Path:
    """Fetch ``url`` into ``model_dir`` under its own file name (kept if already there).

    ``torch.hub`` writes to a temporary file and renames it once complete, so an interrupted
    download leaves nothing half-written behind.
    """
    target = Path(model_dir).expanduser() / url.rsplit("/", 1)[-1]
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        torch.hub.download_url_to_file(url, str(target), progress=True)
    return target


def _local_or_download(path: Path, url: str, model_dir: str, what: str) -> Path:
    """``path`` when present, else the file downloaded from ``url`` into ``model_dir``."""
    if path.exists():
        return path
    try:
        return _download(url, model_dir)
    except Exception as exc:  # no network, HTTP errors, a full disk: all end here
        raise FileNotFoundError(f"{what} not found at {path} and could not be downloaded from {url} "
                                f"({type(exc).__name__}: {exc}); pass the shared-data directory or set "
                                f"${SHARED_ENV}") from None
