"""The validation cases of day-to-day variability (priority classes, stoppages, a random
daily cap, common random numbers) pass their quick runs; a random daily cap moves trucks
exactly as the day-level recursion says, day by day."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gatesim.engine.model import run_replication
from gatesim.scenario.loader import load_scenario
from gatesim.validation import suite as validation

NEW = ("priority", "stoppage", "daily_cap", "stoppage_crn")
"""Their quick runs take 0.4 to 4 s on one core (priority the longest)."""


def _case(name: str) -> validation.Case:
    return next(c for c in validation.CASES if c.name == name)


@pytest.mark.parametrize("name", NEW)
def test_quick_case_passes(name):
    rows = pd.DataFrame(validation.run_case(_case(name), quick=True))
    assert len(rows) == len(_case(name).checks)
    assert rows["passed"].all(), "\n" + validation.format_table(rows)


def test_new_cases_are_registered():
    names = [c.name for c in validation.CASES]
    assert set(names) >= set(NEW) and len(names) == len(set(names))
    crn = _case("stoppage_crn")
    assert isinstance(crn, validation.CrnCase) and crn.checks[0].theory == 1.5
    assert crn.variant_scenario().stoppages["outage"].rate_per_day == 2 * (
        crn.scenario().stoppages["outage"].rate_per_day)


def test_crn_row_fits_the_table():
    crn = _case("stoppage_crn")
    small = validation.CrnCase(crn.name, crn.file, crn.checks, validation.Size(4, 0.5),
                               crn.seed, variant=crn.variant)
    row = validation.run_crn(small, quick=True)
    assert list(row) == validation.COLUMNS
    assert row["theory"] == 1.5 and row["passed"] == (row["simulated"] >= 1.5)
    assert row["rel_error"] == pytest.approx(row["simulated"] / 1.5 - 1)
    assert np.isnan(row["ci_low"]) and np.isnan(row["half_width_rel"])  # a ratio, no interval
    table = validation.format_table(pd.DataFrame([row], columns=validation.COLUMNS))
    line = table.splitlines()[1]
    assert line.startswith("stoppage_crn") and "nan" not in line


@pytest.mark.parametrize(("days", "rate", "cap", "cv"), [(80, 100, 110, 0.15), (1500, 2, 4, 0.5)])
def test_daily_cap_days_follow_the_lindley_recursion_exactly(days, rate, cap, cv):
    """At 100 trucks a day against a cap of 110 varied by a gamma factor (cv 0.15), and in
    the validation case (days without any cap among them), every cap day n:
    crossings_n = min(C_n, B_(n-1) + A_n) and B_n = max(0, B_(n-1) + A_n - C_n), with C_n the
    engine's cap of the day, A_n the arrivals in it and B_n the trucks that arrived before
    its end and were admitted after it (or not by the horizon)."""
    s = load_scenario(validation.CASES_DIR / "daily_cap.yaml", [
        f"clock.horizon_days={days}", "clock.warmup_days=0",
        f"arrivals.trucks.rate_per_day={rate}", f"lanes.gate.export.daily_cap.total={cap}",
        f"lanes.gate.export.cap_factor.cv={cv}"])
    out = run_replication(s, 2024, 0)
    v, t = out.visits, out.trucks
    admitted = dict(zip(v["truck"].astype(int).tolist(), v["start"].tolist(), strict=True))
    arrival = t["arrival"]
    start = np.array([admitted.get(int(i), np.inf) for i in t["id"]])
    caps = out.daily_caps["gate.export"]
    days -= 1  # the last day ends at the horizon, when some truck may still be crossing
    assert len(caps) >= days and len(set(caps)) > 5
    b_prev, capped, backlogged = 0, 0, 0
    for n in range(days):
        lo, hi = 24.0 * n, 24.0 * (n + 1)
        a = int(np.sum((arrival >= lo) & (arrival < hi)))
        crossed = int(np.sum((start >= lo) & (start < hi)))
        b = int(np.sum((arrival < hi) & (start >= hi)))
        c = caps[n]
        assert (crossed, b) == (min(c, b_prev + a), max(0, b_prev + a - c)), f"day {n}"
        capped += crossed == c
        backlogged += b > 0
        b_prev = b
    assert capped > 10 and backlogged > 10  # both regimes seen
    days_of = validation.CapDays.of(out, "gate.export")
    assert len(days_of.end) == days
    assert days_of.backlog.tolist() == [
        int(np.sum((arrival < e) & (start >= e))) for e in days_of.end]
    assert days_of.admitted.tolist() == [
        int(np.sum((start >= e - 24) & (start < e))) for e in days_of.end]
    assert days_of.arrived.tolist() == [
        int(np.sum((arrival >= e - 24) & (arrival < e))) for e in days_of.end]


def test_cargo_wait_is_the_visits_wait_of_that_cargo():
    s = load_scenario(validation.CASES_DIR / "priority.yaml", ["clock.horizon_days=2"])
    out = run_replication(s, 5, 0)
    v, t = out.visits, out.trucks
    cargo = {int(i): out.names["classes"][int(c)][1] for i, c in zip(t["id"], t["cls"],
                                                                      strict=True)}
    waits = {"fresh": [], "general": []}
    for truck, ready, start in zip(v["truck"], v["ready"], v["start"], strict=True):
        if ready >= out.warmup_h:
            waits[cargo[int(truck)]].append(start - ready)
    for name, w in waits.items():
        assert validation.CargoWait("server", name)(out, {}) == pytest.approx(np.mean(w))
    # priority served: the fresh trucks wait far less than the general ones
    assert np.mean(waits["fresh"]) < 0.5 * np.mean(waits["general"])
