"""Capacity sweeps: a full grid of scenario overrides, common random numbers across points.

Each point has a key that hashes the resolved scenario, seed, replications, gatesim version
and random-stream layout. With a ``PointStore`` (the CLI's is a directory, written by output),
finished points are kept as they come, so an interrupted sweep re-run with the same arguments
skips the points whose key matches and computes only the rest. The sweep itself writes nothing.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from gatesim.engine.rng import STREAM_LAYOUT_VERSION
from gatesim.errors import GatesimError, ScenarioError
from gatesim.experiments.checkpoint import work_key
from gatesim.experiments.executors import Executor
from gatesim.experiments.guard import MAX_POINTS
from gatesim.experiments.progress import bar as progress_bar
from gatesim.experiments.run import SUMMARY_COLUMNS, RunResult, run, versions
from gatesim.experiments.stability import growth
from gatesim.i18n import _
from gatesim.scenario.loader import load_scenario, load_text
from gatesim.scenario.moves import assignment
from gatesim.scenario.schema import Scenario

_RANGE = re.compile(r"^\s*-?[\d.eE+\-]+\s*:\s*-?[\d.eE+\-]+\s*:\s*-?[\d.eE+\-]+\s*$")
_TARGET = re.compile(r"^([\w.\-]+)/([\w.\-]+)/(\w+)\s*(<=|>=)\s*(-?[\d.eE+\-]+)$")


@dataclass(frozen=True)
class Target:
    """A service target such as ``road_queue/system/p95<=5``, judged on the CI bound."""

    metric: str
    scope: str
    stat: str
    op: str
    value: float

    @classmethod
    def parse(cls, text: str) -> Target:
        m = _TARGET.match(text.strip())
        try:
            value = float(m[5]) if m else math.nan
        except ValueError:
            value = math.nan
        if not m or not math.isfinite(value):
            raise GatesimError(f"--target: got {text!r}; expected metric/scope/stat<=value "
                               "or >=value with a finite number, e.g. road_queue/system/p95<=5")
        return cls(m[1], m[2], m[3], m[4], value)

    def met(self, ci_low: float, ci_high: float) -> bool:
        """Met with 95 % confidence: the whole interval is on the right side."""
        return ci_high <= self.value if self.op == "<=" else ci_low >= self.value


def _number(text: str) -> int | float:
    """A range bound: an integer where it is one (``10``), else a float (``1e12``, ``0.5``)."""
    try:
        return int(text)
    except ValueError:
        return float(text)


def parse_param(text: str) -> tuple[str, list[Any]]:
    """``path=lo:hi:step`` (inclusive range) or ``path=a,b,c`` → (path, values)."""
    if "=" not in text:
        raise GatesimError(f"--param: got {text!r}; expected path=lo:hi:step or path=a,b,c")
    path, spec = (x.strip() for x in text.split("=", 1))
    try:
        if _RANGE.match(spec):
            lo, hi, step = (_number(x) for x in spec.split(":"))
            numbers = (lo, hi, step)
            if not all(isinstance(x, int | float) and not isinstance(x, bool)
                       and math.isfinite(x) for x in numbers) or step <= 0 or hi < lo:
                raise ValueError
            span = (hi - lo) / step
            if not math.isfinite(span) or span + 1 > MAX_POINTS:  # before a value is built
                n = span
                raise GatesimError(f"--param {path}: {spec} has {n + 1:,.0f} values; a sweep "
                                   f"may have at most {MAX_POINTS:,} points")
            n = int(round(span))
            values = [lo + k * step for k in range(n + 1) if lo + k * step <= hi + 1e-9 * step]
        else:
            values = [load_text(x, "--param") for x in spec.split(",") if x.strip()]
    except (ValueError, ScenarioError):
        raise GatesimError(f"--param {path}: got {spec!r}; expected lo:hi:step with "
                           "lo <= hi and step > 0, or a list a,b,c") from None
    if not path or not values:
        raise GatesimError(f"--param: got {text!r}; expected at least one value")
    return path, values


def grid_size(params: Sequence[tuple[str, list[Any]]]) -> int:
    """Points of the full grid; refused above ``MAX_POINTS`` before the grid is built."""
    n = math.prod(len(v) for _, v in params)
    if n > MAX_POINTS:
        shape = " × ".join(str(len(v)) for _, v in params)
        raise GatesimError(f"--param: a grid of {shape} = {n:,} points; a sweep may have at "
                           f"most {MAX_POINTS:,}")
    return n


def point_scenarios(scenario: str | Path, params: Sequence[tuple[str, list[Any]]],
                    overrides: Sequence[str] = ()) -> list[tuple[tuple[Any, ...], Scenario]]:
    """Every grid point's values and validated scenario: a bad value at any point is refused
    before any point runs."""
    grid_size(params)
    names = [p for p, _ in params]
    return [(values, load_scenario(scenario, [*overrides, *(
                assignment(p, v) for p, v in zip(names, values, strict=True))]))
            for values in itertools.product(*(v for _, v in params))]


def point_key(scenario_doc: dict, seed: int, replications: int) -> str:
    """The key a sweep point is stored under."""
    return work_key(scenario=scenario_doc, seed=seed, replications=replications)


class PointStore(Protocol):
    """Where finished sweep points are kept between runs (output's ``PointDirectory``)."""

    def load(self, key: str) -> tuple[pd.DataFrame, dict[str, Any]] | None:
        """The stored summary and stability of the point with this key, or None."""

    def save(self, key: str, result: RunResult) -> None:
        """Keep a finished point."""


@dataclass
class SweepResult:
    """One row per grid point × summary row (the parameters' columns first), and provenance."""

    table: pd.DataFrame
    meta: dict[str, Any]


def sweep(scenario: str | Path, params: Sequence[tuple[str, list[Any]]],
          overrides: Sequence[str] = (), replications: int = 10, seed: int = 12345,
          workers: int = 1, executor: Executor | None = None, target: Target | None = None,
          progress: bool = False, store: PointStore | None = None,
          on_point: Callable[[int], None] | None = None) -> SweepResult:
    """Run every grid point with the same seeds; points found in ``store`` are reused and
    points computed here are saved to it. Returns the table; writes no result files."""
    scenario_path = Path(scenario)
    names = [p for p, _ in params]
    frames, done, computed = [], 0, 0
    points = point_scenarios(scenario_path, params, overrides)
    bar = progress_bar(len(points), _("sweep points"), progress)
    for values, s in points:
        key = point_key(s.model_dump(mode="json", by_alias=True), seed, replications)
        stored = store.load(key) if store is not None else None
        if stored is None:
            result = run(s, replications, seed, workers, executor, progress=progress,
                         records="none")
            if store is not None:
                store.save(key, result)
            stored = result.summary.copy(), result.meta["stability"]
            computed += 1
        summary, stable = stored
        for name, value in zip(reversed(names), reversed(values), strict=True):
            summary.insert(0, name, value)
        summary["unstable"] = stable.get("unstable")
        summary["growth_per_day"] = growth(stable)
        frames.append(summary)
        done += 1
        bar.update(1)
        if on_point is not None:
            on_point(done)
    bar.close()
    table = pd.concat(frames, ignore_index=True)[[*names, *SUMMARY_COLUMNS, *STABILITY]]
    best = None if target is None else best_point(table, names, target)
    meta = {"params": names, "values": {p: v for p, v in params}, "seed": seed,
            "scenario_file": str(scenario_path),
            "scenario": load_scenario(scenario_path, overrides).model_dump(mode="json",
                                                                           by_alias=True),
            "replications": replications, "points": done, "computed": computed,
            "target": None if target is None else target.__dict__,
            "best": best, "best_unstable": None if best is None else _unstable_at(table, best),
            "unstable_points": _unstable_points(table, names),
            "versions": versions(), "stream_layout_version": STREAM_LAYOUT_VERSION}
    return SweepResult(table, meta)


STABILITY = ["unstable", "growth_per_day"]
"""Per-point columns after the summary's: a point whose backlog grows holds for its horizon."""


def _unstable_at(table: pd.DataFrame, point: dict[str, Any]) -> bool | None:
    sel = table
    for name, value in point.items():
        sel = sel[sel[name] == value]
    flag = sel["unstable"].iloc[0] if len(sel) else None
    return None if flag is None or pd.isna(flag) else bool(flag)


def _unstable_points(table: pd.DataFrame, names: list[str]) -> list[dict[str, Any]]:
    points = table[table["unstable"] == True].drop_duplicates(names)  # noqa: E712 (None too)
    return [{n: row[n].item() if hasattr(row[n], "item") else row[n] for n in names}
            for _, row in points.iterrows()]


def best_point(table: pd.DataFrame, names: list[str], target: Target) -> dict | None:
    """The smallest point (by the parameters in order) whose CI meets the target."""
    sel = table[(table.metric == target.metric) & (table.scope == target.scope)
                & (table.stat == target.stat)]
    if sel.empty:
        raise GatesimError(f"--target: no metric {target.metric}/{target.scope}/{target.stat}")
    ok = sel[[target.met(lo, hi) for lo, hi in zip(sel.ci_low, sel.ci_high, strict=True)]]
    if ok.empty:
        return None
    row = ok.sort_values(names).iloc[0]
    return {n: row[n].item() if hasattr(row[n], "item") else row[n] for n in names}
