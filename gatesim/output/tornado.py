"""The tornado chart of a sensitivity table: which assumption moves the answer most.

One horizontal bar per parameter, largest swing on top: from the answer with the number at
its low end to the answer at its high end, drawn from the base line (all numbers at their
values) so the direction of each end shows; the error bars are the 95 % intervals of the
paired change from the base at each end (common random numbers). Drawn from the table alone
(sensitivity.csv's columns), on the Agg canvas without pyplot, like plots.py.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from gatesim.output.plots import COLOURS, save
from gatesim.output.reader import metric_label

MAX_BARS = 25
"""Bars drawn at most (the largest swings): more would not be readable on an A4 page."""
LOW_END, HIGH_END, FADED = COLOURS[0], COLOURS[1], 0.35


def _g(x: float) -> str:
    return f"{x:,.4g}"


def _errors(end: pd.Series, base: float, lo: pd.Series, hi: pd.Series,
            floor: float = -math.inf) -> np.ndarray:
    """Error-bar lengths around each end: base + the change's interval (0 where unknown),
    never below ``floor`` (0 for a figure that cannot be negative)."""
    low = np.maximum(base + lo, floor)
    return np.nan_to_num(np.clip(np.vstack([end - low, (base + hi) - end]), 0, None))


def figure_tornado(table: pd.DataFrame, meta: dict[str, Any]) -> Figure:
    """The tornado chart of ``table`` (sensitivity.csv, any order) with ``meta`` (its JSON)."""
    t = table[np.isfinite(table["swing"].astype(float))]
    t = t.sort_values("swing", ascending=False, kind="stable").head(MAX_BARS)
    n = len(t)
    fig = Figure(figsize=(8.0, min(10.5, 2.2 + 0.55 * max(n, 1))), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    ax.grid(True, axis="x", color="#e6e6e6", lw=0.6)
    ax.set_axisbelow(True)
    m = meta.get("metric", {})
    key = (m.get("metric", t["metric"].iloc[0] if n else ""),
           m.get("stat", t["stat"].iloc[0] if n else ""),
           m.get("scope", t["scope"].iloc[0] if n else "system"))
    label = metric_label(*key)
    two = len(meta.get("scenarios", [])) > 1
    xlabel = f"difference {meta.get('answer', 'B − A')}: {label}" if two else label
    base = float(t["base"].iloc[0]) if n else math.nan
    y = np.arange(n)[::-1]  # the largest swing on top
    alpha = np.where(t["effect_shown"].astype(str).str.lower() == "true", 1.0, FADED)
    for end, colour in (("low", LOW_END), ("high", HIGH_END)):
        at = t[f"at_{end}"].astype(float)
        for yi, a, x in zip(y, alpha, at, strict=True):
            ax.barh(yi, x - base, left=base, height=0.6, color=colour, alpha=a, lw=0)
        err = _errors(at, base, t[f"diff_{end}_ci_low"], t[f"diff_{end}_ci_high"],
                      -math.inf if two else 0.0)  # every figure is ≥ 0; a difference is not
        ax.errorbar(at, y, xerr=err, fmt="none", ecolor="black", elinewidth=0.9, capsize=3)
    ticks = [f"{row.parameter}\nlow {_g(row.low)} · high {_g(row.high)}"
             + ("" if a == 1.0 else "\n(no effect shown)")
             for row, a in zip(t.itertuples(), alpha, strict=True)]
    ax.set_yticks(y, ticks, fontsize="small")
    ax.set_ylim(-0.6, max(n, 1) - 0.4)
    if math.isfinite(base):
        ax.axvline(base, color="black", lw=1.0)
    if two:  # where the comparison's conclusion changes sign
        ax.axvline(0, color="#7f7f7f", lw=0.9, ls=":")
    ax.set_xlabel(xlabel, fontsize="small")
    ax.tick_params(axis="x", labelsize="small")
    reps = meta.get("replications", "")
    more = len(table) - n
    what = f"the difference {meta.get('answer', 'B − A')}" if two else label
    ax.set_title(f"What moves {what}: each range alone, the others at their values\n"
                 f"({reps} replications, common random numbers"
                 + (f"; {more} more in sensitivity.csv" if more > 0 else "") + ")",
                 fontsize="medium", wrap=True)
    fig.legend(handles=[Patch(color=LOW_END, label="the number at its low end"),
                        Patch(color=HIGH_END, label="the number at its high end"),
                        Line2D([], [], color="black", lw=1.0,
                               label=f"base: all at their values ({_g(base)})"),
                        Line2D([], [], color="black", lw=0.9, marker="|", markersize=8,
                               label="95 % CI of the change from the base")],
               loc="outside lower center", ncols=2, fontsize="small", frameon=False)
    return fig


def plot_tornado(table: pd.DataFrame, meta: dict[str, Any], out_dir: Path) -> Path:
    """Write ``tornado.png`` and ``tornado.svg`` into ``out_dir``; return the PNG."""
    return save(figure_tornado(table, meta), out_dir, "tornado")
