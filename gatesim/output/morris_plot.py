"""The chart of a Morris screening: which of many uncertain numbers move the answer.

Above, one horizontal bar per parameter, largest μ* on top (the mean absolute change of the
answer across the parameter's range), with its 95 % bootstrap interval; a parameter whose
effects are all exactly 0 is drawn faded. Below, μ* against σ: a parameter far right matters,
one high up acts with the others or bends (its effect depends on where the others are).
Drawn from the table alone (screening.csv's columns), on the Agg canvas without pyplot, in
the plots' A4 style, like the tornado chart.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from gatesim.i18n import _
from gatesim.output.plots.common import (
    A4_WIDTH,
    COLOURS,
    MIN_PT,
    TEXT_PT,
    a4,
    blank,
    headline,
    numbers,
    save,
    style,
    wrap,
)
from gatesim.output.plots.params import uncertain
from gatesim.output.tornado import (
    FADED,
    MAX_BARS,
    XLABEL_W,
    analysis_names,
    answer_words,
    bar_label,
)

BAR = COLOURS[0]
LABELLED = 8
"""Points named on the μ*–σ panel (the largest μ*, away from the origin): more would
overlap."""


@a4
def figure_morris(table: pd.DataFrame, meta: dict[str, Any]) -> Figure:
    """The screening chart of ``table`` (screening.csv, any order) with ``meta`` (its JSON)."""
    t = table[np.isfinite(table["mu_star"].astype(float))]
    t = t.sort_values("mu_star", ascending=False, kind="stable").head(MAX_BARS)
    n = len(t)
    bars_h = 0.42 * max(n, 1) + 0.8
    fig = blank((A4_WIDTH, min(10.5, bars_h + 4.6)))
    upper, lower = fig.subfigures(2, 1, height_ratios=[bars_h, 3.4])  # each its own margins
    top, bottom = style(upper.subplots()), style(lower.subplots())
    m = meta.get("metric", {})
    two = len(meta.get("scenarios", [])) > 1
    what = (_("the difference %(answer)s") % {"answer": meta.get("answer", "B − A")} if two
            else answer_words(meta, m.get("metric", ""), m.get("stat", ""),
                              m.get("scope", "system")))
    mu_star = t["mu_star"].astype(float).to_numpy()
    alpha = np.where(mu_star > 0, 1.0, FADED)
    y = np.arange(n)[::-1]  # the largest μ* on top
    for yi, a, x in zip(y, alpha, mu_star, strict=True):
        top.barh(yi, x, height=0.6, color=BAR, alpha=a, lw=0)
    err = np.nan_to_num(np.clip(np.vstack([
        mu_star - t["mu_star_ci_low"].astype(float).to_numpy(),
        t["mu_star_ci_high"].astype(float).to_numpy() - mu_star]), 0, None))
    top.errorbar(mu_star, y, xerr=err, fmt="none", ecolor="black", elinewidth=0.9, capsize=3)
    doc, names = analysis_names(meta)
    top.set_yticks(y, [bar_label(row, doc, names, a != 1.0, _("(no effect)"))
                       for row, a in zip(t.itertuples(), alpha, strict=True)])
    top.set_ylim(-0.6, max(n, 1) - 0.4)
    top.set_xlim(left=0)
    top.grid(False, axis="y")
    numbers(top.xaxis)
    top.set_xlabel(wrap(fig, _("μ*: mean absolute change across a parameter's range (bar: "
                               "95 %% CI)") % {}, XLABEL_W, TEXT_PT), loc="right")
    more = len(table) - n
    headline(fig, _("What moves %(what)s: Morris screening, every range at once "
                    "(%(trajectories)s trajectories, %(levels)s levels, %(reps)s replications "
                    "per point, common random numbers)") % {
        "what": what, "trajectories": meta.get("trajectories", ""),
        "levels": meta.get("levels", ""), "reps": meta.get("replications", "")}
        + (_("; %(more)s more in screening.csv") % {"more": more} if more > 0 else ""))
    sigma = t["sigma"].astype(float).to_numpy()
    bottom.scatter(mu_star, sigma, color=BAR, alpha=alpha, s=28, lw=0)
    finite = np.concatenate([mu_star, sigma[np.isfinite(sigma)]])
    lim = float(finite.max()) * 1.1 if finite.size and finite.max() > 0 else 1.0
    for row, x, s in list(zip(t.itertuples(), mu_star, sigma, strict=True))[:LABELLED]:
        if math.isfinite(s) and max(x, s) > 0.03 * lim:  # those at the origin would overlap
            left = x > lim / 2   # a name on the right half reads leftwards, inside the axes
            note = bottom.annotate(uncertain(str(row.parameter), doc, names), (x, s),
                                   xytext=(-4 if left else 4, 3), textcoords="offset points",
                                   ha="right" if left else "left", fontsize=MIN_PT,
                                   annotation_clip=True, clip_on=True)
            note.set_in_layout(False)
    bottom.plot([0, lim], [0, lim], color="#7f7f7f", lw=0.9, ls=":",
                label=_("σ = μ*: above it, the effect depends on the others"))
    bottom.set_xlim(0, lim)
    bottom.set_ylim(0, lim)
    numbers(bottom.xaxis)
    bottom.set_xlabel(_("μ* (importance)"))
    bottom.set_ylabel(_("σ (interaction or curvature)"))
    bottom.legend(loc="lower right", fontsize=MIN_PT, frameon=False)
    return fig


def plot_morris(table: pd.DataFrame, meta: dict[str, Any], out_dir: Path) -> Path:
    """Write ``morris.png`` and ``morris.svg`` into ``out_dir``; return the PNG."""
    return save(figure_morris(table, meta), out_dir, "morris")
