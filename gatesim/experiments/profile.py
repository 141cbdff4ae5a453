"""Profile intervals of a calibration: each fitted parameter held on a grid of its range, the
others re-fitted, and the values whose profile is within χ²₁(0.95) = 3.84 of the minimum."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from gatesim.experiments.calibration_plan import Candidate, Evaluator, Plan
from gatesim.experiments.progress import Bar

CHI2_95 = 3.841458820694124
"""χ²₁ quantile 0.95: the profile threshold above the minimum."""


def refit(plan: Plan, ev: Evaluator, base: dict[str, float], name: str, bar: Bar
           ) -> Candidate:
    """The best candidate with ``name`` held at ``base[name]``, the others re-fitted by a
    short Nelder–Mead from their values in ``base`` (2 candidates per other parameter, + 2:
    they start at the fit, near their optimum; the profile is the least S found there)."""
    names = list(plan.fit)
    free = [i for i, n in enumerate(names) if n != name]
    phase = f"profile:{name}"

    def f(v: np.ndarray) -> float:
        u = plan.unit(base)
        u[free] = v
        bar.update(1)
        return ev({**plan.theta(u), name: base[name]}, phase).penalised

    if free:
        minimize(f, plan.unit(base)[free], method="Nelder-Mead", bounds=[(0, 1)] * len(free),
                 options={"maxfev": 2 * len(free) + 2, "xatol": 0.02})
    held = [c for c in ev.trials if c.theta[name] == base[name]]
    return min(held, key=lambda c: c.penalised) if held else ev(base, phase)


def profile(plan: Plan, ev: Evaluator, best: Candidate, points: int, bar: Bar
             ) -> pd.DataFrame:
    """Profile of S along each parameter: on a grid of its range, the others re-fitted."""
    rows = []
    for name, p in plan.fit.items():
        grid = {*np.linspace(p.low, p.high, points).tolist(), best.theta[name]}
        if plan.integral[name]:
            grid = {float(round(x)) for x in grid}
        for x in sorted(grid):
            c = refit(plan, ev, {**best.theta, name: x}, name, bar)
            rows.append((name, x, c.objective, c.unstable, c.penalised))
    return pd.DataFrame(rows, columns=["parameter", "value", "objective", "unstable",
                                       "profile"])


def interval(prof: pd.DataFrame, fitted: float, smin: float) -> tuple[float, float, str]:
    """The values whose profile is within smin + 3.84, as the smallest interval holding them
    all: each end interpolated linearly in √(S − smin) (exact for a quadratic profile) towards
    the next grid value outside, or the range's end when there is none. A profile that dips
    back under the level further out (two minima, or a rough profile) widens the interval to
    hold that value too, and the note says the set is not one piece."""
    best = prof.groupby("value")["profile"].min()  # several candidates at one value: the least
    x = best.index.to_numpy(float)
    y = np.sqrt(np.maximum(best.to_numpy(float) - smin, 0.0))
    level = math.sqrt(CHI2_95)
    inside = (y <= level) | np.isclose(x, fitted)
    first, last = int(np.argmax(inside)), len(x) - 1 - int(np.argmax(inside[::-1]))
    notes = []
    if first == 0:
        lo = x[0]
        notes.append("reaches the range's low end")
    else:
        a, b = first, first - 1
        lo = x[a] + (level - y[a]) * (x[b] - x[a]) / (y[b] - y[a])
    if last == len(x) - 1:
        hi = x[-1]
        notes.append("reaches the range's high end")
    else:
        a, b = last, last + 1
        hi = x[a] + (level - y[a]) * (x[b] - x[a]) / (y[b] - y[a])
    if not inside[first:last + 1].all():
        gaps = x[first:last + 1][~inside[first:last + 1]]
        notes.append(f"not one piece: values near {', '.join(f'{g:.4g}' for g in gaps)} are "
                     "outside the 3.84 band (a rough profile or two minima)")
    return float(lo), float(hi), "; ".join(notes)


def intervals(plan: Plan, ev: Evaluator, best: Candidate, prof: pd.DataFrame, bar: Bar
               ) -> tuple[pd.DataFrame, dict[str, tuple[float, float, str]]]:
    """Each parameter's interval, its interpolated ends checked once by a re-fitted
    candidate there (added to the profile) before the final interpolation."""
    out = {}
    for name in plan.fit:
        lo, hi, note = interval(prof[prof.parameter == name], best.theta[name], best.penalised)
        extra = []
        for x in (lo, hi):
            if x not in (plan.fit[name].low, plan.fit[name].high) and x != best.theta[name]:
                x = float(round(x)) if plan.integral[name] else x
                c = refit(plan, ev, {**best.theta, name: x}, name, bar)
                extra.append((name, x, c.objective, c.unstable, c.penalised))
        if extra:
            prof = pd.concat([prof, pd.DataFrame(extra, columns=prof.columns)],
                             ignore_index=True)
            lo, hi, note = interval(prof[prof.parameter == name], best.theta[name],
                                     best.penalised)
        out[name] = (lo, hi, note)
    return prof.sort_values(["parameter", "value"], kind="stable").reset_index(drop=True), out
