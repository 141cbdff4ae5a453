"""Replayed arrivals: a real day's gate log, read from a CSV file, as an arrival stream.

The file is UTF-8 (a BOM is allowed), comma-separated, with a header row naming its columns:

- exactly one of ``time`` (local Hanoi ``YYYY-MM-DD HH:MM[:SS]``, or with a ``T``; no UTC
  offset; not before the clock start) or ``hours`` (hours from the clock start, >= 0);
- optional ``direction``, ``cargo``, ``site``: an empty cell takes the stream's own value;
- optional attribute columns named like a scenario attribute: true/false/yes/no/1/0
  (any case) in every row;
- optional ``service:<stage>`` and ``crossing:<lane>``: fixed hours for that truck (0 to
  ``MAX_HOURS``); an empty cell means the time is drawn as usual (NaN).

The rows need not be in time order: they are sorted by time (stably). Rows at or after the
horizon are kept; they simply never arrive. Blank lines are skipped; cells are stripped.
A fault is one line: ``<file>, line <n>, column <name>: got …; expected … (<where>)``.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import difflib
import functools
import math
import operator
import re
import reprlib
import stat
from array import array
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from gatesim.errors import ScenarioError, one_line
from gatesim.fields import MAX_HOURS

MAX_ROWS = 2_000_000
"""Rows a replay may hold: a year of a busy border's gate log."""
CACHED = 8
"""Parsed files kept per process (each replication of a worker reuses its scenario's)."""
DIRECTIONS = ("export", "import")
BOOLS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
TIME = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(?::\d{2})?")
KEYS = ("direction", "cargo", "site")
_REPR = reprlib.Repr()
_REPR.maxstring = 60


@dataclass(frozen=True)
class Kind:
    """What trucks of one replayed kind are; ``attributes`` only those the file gives."""

    direction: str
    cargo: str
    site: str | None
    attributes: tuple[tuple[str, bool], ...]


@dataclass(frozen=True, eq=False)
class Replay:
    """A parsed replay, sorted by arrival time; its arrays are read-only (it is cached and
    shared), and it compares by identity."""

    hours: np.ndarray
    kinds: tuple[Kind, ...]
    kind: np.ndarray
    fixed: dict[str, np.ndarray]
    file: str


class ReplayError(ScenarioError):
    """A fault in a replay file: the file, line and column, the value and the expectation."""

    def __init__(self, file: str, line: int | None, column: str | None, got: str,
                 expected: str, where: str) -> None:
        self.file, self.line, self.column, self.value = file, line, column, got
        self.expected, self.where = expected, where
        self.path = ", ".join(([f"line {line}"] if line else [])
                              + ([f"column {column}"] if column else []))
        at = one_line(file) + (f", {one_line(self.path)}" if self.path else "")
        Exception.__init__(self, f"{at}: got {one_line(got)}; expected {one_line(expected)} "
                                 f"({one_line(where)})")

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.file, self.line, self.column, self.value, self.expected,
                            self.where)


@dataclass(frozen=True)
class _Spec:
    """The scenario's side of a replay (hashable: part of the cache key)."""

    where: str
    start: dt.datetime
    direction: str
    cargo: str
    site: str | None
    attributes: frozenset[str]
    stages: frozenset[str]
    lanes: frozenset[str]
    sites: frozenset[str]
    cargos: frozenset[str]
    routes: frozenset[tuple[str, str, str | None]]


def read_replay(path: Path, *, where: str, start: dt.datetime, direction: str, cargo: str,
                site: str | None, attributes: Collection[str],
                stages: Collection[str], lanes: Collection[str], sites: Collection[str],
                cargos: Collection[str], routes: Collection[tuple[str, str, str | None]]
                ) -> Replay:
    """The replay in ``path`` (cached while the file is unchanged), or a ReplayError.

    ``direction``, ``cargo`` and ``site`` are the stream's defaults; the horizon does not cut
    the file (later rows never arrive), so one parse serves every horizon of a sweep."""
    spec = _Spec(where, start, direction, cargo, site, frozenset(attributes),
                 frozenset(stages), frozenset(lanes), frozenset(sites), frozenset(cargos),
                 frozenset(routes))
    try:
        real = Path(path).resolve()
        st = real.stat()
    except (OSError, RuntimeError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ReplayError(str(path), None, None, "a file that cannot be read",
                          f"a readable CSV file ({reason})", where) from None
    if not stat.S_ISREG(st.st_mode):  # a device or a pipe would be read forever
        raise ReplayError(str(path), None, None, "not a regular file",
                          "a CSV file (not a directory, device or pipe)", where)
    return _cached(str(path), real, st.st_mtime_ns, st.st_size, spec)


@functools.lru_cache(maxsize=CACHED)
def _cached(file: str, real: Path, mtime_ns: int, size: int, spec: _Spec) -> Replay:
    return _Parser(file, spec).parse(real)


def _hint(value: str, names: Collection[str]) -> str:
    """'did you mean …?' or the names that would do (ten at most)."""
    near = difflib.get_close_matches(value, list(names), n=1)
    if near:
        return f"did you mean {near[0]!r}?"
    listed = sorted(names)
    return "one of " + ", ".join(listed[:10]) + (", …" if len(listed) > 10 else "")


class _Parser:
    def __init__(self, file: str, spec: _Spec) -> None:
        self.file, self.spec = file, spec
        self.columns: list[str] = []
        self._times: dict[str, float] = {}

    def fail(self, line: int | None, column: str | None, got: str, expected: str) -> NoReturn:
        raise ReplayError(self.file, line, column, got, expected, self.spec.where)

    def header(self, row: list[str], at: int) -> None:
        s = self.spec
        known = ["time", "hours", *KEYS, *sorted(s.attributes),
                 *(f"service:{n}" for n in sorted(s.stages)),
                 *(f"crossing:{n}" for n in sorted(s.lanes))]
        for i, name in enumerate(c.strip() for c in row):
            if not name:
                self.fail(at, f"#{i + 1}", "an empty name", "a column name")
            if name in self.columns:
                self.fail(at, name, _REPR.repr(name), "each column only once")
            if name not in known:
                self.fail(at, name, _REPR.repr(name), "a known column, " + _hint(name, known))
            self.columns.append(name)
        times = [c for c in ("time", "hours") if c in self.columns]
        if len(times) != 1:
            self.fail(at, times[-1] if times else "time",
                      "both time and hours" if times else "no time or hours column",
                      "exactly one of the columns time or hours")

    def converter(self, name: str) -> Callable[[str], Any]:
        """Text of a stripped cell -> its value, or ValueError(what was expected)."""
        s = self.spec
        if name in KEYS:
            default, allowed = getattr(s, name), {
                "direction": DIRECTIONS, "cargo": s.cargos, "site": s.sites}[name]

            def pick(cell: str) -> str | None:
                if not cell or cell in allowed:
                    return cell or default
                raise ValueError(f"a {name} of the scenario, {_hint(cell, allowed)}")
            return pick
        return {"time": self.time, "hours": _hours}.get(
            name, _bool if name in s.attributes else _duration)

    def time(self, cell: str) -> float:
        hours = self._times.get(cell)
        if hours is None:
            text = cell.strip()
            try:
                t = dt.datetime.fromisoformat(text) if TIME.fullmatch(text) else None
            except ValueError:
                t = None
            if t is None:
                raise ValueError("a local date and time YYYY-MM-DD HH:MM[:SS]")
            if t < self.spec.start:
                raise ValueError(f"a time at or after the clock start {self.spec.start}")
            hours = self._times[cell] = (t - self.spec.start).total_seconds() / 3600
        return hours

    def parse(self, real: Path) -> Replay:
        try:
            with real.open(encoding="utf-8-sig", newline="") as f:
                return self.rows(csv.reader(f, strict=True))
        except UnicodeDecodeError:
            self.bad_utf8(real)
        except OSError as exc:
            self.fail(None, None, "a file that cannot be read",
                      f"a readable CSV file ({exc.strerror or exc})")

    def rows(self, reader: Any) -> Replay:
        """Convert row by row; kinds and times are looked up by their text once seen."""
        s, line = self.spec, 0
        try:
            header = next((row for row in reader if row), None)  # [] is a blank line
            if header is None:
                self.fail(1, "time", "an empty file", "a header row, then one row per truck")
            self.header(header, reader.line_num)
            line, names = reader.line_num, self.columns
            convs = [self.converter(c) for c in names]
            t_at = names.index("time" if "time" in names else "hours")
            keys = sorted((i for i, c in enumerate(names) if c in KEYS or c in s.attributes),
                          key=lambda i: (names[i] not in KEYS, names[i]))
            key_of = operator.itemgetter(*keys) if keys else (lambda row: ())
            hours, raw = array("d"), array("i")
            fixed = [(array("d"), i) for i, c in enumerate(names) if ":" in c]
            by_text: dict[Any, int] = {}
            by_value: dict[tuple[Any, ...], int] = {}
            kinds: list[Kind] = []
            for row in reader:
                line, here = reader.line_num, line + 1
                if len(row) != len(names):
                    if not row:
                        continue
                    column = names[len(row)] if len(row) < len(names) else f"#{len(names) + 1}"
                    self.fail(here, column, f"{len(row)} fields",
                              f"{len(names)} fields, as the header has")
                if len(hours) >= MAX_ROWS:
                    self.fail(here, names[t_at], f"over {MAX_ROWS:,} rows",
                              f"at most {MAX_ROWS:,} rows (split the log)")
                try:
                    hours.append(convs[t_at](row[t_at]))
                    for out, i in fixed:
                        out.append(_duration(row[i]))
                    k = by_text.get(key_of(row))
                    if k is None:
                        given = {names[i]: convs[i](row[i].strip()) for i in keys}
                        k = by_value.setdefault(tuple(given.values()), len(kinds))
                        if k == len(kinds):
                            kinds.append(self.kind(here, given))
                        by_text[key_of(row)] = k
                except ValueError:
                    self.bad_cell(here, row, convs)
                raw.append(k)
        except csv.Error as exc:
            self.fail(line + 1, None, f"text CSV cannot read ({exc})", "a well-formed CSV row")
        if not hours:
            self.fail(line + 1, names[t_at], "no rows", "at least one row (one truck a row)")
        return self.sorted(hours, raw, kinds, {names[i]: out for out, i in fixed})

    def bad_cell(self, line: int, row: list[str], convs: list[Callable[[str], Any]]) -> NoReturn:
        for name, conv, cell in zip(self.columns, convs, row, strict=True):
            try:
                conv(cell.strip())
            except ValueError as exc:
                self.fail(line, name, _REPR.repr(cell.strip()), str(exc))
        raise AssertionError("a cell failed once but not twice")

    def kind(self, line: int, given: dict[str, Any]) -> Kind:
        """The Kind of a first-seen row; its direction, cargo and site must have a route."""
        s = self.spec
        d, c, site = (given.get(k, getattr(s, k)) for k in KEYS)
        if (d, c, site) not in s.routes:
            column = next((k for k in reversed(KEYS) if k in given), self.columns[0])
            self.fail(line, column, f"direction {d}, cargo {c}, site {site or '(none)'}",
                      "a direction, cargo and site that a route serves")
        return Kind(d, c, site, tuple((k, v) for k, v in given.items() if k not in KEYS))

    def sorted(self, hours: list[float], raw: list[int], kinds: list[Kind],
               fixed: dict[str, list[float]]) -> Replay:
        """Sort rows by time (stable) and number the kinds in first-seen order."""
        times = np.asarray(hours, dtype=np.float64)
        order = np.argsort(times, kind="stable")
        by_time = np.asarray(raw, dtype=np.int32)[order]
        _, first = np.unique(by_time, return_index=True)
        ranked = np.unique(by_time)[np.argsort(first)]
        renumber = np.empty(len(kinds), dtype=np.int32)
        renumber[ranked] = np.arange(len(ranked), dtype=np.int32)
        arrays = {"hours": times[order], "kind": renumber[by_time],
                  **{k: np.asarray(v, dtype=np.float64)[order] for k, v in fixed.items()}}
        for a in arrays.values():
            a.flags.writeable = False
        return Replay(hours=arrays.pop("hours"), kinds=tuple(kinds[i] for i in ranked),
                      kind=arrays.pop("kind"), fixed=arrays, file=self.file)

    def bad_utf8(self, real: Path) -> NoReturn:
        """Name the line and column of the first byte that is not UTF-8."""
        data = real.read_bytes()
        data = data[len(codecs.BOM_UTF8):] if data.startswith(codecs.BOM_UTF8) else data
        try:
            data.decode("utf-8")
            bad = len(data)
        except UnicodeDecodeError as exc:
            bad = exc.start
        begin = data.rfind(b"\n", 0, bad) + 1
        before = data[begin:bad].decode("utf-8", "replace")
        index = len(next(csv.reader([before]), None) or [""]) - 1
        header = self.columns or [c.strip() for c in next(csv.reader(
            [data[:data.find(b"\n")].decode("utf-8", "replace")]), [])]
        column = header[index] if 0 <= index < len(header) else f"#{index + 1}"
        byte = data[bad:bad + 1].hex() or "end"
        self.fail(data.count(b"\n", 0, bad) + 1, column, f"the byte 0x{byte}", "UTF-8 text")


def _hours(cell: str, most: float = math.inf, blank: float | None = None) -> float:
    """Hours in [0, most] (spaces around allowed); an empty cell is ``blank`` if given."""
    if blank is not None and (not cell or cell.isspace()):
        return blank
    try:
        value = float(cell)
    except ValueError:
        value = math.nan
    if not (0 <= value <= most and value < math.inf):  # NaN fails too
        raise ValueError("a number of hours >= 0" if most == math.inf
                         else f"a number of hours from 0 to {most}, or nothing")
    return value


_duration = functools.partial(_hours, most=MAX_HOURS, blank=math.nan)
"""A fixed service or crossing time; an empty cell is NaN (drawn as usual)."""


def _bool(cell: str) -> bool:
    value = BOOLS.get(cell.lower())
    if value is None:
        raise ValueError("true or false (yes/no, 1/0)")
    return value


# --- a scenario's replayed streams ------------------------------------------------------------
def anchor(doc: Any, folder: Path) -> None:
    """Make every ``arrivals.<name>.replay`` of one file's mapping a path from ``folder``
    (the folder of the file that names it), so an ``extends:`` chain across folders and a
    worker in another directory find the same file."""
    arrivals = doc.get("arrivals") if isinstance(doc, dict) else None
    for stream in arrivals.values() if isinstance(arrivals, dict) else ():
        if isinstance(stream, dict) and isinstance(stream.get("replay"), str):
            stream["replay"] = str(folder / stream["replay"])


def replay_of(s: Any, name: str) -> Replay:
    """The replay of stream ``name`` of scenario ``s`` (read once per file while unchanged)."""
    spec = s.arrivals[name]
    attributes = set(s.attributes) | {k for a in s.arrivals.values() for k in a.attributes}
    sites = {x for a in s.arrivals.values() if a.site is not None
             for x in (a.site if isinstance(a.site, dict) else [a.site])}
    sites |= {r.site for r in s.routes.values() if r.site is not None}
    return read_replay(
        Path(spec.replay), where=f"arrivals.{name}.replay", start=s.clock.start,
        direction=spec.direction, cargo=spec.cargo,
        site=spec.site, attributes=attributes, stages=s.stages, lanes=s.lanes, sites=sites,
        cargos={a.cargo for a in s.arrivals.values()} | {r.cargo for r in s.routes.values()},
        routes={(r.direction, r.cargo, r.site) for r in s.routes.values()})
