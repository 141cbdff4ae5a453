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


def _frame(cal: Calendar, start: dt.datetime, horizon_h: float) -> tuple[dt.date, float, range]:
    """(the calendar's local date at t = 0, the sim hour of its midnight, the day offsets k
    whose windows may fall in [0, horizon_h]; day k's midnight is at base + 24 k)."""
    local0 = start + dt.timedelta(hours=cal.clock_offset_h)
    midnight0 = dt.datetime.combine(local0.date(), dt.time())
    base = (midnight0 - local0).total_seconds() / 3600
    return local0.date(), base, range(-1, int(horizon_h // 24) + 2)


def _intervals(windows: list[Window], midnight: float, horizon_h: float) -> list[Interval]:
    out = []
    for w in windows:
        o, c = w.hours
        s, e = max(0.0, midnight + o), min(horizon_h, midnight + c)
        if e > s:
            out.append(Interval(s, e, w.servers, tuple(sorted(w.only.items()))))
    return out


def _merged(intervals: list[Interval]) -> list[Interval]:
    """Sorted intervals merged where they touch with the same settings; ValueError where two
    with different settings overlap."""
    merged: list[Interval] = []
    for iv in intervals:
        last = merged[-1] if merged else None
        if last and iv.start <= last.end and (iv.servers, iv.only) == (last.servers, last.only):
            merged[-1] = Interval(last.start, max(last.end, iv.end), last.servers, last.only)
        elif last and iv.start < last.end:
            raise ValueError(f"windows overlap at hour {iv.start:g} with different settings")
        else:
            merged.append(iv)
    return merged


def compile_calendar(cal: Calendar | None, start: dt.datetime, horizon_h: float) -> list[Interval]:
    """Intervals of [0, horizon_h] in which the calendar is open, sorted and merged.

    ``start`` is local (Hanoi) time at t = 0; windows are read on the calendar's own clock,
    ``clock_offset_h`` ahead of Hanoi. ``None`` means always open.
    """
    if cal is None:
        return [Interval(0.0, ALWAYS)]
    day0, base, days = _frame(cal, start, horizon_h)
    out: list[Interval] = []
    for k in days:
        out += _intervals(windows_on(cal, day0 + dt.timedelta(days=k)), base + 24 * k, horizon_h)
    out.sort(key=lambda i: (i.start, i.end))
    return _merged(out)


def is_ever_open(cal: Calendar, start: dt.datetime, horizon_h: float) -> bool:
    """Whether the calendar is open some time in [0, horizon_h]; ValueError as
    ``compile_calendar`` for windows that overlap with different settings.

    The same answer without building the intervals: windows never reach across midnight, so
    each day is judged alone, and a day wholly inside the horizon only once per distinct set of
    windows (its override, or its weekday). A century of 14 rules x 48 windows is 25 million
    intervals (minutes and gigabytes when the scenario loads); this looks at a few hundred.
    """
    day0, base, days = _frame(cal, start, horizon_h)
    rule = [-1] * len(days)  # per day (index k + 1): the override in force, -1 for the weekly
    for j, override in enumerate(cal.overrides):  # the last override wins, as in windows_on
        lo = max(0, (override.start - day0).days + 1)
        hi = min(len(days), (override.end - day0).days + 2)
        if lo < hi:
            rule[lo:hi] = [j] * (hi - lo)
    judged: set[tuple[int, int]] = set()
    is_open = False
    for k in days:
        key = (rule[k + 1], -1 if rule[k + 1] >= 0 else (day0.weekday() + k) % 7)
        inside = base + 24 * k >= 0 and base + 24 * k + 24 <= horizon_h
        if inside and key in judged:
            continue
        windows = (list(cal.overrides[key[0]].windows) if key[0] >= 0 else
                   [w for r in cal.weekly if WEEKDAYS[key[1]] in r.days for w in r.windows])
        day = sorted(_intervals(windows, base + 24 * k, horizon_h), key=lambda i: (i.start, i.end))
        _merged(day)
        is_open = is_open or bool(day)
        if inside:
            judged.add(key)
    return is_open


def open_hours(intervals: list[Interval]) -> float:
    """Total open time of compiled intervals (hours)."""
    return sum(i.end - i.start for i in intervals)
