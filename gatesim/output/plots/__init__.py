"""Pictures of result files — levels by hour, a typical day, distributions, throughput against
demand, utilisation, scenario comparisons (differences and overlays) and capacity sweeps —
never of a live model.

One concept per module: common.py (style, saving, titles and legends that fit, numbers),
scales.py (bands, dates, hours), names.py and params.py (words for things), timeline.py
(calendars, days, closures), demand.py, levels.py, day.py, distributions.py, throughput.py,
utilisation.py, compare.py, overlay.py and overlay_flows.py, sweep.py, captions.py.
``figure_*`` builds a Figure; ``save``, ``plot_*`` write ``<stem>.png`` and ``<stem>.svg``;
``caption(stem)`` says what a figure shows.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

from matplotlib.figure import Figure

from gatesim.output.plots.captions import caption
from gatesim.output.plots.common import COLOURS, save
from gatesim.output.plots.compare import figure_comparison, plot_comparison
from gatesim.output.plots.day import figure_typical_day
from gatesim.output.plots.demand import demand
from gatesim.output.plots.distributions import figure_distributions, figure_waits
from gatesim.output.plots.levels import figure_levels
from gatesim.output.plots.overlay import figure_overlay_levels, figure_overlay_typical_day
from gatesim.output.plots.overlay_flows import (
    figure_overlay_distributions,
    figure_overlay_throughput,
    figure_overlay_utilisation,
)
from gatesim.output.plots.params import parameter
from gatesim.output.plots.sweep import figure_sweep, plot_sweep, sweep_keys
from gatesim.output.plots.throughput import figure_throughput, has_crossings
from gatesim.output.plots.timeline import closure_days, gate_calendar
from gatesim.output.plots.utilisation import figure_utilisation
from gatesim.output.reader import HIGHER_IS_BETTER, LEVELS, RunFiles

__all__ = [
    "COLOURS", "HIGHER_IS_BETTER", "LEVELS", "caption", "closure_days", "demand",
    "figure_comparison", "figure_distributions", "figure_levels", "figure_overlay_distributions",
    "figure_overlay_levels", "figure_overlay_throughput", "figure_overlay_typical_day",
    "figure_overlay_utilisation", "figure_sweep", "figure_throughput", "figure_typical_day",
    "figure_utilisation", "figure_waits", "gate_calendar", "overlay_figures", "parameter",
    "plot_comparison", "plot_overlay", "plot_run", "plot_sweep", "run_figures", "save",
    "sweep_keys"]


def has_records(run: RunFiles) -> bool:
    """Whether the run kept per-truck and per-visit records."""
    return run.trucks is not None and run.visits is not None


def run_figures(run: RunFiles) -> dict[str, Callable[[], Figure]]:
    """The plots that apply to a run, by file stem, as builders (the distributions and waits
    need the per-truck records, throughput a lane)."""
    figures: dict[str, Callable[[], Figure]] = {m: partial(figure_levels, run, m) for m in LEVELS}
    figures["typical_day"] = partial(figure_typical_day, run)
    if has_records(run):
        figures["distributions"] = partial(figure_distributions, run)
        figures["waits"] = partial(figure_waits, run)
    if has_crossings(run):
        figures["throughput"] = partial(figure_throughput, run)
    figures["utilisation"] = partial(figure_utilisation, run)
    return figures


def plot_run(run: RunFiles, out_dir: Path) -> list[Path]:
    """Write every plot that applies to a run; return the PNG paths."""
    return [save(build(), out_dir, stem) for stem, build in run_figures(run).items()]


def overlay_figures(runs: list[RunFiles]) -> dict[str, Callable[[], Figure]]:
    """The overlay figures that apply to a comparison's runs (baseline first), by stem."""
    figures: dict[str, Callable[[], Figure]] = {
        f"overlay_{m}": partial(figure_overlay_levels, runs, m) for m in LEVELS}
    figures["overlay_typical_day"] = partial(figure_overlay_typical_day, runs)
    if any(has_crossings(r) for r in runs):
        figures["overlay_throughput"] = partial(figure_overlay_throughput, runs)
    if all(has_records(r) for r in runs):
        figures["overlay_distributions"] = partial(figure_overlay_distributions, runs)
    figures["overlay_utilisation"] = partial(figure_overlay_utilisation, runs)
    return figures


def plot_overlay(runs: list[RunFiles], out_dir: Path) -> list[Path]:
    """Write the comparison's charts with every scenario on one chart (same axes, shared
    scales, a legend naming the scenarios; a panel per yard or road), ``overlay_*.png`` and
    ``.svg``; ``runs`` baseline first. Return the PNG paths."""
    return [save(build(), out_dir, stem) for stem, build in overlay_figures(runs).items()]
