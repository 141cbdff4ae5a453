"""The shipped scenarios: every one runs, and each variant differs from its parent where it
should (asserted on the loaded Scenario objects, not on golden numbers)."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from gatesim import load_scenario, run
from gatesim.cli import main
from gatesim.scenario.calendar import compile_calendar
from gatesim.scenario.labels import LABELLED, labellable, labels_of
from gatesim.scenario.schema import LaneStep, StageStep
from tests.conftest import ROOT

SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
KEY_FIGURES = [
    ("throughput_per_day", "system", "mean"),
    ("time_in_system_h", "system", "mean"),
    ("time_in_system_h", "system", "p95"),
    ("in_system_end", "system", "count"),
    ("total_cost_per_day", "system", "mean"),
]
HN_ROUTES = ("hn_export_fresh", "hn_export_general", "hn_import_general")


def scenario(name: str, *overrides: str):
    return load_scenario(ROOT / "scenarios" / name, list(overrides))


@pytest.fixture(scope="module")
def conventional():
    return scenario("huu_nghi.yaml")


@pytest.fixture(scope="module")
def smart():
    return scenario("huu_nghi_smart_gate.yaml")


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_gatesim_run_gives_finite_key_figures(path, tmp_path):
    out = tmp_path / "out"
    assert main(["run", str(path), "--days", "4", "-r", "2", "--out", str(out), "--quiet"]) == 0
    summary = pd.read_csv(out / "summary.csv").set_index(["metric", "scope", "stat"])
    for key in KEY_FIGURES:
        assert math.isfinite(summary.loc[key, "estimate"]), key
    assert summary.loc[KEY_FIGURES[0], "estimate"] > 0


def test_the_default_pair_exists_with_its_names(conventional, smart):
    assert (conventional.name, smart.name) == ("huu_nghi", "huu_nghi_smart_gate")


def test_smart_check_takes_seconds_where_the_customs_desk_takes_minutes(conventional, smart):
    desk = conventional.stages["hn_export_documents"].service.mean_h()
    check = smart.stages["hn_smart_check"].service.mean_h()
    assert check * 10 < desk
    assert smart.stages["hn_smart_check"].calendar is None  # round the clock


def test_smart_lane_shares_the_other_sides_acceptance(conventional, smart):
    # the other side's intake is one acceptance per direction, drawn on by both lanes; the
    # smart lane adds no intake of its own, only (as a named assumption) earlier hours
    smart_lane, road = smart.lanes["hn_smart_lane"], smart.lanes["hn_freight_road"]
    old = conventional.lanes["hn_freight_road"]
    for side, acc in (("export", "hn_exports"), ("import_", "hn_imports")):
        assert getattr(smart_lane, side).acceptance == getattr(road, side).acceptance == acc
        assert getattr(smart_lane, side).capacity_per_hour is None
        assert smart.acceptances[acc].capacity_per_hour == getattr(old, side).capacity_per_hour
    assert smart.acceptances["hn_exports"].calendar is None  # each lane side keeps its hours
    for name in ("hn_export_acceptance", "hn_import_release", "export_intake_cv"):
        # written twice (the smart file cannot refer to its parent's number): one calibration
        a, b = conventional.uncertain[name], smart.uncertain[name]
        assert (a.value, a.low, a.high) == (b.value, b.low, b.high), name
    conv, auto = (smart.calendars[road.export.calendar].weekly[0].windows[0],
                  smart.calendars[smart_lane.export.calendar].weekly[0].windows[0])
    assert auto.close == conv.close and auto.open <= conv.open


def test_autonomous_trucks_are_a_fleet_stage_with_a_cycle_time(conventional, smart):
    fleet = smart.stages["hn_agv_fleet"]
    assert fleet.servers > 1 and fleet.calendar is None
    one_way = conventional.lanes["hn_freight_road"].crossing_time.mean_h()
    assert fleet.service.mean_h() > 2 * one_way  # there and back, with loading


def test_smart_gate_keeps_demand_and_tan_thanh(conventional, smart):
    assert smart.arrivals == conventional.arrivals
    for kind in ("stages", "lanes", "routes", "yards"):
        mine = {k: v for k, v in getattr(smart, kind).items() if k.startswith("tt_")}
        theirs = {k: v for k, v in getattr(conventional, kind).items() if k.startswith("tt_")}
        assert mine == theirs and mine, kind


def _stage_steps(steps, inherited=None):
    """Stage and lane steps with the conditions they are taken under (a branch's own
    condition holds for the steps of its options)."""
    for step in steps:
        when = {**(inherited or {}), **step.when}
        if isinstance(step, StageStep | LaneStep):
            yield step, when
        for option in getattr(step, "options", {}).values():
            yield from _stage_steps(option.steps, when)


@pytest.mark.parametrize("route", HN_ROUTES)
def test_predeclared_trucks_avoid_the_conventional_posts(smart, route):
    conventional_posts = {"hn_export_documents", "hn_export_review", "hn_border_control",
                          "hn_cn_handover", "hn_import_handover", "hn_import_documents"}
    seen = set()
    for step, when in _stage_steps(smart.routes[route].steps):
        if isinstance(step, StageStep) and step.stage in conventional_posts:
            assert when.get("predeclared") is False, step
            seen.add(step.stage)
        if isinstance(step, StageStep) and step.stage.startswith(("hn_smart", "hn_agv")):
            assert when.get("predeclared") is True, step
    assert seen


@pytest.mark.parametrize("route", HN_ROUTES)
def test_the_smart_lane_is_dedicated_unless_pooled(smart, route):
    lanes = {}
    for step, when in _stage_steps(smart.routes[route].steps):
        if isinstance(step, LaneStep):
            lane = (step.lane,) if isinstance(step.lane, str) else tuple(step.lane)
            lanes[(when.get("predeclared"), when.get("pooled_lanes"))] = lane
    assert lanes == {(True, None): ("hn_smart_lane",),
                     (False, False): ("hn_freight_road",),
                     (False, True): ("hn_freight_road", "hn_smart_lane")}
    assert smart.attributes["pooled_lanes"] == 0


def test_the_pooled_file_changes_only_the_pooling_setting(smart):
    pooled = scenario("huu_nghi_smart_gate_pooled.yaml")
    assert pooled.attributes == {**smart.attributes, "pooled_lanes": 1}
    own = {"name", "label", "description", "attributes"}  # a variant's title is its own
    assert pooled.model_dump(exclude=own) == smart.model_dump(exclude=own)


@pytest.mark.parametrize(("pooled", "shared"), [(0, False), (1, True)])
def test_conventional_trucks_use_the_smart_lane_only_when_pooled(pooled, shared):
    s = scenario("huu_nghi_smart_gate.yaml", f"attributes.pooled_lanes={pooled}",
                 "clock.horizon_days=4", "clock.warmup_days=1")
    trucks = run(s, replications=1, seed=3).trucks
    conventional = trucks[(trucks.site == "huu_nghi") & ~trucks.predeclared]
    assert (conventional.lane == "hn_smart_lane").any() == shared
    predeclared = trucks[(trucks.site == "huu_nghi") & trucks.predeclared & (trucks.lane != "")]
    assert set(predeclared.lane) == {"hn_smart_lane"}


@pytest.mark.parametrize(("name", "low", "high"), [
    ("huu_nghi_smart_gate_2027.yaml", 2, 3), ("huu_nghi_smart_gate_2030.yaml", 4, 5)])
def test_capacity_targets_scale_huu_nghi_demand(smart, name, low, high):
    target = scenario(name)
    for stream, spec in target.arrivals.items():
        factors = [m.factor for m in spec.date_multipliers]
        if stream.startswith("hn_"):
            assert len(factors) == 1 and low <= factors[0] <= high, stream
            assert spec.rate_per_day == smart.arrivals[stream].rate_per_day
        else:
            assert spec == smart.arrivals[stream], stream
    assert target.stages == smart.stages and target.lanes == smart.lanes


def test_disruption_caps_exports_below_arrivals_and_is_flagged_unstable():
    s = scenario("huu_nghi_disruption_2022.yaml", "clock.horizon_days=8")
    caps = sum(lane.export.daily_cap["total"] for lane in s.lanes.values())
    arriving = sum(a.rate_per_day for a in s.arrivals.values() if a.direction == "export")
    assert caps < arriving
    stability = run(s, replications=2, seed=5, workers=2).meta["stability"]
    assert stability["unstable"] and stability["growth_per_day"] > 0


def test_smart_disruption_keeps_huu_nghi_cap_across_its_two_lanes():
    plain = scenario("huu_nghi_disruption_2022.yaml")
    smart = scenario("huu_nghi_smart_gate_disruption_2022.yaml")
    for lane in ("hn_freight_road", "hn_smart_lane"):
        assert smart.lanes[lane].export.acceptance == "hn_exports"
    assert (smart.acceptances["hn_exports"].daily_cap["total"]
            == plain.lanes["hn_freight_road"].export.daily_cap["total"])
    assert {k: v.rate_per_day for k, v in smart.arrivals.items()} == {
        k: v.rate_per_day for k, v in plain.arrivals.items()}
    assert smart.clock == plain.clock


def test_tet_closes_then_admits_only_preregistered_trucks():
    s = scenario("huu_nghi_tet.yaml")
    start = dt.datetime(2024, 2, 1)

    def hours(day: int) -> float:
        return (dt.datetime(2024, 2, day, 12) - start).total_seconds() / 3600

    for name in ("vn_clearance", "cn_export_acceptance", "cn_import_release"):
        intervals = compile_calendar(s.calendars[name], s.clock.start, s.clock.horizon_days * 24)
        open_at = {d: [i for i in intervals if i.start <= hours(d) < i.end] for d in range(5, 21)}
        assert all(not open_at[d] for d in (10, 11, 12, 13)), name
        assert all(open_at[d] and open_at[d][0].only == (("preregistered", True),)
                   for d in (14, 15, 16, 17)), name
        assert open_at[9] and open_at[18] and not open_at[18][0].only, name


def test_fruit_peak_raises_demand_and_keeps_its_own_reported_hours(conventional):
    peak = scenario("huu_nghi_fruit_peak.yaml")
    assert all(a.date_multipliers and a.date_multipliers[0].factor > 1
               for a in peak.arrivals.values())
    # §2: to 20:00 Hanoi (21:00 Beijing) in the Apr 2025 peak, as reported, whatever closing
    # the August 2024 calibration found (it does not inherit export_closing_beijing)
    assert peak.calendars["cn_export_acceptance"].weekly[0].windows[0].hours[1] == 21
    assert "export_closing_beijing" not in peak.uncertain
    assert "export_closing_beijing" in conventional.uncertain


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_every_item_has_a_vietnamese_and_an_english_label(path):
    """Every yard, stage, lane, calendar, stream, route, cargo class, factor, stoppage and
    acceptance, every road, site, direction and attribute, and every NAMED uncertain parameter
    (an unnamed one is known by its dotted path) has a non-empty label in both languages."""
    s = load_scenario(path)
    labels = labels_of(s)
    names = [n for section in LABELLED for n in getattr(s, section)] + [
        n for n, kind in labellable(s).items() if kind != "uncertain parameter" or "." not in n]
    unlabelled = [n for n in names if not all(labels.get(n, {}).get(lang, "").strip()
                                              for lang in ("vi", "en"))]
    assert unlabelled == []
    assert s.label and set(s.label) == {"vi", "en"}  # the scenario's own title, both languages


def test_a_parameter_fixed_by_set_drops_its_label_and_the_point_loads(smart):
    """Sensitivity loads each point from the file with --set at every place of a parameter:
    the parameter is then fixed, and its label goes with it (a label is never refused for it)."""
    from gatesim.scenario.moves import settings

    for name in ("agv_fleet", "screening_miss", "hn_export_acceptance"):
        point = scenario("huu_nghi_smart_gate.yaml", *settings(smart, smart.uncertain[name],
                                                                 smart.uncertain[name].low))
        assert name not in point.uncertain
        assert (name in point.labels) == (name == "screening_miss")  # still an attribute
