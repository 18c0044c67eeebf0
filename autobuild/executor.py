"""Independent jobs (searches per seed, SD-mini evaluations, ...) through one small interface.

``get_executor()`` runs jobs in this process by default. Given the address of a Dask
scheduler (``tcp://HOST:PORT``, or ``$AUTOBUILD_SCHEDULER``), it sends them to that cluster
instead: ``pip install "autobuild[dask]"``, then on one machine ``dask scheduler`` and on every
machine ``dask worker tcp://HOST:8786``. Results come back in the order of the inputs, so a
seeded job gives the same answer wherever it ran.

A scheduler address is checked before any work (:func:`check_address`: ``tcp://`` or ``tls://``,
a host, a port in 1..65535) and probed within :data:`PROBE_SECONDS`: a closed port, an address
nothing answers on, or a server that does not greet like a Dask scheduler is a ``ValueError``.
"""
from __future__ import annotations

import socket
import struct
from typing import Callable, Iterable, Iterator
from urllib.parse import urlsplit

from tqdm.auto import tqdm

from autobuild._paths import scheduler_address

PROBE_SECONDS = 5  #: how long a scheduler may take to accept a connection and greet
MAX_GREETING_FRAMES = 64  #: a Dask greeting announces a handful of frames; more is another protocol


def check_address(address: str) -> tuple[str, int]:
    """``(host, port)`` of a scheduler address ``tcp://HOST:PORT`` (or ``tls://``); else ``ValueError``."""
    try:
        parts = urlsplit(address)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"scheduler address {address[:80]!r} is malformed ({exc}); expected tcp://HOST:PORT") from None
    if parts.scheme not in ("tcp", "tls") or not parts.hostname or port is None or not 1 <= port <= 65535 \
            or parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ValueError(f"scheduler address {address[:80]!r} is not of the form tcp://HOST:PORT "
                         "(scheme tcp or tls, a host, a port in 1..65535)")
    return parts.hostname, port


def probe_scheduler(address: str, timeout: float = PROBE_SECONDS) -> None:
    """Connect to ``address`` and read the greeting a Dask scheduler sends first; ``ValueError`` if
    the port is closed, nothing answers within ``timeout`` seconds, or the greeting is not Dask's."""
    host, port = check_address(address)
    try:
        with socket.create_connection((host, port), timeout=timeout) as conn:
            if address.startswith("tcp://"):  # a tls:// greeting comes after the TLS handshake
                head = conn.recv(8)
                if len(head) < 8 or not 1 <= struct.unpack("<Q", head)[0] <= MAX_GREETING_FRAMES:
                    raise ValueError(f"the server at {address} is not a Dask scheduler (its greeting is not "
                                     "Dask's); start one with `dask scheduler`")
    except socket.timeout:
        raise ValueError(f"the server at {address} did not greet within {timeout:g} s: it is not a Dask scheduler, "
                         "or the address is unroutable; start one with `dask scheduler`") from None
    except OSError as exc:
        raise ValueError(f"cannot reach the Dask scheduler at {address}: {exc.strerror or exc}") from None


class Executor:
    """Runs jobs one after another in this process."""

    def map(self, fn: Callable, items: Iterable, desc: str | None = None, progress: bool = True) -> list:
        """``[fn(item) for item in items]``, with a progress bar."""
        items = list(items)
        return [fn(item) for item in tqdm(items, desc=desc, disable=not progress, leave=False)]

    def as_completed(self, fn: Callable, items: Iterable) -> Iterator[tuple[int, object]]:
        """``(index, fn(items[index]))`` as each job finishes (here: in order), so that a caller can
        store every result at once and an interrupted run loses nothing finished."""
        for i, item in enumerate(items):
            yield i, fn(item)

    def close(self) -> None:
        """Release the executor's resources (nothing to release in process)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class DaskExecutor(Executor):
    """Runs jobs on a Dask distributed cluster: one task per item, gathered in input order."""

    def __init__(self, address: str, timeout: float = 30):
        check_address(address)
        try:
            from dask.distributed import Client
        except ImportError:
            raise ValueError(f"a Dask scheduler ({address}) needs dask's distributed scheduler: "
                             "pip install 'autobuild[dask]'") from None
        probe_scheduler(address)
        try:
            self.client = Client(address, timeout=timeout)
        except OSError as exc:
            raise ValueError(f"cannot reach the Dask scheduler at {address}: {exc}") from None

    def map(self, fn: Callable, items: Iterable, desc: str | None = None, progress: bool = True) -> list:
        from dask.distributed import as_completed

        items = list(items)
        futures = self.client.map(fn, items, pure=False)
        for _ in tqdm(as_completed(futures), total=len(futures), desc=desc, disable=not progress, leave=False):
            pass
        return self.client.gather(futures)

    def as_completed(self, fn: Callable, items: Iterable) -> Iterator[tuple[int, object]]:
        from dask.distributed import as_completed

        futures = self.client.map(fn, list(items), pure=False)
        index = {f.key: i for i, f in enumerate(futures)}
        for future in as_completed(futures):
            yield index[future.key], future.result()

    def close(self) -> None:
        self.client.close()


def get_executor(scheduler: str | None = None) -> Executor:
    """:class:`DaskExecutor` on ``scheduler`` (default ``$AUTOBUILD_SCHEDULER``), else in process."""
    address = scheduler or scheduler_address()
    return DaskExecutor(address) if address else Executor()
