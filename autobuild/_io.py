"""File writes that leave no half-written file: write beside the target, then rename.

Every output gets the user's normal file mode (``0o666`` less the umask, or the mode of the
file it replaces), not ``mkstemp``'s 0600. The temporary file is named
``.NAME.PID.XXXX.tmp``; when a process is killed mid-write (nothing can clean up after
SIGKILL), the next write of ``NAME`` removes the temporary files of processes that no longer
exist.
"""
from __future__ import annotations

import contextlib
import math
import os
import re
import tempfile
from pathlib import Path

import numpy as np


def current_umask() -> int:
    """The process's umask, read without changing it where the OS allows (Linux ``/proc``)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # elsewhere: read by setting (not thread-safe, restored at once)
    os.umask(mask)
    return mask


def output_mode(path) -> int:
    """The mode a new output at ``path`` gets: that of the file it replaces, else 0o666 & ~umask."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        return 0o666 & ~current_umask()


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists, another user's
    return True


def clean_stale_temporaries(path) -> list[Path]:
    """Remove ``.NAME.PID.*.tmp`` beside ``path`` left by processes that no longer run."""
    path = Path(path)
    pattern = re.compile(rf"^\.{re.escape(path.name)}\.(\d+)\.[^/]*\.tmp$")
    removed = []
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return removed
    for entry in entries:
        m = pattern.match(entry.name)
        if m and not _pid_alive(int(m.group(1))):
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


@contextlib.contextmanager
def atomic_write(path):
    """Yield a temporary path beside ``path``; on success it replaces ``path``, on error it is removed.

    The result has the user's normal mode (see :func:`output_mode`).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_temporaries(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, output_mode(path))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def check_writable_dir(path, what: str = "output folder") -> Path:
    """Create ``path`` if needed and prove it is a writable folder (a probe file is written and
    removed); raises :class:`NotADirectoryError`/:class:`PermissionError` with a clear message."""
    path = Path(path)
    for parent in (path, *path.parents):
        if parent.exists() and not parent.is_dir():
            where = "is" if parent == path else f"is under {parent}, which is"
            raise NotADirectoryError(f"{what} {path} {where} a file, not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=path, prefix=".write-probe.", suffix=".tmp")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise PermissionError(f"{what} {path} is not writable: {exc.strerror or exc}") from None
    return path


def _json_safe(obj):
    """``obj`` with every NaN or infinite float replaced by ``None`` (JSON has neither)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    return obj


def write_json(path, obj, indent: int = 2, trailing_newline: bool = False) -> Path:
    """Write ``obj`` as strict JSON (NaN and infinities become ``null``), atomically."""
    import json

    text = json.dumps(_json_safe(obj), indent=indent, allow_nan=False)
    with atomic_write(path) as tmp:
        Path(tmp).write_text(text + ("\n" if trailing_newline else ""))
    return Path(path)


# The one locked store -----------------------------------------------------------------------------
try:
    import fcntl
except ImportError:  # not POSIX: writers are not safe across processes there
    fcntl = None


@contextlib.contextmanager
def locked(folder):
    """Hold an exclusive ``flock`` on ``folder`` (created if missing) for the block; closing the
    descriptor releases it, so no lock file is left."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if fcntl is None:
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def machine_description(device: str) -> str:
    """Where a run ran, e.g. ``cpu: 2 cores x86_64`` or ``cuda: NVIDIA H200``."""
    import platform

    if device.startswith("cuda"):
        import torch

        return f"cuda: {torch.cuda.get_device_name(0)}"
    return f"cpu: {os.cpu_count()} cores {platform.machine()}"


class TableStore:
    """A results table in one CSV file that several processes may add to: resumable and never
    half-written.

    ``columns`` are the file's columns in order; ``keys`` name a row (at most one row per key);
    ``dtypes`` maps a column to ``int``, ``float`` or ``str`` (every column is ``str`` when
    ``text=True``, read exactly as written). A writer holds :func:`locked` on the file's folder while it
    reads, merges and atomically replaces the file (:func:`atomic_write`).

    Reading refuses, naming the file and the line, anything a writer of this class never leaves:
    a last line cut short (no final newline), a row with too few or too many fields, a value of
    the wrong type and a duplicated key. Such a file is never rewritten as data.
    """

    def __init__(self, path, columns, keys, dtypes: dict | None = None, sort=None, text: bool = False):
        self.path = Path(path)
        self.columns, self.keys = tuple(columns), tuple(keys)
        self.dtypes = {c: str for c in self.columns} if text else dict(dtypes or {})
        self.text = text
        self.sort = list(sort) if sort is not None else None
        unknown = [c for c in (*self.keys, *self.dtypes) if c not in self.columns]
        if unknown:
            raise ValueError(f"{self.path}: key or typed column(s) {unknown} are not among the columns")

    def _empty(self):
        import pandas as pd

        return pd.DataFrame({c: pd.Series(dtype=object if self.dtypes.get(c, str) is str else self.dtypes[c])
                             for c in self.columns})

    def read(self):
        """Every stored row as a DataFrame of :attr:`columns` (empty when the file does not exist)."""
        import csv
        import io

        import pandas as pd

        if not self.path.exists():
            return self._empty()
        try:
            raw = self.path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"{self.path} is not a readable results CSV: {exc}") from None
        if not raw:
            return self._empty()
        if not raw.endswith("\n"):
            raise ValueError(f"{self.path}: line {raw.count(chr(10)) + 1} is cut short (no final newline); "
                             "the file was truncated: restore it (e.g. with git) or remove that line")
        try:
            lines = list(csv.reader(io.StringIO(raw, newline="")))
        except csv.Error as exc:
            raise ValueError(f"{self.path} is not a readable results CSV: {exc}") from None
        header = tuple(lines[0]) if lines else ()
        missing = [c for c in self.columns if c not in header]
        if missing:
            raise ValueError(f"{self.path} lacks the column(s) {missing}; expected {list(self.columns)}")
        for number, fields in enumerate(lines[1:], start=2):
            if len(fields) != len(header):
                raise ValueError(f"{self.path}, line {number}: {len(fields)} fields where the header has "
                                 f"{len(header)}; the row is cut short or malformed")
        if self.text:
            frame = pd.DataFrame(lines[1:], columns=list(header), dtype=str)[list(self.columns)]
        else:
            frame = pd.read_csv(self.path, dtype={c: str for c, kind in self.dtypes.items() if kind is str})[
                list(self.columns)]
        for column, kind in self.dtypes.items():
            if kind is str:
                continue
            values = pd.to_numeric(frame[column], errors="coerce")
            bad = (values.isna() & frame[column].notna()) | ((values != values.round()) if kind is int else False)
            if bad.any():
                line = int(np.flatnonzero(bad)[0])
                raise ValueError(f"{self.path}, line {line + 2}: column {column!r} holds "
                                 f"{str(frame[column].iloc[line])[:40]!r}, not {'an integer' if kind is int else 'a number'}")
        duplicated = frame.duplicated(list(self.keys), keep="first") if len(frame) else []
        if len(frame) and duplicated.any():
            first = int(np.flatnonzero(duplicated)[0])
            raise ValueError(f"{self.path}, line {first + 2}: a second row for the key "
                             f"{dict(zip(self.keys, frame.iloc[first][list(self.keys)]))}")
        return frame

    def has(self, **match) -> bool:
        """Whether a stored row has every ``column=value`` of ``match``."""
        rows = self.read()
        hit = np.ones(len(rows), dtype=bool)
        for column, value in match.items():
            hit &= (rows[column] == value).to_numpy()
        return bool(hit.any())

    def update(self, change) -> None:
        """Under the lock: ``frame = change(stored rows)``, checked, then written atomically."""
        import pandas as pd

        with locked(self.path.parent):
            frame = change(self.read())
            if not isinstance(frame, pd.DataFrame):
                frame = pd.DataFrame(list(frame), columns=list(self.columns))
            missing = [c for c in self.columns if c not in frame.columns]
            if missing:
                raise ValueError(f"rows lack the column(s) {missing}")
            frame = frame[list(self.columns)]
            if frame.duplicated(list(self.keys)).any():
                raise ValueError(f"rows for {self.path} repeat a key ({', '.join(self.keys)})")
            if self.sort:
                frame = frame.sort_values(self.sort, kind="stable")
            with atomic_write(self.path) as tmp:
                frame.to_csv(tmp, index=False, lineterminator="\n")

    def add(self, rows) -> None:
        """Store ``rows`` (every column), replacing the stored rows of the same keys."""
        import pandas as pd

        missing = [c for c in self.columns if c not in rows.columns]
        if missing:
            raise ValueError(f"rows lack the column(s) {missing}")
        keys = list(self.keys)

        def merge(stored):
            new = rows[list(self.columns)]
            if not len(stored):
                return new
            clash = stored.set_index(keys).index.isin(new.set_index(keys).index)
            return pd.concat([stored[~clash], new], ignore_index=True)

        self.update(merge)
