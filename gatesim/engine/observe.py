"""Watching one replication: its level monitors, the warm-up reset, hourly snapshots and the
exact daily mean of trucks in the system (for warm-up detection and stability)."""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterator
from typing import Protocol

import simpy

from gatesim.engine.monitors import Integral, Level
from gatesim.engine.network import Place, Station
from gatesim.engine.records import LevelSummary
from gatesim.engine.resources import Resources


class Watched(Protocol):
    """What the observer watches in a replication (the model)."""

    env: simpy.Environment
    horizon: float
    warmup: float
    system: Level
    all_roads: Level
    places: dict[str, Place]
    stations: list[Station]
    resources: Resources


class HourlySeries:
    """Hourly snapshots stored by column: the (metric, scope) keys once, then one integer per
    key and hour, so a long horizon costs a few bytes an hour, not a tuple per value."""

    def __init__(self, keys: list[tuple[str, str]]) -> None:
        self.keys = keys
        self.hours = array("d")
        self.values = array("q")

    def append(self, hour: float, values: list[int]) -> None:
        self.hours.append(hour)
        self.values.extend(values)

    def __len__(self) -> int:
        return len(self.hours)

    def __iter__(self) -> Iterator[tuple[float, list[tuple[str, str, int]]]]:
        """(hour, [(metric, scope, value), …]) for each snapshot."""
        n = len(self.keys)
        for i, hour in enumerate(self.hours):
            row = self.values[i * n:(i + 1) * n]
            yield hour, [(m, sc, v) for (m, sc), v in zip(self.keys, row, strict=True)]


class Observer:
    def __init__(self, m: Watched) -> None:
        self.m = m
        keys = [("in_system", "system"), ("road_queue", "system")]
        keys += [("road_queue" if p.is_road else "yard_occupancy", p.name)
                 for p in m.places.values()]
        for st in m.stations:
            keys.append(("queue_length", st.scope))
            if st.is_lane:
                keys += [("crossing", st.scope), ("departures", st.scope)]
        self._stopped = list(m.resources.stopped().values())
        keys += [("stopped", scope) for scope in m.resources.stopped()]  # 1 while stopped
        self.timeseries = HourlySeries(keys)
        self.daily_in_system: list[float] = []
        self._integral_before_reset = self._day_start = 0.0
        self._crossed = [0] * len(m.stations)
        self.crossed_at_warmup = [0] * len(m.stations)
        m.env.process(self._sampler())
        if m.warmup > 0:
            m.env.process(self._end_warmup())

    def levels(self) -> Iterator[tuple[str, str, Level | Integral]]:
        """Every level monitor as (metric, scope, monitor)."""
        m = self.m
        yield "in_system", "system", m.system
        yield "road_queue", "system", m.all_roads
        for place in m.places.values():
            yield ("road_queue" if place.is_road else "yard_occupancy"), place.name, place.level
        for st in m.stations:
            yield "queue_length", st.scope, st.queue
            yield "used", st.scope, st.pool.used
            yield "on_duty", st.scope, st.pool.on_duty
            if st.is_lane:
                yield "crossing", st.scope, st.crossing

    def _end_warmup(self):
        m = self.m
        yield m.env.timeout(m.warmup)
        now = m.env.now
        self._integral_before_reset = m.system.integral(now)
        self.crossed_at_warmup = [st.crossed for st in m.stations]
        for _, _, level in self.levels():
            level.reset(now)

    def _sampler(self):
        """Hourly snapshots of every level, and crossings per lane in the past hour."""
        env = self.m.env
        for hour in range(math.ceil(self.m.horizon)):
            if hour > env.now:
                yield env.timeout(hour - env.now)
            if hour and hour % 24 == 0:
                self._day_mark()
            self.snapshot(hour)

    def _day_mark(self) -> None:
        """Exact time-average of trucks in the system over the day just ended."""
        m = self.m
        total = self._integral_before_reset + m.system.integral(m.env.now)
        self.daily_in_system.append((total - self._day_start) / 24)
        self._day_start = total

    def snapshot(self, hour: float) -> None:
        """The levels now (in the order of ``HourlySeries.keys``), crossings in the past hour."""
        m = self.m
        row = [m.system.value, m.all_roads.value]
        row += [place.level.value for place in m.places.values()]
        for st in m.stations:
            row.append(st.queue.value)
            if st.is_lane:
                row += [st.crossing.value, st.crossed - self._crossed[st.index]]
                self._crossed[st.index] = st.crossed
        row += [int(bool(r.stops.active)) for r in self._stopped]
        self.timeseries.append(hour, row)

    def finish(self) -> tuple[dict[tuple[str, str], LevelSummary], dict[str, float]]:
        """Close every monitor at the horizon: level summaries and utilisation per station."""
        m = self.m
        now = m.env.now
        if m.horizon % 24 == 0:
            self._day_mark()
        self.snapshot(m.horizon)
        levels = {}
        for metric, scope, level in self.levels():
            level.close(now)
            if isinstance(level, Level):
                levels[(metric, scope)] = LevelSummary(
                    level.mean(), level.quantile(0.5), level.quantile(0.9), level.quantile(0.95),
                    float(level.peak))
        utilisation = {}
        for st in m.stations:
            duty = st.pool.on_duty.area
            utilisation[st.scope] = st.pool.used.area / duty if duty > 0 else math.nan
        return levels, utilisation
