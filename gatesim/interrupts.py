"""A Ctrl-C that a library swallowed still stops gatesim.

Python turns SIGINT into KeyboardInterrupt wherever the main thread happens to be. Some
compiled modules clear any error raised while they import (Cython's module set-up clears what
``collections.abc``'s ``register`` raises, and numpy.random and pandas are Cython): a Ctrl-C
landing there vanished and the run went on to write its results with exit status 0. The
console entry point runs inside :func:`watched`, whose :func:`handler` notes the signal
before raising; the work calls :func:`check` where it commits to something (starting and
finishing jobs, publishing a results directory), so a swallowed Ctrl-C stops it there.
"""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Iterator
from types import FrameType
from typing import Any

_noted = False


def handler(signum: int, frame: FrameType | None) -> None:
    """SIGINT: remember it, then raise KeyboardInterrupt as Python's own handler does."""
    global _noted
    _noted = True
    raise KeyboardInterrupt


@contextlib.contextmanager
def watched() -> Iterator[None]:
    """Within this block (main thread) SIGINT goes through :func:`handler`, and a
    KeyboardInterrupt that Python could only report as "Exception ignored" (raised inside a
    callback, e.g. importlib's module-lock clean-up) is not printed: it is noted, and
    :func:`check` stops the run. Elsewhere, or outside the main thread, nothing changes."""
    global _noted
    _noted = False
    try:
        previous = signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread
        yield
        return
    hook = sys.unraisablehook

    def quiet(unraisable: Any) -> None:
        if not issubclass(unraisable.exc_type, KeyboardInterrupt):
            hook(unraisable)

    sys.unraisablehook = quiet
    try:
        yield
    finally:
        sys.unraisablehook = hook
        signal.signal(signal.SIGINT, previous)
        _noted = False  # a later run in this process starts afresh


def noted() -> bool:
    """Whether a Ctrl-C arrived within :func:`watched`: whatever failed after it (a module
    whose initialisation it broke reports ImportError) is its consequence."""
    return _noted


def check() -> None:
    """Raise KeyboardInterrupt if a Ctrl-C arrived within :func:`watched`, even one that
    some library caught and dropped."""
    if _noted:
        raise KeyboardInterrupt
