"""Pictures of result files: levels by hour, a typical day, distributions, throughput,
utilisation, scenario comparisons and capacity sweeps — never of a live model.

matplotlib's object API on the Agg canvas, no pyplot: importing this leaves the caller's backend
alone (a notebook keeps its inline plots) and no figure lingers in a global registry.
``figure_*`` builds a Figure; ``save`` and ``plot_*`` write ``<stem>.png`` and ``<stem>.svg``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from cycler import cycler
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from gatesim.output.reader import (
    HIGHER_IS_BETTER,
    LEVELS,
    NAMES,
    STATS,
    RunFiles,
    as_bool,
    band,
    truck_waits,
)
from gatesim.scenario.calendar import compile_calendar
from gatesim.scenario.schema import Scenario

WIDE, TALL, DPI = (8.0, 4.5), (8.0, 7.5), 150
COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf"]
CYCLE = cycler(linestyle=["-", "--"]) * cycler(color=COLOURS)
BETTER, WORSE, NEUTRAL = "#2e7d32", "#c62828", "#9e9e9e"
OPEN, RESTRICTED, WARMUP = "#fff3c4", "#d8b64a", "#cfcfcf"
def save(fig: Figure, out_dir: Path, stem: str) -> Path:
    """Write ``<stem>.png`` (150 dpi) and ``<stem>.svg`` into ``out_dir``; return the PNG."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    png = out_dir / f"{stem}.png"
    fig.savefig(png, dpi=DPI, metadata={"Software": None})
    fig.set_layout_engine("none")     # keep the PNG's layout; saves recomputing it for the SVG
    fig.savefig(out_dir / f"{stem}.svg", metadata={"Date": None})
    return png


def _figure(size: tuple[float, float] = WIDE, rows: int = 1, cols: int = 1
            ) -> tuple[Figure, list[Axes]]:
    fig = Figure(figsize=size, layout="constrained")
    FigureCanvasAgg(fig)
    axes = list(fig.subplots(rows, cols, squeeze=False).ravel())
    for ax in axes:
        ax.set_prop_cycle(CYCLE)
        ax.grid(True, color="#e6e6e6", lw=0.6)
        ax.set_axisbelow(True)
    return fig, axes


def _legend(ax: Axes, cols: int = 0) -> None:
    """A legend off the data: under the figure in ``cols`` columns, or right of the axes."""
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=True))
    if cols:
        ax.figure.legend(unique.values(), unique.keys(), loc="outside lower center", ncols=cols,
                         fontsize="small", frameon=False)
    else:
        ax.legend(unique.values(), unique.keys(), loc="upper left", bbox_to_anchor=(1.01, 1.0),
                  fontsize="x-small", frameon=False)


def _line_band(ax: Axes, x: Any, g: pd.DataFrame, label: str) -> None:
    """A mean line and its band (clipped at 0: every quantity plotted is non-negative)."""
    (line,) = ax.plot(x, g["mean"], label=label, lw=1.5)
    ax.fill_between(x, np.maximum(g["low"], 0), g["high"], color=line.get_color(), alpha=0.15,
                    lw=0)


def _scope_label(run: RunFiles, metric: str, scope: str) -> str:
    if metric == "yard_occupancy":
        slots = run.scenario.yards[scope].slots
        return f"{scope} ({slots} slots)" if slots else f"{scope} (unlimited)"
    if metric == "road_queue":
        return "all roads" if scope == "system" else f"road {scope}"
    return NAMES[metric][0]


def gate_calendar(s: Scenario) -> tuple[str, list]:
    """The opening hours shaded in plots: the first lane's export side (else its import)."""
    for name, lane in s.lanes.items():
        for direction in ("export", "import"):
            side = lane.side(direction)
            if side is not None:
                cal = s.calendars[side.calendar] if side.calendar else None
                label = f"lane {name} {direction} open ({side.calendar or 'always'})"
                return label, compile_calendar(cal, s.clock.start, s.clock.horizon_days * 24)
    return "", []


def _shade_time(ax: Axes, run: RunFiles) -> None:
    label, intervals = gate_calendar(run.scenario)
    for iv in intervals:
        if math.isfinite(iv.end):
            text = "open to some trucks only" if iv.only else label
            ax.axvspan(iv.start, iv.end, facecolor=OPEN, edgecolor=RESTRICTED, lw=0, zorder=0,
                       hatch="...." if iv.only else None, label=text)
    if run.warmup_h > 0:
        ax.axvspan(0, run.warmup_h, facecolor="none", edgecolor=WARMUP, hatch="///", lw=0,
                   zorder=0, label="warm-up (not in the statistics)")
    ax.set_xlim(0, run.horizon_h)
    start = run.scenario.clock.start
    first = (24 - start.hour) % 24
    step = 24 * max(1, math.ceil(run.horizon_h / 24 / 8))
    ticks = np.arange(first, run.horizon_h + 1e-9, step)
    ax.set_xticks(ticks, [(start + dt.timedelta(hours=float(h))).strftime("%a %d %b")
                          for h in ticks], fontsize="small")
    ax.set_xlabel("local time (Hanoi), ticks at midnight")


def figure_levels(run: RunFiles, metric: str) -> Figure:
    """Hourly snapshots of one level metric, mean of replications with a 95 % band per hour."""
    ts = run.timeseries[run.timeseries["metric"] == metric]
    fig, (ax,) = _figure()
    for scope, g in band(ts, ["scope", "hour"]).groupby("scope", sort=False):
        _line_band(ax, g["hour"], g, _scope_label(run, metric, str(scope)))
    _shade_time(ax, run)
    name = NAMES[metric][0]
    ax.set_ylabel("trucks")
    ax.set_ylim(bottom=0)
    ax.set_title(f"{name[0].upper()}{name[1:]} by hour — mean of "
                 f"{run.meta['replications']} replications, 95 % band")
    _legend(ax, 3)
    return fig


def _hour_of_day(run: RunFiles, hours: pd.Series) -> np.ndarray:
    return (run.scenario.clock.start.hour + np.floor(hours.to_numpy()).astype(int)) % 24


def _open_share(run: RunFiles) -> np.ndarray:
    """Share of the post-warm-up days on which each hour of day is (at least partly) open."""
    _, intervals = gate_calendar(run.scenario)
    mids = np.arange(math.floor(run.warmup_h), math.floor(run.horizon_h)) + 0.5
    is_open = np.zeros(len(mids), dtype=bool)
    for iv in intervals:
        is_open |= (mids >= iv.start) & (mids < iv.end)
    hod = _hour_of_day(run, pd.Series(mids))
    return np.array([is_open[hod == h].mean() if (hod == h).any() else 0 for h in range(24)])


def figure_typical_day(run: RunFiles) -> Figure:
    """Hour-of-day profile after the warm-up: queues, yards, and waits by hour of arrival."""
    has_records = run.trucks is not None and run.visits is not None
    fig, axes = _figure((8.0, 9.0) if has_records else TALL, 3 if has_records else 2)
    ts = run.timeseries
    ts = ts[(ts["hour"] >= run.warmup_h) & (ts["hour"] < run.horizon_h)
            & ts["metric"].isin(LEVELS)].copy()
    ts["hod"] = _hour_of_day(run, ts["hour"])
    per_rep = ts.groupby(["metric", "scope", "replication", "hod"], sort=False)["value"].mean()
    b = band(per_rep.reset_index(), ["metric", "scope", "hod"])
    b = pd.concat([b, b[b["hod"] == 0].assign(hod=24)], ignore_index=True)  # 24:00 is 00:00
    peaks = []
    for (metric, scope), g in b.groupby(["metric", "scope"], sort=False):
        if metric != "yard_occupancy" and scope != "system":
            continue
        ax = axes[1] if metric == "yard_occupancy" else axes[0]
        g = g.sort_values("hod")
        _line_band(ax, g["hod"], g, _scope_label(run, metric, scope))
        if ax is axes[0]:
            top = g.iloc[int(np.argmax(g["mean"].to_numpy()))]
            where = "in the system" if metric == "in_system" else "on the roads"
            if top["mean"] > 0:
                ax.plot(top["hod"], top["mean"], "v", color="black", ms=6)
            peaks.append(f"{where} at {int(top['hod']):02d}:00" if top["mean"] > 0
                         else f"none {where}")
    days = (run.horizon_h - run.warmup_h) / 24
    fig.suptitle(f"A typical day: {days:g} days after the warm-up, mean of "
                 f"{run.meta['replications']} replications, 95 % bands")
    axes[0].set_title("Backlog — peaks " + ", ".join(peaks) + " (▼)", fontsize="medium")
    axes[0].set_ylabel("trucks (level at the hour)")
    axes[1].set_title("Yards by hour of day", fontsize="medium")
    axes[1].set_ylabel("trucks parked")
    if has_records:
        t = truck_waits(run)
        t["hod"] = _hour_of_day(run, t["arrival"])
        per_rep = t.groupby(["cls", "replication", "hod"], sort=False)["wait_total"].mean()
        for cls, g in band(per_rep.reset_index(), ["cls", "hod"], "wait_total").groupby(
                "cls", sort=False):
            g = g.sort_values("hod")
            _line_band(axes[2], g["hod"] + 0.5, g, str(cls))
        axes[2].set_ylabel("mean total wait (h)")
        axes[2].set_title("Waiting time by hour of arrival (trucks that left)",
                          fontsize="medium")
    share = _open_share(run)
    label, _ = gate_calendar(run.scenario)
    for ax in axes:
        for h in np.flatnonzero(share >= 0.5):
            ax.axvspan(h, h + 1, color=OPEN, lw=0, zorder=0, label=f"{label},\non most days")
        ax.set_xlim(0, 24)
        ax.set_ylim(bottom=0)
        ax.set_xticks(range(0, 25, 3), [f"{h:02d}:00" for h in range(0, 25, 3)])
        ax.set_xlabel("hour of day, local time (Hanoi)")
        _legend(ax)
    return fig


def figure_distributions(run: RunFiles) -> Figure:
    """ECDFs of time in system per truck class and of the wait at each stage or lane."""
    t = truck_waits(run)
    v = run.visits
    assert v is not None
    v = v.merge(t[["replication", "id"]], left_on=["replication", "truck"],
                right_on=["replication", "id"])
    fig, (top, bottom) = _figure(TALL, 2)
    for cls, g in t.groupby("cls", sort=True):
        top.ecdf(g["sojourn"], label=f"{cls} (n = {len(g):,})")
    s = run.scenario
    order = [*s.stages, *(f"{n}.{d}" for n, lane in s.lanes.items() for d in ("export", "import")
                          if lane.side(d))]
    for station, g in sorted(v.groupby("station"), key=lambda sg: order.index(sg[0])):
        bottom.ecdf(g["wait"], label=str(station))
    for ax, x, what in ((top, t["sojourn"], "time in the system"),
                        (bottom, v["wait"], "wait before service or crossing")):
        cut = float(np.nanpercentile(x, 99)) if len(x) else 1.0
        ax.set_xlim(0, max(cut, 1e-3) * 1.05)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel(f"{what} (h; axis cut at the 99th percentile)")
        ax.set_ylabel("share of trucks at or below")
        _legend(ax)
    top.set_title("Time in the system by truck class (arrived after the warm-up, left)",
                  fontsize="medium")
    bottom.set_title("Wait at each stage and lane", fontsize="medium")
    return fig


def figure_throughput(run: RunFiles) -> Figure:
    """Crossings per simulated day and lane side: mean of replications with 95 % error bars."""
    ts = run.timeseries
    dep = ts[(ts["metric"] == "departures") & (ts["hour"] > 0)].copy()
    dep["day"] = np.ceil(dep["hour"] / 24).astype(int) - 1
    per_rep = dep.groupby(["scope", "replication", "day"], sort=False)["value"].sum()
    b = band(per_rep.reset_index(), ["scope", "day"])
    fig, (ax,) = _figure()
    sides = list(dict.fromkeys(b["scope"]))
    width = 0.8 / max(len(sides), 1)
    for k, (scope, g) in enumerate(b.groupby("scope", sort=False)):
        err = np.vstack([np.minimum(g["mean"] - g["low"], g["mean"]), g["high"] - g["mean"]])
        ax.bar(g["day"] + (k - (len(sides) - 1) / 2) * width, g["mean"], width,
               yerr=np.nan_to_num(err), capsize=2, label=str(scope).replace(".", " "),
               color=COLOURS[k % len(COLOURS)], error_kw={"lw": 0.8})
    days = sorted(b["day"].unique())
    warm_days = run.warmup_h / 24
    if warm_days > 0:
        ax.axvspan(-0.5, warm_days - 0.5, facecolor="none", edgecolor=WARMUP, hatch="///",
                   lw=0, label="warm-up")
    start = run.scenario.clock.start
    ax.set_xticks(days, [(start + dt.timedelta(days=int(d))).strftime("%a\n%d %b")
                         for d in days], fontsize="small")
    ax.set_xlabel("simulated day (24 h from the start hour)")
    ax.set_ylabel("crossings (trucks/day)")
    ax.set_title(f"Crossings per day and lane — mean of {run.meta['replications']} "
                 "replications, 95 % error bars")
    _legend(ax, 4)
    return fig


def figure_utilisation(run: RunFiles) -> Figure:
    """Busy share of on-duty time per stage and lane side, with 95 % error bars."""
    s = run.summary
    u = s[(s["metric"] == "utilisation") & (s["stat"] == "mean")].reset_index(drop=True)
    lanes = {f"{n}.{d}" for n in run.scenario.lanes for d in ("export", "import")}
    fig, (ax,) = _figure((WIDE[0], max(3.0, 1.2 + 0.35 * len(u))))
    err = np.nan_to_num(np.vstack([u["estimate"] - u["ci_low"], u["ci_high"] - u["estimate"]]))
    colours = [COLOURS[1] if scope in lanes else COLOURS[0] for scope in u["scope"]]
    ax.barh(range(len(u)), u["estimate"], xerr=err, color=colours, capsize=3)
    ax.set_yticks(range(len(u)), u["scope"])
    ax.invert_yaxis()
    ax.axvline(1.0, color="black", lw=0.8)
    ax.set_xlim(0, max(1.05, float(np.nanmax(u["ci_high"], initial=0)) * 1.05))
    ax.set_xlabel("utilisation (busy time ÷ on-duty server time)")
    ax.set_ylabel("stage or lane side")
    ax.set_title("Utilisation per stage and lane — 95 % error bars")
    ax.legend(handles=[Patch(color=COLOURS[0], label="stage"),
                       Patch(color=COLOURS[1], label="lane side")],
              loc="lower right", fontsize="small")
    return fig


def figure_comparison(comparison: pd.DataFrame, baseline: str,
                      keys: list[tuple[str, str, str]]) -> Figure:
    """Each summary-block figure's difference from the baseline with its simultaneous
    (Bonferroni) interval; coloured green when better, red when worse exactly when that
    interval excludes 0, grey otherwise."""
    comparison = comparison[comparison["scenario"] != baseline]
    present = set(zip(comparison["metric"], comparison["scope"], comparison["stat"], strict=True))
    keys = [k for k in keys if k in present]
    scenarios = list(dict.fromkeys(comparison["scenario"]))
    rows = math.ceil(len(keys) / 2)
    fig, axes = _figure((WIDE[0], 1.2 + rows * (0.5 + 0.3 * len(scenarios))), rows, 2)
    for ax, (metric, scope, stat) in zip(axes, keys, strict=False):
        c = comparison[(comparison["metric"] == metric) & (comparison["scope"] == scope)
                       & (comparison["stat"] == stat)].set_index("scenario").reindex(scenarios)
        good = (c["diff"] > 0) == (metric in HIGHER_IS_BETTER)
        colours = np.where(as_bool(c["significant_block"]), np.where(good, BETTER, WORSE),
                           NEUTRAL)
        err = np.nan_to_num(np.vstack([c["diff"] - c["ci_low_block"],
                                       c["ci_high_block"] - c["diff"]]))
        ax.barh(range(len(c)), c["diff"], xerr=err, color=colours, capsize=3, height=0.6)
        ax.set_yticks(range(len(c)), c.index)
        ax.set_ylim(len(c) - 0.5, -0.5)
        ax.axvline(0, color="black", lw=0.8)
        name, unit = NAMES.get(metric, (metric, ""))
        if metric == "road_queue" and scope != "system":
            name = f"queue on {scope}"
        ax.set_title(f"{name}, {STATS.get(stat, stat)}", fontsize="small", wrap=True)
        ax.set_xlabel(f"difference ({unit})", fontsize="small")
        ax.set_ylabel("scenario", fontsize="small")
        ax.tick_params(labelsize="small")
    for ax in axes[len(keys):]:
        fig.delaxes(ax)
    fig.suptitle(f"Difference from {baseline}\n(common random numbers; the {len(keys)} "
                 "intervals hold together)", fontsize="medium")
    fig.legend(handles=[Patch(color=BETTER, label="significantly better"),
                        Patch(color=WORSE, label="significantly worse"),
                        Patch(color=NEUTRAL, label="not significant")],
               loc="outside lower center", ncols=3, fontsize="small", frameon=False)
    return fig


def figure_sweep(sweep: pd.DataFrame, spec: dict[str, Any], key: tuple[str, str, str]) -> Figure:
    """One metric against the first swept parameter with its 95 % band (one line per setting
    of the other parameters), the target and the smallest value meeting it on the CI."""
    params = list(spec["params"])
    metric, scope, stat = key
    d = sweep[(sweep["metric"] == metric) & (sweep["scope"] == scope) & (sweep["stat"] == stat)]
    fig, (ax,) = _figure()
    groups = d.groupby(params[1:], sort=True) if len(params) > 1 else [((), d)]
    for rest, g in groups:
        g = g.sort_values(params[0]).rename(columns={"estimate": "mean", "ci_low": "low",
                                                     "ci_high": "high"})
        values = rest if isinstance(rest, tuple) else (rest,)
        label = ", ".join(f"{p} = {v}" for p, v in zip(params[1:], values, strict=True))
        _line_band(ax, g[params[0]], g, label or "estimate with 95 % CI")
        ax.lines[-1].set_marker("o")
    target, best = spec.get("target"), spec.get("best")
    if target and (target["metric"], target["scope"], target["stat"]) == key:
        op = {"<=": "≤", ">=": "≥"}[target["op"]]
        bound = "upper" if target["op"] == "<=" else "lower"
        ax.axhline(target["value"], color="black", ls=":",
                   label=f"target {op} {target['value']:g} (judged on the CI's {bound} bound)")
        if best:
            x = best[params[0]]
            ax.axvline(x, color=BETTER, lw=2, alpha=0.7, label=f"smallest meeting it: {x:g}")
        else:
            ax.set_title("no value tried meets the target", loc="right", fontsize="small",
                         color=WORSE)
    name, unit = NAMES.get(metric, (metric.replace("_", " "), ""))
    where = "" if scope == "system" else f" at {scope}"
    ax.set_xticks(sorted(d[params[0]].unique()))
    ax.set_xlabel(f"{params[0]} (swept)")
    ax.set_ylabel(f"{STATS.get(stat, stat)} ({unit})" if unit else STATS.get(stat, stat))
    ax.set_title(f"{name.capitalize()}{where}, {STATS.get(stat, stat)}", loc="left")
    _legend(ax, 2)
    return fig


def sweep_keys(spec: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The metrics a sweep is judged on: its target, else mean time in system and p95 queue."""
    t = spec.get("target")
    if t:
        return [(t["metric"], t["scope"], t["stat"])]
    return [("time_in_system_h", "system", "mean"), ("road_queue", "system", "p95")]


def plot_comparison(comparison: pd.DataFrame, baseline: str,
                    keys: list[tuple[str, str, str]], out_dir: Path) -> Path:
    """Write the differences of the primary figures (``keys``) from the baseline scenario."""
    return save(figure_comparison(comparison, baseline, keys), out_dir, "comparison")


def plot_sweep(sweep: pd.DataFrame, spec: dict[str, Any], out_dir: Path,
               key: tuple[str, str, str]) -> Path:
    """Write one metric of a sweep against its first parameter."""
    return save(figure_sweep(sweep, spec, key), out_dir, "sweep_" + "_".join(key))


def run_figures(run: RunFiles) -> dict[str, Callable[[], Figure]]:
    """The plots that apply to a run, by file stem, as builders (the distributions need the
    per-truck records)."""
    figures: dict[str, Callable[[], Figure]] = {m: partial(figure_levels, run, m) for m in LEVELS}
    figures["typical_day"] = partial(figure_typical_day, run)
    if run.trucks is not None and run.visits is not None:
        figures["distributions"] = partial(figure_distributions, run)
    figures["throughput"] = partial(figure_throughput, run)
    figures["utilisation"] = partial(figure_utilisation, run)
    return figures


def plot_run(run: RunFiles, out_dir: Path) -> list[Path]:
    """Write every plot that applies to a run; return the PNG paths."""
    return [save(build(), out_dir, stem) for stem, build in run_figures(run).items()]
