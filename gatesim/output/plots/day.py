"""A typical day: the days after the warm-up folded onto one, closure days left out (their
backlog is shown apart) — when queues build up, how full the yards get, how long a truck
arriving at each hour waits.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from gatesim.i18n import _, date, number
from gatesim.output.plots import names as nm
from gatesim.output.plots.common import (
    A4_WIDTH,
    COLOURS,
    OPEN,
    TALL,
    WORSE,
    a4,
    headline,
    legend_below,
    legend_right,
    new_figure,
    numbers,
    title,
)
from gatesim.output.plots.scales import hour_ticks, line_band, replications
from gatesim.output.plots.timeline import (
    closure_days,
    gate_calendar,
    hour_of_day,
    local_days,
    open_share,
)
from gatesim.output.reader import LEVELS, RunFiles, band, truck_waits


def typical_days(run: RunFiles) -> tuple[list[dt.date], dict[dt.date, str]]:
    """The local dates measured (after the warm-up, whole or in part) that are typical, and
    the closure days among them with their notes."""
    s = run.scenario
    hours = np.arange(np.floor(run.warmup_h), np.ceil(run.horizon_h))
    measured = list(dict.fromkeys(local_days(s, hours)))
    closed = {d: note for d, note in closure_days(s).items() if d in set(measured)}
    return [d for d in measured if d not in closed], closed


def folded(run: RunFiles, ts: pd.DataFrame, days: list[dt.date]) -> pd.DataFrame:
    """Mean by hour of day over ``days`` of each replication, then mean and band over them;
    24:00 repeats 00:00."""
    ts = ts.assign(hod=hour_of_day(run.scenario, ts["hour"]))
    ts = ts[np.isin(local_days(run.scenario, ts["hour"]), days)]
    per_rep = ts.groupby(["metric", "scope", "replication", "hod"], sort=False)["value"].mean()
    b = band(per_rep.reset_index(), ["metric", "scope", "hod"])
    return pd.concat([b, b[b["hod"] == 0].assign(hod=24)], ignore_index=True)


def closures_text(closed: dict[dt.date, str]) -> str:
    """'closure days left out: 10 Feb 2024 – 13 Feb 2024 (Tết closure), …': runs of days with
    the same note as one span, the first four spans."""
    if not closed:
        return _("no closure days in the period")
    spans: list[list] = []
    for d, note in closed.items():
        if spans and spans[-1][2] == note and (d - spans[-1][1]).days == 1:
            spans[-1][1] = d
        else:
            spans.append([d, d, note])
    items = [(date(a) if a == b else f"{date(a)} – {date(b)}") + (f" ({note})" if note else "")
             for a, b, note in spans[:4]]
    more = len(spans) - len(items)
    return (_("closure days left out: %(days)s") % {"days": ", ".join(items)}
            + (_(" and %(n)s more") % {"n": more} if more > 0 else ""))


def _backlog(ax: Axes, run: RunFiles, b: pd.DataFrame, apart: pd.DataFrame | None,
             names: nm.Labels) -> None:
    peaks = []
    for k, (metric, scope, what) in enumerate((("in_system", "system", _("in the system")),
                                               ("road_queue", "system", _("on the roads")))):
        colour = COLOURS[k]
        g = b[(b["metric"] == metric) & (b["scope"] == scope)].sort_values("hod")
        if not g.empty:   # (every day measured may be a closure day)
            line_band(ax, g["hod"], g, nm.scope(run.scenario, metric, scope, names),
                      color=colour)
            top = g.iloc[int(np.argmax(g["mean"].to_numpy()))]
            if top["mean"] > 0:
                ax.plot(top["hod"], top["mean"], "v", color="black", ms=6)
                peaks.append(_("%(where)s at %(hour)02d:00") % {"where": what,
                                                                "hour": int(top["hod"])})
        if apart is not None:
            c = apart[(apart["metric"] == metric) & (apart["scope"] == scope)]
            c = c.sort_values("hod")
            ax.plot(c["hod"], c["mean"], color=colour, ls=":", lw=1.5,
                    label=_("%(what)s, on closure days") % {
                        "what": nm.scope(run.scenario, metric, scope, names)})
    title(ax, _("Backlog — peaks %(peaks)s (▼)") % {"peaks": ", ".join(peaks) or _("none")})
    ax.set_ylabel(_("trucks (level at the hour)"))


def _yards(ax: Axes, run: RunFiles, b: pd.DataFrame, names: nm.Labels) -> None:
    """How full each yard with a number of slots is, as a share of them."""
    limited = {n: y.slots for n, y in run.scenario.yards.items() if y.slots}
    g = b[(b["metric"] == "yard_occupancy") & b["scope"].isin(list(limited))]
    for scope, one in g.groupby("scope", sort=False):
        one = one.sort_values("hod")
        ax.plot(one["hod"], one["mean"] / limited[str(scope)], lw=1.5,
                label=nm.yard(run.scenario, str(scope), names))
    numbers(ax.yaxis, percent=True)
    unlimited = len(run.scenario.yards) - len(limited)
    title(ax, _("Yards: share of their slots taken (mean)") + (
        _(" (%(n)s yards without a limit not shown)") % {"n": unlimited} if unlimited else ""))
    ax.set_ylabel(_("share of slots taken"))


def _waits(ax: Axes, run: RunFiles, days: list[dt.date], names: nm.Labels) -> None:
    t = truck_waits(run)
    t = t[np.isin(local_days(run.scenario, t["arrival"]), days)]
    t = t.assign(hod=hour_of_day(run.scenario, t["arrival"]))
    per_rep = t.groupby(["cls", "replication", "hod"], sort=False)["wait_total"].mean()
    for cls, g in band(per_rep.reset_index(), ["cls", "hod"], "wait_total").groupby(
            "cls", sort=False):
        g = g.sort_values("hod")
        line_band(ax, g["hod"] + 0.5, g, nm.truck_class(str(cls), names))
    title(ax, _("Waiting time by hour of arrival (trucks that left)"))
    ax.set_ylabel(_("mean total wait (h)"))


@a4
def figure_typical_day(run: RunFiles) -> Figure:
    """Hour-of-day profile after the warm-up on the typical days: backlog (and apart, on
    closure days), yards as a share of their slots, and waits by hour of arrival."""
    has_records = run.trucks is not None and run.visits is not None
    fig, axes = new_figure((A4_WIDTH, 9.0) if has_records else TALL, 3 if has_records else 2,
                           sharex=True)
    names = nm.labels(run.scenario)
    days, closed = typical_days(run)
    ts = run.timeseries
    ts = ts[(ts["hour"] >= run.warmup_h) & (ts["hour"] < run.horizon_h)
            & ts["metric"].isin(LEVELS)]
    b = folded(run, ts, days)
    apart = folded(run, ts, list(closed)) if closed else None
    _backlog(axes[0], run, b, apart, names)
    _yards(axes[1], run, b, names)
    if has_records:
        _waits(axes[2], run, days, names)
    hours = np.flatnonzero(open_share(run.scenario, run.warmup_h, run.horizon_h, set(closed))
                           >= 0.5)
    for ax in axes:
        legend_right(ax)     # the lines; the opening hours once, below
        for h in hours:
            ax.axvspan(h, h + 1, color=OPEN, lw=0, zorder=0)
        hour_ticks(ax)
        ax.set_ylim(bottom=0)
    axes[-1].set_xlabel(_("hour of day, local time (Hanoi)"))
    if hours.size:
        legend_below(fig, [Patch(color=OPEN)], [_("%(lane)s on most days") % {
            "lane": gate_calendar(run.scenario, names)[0]}])
    head = headline(fig, _("A typical day: %(days)s days after the warm-up, %(reps)s; "
                           "%(closed)s") % {
        "days": number(len(days), 0), "reps": replications(int(run.meta["replications"])),
        "closed": closures_text(closed)} + growing(run))
    if growing(run):
        head.set_color(WORSE)
    return fig


def growing(run: RunFiles) -> str:
    """' — the backlog grows by 20 trucks a day: …' for an unstable run, else ''."""
    stability = run.meta.get("stability") or {}
    if not stability.get("unstable"):
        return ""
    return _(" — UNSTABLE: the backlog grows by %(n)s trucks a day, so each day is worse "
             "than this profile") % {"n": number(stability.get("growth_per_day"))}
