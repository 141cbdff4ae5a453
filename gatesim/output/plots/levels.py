"""Levels by hour over the whole run: trucks in the system, slots taken in each yard, trucks
queuing on each road — one line per yard or road, or a panel each when there are many.
"""

from __future__ import annotations

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from gatesim.i18n import _
from gatesim.output.plots import names as nm
from gatesim.output.plots.common import (
    A4_WIDTH,
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
from gatesim.output.plots.scales import line_band, replications, time_label
from gatesim.output.plots.timeline import shade_time
from gatesim.output.reader import RunFiles, band

MAX_LINES = 4
"""Lines one axes carries at most; more get a panel each (small multiples)."""
PANEL_H = 1.45
"""Inches of one small-multiple row."""


def level_unit(metric: str) -> str:
    """The y label of a level: what is counted."""
    if metric == "yard_occupancy":
        return _("slots taken")
    if metric == "road_queue":
        return _("trucks queuing")
    return _("trucks")


def capacity_line(ax: Axes, run: RunFiles, yard: str) -> None:
    """A yard's number of slots as a dotted line (none for an unlimited yard)."""
    y = run.scenario.yards.get(yard)
    if y is not None and y.slots is not None:
        ax.axhline(y.slots, color="black", ls=":", lw=1.0, label=_("number of slots"))


@a4
def figure_levels(run: RunFiles, metric: str) -> Figure:
    """Hourly snapshots of one level metric, mean of replications with a 95 % band per hour;
    one panel per yard or road when there are more than ``MAX_LINES``."""
    names = nm.labels(run.scenario)
    ts = run.timeseries[run.timeseries["metric"] == metric]
    b = band(ts, ["scope", "hour"])
    scopes = [str(sc) for sc in dict.fromkeys(b["scope"])]
    if metric == "road_queue" and len(scopes) > MAX_LINES:
        scopes = [sc for sc in scopes if sc != "system"]   # each road has its panel
    what = _("%(what)s by hour — %(reps)s") % {
        "what": capital(nm.metric_name(metric) if metric != "yard_occupancy"
                        else _("slots taken in each yard")),
        "reps": replications(int(run.meta["replications"]))}
    if len(scopes) <= MAX_LINES:
        fig, (ax,) = new_figure(WIDE)
        for sc in scopes:
            g = b[b["scope"] == sc]
            line_band(ax, g["hour"], g, nm.scope(run.scenario, metric, sc, names))
        shade_time(ax, run, names)
        ax.set_ylim(bottom=0)
        ax.set_ylabel(level_unit(metric))
        ax.set_xlabel(time_label(run.scenario.clock.start, run.horizon_h))
        legend_below(fig, *unique_handles(ax))
        headline(fig, what)
        return fig
    rows, cols = grid_shape(len(scopes))
    fig, axes = new_figure((A4_WIDTH, 1.3 + PANEL_H * rows), rows, cols, sharex=True,
                           sharey=True)
    for ax, sc in zip(axes, scopes, strict=False):
        g = b[b["scope"] == sc]
        line_band(ax, g["hour"], g, _("mean of the replications, 95 %% band") % {}, color="#1f77b4")
        if metric == "yard_occupancy":
            capacity_line(ax, run, sc)
        shade_time(ax, run, names, hours=False)
        title(ax, nm.scope(run.scenario, metric, sc, names), loc="left")
    floor_at_zero(axes)  # after every panel is drawn: the shared scale holds the largest
    drop_unused(fig, axes, len(scopes), cols)
    fig.supylabel(level_unit(metric))
    for ax in bottom_row(axes, len(scopes), cols):
        ax.set_xlabel(time_label(run.scenario.clock.start, run.horizon_h))
    legend_below(fig, *unique_handles(*axes[:len(scopes)]))
    headline(fig, what)
    return fig
