"""Time in the plots: opening hours shaded, the warm-up hatched, local days and hours of day,
and the days that are not typical (a lane, acceptance or stage closed or stopped by date).
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from gatesim.i18n import _
from gatesim.output.plots.common import OPEN, RESTRICTED, WARMUP
from gatesim.output.plots.names import Labels, direction, item
from gatesim.output.plots.scales import date_ticks
from gatesim.output.reader import RunFiles
from gatesim.scenario.calendar import Interval, compile_calendar
from gatesim.scenario.labels import labels_of
from gatesim.scenario.schema import Scenario

OVERRIDE_HOURS = 12.0
"""A date override of a calendar marks the local (Hanoi) days it governs at least this many
hours of (a calendar on another clock shifts the override by its offset)."""


def gate_calendar(s: Scenario, names: Labels | None = None) -> tuple[str, list[Interval]]:
    """The opening hours shaded in plots: the first lane's export side (else its import)."""
    for name, lane in s.lanes.items():
        for d in ("export", "import"):
            side = lane.side(d)
            if side is not None:
                cal = s.calendars[side.calendar] if side.calendar else None
                label = _("%(lane)s, %(direction)s: open") % {
                    "lane": item(name, names or {}), "direction": direction(d, names or {})}
                return label, compile_calendar(cal, s.clock.start, s.clock.horizon_days * 24)
    return "", []


def shade_time(ax: Axes, run: RunFiles, names: Labels, hours: bool = True) -> None:
    """Opening hours (unless not ``hours``) and the warm-up behind a plot over the whole
    run; dates on the x axis."""
    label, intervals = gate_calendar(run.scenario, names)
    for iv in intervals if hours else []:
        if math.isfinite(iv.end):
            text = _("open to some trucks only") if iv.only else label
            ax.axvspan(iv.start, iv.end, facecolor=OPEN, edgecolor=RESTRICTED, lw=0, zorder=0,
                       hatch="...." if iv.only else None, label=text)
    shade_warmup(ax, run)
    ax.set_xlim(0, run.horizon_h)
    date_ticks(ax, run.scenario.clock.start, run.horizon_h)


def shade_warmup(ax: Axes, run: RunFiles, scale: float = 1.0, left: float = 0.0) -> None:
    """Hatch the warm-up (in hours, or days with ``scale`` 1/24)."""
    if run.warmup_h > 0:
        ax.axvspan(left, left + run.warmup_h * scale, facecolor="none", edgecolor=WARMUP,
                   hatch="///", lw=0, zorder=0,
                   label=_("warm-up (not in the statistics)"))


def local_days(s: Scenario, hours: pd.Series | np.ndarray) -> np.ndarray:
    """The local (Hanoi) date of each simulation hour."""
    start = s.clock.start
    index = np.floor((start.hour + np.asarray(hours, dtype=float)) / 24).astype(int)
    return np.array([start.date() + dt.timedelta(days=int(k)) for k in index])


def hour_of_day(s: Scenario, hours: pd.Series | np.ndarray) -> np.ndarray:
    """The local hour of day (0–23) of each simulation hour."""
    h = np.floor(np.asarray(hours, dtype=float)).astype(int)
    return (s.clock.start.hour + h) % 24


def _days_between(start: dt.datetime, end: dt.datetime, least_h: float) -> list[dt.date]:
    """Local dates sharing more than ``least_h`` hours (or any time, with 0) with [start, end)."""
    out = []
    day = start.date()
    while dt.datetime.combine(day, dt.time()) < end:
        lo = max(start, dt.datetime.combine(day, dt.time()))
        hi = min(end, dt.datetime.combine(day + dt.timedelta(days=1), dt.time()))
        if (hi - lo).total_seconds() / 3600 > least_h:
            out.append(day)
        day += dt.timedelta(days=1)
    return out


def closure_days(s: Scenario) -> dict[dt.date, str]:
    """Local dates inside the run on which a calendar (each is in use: the loader refuses
    others) had a date override (a closure, or hours for some trucks only) or a dated
    stoppage stopped something: date → its note.

    Random stoppages differ by replication and are not known here."""
    first = s.clock.start
    last = first + dt.timedelta(days=s.clock.horizon_days)
    names = labels_of(s)
    found: dict[dt.date, str] = {}
    for name, cal in s.calendars.items():
        shift = dt.timedelta(hours=cal.clock_offset_h)
        for o in cal.overrides:
            start = dt.datetime.combine(o.start, dt.time()) - shift
            end = dt.datetime.combine(o.end + dt.timedelta(days=1), dt.time()) - shift
            calendar = item(name, names)
            note = o.note or (_("%(calendar)s closed") % {"calendar": calendar} if not o.windows
                              else _("%(calendar)s: other hours") % {"calendar": calendar})
            for day in _days_between(max(start, first), min(end, last), OVERRIDE_HOURS - 1e-9):
                found.setdefault(day, note)
    for name, stoppage in s.stoppages.items():
        for d in stoppage.dated:
            note = d.note or stoppage.note or _("%(stoppage)s stopped") % {
                "stoppage": item(name, names)}
            for day in _days_between(max(d.start, first), min(d.end, last), 0.0):
                found.setdefault(day, note)
    return dict(sorted(found.items()))


def open_share(s: Scenario, warmup_h: float, horizon_h: float,
               skip: set[dt.date] | frozenset[dt.date] = frozenset()) -> np.ndarray:
    """Share of the post-warm-up days (less ``skip``) on which each hour of day is (at
    least partly) open at the first lane."""
    _label, intervals = gate_calendar(s)
    mids = np.arange(math.floor(warmup_h), math.floor(horizon_h)) + 0.5
    keep = ~np.isin(local_days(s, mids), list(skip))
    is_open = np.zeros(len(mids), dtype=bool)
    for iv in intervals:
        is_open |= (mids >= iv.start) & (mids < iv.end)
    hod = hour_of_day(s, mids)
    return np.array([is_open[keep & (hod == h)].mean() if (keep & (hod == h)).any() else 0.0
                     for h in range(24)])
