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
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.stats import qmc
from tqdm import tqdm

from gatesim.errors import GatesimError, ScenarioError
from gatesim.experiments.checkpoint import MeasureStore, work_key
from gatesim.experiments.executors import Executor, LocalExecutor
from gatesim.experiments.names import did_you_mean
from gatesim.experiments.run import run, versions
from gatesim.experiments.sensitivity import Source
from gatesim.experiments.stats import t_interval
from gatesim.experiments.targets import (
    Growth,
    Targets,
    check_target,
    describe,
    load_targets,
    measure,
)
from gatesim.scenario.loader import load_scenario
from gatesim.scenario.moves import is_integral, joint_settings
from gatesim.scenario.schema import Scenario
from gatesim.scenario.uncertain import Parameter

CHI2_95 = 3.841458820694124
"""χ²₁ quantile 0.95: the profile threshold above the minimum."""
UNSTABLE_PENALTY = 1e6
CALIBRATION_COLUMNS = [
    "target", "set", "measure", "reported", "half_band", "band_low", "band_high",
    "simulated", "ci_low", "ci_high", "in_band", "start_simulated", "start_in_band",
    "scenario", "source"]
FIT_COLUMNS = ["parameter", "start", "low", "high", "fitted", "interval_low", "interval_high",
               "interval_note", "paths"]


@dataclass
class Group:
    """One scenario a candidate runs (the calibrated one, or another a target names)."""

    source: Source
    targets: dict[str, Any]
    parameters: dict[str, Parameter]

    def at(self, theta: dict[str, float]) -> Scenario:
        moves = [(p, theta[name]) for name, p in self.parameters.items()]
        return self.source.at(joint_settings(self.source.scenario, moves)) if moves \
            else self.source.scenario


@dataclass
class Plan:
    """Everything checked before any run."""

    source: Source
    targets: Targets
    targets_file: Path
    fit: dict[str, Parameter]
    integral: dict[str, bool]
    groups: list[Group]
    replications: int

    def theta(self, u: np.ndarray) -> dict[str, float]:
        """Parameter values of a point of the unit cube (integral parameters rounded)."""
        out = {}
        for x, (name, p) in zip(u, self.fit.items(), strict=True):
            v = p.low + float(np.clip(x, 0, 1)) * (p.high - p.low)
            out[name] = float(round(v)) if self.integral[name] else v
        return out

    def unit(self, theta: dict[str, float]) -> np.ndarray:
        return np.array([(theta[n] - p.low) / (p.high - p.low) for n, p in self.fit.items()])


def prepare(scenario: str | Path, targets: str | Path, replications: int = 5,
            overrides: Sequence[str] = ()) -> Plan:
    """Load the scenario, the targets and every target scenario; refuse (one line) before
    any run: an unknown parameter, place, side or metric, a date outside a run, a parameter
    end that does not validate, fewer than 2 replications."""
    if replications < 2:
        raise GatesimError(f"--replications: got {replications}; expected at least 2 (each "
                           "simulated figure needs a confidence interval)")
    tfile = Path(targets)
    spec = load_targets(tfile)
    main = Source(load_scenario(scenario, list(overrides)), Path(scenario), tuple(overrides))
    known = main.scenario.uncertain
    for name in spec.fit:
        if name not in known:
            raise GatesimError(f"{tfile}: fit: no ranged parameter {name!r} in "
                               f"{main.scenario.name}; {did_you_mean(name, list(known))}"
                               f"(parameters: {', '.join(known) or 'none'})")
    fit = {n: known[n] for n in spec.fit}
    integral = {n: is_integral(main.scenario, p) for n, p in fit.items()}
    by_run: dict[tuple[str | None, tuple[str, ...]], dict[str, Any]] = {}
    for name, t in spec.targets.items():
        where = None if t.scenario is None else str((tfile.parent / t.scenario).resolve())
        by_run.setdefault((where, tuple(t.set)), {})[name] = t
    groups = []
    for (where, sets), ts in by_run.items():
        try:
            if where is None:
                src = Source(load_scenario(scenario, [*overrides, *sets]), Path(scenario),
                             (*overrides, *sets))
            else:
                src = Source(load_scenario(where, list(sets)), Path(where), sets)
        except ScenarioError as exc:  # say which target brought this scenario or --set
            field = "set" if where is None else "scenario" if not sets else "scenario/set"
            raise GatesimError(f"{tfile}: targets.{next(iter(ts))}.{field}: {exc}") from None
        params = {n: src.scenario.uncertain[n] for n in fit if n in src.scenario.uncertain}
        for name, t in ts.items():
            check_target(name, t, src.scenario)
        group = Group(src, ts, params)
        for n, p in fit.items():  # both ends must be valid scenarios
            for x in (p.low, p.high):
                group.at({**{k: q.value for k, q in fit.items()}, n: x})
        groups.append(group)
    return Plan(main, spec, tfile, fit, integral, groups, replications)


@dataclass
class Candidate:
    """One evaluated θ: each target's per-replication figures, S, stability."""

    theta: dict[str, float]
    values: dict[str, list[float]]
    unstable: bool
    objective: float
    phase: str

    @property
    def penalised(self) -> float:
        return self.objective + (UNSTABLE_PENALTY if self.unstable else 0.0)


@dataclass
class CalibrationResult:
    """The fit, its intervals, every target in or out of its band, every candidate tried."""

    fit: pd.DataFrame
    table: pd.DataFrame
    trials: pd.DataFrame
    profile: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)
    variant: dict[str, Any] = field(default_factory=dict)


def _usable(kept: dict, names: list[str], replications: int) -> bool:
    """Is a kept candidate what this calibration would have measured: every target's figure
    per replication as a real number, and a yes/no stability? (A damaged or planted file is
    measured again, never trusted.)"""
    values = kept.get("values")
    if not isinstance(values, dict) or sorted(values) != sorted(names) \
            or not isinstance(kept.get("unstable"), bool):
        return False
    return all(isinstance(v, list) and len(v) == replications and all(
        isinstance(x, int | float) and not isinstance(x, bool)
        and (math.isnan(x) or abs(x) <= 1e15) for x in v) for v in values.values())


class _Evaluator:
    """Runs candidates (each scenario once per distinct θ), kept by an optional store."""

    def __init__(self, plan: Plan, seed: int, executor: Executor, store: MeasureStore | None,
                 progress: bool) -> None:
        self.plan, self.seed, self.executor, self.store = plan, seed, executor, store
        self.progress = progress
        self.seen: dict[tuple, Candidate] = {}
        self.trials: list[Candidate] = []
        self.runs = 0
        self.warned = False

    def _group(self, g: Group, theta: dict[str, float]) -> tuple[dict[str, list[float]], bool]:
        s = g.at(theta)
        doc = s.model_dump(mode="json", by_alias=True)
        doc.pop("uncertain", None)
        key = work_key(scenario=doc, seed=self.seed, replications=self.plan.replications,
                       targets={n: t.model_dump(mode="json", by_alias=True)
                                for n, t in g.targets.items()})
        kept = self.store.load(key) if self.store else None
        if kept is not None and _usable(kept, list(g.targets), self.plan.replications):
            return kept["values"], kept["unstable"]
        if kept is not None and not self.warned:
            self.warned = True
            print(f"gatesim: warning: discarded a damaged kept candidate in {self.store.dir}; "
                  "it is measured again", file=sys.stderr)
        r = run(s, self.plan.replications, self.seed, executor=self.executor, records="none")
        self.runs += 1
        values = {n: [measure(t, r.scenario, o) for o in r.outputs]
                  for n, t in g.targets.items()}
        unstable = bool(r.meta["stability"].get("unstable"))
        if self.store:
            self.store.save(key, {"values": values, "unstable": unstable})
        return values, unstable

    def __call__(self, theta: dict[str, float], phase: str, uses: frozenset[str] = frozenset(
            {"calibration"})) -> Candidate:
        k = (tuple(round(theta[n], 9) for n in self.plan.fit), uses)
        if k in self.seen:
            return self.seen[k]
        values: dict[str, list[float]] = {}
        unstable = False
        for g in self.plan.groups:
            if any(t.use in uses for t in g.targets.values()):
                v, u = self._group(g, theta)
                values.update(v)
                calibrating = any(t.use == "calibration" for t in g.targets.values())
                unstable |= u and calibrating
        cand = Candidate(dict(theta), values, unstable, self.objective(values), phase)
        self.seen[k] = cand
        self.trials.append(cand)
        return cand

    def objective(self, values: dict[str, list[float]]) -> float:
        total = 0.0
        for name, t in self.plan.targets.targets.items():
            if t.use == "calibration":
                m = float(np.nanmean(values[name])) if values.get(name) else math.nan
                total += ((m - t.reported) / t.half_band) ** 2 if math.isfinite(m) else math.inf
        return total


def _search(plan: Plan, ev: _Evaluator, budget: int, seed: int, bar: tqdm) -> Candidate:
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


def _refit(plan: Plan, ev: _Evaluator, base: dict[str, float], name: str, bar: tqdm
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


def _profile(plan: Plan, ev: _Evaluator, best: Candidate, points: int, bar: tqdm
             ) -> pd.DataFrame:
    """Profile of S along each parameter: on a grid of its range, the others re-fitted."""
    rows = []
    for name, p in plan.fit.items():
        grid = {*np.linspace(p.low, p.high, points).tolist(), best.theta[name]}
        if plan.integral[name]:
            grid = {float(round(x)) for x in grid}
        for x in sorted(grid):
            c = _refit(plan, ev, {**best.theta, name: x}, name, bar)
            rows.append((name, x, c.objective, c.unstable, c.penalised))
    return pd.DataFrame(rows, columns=["parameter", "value", "objective", "unstable",
                                       "profile"])


def _interval(prof: pd.DataFrame, fitted: float, smin: float) -> tuple[float, float, str]:
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


def _intervals(plan: Plan, ev: _Evaluator, best: Candidate, prof: pd.DataFrame, bar: tqdm
               ) -> tuple[pd.DataFrame, dict[str, tuple[float, float, str]]]:
    """Each parameter's interval, its interpolated ends checked once by a re-fitted
    candidate there (added to the profile) before the final interpolation."""
    out = {}
    for name in plan.fit:
        lo, hi, note = _interval(prof[prof.parameter == name], best.theta[name], best.penalised)
        extra = []
        for x in (lo, hi):
            if x not in (plan.fit[name].low, plan.fit[name].high) and x != best.theta[name]:
                x = float(round(x)) if plan.integral[name] else x
                c = _refit(plan, ev, {**best.theta, name: x}, name, bar)
                extra.append((name, x, c.objective, c.unstable, c.penalised))
        if extra:
            prof = pd.concat([prof, pd.DataFrame(extra, columns=prof.columns)],
                             ignore_index=True)
            lo, hi, note = _interval(prof[prof.parameter == name], best.theta[name],
                                     best.penalised)
        out[name] = (lo, hi, note)
    return prof.sort_values(["parameter", "value"], kind="stable").reset_index(drop=True), out


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
    ev = _Evaluator(plan, seed, executor or LocalExecutor(workers), store, progress)
    show = progress and sys.stderr.isatty()
    with tqdm(desc="calibration candidates", file=sys.stderr, disable=not show,
              leave=False) as bar:
        best = _search(plan, ev, budget, seed, bar)
        prof = _profile(plan, ev, best, profile_points, bar)
        best = min(ev.trials, key=lambda c: c.penalised)  # a profile may find a lower point
        prof, intervals = _intervals(plan, ev, best, prof, bar)
        both = frozenset({"calibration", "validation"})
        start = ev({n: p.value for n, p in plan.fit.items()}, "start", both)
        final = ev(best.theta, "fit", both)
    fit_rows = []
    for name, p in plan.fit.items():
        lo, hi, note = intervals[name]
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


def _meta(plan: Plan, seed: int, best: Candidate, final: Candidate, ev: _Evaluator,
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
