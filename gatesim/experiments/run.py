"""Experiments on one scenario: replications, warm-up, stability, precision on demand.

Replication *r* uses the named streams with ``replication=r``; results come back in
replication order, so they are identical whatever the executor or number of workers.
"""

from __future__ import annotations

import math
import os
import platform
import time
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import numpy as np
import pandas as pd

from gatesim.engine.model import run_replication
from gatesim.engine.records import ReplicationOutput
from gatesim.engine.rng import STREAM_LAYOUT_VERSION
from gatesim.errors import GatesimError, WorkerDied
from gatesim.experiments.checkpoint import Checkpoint
from gatesim.experiments.executors import Executor, LocalExecutor
from gatesim.experiments.frames import replications_frame, run_frames
from gatesim.experiments.guard import scenario_hash
from gatesim.experiments.metrics import HORIZON_DEPENDENT_IF_UNSTABLE
from gatesim.experiments.progress import bar as progress_bar
from gatesim.experiments.stats import growth_per_day, mser, t_interval
from gatesim.i18n import _
from gatesim.scenario.schema import Scenario

SUMMARY_COLUMNS = ["metric", "scope", "stat", "estimate", "ci_low", "ci_high", "n", "note"]
HORIZON_DEPENDENT = {"max"}
UNSTABLE_SHARE = 0.02
"""A backlog growing faster than this share of daily arrivals (CI above 0) is unstable."""


@dataclass(frozen=True)
class Precision:
    """Run until the 95 % half-width of one metric is ≤ ``relative`` × its estimate."""

    relative: float
    metric: str
    scope: str
    stat: str
    max_replications: int = 100

    @classmethod
    def parse(cls, relative: float, key: str, max_replications: int = 100) -> Precision:
        parts = key.split("/")
        if len(parts) != 3 or not all(parts):
            raise ValueError(f"--metric: got {key!r}; expected metric/scope/stat")
        return cls(relative, *parts, max_replications=max_replications)


@dataclass
class RunResult:
    """Summary, replication rows, time series and records of a run, with its provenance."""

    scenario: Scenario
    summary: pd.DataFrame
    replications: pd.DataFrame
    timeseries: pd.DataFrame
    trucks: pd.DataFrame
    visits: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)
    outputs: list[ReplicationOutput] = field(default_factory=list, repr=False)


def _one(job: tuple[Scenario, int, int, str]) -> ReplicationOutput:
    s, seed, replication, records = job
    return run_replication(s, seed, replication, records=records)


def versions() -> dict[str, str]:
    """Versions of gatesim, Python and the libraries whose behaviour shapes the numbers."""
    out = {"python": platform.python_version()}
    for pkg in ("gatesim", "simpy", "numpy", "scipy", "pandas", "pydantic", "matplotlib",
                "jinja2"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "unknown"
    return out


def upper_bounds(s: Scenario) -> dict[tuple[str, str | None], float]:
    """The largest value each bounded figure can take: a share is at most 1, a yard holds at
    most its slots (``None`` scope: every scope of the metric)."""
    bounds: dict[tuple[str, str | None], float] = {("utilisation", None): 1.0,
                                                    ("over_time_budget", None): 1.0}
    for name, yard in s.yards.items():
        if yard.slots is not None:
            bounds[("yard_occupancy", name)] = float(yard.slots)
    return bounds


def summarise(per_rep: pd.DataFrame, unstable: bool | None = False,
              upper: dict[tuple[str, str | None], float] | None = None) -> pd.DataFrame:
    """Mean over replications of each (metric, scope, stat) with a 95 % t-interval.

    A maximum always depends on the horizon; when the run is flagged ``unstable`` (its backlog
    grows), so do the tallies, levels and costs of ``HORIZON_DEPENDENT_IF_UNSTABLE``: their
    ``note`` says ``horizon-dependent``. Every figure gatesim reports is ≥ 0 and some have an
    upper bound (``upper_bounds``): an interval reaching past a bound is clipped to it, and its
    note says so (a count of −2 trucks or a yard p95 above its slots is not a possible value)."""
    growing = HORIZON_DEPENDENT_IF_UNSTABLE if unstable is True else frozenset()
    upper = upper or {}
    rows = []
    for (metric, scope, stat), g in per_rep.groupby(["metric", "scope", "stat"], sort=False):
        est, lo, hi, n = t_interval(g["value"].to_numpy())
        notes = ["horizon-dependent"] if stat in HORIZON_DEPENDENT or metric in growing else []
        top = upper.get((metric, scope), upper.get((metric, None), math.inf))
        if lo < 0:
            lo = 0.0
            notes.append("interval clipped at 0")
        if hi > top:
            hi = top
            notes.append(f"interval clipped at {top:g}")
        rows.append((metric, scope, stat, est, lo, hi, n, "; ".join(notes)))
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def with_warmup(s: Scenario, days: float) -> Scenario:
    """The same scenario with a fixed warm-up (the sample paths do not depend on it)."""
    return s.model_copy(update={"clock": s.clock.model_copy(update={"warmup_days": float(days)})})


class Runner:
    """Runs replications of one scenario on an executor, with an optional progress bar."""

    def __init__(self, executor: Executor | None = None, progress: bool = False,
                 records: str = "all", checkpoint: Checkpoint | None = None) -> None:
        self.executor = executor or LocalExecutor(1)
        self.progress, self.records, self.checkpoint = progress, records, checkpoint

    def outputs(self, s: Scenario, seed: int, reps: range, records: str | None = None
                ) -> list[ReplicationOutput]:
        """Replications ``reps`` in order; those kept by an interrupted run are reused."""
        keep = self.checkpoint if records is None else None  # pilots are not kept
        found = {r: keep.load(r) for r in reps} if keep else {}
        todo = [r for r in reps if found.get(r) is None]
        jobs = [(s, seed, r, records or self.records) for r in todo]
        with progress_bar(len(jobs), _("%(name)s replications") % {"name": s.name},
                          self.progress) as bar:
            try:
                done = self.executor.map(_one, jobs, bar,
                                         (lambda _, out: keep.save(out)) if keep else None)
            except WorkerDied as exc:  # or JobFailed: the replication it ran, in one line
                r = todo[exc.index]
                kept = f"; finished ones are kept in {keep.dir}" if keep else ""
                failed = GatesimError(f"{s.name}: replication {r} (seed {seed}) failed: "
                                      f"{exc}{kept}")
                failed.exit_code = exc.exit_code  # 1: a run failure, not bad input
                raise failed from exc
        found.update(zip(todo, done, strict=True))
        return [found[r] for r in reps]


def auto_warmup(runner: Runner, s: Scenario, seed: int, replications: int) -> dict[str, Any]:
    """Run a pilot with no warm-up (summary-only) and choose the warm-up on it (MSER-5)."""
    return choose_warmup(runner.outputs(with_warmup(s, 0), seed, range(replications), "none"))


def choose_warmup(outs: list[ReplicationOutput]) -> dict[str, Any]:
    """MSER-5 on the cross-replication mean of daily trucks in system (Law's cycle means)."""
    days = min(len(o.daily_in_system) for o in outs)
    mean_series = np.mean([o.daily_in_system[:days] for o in outs], axis=0) if days else []
    cut = mser(np.asarray(mean_series))
    return {"method": "auto", "days": cut.days if cut.found else 0, "found": cut.found,
            "batch_days": cut.batch, "note": cut.note}


def stability(outs: list[ReplicationOutput], warmup_days: float) -> dict[str, Any]:
    """Flag a backlog that keeps growing after the warm-up, with its growth per day.

    ``unstable`` is True or False when judged, None when it cannot be: fewer than 3 whole days
    after the warm-up, or one replication (the growth then has no confidence interval; its
    estimate is still given)."""
    first = math.ceil(warmup_days)
    daily = [np.asarray(o.daily_in_system[first:]) for o in outs]
    if min(len(d) for d in daily) < 3:
        return {"unstable": None, "growth_per_day": None,
                "note": "fewer than 3 whole days after the warm-up"}
    rate, lo, hi = growth_per_day(daily)
    if len(outs) < 2:
        return {"unstable": None, "growth_per_day": rate, "growth_ci": [None, None],
                "note": "one replication: the growth has no confidence interval (run 2 or more)"}
    arrivals = np.mean([o.n_arrived for o in outs]) / (outs[0].horizon_h / 24)
    unstable = bool(np.isfinite(lo) and lo > 0 and rate > UNSTABLE_SHARE * arrivals)
    return {"unstable": unstable, "growth_per_day": rate, "growth_ci": [lo, hi],
            "note": "backlog grows without bound" if unstable else "no sustained growth"}


def _half_width_ok(per_rep: pd.DataFrame, p: Precision) -> tuple[bool, float]:
    sel = per_rep[(per_rep.metric == p.metric) & (per_rep.scope == p.scope)
                  & (per_rep.stat == p.stat)]
    if sel.empty:
        raise ValueError(f"--metric {p.metric}/{p.scope}/{p.stat}: no such metric in this run")
    est, lo, hi, n = t_interval(sel["value"].to_numpy())
    rel = (hi - est) / abs(est) if n >= 2 and est else math.inf
    return rel <= p.relative, rel


def run(s: Scenario, replications: int = 10, seed: int = 12345, workers: int = 1,
        executor: Executor | None = None, precision: Precision | None = None,
        progress: bool = False, records: str = "all", checkpoint: Checkpoint | None = None
        ) -> RunResult:
    """Run a scenario: summary, replication rows, time series and records as DataFrames.

    ``records`` keeps per-truck and per-visit records of ``all`` trucks, a ``sample`` or
    ``none``; the summary does not depend on it. With a ``checkpoint``, finished replications
    are kept on disk as they come, and reused by a re-run after an interruption."""
    if replications < 1:
        raise ValueError("replications must be at least 1")
    t0 = time.perf_counter()
    runner = Runner(executor or LocalExecutor(workers), progress, records, checkpoint)
    warm: dict[str, Any] = {"method": "fixed", "days": s.clock.warmup_days}
    if s.clock.warmup_days == "auto":
        warm = auto_warmup(runner, s, seed, replications)
        s = with_warmup(s, warm["days"])
    outs = runner.outputs(s, seed, range(replications))
    prec: dict[str, Any] | None = None
    if precision is not None:
        ok, rel = _half_width_ok(replications_frame(outs), precision)
        while not ok and len(outs) < precision.max_replications:
            n = len(outs)
            batch = min(max(2, n // 2), precision.max_replications - n)
            outs += runner.outputs(s, seed, range(n, n + batch))
            ok, rel = _half_width_ok(replications_frame(outs), precision)
        prec = {**precision.__dict__, "achieved": ok, "half_width_rel": rel,
                "replications": len(outs)}
    frames = run_frames(s, outs)
    stable = stability(outs, float(s.clock.warmup_days))
    doc = s.model_dump(mode="json", by_alias=True)
    meta = {
        "scenario": doc,
        "scenario_hash": scenario_hash(doc),
        "seed": seed,
        "replications": len(outs),
        "workers": getattr(runner.executor, "workers", None),
        "executor": type(runner.executor).__name__,
        "warmup": warm,
        "records": records,
        "stability": stable,
        "precision": prec,
        "stream_layout_version": STREAM_LAYOUT_VERSION,
        "versions": versions(),
        "runtime_s": round(time.perf_counter() - t0, 3),
        "trucks_arrived": int(sum(o.n_arrived for o in outs)),
        "host": {"cpus": os.cpu_count(), "platform": platform.platform()},
    }
    return RunResult(s, summarise(frames["replications"], stable["unstable"], upper_bounds(s)),
                     frames["replications"], frames["timeseries"], frames["trucks"],
                     frames["visits"], meta, outs)
