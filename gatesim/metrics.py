"""One replication's records and monitors → rows of (metric, scope, stat, value).

Tallies (waits, times in system) use trucks that arrived after warm-up; levels (queues, yards,
roads) are time-weighted over [warm-up, horizon]. Trucks still inside at the horizon are not
dropped: their elapsed time is reported as ``censored_wait_h``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from gatesim.records import ReplicationOutput

TALLY_STATS = ("mean", "p50", "p90", "p95", "max")
LEVEL_METRICS = {
    "in_system": "in_system",
    "yard_occupancy": "yard_occupancy",
    "road_queue": "road_queue",
    "queue_length": "queue_length",
}
Row = tuple[str, str, str, float]


def tally(metric: str, scope: str, x: np.ndarray) -> Iterator[Row]:
    """Mean and percentiles of a sample (NaN when empty)."""
    if len(x) == 0:
        for stat in TALLY_STATS:
            yield metric, scope, stat, math.nan
        return
    p50, p90, p95 = np.percentile(x, [50, 90, 95])
    for stat, v in zip(TALLY_STATS, (x.mean(), p50, p90, p95, x.max()), strict=True):
        yield metric, scope, stat, float(v)


def replication_rows(out: ReplicationOutput) -> list[Row]:
    """Every contract metric of one replication."""
    return list(_rows(out))


def _rows(out: ReplicationOutput) -> Iterator[Row]:
    t, v, names = out.trucks, out.visits, out.names
    warm, horizon = out.warmup_h, out.horizon_h
    days = (horizon - warm) / 24
    classes = names["classes"]
    cls = t["cls"].astype(np.int64)
    direction = np.array([classes[c][0] for c in cls], dtype=object)
    cargo = np.array([classes[c][1] for c in cls], dtype=object)
    groups = [direction, cargo, *_class_scopes(names, cls)]
    back = t["turned_back"] > 0
    left = (t["turned_away"] < 0) & ~back
    exit_in = left & (t["exit"] >= warm)
    after = left & (t["arrival"] >= warm)

    yield "throughput_per_day", "system", "mean", exit_in.sum() / days
    for labels in groups:
        for label in sorted(set(labels) - {None}):
            yield "throughput_per_day", label, "mean", (exit_in & (labels == label)).sum() / days
    stations = names["stations"]
    is_lane = names["station_is_lane"]
    lane_of = names["station_lane"]
    st = v["station"].astype(np.int64)
    crossed_in = (v["end"] >= warm) & (v["end"] <= horizon)
    lane_counts: dict[str, float] = {}
    for i, scope in enumerate(stations):
        if is_lane[i]:
            n = float((crossed_in & (st == i)).sum())
            lane_counts[lane_of[i]] = lane_counts.get(lane_of[i], 0.0) + n
            yield "throughput_per_day", scope, "mean", n / days
    for lane, n in lane_counts.items():
        yield "throughput_per_day", lane, "mean", n / days

    sojourn = t["exit"] - t["arrival"]
    yield from tally("time_in_system_h", "system", sojourn[after])
    for labels in groups:
        for label in sorted(set(labels) - {None}):
            yield from tally("time_in_system_h", label, sojourn[after & (labels == label)])

    n_ids = len(out.arrivals)
    arrival_of = np.concatenate([[math.nan], out.arrivals])
    v_after = arrival_of[v["truck"].astype(np.int64)] >= warm if n_ids else np.zeros(0, bool)
    wait = v["start"] - v["ready"]
    total_wait = np.bincount(v["truck"].astype(np.int64), weights=wait, minlength=n_ids + 1)
    yield from tally("wait_h", "system", total_wait[t["id"][after].astype(np.int64)])
    for i, scope in enumerate(stations):
        yield from tally("wait_h", scope, wait[v_after & (st == i)])
    yield from tally("road_time_h", "system", t["road_time"][after])

    for (metric, scope), s in out.levels.items():
        if metric in LEVEL_METRICS:
            for stat in TALLY_STATS:
                yield metric, scope, stat, getattr(s, stat)
    for scope, u in out.utilisation.items():
        yield "utilisation", scope, "mean", u

    turned = ~left & (t["arrival"] >= warm)
    yield "turned_away", "system", "count", float(turned.sum())
    yield "turned_away", "system", "per_day", turned.sum() / days
    places = names["places"]
    for k in sorted(set(t["turned_away"][turned].astype(np.int64))):
        yield "turned_away", places[k], "count", float((turned & (t["turned_away"] == k)).sum())
    yield "in_system_end", "system", "count", float(len(out.inside_arrivals))
    censored = horizon - out.inside_arrivals
    yield from tally("censored_wait_h", "system", censored)
    yield "censored_wait_h", "system", "count", float(len(censored))

    back_after = back & (t["arrival"] >= warm)
    yield "turned_back", "system", "count", float(back_after.sum())
    yield "turned_back", "system", "per_day", back_after.sum() / days
    yield from tally("turned_back_time_h", "system", sojourn[back_after])
    yield from _budgets_and_costs(out, t, cargo, after, sojourn, days)


def _class_scopes(names: dict, cls: np.ndarray) -> list[np.ndarray]:
    """Extra scopes per truck: ``site=<name>`` and ``<attribute>=true|false``."""
    out = []
    sites = [c[2] for c in names["classes"]]
    if any(site is not None for site in sites):
        out.append(np.array([f"site={sites[c]}" for c in cls], dtype=object))
    attrs = names["class_attributes"]
    for attr in attrs[0] if attrs else ():
        out.append(np.array([f"{attr}={str(attrs[c][attr]).lower()}" for c in cls], dtype=object))
    return out


def _budgets_and_costs(out: ReplicationOutput, t: dict, cargo: np.ndarray, after: np.ndarray,
                       sojourn: np.ndarray, days: float) -> Iterator[Row]:
    """Perishability (share of trucks over their cargo's time budget) and costs per day."""
    names, warm, horizon = out.names, out.warmup_h, out.horizon_h
    classes = names["classes"]
    inside_cargo = np.array([classes[c][1] for c in out.arrival_classes[out.inside]],
                            dtype=object)
    elapsed = horizon - out.inside_arrivals
    waiting_cost = 0.0
    for name, spec in names["cargo"].items():
        budget = spec["time_budget_h"]
        if budget is not None:
            done = sojourn[after & (cargo == name)]
            still = elapsed[(inside_cargo == name) & (out.inside_arrivals >= warm)]
            n = len(done) + len(still)
            over = (done > budget).sum() + (still > budget).sum()
            yield "over_time_budget", name, "share", over / n if n else math.nan
        rate = spec["waiting_cost_per_day"] / 24
        sel = cargo == name
        spans = np.minimum(t["exit"][sel], horizon) - np.maximum(t["arrival"][sel], warm)
        spans_in = horizon - np.maximum(out.inside_arrivals[inside_cargo == name], warm)
        waiting_cost += rate * (spans[spans > 0].sum() + spans_in[spans_in > 0].sum())
    capacity = names["capacity_cost_per_day"]
    yield "waiting_cost_per_day", "system", "mean", waiting_cost / days
    yield "capacity_cost_per_day", "system", "mean", capacity
    yield "total_cost_per_day", "system", "mean", waiting_cost / days + capacity
