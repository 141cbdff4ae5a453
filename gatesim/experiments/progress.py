"""Progress on stderr while replications run: a tqdm bar on a terminal, and a plain line
every few seconds when stderr is a file or a pipe (a bar's carriage returns would fill a log
with one long line, and nothing at all left a piped run silent for a minute)."""

from __future__ import annotations

import sys
import time
from typing import Any, Protocol, TextIO

from tqdm import tqdm

from gatesim.i18n import _

EVERY_S = 5.0
"""Seconds between two plain progress lines."""


class Bar(Protocol):
    def update(self, n: int = 1) -> Any: ...
    def close(self) -> None: ...
    def __enter__(self) -> Bar: ...
    def __exit__(self, *exc: object) -> None: ...


class Lines:
    """``gatesim: huu_nghi replications 4 of 10 done (12 s)`` at most every ``every`` s."""

    def __init__(self, total: int | None, desc: str, stream: TextIO | None = None,
                 every: float = EVERY_S) -> None:
        self.total, self.desc, self.every = total, desc, every
        self.stream = stream if stream is not None else sys.stderr
        self.done = 0
        self.start = self.last = time.monotonic()

    def update(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if now - self.last >= self.every:
            self.last = now
            elapsed = round(now - self.start)
            if self.total:
                text = _("gatesim: %(what)s %(done)d of %(total)d done (%(s)d s)") % {
                    "what": self.desc, "done": self.done, "total": self.total, "s": elapsed}
            else:
                text = _("gatesim: %(what)s %(done)d done (%(s)d s)") % {
                    "what": self.desc, "done": self.done, "s": elapsed}
            print(text, file=self.stream, flush=True)

    def close(self) -> None:
        """Nothing to clear: the lines stay as a record of the run."""

    def __enter__(self) -> Lines:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def bar(total: int | None, desc: str, enabled: bool) -> Bar:
    """A progress bar (terminal), plain lines (file or pipe) or nothing (``enabled`` False)."""
    if enabled and not sys.stderr.isatty():
        return Lines(total, desc)
    return tqdm(total=total, desc=desc, file=sys.stderr, leave=False, disable=not enabled)
