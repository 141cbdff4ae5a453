"""Where replications run: local worker processes or an existing dask.distributed cluster.

Both return results in job order, so a run is identical whatever the number of workers, the
executor, or the order in which replications finish.

The local workers are gatesim's own small pool (workers.py): a worker that dies is named
with its own job, workers stop quietly and die with their parent, and an exception inside a
job is one line (:class:`JobFailed`).
"""

from __future__ import annotations

import contextlib
import re
import signal
import socket
import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from gatesim import interrupts
from gatesim.errors import GatesimError, JobFailed, WorkerDied, one_line
from gatesim.experiments.workers import Pool, call, describe

OnResult = Callable[[int, Any], None]

STOP_TIMEOUT = 5.0
"""Seconds a stopped worker is given to exit before it is killed."""
CONNECT_TIMEOUT = 5.0
"""Seconds to reach a dask scheduler (dask's own default waits 30 s, and forever on a peer
that accepts the connection but never answers)."""
_HELD = {signal.SIGINT, signal.SIGTERM}
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


class Progress(Protocol):
    def update(self, n: int = 1) -> Any: ...


class Executor(Protocol):
    """Runs ``fn`` over ``jobs`` and returns the results in job order; ``on_result(i, r)`` is
    called as each job finishes (to keep it on disk). A job that raises is reported as
    :class:`JobFailed`, a worker that dies under a job as :class:`WorkerDied`; both carry the
    job's index."""

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
        interrupts.check()
        results: list[Any] = [None] * len(jobs)

        def finished(i: int, r: Any) -> None:
            interrupts.check()  # a Ctrl-C swallowed while importing: stop at the first job
            results[i] = r
            if on_result is not None:
                on_result(i, r)
            if progress is not None:
                progress.update(1)

        if self.workers == 1 or len(jobs) <= 1:
            for i, job in enumerate(jobs):
                finished(i, call(fn, job, i))
            return results
        pool = Pool(fn, min(self.workers, len(jobs)))
        try:
            pool.start()
            for i, r in pool.run(jobs):
                finished(i, r)
        except BaseException:
            pool.stop()
            raise
        pool.close()
        return results




# --- dask ----------------------------------------------------------------------------------
SCHEDULER_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx")
_HOST_PORT = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)"
                        r":([0-9]{1,5})")


def check_scheduler(address: str) -> tuple[str, str, int]:
    """``scheme, host, port`` of a dask scheduler address such as ``tcp://10.0.0.5:8786``
    (the scheme defaults to tcp), or a one-line GatesimError naming what is wrong."""
    shown = one_line(repr(address) if address != address.strip() else address)
    scheme, sep, place = address.partition("://")
    if not sep:
        scheme, place = "tcp", address
    if scheme not in SCHEDULER_SCHEMES:
        raise GatesimError(f"--scheduler {shown}: got the scheme {one_line(repr(scheme))}; "
                           f"expected an address like tcp://HOST:PORT (schemes: "
                           f"{', '.join(SCHEDULER_SCHEMES)})")
    m = _HOST_PORT.fullmatch(place)
    if m is not None and not 0 < int(m[2]) < 65536:
        raise GatesimError(f"--scheduler {shown}: got the port {m[2]}; expected 1 to 65535")
    if m is None:
        raise GatesimError(f"--scheduler {shown}: got {one_line(repr(place))} after "
                           f"{scheme}://; expected HOST:PORT, e.g. {scheme}://10.0.0.5:8786")
    return scheme, m[1].strip("[]"), int(m[2])


class DaskExecutor:
    """An existing dask.distributed scheduler (``gatesim[dask]``), e.g. ``tcp://host:8786``
    (or anything ``distributed.Client`` accepts, from Python)."""

    def __init__(self, scheduler: Any) -> None:
        self.where = check_scheduler(scheduler) if isinstance(scheduler, str) else None
        try:
            from distributed import Client
        except ImportError:  # pragma: no cover - depends on the install
            raise GatesimError("the dask executor needs the extra: pip install 'gatesim[dask]'"
                               ) from None
        self._client_cls = Client
        self.scheduler = scheduler

    def _connect(self) -> Any:
        """A client, or a one-line GatesimError within seconds: nothing listens, the host is
        unknown, or the peer is not a dask scheduler."""
        shown = one_line(str(self.scheduler))
        box: dict[str, Any] = {}
        gave_up = threading.Event()

        def attempt() -> None:
            try:
                if self.where is not None and self.where[0] != "ucx":
                    _, host, port = self.where
                    try:
                        socket.create_connection((host, port), CONNECT_TIMEOUT).close()
                    except OSError as exc:
                        box["error"] = f"nothing answers at {host}:{port}: " + (
                            exc.strerror or type(exc).__name__)
                        return
                client = self._client_cls(self.scheduler, timeout=CONNECT_TIMEOUT,
                                          set_as_default=False)
                if gave_up.is_set():
                    client.close()
                else:
                    box["client"] = client
            except Exception as exc:
                box["error"] = describe(exc).split(" (at ")[0]

        t = threading.Thread(target=attempt, name="gatesim-dask-connect", daemon=True)
        t.start()
        t.join(CONNECT_TIMEOUT + 2)
        if "client" in box:
            return box["client"]
        gave_up.set()
        if "error" in box:
            raise GatesimError(f"--scheduler {shown}: cannot connect ({box['error']})")
        raise GatesimError(f"--scheduler {shown}: no dask scheduler answered within "
                           f"{CONNECT_TIMEOUT + 2:g} s")

    def map(self, fn: Callable[[Any], Any], jobs: Sequence[Any],
            progress: Progress | None = None, on_result: OnResult | None = None
            ) -> list[Any]:
        from distributed import as_completed
        from distributed.client import FutureCancelledError
        from distributed.scheduler import KilledWorker

        interrupts.check()  # a Ctrl-C swallowed while importing distributed
        client = self._connect()
        futures: list[Any] = []
        results: list[Any] = [None] * len(jobs)
        try:
            futures = client.map(fn, list(jobs), pure=False)
            index = {f.key: i for i, f in enumerate(futures)}
            for fut in as_completed(futures, loop=client.loop):
                i = index[fut.key]
                try:
                    r = fut.result()
                except (KilledWorker, FutureCancelledError) as exc:
                    raise WorkerDied(i, f"a dask worker died ({one_line(str(exc))})"
                                     ) from exc
                except Exception as exc:
                    raise JobFailed(i, describe(exc)) from exc
                interrupts.check()
                results[i] = r
                if on_result is not None:
                    on_result(i, r)
                if progress is not None:
                    progress.update(1)
            return results
        except BaseException:
            with contextlib.suppress(Exception):
                client.cancel(futures)
            raise
        finally:
            with contextlib.suppress(Exception):
                client.close()


def make_executor(kind: str = "local", workers: int = 1, scheduler: str | None = None
                  ) -> Executor:
    """The executor named on the command line (a bad --scheduler is refused here)."""
    if kind == "local":
        return LocalExecutor(workers)
    if kind == "dask":
        if not scheduler:
            raise GatesimError("--executor dask: give --scheduler ADDRESS of a running cluster")
        return DaskExecutor(scheduler)
    raise GatesimError(f"--executor: got {kind!r}; expected local or dask")
