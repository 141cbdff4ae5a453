"""The chart of a Morris screening: which of many uncertain numbers move the answer.

Above, one horizontal bar per parameter, largest μ* on top (the mean absolute change of the
answer across the parameter's range), with its 95 % bootstrap interval; a parameter whose
effects are all exactly 0 is drawn faded. Below, μ* against σ: a parameter far right matters,
one high up acts with the others or bends (its effect depends on where the others are).
Drawn from the table alone (screening.csv's columns), on the Agg canvas without pyplot, in
the tornado chart's style.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from gatesim.output.plots import COLOURS, save
from gatesim.output.reader import metric_label
from gatesim.output.tornado import FADED, MAX_BARS

BAR = COLOURS[0]
LABELLED = 8
"""Points named on the μ*–σ panel (the largest μ*, away from the origin): more would
overlap."""


def _g(x: float) -> str:
    return f"{x:,.4g}"


def figure_morris(table: pd.DataFrame, meta: dict[str, Any]) -> Figure:
    """The screening chart of ``table`` (screening.csv, any order) with ``meta`` (its JSON)."""
    t = table[np.isfinite(table["mu_star"].astype(float))]
    t = t.sort_values("mu_star", ascending=False, kind="stable").head(MAX_BARS)
    n = len(t)
    bars_h = 0.45 * max(n, 1) + 0.8
    fig = Figure(figsize=(8.0, min(11.0, bars_h + 5.0)), layout="constrained")
    FigureCanvasAgg(fig)
    top, bottom = fig.subplots(2, 1, height_ratios=[bars_h, 3.2])
    m = meta.get("metric", {})
    label = metric_label(m.get("metric", ""), m.get("stat", ""), m.get("scope", "system"))
    two = len(meta.get("scenarios", [])) > 1
    what = f"the difference {meta.get('answer', 'B − A')}" if two else label
    mu_star = t["mu_star"].astype(float).to_numpy()
    alpha = np.where(mu_star > 0, 1.0, FADED)
    y = np.arange(n)[::-1]  # the largest μ* on top
    for yi, a, x in zip(y, alpha, mu_star, strict=True):
        top.barh(yi, x, height=0.6, color=BAR, alpha=a, lw=0)
    err = np.nan_to_num(np.clip(np.vstack([
        mu_star - t["mu_star_ci_low"].astype(float).to_numpy(),
        t["mu_star_ci_high"].astype(float).to_numpy() - mu_star]), 0, None))
    top.errorbar(mu_star, y, xerr=err, fmt="none", ecolor="black", elinewidth=0.9, capsize=3)
    ticks = [f"{row.parameter}\nlow {_g(row.low)} · high {_g(row.high)}"
             + ("" if a == 1.0 else "\n(no effect)")
             for row, a in zip(t.itertuples(), alpha, strict=True)]
    top.set_yticks(y, ticks, fontsize="small")
    top.set_ylim(-0.6, max(n, 1) - 0.4)
    top.set_xlim(left=0)
    top.grid(True, axis="x", color="#e6e6e6", lw=0.6)
    top.set_axisbelow(True)
    top.set_xlabel(f"μ*: mean absolute change of {what} across a parameter's range "
                   "(bar: 95 % CI)", fontsize="small", wrap=True)
    top.tick_params(axis="x", labelsize="small")
    more = len(table) - n
    top.set_title(f"What moves {what}: Morris screening, every range at once\n"
                  f"({meta.get('trajectories', '')} trajectories, {meta.get('levels', '')} "
                  f"levels, {meta.get('replications', '')} replications per point, common "
                  "random numbers" + (f"; {more} more in screening.csv" if more > 0 else "")
                  + ")", fontsize="medium", wrap=True)
    sigma = t["sigma"].astype(float).to_numpy()
    bottom.scatter(mu_star, sigma, color=BAR, alpha=alpha, s=28, lw=0)
    finite = np.concatenate([mu_star, sigma[np.isfinite(sigma)]])
    lim = float(finite.max()) * 1.1 if finite.size and finite.max() > 0 else 1.0
    for row, x, s in list(zip(t.itertuples(), mu_star, sigma, strict=True))[:LABELLED]:
        if math.isfinite(s) and max(x, s) > 0.03 * lim:  # those at the origin would overlap
            bottom.annotate(row.parameter, (x, s), xytext=(4, 3), textcoords="offset points",
                            fontsize="x-small")
    bottom.plot([0, lim], [0, lim], color="#7f7f7f", lw=0.9, ls=":",
                label="σ = μ*: above it, the effect depends on the others")
    bottom.set_xlim(0, lim)
    bottom.set_ylim(0, lim)
    bottom.grid(True, color="#e6e6e6", lw=0.6)
    bottom.set_axisbelow(True)
    bottom.set_xlabel("μ* (importance)", fontsize="small")
    bottom.set_ylabel("σ (interaction or curvature)", fontsize="small")
    bottom.tick_params(labelsize="small")
    bottom.legend(loc="upper left", fontsize="small", frameon=False)
    return fig


def plot_morris(table: pd.DataFrame, meta: dict[str, Any], out_dir: Path) -> Path:
    """Write ``morris.png`` and ``morris.svg`` into ``out_dir``; return the PNG."""
    return save(figure_morris(table, meta), out_dir, "morris")
