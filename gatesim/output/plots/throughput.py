"""Throughput against demand: crossings per day in each direction, stacked by lane, beside the
trucks arriving per day (the demand line).
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from gatesim.i18n import _
from gatesim.output.plots import names as nm
from gatesim.output.plots.common import (
    A4_WIDTH,
    COLOURS,
    DEMAND,
    a4,
    capital,
    floor_at_zero,
    headline,
    legend_below,
    new_figure,
    title,
    unique_handles,
)
from gatesim.output.plots.demand import Demand, demand
from gatesim.output.plots.scales import integer_ticks, short_date
from gatesim.output.plots.timeline import shade_warmup
from gatesim.output.reader import RunFiles, band

MAX_DATE_TICKS = 8


def crossings(run: RunFiles) -> pd.DataFrame:
    """Crossings per lane side, replication and simulated day (columns scope, lane,
    direction, replication, day, value)."""
    ts = run.timeseries
    dep = ts[(ts["metric"] == "departures") & (ts["hour"] > 0)]
    dep = dep.assign(day=np.ceil(dep["hour"] / 24).astype(int) - 1)
    out = dep.groupby(["scope", "replication", "day"], sort=False)["value"].sum().reset_index()
    scope = out["scope"].astype(str)
    return out.assign(lane=scope.map(lambda sc: sc.rpartition(".")[0]),
                      direction=scope.map(lambda sc: sc.rpartition(".")[2]))


def has_crossings(run: RunFiles) -> bool:
    """Whether the run has lanes whose crossings were counted (departures by lane side)."""
    return bool((run.timeseries["metric"] == "departures").any())


def day_ticks(ax: Axes, start: dt.datetime, days: int) -> None:
    """Ticks on simulated days (bars centred on 0, 1, …), labelled with their dates."""
    step = max(1, math.ceil(days / MAX_DATE_TICKS))
    ticks = list(range(0, days, step))
    ax.set_xticks(ticks, [short_date((start + dt.timedelta(days=d)).date()) for d in ticks])
    ax.set_xlim(-0.6, days - 0.4)


def demand_line(ax: Axes, d: Demand, direction: str, days: int, colour: str = DEMAND,
                label: str | None = None) -> None:
    """The trucks arriving per day in ``direction`` as a stair over each day."""
    g = d.per_day[d.per_day["direction"] == direction].set_index("day")["value"]
    values = g.reindex(range(days)).to_numpy(dtype=float)
    ax.stairs(values, np.arange(days + 1) - 0.5, baseline=None, color=colour, lw=1.6, ls="--",
              label=label or _("trucks arriving per day (%(source)s)") % {"source": d.source})


@a4
def figure_throughput(run: RunFiles) -> Figure:
    """Crossings per simulated day in each direction, stacked by lane (mean of the
    replications, 95 % error bar on the day's total), with the demand line."""
    names = nm.labels(run.scenario)
    c = crossings(run)
    directions = [d for d in ("export", "import") if (c["direction"] == d).any()]
    days = int(math.ceil(run.horizon_h / 24))
    lanes = list(run.scenario.lanes)
    need = demand(run)
    fig, axes = new_figure((A4_WIDTH, 1.6 + 2.6 * len(directions)), len(directions), 1,
                           sharex=True)
    for ax, direction in zip(axes, directions, strict=True):
        one = c[c["direction"] == direction]
        bottom = np.zeros(days)
        for lane, g in band(one, ["lane", "day"]).groupby("lane", sort=False):
            g = g.set_index("day").reindex(range(days))
            mean = g["mean"].fillna(0).to_numpy()
            ax.bar(range(days), mean, 0.8, bottom=bottom, label=nm.item(str(lane), names),
                   color=COLOURS[lanes.index(str(lane)) % len(COLOURS)]
                   if lane in lanes else None)
            bottom += mean
        total = band(one.groupby(["replication", "day"], as_index=False)["value"].sum(),
                     ["day"]).set_index("day").reindex(range(days))
        err = np.nan_to_num(np.vstack([np.minimum(total["mean"] - total["low"], total["mean"]),
                                       total["high"] - total["mean"]]))
        ax.errorbar(range(days), bottom, yerr=err, fmt="none", ecolor="black", elinewidth=0.8,
                    capsize=2, label=_("95 %% interval of the day's total") % {})
        demand_line(ax, need, direction, days)
        shade_warmup(ax, run, scale=1 / 24, left=-0.5)
        day_ticks(ax, run.scenario.clock.start, days)
        integer_ticks(ax.yaxis)
        ax.set_ylabel(_("trucks per day"))
        title(ax, _("%(direction)s: crossings by lane and trucks arriving") % {
            "direction": capital(nm.direction(direction, names))}, loc="left")
    floor_at_zero(axes)
    axes[-1].set_xlabel(_("simulated day (24 h from the start hour), %(year)s") % {
        "year": run.scenario.clock.start.year})
    legend_below(fig, *unique_handles(*axes))
    headline(fig, _("Crossings per day against demand — mean of %(n)s replications") % {
        "n": run.meta["replications"]})
    return fig
