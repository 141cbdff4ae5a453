"""Distributions from the truck records: time in the system per truck class, and the wait at
each stage and lane — mean and 90th percentile, a panel per site and direction (not thirty
lines in one).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from gatesim.i18n import _, number
from gatesim.output.plots import names as nm
from gatesim.output.plots.common import (
    A4_WIDTH,
    COLOURS,
    WIDE,
    a4,
    blank,
    headline,
    legend_below,
    new_figure,
    numbers,
    style,
    title,
    unique_handles,
)
from gatesim.output.reader import RunFiles, band, truck_waits

BAR_H = 0.21
"""Inches per station in the waits chart."""


def cut(x: pd.Series) -> float:
    """The x limit of an ECDF: its 99th percentile, with a margin."""
    top = float(np.nanpercentile(x, 99)) if len(x) else 1.0
    return max(top, 1e-3) * 1.05


def ecdf_axes(ax: Axes, limit: float, what: str) -> None:
    """Share-of-trucks axes from 0 to ``limit`` hours."""
    ax.set_xlim(0, limit)
    ax.set_ylim(0, 1.02)
    numbers(ax.xaxis)
    numbers(ax.yaxis, percent=True)
    ax.set_xlabel(what)


@a4
def figure_distributions(run: RunFiles) -> Figure:
    """ECDFs of time in the system per truck class (trucks that arrived after the warm-up
    and left)."""
    t = truck_waits(run)
    names = nm.labels(run.scenario)
    fig, (ax,) = new_figure(WIDE)
    for cls, g in t.groupby("cls", sort=True):
        ax.ecdf(g["sojourn"], label=_("%(cls)s (n = %(n)s)") % {
            "cls": nm.truck_class(str(cls), names), "n": number(len(g), 0)})
    ecdf_axes(ax, cut(t["sojourn"]), _("time in the system (h; axis cut at the 99th "
                                       "percentile)"))
    ax.set_ylabel(_("share of trucks at or below"))
    legend_below(fig, *unique_handles(ax))
    headline(fig, _("Time in the system by truck class (arrived after the warm-up, left)"))
    return fig


def station_waits(run: RunFiles) -> pd.DataFrame:
    """Per station: mean wait with its 95 % band over replications, and the 90th percentile
    of all waits (visits of trucks that arrived after the warm-up and left)."""
    t = truck_waits(run)
    v = run.visits
    assert v is not None
    v = v.merge(t[["replication", "id"]], left_on=["replication", "truck"],
                right_on=["replication", "id"])
    per_rep = v.groupby(["station", "replication"], as_index=False)["wait"].mean()
    b = band(per_rep, ["station"], "wait").set_index("station")
    b["p90"] = v.groupby("station")["wait"].quantile(0.9)
    return b


@a4
def figure_waits(run: RunFiles) -> Figure:
    """The wait at each stage and lane side: mean (bar, 95 % interval) and 90th percentile
    (diamond), a panel per site and direction of the routes."""
    names = nm.labels(run.scenario)
    w = station_waits(run)
    groups = [(key, [st for st in stations if st in w.index])
              for key, stations in nm.station_groups(run.scenario).items()]
    groups = [(key, st) for key, st in groups if st]
    sizes = [len(st) + 1.6 for _key, st in groups]
    fig = blank((A4_WIDTH, 1.3 + BAR_H * sum(sizes)))
    spec = fig.add_gridspec(len(groups), 1, height_ratios=sizes)
    first = None
    for k, ((site, direction), stations) in enumerate(groups):
        ax = style(fig.add_subplot(spec[k, 0], sharex=first))
        first = first or ax
        g = w.reindex(stations)
        y = np.arange(len(stations))
        err = np.nan_to_num(np.clip(np.vstack([g["mean"] - g["low"], g["high"] - g["mean"]]),
                                    0, None))
        ax.barh(y, g["mean"], 0.7, xerr=err, color=COLOURS[0], capsize=2,
                error_kw={"lw": 0.8}, label=_("mean wait (bar: 95 %% interval)") % {})
        ax.plot(g["p90"], y, "D", color="black", ms=4, label=_("90th percentile"))
        ax.set_yticks(y, [nm.station(st, names) for st in stations])
        ax.set_ylim(len(stations) - 0.5, -0.5)
        ax.grid(False, axis="y")
        ax.set_xlim(left=0)
        numbers(ax.xaxis)
        title(ax, nm.group_name(site, direction, names), loc="left")
        if k < len(groups) - 1:
            ax.xaxis.set_tick_params(labelbottom=False)
        else:
            ax.set_xlabel(_("wait before service or crossing (h)"))
    fig.supylabel(_("stage or lane side"))
    legend_below(fig, *unique_handles(*fig.axes))
    headline(fig, _("Wait at each stage and lane (trucks that arrived after the warm-up "
                    "and left)"))
    return fig
