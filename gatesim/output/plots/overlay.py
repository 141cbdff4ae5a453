"""The scenarios of a comparison on the same charts: one colour per scenario, shared axes,
a legend naming them; a panel per yard or road (small multiples) where there are many.

Flows (throughput, distributions, utilisation) are in overlay_flows.py; ``plot_overlay``
(the package's) writes them all as ``overlay_<what>.png`` and ``.svg``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from gatesim.i18n import _
from gatesim.output.plots import names as nm
from gatesim.output.plots.common import (
    A4_WIDTH,
    COLOURS,
    WIDE,
    a4,
    bottom_row,
    capital,
    drop_unused,
    floor_at_zero,
    grid_shape,
    headline,
    legend_below,
    new_figure,
    title,
    unique_handles,
)
from gatesim.output.plots.day import folded, typical_days
from gatesim.output.plots.levels import PANEL_H, level_unit
from gatesim.output.plots.scales import date_ticks, hour_ticks, line_band, time_label
from gatesim.output.plots.timeline import hour_of_day, local_days, shade_warmup
from gatesim.output.reader import LEVELS, RunFiles, band, truck_waits
from gatesim.scenario.labels import title_of

LINESTYLES = ["-", "--", "-.", ":"]


def colour(k: int) -> str:
    """The colour of the k-th scenario, the same in every overlay figure."""
    return COLOURS[k % len(COLOURS)]


def look(k: int) -> dict[str, Any]:
    """Colour and line style of the k-th scenario's line: the baseline solid and wider, the
    others dashed, so that equal lines (common random numbers) still show both."""
    return {"color": colour(k), "ls": LINESTYLES[k % len(LINESTYLES)],
            "lw": 2.0 if k == 0 else 1.4}


def scenario_name(run: RunFiles) -> str:
    """A scenario by its display name (its own label, never a site's of the same name)."""
    return title_of(run.scenario)


def run_labels(runs: list[RunFiles]) -> nm.Labels:
    """The display names of every run's items (the baseline's first, the others adding the
    items it lacks, such as a smart gate's yards)."""
    out: dict[str, dict[str, str]] = {}
    for run in reversed(runs):
        out.update({k: dict(v) for k, v in nm.labels(run.scenario).items()})
    return out


def scenarios_first(runs: list[RunFiles], handles: list[Artist], labels: list[str]
                    ) -> tuple[list[Artist], list[str]]:
    """Legend entries with the scenarios first, in their order."""
    names = [scenario_name(r) for r in runs]
    order = sorted(range(len(labels)), key=lambda i: (names.index(labels[i])
                                                      if labels[i] in names else len(names)))
    return [handles[i] for i in order], [labels[i] for i in order]


def reps_text(runs: list[RunFiles]) -> str:
    """'mean of 3 replications per scenario, 95 % bands'."""
    n = sorted({int(r.meta["replications"]) for r in runs})
    return _("mean of %(n)s replications per scenario, 95 %% bands") % {
        "n": "/".join(str(k) for k in n)}


def time_axis(ax: Axes, runs: list[RunFiles]) -> None:
    """Hours of the first run (the baseline) with dates at midnight; its warm-up hatched."""
    base = runs[0]
    shade_warmup(ax, base)
    ax.set_xlim(0, max(r.horizon_h for r in runs))
    date_ticks(ax, base.scenario.clock.start, max(r.horizon_h for r in runs))


def scopes_of(runs: list[RunFiles], metric: str) -> list[str]:
    """The scopes of a level metric over all runs, in order of first appearance."""
    out: dict[str, None] = {}
    for r in runs:
        ts = r.timeseries
        out.update(dict.fromkeys(str(s) for s in ts.loc[ts["metric"] == metric, "scope"]))
    return list(out)


@a4
def figure_overlay_levels(runs: list[RunFiles], metric: str) -> Figure:
    """One level metric by hour, every scenario on the same axes; a panel per yard or road
    (shared scales) for yards and roads."""
    scopes = scopes_of(runs, metric)
    names = run_labels(runs)
    if len(scopes) == 1:
        fig, axes = new_figure(WIDE)
        cols = 1
    else:
        rows, cols = grid_shape(len(scopes))
        fig, axes = new_figure((A4_WIDTH, 1.4 + PANEL_H * rows), rows, cols, sharex=True,
                               sharey=True)
    for ax, scope in zip(axes, scopes, strict=False):
        for k, run in enumerate(runs):
            ts = run.timeseries
            g = band(ts[(ts["metric"] == metric) & (ts["scope"] == scope)], ["hour"])
            if g.empty:
                continue
            line_band(ax, g["hour"], g, scenario_name(run), **look(k))
            y = run.scenario.yards.get(scope) if metric == "yard_occupancy" else None
            if y is not None and y.slots is not None:
                ax.axhline(y.slots, color=colour(k), ls=":", lw=1.0,
                           label=_("number of slots (dotted)"))
        time_axis(ax, runs)
        if len(scopes) > 1:
            title(ax, nm.road(scope, names) if metric == "road_queue" else nm.item(scope, names)
                  if metric == "yard_occupancy" else nm.metric_name(metric), loc="left")
    floor_at_zero(axes)  # after every panel is drawn: the shared scale holds the largest
    drop_unused(fig, axes, len(scopes), cols)
    if len(scopes) > 1:
        fig.supylabel(level_unit(metric))
        for ax in bottom_row(axes, len(scopes), cols):
            ax.set_xlabel(time_label(runs[0].scenario.clock.start, runs[0].horizon_h))
    else:
        axes[0].set_ylabel(level_unit(metric))
        axes[0].set_xlabel(time_label(runs[0].scenario.clock.start, runs[0].horizon_h))
    legend_below(fig, *scenarios_first(runs, *unique_handles(*axes[:len(scopes)])))
    what = (_("slots taken in each yard") if metric == "yard_occupancy"
            else _("trucks queuing on each road") if metric == "road_queue"
            else nm.metric_name(metric))
    headline(fig, _("%(what)s by hour, scenarios compared — %(reps)s") % {
        "what": capital(what), "reps": reps_text(runs)})
    return fig


@a4
def figure_overlay_typical_day(runs: list[RunFiles]) -> Figure:
    """The typical day of each scenario (closure days left out): trucks in the system and on
    the roads by hour of day, and waits by hour of arrival where records were kept."""
    waits = all(r.trucks is not None and r.visits is not None for r in runs)
    n = 3 if waits else 2
    fig, axes = new_figure((A4_WIDTH, 1.6 + 2.3 * n), n, 1, sharex=True)
    closed = 0
    for k, run in enumerate(runs):
        days, closure = typical_days(run)
        closed += len(closure)
        ts = run.timeseries
        ts = ts[(ts["hour"] >= run.warmup_h) & (ts["hour"] < run.horizon_h)
                & ts["metric"].isin(LEVELS)]
        b = folded(run, ts, days)
        for ax, metric in zip(axes, ("in_system", "road_queue"), strict=False):
            g = b[(b["metric"] == metric) & (b["scope"] == "system")].sort_values("hod")
            line_band(ax, g["hod"], g, scenario_name(run), **look(k))
        if waits:
            t = truck_waits(run)
            t = t[np.isin(local_days(run.scenario, t["arrival"]), days)]
            t = t.assign(hod=hour_of_day(run.scenario, t["arrival"]))
            per_rep = t.groupby(["replication", "hod"])["wait_total"].mean().reset_index()
            g = band(per_rep, ["hod"], "wait_total").sort_values("hod")
            line_band(axes[2], g["hod"] + 0.5, g, scenario_name(run), **look(k))
    for ax, what, unit in zip(axes, (_("Trucks in the system"), _("Trucks queuing on the roads"),
                                     _("Waiting time by hour of arrival (trucks that left)")),
                              (_("trucks"), _("trucks"), _("mean total wait (h)")), strict=False):
        title(ax, what, loc="left")
        ax.set_ylabel(unit)
        hour_ticks(ax)
        ax.set_ylim(bottom=0)
    axes[-1].set_xlabel(_("hour of day, local time (Hanoi)"))
    legend_below(fig, *unique_handles(*axes))
    note = (_("closure days left out") if closed else _("no closure days in the period"))
    headline(fig, _("A typical day, scenarios compared — %(reps)s; %(note)s") % {
        "reps": reps_text(runs), "note": note})
    return fig
