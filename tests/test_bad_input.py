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


BOMBS = [
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


# --- CLI: exit 2, one stderr line, no traceback, nothing written -----------------------------


class CliCase(NamedTuple):
    files: dict  # written into the case's own empty folder
    args: list  # after `run <scenario>`
    expect: list  # fragments of the one stderr line
    scenario: str = "scenario.yaml"


CLI_CASES = {
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
}


@pytest.fixture(scope="module")
def cli_runs(tmp_path_factory):
    """Start every CLI case at once (each start-up imports numpy/pandas, ~1.5 s)."""
    runs = {}
    for case_id, case in CLI_CASES.items():
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


@pytest.mark.parametrize("case_id", list(CLI_CASES))
def test_cli_refuses_with_one_line_and_writes_nothing(cli_runs, case_id):
    proc, folder, before = cli_runs[case_id]
    stdout, stderr = proc.communicate(timeout=120)
    assert "Traceback" not in stdout + stderr, stderr
    assert proc.returncode == 2, stderr
    assert stdout == ""
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("gatesim: error: "), stderr
    for fragment in CLI_CASES[case_id].expect:
        assert fragment in lines[0], f"{fragment!r} not in: {lines[0]}"
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
                          "{dist: constant, value: 1}}\n  twin: *s\n  server:\n"))
    s = load_scenario(f, ["stages.twin.servers=7"])
    assert (s.stages["twin"].servers, s.stages["other"].servers) == (7, 2)


def test_extends_can_empty_a_mapping(tmp_path):
    child = tmp_path / "child.yaml"
    child.write_text(f"extends: {SMALL}\nlanes:\n  smart:\n    eligible: {{}}\n")
    assert load_scenario(child).lanes["smart"].eligible == {}
    assert load_scenario(SMALL).lanes["smart"].eligible == {"predeclared": True}
