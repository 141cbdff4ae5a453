"""Compare scenarios with common random numbers: paired-t on differences, Holm-adjusted.

Every scenario runs with the same seed and replication numbers, so truck *k* of a stream has
the same arrival time, attributes and service draws in each (rng.py): the per-replication
differences are paired, and their variance is far below that of independent runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from gatesim.errors import GatesimError
from gatesim.experiments.checkpoint import Checkpoint
from gatesim.experiments.executors import Executor, LocalExecutor
from gatesim.experiments.run import Runner, RunResult, auto_warmup, run, with_warmup
from gatesim.experiments.stats import holm, paired_difference
from gatesim.scenario.schema import Scenario

COMPARISON_COLUMNS = ["metric", "scope", "stat", "scenario", "baseline", "estimate", "diff",
                      "ci_low", "ci_high", "n", "p_value", "p_adj", "significant"]
PRIMARY = [
    ("time_in_system_h", "system", "mean", "time in system, mean (h)"),
    ("time_in_system_h", "system", "p95", "time in system, p95 (h)"),
    ("throughput_per_day", "system", "mean", "throughput (trucks/day)"),
    ("road_queue", "system", "mean", "road queue, mean (trucks)"),
    ("in_system_end", "system", "count", "backlog at the end (trucks)"),
]
ALPHA = 0.05


@dataclass
class Comparison:
    """The runs of each scenario (baseline first) and the table of paired differences."""

    results: list[RunResult]
    table: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return [r.scenario.name for r in self.results]


def differences(base: RunResult, other: RunResult) -> list[tuple]:
    """Rows of paired differences other − base for every statistic both runs have."""
    key = ["metric", "scope", "stat", "replication"]
    merged = base.replications.merge(other.replications, on=key, suffixes=("_a", "_b"))
    rows = []
    for (metric, scope, stat), g in merged.groupby(["metric", "scope", "stat"], sort=False):
        g = g.sort_values("replication")
        est = float(np.nanmean(g["value_b"])) if g["value_b"].notna().any() else np.nan
        diff, lo, hi, n, p = paired_difference(g["value_a"].to_numpy(), g["value_b"].to_numpy())
        rows.append((metric, scope, stat, other.scenario.name, base.scenario.name, est, diff,
                     lo, hi, n, p))
    return rows


def compare(scenarios: list[Scenario], replications: int = 10, seed: int = 12345,
            workers: int = 1, executor: Executor | None = None, progress: bool = False,
            records: str = "all", checkpoints: Callable[[Scenario], Checkpoint] | None = None
            ) -> Comparison:
    """Run every scenario with common random numbers and compare each with the first."""
    if len(scenarios) < 2:
        raise GatesimError("compare needs at least two scenarios")
    names = [s.name for s in scenarios]
    if len(set(names)) != len(names):
        raise GatesimError(f"compare: scenario names must differ, got {names}")
    if scenarios[0].clock.warmup_days == "auto":
        # one warm-up for all, chosen on the baseline, so the statistics cover the same days
        pilot = Runner(executor or LocalExecutor(workers), progress)
        days = auto_warmup(pilot, scenarios[0], seed, replications)["days"]
        scenarios = [with_warmup(s, days) if s.clock.warmup_days == "auto" else s
                     for s in scenarios]
    results = [run(s, replications, seed, workers, executor, progress=progress, records=records,
                   checkpoint=checkpoints(s) if checkpoints else None) for s in scenarios]
    rows = [row for other in results[1:] for row in differences(results[0], other)]
    table = pd.DataFrame(rows, columns=COMPARISON_COLUMNS[:-2])
    table["p_adj"] = holm(table["p_value"].to_numpy())
    table["significant"] = table["p_adj"] < ALPHA
    base_estimate = results[0].summary.set_index(["metric", "scope", "stat"])["estimate"]
    table["baseline_estimate"] = [base_estimate.get(k, float("nan")) for k in
                                  zip(table.metric, table.scope, table.stat, strict=True)]
    meta = {"baseline": names[0], "scenarios": names, "seed": seed,
            "replications": replications, "alpha": ALPHA, "correction": "holm",
            "versions": results[0].meta["versions"],
            "stream_layout_version": results[0].meta["stream_layout_version"],
            "runtime_s": round(sum(r.meta["runtime_s"] for r in results), 3)}
    return Comparison(results, table[[*COMPARISON_COLUMNS, "baseline_estimate"]], meta)


def primary_table(c: Comparison) -> str:
    """A terminal table of the primary metrics: baseline, scenario, difference [95 % CI]."""
    t = c.table.set_index(["metric", "scope", "stat", "scenario"])
    lines = []
    for other in c.names[1:]:
        lines.append(f"{other} vs {c.names[0]} (common random numbers, Holm-adjusted p):")
        lines.append(f"  {'':30s} {'baseline':>10s} {'scenario':>10s} {'difference [95% CI]':>30s}")
        for metric, scope, stat, label in PRIMARY:
            if (metric, scope, stat, other) not in t.index:
                continue
            row = t.loc[(metric, scope, stat, other)]
            ci = f"{row['diff']:+.2f} [{row.ci_low:+.2f}, {row.ci_high:+.2f}]"
            mark = " *" if row.significant else ""
            lines.append(f"  {label:30s} {row.baseline_estimate:10.2f} {row.estimate:10.2f} "
                         f"{ci:>30s}{mark}")
    return "\n".join(lines)
