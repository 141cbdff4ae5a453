"""Reading result directories back: the files of a run, and the words for its metrics.

Plots and the report work from these files only, never from a live model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from gatesim.experiments.compare import summary_block
from gatesim.output.tables import read_table
from gatesim.scenario.loader import validate
from gatesim.scenario.schema import Scenario

LEVELS = ("in_system", "yard_occupancy", "road_queue")


def primary(scenario: Scenario) -> list[tuple[str, str, str]]:
    """The figures a planner reads first: the comparison's summary block (each road apart)."""
    return list(summary_block(scenario.roads))
HIGHER_IS_BETTER = {"throughput_per_day"}
NAMES = {
    "throughput_per_day": ("trucks cleared per day", "trucks/day"),
    "time_in_system_h": ("time in the system", "h"), "wait_h": ("total waiting time", "h"),
    "road_time_h": ("time on the approach road", "h"),
    "censored_wait_h": ("time so far of trucks still inside at the end", "h"),
    "road_queue": ("trucks queuing on the approach road", "trucks"),
    "in_system": ("trucks in the system", "trucks"),
    "yard_occupancy": ("trucks parked in the yard", "trucks"),
    "queue_length": ("trucks waiting", "trucks"), "utilisation": ("utilisation", "share"),
    "in_system_end": ("trucks still inside at the end", "trucks"),
    "turned_away": ("trucks turned away", "trucks"), "departures": ("crossings", "trucks"),
}
STATS = {"mean": "mean", "p50": "median", "p90": "90th percentile", "p95": "95th percentile",
         "max": "maximum", "count": "count", "per_day": "per day"}


def as_bool(values: pd.Series) -> pd.Series:
    """A CSV flag column as booleans, whether pandas read it as bool or as text."""
    return values.map(lambda x: str(x).strip().lower() in ("true", "1", "yes"))


def with_block_columns(comparison: pd.DataFrame) -> pd.DataFrame:
    """A comparison table with the summary block's columns; one written before they existed
    (gatesim 0.1) gets its unadjusted intervals and verdicts there, as it showed them."""
    if "significant_block" in comparison:
        return comparison
    return comparison.assign(ci_low_block=comparison["ci_low"],
                             ci_high_block=comparison["ci_high"],
                             significant_block=comparison["significant"],
                             baseline_estimate=comparison.get("baseline_estimate",
                                                              comparison["baseline"]))


def metric_label(metric: str, stat: str, scope: str = "system") -> str:
    """Plain words for a (metric, stat, scope), e.g. 'time in the system, 95th percentile (h)'."""
    name, unit = NAMES.get(metric, (metric.replace("_", " "), ""))
    where = "" if scope == "system" else f" — {scope}"
    return f"{name}{where}, {STATS.get(stat, stat)}" + (f" ({unit})" if unit else "")


@dataclass(frozen=True)
class RunFiles:
    """One run's result files read once: provenance, resolved scenario, tables, records."""

    path: Path
    meta: dict[str, Any]
    scenario: Scenario
    summary: pd.DataFrame
    timeseries: pd.DataFrame
    trucks: pd.DataFrame | None
    visits: pd.DataFrame | None

    @property
    def warmup_h(self) -> float:
        return self.scenario.clock.warmup_days * 24

    @property
    def horizon_h(self) -> float:
        return self.scenario.clock.horizon_days * 24


def read_run(path: Path, records: bool = True) -> RunFiles:
    """Read a run directory (summary.json, summary.csv, the hourly series, optional records);
    the series and records from Parquet or CSV, whichever is there (tables.py).
    ``records=False`` leaves the per-truck records unread (None), for the figures alone."""
    path = Path(path)
    doc = json.loads((path / "summary.json").read_text(encoding="utf-8"))
    meta = {k: v for k, v in doc.items() if k not in ("summary", "replication_values")}
    scenario = validate(doc["scenario"], str(path / "summary.json"))
    timeseries = read_table(path, "timeseries")
    if timeseries is None:
        raise FileNotFoundError(f"{path}: no timeseries.parquet or timeseries.csv")
    return RunFiles(path, meta, scenario, pd.read_csv(path / "summary.csv"), timeseries,
                    read_table(path, "trucks") if records else None,
                    read_table(path, "visits") if records else None)


def band(df: pd.DataFrame, by: list[str], value: str = "value") -> pd.DataFrame:
    """Mean over replications of ``value`` per ``by``, with a 95 % Student-t band."""
    g = df.groupby(by, sort=False)[value].agg(["mean", "std", "count"]).reset_index()
    n = g["count"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        half = special.stdtrit(np.where(n > 1, n - 1, np.nan), 0.975) * g["std"] / np.sqrt(n)
    g["low"], g["high"] = g["mean"] - half, g["mean"] + half
    return g


def truck_waits(run: RunFiles) -> pd.DataFrame:
    """Trucks that arrived after the warm-up and left: class, time in system, total wait."""
    assert run.trucks is not None and run.visits is not None
    t = run.trucks
    done = t["turned_away"].isna() & t["exit"].notna() & ~as_bool(t["turned_back"])
    t = t[done & (t["arrival"] >= run.warmup_h)].copy()
    total = run.visits.groupby(["replication", "truck"])["wait"].sum().rename("wait_total")
    t = t.join(total, on=["replication", "id"])
    t["cls"] = t["direction"] + " " + t["cargo"].astype(str)
    t["sojourn"] = t["exit"] - t["arrival"]
    return t
