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
