"""Calibrate's inputs and outputs, adversarially: every bad targets file, option and planted
checkpoint is refused in one line before any run (or ignored safely); outputs load, run and
do not depend on the number of workers or where the results directory is."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

import gatesim
import gatesim.experiments.calibration_plan as calibrate_module
from gatesim import cli
from gatesim.errors import GatesimError
from gatesim.experiments.calibrate import calibrate, prepare
from gatesim.experiments.checkpoint import MeasureStore
from gatesim.experiments.targets import load_targets
from gatesim.scenario.loader import load_scenario

# Two desks and a lane in a row, 4 days with a 1-day warm-up: a few hundred trucks a run.
DESK = """\
name: desk
clock: {start: 2024-01-01 00:00, horizon_days: 4, warmup_days: 1}
calendars:
  office: {weekly: [{windows: [{open: "06:00", close: {value: 22, low: 20, high: 24,
                                                          name: closing}}]}]}
yards: {y: {}}
stages:
  desk: {servers: 2, yard: y, service: {dist: exponential, unit: min,
         mean: {value: 8, low: 5, high: 15, name: desk_minutes}}}
  after: {servers: 1, yard: y, calendar: office, service: {dist: exponential, unit: min,
          mean: {value: 1, low: 0.5, high: 2, name: after_minutes}}}
arrivals: {c: {direction: import, cargo: general, rate_per_day: 240}}
lanes: {gate: {crossing_time: {dist: exponential, mean: 5, unit: min},
        import: {yard: y, capacity_per_hour: 30}}}
routes: {only: {direction: import, cargo: general,
                steps: [{stage: desk}, {stage: after}, {lane: gate}]}}
"""
# desk_minutes used through a YAML anchor at two stages; closing inside a calendar's list.
ANCHORED = """\
name: anchored
clock: {start: 2024-01-01 00:00, horizon_days: 4, warmup_days: 1}
calendars:
  office: {weekly: [{windows: [{open: "06:00", close: {value: 22, low: 18, high: 24,
                                                          name: closing}}]}]}
yards: {y: {}}
stages:
  desk: {servers: 2, yard: y, service: {dist: exponential, unit: min,
         mean: &m {value: 8, low: 5, high: 15, name: desk_minutes}}}
  desk2: {servers: 2, yard: y, service: {dist: exponential, unit: min, mean: *m}}
  after: {servers: 1, yard: y, calendar: office, service: {dist: exponential, unit: min,
          mean: 1}}
arrivals: {c: {direction: import, cargo: general, rate_per_day: 240}}
routes: {only: {direction: import, cargo: general,
                steps: [{stage: desk}, {stage: desk2}, {stage: after}]}}
"""
BASE = {"reported": 0.5, "half_band": 0.2, "source": "s", "use": "calibration"}
SUMMARY = {"measure": "summary", "metric": "wait_h/desk/mean"}
FAST = ["-r", "2", "--budget", "2", "--profile-points", "3", "--no-report"]


def _doc(targets: dict | None = None, fit=("desk_minutes",), **top) -> dict:
    """A targets document: target ``t`` (a summary unless overridden) plus ``targets``."""
    ts = {"t": {**BASE, **SUMMARY}}
    for name, t in (targets or {}).items():
        ts[name] = None if t is None else {k: v for k, v in {**BASE, **t}.items()
                                           if v is not None}
    return {"fit": list(fit), "targets": {k: v for k, v in ts.items() if v is not None},
            **top}


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("cal_input")
    (root / "desk.yaml").write_text(DESK, encoding="utf-8")
    (root / "sub").mkdir()
    (root / "sub" / "other.yaml").write_text(DESK.replace("desk_minutes", "other_minutes"),
                                             encoding="utf-8")
    (root / "adir.yaml").mkdir()
    (root / "broken.yaml").write_text("name: [x\n", encoding="utf-8")
    (root / "plain.yaml").write_text("a: 1\n", encoding="utf-8")
    (root / "desk.txt").write_text(DESK, encoding="utf-8")
    (root / "loop.yaml").symlink_to("loop.yaml")
    (root / "good.yaml").write_text(yaml.safe_dump(_doc({"v": {
        "measure": "waiting", "places": ["y"], "at": "2024-01-03 12:00", "reported": 3,
        "half_band": 2, "use": "validation"}})), encoding="utf-8")
    return root


@pytest.fixture
def no_run(monkeypatch):
    """Any simulation is a failure: the case must be refused before."""
    monkeypatch.setattr(calibrate_module, "run",
                        lambda *a, **k: pytest.fail("simulated before refusing"))


def _refused(root: Path, text: str, words: list[str], name: str = "targets.yaml") -> str:
    path = root / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(GatesimError) as err:
        prepare(root / "desk.yaml", path, 2)
    msg = str(err.value)
    assert "\n" not in msg and "Traceback" not in msg, msg
    for w in words:
        assert w in msg, msg
    assert "hunter2" not in msg  # what is not a targets field is never echoed
    return msg


def _t(**fields) -> str:
    """A targets file whose target ``t`` has ``fields`` (None deletes a base field)."""
    t = {**BASE, **SUMMARY, **fields}
    return yaml.safe_dump({"fit": ["desk_minutes"],
                           "targets": {"t": {k: v for k, v in t.items() if v is not None}}})


W = {"measure": "waiting", "places": ["y"], "metric": None}
G = {"measure": "growth", "places": ["y"], "metric": None}
C = {"measure": "cleared", "metric": None}

BOMB = "\n".join(['a: &a ["x","x","x","x","x","x","x","x","x"]'] + [
    f"{c}: &{c} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]"
    for p, c in zip("abcdefgh", "bcdefghi", strict=True)]) + "\nfit: [desk_minutes]\n"
ONE = "{measure: summary, metric: wait_h/desk/mean, reported: 1, half_band: 1, source: s, " \
      "use: calibration}"

CASES = {
    # not a targets document at all
    "not yaml": ("fit: [desk_minutes\ntargets: {}\n", ["valid YAML"]),
    "empty": ("", ["an empty file", "fit: and targets:"]),
    "only a comment": ("# nothing\n", ["an empty file"]),
    "a list": ("- fit\n- targets\n", ["a list", "a mapping with fit: and targets:"]),
    "a number": ("42\n", ["a number"]),
    "another kind of file": ("password: hunter2\n", ["got a mapping with unknown fields",
                                                     "expected a mapping with fit: and"]),
    "alias bomb": (BOMB, ["expands to over"]),
    "duplicate top key": (f"fit: [desk_minutes]\nfit: [closing]\ntargets: {{t: {ONE}}}\n",
                          ["line 2", "'fit'", "each key only once"]),
    "duplicate target key": ("fit: [desk_minutes]\ntargets:\n  t: {measure: summary, "
                             "measure: waiting}\n", ["each key only once"]),
    "duplicate target": (f"fit: [desk_minutes]\ntargets:\n  t: {ONE}\n  t: {ONE}\n",
                         ["line 4", "each key only once"]),
    "python tag": ("fit: !!python/object/apply:os.system ['echo pwned']\ntargets: {}\n",
                   ["could not determine a constructor", "valid YAML"]),
    "python object": ("fit: [desk_minutes]\ntargets: {t: !!python/object:builtins.dict {}}\n",
                      ["could not determine a constructor"]),
    # numbers
    "reported huge float": (_t(reported=1e300), ["targets.t.reported", "1e+300"]),
    "reported huge int": (_t(reported=10 ** 50), ["targets.t.reported"]),
    "reported giant int": (_t(reported=10 ** 400), ["targets.t.reported"]),
    "reported 1e400 text": (_t(reported=None) + "    reported: 1e400\n",
                            ["targets.t.reported"]),
    "reported nan": (_t(reported=float("nan")), ["targets.t.reported", "nan"]),
    "reported inf": (_t(reported=float("inf")), ["targets.t.reported", "finite"]),
    "reported -inf": (_t(reported=float("-inf")), ["targets.t.reported"]),
    "half_band nan": (_t(half_band=float("nan")), ["targets.t.half_band"]),
    "half_band inf": (_t(half_band=float("inf")), ["targets.t.half_band"]),
    "half_band zero": (_t(half_band=0), ["targets.t.half_band", "got 0"]),
    "half_band negative": (_t(half_band=-2), ["targets.t.half_band", "got -2"]),
    "half_band tiny": (_t(half_band=1e-300), ["targets.t.half_band"]),
    "half_band huge": (_t(half_band=1e300), ["targets.t.half_band"]),
    "reported true": (_t(reported=True), ["targets.t.reported", "got True",
                                          "not true/false"]),
    "half_band yes": (_t(half_band=None) + "    half_band: yes\n",
                      ["targets.t.half_band", "not true/false"]),
    "reported on": (_t(reported=None) + "    reported: on\n", ["targets.t.reported"]),
    "reported text": (_t(reported="lots"), ["targets.t.reported", "'lots'"]),
    "reported a list": (_t(reported=[1, 2]), ["targets.t.reported"]),
    "a negative count waiting": (_t(**W, at="2024-01-03 12:00", reported=-5),
                                 ["targets.t.reported", "got -5", "greater than or equal to 0"]),
    "a negative count cleared": (_t(**C, sides=["gate.import"], date="2024-01-03",
                                    reported=-1), ["targets.t.reported", "got -1"]),
    # unknown keys at every level
    "fitt": (yaml.safe_dump({"fitt": ["desk_minutes"], "targets": {"t": {**BASE, **SUMMARY}}}),
             ["fitt", "got a list", "no such field"]),
    "top-level extra": (yaml.safe_dump(_doc(notes="x")), ["notes", "no such field"]),
    "mesure": (_t(mesure="waiting"), ["targets.t.mesure", "got a string", "no such field"]),
    "reportd": (_t(reported=None, reportd=3), ["targets.t.reportd", "no such field"]),
    "missing source": (_t(source=None), ["targets.t.source", "got nothing"]),
    "empty source": (_t(source=""), ["targets.t.source"]),
    # measures
    "measure unknown": (_t(measure="queue"), ["targets.t.measure", "'queue'", "waiting"]),
    "measure missing": (_t(measure=None), ["targets.t.measure", "got nothing"]),
    "measure a list": (_t(measure=["waiting"]), ["targets.t.measure"]),
    "target not a mapping": ("fit: [desk_minutes]\ntargets: {t: 3}\n", ["targets.t", "got 3"]),
    "targets a list": ("fit: [desk_minutes]\ntargets: [a]\n", ["targets", "a mapping"]),
    "targets empty": ("fit: [desk_minutes]\ntargets: {}\n", ["targets", "at least 1"]),
    "target name bad": (f"fit: [desk_minutes]\ntargets: {{'a b': {ONE}}}\n", ["targets.a b"]),
    "target named on": (f"fit: [desk_minutes]\ntargets:\n  on: {ONE}\n",
                        ["line 3", "got True", "quote the key"]),
    "a target named like a measure": (yaml.safe_dump(_doc({"t": None, "waiting": {
        **W, "at": "2024-01-03 12:30"}})), ["targets.waiting.at", "on the hour"]),
    # places
    "places empty": (_t(**{**W, "places": []}, at="2024-01-03 12:00"), ["targets.t.places",
                                                                  "at least 1"]),
    "places not a list": (_t(**{**W, "places": "yy"}, at="2024-01-03 12:00"),
                          ["targets.t.places", "'yy'", "a list"]),
    "places unknown": (_t(**{**W, "places": ["yy"]}, at="2024-01-03 12:00"),
                       ["targets.t.places", "no yard or road 'yy'", "(places: y"]),
    "place is a stage": (_t(**{**W, "places": ["desk"]}, at="2024-01-03 12:00"),
                         ["targets.t.places", "no yard or road 'desk'"]),
    "place twice": (_t(**{**W, "places": ["y", "y"]}, at="2024-01-03 12:00"),
                    ["targets.t.places", "each name once"]),
    "place not a name": (_t(**{**W, "places": [3]}, at="2024-01-03 12:00"),
                         ["targets.t.places.0"]),
    # sides
    "side sideways": (_t(**C, sides=["lane.sideways"], date="2024-01-03"),
                      ["targets.t.sides", "no lane side 'lane.sideways'"]),
    "sides empty": (_t(**C, sides=[], date="2024-01-03"), ["targets.t.sides"]),
    # times
    "at a date": (_t(**W) + "    at: 2024-01-03\n", ["targets.t.at", "2024-01-03",
                                                     "a local date and hour"]),
    "at a quoted date": (_t(**W, at="2024-01-03"), ["targets.t.at", "a local date and hour"]),
    "at an epoch number": (_t(**W, at=1704283200), ["targets.t.at", "1704283200"]),
    "at with offset": (_t(**W) + "    at: 2024-01-03 12:00:00+07:00\n",
                       ["targets.t.at", "+07:00", "without a UTC offset"]),
    "at in UTC": (_t(**W, at="2024-01-03T12:00Z"), ["targets.t.at", "UTC offset"]),
    "at not a time": (_t(**W, at="soon"), ["targets.t.at"]),
    "at before warm-up end": (_t(**W, at="2024-01-01 23:00"),
                              ["targets.t.at", "2024-01-01 23:00", "after its warm-up",
                               "from 2024-01-02 00:00"]),
    "at before start": (_t(**W, at="2023-12-31 12:00"), ["targets.t.at"]),
    "at after horizon": (_t(**W, at="2024-01-05 01:00"), ["targets.t.at",
                                                          "to 2024-01-05 00:00"]),
    "at off the hour": (_t(**W, at="2024-01-03 12:30"), ["targets.t.at", "on the hour"]),
    "at a second past": (_t(**W, at="2024-01-03 12:00:01"), ["targets.t.at",
                                                              "12:00:01"]),
    "at missing": (_t(**W), ["targets.t.at", "got nothing"]),
    "growth reversed": (_t(**G, **{"from": "2024-01-04 12:00", "to": "2024-01-02 12:00"}),
                        ["targets.t.to", "two whole days after 'from'"]),
    "growth one day": (_t(**G, **{"from": "2024-01-02 12:00", "to": "2024-01-03 12:00"}),
                       ["targets.t.to", "a slope needs 3 days"]),
    "growth to at another hour": (_t(**G, **{"from": "2024-01-02 12:00",
                                             "to": "2024-01-04 13:00"}),
                                  ["targets.t.to", "at the same hour"]),
    "growth off the hour": (_t(**G, **{"from": "2024-01-02 12:30", "to": "2024-01-04 12:30"}),
                            ["targets.t.from", "on the hour"]),
    "growth past horizon": (_t(**G, **{"from": "2024-01-03 12:00", "to": "2024-01-05 12:00"}),
                            ["targets.t.to", "2024-01-05 12:00"]),
    "growth start/end names": (_t(**G, start="2024-01-02 12:00", end="2024-01-04 12:00"),
                               ["targets.t.end", "no such field"]),
    "side of the other direction": (_t(**C, sides=["gate.export"], date="2024-01-03"),
                                    ["targets.t.sides", "(sides: gate.import)"]),
    "date outside run": (_t(**C, sides=["gate.import"], date="2024-03-03"),
                         ["targets.t.date", "2024-03-03 00:00"]),
    "date in the warm-up": (_t(**C, sides=["gate.import"], date="2024-01-01"),
                            ["targets.t.date", "after its warm-up"]),
    "date the last day past horizon": (_t(**C, sides=["gate.import"], date="2024-01-05"),
                                       ["targets.t.date", "2024-01-06 00:00"]),
    "date with a time": (_t(**C, sides=["gate.import"], date="2024-01-03 12:00"),
                         ["targets.t.date", "a local date"]),
    "date a number": (_t(**C, sides=["gate.import"], date=20240103), ["targets.t.date"]),
    "date missing": (_t(**C, sides=["gate.import"]), ["targets.t.date", "got nothing"]),
    "on instead of date": (_t(**C, sides=["gate.import"]) + "    on: 2024-01-03\n",
                           ["line 12", "got True", "write a cleared target's day as date:"]),
    # metric
    "metric two parts": (_t(metric="wait_h/desk"), ["targets.t.metric", "metric/scope/stat"]),
    "metric four parts": (_t(metric="wait_h/desk/mean/x"), ["targets.t.metric"]),
    "metric empty part": (_t(metric="wait_h//mean"), ["targets.t.metric"]),
    "metric unknown": (_t(metric="wait_hh/desk/mean"), ["targets.t.metric",
                                                        "did you mean 'wait_h'"]),
    "scope unknown": (_t(metric="wait_h/desks/mean"), ["targets.t.metric", "no scope 'desks'"]),
    "stat unknown": (_t(metric="wait_h/desk/meen"), ["targets.t.metric", "no statistic"]),
    # use
    "use calibrat": (_t(use="calibrat"), ["targets.t.use", "'calibrat'"]),
    "all validation": (_t(use="validation"), ["targets", "at least one target with use: "
                                              "calibration"]),
    # fit
    "fit twice": (yaml.safe_dump(_doc(fit=["desk_minutes", "desk_minutes"])),
                  ["fit", "each name once"]),
    "fit empty": (yaml.safe_dump(_doc(fit=[])), ["fit", "at least 1"]),
    "fit missing": (f"targets: {{t: {ONE}}}\n", ["fit", "got nothing"]),
    "fit a string": (yaml.safe_dump({**_doc(), "fit": "desk_minutes"}), ["fit", "a list"]),
    "fit not ranged": (yaml.safe_dump(_doc(fit=["servers"])),
                       ["fit", "no ranged parameter 'servers'"]),
    "fit typo": (yaml.safe_dump(_doc(fit=["desk_minuts"])), ["did you mean 'desk_minutes'"]),
    "fit only in the other scenario": (yaml.safe_dump(_doc(
        {"o": {**SUMMARY, "scenario": "sub/other.yaml"}}, fit=["other_minutes"])),
        ["fit", "no ranged parameter 'other_minutes' in desk"]),
    # another scenario
    "scenario missing": (yaml.safe_dump(_doc({"o": {**SUMMARY, "scenario": "nope.yaml"}})),
                         ["nope.yaml", "a readable scenario file"]),
    "scenario a directory": (yaml.safe_dump(_doc({"o": {**SUMMARY, "scenario": "adir.yaml"}})),
                             ["adir.yaml", "a scenario file"]),
    "scenario not yaml": (yaml.safe_dump(_doc({"o": {**SUMMARY, "scenario": "broken.yaml"}})),
                          ["broken.yaml", "valid YAML"]),
    "scenario not a scenario": (yaml.safe_dump(_doc({"o": {**SUMMARY,
                                                           "scenario": "plain.yaml"}})),
                                ["plain.yaml", "a mapping of scenario fields"]),
    "scenario not named yaml": (yaml.safe_dump(_doc({"o": {**SUMMARY,
                                                           "scenario": "desk.txt"}})),
                                ["desk.txt", "named *.yaml"]),
    "scenario /etc/passwd": (yaml.safe_dump(_doc({"o": {**SUMMARY,
                                                        "scenario": "/etc/passwd"}})),
                             ["/etc/passwd", "named *.yaml"]),
    "scenario the targets file": (yaml.safe_dump(_doc({"o": {**SUMMARY,
                                                             "scenario": "targets.yaml"}})),
                                  ["targets.o.scenario", "not this targets file"]),
    "scenario with a NUL": (yaml.safe_dump(_doc({"o": {**SUMMARY, "scenario": "a\0.yaml"}})),
                            ["targets.o.scenario", "the path of a scenario file"]),
    "scenario a link loop": (yaml.safe_dump(_doc({"o": {**SUMMARY, "scenario": "loop.yaml"}})),
                             ["targets.o.scenario", "'loop.yaml'"]),
    "scenario empty": (yaml.safe_dump(_doc({"o": {**SUMMARY, "scenario": ""}})),
                       ["targets.o.scenario"]),
    "set bad value": (yaml.safe_dump(_doc({"o": {**SUMMARY,
                                                 "set": ["clock.horizon_days=abc"]}})),
                      ["clock.horizon_days", "'abc'"]),
    "set no equals": (yaml.safe_dump(_doc({"o": {**SUMMARY, "set": ["nothing"]}})),
                      ["path.to.field=value"]),
    "set new yard": (yaml.safe_dump(_doc({"o": {**SUMMARY, "set": ["yards.z.slots=3"]}})),
                     ["yards.z.slots", "no yard named 'z'"]),
    "set a string": (yaml.safe_dump(_doc({"o": {**SUMMARY, "set": "clock.horizon_days=3"}})),
                     ["targets.o.set", "a list"]),
    "set shortens the run": (yaml.safe_dump(_doc({"o": {**W, "at": "2024-01-04 12:00",
                                                        "set": ["clock.horizon_days=2"]}})),
                             ["targets.o.at", "to 2024-01-03 00:00"]),
    "set an impossible value": (yaml.safe_dump(_doc({"o": {
        **SUMMARY, "set": ["stages.desk.service.mean=-3"]}})),
        ["stages.desk.service.mean", "got -3"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_bad_targets_file_is_refused_in_one_line_before_any_run(root, no_run, case):
    text, words = CASES[case]
    msg = _refused(root, text, words)
    assert "targets.yaml" in msg or any(w in msg for w in ("nope", "adir", "broken", "plain",
                                                            "desk.txt", "passwd", "--set"))


def test_a_python_tag_never_runs(root, no_run, tmp_path):
    planted = tmp_path / "pwned"
    text = f"fit: !!python/object/apply:os.system ['touch {planted}']\ntargets: {{}}\n"
    _refused(root, text, ["valid YAML"])
    assert not planted.exists()


@pytest.mark.parametrize("change", [{"scenario": "nope.yaml"}, {"set": ["nothing"]}])
def test_a_bad_target_scenario_names_the_targets_file_and_field(root, no_run, change):
    key = "scenario" if "scenario" in change else "set"
    _refused(root, yaml.safe_dump(_doc({"o": {**SUMMARY, **change}})),
             ["targets.yaml", f"targets.o.{key}"])


def test_yaml_accepted_spellings_mean_what_they_say(root, no_run):
    """A quoted number and YAML 1.1's dotless exponent (text to PyYAML) are the number; a
    YAML timestamp without offset is a local time; the last hour of the run is measurable; a
    backlog may shrink (a negative growth)."""
    path = root / "ok.yaml"
    path.write_text(_t(reported="354", half_band=None) + "    half_band: 1e2\n",
                    encoding="utf-8")
    t = load_targets(path).targets["t"]
    assert (t.reported, t.half_band) == (354.0, 100.0)
    path.write_text(_t(**W) + "    at: 2024-01-05 00:00:00\n", encoding="utf-8")
    plan = prepare(root / "desk.yaml", path, 2)
    assert str(plan.targets.targets["t"].at) == "2024-01-05 00:00:00"
    path.write_text(_t(**G, reported=-3, **{"from": "2024-01-02 05:00",
                                            "to": "2024-01-04 05:00"}), encoding="utf-8")
    assert prepare(root / "desk.yaml", path, 2).targets.targets["t"].reported == -3  # shrinks


@pytest.mark.parametrize("kind", ["directory", "missing", "latin-1", "fifo", "large",
                                  "link to fifo"])
def test_a_targets_file_that_is_not_a_readable_text_file_is_refused_at_once(root, no_run,
                                                                           tmp_path, kind):
    path = tmp_path / "targets.yaml"
    if kind == "directory":
        path.mkdir()
    elif kind == "latin-1":
        path.write_bytes(_t().encode() + "# café\n".encode("latin-1"))
    elif kind in ("fifo", "link to fifo"):
        fifo = tmp_path / "fifo"
        os.mkfifo(fifo)
        if kind == "fifo":
            path = fifo
        else:
            path.symlink_to(fifo)
    elif kind == "large":
        path.write_text(_t() + "# " + "x" * 2_000_000 + "\n", encoding="utf-8")
    words = {"directory": "a directory", "missing": "a readable targets file",
             "latin-1": "a UTF-8 file", "fifo": "no regular file",
             "large": "under 1000000 bytes", "link to fifo": "no regular file"}[kind]
    def hung(signum, frame):
        raise TimeoutError("reading the targets file hung")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(5)  # a FIFO with no writer or an endless device must not hang the test run
    try:
        with pytest.raises(GatesimError) as err:
            prepare(root / "desk.yaml", path, 2)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert words in str(err.value) and str(path) in str(err.value)
    assert "\n" not in str(err.value)


def test_many_targets_are_refused_before_parsing_ends(root, no_run, tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(_doc({f"x{i}": SUMMARY for i in range(250)})),
                    encoding="utf-8")
    with pytest.raises(GatesimError, match=r"targets: got a mapping; expected at most 200"):
        prepare(root / "desk.yaml", path, 2)


# --- the command line -------------------------------------------------------------------


def _cli(root: Path, *extra: str, targets: str = "good.yaml", out: Path | None = None,
         capsys=None) -> tuple[int, str]:
    argv = ["calibrate", str(root / "desk.yaml"), "--targets", str(root / targets),
            "-q", "-w", "1", *FAST, *extra]
    if out is not None:
        argv += ["--out", str(out)]
    code = cli.main(argv)
    return code, capsys.readouterr().err if capsys else ""


@pytest.mark.parametrize(("option", "words"), [
    (["--budget", "0"], "--budget: got 0"),
    (["--budget", "-4"], "--budget: got -4"),
    (["--profile-points", "1"], "--profile-points: got 1"),
    (["--profile-points", "2"], "--profile-points: got 2"),
    (["-r", "1"], "--replications: got 1; expected at least 2"),
    (["--set", "stages.desk.servers=0"], "stages.desk.servers"),
    (["--days", "1.5"], "targets.v.at"),
])
def test_bad_options_exit_2_in_one_line_and_write_nothing(root, no_run, tmp_path, capsys,
                                                          option, words):
    out = tmp_path / "out"
    code, err = _cli(root, *option, out=out, capsys=capsys)
    assert code == 2 and err.count("\n") == 1 and words in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_bad_targets_through_the_cli_exit_2(root, no_run, tmp_path, capsys):
    (tmp_path / "t.yaml").write_text(_t(**C, sides=["gate.import"]) + "    on: 2024-01-03\n",
                                     encoding="utf-8")
    (tmp_path / "desk.yaml").write_text(DESK, encoding="utf-8")
    code, err = _cli(tmp_path, targets="t.yaml", out=tmp_path / "out", capsys=capsys)
    assert code == 2 and err.count("\n") == 1 and "date:, not on:" in err


def test_out_onto_a_users_directory_is_refused_even_with_force(root, no_run, tmp_path,
                                                               capsys):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.txt").write_text("years of work", encoding="utf-8")
    (mine / "calibration.json").write_text('{"generator": "gatesim"}', encoding="utf-8")
    for force in ([], ["--force"]):
        code, err = _cli(root, *force, out=mine, capsys=capsys)
        assert code == 2 and err.count("\n") == 1, err
    assert sorted(p.name for p in mine.iterdir()) == ["calibration.json", "thesis.txt"]
    assert (mine / "thesis.txt").read_text(encoding="utf-8") == "years of work"
    code, err = _cli(root, "--force", out=root / "good.yaml", capsys=capsys)
    assert code == 2 and (root / "good.yaml").read_text(encoding="utf-8").startswith("fit:")


@pytest.fixture(scope="module")
def by_workers(root, tmp_path_factory):
    """The same calibration with 1 and 2 workers (and again with --force over the first)."""
    base = tmp_path_factory.mktemp("workers")
    outs = {}
    for w in ("1", "2"):
        outs[w] = base / f"w{w}"
        code = cli.main(["calibrate", str(root / "desk.yaml"), "--targets",
                         str(root / "good.yaml"), "-q", *FAST, "-w", w, "--seed", "3",
                         "--out", str(outs[w])])
        assert code == 0
    return outs


def test_same_seed_same_files_whatever_the_workers(by_workers):
    for name in ("calibration.csv", "fit.csv", "profile.csv", "trials.csv"):
        assert (by_workers["1"] / name).read_bytes() == (by_workers["2"] / name).read_bytes()
    assert not any(p.name.startswith(".") for p in by_workers["1"].parent.iterdir())


def test_calibrated_yaml_runs_from_anywhere(by_workers, tmp_path, monkeypatch):
    """Its extends: is relative to the results directory: a run from another working
    directory, and a copy of the whole tree elsewhere, both find the scenario."""
    variant = by_workers["1"] / "calibrated.yaml"
    fit = pd.read_csv(by_workers["1"] / "fit.csv").set_index("parameter").fitted
    monkeypatch.chdir(tmp_path)
    s = load_scenario(variant)
    assert s.stages["desk"].service.mean == pytest.approx(fit["desk_minutes"], rel=1e-5)
    assert s.name == "desk_calibrated"
    assert gatesim.run(s, 1, 1, records="none").summary is not None
    assert code_of(["run", str(variant), "-r", "1", "-q", "--no-report", "--out",
                    str(tmp_path / "r")]) == 0


def code_of(argv: list[str]) -> int:
    return cli.main(argv)


def test_results_far_from_the_scenario_and_a_scenario_that_extends(tmp_path):
    """--out deep elsewhere; the scenario extends another; a fitted number used through a
    YAML anchor at two stages and one inside a calendar's list of windows."""
    scen = tmp_path / "scen"
    scen.mkdir()
    (scen / "base.yaml").write_text(ANCHORED, encoding="utf-8")
    (scen / "child.yaml").write_text("extends: base.yaml\nname: child\n"
                                     "stages: {after: {servers: 2}}\n", encoding="utf-8")
    targets = tmp_path / "targets" / "t.yaml"
    targets.parent.mkdir()
    targets.write_text(yaml.safe_dump({"fit": ["desk_minutes", "closing"], "targets": {
        "w": {**BASE, "measure": "summary", "metric": "wait_h/desk2/mean"},
        "u": {**BASE, "measure": "summary", "metric": "utilisation/after/mean",
              "reported": 0.1, "half_band": 0.05}}}), encoding="utf-8")
    out = tmp_path / "x" / "y" / "z"
    code = cli.main(["calibrate", str(scen / "child.yaml"), "--targets", str(targets), "-q",
                     "-w", "1", *FAST, "--out", str(out)])
    assert code == 0
    text = (out / "calibrated.yaml").read_text(encoding="utf-8")
    assert "extends: ../../../scen/child.yaml" in text
    fit = pd.read_csv(out / "fit.csv").set_index("parameter")
    assert set(fit.loc["desk_minutes", "paths"].split(";")) == {
        "stages.desk.service.mean", "stages.desk2.service.mean"}
    moved = tmp_path / "moved"
    shutil.copytree(tmp_path, moved, ignore=shutil.ignore_patterns("moved"))
    for where in (out, moved / "x" / "y" / "z"):
        v = load_scenario(where / "calibrated.yaml")
        want = fit.loc["desk_minutes", "fitted"]
        assert v.stages["desk"].service.mean == pytest.approx(want, rel=1e-5)
        assert v.stages["desk2"].service.mean == pytest.approx(want, rel=1e-5)
        assert v.stages["after"].servers == 2  # the child's own change is kept
        window = v.calendars["office"].weekly[0].windows[0]
        hours = [int(x) for x in window.close.split(":")]
        assert hours[0] + hours[1] / 60 == pytest.approx(fit.loc["closing", "fitted"],
                                                         abs=1 / 60)
        assert window.open == "06:00"
        assert set(v.uncertain) == {"desk_minutes", "closing"}
        assert v.uncertain["closing"].low == 18 and v.uncertain["closing"].high == 24
    gatesim.run(v, 1, 1, records="none")


def test_calibrated_yaml_keeps_the_overrides_the_fit_was_made_under(root, tmp_path):
    out = tmp_path / "out"
    code = cli.main(["calibrate", str(root / "desk.yaml"), "--targets", str(root / "good.yaml"),
                     "-q", "-w", "1", *FAST, "--set", "stages.desk.servers=3", "--out",
                     str(out)])
    assert code == 0
    assert load_scenario(out / "calibrated.yaml").stages["desk"].servers == 3


# --- interrupted runs and what is kept meanwhile ------------------------------------------


def test_an_interrupted_calibration_resumes_from_its_kept_candidates(root, tmp_path,
                                                                     by_workers):
    exe = Path(sys.executable).with_name("gatesim")
    out = tmp_path / "out"
    argv = [str(exe), "calibrate", str(root / "desk.yaml"), "--targets",
            str(root / "good.yaml"), *FAST, "-w", "1", "--seed", "3", "--out", str(out)]
    measures = tmp_path / ".out.partial" / "measures"
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    t0 = time.monotonic()
    while proc.poll() is None and time.monotonic() - t0 < 30:
        if measures.is_dir() and len(list(measures.glob("*.json"))) >= 3:
            proc.send_signal(signal.SIGINT)
            break
        time.sleep(0.005)
    _, err = proc.communicate(timeout=30)
    if proc.returncode == 0:
        pytest.skip("the calibration finished before it could be interrupted")
    assert proc.returncode == 130 and "interrupted" in err and "Traceback" not in err
    assert not out.exists()
    kept = len(list(measures.glob("*.json")))
    assert kept >= 3
    again = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert again.returncode == 0, again.stderr
    assert f"resuming: {kept} measured candidates" in again.stdout
    assert not measures.parent.exists()  # cleared once published
    for name in ("calibration.csv", "fit.csv", "profile.csv", "trials.csv"):
        assert (out / name).read_bytes() == (by_workers["1"] / name).read_bytes()


@pytest.fixture(scope="module")
def stored(root, tmp_path_factory):
    """A finished calibration and the measured candidates it kept."""
    out = tmp_path_factory.mktemp("store") / "out"
    store = MeasureStore(out)
    result = calibrate(root / "desk.yaml", root / "good.yaml", replications=2, seed=1,
                       budget=2, profile_points=3, store=store)
    files = {f: f.read_text(encoding="utf-8") for f in sorted(store.dir.glob("*.json"))}
    assert files and result.meta["runs"] == len(files)
    return root, store, result, files


PLANTED = {
    "not JSON": "{garbage",
    "a list": "[]",
    "null": "null",
    "no keys": {},
    "values a string": {"values": "x", "unstable": False},
    "other target names": {"values": {"zzz": [1, 2]}, "unstable": False},
    "text figures": {"values": {"t": ["a", "b"], "v": ["a", "b"]}, "unstable": False},
    "overflowing figures": {"values": {"t": [1e300, 1e300], "v": [1, 1]}, "unstable": False},
    "one replication": {"values": {"t": [0.5], "v": [3]}, "unstable": False},
    "unstable as text": {"values": {"t": [0.5, 0.5], "v": [3, 3]}, "unstable": "false"},
}


@pytest.mark.parametrize("case", list(PLANTED))
def test_a_damaged_kept_candidate_is_measured_again_not_trusted(stored, case):
    root, store, result, files = stored
    payload = PLANTED[case]
    try:
        for f in files:
            f.write_text(payload if isinstance(payload, str) else json.dumps(payload),
                         encoding="utf-8")
        again = calibrate(root / "desk.yaml", root / "good.yaml", replications=2, seed=1,
                          budget=2, profile_points=3, store=store)
    finally:
        for f, text in files.items():
            f.write_text(text, encoding="utf-8")
    assert again.meta["runs"] == len(files)  # every damaged candidate was run again
    pd.testing.assert_frame_equal(again.fit, result.fit)
    pd.testing.assert_frame_equal(again.table, result.table)
