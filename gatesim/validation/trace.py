"""A deterministic validation case: a replayed trace against an exact FIFO recursion.

``cases/replay_trace.yaml`` replays 100 trucks (``cases/replay_trace.csv``: each truck's
arrival and service time) through one stage whose calendar puts 1, 3, 1, then 10 servers on
duty, switching at t = 15, 30 and 50 h; a server going off duty finishes its truck. Nothing
is random, so every departure is known exactly: :func:`fifo_departures` computes them with a
first-come-first-served multi-server recursion that shares no code with the engine, and
:func:`max_departure_error` runs the case through the ordinary engine and returns the largest
difference (expected 0; the check allows ``TOLERANCE_H``).

The trace's times are multiples of 2^-12 h written out exactly (``tools/make_replay_trace.py``
generated it), so every sum of them is exact in floating point and no arrival, departure or
server change coincides with another: the check tests the queue's logic, not rounding or the
order of simultaneous events.
"""

from __future__ import annotations

import csv
import heapq
import math
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gatesim.engine.model import run_replication
from gatesim.scenario.loader import load_scenario
from gatesim.scenario.schema import Scenario

CASES_DIR = Path(__file__).with_name("cases")
FILE = "replay_trace.yaml"
STREAM = "trucks"
STAGE = "server"
TRUCKS = 100
SCHEDULE: tuple[tuple[float, int], ...] = ((0.0, 1), (15.0, 3), (30.0, 1), (50.0, 10))
"""(from hour, servers on duty): the issue's schedule, which the case's calendar encodes."""
TOLERANCE_H = 1e-9


def fifo_departures(arrivals: Sequence[float], services: Sequence[float],
                    schedule: Sequence[tuple[float, int]] = SCHEDULE) -> list[float]:
    """Each truck's departure from a FIFO queue whose server count follows ``schedule``.

    ``arrivals`` in arrival order; ``schedule = [(0, c0), (t1, c1), ...]`` gives c(t) from
    each time on. A truck starts at the first instant, no earlier than its arrival and the
    previous truck's start, at which fewer than c(t) trucks are in service; a truck leaving
    at t frees its server at t, and a server going off duty first finishes its truck (so the
    trucks in service may outnumber c(t) for a while). Walks from event to event with a heap
    of the departures in service: O(n log n) plus the server changes.
    """
    times = [float(t) for t, _ in schedule]
    counts = [c for _, c in schedule]
    if not times or times[0] > 0 or times != sorted(times):
        raise ValueError("schedule: sorted (hour, servers) pairs from hour 0")
    busy: list[float] = []  # departures of the trucks in service (a min-heap)
    start = -math.inf
    out = []
    for arrival, service in zip(arrivals, services, strict=True):
        t = max(arrival, start)  # first come, first served: never before the truck ahead
        while True:
            while busy and busy[0] <= t:
                heapq.heappop(busy)
            k = bisect_right(times, t)
            if len(busy) < counts[k - 1]:
                break
            t = min(busy[0] if busy else math.inf, times[k] if k < len(times) else math.inf)
            if t == math.inf:
                raise ValueError(f"a truck arriving at {arrival} is never served")
        start = t
        heapq.heappush(busy, t + service)
        out.append(t + service)
    return out


def read_trace(path: Path) -> tuple[list[float], list[float]]:
    """(arrival hours, service hours) of a replay file with columns ``hours`` and
    ``service:server``, in arrival order (rows sorted stably by time, as a replay is)."""
    with Path(path).open(encoding="utf-8-sig", newline="") as f:
        rows = [(float(r["hours"]), float(r[f"service:{STAGE}"])) for r in csv.DictReader(f)]
    rows.sort(key=lambda r: r[0])
    return [a for a, _ in rows], [s for _, s in rows]


def scenario(overrides: Sequence[str] = ()) -> Scenario:
    """The case's scenario (with ``--set`` style overrides, e.g. another calendar)."""
    return load_scenario(CASES_DIR / FILE, list(overrides))


def trace_of(s: Scenario) -> tuple[list[float], list[float]]:
    """The trace the scenario replays (its stream's file, wherever the scenario lives)."""
    replay = s.arrivals[STREAM].replay
    assert replay is not None
    return read_trace(Path(replay))


@dataclass(frozen=True)
class EngineTrace:
    """What the engine did with the trace: arrival and departure (end of service at the
    stage) of every truck that was served, in truck id (= arrival) order."""

    arrivals: np.ndarray
    departures: np.ndarray
    inside: int
    """Trucks still in the system at the horizon."""


def engine_trace(s: Scenario, seed: int = 0) -> EngineTrace:
    """Run one replication of ``s`` through the ordinary engine, records of every truck."""
    out = run_replication(s, seed, 0, records="all")
    v, t = out.visits, out.trucks
    mine = v["station"] == out.names["stations"].index(STAGE)
    served = np.argsort(v["truck"][mine], kind="stable")
    by_id = np.argsort(t["id"], kind="stable")
    return EngineTrace(arrivals=t["arrival"][by_id], departures=v["end"][mine][served],
                       inside=out.inside)


def departure_errors(s: Scenario | None = None, seed: int = 0,
                     schedule: Sequence[tuple[float, int]] = SCHEDULE) -> np.ndarray:
    """Engine departure − reference departure, truck by truck (arrival order); ValueError
    when the engine did not bring or serve every truck of the trace."""
    s = scenario() if s is None else s
    arrivals, services = trace_of(s)
    expected = fifo_departures(arrivals, services, schedule)
    got = engine_trace(s, seed)
    if len(got.arrivals) != len(arrivals) or len(got.departures) != len(arrivals):
        raise ValueError(f"the engine brought {len(got.arrivals)} and served "
                         f"{len(got.departures)} of {len(arrivals)} trucks "
                         f"({got.inside} still inside at the horizon)")
    if not np.array_equal(got.arrivals, np.asarray(arrivals)):
        raise ValueError("the engine's arrival times are not the trace's")
    return got.departures - np.asarray(expected)


def max_departure_error(seed: int = 0) -> float:
    """Largest |engine − reference| departure (hours) of the case; inf when a truck is
    missing. ``seed`` changes only draws the trace overrides, so not the answer."""
    try:
        return float(np.max(np.abs(departure_errors(seed=seed))))
    except ValueError:
        return math.inf


def trace_row(seed: int = 0) -> dict:
    """The case as a row of the validation table (the suite's COLUMNS): theory 0, simulated
    the largest departure error, no interval; passed when within ``TOLERANCE_H``."""
    err = max_departure_error(seed)
    return {"case": "replay_trace", "metric": "max |departure error| h", "theory": 0.0,
            "simulated": err, "ci_low": math.nan, "ci_high": math.nan, "rel_error": err,
            "half_width_rel": math.nan, "passed": bool(err <= TOLERANCE_H)}
