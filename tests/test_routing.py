"""Routes: branch outcomes in later conditions, trucks sent back part-way, per-class results."""

from __future__ import annotations

import pytest

from gatesim.engine.model import Model
from gatesim.experiments.run import run
from tests.conftest import scenario
from tests.test_invariants import audit

SCREENING = {
    "name": "screening",
    "clock": {"start": "2024-01-01 00:00", "horizon_days": 20, "warmup_days": 1},
    "attributes": {"risky": 0.2},
    "yards": {"vn": {}, "cn": {}},
    "stages": {
        "scan": {"servers": 2, "yard": "vn", "service": {"dist": "constant", "value": 2,
                                                          "unit": "min"}},
        "inspection": {"servers": 2, "yard": "vn",
                       "service": {"dist": "exponential", "mean": 30, "unit": "min"}},
        "cn_check": {"servers": 2, "yard": "cn",
                     "service": {"dist": "constant", "value": 5, "unit": "min"}},
    },
    "lanes": {"gate": {"crossing_time": {"dist": "constant", "value": 10, "unit": "min"},
                       "export": {"yard": "vn", "capacity_per_hour": 60}}},
    "arrivals": {"t": {"direction": "export", "cargo": "fruit", "rate_per_day": 100}},
    "routes": {"r": {"direction": "export", "cargo": "fruit", "steps": [
        {"stage": "scan"},
        {"choose": "screening", "when": {"risky": True}, "options": {
            "caught": {"p": 0.75, "steps": [{"stage": "inspection"}]},
            "missed": {"p": 0.25}}},
        {"choose": "false_hold", "when": {"risky": False}, "options": {
            "held": {"p": 0.1, "steps": [{"stage": "inspection"}]},
            "clear": {"p": 0.9}}},
        {"lane": "gate"},
        {"stage": "cn_check"},
        {"exit": "turned_back", "when": {"screening": "missed"}},
    ]}},
}


@pytest.fixture(scope="module")
def result():
    return run(scenario(SCREENING), replications=3, seed=4)


def test_missed_risky_trucks_are_turned_back_after_crossing(result):
    t = result.trucks
    back = t[t.turned_back]
    assert len(back) > 0
    assert back.risky.all()
    assert (back.lane == "gate").all()  # they crossed, then were sent back
    share = len(back) / t.risky.sum()
    assert 0.15 < share < 0.35  # 25 % of risky trucks are missed by screening
    summary = result.summary.set_index(["metric", "scope", "stat"])
    assert summary.loc[("turned_back", "system", "per_day"), "estimate"] > 0
    assert summary.loc[("turned_back_time_h", "system", "mean"), "estimate"] > 10 / 60


def test_inspection_sees_caught_risky_and_falsely_held_clean_trucks(result):
    v, t = result.visits, result.trucks
    key = ["replication", "truck"]
    inspected = v[v.station == "inspection"][key].drop_duplicates()
    seen = t.rename(columns={"id": "truck"}).merge(inspected, on=key)
    assert (~seen.risky).sum() > 0 and seen.risky.sum() > 0
    assert not seen.turned_back.any()  # a caught risky truck is not sent back


def test_results_per_attribute_class(result):
    scopes = set(result.summary.scope)
    assert {"risky=true", "risky=false"} <= scopes


def test_conservation_with_trucks_sent_back():
    m = Model(scenario(SCREENING), seed=2, replication=0)
    out = m.run(audit=audit)
    assert m.n_back > 0
    assert len(out.arrivals) == m.n_left + m.n_back + m.n_turned + m.system.value


def test_exit_must_follow_a_step():
    doc = {**SCREENING, "routes": {"r": {"direction": "export", "cargo": "fruit",
                                         "steps": [{"exit": "turned_back"}, {"stage": "scan"}]}}}
    from gatesim.errors import GatesimError

    with pytest.raises(GatesimError, match="before any stage or lane"):
        run(scenario(doc), replications=1, seed=1)


def test_when_on_unknown_branch_option_is_refused():
    from gatesim.errors import ScenarioError

    doc = {**SCREENING}
    doc["routes"] = {"r": {**SCREENING["routes"]["r"]}}
    doc["routes"]["r"]["steps"] = [*SCREENING["routes"]["r"]["steps"][:-1],
                                   {"exit": "turned_back", "when": {"screening": "lost"}}]
    with pytest.raises(ScenarioError, match="an option of branch screening"):
        scenario(doc)
