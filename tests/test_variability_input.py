"""Bad input in the fields of day-to-day variability is refused cleanly (issue 15).

The promise is test_bad_input's: a typo, an unknown name or an impossible value in a factor,
a stoppage, an acceptance, a priority list, a daily factor or a replayed stream raises
``ScenarioError`` with ONE line naming the field path and what was expected -- never a quiet
answer, never a traceback. Each case changes one thing in ``rich()``, small_gate with every new
field in use; cases that are not refused properly today are ``xfail(strict=True)`` with the
defect in their reason (a fix makes them XPASS: remove the mark).
"""

from __future__ import annotations

import copy
import math
from pathlib import Path

import numpy as np
import pytest
import yaml

from gatesim import GatesimError, Scenario, ScenarioError
from gatesim.engine.model import run_replication
from gatesim.engine.variability import factor_series
from gatesim.scenario.loader import apply_overrides
from gatesim.scenario.replay import ReplayError
from tests.conftest import SMALL_GATE, scenario
from tests.variability_doc import every_field

DELETE = object()
"""A change that removes the field."""
SMALL_DOC = yaml.safe_load(SMALL_GATE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def log(tmp_path_factory) -> Path:
    """A gate log for the replayed stream (two trucks before small_gate's horizon, one after)."""
    path = tmp_path_factory.mktemp("replay") / "gate_log.csv"
    path.write_text("hours,cargo,preregistered\n1,general,yes\n2.5,,no\n300,general,no\n")
    return path


def rich(log: Path) -> dict:
    """small_gate with every field of issue 15 in use (tests/variability_doc.py)."""
    return every_field(copy.deepcopy(SMALL_DOC), str(log))


def changed(doc: dict, changes: dict[str, object]) -> dict:
    """``doc`` with each dotted path (a digit indexes a list) set to its value, or removed."""
    for dotted, value in changes.items():
        *parents, last = [int(p) if p.isdigit() else p for p in dotted.split(".")]
        node = doc
        for part in parents:
            node = node[part]
        if value is DELETE:
            del node[last]
        else:
            node[last] = value
    return doc


def refusal(doc: dict) -> ScenarioError:
    """The ScenarioError validating ``doc`` must raise: one line, an expectation."""
    with pytest.raises(ScenarioError) as info:
        scenario(doc)
    err = info.value
    assert isinstance(err, GatesimError)
    assert len(str(err).splitlines()) == 1 and "\n" not in str(err), str(err)
    assert err.expected, str(err)
    return err


def assert_names(err: ScenarioError, path: str, fragments: tuple[str, ...]) -> None:
    """The message names the field path exactly (a replay file's fault names it as where it
    was read for) and says each fragment of what was expected."""
    text = str(err)
    where = err.where if isinstance(err, ReplayError) else err.path
    assert where == path, f"names {where!r}, not {path!r}: {text}"
    assert path in text, text
    for fragment in fragments:
        assert fragment in text, f"{fragment!r} not in: {text}"


# --- the positive control: every new field at once loads, runs and draws ---------------------


def test_rich_scenario_loads_and_runs(log):
    s = scenario(rich(log))
    assert isinstance(s, Scenario)
    result = run_replication(s, 1, 0, records="none")
    assert set(result.daily_factors) == {
        "cn_side", "stages.release.servers_factor", "lanes.main.import.rate_factor",
        "acceptances.pingxiang.cap_factor", "arrivals.export_fresh.daily_factor"}


# --- one change each, refused with the field path ---------------------------------------------

WEEKLY = [{"windows": [{"open": "07:00", "close": "18:00"}]}]
ACC = "acceptances.pingxiang"
OUT = "stoppages.outage"
STRIKE = "stoppages.strike"
NEITHER = {f"{OUT}.rate_per_day": 0, f"{OUT}.duration": DELETE}
GAPS = {"arrivals.export_fresh.rate_per_day": DELETE, "arrivals.export_fresh.hourly_profile":
        DELETE, "arrivals.export_fresh.interarrival": {"dist": "exponential", "mean": 30,
                                                       "unit": "min"}}


def case(case_id, changes, path, *fragments, marks=()):
    return pytest.param(changes, path, fragments, id=case_id, marks=marks)


def bug(reason: str):
    return pytest.mark.xfail(strict=True, reason=reason)


CASES = [
    # factors: names
    case("unknown_factor_on_stage", {"stages.documents.servers_factor": "cn_sid"},
         "stages.documents.servers_factor", "got 'cn_sid'", "did you mean 'cn_side'?"),
    case("unknown_factor_on_lane_side", {"lanes.main.import.cap_factor": "cnside"},
         "lanes.main.import.cap_factor", "did you mean 'cn_side'?", "factor of its own"),
    case("unknown_factor_on_acceptance", {f"{ACC}.rate_factor": "cn_sides"},
         f"{ACC}.rate_factor", "did you mean 'cn_side'?"),
    case("unknown_factor_on_stream", {"arrivals.export_general.daily_factor": "demand"},
         "arrivals.export_general.daily_factor", "a factor defined under factors",
         "['cn_side']"),
    case("unknown_factor_none_defined", {"factors": DELETE,
                                         "stages.documents.servers_factor": {"cv": 0.2},
                                         "lanes.main.import.cap_factor": {"cv": 0.2},
                                         f"{ACC}.rate_factor": {"cv": 0.2},
                                         "arrivals.export_general.daily_factor": "cn_side"},
         "arrivals.export_general.daily_factor", "got 'cn_side'", "[]"),
    case("unused_factor", {"factors.spare": {"cv": 0.1}}, "factors.spare", "nothing uses it"),
    case("factor_name_not_a_name", {"stages.release.servers_factor": "1 bad"},
         "stages.release.servers_factor", "a name of letters"),
    # factors: laws and their parameters
    case("factor_with_cv_and_values", {"factors.cn_side.values": [1, 2]}, "factors.cn_side",
         "gives cv (and no values)"),
    case("empirical_factor_with_cv", {"factors.cn_side": {"law": "empirical", "cv": 0.2,
                                                          "values": [1, 2]}},
         "factors.cn_side", "values (and no cv)"),
    case("factor_without_cv", {"stages.release.servers_factor": {"law": "lognormal"}},
         "stages.release.servers_factor", "gives cv"),
    case("factor_unknown_law", {"factors.cn_side.law": "weibull"}, "factors.cn_side.law",
         "'gamma', 'lognormal' or 'empirical'"),
    case("factor_misspelt_field", {"factors.cn_side.autocorelation": 0.5},
         "factors.cn_side.autocorelation", "check the spelling"),
    case("cv_zero", {"factors.cn_side.cv": 0}, "factors.cn_side.cv", "got 0",
         "greater than or equal to 0.001"),
    case("cv_15", {"factors.cn_side.cv": 15}, "factors.cn_side.cv", "got 15",
         "less than or equal to 2"),
    case("cv_negative_inline", {"stages.release.servers_factor.cv": -0.4},
         "stages.release.servers_factor.cv", "greater than or equal to 0.001"),
    case("cv_nan", {"factors.cn_side.cv": math.nan}, "factors.cn_side.cv", "finite"),
    case("cv_true", {"factors.cn_side.cv": True}, "factors.cn_side.cv", "not true/false"),
    case("cv_below_distribution_bound", {"factors.cn_side.cv": 1e-4}, "factors.cn_side.cv",
         "0.001"),
    case("cv_underflow", {"factors.cn_side.cv": 1e-300}, "factors.cn_side.cv"),
    case("empirical_all_zero", {"factors.cn_side": {"law": "empirical", "values": [0, 0, 0]}},
         "factors.cn_side", "positive mean"),
    case("empirical_one_value", {"factors.cn_side": {"law": "empirical", "values": [1]}},
         "factors.cn_side.values", "at least 2"),
    case("empirical_negative", {f"{ACC}.cap_factor.values": [1, -0.5]},
         f"{ACC}.cap_factor.values[1]", "greater than or equal to 0"),
    case("empirical_inf", {f"{ACC}.cap_factor.values": [1, math.inf]},
         f"{ACC}.cap_factor.values[1]", "finite"),
    case("autocorrelation_1", {"factors.cn_side.autocorrelation": 1},
         "factors.cn_side.autocorrelation", "got 1", "0.99"),
    case("autocorrelation_negative", {"factors.cn_side.autocorrelation": -0.3},
         "factors.cn_side.autocorrelation", "greater than or equal to 0"),
    # stoppages
    case("stoppage_rate_without_duration", {f"{OUT}.duration": DELETE}, OUT,
         "rate_per_day > 0) need a duration"),
    case("stoppage_neither_rate_nor_dated", NEITHER, OUT,
         "give rate_per_day > 0 with a duration, or dated stoppages"),
    case("stoppage_duration_without_rate", {f"{OUT}.rate_per_day": 0}, OUT,
         "rate_per_day > 0 with a duration"),
    case("stoppage_rate_per_hour", {f"{OUT}.rate_per_day": 48}, f"{OUT}.rate_per_day",
         "less than or equal to 24"),
    case("stoppage_fraction_0", {f"{OUT}.fraction": 0}, f"{OUT}.fraction", "greater than 0"),
    case("stoppage_fraction_above_1", {f"{OUT}.fraction": 1.5}, f"{OUT}.fraction",
         "less than or equal to 1"),
    case("stoppage_negative_duration", {f"{OUT}.duration": {"dist": "constant", "value": -1,
                                                            "unit": "h"}},
         f"{OUT}.duration.value", "greater than or equal to 0"),
    case("dated_end_before_start", {f"{STRIKE}.dated.0.end": "2024-02-09 05:00"},
         f"{STRIKE}.dated[0]", "end must be after start"),
    case("dated_end_equals_start", {f"{STRIKE}.dated.0.end": "2024-02-09 06:00"},
         f"{STRIKE}.dated[0]", "end must be after start"),
    case("dated_before_clock_start", {f"{STRIKE}.dated": [
        {"start": "2024-01-09 06:00", "end": "2024-01-09 08:00"}]},
         f"{STRIKE}.dated[0].end", "a time after the run starts (2024-02-08 00:00:00)"),
    case("dated_ends_at_clock_start", {f"{STRIKE}.dated.0.start": "2024-02-07 12:00",
                                       f"{STRIKE}.dated.0.end": "2024-02-08 00:00"},
         f"{STRIKE}.dated[0].end", "after the run starts"),
    case("dated_not_a_time", {f"{STRIKE}.dated.0.start": "tomorrow"},
         f"{STRIKE}.dated[0].start", "got 'tomorrow'"),
    case("dated_misspelt_field", {f"{STRIKE}.dated.0.stop": "2024-02-09 12:00"},
         f"{STRIKE}.dated[0].stop", "check the spelling"),
    case("dated_with_utc_offset", {f"{STRIKE}.dated.0.start": "2024-02-09 06:00+07:00",
                                   f"{STRIKE}.dated.0.end": "2024-02-09 12:00+07:00"},
         f"{STRIKE}.dated[0].start", "UTC offset"),
    case("dated_with_offset_on_end_only", {f"{STRIKE}.dated.0.end": "2024-02-09 12:00Z"},
         f"{STRIKE}.dated[0].end", "UTC offset"),
    case("stoppage_unknown_target", {f"{OUT}.at": ["inspection", "inspectoin"]}, f"{OUT}.at[1]",
         "got 'inspectoin'", "did you mean 'inspection'?"),
    case("stoppage_unknown_lane_side", {f"{OUT}.at.1": "main.exports"}, f"{OUT}.at[1]",
         "did you mean 'main.export'?"),
    case("stoppage_missing_lane_side", {f"{OUT}.at.1": "smart.import"}, f"{OUT}.at[1]",
         "lane side (<lane>.export|import)"),
    case("stoppage_no_targets", {f"{OUT}.at": []}, f"{OUT}.at", "at least 1"),
    case("stoppage_misspelt_field", {f"{OUT}.rate": 1}, f"{OUT}.rate", "check the spelling"),
    case("partial_stoppage_of_a_shared_side", {f"{STRIKE}.fraction": 0.5}, f"{STRIKE}.fraction",
         "got 0.5", "1 for smart", "shared acceptance"),
    case("partial_stoppage_of_one_shared_side", {f"{STRIKE}.fraction": 0.5,
                                                 f"{STRIKE}.at": ["main.export"]},
         f"{STRIKE}.fraction", "1 for main.export", "belongs on the acceptance"),
    # acceptances and the lane sides that share them
    case("side_with_acceptance_and_capacity", {"lanes.smart.export.capacity_per_hour": 10},
         "lanes.smart.export", "capacity_per_hour belongs to the shared acceptance 'pingxiang'"),
    case("side_with_acceptance_and_daily_cap", {"lanes.smart.export.daily_cap": {"total": 5}},
         "lanes.smart.export", "daily_cap belongs to the shared acceptance"),
    case("side_with_acceptance_and_rate_factor", {"lanes.main.export.rate_factor": "cn_side"},
         "lanes.main.export", "rate_factor belongs to the shared acceptance"),
    case("side_with_acceptance_and_priority", {"lanes.main.export.priority": [{"cargo": "fresh"}]},
         "lanes.main.export", "priority belongs to the shared acceptance"),
    case("side_with_neither", {"lanes.smart.export.acceptance": DELETE}, "lanes.smart.export",
         "give capacity_per_hour, or an acceptance"),
    case("unknown_acceptance", {"lanes.smart.export.acceptance": "pingxang"},
         "lanes.smart.export.acceptance", "got 'pingxang'", "did you mean 'pingxiang'?"),
    case("unused_acceptance", {"acceptances.spare": {"capacity_per_hour": 3}},
         "acceptances.spare", "nothing uses it"),
    case("acceptance_without_capacity", {f"{ACC}.capacity_per_hour": DELETE},
         f"{ACC}.capacity_per_hour", "this required field"),
    case("acceptance_capacity_zero", {f"{ACC}.capacity_per_hour": 0},
         f"{ACC}.capacity_per_hour", "greater than or equal to"),
    case("acceptance_unknown_calendar", {f"{ACC}.calendar": "gate_exprt"}, f"{ACC}.calendar",
         "a calendar defined under calendars"),
    case("acceptance_cap_of_unknown_cargo", {f"{ACC}.daily_cap": {"frsh": 5}},
         f"{ACC}.daily_cap.frsh", "'total' or a cargo class"),
    case("acceptance_cap_offset_too_far", {f"{ACC}.cap_clock_offset_h": 20},
         f"{ACC}.cap_clock_offset_h", "less than or equal to 14"),
    case("cap_factor_without_a_cap", {"lanes.main.import.daily_cap": DELETE},
         "lanes.main.import.cap_factor", "daily_cap"),
    case("acceptance_cap_factor_without_a_cap", {f"{ACC}.daily_cap": DELETE},
         f"{ACC}.cap_factor", "daily_cap"),
    # priority lists
    case("priority_unknown_attribute_stage", {"stages.documents.priority.0": {"predclared": True}},
         "stages.documents.priority[0].predclared", "an attribute or a branch name",
         "'predeclared'"),
    case("priority_unknown_attribute_lane", {"lanes.main.import.priority": [{"reefer": True}]},
         "lanes.main.import.priority[0].reefer", "an attribute or a branch name"),
    case("priority_unknown_attribute_acceptance", {f"{ACC}.priority.0": {"carg": "fresh"}},
         f"{ACC}.priority[0].carg", "an attribute or a branch name", "'cargo'"),
    case("priority_not_a_list", {"stages.documents.priority": {"cargo": "fresh"}},
         "stages.documents.priority", "a valid list"),
    case("priority_too_long", {"stages.documents.priority": [{"cargo": "fresh"}] * 21},
         "stages.documents.priority", "at most 20"),
    case("priority_unknown_cargo", {"stages.documents.priority.1": {"cargo": "frsh"}},
         "stages.documents.priority[1].cargo", "fresh"),
    case("priority_attribute_not_boolean", {"stages.documents.priority.0": {"predeclared":
                                                                             "yes please"}},
         "stages.documents.priority[0].predeclared", "true or false"),
    # demand: daily factors and replayed streams
    case("daily_factor_on_interarrival", {**GAPS}, "arrivals.export_fresh",
         "daily_factor scales rate_per_day"),
    case("daily_factor_on_replay", {"arrivals.replayed.daily_factor": {"cv": 0.2}},
         "arrivals.replayed", "daily_factor scales rate_per_day"),
    case("replay_and_rate", {"arrivals.replayed.rate_per_day": 10}, "arrivals.replayed",
         "exactly one of rate_per_day, interarrival or replay"),
    case("replay_and_interarrival", {"arrivals.replayed.interarrival": {
        "dist": "exponential", "mean": 1, "unit": "h"}}, "arrivals.replayed", "exactly one of"),
    case("replay_with_site_shares", {"arrivals.replayed.site": {"a": 0.5, "b": 0.5}},
         "arrivals.replayed", "names one site", "'site' column"),
    case("replay_empty_path", {"arrivals.replayed.replay": ""}, "arrivals.replayed",
         "exactly one of"),
    case("replay_file_missing", {"arrivals.replayed.replay": "/nonexistent/gate_log.csv"},
         "arrivals.replayed.replay", "/nonexistent/gate_log.csv", "a readable CSV file"),
    case("replay_of_a_folder", {"arrivals.replayed.replay": "/"}, "arrivals.replayed.replay",
         "not a directory, device or pipe"),
    case("replay_with_hourly_profile", {"arrivals.replayed.hourly_profile": [1] * 24},
         "arrivals.replayed", "hourly_profile"),
    case("replay_with_weekday_multipliers", {"arrivals.replayed.weekday_multipliers":
                                             {"mon": 2}},
         "arrivals.replayed", "weekday_multipliers"),
    case("replay_with_date_multipliers", {"arrivals.replayed.date_multipliers": [
        {"start": "2024-02-09", "end": "2024-02-10", "factor": 3}]},
         "arrivals.replayed", "date_multipliers"),
]


@pytest.mark.parametrize("changes, path, fragments", CASES)
def test_bad_variability_input_is_refused(log, changes, path, fragments):
    assert_names(refusal(changed(rich(log), changes)), path, fragments)


# --- a replay file's own faults name its line and column, and the stream -----------------------


@pytest.mark.parametrize("text, where", [
    ("hours,cargo\n1,fruit\n", "line 2, column cargo"),
    ("hours,reefer\n1,yes\n", "line 1, column reefer"),
    ("time\n2024-02-07 23:00\n", "line 2, column time"),
    ("hours\n-1\n", "line 2, column hours"),
    ("hours,service:documents\n1,-5\n", "line 2, column service:documents"),
    ("hours\n", "line 2, column hours"),
])
def test_bad_replay_file_names_its_line_column_and_stream(log, tmp_path, text, where):
    bad = tmp_path / "bad.csv"
    bad.write_text(text)
    err = refusal(changed(rich(log), {"arrivals.replayed.replay": str(bad)}))
    assert isinstance(err, ReplayError) and err.where == "arrivals.replayed.replay"
    assert str(err).startswith(f"{bad}, {where}: got "), str(err)
    assert str(err).endswith("(arrivals.replayed.replay)"), str(err)


# --- --set may change the new sections' entries, never invent one -----------------------------


@pytest.mark.parametrize("assignment, fragments", [
    ("factors.spare.cv=0.1", ("there is no factor named 'spare'", "(factors: cn_side)")),
    ("factors.cn_sid.cv=0.1", ("did you mean 'cn_side'?",)),
    ("stoppages.storm.rate_per_day=1", ("there is no stoppage named 'storm'",
                                        "(stoppages: outage, strike)")),
    ("stoppages.outag.fraction=0.5", ("did you mean 'outage'?",)),
    ("acceptances.spare.capacity_per_hour=3", ("there is no acceptance named 'spare'",
                                               "(acceptances: pingxiang)")),
    ("acceptances.pingxang.capacity_per_hour=3", ("did you mean 'pingxiang'?",)),
])
def test_set_may_not_invent_a_factor_stoppage_or_acceptance(log, assignment, fragments):
    doc = rich(log)
    with pytest.raises(ScenarioError) as info:
        apply_overrides(doc, [assignment])
    err = info.value
    assert err.file == "--set" and err.path == assignment.split("=")[0]
    assert len(str(err).splitlines()) == 1
    for fragment in fragments:
        assert fragment in str(err), str(err)


def test_set_may_change_the_new_sections_entries(log):
    doc = rich(log)
    apply_overrides(doc, ["factors.cn_side.cv=0.3", "stoppages.outage.rate_per_day=2",
                          "acceptances.pingxiang.capacity_per_hour=40",
                          "stoppages.strike.dated.0.end=2024-02-09 18:00"])
    s = scenario(doc)
    assert s.factors["cn_side"].cv == 0.3 and s.stoppages["outage"].rate_per_day == 2
    assert s.acceptances["pingxiang"].capacity_per_hour == 40
    assert s.stoppages["strike"].dated[0].end.hour == 18


# --- what the loader accepts must be answerable, and answered right ---------------------------


def test_empirical_values_near_the_float_limit_are_refused_or_scaled_right(log):
    doc = changed(rich(log), {"factors.cn_side": {"law": "empirical", "values": [1e308, 1e308]}})
    try:
        s = scenario(doc)
    except ScenarioError as err:
        assert err.path.startswith("factors.cn_side"), str(err)
        return
    with np.errstate(all="ignore"):
        series = factor_series(s.factors["cn_side"], np.random.default_rng(1), 20)
    assert np.allclose(series, 1.0), series


def test_empirical_values_of_subnormal_size_are_refused_or_run(log):
    doc = changed(rich(log), {"factors.cn_side": {"law": "empirical", "values": [5e-324, 0]}})
    try:
        s = scenario(doc)
    except ScenarioError as err:
        assert err.path.startswith("factors.cn_side"), str(err)
        return
    with np.errstate(all="ignore"):
        run_replication(s, 1, 0, records="none")


def test_report_describes_a_scenario_with_a_shared_acceptance(log):
    """The report's facts of a scenario with every new field (it once formatted the missing
    capacity of a side admitted by an acceptance, and the missing law of a replayed stream:
    the CLI then called the results directory damaged)."""
    from gatesim.output.describe import describe

    facts = describe(scenario(rich(log)))
    assert "replayed" in {row["name"] for row in facts["arrivals"]}
    smart = next(row for row in facts["lanes"] if row["name"] == "smart")
    assert "pingxiang" in smart["capacity"], smart
