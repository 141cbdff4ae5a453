"""Numbers written with a range: one parameter per range, aliases shared, --set fixes."""

from __future__ import annotations

import pytest

from gatesim.errors import ScenarioError
from gatesim.scenario.loader import load_scenario

BASE = """\
name: ranged
clock: {start: 2024-01-01 00:00, horizon_days: 3, warmup_days: 0}
yards: {queue: {slots: {value: 20, low: 10, high: 40, note: "assumption: a guess"}}}
stages:
  a: {servers: {value: 2, low: 1, high: 3, name: officers}, yard: queue,
      service: &desk {dist: exponential, mean: {value: 10, low: 5, high: 20}, unit: min}}
  b: {servers: 1, yard: queue, service: *desk}
arrivals: {t: {direction: import, cargo: general, rate_per_day: 100}}
routes: {only: {direction: import, cargo: general, steps: [{stage: a}, {stage: b}]}}
"""


def _load(tmp_path, text=BASE, overrides=(), name="s.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load_scenario(path, list(overrides))


def test_each_range_is_a_parameter_and_the_model_runs_on_its_value(tmp_path):
    s = _load(tmp_path)
    assert set(s.uncertain) == {"yards.queue.slots", "officers", "stages.a.service.mean"}
    assert s.yards["queue"].slots == 20 and isinstance(s.yards["queue"].slots, int)
    assert s.stages["a"].servers == 2
    p = s.uncertain["yards.queue.slots"]
    assert (p.value, p.low, p.high, p.note) == (20, 10, 40, "assumption: a guess")


def test_a_range_under_an_anchor_is_one_parameter_for_every_alias(tmp_path):
    s = _load(tmp_path)
    assert s.uncertain["stages.a.service.mean"].paths == ["stages.a.service.mean",
                                                          "stages.b.service.mean"]
    assert s.stages["b"].service.mean_h() == pytest.approx(10 / 60)


def test_a_variant_keeps_the_base_ranges_and_a_set_fixes_one_place(tmp_path):
    _load(tmp_path)
    variant = "extends: s.yaml\nname: variant\nstages: {b: {servers: 2}}\n"
    s = _load(tmp_path, variant, name="v.yaml")
    assert set(s.uncertain) == {"yards.queue.slots", "officers", "stages.a.service.mean"}
    s = _load(tmp_path, overrides=["stages.b.service.mean=12", "yards.queue.slots=30"])
    assert s.uncertain["stages.a.service.mean"].paths == ["stages.a.service.mean"]
    assert "yards.queue.slots" not in s.uncertain and s.yards["queue"].slots == 30


def test_a_set_may_give_a_range(tmp_path):
    s = _load(tmp_path, overrides=["stages.b.servers={value: 2, low: 1, high: 4}"])
    assert s.uncertain["stages.b.servers"].high == 4 and s.stages["b"].servers == 2


@pytest.mark.parametrize("bad", ["{value: 5, low: 10, high: 40}", "{value: 20, low: 40, high: 10}",
                                 "{value: 20, low: 20, high: 20}"])
def test_a_range_that_is_none_is_refused_in_one_line(tmp_path, bad):
    with pytest.raises(ScenarioError) as err:
        _load(tmp_path, BASE.replace("{value: 20, low: 10, high: 40, "
                                     'note: "assumption: a guess"}', bad))
    text = str(err.value)
    assert "\n" not in text and "yards.queue.slots" in text and "low < high" in text


def test_a_range_on_something_not_a_number_is_a_schema_error(tmp_path):
    with pytest.raises(ScenarioError, match="stages.a.yard"):
        _load(tmp_path, BASE.replace("yard: queue,", "yard: {value: 1, low: 0, high: 2},", 1))


CLOSING = ("calendars={gate: {weekly: [{windows: [{open: '07:00', close: %s}]}]}}",
           "stages.a.calendar=gate")


@pytest.mark.parametrize(("written", "kept"), [("19.5", "19:30"), ("24", "24:00"),
                                               ("'18:45'", "18:45"), ("20.999", "21:00")])
def test_a_clock_time_may_be_hours_after_midnight_kept_to_the_minute(tmp_path, written, kept):
    s = _load(tmp_path, overrides=[CLOSING[0] % written, CLOSING[1]])
    assert s.calendars["gate"].weekly[0].windows[0].close == kept


@pytest.mark.parametrize("written", ["24.5", "-1", "true", "1080"])
def test_hours_outside_a_day_are_refused(tmp_path, written):
    with pytest.raises(ScenarioError, match="hours after midnight from 0 to 24"):
        _load(tmp_path, overrides=[CLOSING[0] % written, CLOSING[1]])


def test_a_closing_hour_can_carry_a_range(tmp_path):
    s = _load(tmp_path, overrides=[
        CLOSING[0] % "{value: 19, low: 19, high: 23, name: closing}", CLOSING[1]])
    assert s.calendars["gate"].weekly[0].windows[0].close == "19:00"
    assert (s.uncertain["closing"].low, s.uncertain["closing"].high) == (19, 23)


def test_ranges_written_alike_under_one_name_are_one_parameter(tmp_path):
    s = _load(tmp_path, overrides=[
        "stages.a.servers={value: 2, low: 1, high: 3, name: officers}",
        "stages.b.servers={value: 2, low: 1, high: 3, name: officers}"])
    assert s.uncertain["officers"].paths == ["stages.a.servers", "stages.b.servers"]


def test_two_different_ranges_under_one_name_are_refused(tmp_path):
    with pytest.raises(ScenarioError, match="stages.b.servers.*same value, low and high"):
        _load(tmp_path, overrides=["stages.b.servers={value: 1, low: 1, high: 4, "
                                   "name: officers}"])


@pytest.mark.parametrize("name", ["{a: 1}", "[x]", "3"])
def test_a_range_whose_name_is_not_text_is_refused_in_one_line(tmp_path, name):
    with pytest.raises(ScenarioError, match="stages.b.servers"):
        _load(tmp_path, overrides=[f"stages.b.servers={{value: 1, low: 1, high: 4, "
                                   f"name: {name}}}"])
