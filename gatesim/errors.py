"""The one error type users see: a single line, no traceback, exit status 2 (or 1 for a run
that failed rather than bad input)."""

from __future__ import annotations

import reprlib
import unicodedata

_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 60
_REPR.maxlist = _REPR.maxdict = _REPR.maxtuple = 4
_REPR.maxlevel = 2


class GatesimError(Exception):
    """A problem the user can fix (bad scenario, bad option); shown as one line."""

    exit_code = 2


class Interrupted(BaseException):
    """SIGTERM: stop like Ctrl-C does (exit 143 instead of 130)."""

    exit_code = 143


class WriteFailed(GatesimError):
    """Results could not be written (a full disk, a vanished directory): a run failure."""

    exit_code = 1


class WorkerDied(GatesimError):
    """A worker process died under a job (killed, out of memory): a run failure.

    ``index`` is the job's position in the executor's list; ``detail`` says what happened
    (e.g. "a worker process was killed by SIGKILL")."""

    exit_code = 1

    def __init__(self, index: int, detail: str) -> None:
        self.index = index
        super().__init__(detail)

    def __reduce__(self) -> tuple:
        return type(self), (self.index, str(self))


class JobFailed(WorkerDied):
    """A job raised an exception (in a worker process or inline): ``detail`` names it and
    where it was raised, in one line; the exception itself is the ``__cause__`` when it could
    be brought back from the worker."""


class ScenarioError(GatesimError):
    """A scenario file is wrong: names the file, the field path, the value and the expectation."""

    def __init__(self, file: str, path: str, value: object, expected: str) -> None:
        self.file, self.path, self.value, self.expected = file, path, value, expected
        if isinstance(value, _Shown):
            text = str(value)
        else:
            try:
                text = _REPR.repr(value)
            except ValueError:  # an int too long to turn into text
                text = "a number too long to show"
        parts = (one_line(file), one_line(path or "<document>"), one_line(text),
                 one_line(expected))
        super().__init__("{}: {}: got {}; expected {}".format(*parts))


def one_line(text: str) -> str:
    """``text`` with line breaks and other control characters escaped (one-line messages)."""
    return "".join(c if c == " " or unicodedata.category(c)[0] not in "CZ" or c.isprintable()
                   and unicodedata.category(c) not in ("Zl", "Zp") else repr(c)[1:-1]
                   for c in text)


class _Shown(str):
    """A value already phrased for the reader (e.g. 'an empty file'), shown without quotes."""


def shown(text: str) -> _Shown:
    return _Shown(text)
