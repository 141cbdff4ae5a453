"""Reported figures to calibrate against or validate with (``gatesim calibrate --targets``).

A targets file names the ranged parameters to fit and the figures people reported::

    fit: [hn_export_acceptance, export_intake_cv]
    targets:
      backlog_22_aug_20h:
        measure: waiting            # trucks in these yards and roads at a local date and hour
        places: [hn_export_yard, ql1a]
        at: "2024-08-22 20:00"
        reported: 354
        half_band: 89
        source: "§1a …"
        use: calibration            # fitted; 'validation' figures are only reported

Measures: ``waiting`` (places, at), ``cleared`` (lane ``sides`` crossed on the local ``date``),
``growth`` (the least-squares slope per day of ``waiting`` at the hour of ``from``, each day
from ``from`` to ``to``) and ``summary`` (a row of summary.csv, ``metric/scope/stat``). A target
may be measured on another ``scenario`` (a path relative to the targets file) with ``set``
overrides; the fitted values go to every parameter of that scenario with the same name.
Everything is checked against the scenarios before any run (one-line errors).
"""

from __future__ import annotations

import datetime as dt
import math
import os
import stat
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from gatesim.engine.records import ReplicationOutput
from gatesim.errors import GatesimError, ScenarioError, shown
from gatesim.experiments.metrics import replication_rows
from gatesim.experiments.names import check_key, did_you_mean
from gatesim.fields import Name, NoBool
from gatesim.scenario.base import Strict
from gatesim.scenario.loader import kind, load_text
from gatesim.scenario.schema import Scenario

Use = Literal["calibration", "validation"]
MEASURES = ("waiting", "cleared", "growth", "summary")
MAX_TARGETS = 200
MAX_FILE_BYTES = 1_000_000
"""A targets file holds at most MAX_TARGETS figures of a few lines each: far under 1 MB."""
MAX_FIGURE = 1e12
"""The largest |reported| and half_band: every term ((m − reported)/half_band)² of the
objective stays a finite float (no overflow in the middle of a calibration)."""
MIN_HALF_BAND = 1e-9
LOCAL_TIME = "a local date and hour 'YYYY-MM-DD HH:MM', e.g. '2024-08-22 20:00'"


def _local_time(value: object) -> object:
    """A date-time as written: not a number (pydantic reads one as a Unix time), not a date
    without its hour."""
    if isinstance(value, bool | int | float) or (
            isinstance(value, dt.date) and not isinstance(value, dt.datetime)) or (
            isinstance(value, str) and ":" not in value):
        raise ValueError(LOCAL_TIME)
    return value


def _naive(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is not None:
        raise ValueError(f"{LOCAL_TIME} without a UTC offset (local times only)")
    return value


def _local_date(value: object) -> object:
    if isinstance(value, bool | int | float | dt.datetime) or (
            isinstance(value, str) and ":" in value):
        raise ValueError("a local date 'YYYY-MM-DD', e.g. 2024-08-29")
    return value


def _unique(value: list[str]) -> list[str]:
    twice = next((x for i, x in enumerate(value) if x in value[:i]), None)
    if twice is not None:
        raise ValueError(f"each name once ({twice!r} is written twice)")
    return value


LocalTime = Annotated[dt.datetime, BeforeValidator(_local_time), AfterValidator(_naive)]
LocalDate = Annotated[dt.date, BeforeValidator(_local_date)]
Figure = Annotated[float, NoBool, Field(ge=-MAX_FIGURE, le=MAX_FIGURE)]
Counted = Annotated[float, NoBool, Field(ge=0, le=MAX_FIGURE)]
"""A reported count of trucks (waiting, cleared): never negative."""
HalfBand = Annotated[float, NoBool, Field(ge=MIN_HALF_BAND, le=MAX_FIGURE)]
Names = Annotated[list[Name], Field(min_length=1), AfterValidator(_unique)]
Sides = Annotated[list[str], Field(min_length=1), AfterValidator(_unique)]


class _Target(Strict):
    reported: Figure
    half_band: HalfBand = Field(description="half the band the reported figure is trusted to")
    source: str = Field(min_length=1, description="where the figure was reported (§ of facts)")
    use: Use
    scenario: str | None = Field(None, min_length=1,
                                 description="measured on this scenario file instead")
    set: list[str] = Field(default_factory=list, description="--set overrides for its run")
    _file: str = PrivateAttr("")
    """The targets file it came from (for messages; set by load_targets)."""

    def places_used(self) -> list[str]:
        return []


class Waiting(_Target):
    measure: Literal["waiting"]
    reported: Counted
    places: Names
    at: LocalTime

    def places_used(self) -> list[str]:
        return self.places


class Cleared(_Target):
    measure: Literal["cleared"]
    reported: Counted
    sides: Sides
    date: LocalDate = Field(description="the local date (YAML reads a key `on` as true)")


class Growth(_Target):
    measure: Literal["growth"]
    places: Names
    start: LocalTime = Field(alias="from")
    end: LocalTime = Field(alias="to")

    @field_validator("end")
    @classmethod
    def _whole_days(cls, end: dt.datetime, info: ValidationInfo) -> dt.datetime:
        start = info.data.get("start")
        if start is not None:
            days = (end - start) / dt.timedelta(days=1)
            if days < 2 or not days.is_integer():
                raise ValueError("a time at least two whole days after 'from', at the same "
                                 "hour (one snapshot a day; a slope needs 3 days)")
        return end

    def places_used(self) -> list[str]:
        return self.places


class Summary(_Target):
    measure: Literal["summary"]
    metric: str

    @field_validator("metric")
    @classmethod
    def _three_parts(cls, v: str) -> str:
        if len(v.split("/")) != 3 or not all(v.split("/")):
            raise ValueError("metric/scope/stat, e.g. throughput_per_day/system/mean")
        return v


Target = Annotated[Waiting | Cleared | Growth | Summary, Field(discriminator="measure")]


class Targets(Strict):
    """The parameters to fit and the reported figures, by name."""

    fit: Names
    targets: dict[Name, Target] = Field(min_length=1, max_length=MAX_TARGETS)

    @field_validator("targets")
    @classmethod
    def _usable(cls, targets: dict[str, Any]) -> dict[str, Any]:
        if not any(t.use == "calibration" for t in targets.values()):
            raise ValueError("at least one target with use: calibration")
        return targets


def _read(path: Path, file: str) -> str:
    """The text of a regular file under MAX_FILE_BYTES, or a one-line ScenarioError: opened
    without blocking (a FIFO or a device never hangs), its type checked on the open file."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the name
        why = getattr(exc, "strerror", None) or exc
        raise ScenarioError(file, "", shown(file), f"a readable targets file ({why})") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        what = "a directory" if stat.S_ISDIR(mode) else "no regular file (a pipe or device)"
        raise ScenarioError(file, "", shown(what), "a targets file (YAML)")
    with os.fdopen(fd, "rb") as f:
        data = f.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise ScenarioError(file, "", shown(f"over {MAX_FILE_BYTES} bytes"),
                            f"a targets file under {MAX_FILE_BYTES} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(file, "", shown("unreadable text"), f"a UTF-8 file ({exc.reason} "
                            f"at byte {exc.start})") from None


def _expected(err: dict[str, Any]) -> str:
    kind_, ctx = err["type"], err.get("ctx", {})
    if kind_ == "extra_forbidden":
        return "no such field here (check the spelling)"
    if kind_ == "missing":
        return "this required field"
    if kind_ in ("union_tag_invalid", "union_tag_not_found"):
        return f"a measure: {', '.join(MEASURES)}"
    if kind_ == "too_short":
        return f"at least {ctx.get('min_length')} item(s)"
    if kind_ == "too_long":
        return f"at most {ctx.get('max_length')} item(s)"
    if kind_ in ("list_type", "dict_type", "model_type", "model_attributes_type"):
        return {"list_type": "a list, e.g. [a, b]", "dict_type": "a mapping of name: fields"
                }.get(kind_, "a mapping (fit: and targets:, or a target's fields)")
    return err["msg"].removeprefix("Value error, ").removeprefix("Input should be ")


def load_targets(path: str | Path) -> Targets:
    """Read and check a targets file (one-line ScenarioError naming file and field)."""
    file = str(path)
    try:
        data = load_text(_read(Path(path), file), file)
    except ScenarioError as exc:
        if isinstance(exc.value, bool) and exc.expected.startswith("a name"):
            raise ScenarioError(file, exc.path, exc.value, "a name as key; YAML reads on, off, "
                                "yes, no as true/false: quote the key, and write a cleared "
                                "target's day as date:, not on:") from None
        raise
    if not isinstance(data, dict) or (data and not {"fit", "targets"} & set(data)):
        what = "an empty file" if data is None else "a mapping with unknown fields" if \
            isinstance(data, dict) else kind(data)  # never echoed: it may be no targets file
        raise ScenarioError(file, "", shown(what), "a mapping with fit: and targets:")
    try:
        spec = Targets.model_validate(data)
    except ValidationError as exc:
        err = min(exc.errors(), key=lambda e: (  # a misspelt field before what it misses
            len(e["loc"]), {"extra_forbidden": 0, "missing": 2}.get(e["type"], 1)))
        loc = [str(p) for p in err["loc"]]
        if loc[:1] == ["targets"] and len(loc) > 2 and loc[2] in MEASURES:
            del loc[2]  # pydantic's union tag, not a field the user wrote
        value = err.get("input")
        if err["type"] == "missing":
            value = shown("nothing")
        elif err["type"] == "extra_forbidden":  # named, not shown (as scenario files)
            value = shown(kind(value))
        elif err["type"] in ("union_tag_invalid", "union_tag_not_found"):
            loc.append("measure")
            value = value.get("measure", shown("nothing")) if isinstance(value, dict) else value
        elif isinstance(value, dict):
            value = shown(kind(value))
        elif isinstance(value, dt.date):
            value = shown(str(value))
        raise ScenarioError(file, ".".join(loc), value, _expected(err)) from None
    for name, t in spec.targets.items():
        t._file = file
        if t.scenario is None:
            continue
        try:  # as calibrate.prepare will resolve it
            where = (Path(path).parent / t.scenario).resolve()
        except (OSError, RuntimeError, ValueError):  # a link loop, a NUL in the name
            raise ScenarioError(file, f"targets.{name}.scenario", t.scenario,
                                "the path of a scenario file") from None
        if where == Path(path).resolve():
            raise ScenarioError(file, f"targets.{name}.scenario", t.scenario,
                                "a scenario file, not this targets file")
    return spec


def _when(x: dt.datetime) -> str:
    return x.isoformat(" ", "minutes" if not (x.second or x.microsecond) else "auto")


def _hour(s: Scenario, when: dt.datetime, what: str) -> int:
    """The snapshot hour of a local date-time, refused outside the run's statistics."""
    h = (when - s.clock.start).total_seconds() / 3600
    warm = 0.0 if s.clock.warmup_days == "auto" else float(s.clock.warmup_days) * 24
    if not h.is_integer() or not warm <= h <= s.clock.horizon_days * 24:
        first = s.clock.start + dt.timedelta(hours=warm)
        end = s.clock.start + dt.timedelta(days=s.clock.horizon_days)
        raise GatesimError(f"{what}: got {_when(when)}; expected a time on the hour "
                           f"within {s.name}'s run after its warm-up (from {_when(first)} to "
                           f"{_when(end)})")
    return int(h)


def check_target(name: str, t: _Target, s: Scenario) -> None:
    """Refuse a target scenario ``s`` cannot measure: unknown places, sides or metric, a
    date outside its run."""
    where = f"{t._file}: targets.{name}" if t._file else f"target {name}"
    for place in t.places_used():
        if place not in s.yards and place not in s.roads:
            known = [*s.yards, *s.roads]
            raise GatesimError(f"{where}.places: no yard or road {place!r} in {s.name}; "
                               f"{did_you_mean(place, known)}(places: {', '.join(known)})")
    if isinstance(t, Waiting):
        _hour(s, t.at, f"{where}.at")
    elif isinstance(t, Growth):
        _hour(s, t.start, f"{where}.from")
        _hour(s, t.end, f"{where}.to")
    elif isinstance(t, Cleared):
        sides = [f"{n}.{d}" for n, lane in s.lanes.items() for d in ("export", "import")
                 if lane.side(d) is not None]
        for side in t.sides:
            if side not in sides:
                known = f"(sides: {', '.join(sides)})" if sides else f"({s.name} has no lanes)"
                raise GatesimError(f"{where}.sides: no lane side {side!r} in {s.name}; "
                                   f"{did_you_mean(side, sides)}{known}")
        day = dt.datetime.combine(t.date, dt.time())
        _hour(s, day, f"{where}.date")
        _hour(s, day + dt.timedelta(days=1), f"{where}.date (its end)")
    elif isinstance(t, Summary):
        check_key(s, f"{where}.metric", *t.metric.split("/"))


def _series(out: ReplicationOutput, keys: set[tuple[str, str]]) -> tuple[np.ndarray, np.ndarray]:
    """Snapshot hours and the sum of the series ``keys`` at each hour."""
    ts = out.timeseries
    cols = [i for i, k in enumerate(ts.keys) if k in keys]
    values = np.frombuffer(ts.values, dtype=np.int64).reshape(len(ts), len(ts.keys))
    return np.asarray(ts.hours, dtype=float), values[:, cols].sum(axis=1)


def _places(t: Waiting | Growth) -> set[tuple[str, str]]:
    return {(m, p) for p in t.places for m in ("yard_occupancy", "road_queue")}


def measure(t: _Target, s: Scenario, out: ReplicationOutput) -> float:
    """The simulated figure of target ``t`` in one replication of scenario ``s``."""
    if isinstance(t, Waiting):
        hours, total = _series(out, _places(t))
        return float(total[hours == _hour(s, t.at, "at")][0])
    if isinstance(t, Growth):
        hours, total = _series(out, _places(t))
        first, last = _hour(s, t.start, "from"), _hour(s, t.end, "to")
        days = np.arange(first, last + 1, 24)
        y = np.array([total[hours == h][0] for h in days], dtype=float)
        return float(np.polyfit(np.arange(len(y)), y, 1)[0])
    if isinstance(t, Cleared):
        hours, total = _series(out, {("departures", side) for side in t.sides})
        day = dt.datetime.combine(t.date, dt.time())
        first = _hour(s, day, "on")
        return float(total[(hours > first) & (hours <= first + 24)].sum())
    if isinstance(t, Summary):
        metric, scope, stat = t.metric.split("/")
        for row in replication_rows(out):
            if row[:3] == (metric, scope, stat):
                return float(row[3])
        return math.nan
    raise TypeError(type(t).__name__)


def describe(t: Any) -> str:
    """What a target measures, in words (for tables)."""
    if isinstance(t, Waiting):
        return f"trucks waiting in {', '.join(t.places)} at {t.at:%Y-%m-%d %H:%M}"
    if isinstance(t, Growth):
        return (f"growth per day of trucks waiting in {', '.join(t.places)}, "
                f"{t.start:%Y-%m-%d %H:%M} to {t.end:%Y-%m-%d %H:%M}")
    if isinstance(t, Cleared):
        return f"trucks crossing {', '.join(t.sides)} on {t.date:%Y-%m-%d}"
    return f"{t.metric} (summary)"
