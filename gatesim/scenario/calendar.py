"""Opening hours in simulation time: weekly windows, date-range overrides, other clocks.

A calendar is compiled once per replication into sorted, non-overlapping intervals of
simulation hours, so the model only ever asks "what is the next interval" (no date maths on
the hot path).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from gatesim.scenario.schema import WEEKDAYS, Calendar, Window

ALWAYS = float("inf")


@dataclass(frozen=True, slots=True)
class Interval:
    """Open from ``start`` to ``end`` (sim hours) with ``servers`` on duty, for ``only`` trucks."""

    start: float
    end: float
    servers: int | None = None
    only: tuple[tuple[str, bool | str], ...] = ()


def windows_on(cal: Calendar, day: dt.date) -> list[Window]:
    """The windows in force on a date of the calendar's own clock (last override wins)."""
    for override in reversed(cal.overrides):
        if override.start <= day <= override.end:
            return list(override.windows)
    name = WEEKDAYS[day.weekday()]
    return [w for rule in cal.weekly if name in rule.days for w in rule.windows]


def compile_calendar(cal: Calendar | None, start: dt.datetime, horizon_h: float) -> list[Interval]:
    """Intervals of [0, horizon_h] in which the calendar is open, sorted and merged.

    ``start`` is local (Hanoi) time at t = 0; windows are read on the calendar's own clock,
    ``clock_offset_h`` ahead of Hanoi. ``None`` means always open.
    """
    if cal is None:
        return [Interval(0.0, ALWAYS)]
    local0 = start + dt.timedelta(hours=cal.clock_offset_h)
    midnight0 = dt.datetime.combine(local0.date(), dt.time())
    base = (midnight0 - local0).total_seconds() / 3600
    out: list[Interval] = []
    for k in range(-1, int(horizon_h // 24) + 2):
        day = local0.date() + dt.timedelta(days=k)
        for w in windows_on(cal, day):
            o, c = w.hours
            s, e = max(0.0, base + 24 * k + o), min(horizon_h, base + 24 * k + c)
            if e > s:
                out.append(Interval(s, e, w.servers, tuple(sorted(w.only.items()))))
    out.sort(key=lambda i: (i.start, i.end))
    merged: list[Interval] = []
    for iv in out:
        last = merged[-1] if merged else None
        if last and iv.start <= last.end and (iv.servers, iv.only) == (last.servers, last.only):
            merged[-1] = Interval(last.start, max(last.end, iv.end), last.servers, last.only)
        elif last and iv.start < last.end:
            raise ValueError(f"windows overlap at hour {iv.start:g} with different settings")
        else:
            merged.append(iv)
    return merged


def open_hours(intervals: list[Interval]) -> float:
    """Total open time of compiled intervals (hours)."""
    return sum(i.end - i.start for i in intervals)
