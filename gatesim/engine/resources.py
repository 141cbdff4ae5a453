"""The servers of one replication built from the scenario: each stage's pool, each lane side's
admission (its own pool, or a door onto a shared acceptance), their timetables (calendar,
daily factors, the other side's daily cap) and the stoppages that switch them off."""

from __future__ import annotations

import datetime as dt
import math

import simpy

from gatesim.engine.pool import Door, Pool
from gatesim.engine.variability import (
    Change,
    DailyFactors,
    Stoppable,
    day_starts,
    rounded,
    start_stoppages,
    timetable,
    varied_intervals,
)
from gatesim.scenario.calendar import ALWAYS, Interval, compile_calendar
from gatesim.scenario.resources import resolve, stopped_scopes
from gatesim.scenario.schema import LaneSide, Scenario, Stage
from gatesim.scenario.variability import Acceptance, DatedStoppage


def _calendar_changes(pool: Pool | Door, intervals: list[Interval], default: int
                      ) -> list[Change]:
    changes: list[Change] = []
    for iv in intervals:
        servers = iv.servers or default
        changes.append((iv.start, 1, lambda s=servers, o=iv.only: pool.set_calendar(s, o)))
        if iv.end < ALWAYS:
            changes.append((iv.end, 1, lambda: pool.set_calendar(0, ())))
    return changes


class Resources:
    """Builds pools and doors in scenario order and keeps them by scope for stoppages."""

    def __init__(self, s: Scenario, env: simpy.Environment, seed: int, replication: int,
                 horizon: float) -> None:
        self.s, self.env, self.seed, self.replication = s, env, seed, replication
        self.horizon = horizon
        self.factors = DailyFactors(s.factors, seed, replication, math.ceil(horizon / 24) + 2)
        self.stoppable: dict[str, Pool | Door] = {}
        """Pools and doors by scope (stage, ``lane.direction``, acceptance)."""
        self.acceptances: dict[str, Pool] = {}
        self.daily_caps: dict[str, list[int]] = {}
        """The other side's total cap of each day, for caps that vary (by scope)."""
        self._doors = 0

    def _intervals(self, calendar: str | None) -> list[Interval]:
        cal = self.s.calendars[calendar] if calendar else None
        return compile_calendar(cal, self.s.clock.start, self.horizon)

    def _day_end(self, offset_h: float) -> float:
        """When day 0 ends on a clock ``offset_h`` ahead of Hanoi: its first midnight."""
        local0 = self.s.clock.start + dt.timedelta(hours=offset_h)
        midnight = dt.datetime.combine(local0.date(), dt.time()) + dt.timedelta(days=1)
        return (midnight - local0).total_seconds() / 3600

    # --- stages ---------------------------------------------------------------------------
    def stage(self, name: str, stage: Stage) -> Pool:
        intervals = self._intervals(stage.calendar)
        if stage.servers_factor is not None:
            path = f"stages.{name}.servers_factor"
            offset = self.s.calendars[stage.calendar].clock_offset_h if stage.calendar else 0.0
            intervals = varied_intervals(
                intervals, stage.servers, self._day_end(offset),
                self.factors.series(stage.servers_factor, path),
                self.factors.uniforms(f"stages.{name}"), self.horizon)
        pool = Pool(self.env, name, intervals, {}, priority=tuple(stage.priority))
        self.env.process(timetable(self.env, _calendar_changes(pool, intervals, stage.servers)))
        self.stoppable[name] = pool
        return pool

    # --- lanes and acceptances ---------------------------------------------------------------
    def lane_side(self, lane: str, direction: str, side: LaneSide, cap_offset_h: float
                  ) -> tuple[Pool, Door | None]:
        """The admission of one lane side: its own pool, or a door onto its acceptance."""
        scope = f"{lane}.{direction}"
        if side.acceptance is None:
            pool = self._admission(scope, f"lanes.{scope}", side, self._intervals(side.calendar),
                                   cap_offset_h)
            self.stoppable[scope] = pool
            return pool, None
        pool = self.acceptances.get(side.acceptance)
        if pool is None:
            acc = self.s.acceptances[side.acceptance]
            pool = self._admission(side.acceptance, f"acceptances.{side.acceptance}", acc,
                                   self._intervals(acc.calendar), acc.cap_clock_offset_h)
            self.acceptances[side.acceptance] = self.stoppable[side.acceptance] = pool
        door = Door(self._doors, pool, self._intervals(side.calendar))
        self._doors += 1
        self.env.process(timetable(self.env, _calendar_changes(door, door.intervals, 1)))
        self.stoppable[scope] = door
        return pool, door

    def _admission(self, scope: str, path: str, spec: LaneSide | Acceptance,
                   intervals: list[Interval], cap_offset_h: float) -> Pool:
        """A pool admitting one truck per headway 1/rate, with the other side's daily cap,
        either possibly varying by day on the cap's clock."""
        assert spec.capacity_per_hour is not None
        start = self.s.clock.start
        first = (24 - (start.hour + cap_offset_h) % 24) % 24 or 24.0
        rate_f = cap_f = None
        if spec.rate_factor is not None:
            rate_f = self.factors.series(spec.rate_factor, f"{path}.rate_factor")
        if spec.cap_factor is not None and spec.daily_cap:
            cap_f = self.factors.series(spec.cap_factor, f"{path}.cap_factor")
        pool = Pool(self.env, scope, intervals, spec.daily_cap,
                    headway=self._headway(spec.capacity_per_hour, rate_f, 0),
                    priority=tuple(spec.priority), cap_varies=cap_f is not None)
        changes = _calendar_changes(pool, intervals, 1)
        if spec.daily_cap:
            pool.next_cap_day = first
            u = self.factors.uniforms(path) if cap_f is not None else []
            caps = [self._caps(spec.daily_cap, cap_f, u, 0)]
            if cap_f is not None:
                pool.new_cap_day(first, caps[0])
            for d, t in day_starts(first, self.horizon):
                caps.append(self._caps(spec.daily_cap, cap_f, u, d))
                changes.append((t, 0, lambda t=t, c=caps[-1]: pool.new_cap_day(t + 24.0, c)))
            if cap_f is not None:
                self.daily_caps[scope] = [c.get("total", sum(c.values())) if c else 0
                                          for c in caps]
        if rate_f is not None:
            for d, t in day_starts(first, self.horizon):
                h = self._headway(spec.capacity_per_hour, rate_f, d)
                changes.append((t, 0, lambda h=h: pool.set_headway(h)))
        self.env.process(timetable(self.env, changes))
        return pool

    @staticmethod
    def _headway(rate: float, factor: list[float] | None, d: int) -> float:
        f = 1.0 if factor is None else factor[d]
        return 1 / (rate * f) if f > 0 else math.inf

    @staticmethod
    def _caps(cap: dict[str, int], factor: list[float] | None, u: list[float], d: int
              ) -> dict[str, int] | None:
        if factor is None:
            return None
        return {k: rounded(v, factor[d], u[d]) for k, v in cap.items()}

    # --- stoppages ---------------------------------------------------------------------------
    def start_stoppages(self) -> None:
        """Start every stoppage group on the pools and doors it names."""
        start = self.s.clock.start

        def hours(dated: DatedStoppage) -> tuple[float, float]:
            return ((dated.start - start).total_seconds() / 3600,
                    (dated.end - start).total_seconds() / 3600)

        for name, spec in self.s.stoppages.items():
            scopes = [sc for target in spec.at for sc in resolve(self.s, target) or []]
            targets: list[Stoppable] = [self.stoppable[sc] for sc in dict.fromkeys(scopes)]
            start_stoppages(self.env, name, spec, targets, self.seed, self.replication, hours)

    def stopped(self) -> dict[str, Pool | Door]:
        """The resources some stoppage names, by scope, in the order the stoppages name them."""
        return {sc: self.stoppable[sc] for sc in stopped_scopes(self.s)}

    def stopped_hours(self, lo: float, hi: float) -> dict[str, float]:
        """Hours each resource a stoppage names was stopped within [lo, hi]."""
        return {sc: r.stops.hours(lo, hi) for sc, r in self.stopped().items()}
