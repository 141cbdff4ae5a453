"""Protecting the machine and the user's results: work estimates, memory, overwrites.

An absurd scenario (10⁹ trucks, a century of simulated time) is refused before it starts,
with the estimate and the flag that overrides it. An unstable system is NOT refused: a
disruption whose backlog grows without bound is a legitimate study (experiment.stability).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from gatesim.errors import GatesimError
from gatesim.scenario.schema import Scenario

MAX_TRUCKS = 50_000_000
"""Trucks a whole run may simulate without --allow-large (about an hour on two cores)."""
MAX_RECORDED = 2_000_000
"""Truck records a run may keep in memory (≈ 1 kB each) before records fall back."""


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


def check_work(s: Scenario, replications: int, allow_large: bool) -> float:
    """Refuse a run whose expected work is absurd; returns the expected trucks in all."""
    trucks = expected_trucks(s) * replications
    if trucks > MAX_TRUCKS and not allow_large:
        raise GatesimError(
            f"{s.name}: about {trucks:,.0f} trucks over {replications} replications of "
            f"{s.clock.horizon_days:g} days is more than the {MAX_TRUCKS:,} a run may take; "
            "shorten the horizon or the replications, or pass --allow-large")
    return trucks


def records_mode(requested: str, trucks: float) -> tuple[str, str | None]:
    """The records mode to use, falling back when keeping them all would not fit in memory."""
    if requested == "all" and trucks > MAX_RECORDED:
        mode = "sample" if trucks / 10 <= MAX_RECORDED else "none"
        return mode, (f"about {trucks:,.0f} trucks: keeping records of "
                      f"{'every tenth truck' if mode == 'sample' else 'none'} to save memory "
                      "(--records all --allow-large keeps them all)")
    return requested, None


def refuse_existing(out: Path, force: bool) -> None:
    """Never overwrite results silently: an existing results directory needs --force."""
    if out.exists() and any(out.iterdir()) and not force:
        raise GatesimError(f"{out} already holds results; choose another --out, or pass "
                           "--force to replace them")


def scenario_hash(doc: dict) -> str:
    """A stable hash of a resolved scenario (the same document gives the same hash)."""
    blob = json.dumps(doc, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()
