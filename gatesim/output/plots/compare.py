"""The comparison's verdicts: each key figure's difference from the baseline with its
simultaneous interval, green or red when the interval excludes 0, grey otherwise.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from gatesim.i18n import _
from gatesim.output.plots import names as nm
from gatesim.output.plots.common import (
    A4_WIDTH,
    BETTER,
    NEUTRAL,
    WORSE,
    a4,
    capital,
    headline,
    legend_below,
    new_figure,
    numbers,
    save,
    title,
)
from gatesim.output.reader import HIGHER_IS_BETTER, as_bool

Key = tuple[str, str, str]


def key_title(metric: str, scope: str, stat: str, names: nm.Labels | None = None) -> str:
    """'Time in the system, 95th percentile' ('… on ql1a' for one road)."""
    name = nm.metric_name(metric)
    if metric == "road_queue" and scope != "system":
        name = _("queue on %(road)s") % {"road": nm.road(scope, names or {})}
    elif scope != "system":
        name = _("%(name)s — %(scope)s") % {"name": name, "scope": nm.item(scope, names or {})}
    return capital(_("%(name)s, %(stat)s") % {"name": name, "stat": nm.stat_name(stat)})


@a4
def figure_comparison(comparison: pd.DataFrame, baseline: str, keys: list[Key],
                      names: nm.Labels | None = None) -> Figure:
    """Each summary-block figure's difference from the baseline with its simultaneous
    (Bonferroni) interval; coloured green when better, red when worse exactly when that
    interval excludes 0, grey otherwise. ``names``: display names of the roads (``labels_of``
    the baseline); scenarios go by their names."""
    names = names or {}
    comparison = comparison[comparison["scenario"] != baseline]
    present = set(zip(comparison["metric"], comparison["scope"], comparison["stat"], strict=True))
    keys = [k for k in keys if k in present]
    scenarios = list(dict.fromkeys(comparison["scenario"]))
    rows = math.ceil(len(keys) / 2)
    fig, axes = new_figure((A4_WIDTH, 1.5 + rows * (0.9 + 0.3 * len(scenarios))), rows, 2,
                           sharey=True)
    for ax, (metric, scope, stat) in zip(axes, keys, strict=False):
        c = comparison[(comparison["metric"] == metric) & (comparison["scope"] == scope)
                       & (comparison["stat"] == stat)].set_index("scenario").reindex(scenarios)
        good = (c["diff"] > 0) == (metric in HIGHER_IS_BETTER)
        colours = np.where(as_bool(c["significant_block"]), np.where(good, BETTER, WORSE),
                           NEUTRAL)
        err = np.nan_to_num(np.vstack([c["diff"] - c["ci_low_block"],
                                       c["ci_high_block"] - c["diff"]]))
        ax.barh(range(len(c)), c["diff"], xerr=err, color=colours, capsize=3, height=0.6)
        ax.set_yticks(range(len(c)), [str(n) for n in c.index])
        ax.set_ylim(len(c) - 0.5, -0.5)
        ax.axvline(0, color="black", lw=0.8)
        ax.grid(False, axis="y")
        numbers(ax.xaxis)
        title(ax, key_title(metric, scope, stat, names), size=9.5)
        unit = nm.metric_unit(metric)
        ax.set_xlabel(_("difference (%(unit)s)") % {"unit": unit} if unit else _("difference"))
    for ax in axes[len(keys):]:
        fig.delaxes(ax)
    fig.supylabel(_("scenario"))
    headline(fig, _("Difference from %(baseline)s (common random numbers; the %(n)s "
                    "intervals hold together)") % {"baseline": baseline,
                                                   "n": len(keys)})
    legend_below(fig, [Patch(color=BETTER), Patch(color=WORSE), Patch(color=NEUTRAL)],
                 [_("significantly better"), _("significantly worse"), _("not significant")])
    return fig


def plot_comparison(comparison: pd.DataFrame, baseline: str, keys: list[Key],
                    out_dir: Path, names: nm.Labels | None = None) -> Path:
    """Write the differences of the primary figures (``keys``) from the baseline scenario."""
    return save(figure_comparison(comparison, baseline, keys, names), out_dir, "comparison")
