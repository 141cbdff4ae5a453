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
    left = t["turned_away"] < 0
    exit_in = left & (t["exit"] >= warm)
    after = left & (t["arrival"] >= warm)

    yield "throughput_per_day", "system", "mean", exit_in.sum() / days
    for labels in (direction, cargo):
        for label in sorted(set(labels)):
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
    for labels in (direction, cargo):
        for label in sorted(set(labels)):
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
