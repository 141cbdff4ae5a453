"""Flows of a comparison's scenarios on the same charts: crossings per day against demand,
times in the system, and the busiest stages and lanes.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from gatesim.i18n import _
from gatesim.output.plots import names as nm
from gatesim.output.plots.common import (
    A4_WIDTH,
    DEMAND,
    a4,
    floor_at_zero,
    headline,
    legend_below,
    new_figure,
    title,
    unique_handles,
)
from gatesim.output.plots.demand import demand
from gatesim.output.plots.distributions import cut, ecdf_axes
from gatesim.output.plots.overlay import colour, look, reps_text, run_labels, scenario_name
from gatesim.output.plots.scales import integer_ticks, line_band
from gatesim.output.plots.throughput import crossings, day_ticks, demand_line
from gatesim.output.plots.timeline import shade_warmup
from gatesim.output.plots.utilisation import utilisation_axis
from gatesim.output.reader import RunFiles, band, truck_waits

BUSIEST = 15
"""Stages and lane sides shown in the utilisation overlay: the busiest in any scenario."""


@a4
def figure_overlay_throughput(runs: list[RunFiles]) -> Figure:
    """Crossings per day in each direction, a line per scenario (mean, 95 % band), with the
    trucks arriving per day: one black line when the scenarios share their demand, else a
    dashed line in each scenario's colour."""
    days = int(math.ceil(max(r.horizon_h for r in runs) / 24))
    flows = [crossings(r) for r in runs]
    directions = [d for d in ("export", "import") if any((c["direction"] == d).any()
                                                        for c in flows)]
    needs = [demand(r) for r in runs]
    same = all(n.per_day.equals(needs[0].per_day) for n in needs[1:])
    fig, axes = new_figure((A4_WIDTH, 1.7 + 2.5 * len(directions)), len(directions), 1,
                           sharex=True, sharey=True)
    names = run_labels(runs)
    for ax, direction in zip(axes, directions, strict=True):
        for k, (run, c) in enumerate(zip(runs, flows, strict=True)):
            total = c[c["direction"] == direction].groupby(
                ["replication", "day"], as_index=False)["value"].sum()
            g = band(total, ["day"]).sort_values("day")
            line_band(ax, g["day"], g, scenario_name(run), marker="o", ms=3, **look(k))
            if not same:
                demand_line(ax, needs[k], direction, days, colour(k), _(
                    "%(scenario)s: trucks arriving per day") % {"scenario": scenario_name(run)})
        if same:
            demand_line(ax, needs[0], direction, days, DEMAND)
        shade_warmup(ax, runs[0], scale=1 / 24, left=-0.5)
        day_ticks(ax, runs[0].scenario.clock.start, days)
        integer_ticks(ax.yaxis)
        ax.set_ylabel(_("trucks per day"))
        title(ax, _("%(direction)s: crossings per day, all lanes") % {
            "direction": nm.direction(direction, names).capitalize()}, loc="left")
    floor_at_zero(axes)  # after both directions are drawn: the shared scale holds both
    axes[-1].set_xlabel(_("simulated day (24 h from the start hour), %(year)s") % {
        "year": runs[0].scenario.clock.start.year})
    legend_below(fig, *unique_handles(*axes))
    headline(fig, _("Crossings per day against demand, scenarios compared — %(reps)s") % {
        "reps": reps_text(runs)})
    return fig


@a4
def figure_overlay_distributions(runs: list[RunFiles]) -> Figure:
    """Time in the system of the trucks of each direction, a line (ECDF) per scenario."""
    waits = [truck_waits(r) for r in runs]
    directions = [d for d in ("export", "import") if any((w["direction"] == d).any()
                                                        for w in waits)]
    fig, axes = new_figure((A4_WIDTH, 1.7 + 2.4 * len(directions)), len(directions), 1,
                           sharex=True, sharey=True)
    limit = cut(pd.concat([w["sojourn"] for w in waits]))
    names = run_labels(runs)
    for ax, direction in zip(axes, directions, strict=True):
        for k, (run, w) in enumerate(zip(runs, waits, strict=True)):
            one = w.loc[w["direction"] == direction, "sojourn"]
            if len(one):
                ax.ecdf(one, label=scenario_name(run), **look(k))
        ecdf_axes(ax, limit, "")
        ax.set_ylabel(_("share of trucks"))
        title(ax, _("%(direction)s: time in the system") % {
            "direction": nm.direction(direction, names).capitalize()}, loc="left")
    axes[-1].set_xlabel(_("time in the system (h; axis cut at the 99th percentile)"))
    legend_below(fig, *unique_handles(*axes))
    headline(fig, _("Share of trucks out within a given time, scenarios compared (arrived "
                    "after the warm-up, left)"))
    return fig


@a4
def figure_overlay_utilisation(runs: list[RunFiles]) -> Figure:
    """Utilisation of the stages and lane sides busiest in any scenario, a bar per
    scenario, with 95 % error bars."""
    rows = []
    for k, run in enumerate(runs):
        s = run.summary
        u = s[(s["metric"] == "utilisation") & (s["stat"] == "mean")]
        rows.append(u.assign(k=k))
    u = pd.concat(rows, ignore_index=True)
    top = u.groupby("scope", sort=False)["estimate"].max().sort_values(ascending=False)
    stations = list(top.index[:BUSIEST])
    n = len(runs)
    fig, (ax,) = new_figure((A4_WIDTH, 1.8 + 0.16 * n * len(stations)))
    height = 0.8 / n
    names = run_labels(runs)
    for k, run in enumerate(runs):
        one = u[u["k"] == k].set_index("scope").reindex(stations)
        err = np.nan_to_num(np.vstack([one["estimate"] - one["ci_low"],
                                       one["ci_high"] - one["estimate"]]))
        ax.barh(np.arange(len(stations)) - 0.4 + height * (k + 0.5), one["estimate"].fillna(0),
                height, xerr=err, color=colour(k), label=scenario_name(run), capsize=1.5,
                error_kw={"lw": 0.7})
    utilisation_axis(ax, [nm.station(st, names) for st in stations], u["ci_high"])
    legend_below(fig, *unique_handles(ax))
    more = u["scope"].nunique() - len(stations)
    headline(fig, _("Utilisation of the busiest stages and lanes, scenarios compared — 95 %% "
                    "error bars") % {} + (_(" (%(n)s less busy not shown)") % {"n": more}
                                     if more > 0 else ""))
    return fig
