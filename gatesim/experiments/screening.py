"""Morris screening: which of many uncertain numbers move one answer, through SALib.

When a scenario has many ranges, one-at-a-time swings (sensitivity.py) say nothing about how
a number acts with the others away from their values. Morris's elementary effects do: SALib
draws ``trajectories`` random paths through a grid of ``levels`` values of every range, each
step moving one number; every design point is a scenario with all the numbers set
(scenario.moves, so choose shares keep summing to 1) and runs ``replications`` replications
with the same seeds (common random numbers), so an effect is a paired change and a number
that does not enter the model has an effect of exactly 0. The answer at a point is the mean
over replications (with two scenarios, of the difference B − A per replication). An effect
is the change of the answer per whole range of the number; μ* (the mean of their absolute
values) ranks the numbers, σ (their spread) flags interactions or curvature. SALib is an
optional dependency (``gatesim[screening]``), imported only here and only when used.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gatesim.errors import GatesimError
from gatesim.experiments.checkpoint import Checkpoint
from gatesim.experiments.executors import Executor, LocalExecutor
from gatesim.experiments.sensitivity import Plan, evaluate, provenance, setup
from gatesim.experiments.stats import t_interval
from gatesim.i18n import _, significant
from gatesim.scenario.moves import is_integral, joint_settings
from gatesim.scenario.schema import Scenario
from gatesim.scenario.uncertain import Parameter

SCREENING_COLUMNS = ["parameter", "low", "high", "mu_star", "mu_star_ci_low",
                     "mu_star_ci_high", "mu", "sigma", "rank", "n_points"]
NO_SALIB = "Morris screening needs SALib: pip install 'gatesim[screening]'"
CONF_LEVEL, RESAMPLES = 0.95, 1000
_DESIGN_TAG, _BOOTSTRAP_TAG = 0x4D4F52, 0x424F4F
"""Mixed with the seed for SALib's design and bootstrap, apart from the model's streams."""


@dataclass
class ScreeningResult:
    """One row per parameter (``SCREENING_COLUMNS``, largest μ* first) and provenance."""

    table: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class ScreeningPlan:
    """Everything decided before any work: the scenarios, the design, its points."""

    plan: Plan
    """Scenarios, answer, replications, parameters; ``points`` keyed (scenario, design row)."""
    trajectories: int
    levels: int
    seed: int
    problem: dict[str, Any]
    design: np.ndarray
    """SALib's design in the first defining scenario's ranges, unrounded (for the analysis)."""


def _salib() -> tuple[Any, Any, str]:
    """SALib's Morris sampler, its analysis and its version; one line when it is missing."""
    try:
        import SALib
        from SALib.analyze import morris as analyze
        from SALib.sample import morris as sample
    except ImportError:
        raise GatesimError(NO_SALIB) from None
    try:
        version = metadata.version("SALib")
    except metadata.PackageNotFoundError:
        version = str(getattr(SALib, "__version__", "unknown"))
    return sample, analyze, version


@contextlib.contextmanager
def _own_random_state() -> Iterator[None]:
    """Old SALib (1.4) seeds numpy's global generator: put it back as it was."""
    state = np.random.get_state()
    try:
        yield
    finally:
        np.random.set_state(state)


def _seeds(seed: int) -> tuple[int, int]:
    """The design's and the bootstrap's seeds, derived from ``seed``."""
    a, b = (int(np.random.SeedSequence([seed, tag]).generate_state(1)[0])
            for tag in (_DESIGN_TAG, _BOOTSTRAP_TAG))
    return a, b


def _at(p: Parameter, first: Parameter, x: float, integral: bool) -> int | float:
    """The value of ``p`` (a scenario's own range) where the design puts ``first`` at ``x``:
    the same fraction of its range; whole numbers rounded within it."""
    v = p.low + (x - first.low) / (first.high - first.low) * (p.high - p.low)
    if integral:
        return int(min(max(round(v), math.ceil(p.low)), math.floor(p.high)))
    return float(min(max(v, p.low), p.high))


def prepare_morris(scenarios: Scenario | str | Path | Sequence[Scenario | str | Path],
                   metric: str = "time_in_system_h/system/mean", replications: int = 5,
                   trajectories: int = 10, levels: int = 4, seed: int = 12345,
                   only: Sequence[str] | None = None, overrides: Sequence[str] = ()
                   ) -> ScreeningPlan:
    """The design and every point's scenario, refusing (one line) before any work: no SALib,
    fewer than 2 parameters or trajectories, levels not even and at least 4, a replication
    count below 1, and what :func:`sensitivity.prepare` refuses (metric, ``only``, ranges)."""
    sample, _, _ = _salib()
    if replications < 1:
        raise GatesimError(f"--replications: got {replications}; expected at least 1")
    if trajectories < 2:
        raise GatesimError(f"--trajectories: got {trajectories}; expected at least 2 (μ* "
                           "and σ need several effects per parameter)")
    if levels < 4 or levels % 2:
        raise GatesimError(f"--levels: got {levels}; expected an even number of at least 4")
    plan = setup(scenarios, metric, replications, only, overrides)
    names = list(plan.parameters)
    if len(names) < 2:
        raise GatesimError(f"Morris screening: got {len(names)} parameter ({names[0]}); "
                           "expected at least 2 (for one, use one-at-a-time sensitivity)")
    firsts = [next(p for p in plan.parameters[n] if p is not None) for n in names]
    problem = {"num_vars": len(names), "names": names,
               "bounds": [[p.low, p.high] for p in firsts], "groups": None}
    with _own_random_state():
        design = np.asarray(sample.sample(problem, N=trajectories, num_levels=levels,
                                          seed=_seeds(seed)[0]), dtype=float)
    for i, src in enumerate(plan.sources):
        own = [(plan.parameters[n][i], f) for n, f in zip(names, firsts, strict=True)]
        whole = [p is not None and is_integral(src.scenario, p) for p, _ in own]
        made: dict[tuple[str, ...], Scenario] = {}
        for row, xs in enumerate(design):
            moves = [(p, _at(p, f, x, w)) for (p, f), x, w in zip(own, xs, whole, strict=True)
                     if p is not None]
            sets = tuple(joint_settings(src.scenario, moves))
            if sets not in made:  # rounding makes equal points: validated once
                made[sets] = src.at(list(sets))
            plan.points[(i, row)] = made[sets]
    return ScreeningPlan(plan, trajectories, levels, seed, problem, design)


def morris(scenarios: Scenario | str | Path | Sequence[Scenario | str | Path],
           metric: str = "time_in_system_h/system/mean", replications: int = 5,
           trajectories: int = 10, levels: int = 4, seed: int = 12345, workers: int = 1,
           executor: Executor | None = None, only: Sequence[str] | None = None,
           overrides: Sequence[str] = (), progress: bool = False,
           checkpoints: Callable[[Scenario], Checkpoint] | None = None,
           plan: ScreeningPlan | None = None) -> ScreeningResult:
    """Morris elementary effects of every uncertain number on one answer (for two scenarios,
    on B − A), with common random numbers; the table by μ*, largest first. ``plan`` (from
    :func:`prepare_morris`) skips planning again; writes no result files."""
    t0 = time.perf_counter()
    sp = plan or prepare_morris(scenarios, metric, replications, trajectories, levels, seed,
                                only, overrides)
    _, analyze, version = _salib()
    p = sp.plan
    done = evaluate(p, p.points, seed, executor or LocalExecutor(workers), progress,
                    checkpoints, "screening points")
    n = len(sp.design)

    def response(row: int) -> float:
        a = done.values[(0, row)]
        return t_interval(a if len(p.sources) == 1 else done.values[(1, row)] - a)[0]

    y = np.array([response(row) for row in range(n)], dtype=float)
    with _own_random_state():
        si = analyze.analyze(sp.problem, sp.design, y, num_resamples=RESAMPLES,
                             conf_level=CONF_LEVEL, num_levels=sp.levels,
                             seed=_seeds(sp.seed)[1])
    table = _table(sp, si, n)
    unstable = [f"design point {row}" + (f" ({p.names[i]})" if len(p.sources) > 1 else "")
                for i, row in done.unstable]
    design = (f"Morris elementary effects, SALib {version}: {sp.trajectories} trajectories "
              f"on {sp.levels} levels, {n} points; common random numbers: replication r of "
              "every point uses the seed, replication r")
    meta = provenance(p, seed, done.warmup, done.computed, unstable, t0, design, points=n)
    meta.update({
        "method": "morris", "trajectories": sp.trajectories, "levels": sp.levels,
        "conf_level": CONF_LEVEL, "resamples": RESAMPLES,
        "effect": "change of the answer per whole range of the parameter",
        "versions": {**meta["versions"], "SALib": version},
        "points_without_value": int(np.sum(~np.isfinite(y))),
        "design_matrix": sp.design.tolist(), "responses": y.tolist(),
        "runtime_s": round(time.perf_counter() - t0, 3)})
    return ScreeningResult(table, meta)


def _table(sp: ScreeningPlan, si: Any, n: int) -> pd.DataFrame:
    names = sp.problem["names"]
    mu_star = np.asarray(si["mu_star"], dtype=float)
    conf = np.asarray(si["mu_star_conf"], dtype=float)
    low, high = zip(*sp.problem["bounds"], strict=True)
    t = pd.DataFrame({
        "parameter": names, "low": low, "high": high, "mu_star": mu_star,
        "mu_star_ci_low": np.maximum(mu_star - conf, 0.0),  # μ* is a mean of |effects|
        "mu_star_ci_high": mu_star + conf,
        "mu": np.asarray(si["mu"], dtype=float), "sigma": np.asarray(si["sigma"], dtype=float),
        "rank": pd.Series(mu_star).rank(ascending=False, method="min",
                                        na_option="bottom").astype(int),
        "n_points": n})
    return t.sort_values("mu_star", ascending=False, kind="stable",
                         na_position="last").reset_index(drop=True)[SCREENING_COLUMNS]


def _g(x: float) -> str:
    return significant(x, 3)


def summary_text(result: ScreeningResult, label: str) -> str:
    """The terminal answer: the parameter with the largest μ*, then the table by μ*.
    ``label`` names the metric in words (output.reader.metric_label)."""
    t, m = result.table, result.meta
    what = label if len(m["scenarios"]) == 1 else _(
        "the difference %(answer)s in %(label)s") % {"answer": m["answer"], "label": label}
    top = t.iloc[0] if len(t) else None
    if top is None or not math.isfinite(top.mu_star):
        lines = [_("no parameter gave a value of %(what)s") % {"what": what}]
    elif top.mu_star == 0:
        lines = [_("no parameter moves %(what)s: every elementary effect is exactly 0")
                 % {"what": what}]
    else:
        lines = [_("%(name)s moves %(what)s most: μ* = %(mu)s [95 %% CI %(mu_low)s, "
                   "%(mu_high)s], the mean change across its range %(low)s → %(high)s "
                   "(σ %(sigma)s)") % {"name": top.parameter, "what": what,
                                       "mu": _g(top.mu_star), "mu_low": _g(top.mu_star_ci_low),
                                       "mu_high": _g(top.mu_star_ci_high), "low": _g(top.low),
                                       "high": _g(top.high), "sigma": _g(top.sigma)}]
    width = max([9, *(len(name) for name in t.parameter)])
    lines.append(f"  {'parameter':{width}s} {'low → high':>17s} {'μ* [95 % CI]':>24s} "
                 f"{'μ':>9s} {'σ':>9s}")
    for row in t.itertuples():
        ends = f"{row.low:g} → {row.high:g}"
        star = f"{_g(row.mu_star)} [{_g(row.mu_star_ci_low)}, {_g(row.mu_star_ci_high)}]"
        mark = "  no effect" if row.mu_star == 0 else (
            "  interacts or bends" if row.sigma > row.mu_star > 0 else "")
        lines.append(f"  {row.parameter:{width}s} {ends:>17s} {star:>24s} {_g(row.mu):>9s} "
                     f"{_g(row.sigma):>9s}{mark}")
    lines.append(f"  Morris screening: {m['trajectories']} trajectories on {m['levels']} levels "
                 f"({m['points']} points), {m['replications']} replications each with common "
                 "random numbers; an effect is the change per whole range")
    if m["points_without_value"]:
        lines.append(f"  {m['points_without_value']} points gave no value: the parameters "
                     "they touch have no μ*")
    if m["unstable_points"]:
        shown = "; ".join(m["unstable_points"][:5])
        lines.append(f"  UNSTABLE (the backlog grows; values hold for this horizon only): "
                     f"{shown}{' …' if len(m['unstable_points']) > 5 else ''}")
    return "\n".join(lines)
