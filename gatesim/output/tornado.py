"""The tornado chart of a sensitivity table: which assumption moves the answer most.

One horizontal bar per parameter, largest swing on top: from the answer with the number at
its low end to the answer at its high end, drawn from the base line (all numbers at their
values) so the direction of each end shows; the error bars are the 95 % intervals of the
paired change from the base at each end (common random numbers). Drawn from the table alone
(sensitivity.csv's columns), on the Agg canvas without pyplot, in the plots' A4 style
(parameters by their display names, words in the current language).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from gatesim.i18n import _
from gatesim.output.plots.common import (
    A4_WIDTH,
    COLOURS,
    TEXT_PT,
    a4,
    blank,
    headline,
    legend_below,
    numbers,
    save,
    style,
    tick,
    wrap,
)
from gatesim.output.plots.names import doc_labels, metric_name, metric_unit, stat_name
from gatesim.output.plots.params import uncertain

MAX_BARS = 25
"""Bars drawn at most (the largest swings): more would not be readable on an A4 page."""
LOW_END, HIGH_END, FADED = COLOURS[0], COLOURS[1], 0.35
XLABEL_W = 3.4
"""Inches an x label may take: beside long parameter names the axes are narrow."""


def _errors(end: pd.Series, base: float, lo: pd.Series, hi: pd.Series,
            floor: float = -math.inf) -> np.ndarray:
    """Error-bar lengths around each end: base + the change's interval (0 where unknown),
    never below ``floor`` (0 for a figure that cannot be negative)."""
    low = np.maximum(base + lo, floor)
    return np.nan_to_num(np.clip(np.vstack([end - low, (base + hi) - end]), 0, None))


def answer_words(meta: dict[str, Any], metric: str, stat: str, scope: str) -> str:
    """'time in the system, 95th percentile (h)', or 'the difference B − A: …' for two
    scenarios."""
    unit = metric_unit(metric)
    label = _("%(name)s, %(stat)s") % {"name": metric_name(metric), "stat": stat_name(stat)}
    if scope != "system":
        label = _("%(figure)s — %(scope)s") % {"figure": label, "scope": scope}
    label += f" ({unit})" if unit else ""
    if len(meta.get("scenarios", [])) > 1:
        return _("the difference %(answer)s: %(figure)s") % {
            "answer": meta.get("answer", "B − A"), "figure": label}
    return label


def analysis_names(meta: dict[str, Any]) -> tuple[dict[str, Any], dict[str, dict[str, str]]]:
    """The first scenario of an analysis (as JSON) and its display names."""
    docs = meta.get("scenario") or {}
    doc = next(iter(docs.values()), {}) if isinstance(docs, dict) else {}
    return doc, dict(doc_labels(doc))


def bar_label(row: Any, doc: dict[str, Any], names: dict[str, dict[str, str]],
              faded: bool, none: str) -> str:
    """A parameter in words with its range, e.g. 'Smart yard — slots\nlow 100 · high 250'."""
    return (uncertain(str(row.parameter), doc, names) + "\n"
            + _("low %(low)s · high %(high)s") % {"low": tick(row.low), "high": tick(row.high)}
            + ("\n" + none if faded else ""))


@a4
def figure_tornado(table: pd.DataFrame, meta: dict[str, Any]) -> Figure:
    """The tornado chart of ``table`` (sensitivity.csv, any order) with ``meta`` (its JSON)."""
    t = table[np.isfinite(table["swing"].astype(float))]
    t = t.sort_values("swing", ascending=False, kind="stable").head(MAX_BARS)
    n = len(t)
    fig = blank((A4_WIDTH, min(10.0, 2.4 + 0.5 * max(n, 1))))
    ax = style(fig.add_subplot())
    ax.grid(False, axis="y")
    m = meta.get("metric", {})
    key = (m.get("metric", t["metric"].iloc[0] if n else ""),
           m.get("stat", t["stat"].iloc[0] if n else ""),
           m.get("scope", t["scope"].iloc[0] if n else "system"))
    two = len(meta.get("scenarios", [])) > 1
    xlabel = answer_words(meta, *key)
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
    doc, names = analysis_names(meta)
    ax.set_yticks(y, [bar_label(row, doc, names, a != 1.0, _("(no effect shown)"))
                      for row, a in zip(t.itertuples(), alpha, strict=True)])
    ax.set_ylim(-0.6, max(n, 1) - 0.4)
    if math.isfinite(base):
        ax.axvline(base, color="black", lw=1.0)
    if two:  # where the comparison's conclusion changes sign
        ax.axvline(0, color="#7f7f7f", lw=0.9, ls=":")
    numbers(ax.xaxis)
    ax.set_xlabel(wrap(fig, xlabel, XLABEL_W, TEXT_PT), loc="right")  # under the names
    more = len(table) - n
    what = (_("the difference %(answer)s") % {"answer": meta.get("answer", "B − A")} if two
            else answer_words(meta, *key))
    headline(fig, _("What moves %(what)s: each range alone, the others at their values "
                    "(%(n)s replications, common random numbers)") % {
        "what": what, "n": meta.get("replications", "")}
        + (_("; %(more)s more in sensitivity.csv") % {"more": more} if more > 0 else ""))
    legend_below(fig, [Patch(color=LOW_END), Patch(color=HIGH_END),
                       Line2D([], [], color="black", lw=1.0),
                       Line2D([], [], color="black", lw=0.9, marker="|", markersize=8)],
                 [_("the number at its low end"), _("the number at its high end"),
                  _("base: all at their values (%(base)s)") % {"base": tick(base)},
                  _("95 %% CI of the change from the base") % {}])
    return fig


def plot_tornado(table: pd.DataFrame, meta: dict[str, Any], out_dir: Path) -> Path:
    """Write ``tornado.png`` and ``tornado.svg`` into ``out_dir``; return the PNG."""
    return save(figure_tornado(table, meta), out_dir, "tornado")
