"""A calibration's plan and its candidates: the scenarios each candidate runs, the targets
they measure, and the evaluator that runs a candidate once (kept on disk, so a calibration
resumes) and scores it S = Σ((mean − reported)/half_band)² over the calibration targets.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gatesim.errors import GatesimError, ScenarioError
from gatesim.experiments.checkpoint import MeasureStore, work_key
from gatesim.experiments.executors import Executor
from gatesim.experiments.names import did_you_mean
from gatesim.experiments.run import run
from gatesim.experiments.sensitivity import Source
from gatesim.experiments.targets import Targets, check_target, load_targets, measure
from gatesim.scenario.loader import load_scenario
from gatesim.scenario.moves import is_integral, joint_settings
from gatesim.scenario.schema import Scenario
from gatesim.scenario.uncertain import Parameter

UNSTABLE_PENALTY = 1e6
"""Added to S of a candidate whose backlog grows: out of the search while a stable one exists."""


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


class Evaluator:
    """Runs candidates (each scenario once per distinct θ), kept by an optional store."""

    def __init__(self, plan: Plan, seed: int, executor: Executor, store: MeasureStore | None,
                 progress: bool) -> None:
        self.plan, self.seed, self.executor, self.store = plan, seed, executor, store
        self.progress = progress
        self.seen: dict[tuple, Candidate] = {}
        self.trials: list[Candidate] = []
        self.runs = 0
        self.warned = False
        self.measured: dict[str, tuple[dict[str, list[float]], bool]] = {}

    def _group(self, g: Group, theta: dict[str, float]) -> tuple[dict[str, list[float]], bool]:
        s = g.at(theta)
        doc = s.model_dump(mode="json", by_alias=True)
        doc.pop("uncertain", None)
        key = work_key(scenario=doc, seed=self.seed, replications=self.plan.replications,
                       targets={n: t.model_dump(mode="json", by_alias=True)
                                for n, t in g.targets.items()})
        if key in self.measured:  # e.g. the start, measured again with its validation
            return self.measured[key]
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
        self.measured[key] = values, unstable
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
