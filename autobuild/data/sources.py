"""Where a notebook's labelled sets come from: its ``data_source`` parameter, per space."""
from __future__ import annotations

import os

#: The named sources: the embedded sets (``data/``) and the paper's own caches.
DATA_SOURCES = ("embedded", "paper")


def source_for(data_source: str, space_name: str) -> str:
    """What to pass to ``load_dataset`` for one space: a folder given as ``data_source`` holds one
    file per space, named as the embedded files (``ofa_mbv3.parquet``, ``ofa_pn.parquet``)."""
    if data_source in DATA_SOURCES or not os.path.isdir(data_source):
        return data_source
    from autobuild._paths import EMBEDDED_FILES

    if space_name not in EMBEDDED_FILES:
        raise ValueError(f"no file name is known for space {space_name!r} in folder {data_source}; "
                         f"known: {sorted(EMBEDDED_FILES)}")
    return os.path.join(data_source, EMBEDDED_FILES[space_name])
