"""Where replications run: local worker processes or an existing dask.distributed cluster.

Both return results in job order, so a run is identical whatever the number of workers, the
executor, or the order in which replications finish.
"""

from __future__ import annotations

import multiprocessing as mp
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol

from gatesim.errors import GatesimError, WorkerDied

OnResult = Callable[[int, Any], None]


class Progress(Protocol):
    def update(self, n: int = 1) -> Any: ...


class Executor(Protocol):
    """Runs ``fn`` over ``jobs`` and returns the results in job order; ``on_result(i, r)`` is
    called as each job finishes (to keep it on disk)."""

    def map(self, fn: Callable[[Any], Any], jobs: Sequence[Any],
            progress: Progress | None = None, on_result: OnResult | None = None
            ) -> list[Any]: ...


class LocalExecutor:
    """Worker processes on this machine (fork where available); ``workers=1`` runs inline."""

    def __init__(self, workers: int = 1) -> None:
        self.workers = max(1, workers)

    def map(self, fn: Callable[[Any], Any], jobs: Sequence[Any],
            progress: Progress | None = None, on_result: OnResult | None = None
            ) -> list[Any]:
        results: list[Any] = [None] * len(jobs)

        def finished(i: int, r: Any) -> None:
            results[i] = r
            if on_result is not None:
                on_result(i, r)
            if progress is not None:
                progress.update(1)

        if self.workers == 1 or len(jobs) <= 1:
            for i, job in enumerate(jobs):
                finished(i, fn(job))
            return results
        ctx = mp.get_context("fork" if sys.platform != "win32" else "spawn")
        pool = ProcessPoolExecutor(max_workers=min(self.workers, len(jobs)), mp_context=ctx)
        try:
            futures = {pool.submit(fn, job): i for i, job in enumerate(jobs)}
            for fut in as_completed(futures):
                try:
                    r = fut.result()
                except BrokenProcessPool as exc:
                    first = min(i for f, i in futures.items() if results[i] is None)
                    raise WorkerDied(first, f"a worker process died ({exc})") from None
                finished(futures[fut], r)
        except BaseException:
            _stop(pool)
            raise
        pool.shutdown()
        return results


def _stop(pool: ProcessPoolExecutor) -> None:
    """Cancel what has not started and end the workers now (Ctrl-C, SIGTERM, a dead worker)."""
    processes = list(getattr(pool, "_processes", {}).values())  # no public API for this
    pool.shutdown(wait=False, cancel_futures=True)
    for p in processes:
        if p.is_alive():
            p.terminate()
    for p in processes:
        p.join(timeout=5)


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
            progress: Progress | None = None, on_result: OnResult | None = None
            ) -> list[Any]:
        try:
            client = self._client_cls(self.scheduler, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise GatesimError(f"--scheduler {self.scheduler}: cannot connect ({exc})") from None
        futures: list[Any] = []
        try:
            futures = client.map(fn, list(jobs), pure=False)
            if progress is not None:
                for fut in futures:
                    fut.add_done_callback(lambda _: progress.update(1))
            results = client.gather(futures)
            if on_result is not None:
                for i, r in enumerate(results):
                    on_result(i, r)
            return results
        except BaseException:
            client.cancel(futures)
            raise
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
