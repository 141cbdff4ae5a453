"""Bad scenario input is refused cleanly.

The promise: a wrong scenario file or ``--set`` override raises ``ScenarioError`` (API), or makes
``gatesim run`` exit 2 with ONE stderr line ``gatesim: error: <file>: <path>: got ...; expected
...`` (CLI), naming the file and the field path, with no traceback and nothing written.

Most cases mutate the fixtures with ``--set``-style overrides; YAML-level cases write small files
into ``tmp_path``.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

import pytest

from gatesim import GatesimError, Scenario, ScenarioError, load_scenario

TESTS = Path(__file__).parent
SMALL = TESTS / "scenarios" / "small_gate.yaml"
MM1 = TESTS / "validation" / "mm1.yaml"
SMALL_TEXT = SMALL.read_text(encoding="utf-8")
MM1_TEXT = MM1.read_text(encoding="utf-8")
BOMB_SECONDS = 5.0
DOCUMENT = "<document>"  # how a message shows an error about the whole file (empty path)


def edit(text, old, new):
    """``text`` with the one occurrence of ``old`` replaced (fails loudly if the fixture moved)."""
    if text.count(old) != 1:
        raise ValueError(f"fixture text {old!r} not found exactly once")
    return text.replace(old, new)


def write_files(folder, files):
    """Write {name: str | bytes} into ``folder``; return the path of the first (the scenario)."""
    for name, content in files.items():
        target = folder / name
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
    return folder / next(iter(files))


def refused(path, overrides=()):
    """The ScenarioError that loading ``path`` must raise (a one-line GatesimError)."""
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, overrides)
    err = info.value
    assert isinstance(err, GatesimError)
    assert "\n" not in str(err), str(err)
    assert err.expected, str(err)
    return err


def assert_names(err, file_name, path_fragment, message_fragment=""):
    """The error names the file, the field path and (optionally) says something specific."""
    text = str(err)
    assert file_name in str(err.file), text
    assert text.startswith(f"{err.file}: "), text
    assert file_name in text, text
    shown_path = err.path or DOCUMENT
    assert path_fragment in shown_path, f"path {shown_path!r} lacks {path_fragment!r}: {text}"
    assert message_fragment in text, f"{message_fragment!r} not in: {text}"


# --- positive controls: the unmodified fixtures (and harmless changes) load ----------------


@pytest.mark.parametrize("fixture", [SMALL, MM1], ids=["small_gate", "mm1"])
def test_unmodified_fixture_loads(fixture):
    assert isinstance(load_scenario(fixture), Scenario)


def test_harmless_override_and_extends_load(tmp_path):
    s = load_scenario(SMALL, ["yards.front.slots=300", "calendars.gate_export.overrides=[]"])
    assert s.yards["front"].slots == 300
    child_text = f"extends: '{MM1}'\nclock: {{horizon_days: 100}}\n"  # deep merge keeps start
    child = write_files(tmp_path, {"child.yaml": child_text})
    s = load_scenario(child)
    assert (s.name, s.clock.horizon_days, s.clock.warmup_days) == ("mm1", 100, 50)


# --- field values: overrides on the fixtures ------------------------------------------------


def case(case_id, overrides, path, message="", fixture=SMALL, marks=()):
    return pytest.param(fixture, overrides, path, message, id=case_id, marks=marks)


WED_ONLY = "[{days: [wed], windows: [{open: '07:00', close: '18:00'}]}]"  # horizon: Thu..Tue
ALL_FEBRUARY_CLOSED = "[{start: 2024-02-01, end: 2024-02-29}]"
BRANCH = "routes.export_fresh.steps.1.options"
SERVICE = "stages.server.service"  # in mm1
GAPS = "arrivals.customers.interarrival"  # in mm1
PROFILE = "arrivals.export_fresh.hourly_profile"
WINDOW = "calendars.gate_export.weekly.0.windows.0"
WINDOW_PATH = "calendars.gate_export.weekly[0].windows[0]"
FLOOD = ["arrivals.customers.interarrival=null", "arrivals.customers.rate_per_day=1000000",
         "arrivals.customers.weekday_multipliers={mon: 1000, tue: 1000, wed: 1000, thu: 1000, "
         "fri: 1000, sat: 1000, sun: 1000}", "clock.horizon_days=10", "clock.warmup_days=0"]

FIELD_CASES = [
    # 1. unknown fields
    case("unknown_top_level", ["horizon=5"], "horizon", "check the spelling"),
    case("unknown_nested", ["stages.documents.srvers=2"], "stages.documents.srvers", "spelling"),
    case("unknown_in_lane_side", ["lanes.main.export.slots=3"], "lanes.main.export.slots"),
    case("unknown_in_step", ["routes.export_fresh.steps.0.stag=documents"],
         "routes.export_fresh.steps[0]", "check the spelling"),
    # 2. wrong types
    case("servers_string", ['stages.documents.servers="two"'], "stages.documents.servers",
         "got 'two'"),
    case("horizon_list", ["clock.horizon_days=[1]"], "clock.horizon_days", "got [1]"),
    case("step_is_string", ["routes.export_fresh.steps.0=documents"],
         "routes.export_fresh.steps[0]", "stage, lane, choose or exit"),
    case("service_is_number", ["stages.documents.service=5"], "stages.documents.service"),
    case("stage_is_null", ["stages.documents=null"], "stages.documents"),
    case("servers_fractional", ["stages.documents.servers=2.5"], "stages.documents.servers"),
    case("servers_boolean", ["stages.documents.servers=true"], "stages.documents.servers"),
    case("direction_misspelt", ["arrivals.export_fresh.direction=exports"],
         "arrivals.export_fresh.direction", "'export' or 'import'"),
    case("weekday_misspelt", ["calendars.customs_shifts.weekly.0.days=[monday]"],
         "calendars.customs_shifts.weekly[0].days[0]", "'mon'"),
    case("profile_too_short", ["arrivals.export_fresh.hourly_profile=[1, 2]"],
         "arrivals.export_fresh.hourly_profile"),
    case("start_with_utc_offset", ["clock.start=2024-02-08 00:00:00+07:00"], "clock.start"),
    # 3. out of range, NaN, inf
    case("negative_rate", ["arrivals.export_fresh.rate_per_day=-5"],
         "arrivals.export_fresh.rate_per_day", "got -5"),
    case("zero_servers", ["stages.documents.servers=0"], "stages.documents.servers", "got 0"),
    case("negative_slots", ["yards.front.slots=-3"], "yards.front.slots", "got -3"),
    case("negative_daily_cap", ["lanes.main.export.daily_cap.fresh=-1"],
         "lanes.main.export.daily_cap.fresh"),
    case("negative_horizon", ["clock.horizon_days=-1"], "clock.horizon_days", fixture=MM1),
    case("nan_servers", ["stages.documents.servers=.nan"], "stages.documents.servers", "finite"),
    case("nan_rate", ["arrivals.export_fresh.rate_per_day=.nan"],
         "arrivals.export_fresh.rate_per_day", "finite"),
    case("nan_service_mean", ["stages.documents.service.mean=.nan"],
         "stages.documents.service", "finite"),
    case("inf_rate", ["arrivals.export_fresh.rate_per_day=.inf"],
         "arrivals.export_fresh.rate_per_day", "finite"),
    case("inf_horizon", ["clock.horizon_days=.inf"], "clock.horizon_days", "finite"),
    case("inf_lane_capacity", ["lanes.main.export.capacity_per_hour=.inf"],
         "lanes.main.export.capacity_per_hour", "finite"),
    # 4. references
    case("missing_stage", ["routes.export_fresh.steps.0.stage=nope"],
         "routes.export_fresh.steps[0].stage", "got 'nope'"),
    case("missing_stage_in_branch", [f"{BRANCH}.red.steps.0.stage=nope"],
         "routes.export_fresh.steps[1].options.red.steps[0].stage", "got 'nope'"),
    case("missing_lane", ["routes.import_general.steps.0.lane=nope"],
         "routes.import_general.steps[0].lane", "got 'nope'"),
    case("missing_lane_in_list", ["routes.export_fresh.steps.3.lane=[smart, nope]"],
         "routes.export_fresh.steps[3].lane", "got 'nope'"),
    case("lane_without_that_side", ["routes.import_general.steps.0.lane=smart"],
         "routes.import_general.steps[0].lane", "'import' side"),
    case("empty_lane_list", ["routes.export_fresh.steps.3.lane=[]"],
         "routes.export_fresh.steps[3].lane"),
    case("missing_yard", ["stages.documents.yard=nope"], "stages.documents.yard", "got 'nope'"),
    case("missing_calendar", ["lanes.main.export.calendar=nope"], "lanes.main.export.calendar"),
    case("missing_overflow_road", ["yards.front.overflow=nope"], "yards.front.overflow"),
    case("missing_initial_stream", ["initial_state.0.stream=nope"], "initial_state[0].stream"),
    # 5. shares
    case("branch_shares_not_1", [f"{BRANCH}.green.p=0.6"], "routes.export_fresh.steps[1]",
         "sum to 1"),
    case("branch_share_negative", [f"{BRANCH}.green.p=-0.1", f"{BRANCH}.red.p=1.1"],
         "options.green.p"),
    case("site_shares_not_1", ["arrivals.export_fresh.site={a: 0.5, b: 0.6}"],
         "arrivals.export_fresh", "site shares must sum to 1"),
    case("attribute_share_above_1", ["attributes.predeclared=1.5"], "attributes.predeclared",
         "got 1.5"),
    case("stream_attribute_share_above_1", ["arrivals.export_fresh.attributes.predeclared=1.5"],
         "arrivals.export_fresh.attributes.predeclared", "got 1.5"),
    # 6. calendars open zero hours within the horizon
    case("lane_calendar_on_absent_weekday",
         [f"calendars.gate_export.weekly={WED_ONLY}", "calendars.gate_export.overrides=[]"],
         "calendars.gate_export", "open for some hours"),
    case("stage_calendar_closed_by_override",
         [f"calendars.customs_shifts.overrides={ALL_FEBRUARY_CLOSED}"],
         "calendars.customs_shifts", "open for some hours"),
    case("overlapping_windows",
         ["calendars.gate_export.weekly.0.windows=[{open: '07:00', close: '12:00'},"
          " {open: '11:00', close: '13:00', servers: 1}]"],
         "calendars.gate_export", "overlap"),
    # 11. clock, windows, distributions
    case("warmup_equals_horizon", ["clock.warmup_days=6"], "clock", "warmup_days"),
    case("warmup_beyond_horizon", ["clock.warmup_days=7"], "clock", "warmup_days"),
    case("start_not_on_hour", ["clock.start=2024-02-08 00:30"], "clock", "on the hour"),
    case("window_close_before_open", ["calendars.gate_export.weekly.0.windows.0.close='06:00'"],
         "calendars.gate_export.weekly[0].windows[0]", "close must be after open"),
    case("window_close_after_midnight", ["calendars.gate_export.weekly.0.windows.0.close='24:30'"],
         "calendars.gate_export.weekly[0].windows[0]", "HH:MM"),
    case("override_end_before_start", ["calendars.gate_export.overrides.0.end=2024-02-01"],
         "calendars.gate_export.overrides[0]", "end must not be before start"),
    case("unknown_distribution", ["stages.documents.service.dist=weibull"],
         "stages.documents.service", "weibull"),
    case("triangular_low_above_high", ["stages.inspection.service.low=100"],
         "stages.inspection.service", "low <= mode <= high"),
    case("uniform_low_above_high", ["lanes.main.crossing_time.low=20"],
         "lanes.main.crossing_time", "low < high"),
    case("rate_and_interarrival", ["arrivals.customers.rate_per_day=5"], "arrivals.customers",
         "exactly one", fixture=MM1),
    case("lane_with_no_side", ["lanes.smart.export=null"], "lanes.smart", "'export' or"),
    # 13. numbers the engine cannot honour (each crashed, hung or lost trucks at run time)
    case("gamma_cv_tiny", [f"{SERVICE}={{dist: gamma, mean: 1, cv: 1e-200}}"], SERVICE + ".cv",
         "between 0.001 and 10", fixture=MM1),
    case("gamma_cv_huge", [f"{SERVICE}={{dist: gamma, mean: 1, cv: 1e200}}"], SERVICE + ".cv",
         "between 0.001 and 10", fixture=MM1),
    case("gamma_cv_zero_gaps", [f"{GAPS}={{dist: gamma, mean: 1.25, cv: 1e5}}"], GAPS + ".cv",
         "between 0.001 and 10", fixture=MM1),
    case("lognormal_cv_zero_gaps", [f"{GAPS}={{dist: lognormal, mean: 1.25, cv: 1e100}}"],
         GAPS + ".cv", "between 0.001 and 10", fixture=MM1),
    case("lognormal_cv_just_above", [f"{SERVICE}={{dist: lognormal, mean: 1, cv: 10.001}}"],
         SERVICE + ".cv", "got 10.001", fixture=MM1),
    case("servers_beyond_float", [f"stages.documents.servers={10**400}"],
         "stages.documents.servers", "100000"),
    case("servers_above_max", ["stages.documents.servers=100001"], "stages.documents.servers",
         "got 100001"),
    case("window_servers_above_max",
         ["calendars.customs_shifts.weekly.0.windows.1.servers=1000000"],
         "calendars.customs_shifts.weekly[0].windows[1].servers", "100000"),
    case("slots_above_max", ["yards.front.slots=10000001"], "yards.front.slots", "1000000"),
    case("daily_cap_above_max", [f"lanes.main.export.daily_cap.total={10**30}"],
         "lanes.main.export.daily_cap.total"),
    case("initial_count_above_max", ["initial_state.0.count=1000001"], "initial_state[0].count"),
    case("profile_overflows_its_sum", [f"{PROFILE}=[{', '.join(['1e308'] * 24)}]"], PROFILE,
         "1e+09"),  # the sum is infinite: every hour got 0 trucks
    case("profile_subnormal", [f"{PROFILE}=[5e-324{', 0' * 23}]"], PROFILE + "[0]",
         "1e-09"),  # the mean is 0: a division by zero
    case("profile_all_subnormal", [f"{PROFILE}=[{', '.join(['5e-324'] * 24)}]"],
         PROFILE + "[0]", "1e-09"),
    case("exponential_mean_infinite_in_hours",
         [f"{SERVICE}={{dist: exponential, mean: 1e308, unit: d}}"], SERVICE + ".mean",
         "to 36600 d", fixture=MM1),  # ran, wrote results, then the report crashed
    case("constant_beyond_longest_horizon", [f"{SERVICE}={{dist: constant, value: 1e7}}"],
         SERVICE + ".value", "to 878400 h", fixture=MM1),
    case("constant_subnormal", [f"{SERVICE}={{dist: constant, value: 5e-324}}"],
         SERVICE + ".value", "a duration from 1e-09", fixture=MM1),  # its scv divided by 0
    case("triangular_high_beyond", [f"{SERVICE}={{dist: triangular, low: 0, mode: 1, "
                                    "high: 1e300, unit: s}"], SERVICE + ".high", "s", fixture=MM1),
    case("uniform_high_beyond", ["lanes.main.crossing_time.high=1e300"],
         "lanes.main.crossing_time.high", "100 years"),
    case("empirical_value_beyond", [f"{SERVICE}={{dist: empirical, values: [1, 1e300]}}"],
         SERVICE + ".values", "100 years", fixture=MM1),
    case("interarrival_mean_too_short",
         [f"{GAPS}={{dist: exponential, mean: 0.01, unit: s}}"], GAPS, "0.0864 s", fixture=MM1),
    case("rate_per_day_above_max", ["arrivals.export_fresh.rate_per_day=1000001"],
         "arrivals.export_fresh.rate_per_day", "1000000"),
    case("weekday_multiplier_huge", ["arrivals.export_general.weekday_multipliers.sun=1e300"],
         "arrivals.export_general.weekday_multipliers.sun", "1000"),
    case("date_factor_huge", ["arrivals.import_general.date_multipliers.0.factor=1e300"],
         "arrivals.import_general.date_multipliers[0].factor", "1000"),
    case("lane_capacity_huge", ["lanes.main.export.capacity_per_hour=1e300"],
         "lanes.main.export.capacity_per_hour", "100000"),
    case("lane_capacity_subnormal", ["lanes.main.export.capacity_per_hour=5e-324"],
         "lanes.main.export.capacity_per_hour", "0.000001"),  # its headway 1/capacity is infinite
    case("slot_cost_huge", ["yards.front.cost_per_slot_year=1e308"],
         "yards.front.cost_per_slot_year", "1000000000000000"),
    case("waiting_cost_huge", ["cargo={fresh: {waiting_cost_per_day: 1e308}}"],
         "cargo.fresh.waiting_cost_per_day", "1000000000000000"),
    case("time_budget_huge", ["cargo={fresh: {time_budget_h: 1e308}}"],
         "cargo.fresh.time_budget_h", "878400"),
    # 14. clock times: only HH:MM from 00:00 to 24:00, shown as written (YAML 1.1 read 25:00
    # and 18:00:00 as the numbers 1500 and 64800, and 7:5 as 07:05)
    case("close_25_00", [f"{WINDOW}.close=25:00"], f"{WINDOW_PATH}.close", "got '25:00'"),
    case("close_with_seconds", [f"{WINDOW}.close=18:00:00"], f"{WINDOW_PATH}.close",
         "got '18:00:00'"),
    case("open_without_padding", [f"{WINDOW}.open=7:5"], f"{WINDOW_PATH}.open", "got '7:5'"),
    case("open_at_24_00", [f"{WINDOW}.open='24:00'", f"{WINDOW}.close='24:00'"],
         f"{WINDOW_PATH}.open", "24:00 only as a close"),
    case("clock_time_as_number", [f"{WINDOW}.close=1080"], f"{WINDOW_PATH}.close", "got 1080"),
    case("clock_time_with_space", [f"{WINDOW}.close=' 18:00'"], f"{WINDOW_PATH}.close", "HH:MM"),
    # 15. routes a truck can leave before any stage or lane (found at run time before, in a
    # message that named no file or field)
    case("route_exit_first", ["routes.import_general.steps=[{exit: turned_back}, "
                              "{stage: release}]"],
         "routes.import_general.steps[0]", "before any stage or lane"),
    case("route_exit_in_first_branch",
         ["routes.import_general.steps=[{choose: c, options: {a: {p: 0.5, steps: "
          "[{exit: turned_back}]}, b: {p: 0.5}}}, {stage: release}]"],
         "routes.import_general.steps[0].options.a.steps[0]", "meets this exit"),
    case("route_every_step_skipped",
         ["routes.import_general.steps=[{stage: release, when: {predeclared: true}}]"],
         "routes.import_general.steps", "predeclared=False"),
    case("route_step_for_an_untaken_option",
         ["routes.export_general.steps=[{choose: ch, options: {a: {p: 0.5}, b: {p: 0.5}}}, "
          "{stage: inspection, when: {ch: b}}]"],
         "routes.export_general.steps", "ch=a"),
    case("route_step_for_another_cargo",
         ["routes.export_general.steps=[{stage: quarantine, when: {cargo: fresh}}]"],
         "routes.export_general.steps", "before any stage or lane"),
]


@pytest.mark.parametrize(("fixture", "overrides", "path", "message"), FIELD_CASES)
def test_bad_field_is_refused(fixture, overrides, path, message):
    assert_names(refused(fixture, overrides), fixture.name, path, message)


# --- 12. malformed --set assignments: the error names --set itself ---------------------------

SET_CASES = [
    pytest.param("stages.documents.servers", "stages.documents.servers", "=value", id="no_equals"),
    pytest.param("name.x=1", "name.x", "through mappings", id="through_scalar"),
    pytest.param("roads.x=1", "roads.x", "through mappings", id="name_into_list"),
    pytest.param("routes.export_fresh.steps.9.lane=main", "steps.9", "through", id="index_too_big"),
    pytest.param("=5", DOCUMENT, "dotted field path", id="empty_path"),
    pytest.param("stages..servers=1", "stages..servers", "dotted field path", id="empty_part"),
]


@pytest.mark.parametrize(("assignment", "path", "message"), SET_CASES)
def test_malformed_set_is_refused(assignment, path, message):
    err = refused(SMALL, [assignment])
    assert err.file == "--set"
    assert_names(err, "--set", path, message)


def test_mapping_overrides_reach_list_items_like_set_strings():
    assert load_scenario(MM1, {"routes.only.steps.0.stage": "server"}).name == "mm1"


# --- 7, 8, 9: files that are not a readable scenario mapping --------------------------------


def file_case(case_id, files, path, message="", file=None, marks=()):
    """Files to write (the first is loaded); ``file``: the one the error names (default first)."""
    return pytest.param(files, file or next(iter(files)), path, message, id=case_id, marks=marks)


FILE_CASES = [
    # 7. unreadable YAML, not a mapping, empty, not UTF-8
    file_case("yaml_syntax_error", {"s.yaml": "name: x\nroads: [a, b\nyards: {}\n"}, "line 3",
              "valid YAML"),
    file_case("yaml_bad_indent", {"s.yaml": "name: x\n  bad: indent\n"}, "line 2", "valid YAML"),
    file_case("yaml_tab_indent", {"s.yaml": "name: x\nroads:\n\t- a\n"}, "line 3", "valid YAML"),
    file_case("two_documents", {"s.yaml": "name: a\n---\nname: b\n"}, "line 2", "valid YAML"),
    file_case("python_tag", {"s.yaml": "name: !!python/object/apply:os.getcwd []\n"}, "line 1"),
    file_case("list_document", {"s.yaml": "- name: a\n- name: b\n"}, DOCUMENT, "mapping"),
    file_case("scalar_document", {"s.yaml": "small_gate\n"}, DOCUMENT, "mapping"),
    file_case("empty_file", {"s.yaml": ""}, DOCUMENT, "mapping"),
    file_case("comments_only", {"s.yaml": "# nothing yet\n"}, DOCUMENT, "mapping"),
    file_case("utf16_from_notepad", {"s.yaml": MM1_TEXT.encode("utf-16")}, DOCUMENT, "UTF-8"),
    file_case("cp1252_bytes", {"s.yaml": "name: Café\n".encode("cp1252")}, DOCUMENT, "UTF-8"),
    file_case("deep_nesting", {"s.yaml": "name: " + "[" * 5000 + "]" * 5000 + "\n"}, DOCUMENT,
              "levels"),
    file_case("missing_required_field",
              {"s.yaml": edit(MM1_TEXT, "clock:\n", "clock_:\n")}, "clock"),
    file_case("field_renamed_by_typo",
              {"s.yaml": edit(SMALL_TEXT, "servers: 2\n    yard: front",
                              "srvers: 2\n    yard: front")},
              "stages.documents"),
    # 8. duplicate keys
    file_case("duplicate_top_level_key", {"s.yaml": "name: a\nname: b\n"}, "line 2", "'name'"),
    file_case("duplicate_nested_key",
              {"s.yaml": "name: a\nstages:\n  documents:\n    servers: 2\n    servers: 3\n"},
              "line 5", "'servers'"),
    file_case("duplicate_key_in_fixture",
              {"s.yaml": edit(SMALL_TEXT, "  horizon_days: 6\n",
                              "  horizon_days: 6\n  horizon_days: 60\n")},
              "line", "'horizon_days'"),
    file_case("unhashable_key", {"s.yaml": "? [a, b]\n: x\nname: a\n"}, "line 1"),
    # 9. extends
    file_case("extends_missing_file", {"child.yaml": "extends: nope.yaml\nname: c\n"}, "extends",
              "nope.yaml"),
    file_case("extends_not_a_path", {"child.yaml": "extends: [a.yaml]\n"}, "extends"),
    file_case("extends_cycle", {"a.yaml": "extends: b.yaml\nname: a\n",
                                "b.yaml": "extends: a.yaml\nname: b\n"}, "extends",
              "a.yaml -> b.yaml -> a.yaml", file="b.yaml"),
    file_case("extends_itself", {"a.yaml": "extends: a.yaml\nname: a\n"}, "extends",
              "a.yaml -> a.yaml"),
    # 14. clock times written unquoted in the file: shown as written, not as base-60 numbers
    file_case("unquoted_close_25_00",
              {"s.yaml": edit(SMALL_TEXT, 'close: "23:00"', "close: 25:00")},
              "calendars.gate_import.weekly[0].windows[0].close", "got '25:00'"),
    file_case("unquoted_open_7_5", {"s.yaml": edit(SMALL_TEXT, 'open: "08:00"', "open: 8:0")},
              "calendars.gate_import.weekly[0].windows[0].open", "got '8:0'"),
    # 16. merge keys are YAML, and the guards still hold inside them
    file_case("merge_key_duplicate_inside",
              {"s.yaml": edit(MM1_TEXT, "    servers: 1\n",
                              "    <<: {servers: 2, servers: 3}\n")},
              "line", "each key only once"),
    file_case("merge_key_twice",
              {"s.yaml": "base: &b {servers: 1}\nname: x\nstages:\n  s: {<<: *b, <<: *b}\n"},
              "line 4", "'<<'"),
    file_case("merge_key_not_a_mapping", {"s.yaml": edit(MM1_TEXT, "    servers: 1\n",
                                                          "    <<: 5\n")},
              "line", "valid YAML"),
]


@pytest.mark.parametrize(("files", "file", "path", "message"), FILE_CASES)
def test_bad_file_is_refused(tmp_path, files, file, path, message):
    assert_names(refused(write_files(tmp_path, files)), file, path, message)


@pytest.mark.parametrize("kind", ["missing", "directory"])
def test_unreadable_path_is_refused(tmp_path, kind):
    scenario = tmp_path / "scenario.yaml"
    if kind == "directory":
        scenario.mkdir()
    assert_names(refused(scenario), "scenario.yaml", DOCUMENT, "readable")


# --- 17. files that are no scenario: never opened, or never echoed ------------------------
# `extends: ~/.env` printed `DB_PASSWORD: got 'hunter2-secret'`, `extends: /etc/shadow` its
# first line: only *.yaml/*.yml files are read, and a file with no scenario field is described
# (a string, a mapping with unknown fields), never shown.

SECRET = "hunter2-secret"
SECRETS = {  # name -> content of a file that is not a scenario
    ".env": f"DB_PASSWORD={SECRET}\nAPI_KEY=sk-{SECRET}\n",
    "shadow": f"root:$6${SECRET}$x:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n",
    "secret.yaml": f"DB_PASSWORD: {SECRET}\n",
    "secret.yml": f"db:\n  password: {SECRET}\n",
    "shadow.yaml": f"root:$6${SECRET}$x:19000:0:99999:7:::\n",
    "env_text.yaml": f"DB_PASSWORD={SECRET}\n",
    "list.yaml": f"- {SECRET}\n",
    "mixed.yaml": f"name: x\nDB_PASSWORD: {SECRET}\n",  # one scenario field, one secret
}
NOT_YAML = {".env", "shadow"}


def secret_case(name, via):
    return pytest.param(name, via, id=f"{via}:{name}")


@pytest.mark.parametrize(("name", "via"), [secret_case(n, v) for n in SECRETS
                                           for v in ("scenario", "extends", "link")])
def test_a_file_that_is_no_scenario_is_never_echoed(tmp_path, name, via):
    write_files(tmp_path, {name: SECRETS[name]})
    if via == "scenario":
        scenario = tmp_path / name
    else:
        target = name
        if via == "link":  # a *.yaml link to it
            (tmp_path / "link.yaml").symlink_to(tmp_path / name)
            target = "link.yaml"
        scenario = write_files(tmp_path, {"variant.yaml": f"extends: {target}\nname: v\n"})
    err = refused(scenario)
    assert SECRET not in str(err) and SECRET not in repr(err.value), str(err)
    assert "$6$" not in str(err) and "root:" not in str(err), str(err)
    if name in NOT_YAML or (via == "link" and name in NOT_YAML):
        assert "*.yaml or *.yml" in str(err), str(err)
    elif via == "scenario" and name == "mixed.yaml":
        assert_names(err, name, "DB_PASSWORD", "got a string")  # named, not shown
    elif via == "scenario":
        assert_names(err, name, DOCUMENT, "got a")
    elif name == "mixed.yaml":
        assert_names(err, target, "DB_PASSWORD", "got a string")
    else:  # the variant's extends names a file that is no scenario
        assert_names(err, "variant.yaml", "extends", f"got '{target}', a")


def test_scenario_file_must_be_named_yaml(tmp_path):
    for name in ("mm1.yml", "MM1.YAML"):
        assert load_scenario(write_files(tmp_path, {name: MM1_TEXT})).name == "mm1"
    for name in ("mm1.txt", "mm1.yaml.bak", "mm1"):
        err = refused(write_files(tmp_path, {name: MM1_TEXT}))
        assert_names(err, name, DOCUMENT, "*.yaml or *.yml")
    (tmp_path / "link.yaml").symlink_to(tmp_path / "mm1.txt")  # the name alone is not enough
    assert_names(refused(tmp_path / "link.yaml"), "link.yaml", DOCUMENT, "*.yaml or *.yml")
    (tmp_path / "loop1.yaml").symlink_to(tmp_path / "loop2.yaml")  # a link loop: no traceback
    (tmp_path / "loop2.yaml").symlink_to(tmp_path / "loop1.yaml")
    assert_names(refused(tmp_path / "loop1.yaml"), "loop1.yaml", DOCUMENT, "*.yaml or *.yml")


def test_extends_of_a_file_not_named_yaml_is_not_even_looked_for(tmp_path):
    # an existing and a missing target get the same answer: nothing is learnt about the disk
    answers = set()
    for target in ("/etc/passwd", "/no/such/file", "~/.ssh/id_rsa"):
        child = write_files(tmp_path, {"child.yaml": f"extends: {target}\nname: c\n"})
        err = refused(child)
        assert_names(err, "child.yaml", "extends", "*.yaml or *.yml")
        answers.add(err.expected)
    assert len(answers) == 1


def test_unknown_top_level_field_is_named_but_its_value_not_shown(tmp_path):
    err = refused(write_files(tmp_path, {"s.yaml": MM1_TEXT + f"db_password: {SECRET}\n"}))
    assert_names(err, "s.yaml", "db_password", "got a string; expected no such field")
    err = refused(MM1, [f"api_key={SECRET}"])  # the same through --set
    assert_names(err, "mm1.yaml", "api_key", "got a string")
    assert SECRET not in str(err)


# --- 10. alias bombs: refused within BOMB_SECONDS, in a forked child with a memory cap -------


def lol_keys(levels, width=9):
    """The classic billion laughs: top-level keys, each a list of aliases of the previous."""
    lines = [f"l0: &l0 [{', '.join(['lol'] * width)}]"]
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def nested_lists(levels, width=9):
    """One flow value that expands to width**levels strings (anchors defined inline)."""
    node = f"&a0 [{', '.join(['lol'] * width)}]"
    for i in range(1, levels):
        node = f"&a{i} [{node}, {', '.join([f'*a{i - 1}'] * (width - 1))}]"
    return node


def nested_branches(levels, width=9):
    """A route step that expands to width**levels valid steps: branches of branches."""
    node = "&s0 {stage: server}"
    for i in range(1, levels):
        aliases = ", ".join([f"*s{i - 1}"] * (width - 1))
        node = f"&s{i} {{choose: c{i}, options: {{o: {{p: 1, steps: [{node}, {aliases}]}}}}}}"
    return node


def merge_bomb(levels, width=9):
    """Billion laughs through merge keys: each level merges the last and holds it ``width``
    times."""
    lines = [f"m0: &m0 {{{', '.join(f'k{j}: lol' for j in range(width))}}}"]
    for i in range(1, levels):
        held = ", ".join(f"k{j}: *m{i - 1}" for j in range(width))
        lines.append(f"m{i}: &m{i} {{<<: *m{i - 1}, {held}}}")
    return "\n".join(lines) + "\n"


BOMBS = [
    pytest.param(merge_bomb(9) + MM1_TEXT, id="billion_laughs_merge_keys"),
    pytest.param(lol_keys(9) + MM1_TEXT, id="billion_laughs_keys"),
    pytest.param("x: &x 1\nmany: [" + ", ".join(["*x"] * 300) + "]\n" + MM1_TEXT,
                 id="too_many_aliases"),
    pytest.param(edit(MM1_TEXT, "name: mm1\n", f"name: mm1\ndescription: {nested_lists(9)}\n"),
                 id="billion_laughs_in_description"),
    pytest.param(edit(MM1_TEXT, "      - stage: server", f"      - {nested_branches(9)}"),
                 id="billion_branches_in_route"),
]


def _load_in_child(path, send):
    used = int(Path("/proc/self/statm").read_text().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = used + 2**31  # 2 GiB more than the forked test process already maps
    resource.setrlimit(resource.RLIMIT_AS, (cap if hard < 0 else min(cap, hard), hard))
    try:
        load_scenario(path)
        send.send(("loaded", ""))
    except ScenarioError as exc:
        send.send(("ScenarioError", str(exc)))
    except BaseException as exc:
        send.send((type(exc).__name__, str(exc)[:200]))


def load_with_deadline(path, seconds):
    """(outcome, message) of loading ``path`` in a forked child killed after ``seconds``."""
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_load_in_child, args=(path, send), daemon=True)
    child.start()
    try:
        if receive.poll(seconds):
            return receive.recv()
        return "timeout", f"no answer within {seconds} s"
    finally:
        child.kill()
        child.join()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses fork and /proc")
@pytest.mark.parametrize("text", BOMBS)
def test_alias_bomb_is_refused_quickly(tmp_path, text):
    scenario = write_files(tmp_path, {"bomb.yaml": text})
    assert len(text) < 5000  # the point: a tiny file
    started = time.monotonic()
    outcome, message = load_with_deadline(scenario, BOMB_SECONDS)
    assert outcome == "ScenarioError", f"{outcome}: {message}"
    assert time.monotonic() - started < BOMB_SECONDS
    assert "bomb.yaml" in message


def busy_century():
    """MM1 over 100 years with a calendar of 14 rules x 48 windows a day: 25 million intervals
    if compiled (the load took minutes and gigabytes to check it)."""
    windows = ", ".join(f"{{open: '{h:02d}:{m:02d}', close: '{h:02d}:{m + 15:02d}'}}"
                        for h in range(24) for m in (0, 30))
    text = edit(MM1_TEXT, "horizon_days: 2000", "horizon_days: 36600")
    text = edit(text, "    yard: queue\n", "    yard: queue\n    calendar: busy\n")
    return text + "calendars:\n  busy:\n    weekly:\n" + f"      - windows: [{windows}]\n" * 14


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses fork and /proc")
def test_busy_calendar_over_a_century_is_checked_quickly(tmp_path):
    outcome, message = load_with_deadline(write_files(tmp_path, {"busy.yaml": busy_century()}),
                                          BOMB_SECONDS)
    assert outcome == "loaded", f"{outcome}: {message}"
    overlapping = busy_century() + (
        "    overrides: [{start: 2100-01-01, end: 2100-01-01, windows: [{open: '07:00', "
        "close: '09:00'}, {open: '08:00', close: '10:00', servers: 1}]}]\n")
    outcome, message = load_with_deadline(write_files(tmp_path, {"late.yaml": overlapping}),
                                          BOMB_SECONDS)  # a fault in year 76 is still found
    assert outcome == "ScenarioError" and "calendars.busy" in message, f"{outcome}: {message}"
    assert "overlap at hour 666224" in message, message  # 2100-01-01 08:00


# --- CLI: exit 2, one stderr line, no traceback, nothing written -----------------------------


class CliCase(NamedTuple):
    files: dict  # written into the case's own empty folder
    args: list  # after `run <scenario>`
    expect: list  # fragments of the one stderr line
    scenario: str = "scenario.yaml"
    absent: tuple = ()  # fragments it must not hold


CLI_CASES = {
    "dated_stoppage_utc_offset": CliCase(
        {"scenario.yaml": MM1_TEXT + "stoppages:\n  strike:\n    at: [server]\n"
         "    dated: [{start: '2024-01-02 06:00+07:00', end: '2024-01-02 12:00+07:00'}]\n"},
        [], ["scenario.yaml", "stoppages.strike.dated[0]"]),
    "unknown_field": CliCase({"scenario.yaml": SMALL_TEXT + "horizon: 5\n"}, [],
                             ["scenario.yaml", ": horizon: ", "spelling"]),
    "missing_file": CliCase({}, [], ["missing.yaml", DOCUMENT, "readable"], "missing.yaml"),
    "yaml_syntax_error": CliCase({"scenario.yaml": "name: x\nroads: [a, b\nyards: {}\n"}, [],
                                 ["scenario.yaml", "line 3"]),
    "missing_stage": CliCase({"scenario.yaml": edit(SMALL_TEXT, "- stage: quarantine",
                                                    "- stage: quarantin")}, [],
                             ["scenario.yaml", "routes.export_fresh.steps[2].stage", "quarantin"]),
    "set_without_equals": CliCase({"scenario.yaml": MM1_TEXT}, ["--set", "stages.server.servers"],
                                  ["--set", "stages.server.servers", "=value"]),
    "set_through_scalar": CliCase({"scenario.yaml": MM1_TEXT}, ["--set", "name.x=1"],
                                  ["--set", "name.x"]),
    "set_bad_value": CliCase({"scenario.yaml": MM1_TEXT}, ["--set", "stages.server.servers=0"],
                             ["scenario.yaml", "stages.server.servers", "got 0"]),
    "unhashable_key": CliCase({"scenario.yaml": "? [a, b]\n: x\nname: a\n"}, [],
                              ["scenario.yaml", "line 1"]),
    "extends_a_secret": CliCase({"scenario.yaml": "extends: secret.yaml\n",
                                 "secret.yaml": f"DB_PASSWORD: {SECRET}\n"}, [],
                                ["scenario.yaml", ": extends: ", "unknown fields"],
                                absent=(SECRET, "DB_PASSWORD")),
    "secret_as_scenario": CliCase({".env": f"DB_PASSWORD={SECRET}\n"}, [],
                                  [".env", "*.yaml or *.yml"], ".env", absent=(SECRET,)),
    "gamma_zero_gaps": CliCase({"scenario.yaml": MM1_TEXT},
                               ["--set", f"{GAPS}={{dist: gamma, mean: 1.25, cv: 1e5}}"],
                               ["scenario.yaml", f"{GAPS}.cv", "between 0.001 and 10"]),
    "report_crash_mean": CliCase({"scenario.yaml": MM1_TEXT},
                                 ["--set", f"{SERVICE}={{dist: exponential, mean: 1e308, "
                                  "unit: d}"], ["scenario.yaml", f"{SERVICE}.mean"]),
    "clock_time_25_00": CliCase({"scenario.yaml": edit(SMALL_TEXT, 'close: "23:00"',
                                                       "close: 25:00")}, [],
                                ["scenario.yaml", "windows[0].close", "got '25:00'"]),
    "route_exit_first": CliCase({"scenario.yaml": edit(MM1_TEXT, "      - stage: server",
                                                       "      - exit: turned_back\n"
                                                       "      - stage: server")}, [],
                                ["scenario.yaml", "routes.only.steps[0]", "before any stage"]),
    # day-to-day variability (issue 15): a name, a replay file, the work a replay brings
    "unknown_factor": CliCase({"scenario.yaml": MM1_TEXT + "factors: {busy: {cv: 0.2}}\n"},
                              ["--set", "stages.server.servers_factor=bussy"],
                              ["scenario.yaml", "stages.server.servers_factor", "got 'bussy'",
                               "did you mean 'busy'?"]),
    "replay_missing": CliCase({"scenario.yaml": MM1_TEXT},
                              ["--set", f"{GAPS}=null", "--set",
                               "arrivals.customers.replay=gate_log.csv"],
                              ["gate_log.csv", "(arrivals.customers.replay)", "readable CSV"]),
    "replay_too_much_work": CliCase(
        {"scenario.yaml": edit(MM1_TEXT, "horizon_days: 2000", "horizon_days: 3")
         .replace("warmup_days: 50", "warmup_days: 0").replace(
             "interarrival: {dist: exponential, mean: 1.25, unit: h}", "replay: log.csv"),
         "log.csv": "hours\n" + "".join(f"{i * 72 / 25_000}\n" for i in range(25_000))},
        ["-r", "2001"], ["mm1", "50,025,000 trucks", "--allow-large"]),
}
CLI_BUGS: dict = {}


@pytest.fixture(scope="module")
def cli_runs(tmp_path_factory):
    """Start every CLI case at once (each start-up imports numpy/pandas, ~1.5 s)."""
    runs = {}
    for case_id, case in {**CLI_CASES, **{k: v[1] for k, v in CLI_BUGS.items()}}.items():
        folder = tmp_path_factory.mktemp(case_id)
        if case.files:
            write_files(folder, case.files)
        before = sorted(p.name for p in folder.iterdir())
        cmd = [sys.executable, "-m", "gatesim.cli", "run", str(folder / case.scenario),
               "--out", str(folder / "out"), "-r", "1", "-w", "1", *case.args]
        proc = subprocess.Popen(cmd, cwd=folder, text=True, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        runs[case_id] = proc, folder, before
    yield runs
    for proc, _, _ in runs.values():
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


@pytest.mark.parametrize("case_id", [*CLI_CASES, *(
    pytest.param(k, marks=pytest.mark.xfail(strict=True, reason=v[0]), id=k)
    for k, v in CLI_BUGS.items())])
def test_cli_refuses_with_one_line_and_writes_nothing(cli_runs, case_id):
    proc, folder, before = cli_runs[case_id]
    stdout, stderr = proc.communicate(timeout=120)
    assert "Traceback" not in stdout + stderr, stderr
    assert proc.returncode == 2, stderr
    assert stdout == ""
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("gatesim: error: "), stderr
    case = CLI_CASES[case_id] if case_id in CLI_CASES else CLI_BUGS[case_id][1]
    for fragment in case.expect:
        assert fragment in lines[0], f"{fragment!r} not in: {lines[0]}"
    for fragment in case.absent:
        assert fragment not in lines[0], f"{fragment!r} shown in: {lines[0]}"
    assert not (folder / "out").exists()
    assert sorted(p.name for p in folder.iterdir()) == before  # no partial or results/ dirs


def test_unquoted_clock_time_is_read_as_the_time_it_looks_like():
    # YAML 1.1 reads an unquoted 18:00 as the sexagesimal number 1080; gatesim takes it back
    s = load_scenario(SMALL, ["calendars.gate_export.weekly.0.windows.0.close=18:00"])
    assert s.calendars["gate_export"].weekly[0].windows[0].close == "18:00"


def test_set_through_a_yaml_alias_changes_that_path_only(tmp_path):
    f = tmp_path / "aliased.yaml"
    f.write_text(MM1_TEXT.replace("servers: 1", "servers: 1\n    calendar: null")
                 .replace("  server:\n", "  other: &s {servers: 2, yard: queue, service: "
                          "{dist: constant, value: 1}}\n  twin: *s\n  server:\n")
                 .replace("      - stage: server\n", "      - stage: server\n      - stage: other\n"
                          "      - stage: twin\n"))
    s = load_scenario(f, ["stages.twin.servers=7"])
    assert (s.stages["twin"].servers, s.stages["other"].servers) == (7, 2)


def test_extends_can_empty_a_mapping(tmp_path):
    child = tmp_path / "child.yaml"
    child.write_text(f"extends: {SMALL}\nlanes:\n  smart:\n    eligible: {{}}\n")
    assert load_scenario(child).lanes["smart"].eligible == {}
    assert load_scenario(SMALL).lanes["smart"].eligible == {"predeclared": True}


# --- 16. YAML merge keys (`<<: *anchor`) are YAML: taken, the key written beside them wins ----


def test_merge_keys_are_accepted(tmp_path):
    text = edit(MM1_TEXT, "  server:\n", "  server: &server\n")
    text = edit(text, "arrivals:\n", "  spare:\n    <<: *server\n    servers: 3\narrivals:\n")
    text = edit(text, "      - stage: server\n", "      - stage: server\n      - stage: spare\n")
    s = load_scenario(write_files(tmp_path, {"merged.yaml": text}))
    assert (s.stages["server"].servers, s.stages["spare"].servers) == (1, 3)
    assert s.stages["spare"].service == s.stages["server"].service


def test_merge_keys_with_anchors_load(tmp_path):
    text = edit(MM1_TEXT, "    yard: queue\n", "    yard: queue\n    calendar: day\n")
    text = edit(text, "arrivals:\n", "  late_server: {servers: 1, yard: queue, calendar: late, "
                "service: {dist: constant, value: 1}}\narrivals:\n")
    text = edit(text, "      - stage: server\n", "      - stage: server\n"
                "      - stage: late_server\n")
    text = f"""{text}calendars:
  day: &day
    weekly:
      - windows: [{{open: "07:00", close: "19:00"}}]
  late:
    <<: *day
    clock_offset_h: 1
"""
    s = load_scenario(write_files(tmp_path, {"anchored.yaml": text}))
    assert s.calendars["late"].weekly == s.calendars["day"].weekly
    assert (s.calendars["day"].clock_offset_h, s.calendars["late"].clock_offset_h) == (0, 1)
    s = load_scenario(MM1, ["stages.server={<<: {servers: 4, yard: queue}, "
                            "service: {dist: constant, value: 1}}"])  # and in a --set value
    assert s.stages["server"].servers == 4


# --- 18. a variant that changes a distribution's family replaces its parameters ------------


def test_variant_can_change_a_distribution_family(tmp_path):
    base = edit(MM1_TEXT, "service: {dist: exponential, mean: 1.0, unit: h}",
                "service: {dist: lognormal, mean: 1.0, cv: 0.5, unit: h}")
    files = {"variant.yaml": "extends: base.yaml\nstages:\n  server:\n"
                             "    service: {dist: exponential, mean: 0.9}\n",
             "base.yaml": base}
    s = load_scenario(write_files(tmp_path, files))
    assert s.stages["server"].service.dist == "exponential"
    assert (s.stages["server"].service.mean, s.stages["server"].service.unit) == (0.9, "h")
    # the same family, or no dist: still a deep merge (the base's cv and unit are kept)
    for over in ("{mean: 0.9}", "{dist: lognormal, mean: 0.9}"):
        files["variant.yaml"] = f"extends: base.yaml\nstages:\n  server:\n    service: {over}\n"
        service = load_scenario(write_files(tmp_path, files)).stages["server"].service
        assert (service.dist, service.mean, service.cv) == ("lognormal", 0.9, 0.5)


# --- 13. distribution bounds: the inverse CDF keeps the declared mean at them --------------


@pytest.mark.parametrize("dist", ["lognormal", "gamma"])
@pytest.mark.parametrize("where", ["low", "high"])
def test_cv_bounds_keep_the_declared_mean(dist, where):
    import numpy as np

    from gatesim.scenario.distributions import CV_MAX, CV_MIN

    cv = CV_MIN if where == "low" else CV_MAX
    law = load_scenario(MM1, [f"{SERVICE}={{dist: {dist}, mean: 2, cv: {cv}}}"]
                        ).stages["server"].service
    n = 1_000_000
    stratified = law.ppf_h((np.arange(n) + 0.5) / n)  # the inverse CDF itself, no noise
    drawn = law.ppf_h(np.random.default_rng(7).random(n))  # uniforms as the engine draws them
    edges = law.ppf_h(np.array([0.0, 2.0**-53, 1 - 2.0**-53]))
    assert np.isfinite(edges).all() and (edges >= 0).all()
    assert stratified.mean() == pytest.approx(2, rel=0.005)
    assert drawn.mean() == pytest.approx(2, rel=0.05)
    if where == "low":  # still a spread, not a constant (at cv 10 the sample cv converges
        assert np.std(stratified) / stratified.mean() == pytest.approx(cv, rel=0.05)  # slowly)
    for beyond in (cv * 0.99, cv * 1.01):
        if not CV_MIN <= beyond <= CV_MAX:
            assert_names(refused(MM1, [f"{SERVICE}={{dist: {dist}, mean: 2, cv: {beyond}}}"]),
                         "mm1.yaml", SERVICE + ".cv", "between")


# --- 19. the engine's guard: a stream that floods one simulated hour ends in an error ------


def _clock(scenario):
    from gatesim.engine.arrivals import ArrivalClock

    return ArrivalClock(scenario.arrivals["customers"], "customers", scenario.clock.start,
                        scenario.clock.horizon_days * 24, 1, 0)


@pytest.mark.parametrize("law", ["flooding_rate", "zero_gaps"])
def test_arrival_flood_ends_in_an_error(law):
    from gatesim.engine.arrivals import MAX_ARRIVALS_PER_HOUR

    if law == "flooding_rate":  # each number in bounds; together 42 million trucks an hour
        scenario = load_scenario(MM1, FLOOD)
    else:  # mean gap 130 s, but nearly every gap 0: time would not advance
        values = [0.0] * 99_999 + [3600.0]
        scenario = load_scenario(MM1, {GAPS: {"dist": "empirical", "values": values}})
    clock = _clock(scenario)
    started = time.monotonic()
    with pytest.raises(GatesimError) as info:
        for _ in range(3 * MAX_ARRIVALS_PER_HOUR):
            clock.next()
    assert time.monotonic() - started < 10
    text = str(info.value)
    assert "arrivals.customers" in text and "per hour" in text or "all at hour" in text, text
    assert "\n" not in text


def test_cli_arrival_flood_ends_in_one_line_within_seconds(tmp_path):
    # a run-time failure of a replication (exit 1 or 2, by the runner's rules), not a hang
    scenario = write_files(tmp_path, {"scenario.yaml": MM1_TEXT})
    cmd = [sys.executable, "-m", "gatesim.cli", "run", str(scenario), "--out",
           str(tmp_path / "out"), "-r", "1", "-w", "1", "-q", "--allow-large",
           *(x for o in FLOOD for x in ("--set", o))]
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}

    def cap_memory():  # the hang it replaces grew by ~190 MB/s
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        resource.setrlimit(resource.RLIMIT_AS, (4 * 2**30 if hard < 0 else min(4 * 2**30, hard),
                                                hard))

    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=tmp_path, text=True, capture_output=True, timeout=30,
                          env=env, preexec_fn=cap_memory)
    assert time.monotonic() - started < 30
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    assert proc.returncode in (1, 2), proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("gatesim: error: "), proc.stderr
    assert "arrivals.customers" in lines[0] and "within one simulated hour" in lines[0]


def test_arrival_guard_leaves_busy_streams_alone():
    scenario = load_scenario(MM1, [*FLOOD[:2], "clock.horizon_days=2", "clock.warmup_days=0"])
    clock = _clock(scenario)  # a million trucks a day is 41 667 an hour: under the guard
    n = 0
    while clock.next() < float("inf"):
        n += 1
    assert n > 1_900_000


def test_report_sources_follow_only_yaml_files(tmp_path):
    from gatesim.scenario.sources import sources

    write_files(tmp_path, {"secret.env": f"DB_PASSWORD: {SECRET}  # assumption: none\n"})
    variant = write_files(tmp_path, {"v.yaml": "extends: secret.env\nname: v  # src: §1\n"})
    notes, rows = sources(variant)
    assert [r["field"] for r in rows] == ["name"]
    assert SECRET not in repr((notes, rows))


def test_many_date_multipliers_cost_seconds_not_minutes():
    from gatesim.engine.arrivals import hourly_rates

    many = [{"start": "2024-01-01", "end": "2044-01-01", "factor": 1.001}] * 1000
    s = load_scenario(SMALL, {"arrivals.import_general.date_multipliers": many,
                              "clock.horizon_days": 7300})
    started = time.monotonic()  # 20 years x 1000 multipliers took ~30 s, one test per hour
    rates = hourly_rates(s.arrivals["import_general"], s.clock.start, 7300 * 24)
    assert time.monotonic() - started < 10
    assert rates[0] == pytest.approx(80 / 24 * 1.001**1000)
    err = refused(SMALL, {"arrivals.import_general.date_multipliers": [*many, many[0]]})
    assert_names(err, "small_gate.yaml", "arrivals.import_general.date_multipliers", "1000")


@pytest.mark.parametrize("steps", [
    # complementary conditions: every truck has one of the two
    "[{stage: release, when: {predeclared: true}}, {lane: main, when: {predeclared: false}}]",
    # one uniform decides both branches named c: b then a cannot happen
    "[{choose: c, options: {a: {p: 0.5, steps: [{stage: release}]}, b: {p: 0.5}}}, "
    "{choose: c, options: {a: {p: 0.5}, b: {p: 0.5, steps: [{stage: release}]}}}]",
    # an option of share 0 is never taken
    "[{choose: c, options: {never: {p: 0, steps: [{exit: turned_back}]}, "
    "always: {p: 1, steps: [{lane: main}, {stage: release}]}}}]",
    # an attribute no truck of the stream has
    "[{exit: turned_back, when: {preregistered: true}}, {lane: main}, {stage: release}]",
], ids=["complementary", "same_branch_twice", "share_0_option", "attribute_share_0"])
def test_route_check_refuses_no_route_that_always_has_a_step(steps):
    overrides = [f"routes.import_general.steps={steps}", "attributes.preregistered=0",
                 "initial_state=[]"]  # the fixture's initial trucks wait for the lane
    assert load_scenario(SMALL, overrides).routes["import_general"].steps
