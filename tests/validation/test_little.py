"""Little's law as an exact sample-path identity on the default scenario.

Over a window W = [warm-up, T], the time integral of a level monitor equals the sum over trucks
of the time each spent counted by it inside W. From the per-visit records (ready, start, end,
left) a truck is, for a visit to station S waiting in yard Y:

- in Y's level and S's pool queue from q to start, where q is the ``left`` of its previous
  visit (it has just taken its slot), or, at its first visit, its arrival plus its road time
  (a truck waits on a road only when it arrives; checked below);
- at a stage's server from start to left (served, then possibly held there by a full yard);
  at a lane, admitted from start to start + headway, then crossing until left.

A kept slot (a truck served while its next step waits in the same finite yard) stays in the
yard's level from start to left: the level is the yard's physical occupancy. Levels are read
at T mid-run, and the run then goes on until every truck that arrived by T has left, so every
visit overlapping W is recorded. The other side's day-to-day intake factor is switched off
(``FIXED_RATES``, with the pre-calibration closing hour): with it a lane's admission interval
changes every day, and the identity
would need the interval in force at each admission (the factor's own exact checks are in
test_variability_engine.py).
"""

from __future__ import annotations

import numpy as np
import pytest

from gatesim.engine.model import Model
from gatesim.scenario.loader import load_scenario
from tests.conftest import ROOT

SCENARIO = ROOT / "scenarios" / "huu_nghi.yaml"
HORIZON_DAYS, WINDOW_END_H = 8, 96.0
REL = 1e-9
FIXED_RATES = ["lanes.hn_freight_road.export.rate_factor=null",
               "lanes.tt_freight_lane.export.rate_factor=null", "factors={}",
               "calendars.cn_export_acceptance.weekly.0.windows.0.close=20"]
"""Fixed intake, closing at 20:00 Beijing: with a fifth of the slots the export yards then fill
and trucks queue on the roads inside the window (the calibrated 24:00 closing empties them)."""


def overlap(a: np.ndarray, b: np.ndarray, t0: float, t1: float) -> float:
    """Total length of the intervals [a, b) inside [t0, t1]."""
    return float(np.clip(np.minimum(b, t1) - np.maximum(a, t0), 0.0, None).sum())


def small_yards() -> list[str]:
    """Overrides giving every finite yard a fifth of its slots: full yards, road queues
    and trucks held at their server happen all the time."""
    s = load_scenario(SCENARIO)
    return [f"yards.{name}.slots={max(2, y.slots // 5)}" for name, y in s.yards.items()
            if y.slots is not None]


@pytest.fixture(scope="module", params=["default", "small-yards"])
def run(request):
    """A replication with every level's integral over W read at W's end, and its records."""
    stress = small_yards() if request.param == "small-yards" else []
    s = load_scenario(SCENARIO, [f"clock.horizon_days={HORIZON_DAYS}", *FIXED_RATES, *stress])
    m = Model(s, seed=7, replication=0)
    m.env.run(until=WINDOW_END_H)
    areas = {(metric, scope): level.integral(WINDOW_END_H)
             for metric, scope, level in m.observer.levels()}
    out = m.run()
    assert len(out.inside_arrivals) == 0 or out.inside_arrivals.min() > WINDOW_END_H
    return m, out, areas


@pytest.fixture(scope="module")
def visits(run):
    """Visit records in order within each truck, with q (when the truck joined the queue)."""
    m, out, _ = run
    t, v = out.trucks, out.visits
    ids = t["id"].astype(np.int64)
    assert np.array_equal(out.arrivals[ids - 1], t["arrival"])
    road_time = np.zeros(len(out.arrivals) + 1)
    road_time[ids] = t["road_time"]
    order = np.argsort(v["truck"], kind="stable")
    v = {k: a[order] for k, a in v.items()}
    truck = v["truck"].astype(np.int64)
    first = np.r_[True, truck[1:] != truck[:-1]]
    prev_left = np.r_[np.nan, v["left"][:-1]]
    arrival = out.arrivals[truck - 1]
    v["q"] = np.where(first, arrival + road_time[truck], prev_left)
    v["first"] = first
    v["station"] = station = v["station"].astype(np.int64)
    place = np.array([st.place.index for st in m.stations])[station]
    # the previous step waited in this step's yard too (a kept slot if the yard is finite)
    v["same_yard"] = ~first & (place == np.r_[-1, place[:-1]])
    finite = np.array([st.place.slots is not None for st in m.stations])[station]
    # this visit's slot is kept while it is served: the next visit waits in the same finite yard
    v["kept"] = np.r_[v["same_yard"][1:], False] & finite
    return v


def test_window_sees_kept_slots_and_under_stress_roads_and_blocking(request, run, visits):
    m, _, areas = run
    inside = (visits["end"] < WINDOW_END_H) & (visits["left"] > m.warmup)
    finite = np.array([st.place.slots is not None for st in m.stations])[visits["station"]]
    assert np.any(inside & visits["same_yard"] & finite)
    if request.node.callspec.params["run"] == "small-yards":
        assert np.any(inside & (visits["left"] > visits["end"]))  # held at a server
        assert areas[("road_queue", "system")] > 0


def test_road_waits_happen_only_at_arrival(run, visits):
    """A later step that waits in a yard with an overflow road comes from a step in the same
    yard (the truck kept its slot), so a truck only ever waits on a road when it arrives."""
    m, _, _ = run
    overflows = np.array([st.place.overflow is not None for st in m.stations])
    later = ~visits["first"] & overflows[visits["station"]]
    assert np.all(visits["same_yard"][later])


def exits(out) -> np.ndarray:
    """Exit times of the recorded trucks; those still inside at the horizon never leave."""
    return np.nan_to_num(out.trucks["exit"], nan=np.inf)


def test_system(run):
    m, out, areas = run
    expected = overlap(out.trucks["arrival"], exits(out), m.warmup, WINDOW_END_H)
    assert areas[("in_system", "system")] == pytest.approx(expected, rel=REL)


def test_system_to_the_horizon_with_trucks_still_inside(run):
    """Over [warm-up, horizon]: trucks still inside count to the horizon (exit = infinity)."""
    m, out, _ = run
    assert np.isinf(exits(out)).sum() == m.system.value > 0
    expected = overlap(out.trucks["arrival"], exits(out), m.warmup, m.horizon)
    assert m.system.area == pytest.approx(expected, rel=REL)


def test_lanes_crossing(run, visits):
    m, _, areas = run
    for st in m.stations:
        if st.is_lane:
            mine = visits["station"] == st.index
            expected = overlap(visits["start"][mine] + st.pool.headway, visits["left"][mine],
                               m.warmup, WINDOW_END_H)
            assert areas[("crossing", st.scope)] == pytest.approx(expected, rel=REL), st.scope


def test_at_servers(run, visits):
    """Trucks neither parked, on a road nor crossing are at a server (in service, held there
    by a full yard, or being admitted to a lane): conservation and Little together."""
    m, _, areas = run
    elsewhere = sum(a for (metric, scope), a in areas.items()
                    if metric in ("yard_occupancy", "crossing")
                    or (metric, scope) == ("road_queue", "system"))
    lane = np.isin(visits["station"], [st.index for st in m.stations if st.is_lane])
    headway = np.array([st.pool.headway for st in m.stations])[visits["station"]]
    until = np.where(lane, visits["start"] + headway, visits["left"])
    expected = overlap(visits["start"], until, m.warmup, WINDOW_END_H)
    kept = visits["kept"]  # at a server but counted in its yard too
    expected -= overlap(visits["start"][kept], visits["left"][kept], m.warmup, WINDOW_END_H)
    assert areas[("in_system", "system")] - elsewhere == pytest.approx(expected, rel=REL)


def test_pool_queues(run, visits):
    m, _, areas = run
    for st in m.stations:
        mine = visits["station"] == st.index
        expected = overlap(visits["q"][mine], visits["start"][mine], m.warmup, WINDOW_END_H)
        assert areas[("queue_length", st.scope)] == pytest.approx(expected, rel=REL, abs=REL)


def test_yards(run, visits):
    m, _, areas = run
    for place in m.places.values():
        if place.is_road:
            continue
        mine = np.isin(visits["station"], [st.index for st in m.stations if st.place is place])
        expected = overlap(visits["q"][mine], visits["start"][mine], m.warmup, WINDOW_END_H)
        kept = mine & visits["kept"]
        expected += overlap(visits["start"][kept], visits["left"][kept], m.warmup, WINDOW_END_H)
        assert areas[("yard_occupancy", place.name)] == pytest.approx(
            expected, rel=REL, abs=REL), place.name


def test_roads(run, visits):
    """A truck waits on its first yard's overflow road (the default road if it has none; the
    scenario places no initial trucks on a road)."""
    m, out, areas = run
    t = out.trucks
    road_of_station = [(st.place.overflow or m.default_road).name for st in m.stations]
    first_station = np.zeros(len(out.arrivals) + 1, dtype=np.int64)
    first_station[visits["truck"][visits["first"]].astype(np.int64)] = visits["station"][
        visits["first"]]
    waited = (t["turned_away"] < 0) & (t["road_time"] > 0)
    road = np.array(road_of_station)[first_station[t["id"][waited].astype(np.int64)]]
    start = t["arrival"][waited]
    end = start + t["road_time"][waited]
    for name in [*m.s.roads, "system"]:
        mine = road == name if name != "system" else np.ones(len(road), dtype=bool)
        expected = overlap(start[mine], end[mine], m.warmup, WINDOW_END_H)
        assert areas[("road_queue", name)] == pytest.approx(expected, rel=REL, abs=REL), name
