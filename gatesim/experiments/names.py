"""The result names a scenario can produce: (metric, scope, stat) keys, known before any run.

``--metric`` and ``--target`` name a row of summary.csv; a name that the scenario cannot
produce is refused before any replication runs, with the valid names listed, instead of being
found (or silently missing) after all the work. The scopes follow metrics.py: the system,
each stage, yard, road, lane and lane side, each direction, cargo class, site and attribute.
"""

from __future__ import annotations

import difflib

from gatesim.errors import GatesimError
from gatesim.experiments.metrics import TURNED_BACK_SCOPES
from gatesim.scenario.references import truck_values
from gatesim.scenario.resources import stopped_scopes
from gatesim.scenario.schema import Scenario

TALLY = ("mean", "p50", "p90", "p95", "max")


def scopes(s: Scenario) -> dict[str, list[str]]:
    """The scopes of each kind in scenario ``s``."""
    sides = [f"{name}.{d}" for name, lane in s.lanes.items() for d in ("export", "import")
             if lane.side(d) is not None]
    attrs = sorted(set(s.attributes) | {k for a in s.arrivals.values() for k in a.attributes})
    can = truck_values(s)
    classes = sorted(can["direction"]) + sorted(can["cargo"]) + [
        f"site={x}" for x in sorted(can["site"])] + [
        f"{k}={v}" for k in attrs for v in ("true", "false")]
    return {"stations": [*s.stages, *sides], "lanes": [*s.lanes, *sides],
            "yards": list(s.yards), "roads": list(s.roads), "classes": classes,
            "budgets": [k for k, c in s.cargo.items() if c.time_budget_h is not None]}


def result_keys(s: Scenario) -> dict[str, tuple[list[str], tuple[str, ...]]]:
    """metric → (its scopes, its stats) for scenario ``s``."""
    k = scopes(s)
    system = ["system"]
    return {
        "throughput_per_day": ([*system, *k["classes"], *k["lanes"]], ("mean",)),
        "time_in_system_h": ([*system, *k["classes"]], TALLY),
        "wait_h": ([*system, *k["stations"]], TALLY),
        "road_time_h": (system, TALLY),
        "in_system": (system, TALLY),
        "yard_occupancy": (k["yards"], TALLY),
        "road_queue": ([*system, *k["roads"]], TALLY),
        "queue_length": (k["stations"], TALLY),
        "crossing": ([x for x in k["lanes"] if "." in x], TALLY),
        "utilisation": (k["stations"], ("mean",)),
        "stopped_h": (stopped_scopes(s), ("total", "share")),
        "turned_away": ([*system, *k["yards"]], ("count", "per_day")),
        "in_system_end": (system, ("count",)),
        "censored_wait_h": (system, (*TALLY, "count")),
        "turned_back": ([*system, *TURNED_BACK_SCOPES], ("count", "per_day")),
        "turned_back_time_h": ([*system, *TURNED_BACK_SCOPES], TALLY),
        "over_time_budget": (k["budgets"], ("share",)),
        "waiting_cost_per_day": (system, ("mean",)),
        "capacity_cost_per_day": (system, ("mean",)),
        "total_cost_per_day": (system, ("mean",)),
    }


def _listed(names: list[str] | tuple[str, ...]) -> str:
    shown = ", ".join(names[:12])
    return shown + (f" … ({len(names)} in all)" if len(names) > 12 else "") if names else "none"


def did_you_mean(word: str, names: list[str] | tuple[str, ...]) -> str:
    """'did you mean 'x'? ' for the closest name, or nothing when none is close."""
    close = difflib.get_close_matches(word, list(names), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}? " if close else ""


def check_key(s: Scenario, option: str, metric: str, scope: str, stat: str) -> None:
    """Refuse a (metric, scope, stat) that scenario ``s`` cannot produce, naming valid ones."""
    keys = result_keys(s)
    if metric not in keys:
        known = sorted(keys)
        raise GatesimError(f"{option}: no metric {metric!r}; "
                           f"{did_you_mean(metric, known)}(metrics: {_listed(known)})")
    valid_scopes, stats = keys[metric]
    if scope not in valid_scopes:
        raise GatesimError(f"{option}: metric {metric} has no scope {scope!r} in {s.name}; "
                           f"{did_you_mean(scope, valid_scopes)}(scopes: {_listed(valid_scopes)})")
    if stat not in stats:
        raise GatesimError(f"{option}: metric {metric} has no statistic {stat!r}; "
                           f"{did_you_mean(stat, stats)}(statistics: {_listed(stats)})")
