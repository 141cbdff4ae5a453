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
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field, ValidationError, field_validator, model_validator

from gatesim.engine.records import ReplicationOutput
from gatesim.errors import GatesimError, ScenarioError
from gatesim.experiments.metrics import replication_rows
from gatesim.experiments.names import check_key, did_you_mean
from gatesim.fields import Name
from gatesim.scenario.base import Strict
from gatesim.scenario.loader import load_text
from gatesim.scenario.schema import Scenario

Use = Literal["calibration", "validation"]
MAX_TARGETS = 200


class _Target(Strict):
    reported: float = Field(allow_inf_nan=False)
    half_band: float = Field(gt=0, allow_inf_nan=False,
                             description="half the band the reported figure is trusted to")
    source: str = Field(min_length=1, description="where the figure was reported (§ of facts)")
    use: Use
    scenario: str | None = Field(None, description="measured on this scenario file instead")
    set: list[str] = Field(default_factory=list, description="--set overrides for its run")

    def places_used(self) -> list[str]:
        return []


class Waiting(_Target):
    measure: Literal["waiting"]
    places: list[Name] = Field(min_length=1)
    at: dt.datetime

    def places_used(self) -> list[str]:
        return self.places


class Cleared(_Target):
    measure: Literal["cleared"]
    sides: list[str] = Field(min_length=1)
    date: dt.date = Field(description="the local date (YAML reads a key `on` as true)")


class Growth(_Target):
    measure: Literal["growth"]
    places: list[Name] = Field(min_length=1)
    start: dt.datetime = Field(alias="from")
    end: dt.datetime = Field(alias="to")

    @model_validator(mode="after")
    def _three_days(self) -> Growth:
        if (self.end - self.start).total_seconds() < 2 * 86400:
            raise ValueError("'to' at least two days after 'from' (a slope needs 3 days)")
        return self

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

    fit: list[Name] = Field(min_length=1)
    targets: dict[Name, Target] = Field(min_length=1, max_length=MAX_TARGETS)

    @model_validator(mode="after")
    def _usable(self) -> Targets:
        if len(set(self.fit)) != len(self.fit):
            raise ValueError("fit: each parameter once")
        if not any(t.use == "calibration" for t in self.targets.values()):
            raise ValueError("at least one target with use: calibration")
        return self


def load_targets(path: str | Path) -> Targets:
    """Read and check a targets file (one-line ScenarioError naming file and field)."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise GatesimError(f"--targets: cannot read {file} ({exc})") from None
    data = load_text(text, file)
    try:
        return Targets.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"] if p not in ("waiting", "cleared", "growth",
                                                              "summary"))
        value = "nothing" if err["type"] == "missing" else err.get("input")
        raise ScenarioError(file, loc, value, err["msg"].removeprefix("Value error, ")
                            ) from None


def _hour(s: Scenario, when: dt.datetime, what: str) -> int:
    """The snapshot hour of a local date-time, refused outside the run's statistics."""
    h = (when - s.clock.start).total_seconds() / 3600
    warm = 0.0 if s.clock.warmup_days == "auto" else float(s.clock.warmup_days) * 24
    if not h.is_integer() or not warm <= h <= s.clock.horizon_days * 24:
        end = s.clock.start + dt.timedelta(days=s.clock.horizon_days)
        raise GatesimError(f"{what}: got {when:%Y-%m-%d %H:%M}; expected a time on the hour "
                           f"within {s.name}'s run after its warm-up (to {end:%Y-%m-%d %H:%M})")
    return int(h)


def check_target(name: str, t: _Target, s: Scenario) -> None:
    """Refuse a target scenario ``s`` cannot measure: unknown places, sides or metric, a
    date outside its run."""
    where = f"target {name}"
    for place in t.places_used():
        if place not in s.yards and place not in s.roads:
            known = [*s.yards, *s.roads]
            raise GatesimError(f"{where}: no yard or road {place!r} in {s.name}; "
                               f"{did_you_mean(place, known)}(places: {', '.join(known)})")
    if isinstance(t, Waiting):
        _hour(s, t.at, f"{where}: at")
    elif isinstance(t, Growth):
        _hour(s, t.start, f"{where}: from")
        _hour(s, t.end, f"{where}: to")
    elif isinstance(t, Cleared):
        sides = [f"{n}.{d}" for n, lane in s.lanes.items() for d in ("export", "import")
                 if lane.side(d) is not None]
        for side in t.sides:
            if side not in sides:
                raise GatesimError(f"{where}: no lane side {side!r} in {s.name}; "
                                   f"{did_you_mean(side, sides)}(sides: {', '.join(sides)})")
        day = dt.datetime.combine(t.date, dt.time())
        _hour(s, day, f"{where}: date")
        _hour(s, day + dt.timedelta(days=1), f"{where}: date")
    elif isinstance(t, Summary):
        check_key(s, where, *t.metric.split("/"))


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
