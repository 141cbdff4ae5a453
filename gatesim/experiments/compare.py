"""Compare scenarios with common random numbers: paired-t on differences.

Every scenario runs with the same seed and replication numbers, so truck *k* of a stream has
the same arrival time, attributes and service draws in each (rng.py): the per-replication
differences are paired, and their variance is far below that of independent runs.

Verdicts agree with the intervals shown beside them. Every row has its own 95 % interval and
an unadjusted verdict (``significant`` exactly when that interval excludes 0). The planner's
answer is the ``SUMMARY_BLOCK`` of m figures, tested together: each gets a Bonferroni interval
at level 1 − 0.05/m (``ci_low_block``, ``ci_high_block``), ``p_adj`` = min(1, m·p), and
``significant_block`` exactly when that interval excludes 0, so the chance of any false
verdict in the block is at most 5 % (Law & Kelton §10.2 on simultaneous intervals).
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
from gatesim.experiments.stability import growth
from gatesim.experiments.stats import paired_difference
from gatesim.scenario.schema import Scenario

COMPARISON_COLUMNS = ["metric", "scope", "stat", "scenario", "baseline", "estimate", "diff",
                      "ci_low", "ci_high", "n", "p_value", "p_adj", "significant"]
BLOCK_COLUMNS = ["in_block", "ci_low_block", "ci_high_block", "significant_block"]
STABILITY_COLUMNS = ["unstable", "growth_per_day", "baseline_unstable", "baseline_growth_per_day"]
SYSTEM_FIGURES = {
    ("throughput_per_day", "system", "mean"): "throughput (trucks/day)",
    ("time_in_system_h", "system", "mean"): "time in system, mean (h)",
    ("time_in_system_h", "system", "p95"): "time in system, p95 (h)",
    ("wait_h", "system", "mean"): "waiting, mean (h)",
    ("in_system_end", "system", "count"): "inside at the end (trucks)",
    ("censored_wait_h", "system", "mean"): "time so far of those (h)",
}
ALPHA = 0.05


def summary_block(roads: list[str]) -> dict[tuple[str, str, str], str]:
    """The figures a planner reads first, judged together (Bonferroni over these m): the six
    system figures, then each road's queue, mean and p95 (the approach roads apart from the
    other side's road, never summed under one name). Key → terminal label."""
    block = dict(SYSTEM_FIGURES)
    for road in roads:
        block[("road_queue", road, "mean")] = f"queue on {road}, mean (trucks)"
        block[("road_queue", road, "p95")] = f"queue on {road}, p95 (trucks)"
    return block


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
    """Rows of paired differences other − base for every statistic both runs have: the
    unadjusted 95 % columns, then the block's (Bonferroni) columns."""
    key = ["metric", "scope", "stat", "replication"]
    merged = base.replications.merge(other.replications, on=key, suffixes=("_a", "_b"))
    block = set(summary_block(base.scenario.roads))
    m = len(block)
    rows = []
    for (metric, scope, stat), g in merged.groupby(["metric", "scope", "stat"], sort=False):
        g = g.sort_values("replication")
        a, b = g["value_a"].to_numpy(), g["value_b"].to_numpy()
        est = float(np.nanmean(g["value_b"])) if g["value_b"].notna().any() else np.nan
        diff, lo, hi, n, p = paired_difference(a, b)
        if (metric, scope, stat) in block:
            _, blo, bhi, _, _ = paired_difference(a, b, level=1 - ALPHA / m)
            p_adj = min(1.0, m * p) if np.isfinite(p) else np.nan
            extra = (p_adj, True, blo, bhi, bool(blo > 0 or bhi < 0))
        else:
            extra = (np.nan, False, np.nan, np.nan, False)
        rows.append((metric, scope, stat, other.scenario.name, base.scenario.name, est, diff,
                     lo, hi, n, p, extra[0], bool(lo > 0 or hi < 0), *extra[1:]))
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
    table = pd.DataFrame(rows, columns=[*COMPARISON_COLUMNS, *BLOCK_COLUMNS])
    stable = {r.scenario.name: r.meta["stability"] for r in results}
    table["unstable"] = [stable[n].get("unstable") for n in table.scenario]
    table["growth_per_day"] = [growth(stable[n]) for n in table.scenario]
    table["baseline_unstable"] = stable[names[0]].get("unstable")
    table["baseline_growth_per_day"] = growth(stable[names[0]])
    base_estimate = results[0].summary.set_index(["metric", "scope", "stat"])["estimate"]
    table["baseline_estimate"] = [base_estimate.get(k, float("nan")) for k in
                                  zip(table.metric, table.scope, table.stat, strict=True)]
    meta = {"baseline": names[0], "scenarios": names, "seed": seed,
            "replications": replications, "alpha": ALPHA,
            "correction": "bonferroni over the summary block (p_adj, *_block); other rows "
                          "unadjusted",
            "summary_block": [list(k) for k in summary_block(scenarios[0].roads)],
            "versions": results[0].meta["versions"],
            "stream_layout_version": results[0].meta["stream_layout_version"],
            "runtime_s": round(sum(r.meta["runtime_s"] for r in results), 3)}
    meta["stability"] = stable
    return Comparison(results, table[[*COMPARISON_COLUMNS, "baseline_estimate", *BLOCK_COLUMNS,
                                      *STABILITY_COLUMNS]], meta)
