"""Where replications run: local worker processes or an existing dask.distributed cluster.

Both return results in job order, so a run is identical whatever the number of workers, the
executor, or the order in which replications finish.
"""

from __future__ import annotations

import multiprocessing as mp
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, Protocol

from gatesim.errors import GatesimError


class Progress(Protocol):
    def update(self, n: int = 1) -> Any: ...


class Executor(Protocol):
    """Runs ``fn`` over ``jobs`` and returns the results in job order."""

    def map(self, fn: Callable[[Any], Any], jobs: Sequence[Any],
            progress: Progress | None = None) -> list[Any]: ...


class LocalExecutor:
    """Worker processes on this machine (fork where available); ``workers=1`` runs inline."""

    def __init__(self, workers: int = 1) -> None:
        self.workers = max(1, workers)

    def map(self, fn: Callable[[Any], Any], jobs: Sequence[Any],
            progress: Progress | None = None) -> list[Any]:
        if self.workers == 1 or len(jobs) <= 1:
            out = []
            for job in jobs:
                out.append(fn(job))
                if progress is not None:
                    progress.update(1)
            return out
        ctx = mp.get_context("fork" if sys.platform != "win32" else "spawn")
        results: list[Any] = [None] * len(jobs)
        with ProcessPoolExecutor(max_workers=min(self.workers, len(jobs)), mp_context=ctx) as pool:
            futures = {pool.submit(fn, job): i for i, job in enumerate(jobs)}
            for fut in as_completed(futures):
                results[futures[fut]] = fut.result()
                if progress is not None:
                    progress.update(1)
        return results


class DaskExecutor:
    """An existing dask.distributed scheduler (``gatesim[dask]``), e.g. ``tcp://host:8786``."""

    def __init__(self, scheduler: Any) -> None:
        try:
            from distributed import Client
        except ImportError:  # pragma: no cover - depends on the install
            raise GatesimError("the dask executor needs the extra: pip install 'gatesim[dask]'"
                               ) from None
        self._client_cls = Client
        self.scheduler = scheduler

    def map(self, fn: Callable[[Any], Any], jobs: Sequence[Any],
            progress: Progress | None = None) -> list[Any]:
        try:
            client = self._client_cls(self.scheduler, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise GatesimError(f"--scheduler {self.scheduler}: cannot connect ({exc})") from None
        try:
            futures = client.map(fn, list(jobs), pure=False)
            if progress is not None:
                for fut in futures:
                    fut.add_done_callback(lambda _: progress.update(1))
            return client.gather(futures)
        finally:
            client.close()


def make_executor(kind: str = "local", workers: int = 1, scheduler: str | None = None
                  ) -> Executor:
    """The executor named on the command line."""
    if kind == "local":
        return LocalExecutor(workers)
    if kind == "dask":
        if not scheduler:
            raise GatesimError("--executor dask: give --scheduler ADDRESS of a running cluster")
        return DaskExecutor(scheduler)
    raise GatesimError(f"--executor: got {kind!r}; expected local or dask")
