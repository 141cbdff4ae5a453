"""A hand-checkable gate: deterministic arrivals and service, a yard that fills, blocking.

Trucks arrive every 2 h (t = 2, 4, …). Stage A (1 server, 1.25 h) waits in yard Y (1 slot,
overflow to the road); stage B (1 server, 3.2 h) waits in yard Z (1 slot, no overflow), so a
truck finishing A while Z is full stays blocked at A. Every time below was worked out by hand.
"""

from __future__ import annotations

import pytest

from gatesim.engine.model import run_replication
from tests.conftest import scenario

DOC = {
    "name": "hand",
    "clock": {"start": "2024-01-01 00:00", "horizon_days": 30 / 24},
    "yards": {"Y": {"slots": 1, "overflow": "road"}, "Z": {"slots": 1}},
    "stages": {
        "A": {"servers": 1, "yard": "Y", "service": {"dist": "constant", "value": 1.25}},
        "B": {"servers": 1, "yard": "Z", "service": {"dist": "constant", "value": 3.2}},
    },
    "arrivals": {"t": {"direction": "export", "cargo": "c",
                       "interarrival": {"dist": "constant", "value": 2}}},
    "routes": {"r": {"direction": "export", "cargo": "c",
                     "steps": [{"stage": "A"}, {"stage": "B"}]}},
}

# (truck, station, ready, start, end, left): A = 0, B = 1. "left" is when the truck freed
# the server: later than "end" when blocked by a full yard Z.
VISITS = [
    (1, 0, 2, 2, 3.25, 3.25), (1, 1, 3.25, 3.25, 6.45, 6.45),
    (2, 0, 4, 4, 5.25, 5.25), (2, 1, 5.25, 6.45, 9.65, 9.65),
    (3, 0, 6, 6, 7.25, 7.25), (3, 1, 7.25, 9.65, 12.85, 12.85),
    (4, 0, 8, 8, 9.25, 9.65), (4, 1, 9.25, 12.85, 16.05, 16.05),
    (5, 0, 10, 10, 11.25, 12.85), (5, 1, 11.25, 16.05, 19.25, 19.25),
    (6, 0, 12, 12.85, 14.1, 16.05), (6, 1, 14.1, 19.25, 22.45, 22.45),
    (7, 0, 14, 16.05, 17.3, 19.25), (7, 1, 17.3, 22.45, 25.65, 25.65),
    (8, 0, 16, 19.25, 20.5, 22.45), (8, 1, 20.5, 25.65, 28.85, 28.85),
]
# (truck, exit, road time): truck 8 finds Y full at 16 (truck 7 waits there for A) and
# waits on the road until truck 7 starts A at 16.05.
EXITS = [(1, 6.45, 0), (2, 9.65, 0), (3, 12.85, 0), (4, 16.05, 0), (5, 19.25, 0),
         (6, 22.45, 0), (7, 25.65, 0), (8, 28.85, 0.05)]


@pytest.fixture(scope="module")
def out():
    return run_replication(scenario(DOC), seed=1, replication=0)


def test_visit_log_matches_hand_computation(out):
    v = out.visits
    log = sorted(
        (int(t), int(s), r, st, e, lf)
        for t, s, r, st, e, lf in zip(v["truck"], v["station"], v["ready"], v["start"],
                                      v["end"], v["left"], strict=True)
        if t <= 8
    )
    assert len(log) == len(VISITS)
    for got, want in zip(log, VISITS, strict=True):
        assert got[:2] == want[:2]
        assert got[2:] == pytest.approx(want[2:], abs=1e-9)


def test_exits_and_road_times(out):
    t = out.trucks
    got = sorted((int(i), x, r) for i, x, r in zip(t["id"], t["exit"], t["road_time"],
                                                   strict=True) if x == x)  # NaN: still inside
    assert [g[0] for g in got] == [e[0] for e in EXITS]
    for g, e in zip(got, EXITS, strict=True):
        assert g[1:] == pytest.approx(e[1:], abs=1e-9)


def test_trucks_still_inside_are_counted(out):
    # arrivals at 2, 4, …, 28 (14 trucks); 8 have left by t = 30, 6 are still inside
    assert len(out.arrivals) == 14
    assert len(out.inside_arrivals) == 6
    assert out.inside_arrivals.tolist() == [18, 20, 22, 24, 26, 28]


def test_blocked_server_counts_as_busy_not_queue(out):
    # stage A is held from 8 to 9.65 by truck 4 (service 8–9.25, blocked 9.25–9.65), etc.;
    # over [0, 30] A is busy (serving or blocked) whenever some truck holds it.
    # A is always on duty with one server, so its utilisation is the share of time it is held
    held = [(2, 3.25), (4, 5.25), (6, 7.25), (8, 9.65), (10, 12.85), (12.85, 16.05),
            (16.05, 19.25), (19.25, 22.45)]
    # after 22.45 trucks 9.. hold A continuously (queue never empties): 22.45 to 30
    busy = sum(e - s for s, e in held) + (30 - 22.45)
    assert out.utilisation["A"] == pytest.approx(busy / 30, abs=1e-9)


def test_costs_and_time_budget_by_hand():
    from gatesim.experiments.metrics import replication_rows

    doc = {**DOC, "cargo": {"c": {"time_budget_h": 10, "waiting_cost_per_day": 24}},
           "yards": {"Y": {"slots": 1, "overflow": "road", "cost_per_slot_year": 365},
                     "Z": {"slots": 1, "cost_per_slot_year": 730}}}
    rows = {(m, sc, st): v for m, sc, st, v in replication_rows(
        run_replication(scenario(doc), seed=1, replication=0))}
    # truck-hours inside [0, 30]: 69.2 for trucks 1-8 (exit - arrival), 42 for trucks 9-14
    # still inside (30 - 18, 30 - 20, …); cost 1 per truck-hour over 1.25 days
    assert rows[("waiting_cost_per_day", "system", "mean")] == pytest.approx(111.2 / 1.25)
    assert rows[("capacity_cost_per_day", "system", "mean")] == pytest.approx(3.0)
    assert rows[("total_cost_per_day", "system", "mean")] == pytest.approx(111.2 / 1.25 + 3)
    # over 10 h: trucks 6, 7, 8 (10.45, 11.65, 12.85 h) and truck 9, inside for 12 h
    assert rows[("over_time_budget", "c", "share")] == pytest.approx(4 / 14)
