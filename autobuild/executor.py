"""Independent jobs (searches per seed, SD-mini evaluations, ...) through one small interface.

``get_executor()`` runs jobs in this process by default. Given the address of a Dask
scheduler (``tcp://HOST:PORT``, or ``$AUTOBUILD_SCHEDULER``), it sends them to that cluster
instead: ``pip install "autobuild[dask]"``, then on one machine ``dask scheduler`` and on every
machine ``dask worker tcp://HOST:8786``. Results come back in the order of the inputs, so a
seeded job gives the same answer wherever it ran.
"""
from __future__ import annotations

from typing import Callable, Iterable, Iterator

from tqdm.auto import tqdm

from autobuild._paths import scheduler_address


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
        try:
            from dask.distributed import Client
        except ImportError:
            raise ValueError(f"a Dask scheduler ({address}) needs dask's distributed scheduler: "
                             "pip install 'autobuild[dask]'") from None
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
