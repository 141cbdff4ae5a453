"""One replication's accounts and monitors → rows of (metric, scope, stat, value).

Tallies (waits, times in system) cover trucks that arrived after the warm-up; levels (queues,
yards, roads) are time-weighted over [warm-up, horizon]; counts cover [warm-up, horizon].
Trucks still inside at the horizon are not dropped: their time so far is ``censored_wait_h``.
Quantiles of tallies use the log-binned method of ``monitors.Tally`` (≤ 0.5 % relative error)
in every records mode.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from gatesim.engine.monitors import Tally
from gatesim.engine.records import ReplicationOutput

TALLY_STATS = ("mean", "p50", "p90", "p95", "max")
LEVEL_METRICS = ("in_system", "yard_occupancy", "road_queue", "queue_length", "crossing")
"""Time-weighted levels reported; ``crossing`` counts trucks on a lane, including those that
have crossed and wait at its far end for room in the next yard; ``yard_occupancy`` counts the
slots taken, including those kept by trucks in service that come straight back."""
HORIZON_DEPENDENT_IF_UNSTABLE = frozenset({
    "time_in_system_h", "wait_h", "road_time_h", "turned_back_time_h", "censored_wait_h",
    *LEVEL_METRICS, "in_system_end", "over_time_budget", "waiting_cost_per_day",
    "total_cost_per_day"})
"""Metrics whose every statistic keeps growing with the horizon while a backlog grows: the
tallies count only trucks that got out, the levels and costs average a rising queue."""
TURNED_BACK_SCOPES = ("before_crossing", "after_crossing")
"""Scopes of ``turned_back`` and ``turned_back_time_h`` besides 'system': trucks turned back
before they crossed (a load caught at inspection) and after (a load the other side refused)."""
Row = tuple[str, str, str, float]


def tally(metric: str, scope: str, t: Tally) -> Iterator[Row]:
    """Mean, percentiles and maximum of a tally (NaN when it saw nothing)."""
    if t.n == 0:
        for stat in TALLY_STATS:
            yield metric, scope, stat, math.nan
        return
    values = (t.mean, t.quantile(0.5), t.quantile(0.9), t.quantile(0.95), t.max)
    for stat, v in zip(TALLY_STATS, values, strict=True):
        yield metric, scope, stat, float(v)


def class_scopes(names: dict, cls: int) -> list[str]:
    """The scopes a truck class counts in besides 'system': direction, cargo, site,
    and each attribute as ``name=true|false``."""
    direction, cargo, site = names["classes"][cls]
    scopes = [direction, cargo]
    if site is not None:
        scopes.append(f"site={site}")
    attrs = names["class_attributes"][cls]
    scopes += [f"{k}={str(v).lower()}" for k, v in attrs.items()]
    return scopes


def replication_rows(out: ReplicationOutput) -> list[Row]:
    """Every contract metric of one replication."""
    return list(_rows(out))


def _rows(out: ReplicationOutput) -> Iterator[Row]:
    acc, names = out.accounts, out.names
    days = (out.horizon_h - out.warmup_h) / 24

    exits: dict[str, int] = {}
    sojourn: dict[str, Tally] = {}
    for cls, (count, t) in enumerate(zip(acc.class_exits, acc.class_sojourn, strict=True)):
        for scope in ["system", *class_scopes(names, cls)]:
            exits[scope] = exits.get(scope, 0) + count
            sojourn.setdefault(scope, Tally()).merge(t)
    ordered = ["system", *sorted(s for s in exits if s != "system")]
    for scope in ordered:
        yield "throughput_per_day", scope, "mean", exits[scope] / days
    lanes: dict[str, int] = {}
    for i, scope in enumerate(names["stations"]):
        if names["station_is_lane"][i]:
            lane = names["station_lane"][i]
            lanes[lane] = lanes.get(lane, 0) + out.crossed[i]
            yield "throughput_per_day", scope, "mean", out.crossed[i] / days
    for lane, n in lanes.items():
        yield "throughput_per_day", lane, "mean", n / days
    for scope in ordered:
        yield from tally("time_in_system_h", scope, sojourn[scope])

    yield from tally("wait_h", "system", acc.wait_system)
    for i, scope in enumerate(names["stations"]):
        yield from tally("wait_h", scope, acc.station_wait[i])
    yield from tally("road_time_h", "system", acc.road)

    for (metric, scope), s in out.levels.items():
        if metric in LEVEL_METRICS:
            for stat in TALLY_STATS:
                yield metric, scope, stat, getattr(s, stat)
    for scope, u in out.utilisation.items():
        yield "utilisation", scope, "mean", u
    for scope, hours in out.stopped_h.items():
        yield "stopped_h", scope, "total", hours
        yield "stopped_h", scope, "share", hours / (out.horizon_h - out.warmup_h)

    refused = sum(acc.turned_away.values())
    yield "turned_away", "system", "count", float(refused)
    yield "turned_away", "system", "per_day", refused / days
    for place, n in sorted(acc.turned_away.items()):
        yield "turned_away", names["places"][place], "count", float(n)
    yield "in_system_end", "system", "count", float(out.inside)
    yield from tally("censored_wait_h", "system", acc.censored)
    yield "censored_wait_h", "system", "count", float(acc.censored.n)

    yield "turned_back", "system", "count", float(acc.back_count)
    yield "turned_back", "system", "per_day", acc.back_count / days
    yield from tally("turned_back_time_h", "system", acc.back)
    for scope, t in zip(TURNED_BACK_SCOPES, (acc.back_before, acc.back_after), strict=True):
        yield "turned_back", scope, "count", float(t.n)
        yield "turned_back", scope, "per_day", t.n / days
        yield from tally("turned_back_time_h", scope, t)

    waiting_cost = 0.0
    for name, account in acc.cargo.items():
        if account.budget_h is not None:
            share = account.over / account.judged if account.judged else math.nan
            yield "over_time_budget", name, "share", share
        waiting_cost += account.truck_hours * names["cargo"][name]["waiting_cost_per_day"] / 24
    capacity = names["capacity_cost_per_day"]
    yield "waiting_cost_per_day", "system", "mean", waiting_cost / days
    yield "capacity_cost_per_day", "system", "mean", capacity
    yield "total_cost_per_day", "system", "mean", waiting_cost / days + capacity
