"""Utilisation: the busy share of on-duty time of each stage and lane side — the bottlenecks."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from gatesim.i18n import _
from gatesim.output.plots import names as nm
from gatesim.output.plots.common import (
    A4_WIDTH,
    COLOURS,
    a4,
    headline,
    legend_below,
    new_figure,
    numbers,
)
from gatesim.output.reader import RunFiles

BAR_H = 0.24
"""Inches per bar."""


def utilisation_axis(ax: Axes, labels: list[str], ci_high: pd.Series) -> None:
    """A horizontal utilisation chart's frame: stations top-down, the 100 % line, shares on
    the x axis up to the highest interval end (at least 105 %)."""
    ax.set_yticks(range(len(labels)), labels)
    ax.set_ylim(len(labels) - 0.5, -0.5)
    ax.axvline(1.0, color="black", lw=0.8)
    ax.set_xlim(0, max(1.05, float(np.nanmax(ci_high, initial=0)) * 1.05))
    numbers(ax.xaxis, percent=True)
    ax.grid(False, axis="y")
    ax.set_xlabel(_("utilisation (busy time ÷ on-duty server time)"))
    ax.set_ylabel(_("stage or lane side"))


@a4
def figure_utilisation(run: RunFiles) -> Figure:
    """Busy share of on-duty time per stage and lane side, with 95 % error bars."""
    names = nm.labels(run.scenario)
    s = run.summary
    u = s[(s["metric"] == "utilisation") & (s["stat"] == "mean")].reset_index(drop=True)
    lanes = {f"{n}.{d}" for n in run.scenario.lanes for d in ("export", "import")}
    fig, (ax,) = new_figure((A4_WIDTH, max(3.0, 1.4 + BAR_H * len(u))))
    err = np.nan_to_num(np.vstack([u["estimate"] - u["ci_low"], u["ci_high"] - u["estimate"]]))
    colours = [COLOURS[1] if scope in lanes else COLOURS[0] for scope in u["scope"]]
    ax.barh(range(len(u)), u["estimate"], xerr=err, color=colours, capsize=2, height=0.7,
            error_kw={"lw": 0.8})
    utilisation_axis(ax, [nm.station(str(sc), names) for sc in u["scope"]], u["ci_high"])
    headline(fig, _("Utilisation per stage and lane — 95 %% error bars") % {})
    legend_below(fig, [Patch(color=COLOURS[0]), Patch(color=COLOURS[1])],
                 [_("stage"), _("lane side")])
    return fig
