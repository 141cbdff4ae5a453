"""Moving an uncertain number: a choose share rescales its siblings, anything else moves alone."""

from __future__ import annotations

import pytest

import gatesim
from gatesim.experiments import sweep
from gatesim.experiments.sensitivity import prepare
from gatesim.scenario.loader import load_scenario
from gatesim.scenario.moves import (
    assignment,
    is_integral,
    joint_settings,
    settings,
    siblings,
)

# Export trucks pass a gate, then a customs channel: green goes, yellow is inspected, red is
# inspected and scanned. The green share is uncertain; so is the gate's service mean.
CHANNELS = """\
name: channels
clock: {start: 2024-01-01 00:00, horizon_days: 2, warmup_days: 0}
yards: {q: {slots: 200}}
stages:
  gate: {servers: {value: 2, low: 1, high: 3, name: gate_servers}, yard: q,
         service: {dist: exponential, unit: min, mean: {value: 5, low: 4.5, high: 6.5,
                                                        name: gate_mean}}}
  inspect: {servers: 2, yard: q, service: {dist: exponential, mean: 20, unit: min}}
  scan: {servers: 1, yard: q, service: {dist: exponential, mean: 10, unit: min}}
arrivals:
  ex: {direction: export, cargo: general, rate_per_day: 60}
  im: {direction: import, cargo: general, rate_per_day: 30}
routes:
  export: {direction: export, cargo: general, steps: [{stage: gate}, &channel {choose: channel,
    options: {green: {p: GREEN},
              yellow: {p: YELLOW, steps: [{stage: inspect}]},
              red: {p: RED, steps: [{stage: inspect}, {stage: scan}]}}}]}
  import: {direction: import, cargo: general, steps: [{stage: gate}, IMPORT_CHANNEL]}
"""
GREEN = "{value: 0.6, low: 0.4, high: 0.8, name: green_share}"
OPTIONS = "routes.export.steps.1.options"


def _write(tmp_path, green=GREEN, yellow="0.3", red="0.1", import_channel="{stage: scan}"):
    path = tmp_path / "channels.yaml"
    path.write_text(CHANNELS.replace("GREEN", green).replace("YELLOW", yellow)
                    .replace("RED", red).replace("IMPORT_CHANNEL", import_channel),
                    encoding="utf-8")
    return path


def _shares(s, route="export", step=1) -> dict[str, float]:
    return {n: o.p for n, o in s.routes[route].steps[step].options.items()}


def test_moving_a_share_rescales_its_siblings_and_the_scenario_validates_at_both_ends(
        tmp_path):
    path = _write(tmp_path)
    s = load_scenario(path)
    p = s.uncertain["green_share"]
    assert p.paths == [f"{OPTIONS}.green.p"]
    high = settings(s, p, 0.8)
    assert high[0] == f"{OPTIONS}.green.p=0.8" and len(high) == 3
    assert _shares(load_scenario(path, high)) == pytest.approx(
        {"green": 0.8, "yellow": 0.15, "red": 0.05})
    low = load_scenario(path, settings(s, p, 0.4))
    assert _shares(low) == pytest.approx({"green": 0.4, "yellow": 0.45, "red": 0.15})
    assert sum(_shares(low).values()) == pytest.approx(1, abs=1e-12)


def test_a_number_that_is_no_share_gives_exactly_the_old_assignments(tmp_path):
    s = load_scenario(_write(tmp_path))
    servers, mean = s.uncertain["gate_servers"], s.uncertain["gate_mean"]
    assert settings(s, servers, 3.0) == ["stages.gate.servers=3"]
    assert settings(s, mean, 4.5) == [assignment("stages.gate.service.mean", 4.5)]
    assert settings(s, mean, 6.0) == ["stages.gate.service.mean=6"]  # integral: an int
    assert sweep.assignment is assignment  # sweep reads it from the scenario layer
    assert is_integral(s, servers) and not is_integral(s, mean)
    assert not is_integral(s, s.uncertain["green_share"])
    assert siblings(s, servers) == [] and siblings(s, s.uncertain["green_share"]) == [
        f"{OPTIONS}.yellow.p", f"{OPTIONS}.red.p"]


def test_an_anchored_choose_rescales_at_each_place(tmp_path):
    path = _write(tmp_path, import_channel="*channel")
    s = load_scenario(path)
    p = s.uncertain["green_share"]
    assert p.paths == [f"{OPTIONS}.green.p", "routes.import.steps.1.options.green.p"]
    moved = load_scenario(path, settings(s, p, 0.8))
    for route in ("export", "import"):
        assert _shares(moved, route) == pytest.approx({"green": 0.8, "yellow": 0.15,
                                                       "red": 0.05})


def test_a_ranged_sibling_is_rescaled_too(tmp_path):
    path = _write(tmp_path, yellow="{value: 0.3, low: 0.2, high: 0.4, name: yellow_share}")
    s = load_scenario(path)
    moved = load_scenario(path, settings(s, s.uncertain["green_share"], 0.8))
    assert _shares(moved) == pytest.approx({"green": 0.8, "yellow": 0.15, "red": 0.05})
    assert "yellow_share" not in moved.uncertain  # a --set on a ranged place fixes it
    # both at once: each computed on what the previous left, so the shares still sum to 1
    both = joint_settings(s, [(s.uncertain["green_share"], 0.5),
                              (s.uncertain["yellow_share"], 0.4)])
    shares = _shares(load_scenario(path, both))
    assert shares["yellow"] == pytest.approx(0.4) and sum(shares.values()) == pytest.approx(1)


def test_a_share_at_one_leaves_its_siblings_nothing(tmp_path):
    path = _write(tmp_path, green="{value: 0.6, low: 0.4, high: 1, name: green_share}")
    s = load_scenario(path)
    top = settings(s, s.uncertain["green_share"], 1.0)
    assert top[0] == f"{OPTIONS}.green.p=1"
    assert _shares(load_scenario(path, top)) == {"green": 1, "yellow": 0, "red": 0}
    prepare(path, "time_in_system_h/system/mean", replications=2)  # both ends validate


def test_siblings_holding_nothing_share_the_rest_evenly(tmp_path):
    path = _write(tmp_path, green="{value: 1, low: 0.7, high: 1, name: green_share}",
                  yellow="0", red="0")
    s = load_scenario(path)
    moved = load_scenario(path, settings(s, s.uncertain["green_share"], 0.7))
    assert _shares(moved) == pytest.approx({"green": 0.7, "yellow": 0.15, "red": 0.15})
    plan = prepare(path, "time_in_system_h/system/mean", replications=2)
    assert _shares(plan.points[(0, "green_share", "high")]) == {"green": 1, "yellow": 0,
                                                                 "red": 0}


def test_sensitivity_of_a_ranged_share_runs_and_says_what_moved_with_it(tmp_path):
    path = _write(tmp_path, red="{value: 0.1, low: 0.05, high: 0.2, name: red_share}")
    r = gatesim.sensitivity(path, metric="time_in_system_h/system/mean", replications=2,
                            seed=3, only=["green_share", "gate_mean"])
    row = r.table.set_index("parameter").loc["green_share"]
    assert row.paths == f"{OPTIONS}.green.p"
    assert row.at_high < row.base < row.at_low  # more green, fewer inspections
    assert r.meta["rescaled"] == {"green_share": {
        "paths": [f"{OPTIONS}.yellow.p", f"{OPTIONS}.red.p"], "ranged": ["red_share"]}}
