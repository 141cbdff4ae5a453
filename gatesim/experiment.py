"""Independent replications of a scenario, on one or several worker processes.

Replication *r* uses the named streams with ``replication=r``; results are gathered in
replication order, so they are identical whatever the number of workers.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import platform
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import numpy as np
import pandas as pd

from gatesim.metrics import replication_rows
from gatesim.model import local_time, run_replication
from gatesim.records import ReplicationOutput
from gatesim.rng import STREAM_LAYOUT_VERSION
from gatesim.schema import Scenario
from gatesim.stats import t_interval

SUMMARY_COLUMNS = ["metric", "scope", "stat", "estimate", "ci_low", "ci_high", "n", "note"]
HORIZON_DEPENDENT = {"max"}


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


def _one(args: tuple[Scenario, int, int]) -> ReplicationOutput:
    return run_replication(*args)


def run_outputs(s: Scenario, replications: int, seed: int, workers: int = 1
                ) -> list[ReplicationOutput]:
    """Run replications 0..n-1 (in parallel when ``workers`` > 1), in replication order."""
    jobs = [(s, seed, r) for r in range(replications)]
    if workers <= 1 or replications <= 1:
        return [_one(j) for j in jobs]
    ctx = mp.get_context("fork" if sys.platform != "win32" else "spawn")
    with ProcessPoolExecutor(max_workers=min(workers, replications), mp_context=ctx) as pool:
        return list(pool.map(_one, jobs))


def versions() -> dict[str, str]:
    """Versions of gatesim, Python and the libraries whose behaviour shapes the numbers."""
    out = {"python": platform.python_version()}
    for pkg in ("gatesim", "simpy", "numpy", "scipy", "pandas", "pydantic"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "unknown"
    return out


def summarise(per_rep: pd.DataFrame) -> pd.DataFrame:
    """Mean over replications of each (metric, scope, stat) with a 95 % t-interval."""
    rows = []
    for (metric, scope, stat), g in per_rep.groupby(["metric", "scope", "stat"], sort=False):
        est, lo, hi, n = t_interval(g["value"].to_numpy())
        note = "horizon-dependent" if stat in HORIZON_DEPENDENT else ""
        rows.append((metric, scope, stat, est, lo, hi, n, note))
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def _truck_frame(out: ReplicationOutput) -> pd.DataFrame:
    """Per-truck records with names instead of indices: stream, class, attributes, lane."""
    names = out.names
    t = pd.DataFrame(out.trucks)
    t.insert(0, "replication", out.replication)
    cls = t["cls"].astype(int)
    for k, col in enumerate(("direction", "cargo", "site")):
        t[col] = [names["classes"][c][k] for c in cls]
    for attr in names["class_attributes"][0] if names["class_attributes"] else ():
        t[attr] = [names["class_attributes"][c][attr] for c in cls]
    t["stream"] = [names["streams"][int(i)] for i in t["stream"]]
    t["lane"] = ["" if i < 0 else names["station_lane"][int(i)] for i in t["lane"]]
    t["turned_away"] = ["" if i < 0 else names["places"][int(i)] for i in t["turned_away"]]
    return t.drop(columns="cls")


def _frames(s: Scenario, outs: list[ReplicationOutput]) -> dict[str, pd.DataFrame]:
    reps, series, trucks, visits = [], [], [], []
    start = s.clock.start
    for out in outs:
        r = out.replication
        reps += [(r, *row) for row in replication_rows(out)]
        for hour, row in out.timeseries:
            clock = local_time(start, hour).isoformat(timespec="minutes")
            series += [(r, hour, clock, m, sc, v) for m, sc, v in row]
        trucks.append(_truck_frame(out))
        vis = pd.DataFrame(out.visits)
        vis.insert(0, "replication", r)
        vis["station"] = [out.names["stations"][int(i)] for i in vis["station"]]
        vis["wait"] = vis["start"] - vis["ready"]
        visits.append(vis)
    per_rep = pd.DataFrame(reps, columns=["replication", "metric", "scope", "stat", "value"])
    return {
        "replications": per_rep,
        "timeseries": pd.DataFrame(
            series, columns=["replication", "hour", "time", "metric", "scope", "value"]),
        "trucks": pd.concat(trucks, ignore_index=True),
        "visits": pd.concat(visits, ignore_index=True),
    }


def run(s: Scenario, replications: int = 10, seed: int = 12345, workers: int = 1) -> RunResult:
    """Run a scenario: summary, replication rows, time series and records as DataFrames."""
    if replications < 1:
        raise ValueError("replications must be at least 1")
    t0 = time.perf_counter()
    outs = run_outputs(s, replications, seed, workers)
    frames = _frames(s, outs)
    meta = {
        "scenario": s.model_dump(mode="json", by_alias=True),
        "seed": seed,
        "replications": replications,
        "workers": workers,
        "stream_layout_version": STREAM_LAYOUT_VERSION,
        "versions": versions(),
        "runtime_s": round(time.perf_counter() - t0, 3),
        "trucks_arrived": int(sum(len(o.arrivals) for o in outs)),
        "host": {"cpus": os.cpu_count(), "platform": platform.platform()},
    }
    return RunResult(s, summarise(frames["replications"]), frames["replications"],
                     frames["timeseries"], frames["trucks"], frames["visits"], meta)


def replication_matrix(result: RunResult, metric: str, scope: str, stat: str) -> np.ndarray:
    """Per-replication values of one metric (replication order)."""
    r = result.replications
    sel = r[(r.metric == metric) & (r.scope == scope) & (r.stat == stat)]
    return sel.sort_values("replication")["value"].to_numpy()
