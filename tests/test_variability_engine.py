"""The day-to-day variability mechanisms in the engine, one behaviour per test: shared
acceptance, stoppages, daily factors, demand factors, priorities and their random streams.
(Their steady-state answers against theory are in tests/test_variability_cases.py.)"""

from __future__ import annotations

import math

import numpy as np
import pytest

from gatesim.engine.model import Model, run_replication
from gatesim.engine.variability import factor_series, rounded
from gatesim.scenario.variability import Factor
from tests.conftest import scenario


def _const(minutes: float) -> dict:
    return {"dist": "constant", "value": minutes, "unit": "min"}


def _exp(minutes: float) -> dict:
    return {"dist": "exponential", "mean": minutes, "unit": "min"}


def _two_lanes(shared: bool, days: float = 4, **extra) -> dict:
    """Two export lanes waiting in one yard; shared: both draw on one acceptance of 10/h."""
    side = ({"yard": "yard", "acceptance": "cn"} if shared
            else {"yard": "yard", "capacity_per_hour": 10})
    doc = {
        "name": "two_lanes",
        "clock": {"start": "2024-01-01 00:00", "horizon_days": days, "warmup_days": 0},
        "yards": {"yard": {}},
        "lanes": {"conv": {"crossing_time": _const(5), "export": dict(side)},
                  "smart": {"crossing_time": _const(2), "export": dict(side)}},
        "arrivals": {"t": {"direction": "export", "cargo": "c", "rate_per_day": 400}},
        "routes": {"r": {"direction": "export", "cargo": "c",
                         "steps": [{"lane": ["conv", "smart"]}]}},
        **extra,
    }
    if shared:
        doc["acceptances"] = {"cn": {"capacity_per_hour": 10}}
    return doc


def _admissions(out, scope: str | None = None) -> np.ndarray:
    v = out.visits
    names = out.names["stations"]
    mine = np.ones(len(v["start"]), bool) if scope is None else (
        v["station"] == names.index(scope))
    return np.sort(v["start"][mine])


# --- shared acceptance -------------------------------------------------------------------------
def test_lanes_sharing_an_acceptance_admit_its_rate_not_twice_it():
    alone = run_replication(scenario(_two_lanes(False)), 1, 0)
    shared = run_replication(scenario(_two_lanes(True)), 1, 0)
    # 400 a day arrive: two lanes of 10/h take 480 a day, one shared acceptance 240
    assert len(_admissions(alone)) > 380 * 4
    assert len(_admissions(shared)) == pytest.approx(240 * 4, abs=2)
    gaps = np.diff(_admissions(shared))
    assert gaps.min() >= 0.1 - 1e-9  # one admission line: a headway of 6 minutes between any two


def test_the_shared_acceptance_serves_first_come_first_served_across_lanes():
    out = run_replication(scenario(_two_lanes(True)), 2, 0)
    v = out.visits
    order = np.argsort(v["start"], kind="stable")
    ready = v["ready"][order]
    assert np.all(np.diff(ready) >= 0)  # admitted in the order they became ready
    lanes = set(v["station"].astype(int))
    assert lanes == {0, 1}  # both lanes used


def test_each_lane_keeps_its_own_calendar_at_a_shared_acceptance():
    doc = _two_lanes(True, calendars={"day": {"weekly": [{"windows": [
        {"open": "07:00", "close": "19:00"}]}]}})
    doc["lanes"]["smart"]["export"]["calendar"] = "day"
    out = run_replication(scenario(doc), 3, 0)
    smart = _admissions(out, "smart.export") % 24
    assert len(smart) > 0 and np.all((smart >= 7) & (smart < 19))
    conv = _admissions(out, "conv.export") % 24
    assert np.any((conv < 7) | (conv >= 19))  # the other lane goes on at night


def test_a_lane_side_with_an_acceptance_reports_its_own_queue():
    m = Model(scenario(_two_lanes(True)), 1, 0)
    conv, smart = m.stations
    assert conv.pool is smart.pool and conv.queue is not smart.queue
    m.env.run(until=30)
    assert conv.queue.value + smart.queue.value == conv.pool.queue.value


# --- stoppages -----------------------------------------------------------------------------------
def _stage_doc(servers: int = 4, **stage_extra) -> dict:
    return {
        "name": "stage",
        "clock": {"start": "2024-01-01 00:00", "horizon_days": 3, "warmup_days": 0},
        "yards": {"yard": {}},
        "stages": {"desk": {"servers": servers, "yard": "yard", "service": _exp(30),
                            **stage_extra}},
        "arrivals": {"t": {"direction": "import", "cargo": "c", "rate_per_day": 150}},
        "routes": {"r": {"direction": "import", "cargo": "c", "steps": [{"stage": "desk"}]}},
    }


def _dated(fraction: float = 1.0) -> dict:
    return {"s": {"at": ["desk"], "fraction": fraction,
                  "dated": [{"start": "2024-01-02 06:00", "end": "2024-01-02 12:00"}]}}


def test_nothing_starts_during_a_dated_stoppage_and_service_in_progress_finishes():
    out = run_replication(scenario({**_stage_doc(), "stoppages": _dated()}), 1, 0)
    v = out.visits
    starts = v["start"]
    assert not np.any((starts >= 30) & (starts < 36))
    assert np.any((starts < 30) & (v["end"] > 30))  # a truck in service at 06:00 finished
    assert out.stopped_h == {"desk": pytest.approx(6.0)}
    flags = [(h, val) for h, row in out.timeseries for m, sc, val in row if m == "stopped"]
    assert {h for h, val in flags if val} == {30, 31, 32, 33, 34, 35}


def test_a_partial_stoppage_keeps_the_floor_of_the_remaining_servers():
    m = Model(scenario({**_stage_doc(servers=5), "stoppages": _dated(0.5)}), 1, 0)
    busy = []
    while m.env.peek() < m.horizon:
        m.env.step()
        now = m.env.now
        if 30 <= now < 36:
            busy.append((m.stations[0].pool.capacity, m.stations[0].pool.busy))
    assert {c for c, _ in busy} == {2}  # ⌊5 × 0.5⌋
    started = np.asarray([b for _, b in busy])
    assert started.max() <= 5  # trucks started before 06:00 finish


def test_random_stoppages_stop_about_their_long_run_share():
    doc = {**_stage_doc(), "stoppages": {"s": {
        "at": ["desk"], "rate_per_day": 2, "duration": {"dist": "exponential", "mean": 3,
                                                       "unit": "h"}}}}
    doc["clock"] = {**doc["clock"], "horizon_days": 200}
    out = run_replication(scenario(doc), 1, 0, records="none")
    share = out.stopped_h["desk"] / out.horizon_h
    # up time mean 12 h, stopped 3 h: 3 / 15 = 0.2
    assert share == pytest.approx(0.2, abs=0.03)


# --- daily factors -------------------------------------------------------------------------------
@pytest.mark.parametrize("law", ["gamma", "lognormal"])
def test_a_factor_has_mean_one_its_cv_and_its_autocorrelation(law):
    spec = Factor(law=law, cv=0.3, autocorrelation=0.6)
    x = factor_series(spec, np.random.default_rng(1), 200_000)
    assert x.mean() == pytest.approx(1, abs=0.01)
    assert x.std() == pytest.approx(0.3, rel=0.03)
    z = np.log(x) if law == "lognormal" else x
    assert np.corrcoef(z[:-1], z[1:])[0, 1] == pytest.approx(0.6, abs=0.03 if law ==
                                                              "lognormal" else 0.08)


def test_an_empirical_factor_is_its_values_over_their_mean():
    spec = Factor(law="empirical", values=[100, 200, 300])
    x = factor_series(spec, np.random.default_rng(2), 30_000)
    assert set(np.round(x, 9)) == {0.5, 1.0, 1.5}
    assert x.mean() == pytest.approx(1, abs=0.02)


def test_random_rounding_is_unbiased():
    u = np.random.default_rng(3).random(100_000)
    assert np.mean([rounded(7, 1.13, x) for x in u]) == pytest.approx(7 * 1.13, abs=0.01)
    assert {rounded(7, 1.0, x) for x in u[:1000]} == {7}


def test_a_shared_factor_is_one_series_and_an_inline_one_its_own():
    doc = _two_lanes(False, factors={"cn": {"cv": 0.3}})
    doc["lanes"]["conv"]["export"]["rate_factor"] = "cn"
    doc["lanes"]["smart"]["export"]["rate_factor"] = "cn"
    m = Model(scenario(doc), 1, 0)
    assert list(m.resources.factors.drawn) == ["cn"]
    doc["lanes"]["smart"]["export"]["rate_factor"] = {"cv": 0.3}
    m2 = Model(scenario(doc), 1, 0)
    own = m2.resources.factors.drawn["lanes.smart.export.rate_factor"]
    assert m2.resources.factors.drawn["cn"] == m.resources.factors.drawn["cn"]
    assert own != m.resources.factors.drawn["cn"]


def test_servers_follow_the_days_factor():
    m = Model(scenario(_stage_doc(servers=10, servers_factor={"cv": 0.3})), 4, 0)
    f = m.resources.factors.drawn["stages.desk.servers_factor"]
    u = m.resources.factors.uniforms("stages.desk")
    seen = {}  # servers at the last event of each day
    while m.env.peek() < m.horizon:
        m.env.step()
        seen[int(m.env.now // 24)] = m.stations[0].pool.capacity
    assert len(seen) == 3
    assert seen == {day: rounded(10, f[day], u[day]) for day in seen}
    assert len(set(seen.values())) > 1


def test_a_daily_cap_factor_sets_each_days_cap():
    doc = _two_lanes(False, days=30)
    doc["lanes"]["conv"]["export"].update(daily_cap={"total": 50}, cap_factor={"cv": 0.2})
    doc["routes"]["r"]["steps"] = [{"lane": "conv"}]
    del doc["lanes"]["smart"]
    out = run_replication(scenario(doc), 5, 0)
    caps = out.daily_caps["conv.export"]
    admitted = np.bincount((_admissions(out) // 24).astype(int), minlength=30)[:30]
    assert list(admitted) == caps[:30]  # 400 a day arrive: every day's cap is used up
    assert np.mean(caps) == pytest.approx(50, rel=0.1) and len(set(caps)) > 5


def test_a_demand_factor_moves_each_days_arrivals():
    base = _stage_doc(servers=50)
    base["clock"] = {**base["clock"], "horizon_days": 60}
    base["arrivals"]["t"]["daily_factor"] = {"cv": 0.5}
    out = run_replication(scenario(base), 6, 0, records="all")
    f = np.asarray(out.daily_factors["arrivals.t.daily_factor"][:60])
    per_day = np.bincount((out.arrivals // 24).astype(int), minlength=60)[:60]
    assert np.corrcoef(f, per_day)[0, 1] > 0.9
    assert per_day.mean() == pytest.approx(150 * f.mean(), rel=0.05)


# --- priorities ------------------------------------------------------------------------------
def test_a_priority_class_is_served_before_earlier_trucks_of_other_classes():
    doc = _stage_doc(servers=1, priority=[{"cargo": "fresh"}])
    doc["arrivals"] = {"g": {"direction": "import", "cargo": "general", "rate_per_day": 40},
                       "f": {"direction": "import", "cargo": "fresh", "rate_per_day": 10}}
    doc["routes"] = {c: {"direction": "import", "cargo": c, "steps": [{"stage": "desk"}]}
                     for c in ("general", "fresh")}
    out = run_replication(scenario(doc), 7, 0)
    v, t = out.visits, out.trucks
    cargo = {int(i): out.names["classes"][int(c)][1] for i, c in
             zip(t["id"], t["cls"], strict=True)}
    fresh = np.array([cargo[int(i)] == "fresh" for i in v["truck"]])
    for i in np.flatnonzero(~fresh):  # no fresh truck waiting when a general one starts
        waiting = fresh & (v["ready"] < v["start"][i]) & (v["start"] > v["start"][i])
        assert not waiting.any()
    wait = v["start"] - v["ready"]
    assert wait[fresh].mean() < wait[~fresh].mean()


# --- random streams --------------------------------------------------------------------------
def test_a_stoppage_changes_no_other_draw():
    plain = run_replication(scenario(_stage_doc()), 8, 0)
    stopped = run_replication(scenario({**_stage_doc(), "stoppages": _dated()}), 8, 0)
    assert np.array_equal(plain.arrivals, stopped.arrivals)
    order = np.argsort(plain.visits["truck"])
    service = (plain.visits["end"] - plain.visits["start"])[order]
    order2 = np.argsort(stopped.visits["truck"])
    assert np.allclose(service, (stopped.visits["end"] - stopped.visits["start"])[order2])


def test_a_longer_run_keeps_the_first_days_of_every_factor():
    doc = _stage_doc(servers_factor={"cv": 0.3})
    short = Model(scenario(doc), 9, 0).resources.factors.drawn
    doc["clock"] = {**doc["clock"], "horizon_days": 30}
    long = Model(scenario(doc), 9, 0).resources.factors.drawn
    name = "stages.desk.servers_factor"
    assert long[name][:len(short[name])] == short[name]
    assert not math.isnan(sum(long[name]))


def test_a_replayed_rows_cargo_is_a_known_result_scope(tmp_path):
    from gatesim.experiments.names import check_key

    (tmp_path / "log.csv").write_text("hours,cargo\n1,fresh\n2,general\n", encoding="utf-8")
    doc = _stage_doc()
    doc["arrivals"] = {"log": {"direction": "import", "cargo": "general",
                               "replay": str(tmp_path / "log.csv")}}
    doc["routes"] = {c: {"direction": "import", "cargo": c, "steps": [{"stage": "desk"}]}
                     for c in ("general", "fresh")}
    s = scenario(doc)
    check_key(s, "--metric", "time_in_system_h", "fresh", "mean")  # the file brings fresh
    out = run_replication(s, 1, 0)
    assert {c[1] for c in out.names["classes"]} == {"fresh", "general"}
