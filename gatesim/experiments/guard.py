"""Protecting the machine: work and memory estimates, checked before any work.

An absurd scenario (10⁹ trucks, a century of simulated time, a grid of a million points) is
refused before it starts, with the estimate and the flag that overrides it. An unstable system
is NOT refused: a disruption whose backlog grows without bound is a legitimate study
(run.stability). What may be overwritten is output's concern (output/destination.py).
"""

from __future__ import annotations

import hashlib
import json

from gatesim.errors import GatesimError
from gatesim.scenario.schema import WEEKDAYS, Scenario

MAX_TRUCKS = 50_000_000
"""Trucks a whole run may simulate without --allow-large (about an hour on two cores)."""
MAX_RECORDED = 2_000_000
"""Truck records a run may keep in memory (≈ 1 kB each) before records fall back."""
MAX_REPLICATIONS = 10_000
"""Replications one run may ask for without --allow-large (Law & Kelton rarely need 100)."""
MAX_POINTS = 10_000
"""Points a sweep grid may have; a larger grid is refused before it is built."""
MAX_MEMORY = 8e9
"""Bytes one replication may be expected to need at worst without --allow-large."""
BYTES_PER_TRUCK_INSIDE = 1_700
"""A truck in the system: its generator, events, path and draws (measured, ~1.7 kB)."""
BYTES_PER_INTERVAL = 400
"""One compiled calendar interval with its scheduled change (objects and closures)."""
BYTES_PER_SERIES_VALUE = 8
"""One hourly snapshot of one level (timeseries stored by column)."""


def expected_trucks(s: Scenario) -> float:
    """Expected arrivals in one replication (rates at their largest multipliers)."""
    days = s.clock.horizon_days
    total = float(sum(i.count for i in s.initial_state))
    for a in s.arrivals.values():
        if a.rate_per_day is not None:
            peak = max([1.0, *a.weekday_multipliers.values()])
            peak *= max([1.0, *(m.factor for m in a.date_multipliers)])
            total += a.rate_per_day * days * peak
        else:
            total += days * 24 / a.interarrival.mean_h()
    return total


def expected_memory(s: Scenario) -> float:
    """Bytes one replication may need at worst: every truck still inside at the end (a
    backlog that never clears), the compiled calendars of every pool over the horizon, and
    the hourly series of every level."""
    days = s.clock.horizon_days
    windows = {name: max(sum(len(r.windows) for r in cal.weekly if d in r.days)
                         for d in WEEKDAYS) for name, cal in s.calendars.items()}
    pools = [st.calendar for st in s.stages.values()] + [
        side.calendar for lane in s.lanes.values() for d in ("export", "import")
        if (side := lane.side(d)) is not None]
    intervals = sum(windows.get(c, 0) + 1 for c in pools if c) * (days + 2) + len(pools) * days
    levels = 2 + len(s.yards) + len(s.roads) + 3 * len(pools)
    return (expected_trucks(s) * BYTES_PER_TRUCK_INSIDE + intervals * BYTES_PER_INTERVAL
            + levels * days * 24 * BYTES_PER_SERIES_VALUE)


def check_replications(replications: int, allow_large: bool, option: str = "--replications"
                       ) -> None:
    """Refuse a replication count that is not a positive whole number or is absurd."""
    if replications < 1:
        raise GatesimError(f"{option}: got {replications}; expected at least 1")
    if replications > MAX_REPLICATIONS and not allow_large:
        raise GatesimError(f"{option}: got {replications:,}; expected at most "
                           f"{MAX_REPLICATIONS:,} (pass --allow-large for more)")


def check_work(scenarios: list[Scenario], replications: int, allow_large: bool) -> float:
    """Refuse a run whose expected work or memory is absurd, for every scenario (each of a
    comparison, each point of a sweep); returns the expected trucks of the largest."""
    check_replications(replications, allow_large)
    largest = 0.0
    for s in scenarios:
        trucks = expected_trucks(s) * replications
        largest = max(largest, trucks)
        if allow_large:
            continue
        if trucks > MAX_TRUCKS:
            raise GatesimError(
                f"{s.name}: about {trucks:,.0f} trucks over {replications} replications of "
                f"{s.clock.horizon_days:g} days is more than the {MAX_TRUCKS:,} a run may "
                "take; shorten the horizon or the replications, or pass --allow-large")
        memory = expected_memory(s)
        if memory > MAX_MEMORY:
            raise GatesimError(
                f"{s.name}: one replication may need about {memory / 1e9:,.1f} GB of memory "
                f"(trucks piling up, calendars and hourly series over "
                f"{s.clock.horizon_days:g} days), more than the {MAX_MEMORY / 1e9:g} GB "
                "allowed; shorten the horizon, or pass --allow-large")
    return largest


def records_mode(requested: str, trucks: float) -> tuple[str, str | None]:
    """The records mode to use, falling back when keeping them all would not fit in memory."""
    if requested == "all" and trucks > MAX_RECORDED:
        mode = "sample" if trucks / 10 <= MAX_RECORDED else "none"
        return mode, (f"about {trucks:,.0f} trucks: keeping records of "
                      f"{'every tenth truck' if mode == 'sample' else 'none'} to save memory "
                      "(--records all --allow-large keeps them all)")
    return requested, None


def scenario_hash(doc: dict) -> str:
    """A stable hash of a resolved scenario (the same document gives the same hash)."""
    blob = json.dumps(doc, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()
