"""A capacity sweep: one figure against the swept parameter, on a numeric axis (values at their
true positions) named in words with its unit; one line per setting of the other parameters,
or a panel each when there are many.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from gatesim.i18n import _
from gatesim.output.plots import names as nm
from gatesim.output.plots.common import (
    A4_WIDTH,
    BETTER,
    MIN_PT,
    WIDE,
    WORSE,
    a4,
    bottom_row,
    capital,
    drop_unused,
    grid_shape,
    headline,
    legend_below,
    new_figure,
    numbers,
    save,
    tick,
    title,
    unique_handles,
)
from gatesim.output.plots.params import parameter
from gatesim.output.plots.scales import line_band

Key = tuple[str, str, str]
MAX_LINES = 4
"""Settings of the other parameters drawn as lines in one axes; more get a panel each."""
MAX_VALUE_TICKS = 8


def sweep_keys(spec: dict[str, Any]) -> list[Key]:
    """The metrics a sweep is judged on: its target, else mean time in system and p95 queue."""
    t = spec.get("target")
    if t:
        return [(t["metric"], t["scope"], t["stat"])]
    return [("time_in_system_h", "system", "mean"), ("road_queue", "system", "p95")]


def sweep_names(spec: dict[str, Any]) -> nm.Labels:
    """The display names of the swept scenario's items (none without its scenario)."""
    return nm.doc_labels(spec.get("scenario"))


def value_ticks(ax: Axes, values: np.ndarray) -> None:
    """Ticks at the values tried when they are few and apart, else matplotlib's; numbers in
    the current language."""
    values = np.unique(values[np.isfinite(values)])
    span = float(values.max() - values.min()) if values.size > 1 else 0.0
    if 1 < values.size <= MAX_VALUE_TICKS and np.diff(values).min() >= span / 12:
        ax.set_xticks(values)
    numbers(ax.xaxis)


def _target(ax: Axes, spec: dict[str, Any], key: Key, x: str, setting: dict[str, Any],
            line: Line2D, alone: bool) -> None:
    """The target line and, on the setting that has it, the smallest value meeting it: a
    vertical line where the axes has one line (``alone``), else a star on its line."""
    target, best = spec.get("target"), spec.get("best")
    if not target or (target["metric"], target["scope"], target["stat"]) != key:
        return
    op = {"<=": "≤", ">=": "≥"}[target["op"]]
    bound = _("upper") if target["op"] == "<=" else _("lower")
    ax.axhline(target["value"], color="black", ls=":",
               label=_("target %(op)s %(value)s (judged on the CI's %(bound)s bound)") % {
                   "op": op, "value": tick(target["value"]), "bound": bound})
    if not best or not all(best.get(p) == v for p, v in setting.items()):
        return
    label = _("smallest meeting it: %(value)s") % {"value": tick(best[x])}
    if alone:
        ax.axvline(best[x], color=BETTER, lw=2, alpha=0.7, label=label)
    else:
        xs, ys = np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)
        ax.plot(best[x], ys[np.argmin(np.abs(xs - best[x]))], "*", color=BETTER, ms=16,
                mec="black", mew=0.6, zorder=5, label=label)


def _value(v: Any) -> str:
    return tick(v) if isinstance(v, int | float | np.number) else str(v)


@a4
def figure_sweep(sweep: pd.DataFrame, spec: dict[str, Any], key: Key) -> Figure:
    """One metric against the first swept parameter with its 95 % band (a line, or a panel,
    per setting of the other parameters), the target and the smallest value meeting it."""
    params = list(spec["params"])
    x, others = params[0], params[1:]
    names = sweep_names(spec)
    doc = spec.get("scenario") or {}
    metric, scope, stat = key
    d = sweep[(sweep["metric"] == metric) & (sweep["scope"] == scope) & (sweep["stat"] == stat)]
    d = d.rename(columns={"estimate": "mean", "ci_low": "low", "ci_high": "high"})
    numeric = pd.to_numeric(d[x], errors="coerce")
    categories: list[str] = []
    if numeric.isna().any():   # words (e.g. an overflow road): evenly spaced, in order tried
        categories = [str(v) for v in dict.fromkeys(d[x])]
        numeric = d[x].astype(str).map({c: float(k) for k, c in enumerate(categories)})
    d = d.assign(**{x: numeric})
    groups = list(d.groupby(others, sort=True)) if others else [((), d)]
    settings = [dict(zip(others, v if isinstance(v, tuple) else (v,), strict=True))
                for v, _g in groups]
    words = [", ".join(_("%(param)s = %(value)s") % {"param": parameter(p, doc, names),
                                                     "value": _value(v)} for p, v in s.items())
             for s in settings]
    panels = len(groups) > MAX_LINES
    heading = None      # one other parameter drawn as lines: its name heads their legend
    if not panels and len(others) == 1:
        heading = parameter(others[0], doc, names)
        words = [_value(v) for s in settings for v in s.values()]
    if panels:
        rows, cols = grid_shape(len(groups), 3)
        fig, axes = new_figure((A4_WIDTH, 1.4 + 1.7 * rows), rows, cols, sharex=True,
                               sharey=True)
    else:
        fig, axes = new_figure(WIDE)
    for k, ((_v, g), setting, text) in enumerate(zip(groups, settings, words, strict=True)):
        ax = axes[k] if panels else axes[0]
        g = g.sort_values(x)
        colour = {"color": "#1f77b4"} if panels else {}
        line = line_band(ax, g[x], g, _("estimate with 95 %% CI") % {} if panels or not text
                         else text, **colour)
        line.set_marker("o")
        _target(ax, spec, key, x, setting, line, panels or len(groups) == 1)
        if panels:
            title(ax, text, size=9, loc="left")
    used = axes[:len(groups)] if panels else axes
    if panels:
        drop_unused(fig, axes, len(groups), cols)
    for ax in used:
        if categories:
            ax.set_xticks(range(len(categories)), categories)
        else:
            value_ticks(ax, d[x].to_numpy(dtype=float))
    name, unit, what = nm.metric_name(metric), nm.metric_unit(metric), nm.stat_name(stat)
    ylabel = f"{what} ({unit})" if unit else what
    xlabel = parameter(x, doc, names)
    if panels:
        for ax in bottom_row(axes, len(groups), cols):
            ax.set_xlabel(xlabel)
        fig.supylabel(ylabel)
    else:
        axes[0].set_xlabel(xlabel)
        axes[0].set_ylabel(ylabel)
    where = "" if scope == "system" else _(" at %(scope)s") % {"scope": nm.item(scope, names)}
    best = spec.get("best")
    target = spec.get("target")
    missed = target and (target["metric"], target["scope"], target["stat"]) == key and not best
    head = headline(fig, capital(_("%(name)s%(where)s, %(stat)s") % {
        "name": name, "where": where, "stat": what})
        + (_(" — no value tried meets the target") if missed else ""))
    if missed:
        head.set_color(WORSE)
    handles, labels = unique_handles(*used)
    if heading is None:
        legend_below(fig, handles, labels)
        return fig
    lines = [k for k, label in enumerate(labels) if label in words]
    legend_below(fig, [handles[k] for k in lines], [labels[k] for k in lines], title=heading)
    rest = [k for k in range(len(labels)) if k not in lines]
    if rest:
        axes[0].legend([handles[k] for k in rest], [labels[k] for k in rest], loc="best",
                       fontsize=MIN_PT, framealpha=0.9)
    return fig


def plot_sweep(sweep: pd.DataFrame, spec: dict[str, Any], out_dir: Path, key: Key) -> Path:
    """Write one metric of a sweep against its first parameter."""
    return save(figure_sweep(sweep, spec, key), out_dir, "sweep_" + "_".join(key))
