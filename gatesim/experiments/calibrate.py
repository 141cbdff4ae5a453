"""Calibration: fit ranged parameters to reported figures, with an interval for each.

The objective of a candidate θ is S(θ) = Σₖ ((m̄ₖ(θ) − rₖ)/hₖ)² over the calibration targets,
m̄ₖ the mean over R replications, rₖ the reported figure and hₖ its half-band. Every candidate
runs with the same seeds (common random numbers), so S is a deterministic function of θ and
differences between candidates are not seed noise. Search (SciPy, already a dependency; no
extra optimiser is needed for a handful of parameters): a scrambled Sobol design over the
ranges plus the scenario's own values, then Nelder–Mead from the best point, in the unit cube.
Each fitted parameter gets a profile interval: on a grid of its range, the other parameters
re-fitted, the values whose profile is within χ²₁(0.95) = 3.84 of the minimum (each half-band
taken as one standard error of its figure). A candidate whose backlog grows (the stability
check) is penalised out of the search when any stable candidate exists, and flagged.
Validation targets are only measured at the start and at the fit, never fitted.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.stats import qmc

from gatesim.errors import GatesimError
from gatesim.experiments.calibration_plan import (
    Candidate,
    Evaluator,
    Plan,
    prepare,
)
from gatesim.experiments.checkpoint import MeasureStore
from gatesim.experiments.executors import Executor, LocalExecutor
from gatesim.experiments.profile import CHI2_95, intervals, profile
from gatesim.experiments.progress import Bar
from gatesim.experiments.progress import bar as progress_bar
from gatesim.experiments.run import versions
from gatesim.experiments.stats import t_interval
from gatesim.experiments.targets import Growth, describe
from gatesim.i18n import _

__all__ = ["CHI2_95", "CalibrationResult", "Plan", "calibrate", "prepare", "summary_text"]

CALIBRATION_COLUMNS = [
    "target", "set", "measure", "reported", "half_band", "band_low", "band_high",
    "simulated", "ci_low", "ci_high", "in_band", "start_simulated", "start_in_band",
    "scenario", "source"]
FIT_COLUMNS = ["parameter", "start", "low", "high", "fitted", "interval_low", "interval_high",
               "interval_note", "paths"]


@dataclass
class CalibrationResult:
    """The fit, its intervals, every target in or out of its band, every candidate tried."""

    fit: pd.DataFrame
    table: pd.DataFrame
    trials: pd.DataFrame
    profile: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)


def _search(plan: Plan, ev: Evaluator, budget: int, seed: int, bar: Bar) -> Candidate:
    d = len(plan.fit)
    start = ev({n: p.value for n, p in plan.fit.items()}, "start")
    bar.update(1)
    n0 = 1 << max(3, math.ceil(math.log2(4 * d)))
    design = qmc.Sobol(d, scramble=True, seed=seed).random(n0)
    best = start
    for u in design:
        c = ev(plan.theta(u), "design")
        bar.update(1)
        best = c if c.penalised < best.penalised else best

    def f(u: np.ndarray) -> float:
        c = ev(plan.theta(u), "search")
        bar.update(1)
        return c.penalised

    x0 = plan.unit(best.theta)
    simplex = np.vstack([x0] + [np.clip(x0 + 0.15 * np.eye(d)[i] * (1 if x0[i] < 0.5 else -1),
                                        0, 1) for i in range(d)])
    minimize(f, x0, method="Nelder-Mead", bounds=[(0, 1)] * d,
             options={"initial_simplex": simplex, "maxfev": budget, "xatol": 0.01,
                      "fatol": 0.05})
    return min(ev.trials, key=lambda c: c.penalised)


def calibrate(scenario: str | Path, targets: str | Path, replications: int = 5,
              seed: int = 12345, workers: int = 1, executor: Executor | None = None,
              budget: int | None = None, profile_points: int = 7,
              overrides: Sequence[str] = (), progress: bool = False,
              store: MeasureStore | None = None, plan: Plan | None = None
              ) -> CalibrationResult:
    """Fit the ``fit:`` parameters of ``targets`` to its calibration figures; measure the
    validation figures at the start values and at the fit. ``store`` keeps each measured
    candidate so an interrupted calibration resumes; writes no result files."""
    t0 = time.perf_counter()
    plan = plan or prepare(scenario, targets, replications, overrides)
    if profile_points < 3:
        raise GatesimError(f"--profile-points: got {profile_points}; expected at least 3")
    d = len(plan.fit)
    budget = budget or 15 * d
    ev = Evaluator(plan, seed, executor or LocalExecutor(workers), store, progress)
    with progress_bar(None, _("calibration candidates"), progress) as bar:
        best = _search(plan, ev, budget, seed, bar)
        prof = profile(plan, ev, best, profile_points, bar)
        best = min(ev.trials, key=lambda c: c.penalised)  # a profile may find a lower point
        prof, ends = intervals(plan, ev, best, prof, bar)
        both = frozenset({"calibration", "validation"})
        start = ev({n: p.value for n, p in plan.fit.items()}, "start", both)
        final = ev(best.theta, "fit", both)
    fit_rows = []
    for name, p in plan.fit.items():
        lo, hi, note = ends[name]
        fit_rows.append((name, p.value, p.low, p.high, best.theta[name], lo, hi, note,
                         ";".join(p.paths)))
    fit = pd.DataFrame(fit_rows, columns=FIT_COLUMNS)
    table = _table(plan, start, final)
    trials = pd.DataFrame([{"trial": i, "phase": c.phase, **c.theta, "objective": c.objective,
                            "unstable": c.unstable, **{
                                f"simulated:{n}": float(np.nanmean(v)) for n, v in
                                c.values.items()}} for i, c in enumerate(ev.trials)])
    meta = _meta(plan, seed, best, final, ev, budget, profile_points, t0)
    return CalibrationResult(fit, table, trials, prof, meta)


def _table(plan: Plan, start: Candidate, final: Candidate) -> pd.DataFrame:
    rows = []
    for name, t in plan.targets.targets.items():
        m, lo, hi, _ = t_interval(np.asarray(final.values[name], dtype=float))
        if not isinstance(t, Growth):  # counts and summary figures are never negative
            lo = max(lo, 0.0)
        m0 = float(np.nanmean(start.values[name]))
        band = (t.reported - t.half_band, t.reported + t.half_band)
        rows.append((name, t.use, describe(t), t.reported, t.half_band, *band, m, lo, hi,
                     bool(band[0] <= m <= band[1]), m0, bool(band[0] <= m0 <= band[1]),
                     t.scenario or plan.source.scenario.name, t.source))
    return pd.DataFrame(rows, columns=CALIBRATION_COLUMNS)


def _meta(plan: Plan, seed: int, best: Candidate, final: Candidate, ev: Evaluator,
          budget: int, points: int, t0: float) -> dict[str, Any]:
    return {
        "scenario": plan.source.scenario.name,
        "scenario_file": None if plan.source.path is None else str(plan.source.path),
        "overrides": list(plan.source.overrides),
        "targets_file": str(plan.targets_file),
        "targets": plan.targets.model_dump(mode="json", by_alias=True),
        "fitted": best.theta, "objective": best.objective,
        "unstable": final.unstable,
        "seed": seed, "replications": plan.replications,
        "method": ("objective Σ((mean − reported)/half_band)² over the calibration targets; "
                   "common random numbers (replication r of every candidate uses the seed, "
                   "replication r); scrambled Sobol design and the start values, then "
                   "Nelder–Mead (SciPy) in the unit cube; profile intervals: each parameter on "
                   f"a grid of {points} values with the others re-fitted, kept where the "
                   f"profile is within χ²₁(0.95) = {CHI2_95:.2f} of the minimum"),
        "search_budget": budget, "candidates": len(ev.trials), "runs": ev.runs,
        "versions": versions(), "runtime_s": round(time.perf_counter() - t0, 3),
    }


def _g(x: float) -> str:
    return "—" if not math.isfinite(x) else f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.4g}"


def summary_text(result: CalibrationResult) -> str:
    """The terminal answer: each fitted value with its interval, then every figure in or
    out of its band, calibration and validation apart."""
    m, t = result.meta, result.table
    lines = [f"{m['scenario']} calibrated to {Path(m['targets_file']).name} "
             f"({m['candidates']} candidates, {m['replications']} replications each, common "
             "random numbers):"]
    for row in result.fit.itertuples():
        note = f" ({row.interval_note})" if row.interval_note else ""
        lines.append(f"  {row.parameter} = {_g(row.fitted)}, 95 % interval [{_g(row.interval_low)}"
                     f", {_g(row.interval_high)}]{note}; was {_g(row.start)}")
    if m["unstable"]:
        lines.append("  UNSTABLE: at the fitted values the backlog keeps growing; no stable "
                     "candidate fitted better, so the fit holds for this horizon only")
    width = max([6, *(len(n) for n in t.target)])
    for use in ("calibration", "validation"):
        rows = t[t.set == use]
        if rows.empty:
            continue
        lines.append(f"  {use}: {int(rows.in_band.sum())} of {len(rows)} figures in their band "
                     f"(before: {int(rows.start_in_band.sum())})")
        for r in rows.itertuples():
            lines.append(f"    {r.target:{width}s} reported {_g(r.reported)} ± {_g(r.half_band)}"
                         f"  simulated {_g(r.simulated)} [{_g(r.ci_low)}, {_g(r.ci_high)}]  "
                         f"{'in' if r.in_band else 'OUT'}  (before {_g(r.start_simulated)})")
    return "\n".join(lines)
