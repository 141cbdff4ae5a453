"""The one error type users see: a single line, no traceback, exit status 2."""

from __future__ import annotations


class GatesimError(Exception):
    """A problem the user can fix (bad scenario, bad option); shown as one line."""

    exit_code = 2


class ScenarioError(GatesimError):
    """A scenario file is wrong: names the file, the field path, the value and the expectation."""

    def __init__(self, file: str, path: str, value: object, expected: str) -> None:
        self.file, self.path, self.value, self.expected = file, path, value, expected
        shown = repr(value)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        super().__init__(f"{file}: {path or '<document>'}: got {shown}; expected {expected}")
