"""Profile intervals of a calibration: each fitted parameter held on a grid of its range, the
others re-fitted, and the values whose profile is within χ²₁(0.95) = 3.84 of the minimum."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from tqdm import tqdm

from gatesim.experiments.calibration_plan import Candidate, Evaluator, Plan

CHI2_95 = 3.841458820694124
"""χ²₁ quantile 0.95: the profile threshold above the minimum."""


def refit(plan: Plan, ev: Evaluator, base: dict[str, float], name: str, bar: tqdm
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


def profile(plan: Plan, ev: Evaluator, best: Candidate, points: int, bar: tqdm
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
    """Where the profile crosses smin + 3.84 on each side of the fit, interpolated linearly in
    √(S − smin) (exact for a quadratic profile); an end of the range when it never does."""
    order = np.argsort(prof["value"].to_numpy(float))
    x = prof["value"].to_numpy(float)[order]
    y = np.sqrt(np.maximum(prof["profile"].to_numpy(float)[order] - smin, 0.0))
    level = math.sqrt(CHI2_95)
    notes, ends = [], []
    for side in (-1, 1):
        idx = sorted((i for i in range(len(x)) if (x[i] - fitted) * side >= 0),
                     key=lambda i: abs(x[i] - fitted))
        end = x[idx[-1]] if idx else fitted
        for a, b in zip(idx, idx[1:], strict=False):
            if y[a] <= level < y[b]:
                end = x[a] + (level - y[a]) * (x[b] - x[a]) / (y[b] - y[a])
                break
        else:
            notes.append(f"reaches the range's {'low' if side < 0 else 'high'} end")
        ends.append(float(end))
    return ends[0], ends[1], "; ".join(notes)


def intervals(plan: Plan, ev: Evaluator, best: Candidate, prof: pd.DataFrame, bar: tqdm
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
