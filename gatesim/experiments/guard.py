"""Protecting the machine: work and memory estimates, checked before any work.

An absurd scenario (10⁹ trucks, a century of simulated time, a grid of a million points) is
refused before it starts, with the estimate and the flag that overrides it. An unstable system
is NOT refused: a disruption whose backlog grows without bound is a legitimate study
(run.stability). What may be overwritten is output's concern (output/destination.py).
"""

from __future__ import annotations

import hashlib
import json
import math

import numpy as np

from gatesim.errors import GatesimError
from gatesim.scenario.replay import replay_of
from gatesim.scenario.resources import factor_refs, resolve
from gatesim.scenario.schema import WEEKDAYS, ArrivalStream, Scenario
from gatesim.scenario.variability import Factor

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
"""One compiled calendar interval with its scheduled change (objects and closures); also one
day's entry of a resource's daily factor (its piece of calendar, headway or cap change)."""
BYTES_PER_SERIES_VALUE = 8
"""One hourly snapshot of one level (timeseries stored by column)."""
BYTES_PER_RATE_HOUR = 64
"""One hour of a rate stream's arrival table: its rate and cumulative rate (two floats in
Python lists, 32 B each)."""
BYTES_PER_REPLAY_ROW = 64
"""One row of a replay file: its time and kind in the parsed arrays (12 B) and as Python
lists in the engine (40 B), with the parse's transient peak (measured, 52 B without it)."""
BYTES_PER_REPLAY_CELL = 40
"""One fixed service or crossing time of a replay row: 8 B in its array, 32 B as a list item."""
BYTES_PER_STOPPAGE = 120
"""One stoppage kept on one resource (its (start, end) span) or one dated stoppage's process."""
TAIL_SDS = 3.0
"""How far above the mean a random daily factor may plausibly push a horizon's demand, in
standard deviations of its total over the horizon."""


def factor_cv(f: Factor) -> float:
    """A factor's coefficient of variation (its values' spread for an empirical law)."""
    if f.values is None:
        return float(f.cv or 0.0)
    top = max(f.values)  # scaled first: values near 1e308 would overflow their sum
    if not top > 0:
        return 0.0
    xs = np.asarray(f.values, dtype=float) / top
    return float(xs.std() / xs.mean())


def demand_spread(f: Factor, days: float) -> float:
    """An upper bound on the standard deviation of the sum of a factor's values over ``days``
    days (a share of a day counts as a share of a day's value). Day values have mean 1 and
    standard deviation cv; days k apart are correlated at most autocorrelation**k (a Gaussian
    copula's maximal correlation is the normals'), so the sum's variance is at most
    cv² · days · (1 + φ)/(1 − φ), and never above (cv · days)² (all days equal)."""
    phi = f.autocorrelation
    return factor_cv(f) * min(days, math.sqrt(days * (1 + phi) / (1 - phi)))


def stream_demand(s: Scenario, name: str, a: ArrivalStream) -> tuple[float, float]:
    """(mean, standard deviation bound) of one stream's trucks in one replication: a replay
    brings its rows before the horizon, exactly; a rate its largest multipliers all the time,
    with the spread of its daily factor (mean 1: the mean is unchanged, the tail heavier).

    The work and the memory (every truck still inside at the end) grow with the horizon's
    total, not with its worst day, so the total's spread is what counts: over a one-day
    horizon it is the day's own (mean + 3 cv: 7 times the mean at the largest cv, 2, of a
    gamma or lognormal law, about its 98th percentile); over many days the days average out
    unless they are strongly correlated."""
    days = s.clock.horizon_days
    if a.replay is not None:
        hours = replay_of(s, name).hours  # cached: the loader has read it already
        return float(np.searchsorted(hours, days * 24, side="left")), 0.0
    if a.rate_per_day is None:
        assert a.interarrival is not None
        return days * 24 / a.interarrival.mean_h(), 0.0
    peak = max([1.0, *a.weekday_multipliers.values()])
    peak *= max([1.0, *(m.factor for m in a.date_multipliers)])
    rate = a.rate_per_day * peak
    ref = a.daily_factor
    factor = s.factors.get(ref) if isinstance(ref, str) else ref
    spread = rate * demand_spread(factor, days) if factor is not None else 0.0
    return rate * days, spread


def expected_trucks(s: Scenario, replications: int = 1) -> float:
    """Trucks ``replications`` replications may plausibly bring at most: every stream's mean
    (rates at their largest multipliers, replays' rows before the horizon, the initial
    trucks), plus TAIL_SDS standard deviations of what daily factors add. The spreads of
    several streams are added (as if their factors moved together: a bound whatever they
    share); over independent replications the spread grows as √replications."""
    mean = float(sum(i.count for i in s.initial_state))
    spread = 0.0
    for name, a in s.arrivals.items():
        m, sd = stream_demand(s, name, a)
        mean, spread = mean + m, spread + sd
    return replications * mean + TAIL_SDS * math.sqrt(replications) * spread


def expected_memory(s: Scenario) -> float:
    """Bytes one replication may need at worst: every truck still inside at the end (a
    backlog that never clears), the compiled calendars of every pool (stages, lane sides and
    the doors onto shared acceptances, acceptances) over the horizon with one timetable
    entry a day for each daily factor, each rate stream's hourly arrival table, each replay
    file's rows, the stoppages each resource keeps, and the hourly series of every level."""
    days = s.clock.horizon_days
    windows = {name: max(sum(len(r.windows) for r in cal.weekly if d in r.days)
                         for d in WEEKDAYS) for name, cal in s.calendars.items()}
    sides = [side for lane in s.lanes.values() for d in ("export", "import")
             if (side := lane.side(d)) is not None]
    pools = [st.calendar for st in s.stages.values()] + [side.calendar for side in sides] + [
        acc.calendar for acc in s.acceptances.values()]
    intervals = sum(windows.get(c, 0) + 1 for c in pools if c) * (days + 2) + len(pools) * days
    intervals += sum(1 for _ in factor_refs(s)) * (days + 2)
    rate_hours = sum(1 for a in s.arrivals.values() if a.rate_per_day is not None) * (
        math.ceil(days * 24) + 1)
    rows = 0.0
    for name, a in s.arrivals.items():
        if a.replay is not None:
            replay = replay_of(s, name)
            rows += len(replay.hours) * (BYTES_PER_REPLAY_ROW
                                         + len(replay.fixed) * BYTES_PER_REPLAY_CELL)
    stoppages = 0.0
    stopped: set[str] = set()
    for spec in s.stoppages.values():
        scopes = {sc for target in spec.at for sc in resolve(s, target) or []}
        stopped |= scopes
        stoppages += (spec.rate_per_day * days + len(spec.dated)) * (len(scopes) + 1)
    levels = 2 + len(s.yards) + len(s.roads) + 3 * (len(s.stages) + len(sides)) + len(stopped)
    return (expected_trucks(s) * BYTES_PER_TRUCK_INSIDE + intervals * BYTES_PER_INTERVAL
            + rate_hours * BYTES_PER_RATE_HOUR + rows + stoppages * BYTES_PER_STOPPAGE
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
        trucks = expected_trucks(s, replications)
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
                f"(trucks piling up, calendars, timetables and hourly series over "
                f"{s.clock.horizon_days:g} days), more than the {MAX_MEMORY / 1e9:g} GB "
                "allowed; shorten the horizon, or pass --allow-large")
    return largest


def records_mode(requested: str, trucks: float) -> tuple[str, str | None]:
    """The records mode to use, falling back when the records asked for (all, or the default
    every tenth truck) would not fit in memory."""
    if requested == "all" and trucks > MAX_RECORDED:
        mode = "sample" if trucks / 10 <= MAX_RECORDED else "none"
        return mode, (f"about {trucks:,.0f} trucks: keeping records of "
                      f"{'every tenth truck' if mode == 'sample' else 'none'} to save memory "
                      "(--records all --allow-large keeps them all)")
    if requested == "sample" and trucks / 10 > MAX_RECORDED:
        return "none", (f"about {trucks:,.0f} trucks: keeping records of none to save memory "
                        "(--records sample --allow-large keeps every tenth truck)")
    return requested, None


def scenario_hash(doc: dict) -> str:
    """A stable hash of a resolved scenario (the same document gives the same hash)."""
    blob = json.dumps(doc, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()
