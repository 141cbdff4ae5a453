"""Invariants checked at every event of a feature-complete gate (tests/scenarios/small_gate).

Space: trucks parked in yards + on roads + in service + crossing = trucks in the system, after
every event; each yard's level (the slots taken: parked trucks, and trucks in service keeping
their slot) and each road's level equals the trucks that hold a place there, none is negative
and no yard is above its slots. Trucks: arrived = left + turned away + inside. Calendars: no
service starts while closed or for a truck a restricted window does not admit; the other side's
daily cap is never exceeded.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from gatesim.engine.model import Model
from gatesim.scenario.calendar import compile_calendar
from gatesim.scenario.loader import load_scenario
from tests.conftest import SMALL_GATE

SEEDS = [1, 2, 3]


def audit(m: Model) -> None:
    now = m.env.now
    parked = sum(p.level.value - p.reserved for p in m.places.values())
    in_service = sum(st.pool.busy for st in m.stations)
    crossing = sum(st.crossing.value for st in m.stations if st.is_lane)
    assert parked + in_service + crossing == m.system.value, now
    assert m.all_roads.value == sum(r.level.value for r in m.roads)
    holders = Counter(t.at for t in m.live.values() if t.at is not None)
    for p in m.places.values():
        assert p.reserved >= 0 and p.level.value - p.reserved >= 0, (p.name, now)
        if p.slots is not None:
            assert p.level.value <= p.slots, (p.name, now)
        assert p.level.value == holders.pop(p, 0), (p.name, now)  # no leak, no phantom
    assert not holders, now
    assert m.n_arrived == m.n_left + m.n_back + m.n_turned + m.system.value


@pytest.fixture(scope="module", params=SEEDS)
def audited(request):
    s = load_scenario(SMALL_GATE)
    m = Model(s, seed=request.param, replication=0)
    out = m.run(audit=audit)
    assert out.events > 5_000  # the audit really ran over a busy run
    return s, m, out


def test_trucks_conserved(audited):
    _, m, out = audited
    assert m.n_arrived == len(out.arrivals) > 500
    assert m.n_arrived == m.n_left + m.n_back + m.n_turned + m.system.value
    assert len(out.inside_arrivals) == m.system.value


def _station_intervals(s, m):
    out = {}
    for st in m.stations:
        if st.is_lane:
            lane, direction = st.scope.split(".")
            cal = s.lanes[lane].side(direction).calendar
        else:
            cal = s.stages[st.scope].calendar
        cal = s.calendars[cal] if cal else None
        out[st.index] = compile_calendar(cal, s.clock.start, s.clock.horizon_days * 24)
    return out


def test_no_service_starts_while_closed(audited):
    s, m, out = audited
    intervals = _station_intervals(s, m)
    v, t = out.visits, out.trucks
    classes = out.names["class_attributes"]
    cls_of = dict(zip(t["id"].astype(int), t["cls"].astype(int), strict=True))
    starts_checked = 0
    for truck, st, start in zip(v["truck"].astype(int), v["station"].astype(int), v["start"],
                                strict=True):
        ivs = [iv for iv in intervals[st] if iv.start - 1e-9 <= start < iv.end]
        assert ivs, f"service started at {start} at station {st} while closed"
        if ivs[0].only and truck in cls_of:
            attrs = classes[cls_of[truck]]
            assert all(attrs.get(k) == want for k, want in ivs[0].only)
        starts_checked += 1
    assert starts_checked > 1000


def test_restricted_day_served_only_preregistered_exports(audited):
    s, m, out = audited
    t = out.trucks
    v = out.visits
    main_export = m.by_lane[("main", "export")].index
    day = (v["start"] >= 72) & (v["start"] < 96) & (v["station"] == main_export)  # 11 Feb
    ids = set(v["truck"][day].astype(int))
    cls = {int(i): int(c) for i, c in zip(t["id"], t["cls"], strict=True)}
    attrs = out.names["class_attributes"]
    assert all(attrs[cls[i]]["preregistered"] for i in ids if i in cls)
    closed = (v["start"] >= 48) & (v["start"] < 72) & (v["station"] == main_export)  # 10 Feb
    assert not closed.any()


def test_daily_cap_of_other_side_respected(audited):
    s, m, out = audited
    v, t = out.visits, out.trucks
    st = m.by_lane[("main", "export")].index
    cargo_of = {int(i): out.names["classes"][int(c)][1]
                for i, c in zip(t["id"], t["cls"], strict=True)}
    # the cap's day runs on the other side's clock (Hanoi + 1 h): days start at 23:00 Hanoi
    starts = v["start"][v["station"] == st]
    trucks = v["truck"][v["station"] == st].astype(int)
    per_day = Counter(math.floor((x + 1) / 24) for x in starts)
    fresh_per_day = Counter(math.floor((x + 1) / 24) for x, i in zip(starts, trucks, strict=True)
                            if cargo_of.get(i) == "fresh")
    assert max(per_day.values()) <= 60
    assert max(fresh_per_day.values(), default=0) <= 25


def test_import_route_crosses_first(audited):
    _, m, out = audited
    v = out.visits
    main_import = m.by_lane[("main", "import")].index
    release = m.by_stage["release"].index
    order = np.lexsort((v["start"], v["truck"]))
    first_station: dict[int, int] = {}
    for i in order:
        first_station.setdefault(int(v["truck"][i]), int(v["station"][i]))
    import_trucks = set(v["truck"][v["station"] == release].astype(int))
    assert len(import_trucks) > 100
    assert all(first_station[i] == main_import for i in import_trucks)


def test_lane_choice_respects_eligibility(audited):
    _, m, out = audited
    v, t = out.visits, out.trucks
    smart = m.by_lane[("smart", "export")].index
    attrs = out.names["class_attributes"]
    cls = {int(i): int(c) for i, c in zip(t["id"], t["cls"], strict=True)}
    users = [int(i) for i in v["truck"][v["station"] == smart] if int(i) in cls]
    assert users and all(attrs[cls[i]]["predeclared"] for i in users)
