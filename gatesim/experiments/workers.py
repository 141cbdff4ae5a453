"""The local worker pool: forked processes, one job at a time each, that stop quietly.

A small pool of gatesim's own rather than concurrent.futures, because stopping must be quiet
and a failure must be named exactly:

- the parent knows which job each worker runs, so a worker that dies (killed, out of memory)
  is reported with its own job and the signal that killed it;
- workers ignore Ctrl-C (the terminal sends it to them too; the parent stops them) and die
  at once on SIGTERM, so an interrupted run prints no worker tracebacks;
- workers die with the parent, even when it is SIGKILLed (Linux: ``PR_SET_PDEATHSIG``; a
  parent-pid check elsewhere), so no worker is ever left behind;
- an exception inside a job is reported as :class:`JobFailed`: the job's index, the
  exception and where it was raised, in one line (the same with one worker or many).
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing as mp
import os
import pickle
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from gatesim.errors import JobFailed, WorkerDied, one_line

STOP_TIMEOUT = 5.0
"""Seconds a stopped worker is given to exit before it is killed."""
_HELD = {signal.SIGINT, signal.SIGTERM}
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def describe(exc: BaseException) -> str:
    """An exception in one line: its type, message and where it was raised (the innermost
    line of gatesim, or else the innermost line of all)."""
    message = str(exc)
    if len(message) > 300:
        message = message[:300] + "…"
    text = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    try:
        here = Path(__file__).resolve()
        package = here.parents[1]
        frames = [(Path(f.filename).resolve(), f.lineno)
                  for f in traceback.extract_tb(exc.__traceback__)]
        frames = [(path, line) for path, line in frames if path != here]  # not the pool
        ours = [(path, line) for path, line in frames if path.is_relative_to(package)]
        if ours:
            path, line = ours[-1]
            text += f" (at {path.relative_to(package.parent).as_posix()}:{line})"
        elif frames:
            path, line = frames[-1]
            text += f" (at {path.name}:{line})"
    except Exception:  # the place is a courtesy; the message is what matters
        pass
    return one_line(text)


def call(fn: Callable[[Any], Any], job: Any, index: int) -> Any:
    try:
        return fn(job)
    except Exception as exc:
        raise JobFailed(index, describe(exc)) from exc


# --- the local pool: the parent's side --------------------------------------------------
@dataclass
class _Worker:
    process: Any  # a multiprocessing Process
    conn: Connection
    job: int | None = None  # the index of the job it runs


class Pool:
    """``size`` worker processes, each fed one job at a time through its own pipe."""

    def __init__(self, fn: Callable[[Any], Any], size: int) -> None:
        self.fn, self.size = fn, size
        self.workers: list[_Worker] = []

    def start(self) -> None:
        """Start the workers (the caller stops them if this is interrupted half-way)."""
        ctx = mp.get_context("fork" if sys.platform != "win32" else "spawn")
        parent = os.getpid()
        # A forked worker inherits the parent's handlers (SIGTERM raises Interrupted) until
        # it replaces them: hold SIGINT and SIGTERM until then, so neither ever reaches them
        # (a held signal is delivered once the worker, or the parent, lets it through).
        with _held_signals():
            for k in range(self.size):
                ours, theirs = ctx.Pipe(duplex=True)
                inherited = [w.conn for w in self.workers] + [ours]
                p = ctx.Process(target=_work, args=(self.fn, theirs, inherited, parent),
                                name=f"gatesim-worker-{k}", daemon=True)
                try:
                    p.start()
                except BaseException:
                    ours.close()
                    raise
                finally:
                    theirs.close()
                self.workers.append(_Worker(p, ours))

    def run(self, jobs: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        """``(index, result)`` as jobs finish; raises JobFailed or WorkerDied."""
        waiting = iter(range(len(jobs)))
        for w in self.workers:
            self._give(w, next(waiting, None), jobs)
        while busy := [w for w in self.workers if w.job is not None]:
            ready = set(wait([w.conn for w in busy] + [w.process.sentinel for w in busy]))
            for w in busy:
                if w.conn not in ready and w.process.sentinel not in ready:
                    continue
                i, reply = w.job, self._reply(w)
                assert i is not None
                if not reply[0]:
                    _, detail, exc = reply
                    raise JobFailed(i, detail) from exc
                self._give(w, next(waiting, None), jobs)
                yield i, reply[1]

    def _give(self, w: _Worker, i: int | None, jobs: Sequence[Any]) -> None:
        """Send job ``i`` to an idle worker (``None``: no more work, it exits)."""
        w.job = i
        try:
            w.conn.send(None if i is None else jobs[i])
        except OSError:  # it died since its last result
            if i is not None:
                self._died(w)

    def _reply(self, w: _Worker) -> tuple:
        try:
            if w.conn.poll():
                return w.conn.recv()
        except (EOFError, OSError):  # the pipe closed: it died, perhaps mid-message
            pass
        except Exception as exc:  # read whole, but it does not unpickle here
            return False, describe(exc) + " (reading the result back)", None
        self._died(w)
        raise AssertionError("unreachable")

    def _died(self, w: _Worker) -> None:
        w.process.join(STOP_TIMEOUT)
        code = w.process.exitcode
        assert w.job is not None
        if code is not None and code < 0:
            name = _signal_name(-code)
            hint = " (out of memory?)" if -code == getattr(signal, "SIGKILL", None) else ""
            raise WorkerDied(w.job, f"a worker process was killed by {name}{hint}")
        if code is None:
            raise WorkerDied(w.job, "a worker process stopped answering")
        raise WorkerDied(w.job, f"a worker process exited unexpectedly (status {code})")

    def close(self) -> None:
        """End idle workers (they were sent ``None``); kill any that do not exit."""
        deadline = time.monotonic() + STOP_TIMEOUT
        for w in self.workers:
            w.process.join(max(0.0, deadline - time.monotonic()))
        self.stop()

    def stop(self) -> None:
        """End every worker now (Ctrl-C, SIGTERM, a failed job): SIGTERM, then SIGKILL."""
        for w in self.workers:
            with contextlib.suppress(OSError, ValueError, AttributeError):
                if w.process.is_alive():
                    w.process.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT
        for w in self.workers:
            with contextlib.suppress(OSError, ValueError, AttributeError):
                w.process.join(max(0.0, deadline - time.monotonic()))
                if w.process.is_alive():
                    w.process.kill()
                    w.process.join(1.0)
            w.conn.close()


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


@contextlib.contextmanager
def _held_signals() -> Iterator[None]:
    """Hold SIGINT and SIGTERM while workers are forked. A forked worker inherits the mask,
    so neither reaches the parent's handlers it inherits (it replaces them first). In the
    parent, a signal taken meanwhile by another thread (numpy's, say) is only noted, then
    delivered again afterwards: raised inside fork's own callbacks (logging's lock), Python
    would print it as "Exception ignored" and carry on as if there had been no Ctrl-C."""
    noted: list[int] = []
    handlers = {}
    with contextlib.suppress(ValueError):  # ValueError: not the main thread
        for s in _HELD:
            handlers[s] = signal.signal(s, lambda number, frame: noted.append(number))
    mask = hasattr(signal, "pthread_sigmask")  # not on Windows: spawned workers inherit none
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD) if mask else None
    try:
        yield
    finally:
        if old is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)
        for s, h in handlers.items():
            signal.signal(s, h if h is not None else signal.SIG_DFL)  # None: set outside Python
        for number in dict.fromkeys(noted):
            signal.raise_signal(number)


# --- the local pool: the worker's side --------------------------------------------------
def _work(fn: Callable[[Any], Any], conn: Connection, inherited: list[Connection],
          parent: int) -> None:
    """A worker's life: quiet signals, die with the parent, then jobs until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C: the parent stops the workers
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # stopped: exit now, no traceback
    _die_with(parent)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _HELD)
    for c in inherited:  # the parent's ends: the pipe must close when the parent dies
        c.close()
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):  # the parent is gone
            return
        except Exception as exc:  # a job that cannot be rebuilt here
            reply: tuple = (False, describe(exc), None)
        else:
            if job is None:
                return
            try:
                reply = (True, fn(job))
            except BaseException as exc:  # SIGINT is ignored: never a real Ctrl-C
                reply = (False, describe(exc), exc)
            del job
        if not _send(conn, reply):
            return
        del reply


def _send(conn: Connection, reply: tuple) -> bool:
    """Send a reply; False when the parent is gone. The exception of a failed job goes along
    only when it survives pickling (many exception classes do not), its description always;
    a result that does not pickle is a failure (nothing was written before pickling)."""
    if not reply[0] and reply[2] is not None:
        try:
            pickle.loads(pickle.dumps(reply[2]))
        except Exception:
            reply = (False, reply[1], None)
    try:
        try:
            conn.send(reply)
        except (OSError, EOFError):
            return False
        except Exception as exc:
            conn.send((False, describe(exc) + " (sending the result back)", None))
    except (OSError, EOFError):
        return False
    return True


def _die_with(parent: int) -> None:
    """Make this worker die with ``parent``, even when the parent is SIGKILLed."""
    if not _parent_death_signal() and hasattr(os, "getppid") and sys.platform != "win32":
        threading.Thread(target=_watch, args=(parent,), name="gatesim-parent-watch",
                         daemon=True).start()
    if os.getppid() != parent:  # it died before the death signal was armed
        os._exit(1)


def _parent_death_signal() -> bool:
    """Linux: have the kernel SIGKILL this process when its parent exits."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        ok = libc.prctl(ctypes.c_int(_PR_SET_PDEATHSIG), ctypes.c_ulong(signal.SIGKILL),
                        ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0)) == 0
    except (OSError, AttributeError):
        return False
    return ok


def _watch(parent: int) -> None:
    """Elsewhere (macOS, BSD): exit once this process is handed to another parent."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)
