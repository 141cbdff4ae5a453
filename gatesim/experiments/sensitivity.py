"""One-at-a-time sensitivity: how far each uncertain number moves one answer, within its range.

Every number written ``{value, low, high}`` (``Scenario.uncertain``) is set to its low and to
its high end, all its places together (a choose share rescaling its sibling options so the
shares still sum to 1: scenario.moves), the others staying at their values; each such point
runs with the seeds of the base run (common random numbers: replication *r* of every point
uses seed S, replication *r*), so the per-replication changes are paired and their intervals
narrow. With two scenarios the answer is the difference B − A per replication, and a
parameter is swung in every scenario that defines it: the table then says which assumptions
the comparison's conclusion hangs on. Finished replications are kept by the run checkpoints
(``checkpoints``), so an interrupted analysis resumes. Nothing here writes result files.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gatesim.engine.rng import STREAM_LAYOUT_VERSION
from gatesim.errors import GatesimError
from gatesim.experiments.checkpoint import Checkpoint
from gatesim.experiments.executors import Executor, LocalExecutor
from gatesim.experiments.guard import scenario_hash
from gatesim.experiments.names import check_key, did_you_mean
from gatesim.experiments.progress import bar as progress_bar
from gatesim.experiments.run import Runner, auto_warmup, run, versions, with_warmup
from gatesim.experiments.stats import paired_difference, t_interval
from gatesim.i18n import _, significant
from gatesim.scenario.loader import apply_overrides, load_scenario, validate
from gatesim.scenario.moves import settings, siblings
from gatesim.scenario.schema import Scenario
from gatesim.scenario.uncertain import Parameter

SENSITIVITY_COLUMNS = [
    "parameter", "paths", "value", "low", "high", "metric", "scope", "stat",
    "base", "base_ci_low", "base_ci_high", "at_low", "at_high",
    "diff_low", "diff_low_ci_low", "diff_low_ci_high",
    "diff_high", "diff_high_ci_low", "diff_high_ci_high",
    "swing", "swing_ci_low", "swing_ci_high", "effect_shown", "n"]
ENDS = ("low", "high")
NO_RANGES = "the scenario has no numbers with a range: write {value, low, high}"
PointKey = tuple[int, str | None, str | None]
"""(scenario index, parameter or None for the base, 'low'/'high' or None)."""


@dataclass(frozen=True)
class MetricKey:
    """The answer analysed, ``metric/scope/stat`` (a row of summary.csv)."""

    metric: str
    scope: str
    stat: str

    @classmethod
    def parse(cls, text: str) -> MetricKey:
        parts = text.split("/")
        if len(parts) != 3 or not all(p.strip() for p in parts):
            raise GatesimError(f"--metric: got {text!r}; expected metric/scope/stat, e.g. "
                               "time_in_system_h/system/mean")
        return cls(*(p.strip() for p in parts))

    def __str__(self) -> str:
        return f"{self.metric}/{self.scope}/{self.stat}"


@dataclass
class SensitivityResult:
    """One row per parameter (``SENSITIVITY_COLUMNS``, largest swing first) and provenance."""

    table: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Source:
    """A scenario and how to make it with some places changed: from its file (errors then
    name the file and the ``--set``), else from its resolved document."""

    scenario: Scenario
    path: Path | None = None
    overrides: tuple[str, ...] = ()

    def at(self, sets: list[str]) -> Scenario:
        if self.path is not None:
            return load_scenario(self.path, [*self.overrides, *sets])
        doc = self.scenario.model_dump(mode="json", by_alias=True)
        return validate(doc, self.scenario.name, assigned=apply_overrides(doc, sets))


@dataclass
class Plan:
    """Everything decided before any work: the scenarios, the answer, the points to run."""

    sources: list[Source]
    metric: MetricKey
    replications: int
    parameters: dict[str, list[Parameter | None]]
    """Each parameter, as each scenario defines it (None: not in that scenario)."""
    points: dict[PointKey, Scenario]

    @property
    def names(self) -> list[str]:
        return [src.scenario.name for src in self.sources]

    def key(self, i: int, name: str | None, end: str | None) -> PointKey:
        """The point scenario ``i`` runs for (name, end): its base when it lacks the name."""
        return (i, name, end) if name is not None and self.parameters[name][i] else (i, None, None)


def _source(x: Scenario | str | Path, overrides: Sequence[str]) -> Source:
    if isinstance(x, Scenario):
        if overrides:
            doc = x.model_dump(mode="json", by_alias=True)
            x = validate(doc, x.name, assigned=apply_overrides(doc, list(overrides)))
        return Source(x)
    return Source(load_scenario(x, list(overrides)), Path(x), tuple(overrides))


def setup(scenarios: Scenario | str | Path | Sequence[Scenario | str | Path], metric: str,
          replications: int, only: Sequence[str] | None = None,
          overrides: Sequence[str] = ()) -> Plan:
    """Load the scenario(s) and their parameters, with no points yet, refusing (one line)
    before any work: not one or two scenarios, no ranges, an unknown metric or ``only``."""
    items = [scenarios] if isinstance(scenarios, Scenario | str | Path) else list(scenarios)
    if not 1 <= len(items) <= 2:
        raise GatesimError(f"sensitivity: got {len(items)} scenarios; expected one, or two "
                           "(the answer is then the difference B − A)")
    key = MetricKey.parse(metric)
    sources = [_source(x, overrides) for x in items]
    for src in sources:
        check_key(src.scenario, "--metric", key.metric, key.scope, key.stat)
    params: dict[str, list[Parameter | None]] = {}
    for i, src in enumerate(sources):
        for name, p in src.scenario.uncertain.items():
            params.setdefault(name, [None] * len(sources))[i] = p
    if not params:
        text = NO_RANGES if len(sources) == 1 else NO_RANGES.replace(
            "the scenario has", "neither scenario has")
        raise GatesimError(f"{' and '.join(s.scenario.name for s in sources)}: {text}")
    if only:
        unknown = [n for n in only if n not in params]
        if unknown:
            raise GatesimError(f"--only: no parameter {unknown[0]!r}; "
                               f"{did_you_mean(unknown[0], list(params))}(parameters: "
                               f"{', '.join(params)})")
        params = {n: ps for n, ps in params.items() if n in set(only)}
    return Plan(sources, key, replications, params, {})


def prepare(scenarios: Scenario | str | Path | Sequence[Scenario | str | Path], metric: str,
            replications: int = 10, only: Sequence[str] | None = None,
            overrides: Sequence[str] = ()) -> Plan:
    """Load the scenario(s) and every point, refusing (one line) before any work: no ranges,
    an unknown metric or ``only`` name, fewer than 2 replications, a bad end value."""
    if replications < 2:
        raise GatesimError(f"--replications: got {replications}; expected at least 2 (each "
                           "change needs a confidence interval)")
    plan = setup(scenarios, metric, replications, only, overrides)
    for i, src in enumerate(plan.sources):
        plan.points[(i, None, None)] = src.scenario
        for name, ps in plan.parameters.items():
            p = ps[i]
            if p is None:
                continue
            for end in ENDS:  # a choose share moves its siblings too (scenario.moves)
                plan.points[(i, name, end)] = src.at(settings(src.scenario, p,
                                                              getattr(p, end)))
    return plan


def engine_hash(s: Scenario) -> str:
    """What decides a point's numbers (its list of ranges does not): equal points run once."""
    doc = s.model_dump(mode="json", by_alias=True)
    doc.pop("uncertain", None)
    return scenario_hash(doc)


def metric_values(per_rep: pd.DataFrame, key: MetricKey, replications: int) -> np.ndarray:
    """The answer per replication (NaN where the statistic does not exist)."""
    sel = per_rep[(per_rep.metric == key.metric) & (per_rep.scope == key.scope)
                  & (per_rep.stat == key.stat)]
    out = np.full(replications, np.nan)
    out[sel["replication"].to_numpy(dtype=int)] = sel["value"].to_numpy(dtype=float)
    return out


def _folded(lo: float, hi: float) -> tuple[float, float]:
    """The interval of |d| from that of d: it holds 0 exactly when d's does."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return math.nan, math.nan
    if lo <= 0 <= hi:
        return 0.0, max(abs(lo), abs(hi))
    return min(abs(lo), abs(hi)), max(abs(lo), abs(hi))


def _row(plan: Plan, name: str, answer: Callable[[str | None, str | None], np.ndarray]
         ) -> tuple:
    ps = [p for p in plan.parameters[name] if p is not None]
    p = ps[0]
    paths = list(dict.fromkeys(path for q in ps for path in q.paths))
    yb, yl, yh = answer(None, None), answer(name, "low"), answer(name, "high")
    base, blo, bhi, _ = t_interval(yb)
    dl, dh, sw = (paired_difference(a, b)[:4] for a, b in ((yb, yl), (yb, yh), (yl, yh)))
    slo, shi = _folded(sw[1], sw[2])
    shown = bool(sw[1] > 0 or sw[2] < 0)
    m = plan.metric
    return (name, ";".join(paths), p.value, p.low, p.high, m.metric, m.scope, m.stat,
            base, blo, bhi, t_interval(yl)[0], t_interval(yh)[0], *dl[:3], *dh[:3],
            abs(sw[0]), slo, shi, shown, sw[3])


@dataclass
class Evaluated:
    """The answer per replication at each point, and how the points ran."""

    values: dict[Hashable, np.ndarray]
    unstable: list[Hashable]
    """The points whose backlog grows (their values hold for this horizon only)."""
    computed: int
    """Points run (equal points, by :func:`engine_hash`, run once)."""
    warmup: dict[str, Any] | None
    """The warm-up chosen on the first scenario when it asks for ``auto``, else None."""


def evaluate(plan: Plan, points: Mapping[Hashable, Scenario], seed: int, executor: Executor,
             progress: bool = False,
             checkpoints: Callable[[Scenario], Checkpoint] | None = None,
             desc: str = "points") -> Evaluated:
    """Run every point with the same seeds (common random numbers: replication r of every
    point uses the seed, replication r) and read ``plan.metric`` per replication."""
    reps = plan.replications
    warm: dict[str, Any] | None = None
    first = plan.sources[0].scenario
    if first.clock.warmup_days == "auto":  # one warm-up for every point, chosen on the base
        warm = auto_warmup(Runner(executor, progress), first, seed, reps)
    done: dict[str, tuple[np.ndarray, dict[str, Any]]] = {}
    found: dict[Hashable, np.ndarray] = {}
    unstable: list[Hashable] = []
    bar = progress_bar(len(points), desc, progress)
    for key, s in points.items():
        if warm is not None and s.clock.warmup_days == "auto":
            s = with_warmup(s, warm["days"])
        h = engine_hash(s)
        if h not in done:
            r = run(s, reps, seed, executor=executor, progress=progress, records="none",
                    checkpoint=checkpoints(s) if checkpoints else None)
            done[h] = metric_values(r.replications, plan.metric, reps), r.meta["stability"]
        found[key] = done[h][0]
        if done[h][1].get("unstable"):
            unstable.append(key)
        bar.update(1)
    bar.close()
    return Evaluated(found, unstable, len(done), warm)


def sensitivity(scenarios: Scenario | str | Path | Sequence[Scenario | str | Path],
                metric: str = "time_in_system_h/system/mean", replications: int = 10,
                seed: int = 12345, workers: int = 1, executor: Executor | None = None,
                only: Sequence[str] | None = None, overrides: Sequence[str] = (),
                progress: bool = False,
                checkpoints: Callable[[Scenario], Checkpoint] | None = None,
                plan: Plan | None = None) -> SensitivityResult:
    """Swing each uncertain number of the scenario (or of A and B: the answer is B − A) to its
    low and high end with the base run's seeds; the table of changes, largest swing first.
    ``plan`` (from :func:`prepare`) skips loading again; writes no result files."""
    t0 = time.perf_counter()
    plan = plan or prepare(scenarios, metric, replications, only, overrides)
    done = evaluate(plan, plan.points, seed, executor or LocalExecutor(workers), progress,
                    checkpoints, "sensitivity points")
    found = done.values
    unstable = [_point_label(plan, key) for key in done.unstable]

    def answer(name: str | None, end: str | None) -> np.ndarray:
        a = found[plan.key(0, name, end)]
        return a if len(plan.sources) == 1 else found[plan.key(1, name, end)] - a

    rows = [_row(plan, name, answer) for name in plan.parameters]
    table = pd.DataFrame(rows, columns=SENSITIVITY_COLUMNS).sort_values(
        "swing", ascending=False, kind="stable", na_position="last").reset_index(drop=True)
    return SensitivityResult(table, provenance(plan, seed, done.warmup, done.computed,
                                               unstable, t0))


def _point_label(plan: Plan, key: PointKey) -> str:
    i, name, end = key
    where = f" ({plan.names[i]})" if len(plan.sources) > 1 else ""
    return ("base" if name is None else f"{name} at its {end} end") + where


ONE_AT_A_TIME = ("one at a time; common random numbers: replication r of every point uses "
                 "the seed, replication r")


def provenance(plan: Plan, seed: int, warm: dict[str, Any] | None, computed: int,
               unstable: list[str], t0: float, design: str = ONE_AT_A_TIME,
               points: int | None = None) -> dict[str, Any]:
    """The meta of an analysis of ``plan``: scenarios, answer, seed, ranges, versions."""
    names = plan.names
    return {
        "scenarios": names,
        "answer": names[0] if len(names) == 1 else f"{names[1]} − {names[0]}",
        "mode": "one scenario" if len(names) == 1 else "difference B − A",
        "scenario_files": [None if s.path is None else str(s.path) for s in plan.sources],
        "overrides": list(plan.sources[0].overrides),
        "metric": {"metric": plan.metric.metric, "scope": plan.metric.scope,
                   "stat": plan.metric.stat},
        "seed": seed, "replications": plan.replications,
        "design": design,
        "parameters": {n: {names[i]: p.model_dump() for i, p in enumerate(ps) if p}
                       for n, ps in plan.parameters.items()},
        "rescaled": _rescaled(plan),
        "points": len(plan.points) if points is None else points, "computed": computed,
        "warmup": warm or {"method": "fixed",
                           "days": plan.sources[0].scenario.clock.warmup_days},
        "unstable_points": unstable,
        "scenario": {n: src.scenario.model_dump(mode="json", by_alias=True)
                     for n, src in zip(names, plan.sources, strict=True)},
        "versions": versions(), "stream_layout_version": STREAM_LAYOUT_VERSION,
        "runtime_s": round(time.perf_counter() - t0, 3),
    }


def _rescaled(plan: Plan) -> dict[str, dict[str, Any]]:
    """For each parameter that is a choose share: the sibling shares moved with it, and
    those of them that carry a range of their own (then not at their value at its points)."""
    out: dict[str, dict[str, Any]] = {}
    for name, ps in plan.parameters.items():
        for src, p in zip(plan.sources, ps, strict=True):
            paths = siblings(src.scenario, p) if p is not None else []
            if not paths:
                continue
            ranged = [n for n, q in src.scenario.uncertain.items() if set(q.paths) & set(paths)]
            entry = out.setdefault(name, {"paths": [], "ranged": []})
            entry["paths"] = list(dict.fromkeys([*entry["paths"], *paths]))
            entry["ranged"] = list(dict.fromkeys([*entry["ranged"], *ranged]))
    return out


def _g(x: float) -> str:
    return significant(x, 3)


def summary_text(result: SensitivityResult, label: str) -> str:
    """The terminal answer: the parameter that moves the answer most, then the table by
    swing. ``label`` names the metric in words (output.reader.metric_label)."""
    t, m = result.table, result.meta
    what = label if len(m["scenarios"]) == 1 else _(
        "the difference %(answer)s in %(label)s") % {"answer": m["answer"], "label": label}
    lines = []
    top = t.iloc[0] if len(t) else None
    if top is None or not math.isfinite(top.swing):
        lines.append(_("no parameter gave a value of %(what)s") % {"what": what})
    elif top.effect_shown:
        lines.append(_("%(name)s moves %(what)s most: from %(at_low)s (at %(low)s) to "
                       "%(at_high)s (at %(high)s); base %(base)s [%(base_low)s, %(base_high)s]")
                     % {"name": top.parameter, "what": what, "at_low": _g(top.at_low),
                        "low": _g(top.low), "at_high": _g(top.at_high), "high": _g(top.high),
                        "base": _g(top.base), "base_low": _g(top.base_ci_low),
                        "base_high": _g(top.base_ci_high)})
    else:
        lines.append(_("no parameter moves %(what)s beyond the noise of %(n)s replications "
                       "(the largest swing, %(name)s's %(swing)s, has a 95 %% interval "
                       "holding 0)") % {"what": what, "n": m["replications"],
                                        "name": top.parameter, "swing": _g(top.swing)})
    width = max([9, *(len(n) for n in t.parameter)])
    lines.append(f"  {'parameter':{width}s} {'low → high':>17s} {'at low':>9s} "
                 f"{'at high':>9s}  swing [95 % CI]")
    for row in t.itertuples():
        ends = f"{row.low:g} → {row.high:g}"
        swing = f"{_g(row.swing)} [{_g(row.swing_ci_low)}, {_g(row.swing_ci_high)}]"
        mark = "" if row.effect_shown else "  no effect shown"
        lines.append(f"  {row.parameter:{width}s} {ends:>17s} {_g(row.at_low):>9s} "
                     f"{_g(row.at_high):>9s}  {swing}{mark}")
    if len(m["scenarios"]) > 1:
        flips = [r.parameter for r in t.itertuples()
                 if min(r.at_low, r.at_high, r.base) < 0 < max(r.at_low, r.at_high, r.base)]
        if flips:
            lines.append(f"  the sign of {m['answer']} changes within the range of: "
                         f"{', '.join(flips)}")
    lines.append(f"  one at a time, the others at their values; {m['replications']} "
                 "replications with common random numbers")
    if m["unstable_points"]:
        shown = "; ".join(m["unstable_points"][:5])
        lines.append(f"  UNSTABLE (the backlog grows; values hold for this horizon only): "
                     f"{shown}{' …' if len(m['unstable_points']) > 5 else ''}")
    return "\n".join(lines)
