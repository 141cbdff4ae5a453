"""Replayed arrivals files (gatesim/scenario/replay.py): parsing, sorting, defaults, caching and
one-line errors that name the file, line, column and value."""

from __future__ import annotations

import datetime as dt
import math
import os
import pickle
import re

import numpy as np
import pytest

from gatesim.errors import GatesimError, ScenarioError
from gatesim.scenario.replay import MAX_ROWS, Kind, ReplayError, read_replay

WHERE = "arrivals.gate_log.replay"
START = dt.datetime(2024, 8, 1)
SCENARIO = dict(
    where=WHERE, start=START, direction="export", cargo="fruit", site=None,
    attributes=["reefer", "priority"], stages=["customs", "scan"], lanes=["main", "green"],
    sites=["north", "south"], cargos=["fruit", "general"],
    routes=[("export", "fruit", None), ("export", "general", None),
            ("import", "general", "north")])


def write(tmp_path, text: str | bytes, name: str = "log.csv"):
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def read(tmp_path, text: str | bytes, **over):
    return read_replay(write(tmp_path, text), **{**SCENARIO, **over})


def test_datetime_rows_give_hours_from_the_start_and_kinds(tmp_path):
    r = read(tmp_path, "time,direction,cargo,site,reefer\n"
                       "2024-08-01 06:30,export,fruit,,yes\n"
                       "2024-08-01T07:00:30,import,general,north,0\n"
                       "2024-08-02 00:00,,,,TRUE\n")
    assert r.hours.dtype == np.float64 and r.kind.dtype == np.int32
    assert r.hours.tolist() == pytest.approx([6.5, 7 + 30 / 3600, 24.0])
    assert r.kinds == (Kind("export", "fruit", None, (("reefer", True),)),
                       Kind("import", "general", "north", (("reefer", False),)))
    assert r.kind.tolist() == [0, 1, 0]
    assert r.fixed == {} and r.file.endswith("log.csv")


def test_hours_column_and_a_bom(tmp_path):
    r = read(tmp_path, "\ufeffhours,cargo\n0,general\n1.25,\n1e1,fruit\n")
    assert r.hours.tolist() == [0.0, 1.25, 10.0]
    assert r.kinds == (Kind("export", "general", None, ()), Kind("export", "fruit", None, ()))
    assert r.kind.tolist() == [0, 1, 1]


def test_rows_are_sorted_stably_and_kinds_numbered_in_sorted_order(tmp_path):
    r = read(tmp_path, "hours,cargo,service:scan\n5,fruit,1\n2,general,2\n5,general,3\n"
                       "2,fruit,4\n\n100,fruit,5\n")
    assert r.hours.tolist() == [2, 2, 5, 5, 100]  # rows after the horizon (48 h) are kept
    assert [r.kinds[k].cargo for k in r.kind] == ["general", "fruit", "fruit", "general", "fruit"]
    assert r.kinds[0].cargo == "general"
    assert r.fixed["service:scan"].tolist() == [2, 4, 1, 3, 5]


def test_defaults_fill_missing_columns_and_empty_cells(tmp_path):
    r = read(tmp_path, "hours,site,cargo\n1,,\n2,north,general\n",
             direction="import", cargo="general", site="south",
             routes=[("import", "general", "south"), ("import", "general", "north")])
    assert r.kinds == (Kind("import", "general", "south", ()),
                       Kind("import", "general", "north", ()))
    r = read(tmp_path, "hours\n3\n", direction="import", cargo="general", site="north")
    assert r.kinds == (Kind("import", "general", "north", ()),)


def test_a_route_must_serve_the_rows_exact_site(tmp_path):
    with pytest.raises(ReplayError, match="line 2, column site"):  # the engine keys routes so
        read(tmp_path, "hours,site\n1,south\n", direction="import", cargo="general",
             routes=[("import", "general", None)])


def test_service_and_crossing_columns_empty_is_nan(tmp_path):
    r = read(tmp_path, " hours , service:customs,crossing:main \n1, 0.5 ,\n0,,2\n")
    assert set(r.fixed) == {"service:customs", "crossing:main"}
    assert r.fixed["service:customs"][0] != r.fixed["service:customs"][0]  # NaN first (t=0)
    assert r.fixed["service:customs"][1] == 0.5
    assert r.fixed["crossing:main"][0] == 2 and math.isnan(r.fixed["crossing:main"][1])


def test_attribute_values_and_sorted_attribute_names(tmp_path):
    r = read(tmp_path, "hours,reefer,priority\n1,No,YES\n2,false,1\n")
    assert r.kinds == (Kind("export", "fruit", None, (("priority", True), ("reefer", False))),)


def test_the_result_is_read_only(tmp_path):
    r = read(tmp_path, "hours,service:scan\n1,2\n")
    with pytest.raises(ValueError):
        r.hours[0] = 5
    with pytest.raises(ValueError):
        r.fixed["service:scan"][0] = 5


def test_cached_until_the_file_changes(tmp_path):
    path = write(tmp_path, "hours\n1\n")
    first = read_replay(path, **SCENARIO)
    assert read_replay(path, **SCENARIO) is first
    assert read_replay(path, **{**SCENARIO, "stages": ("scan", "customs")}) is first
    path.write_text("hours\n1\n2\n", encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    again = read_replay(path, **SCENARIO)
    assert again is not first and again.hours.tolist() == [1, 2]
    assert read_replay(path, **{**SCENARIO, "cargo": "general"}) is not again


BAD = [  # (file text, line, column, value shown)
    ("", 1, "time", "an empty file"),
    ("\n\n", 1, "time", "an empty file"),
    ("hours,cargo\n", 2, "hours", "no rows"),
    ("hours,carg\n1,fruit\n", 1, "carg", "did you mean 'cargo'?"),
    ("hours,service:scna\n1,2\n", 1, "service:scna", "did you mean 'service:scan'?"),
    ("hours,cargo,cargo\n1,a,b\n", 1, "cargo", "'cargo'"),
    ("hours,,cargo\n1,,fruit\n", 1, "#2", "an empty name"),
    ("cargo\nfruit\n", 1, "time", "no time or hours column"),
    ("time,hours\n2024-08-01 00:00,0\n", 1, "hours", "both time and hours"),
    ("hours,cargo\n1,fruit\n2\n", 3, "cargo", "1 fields"),
    ("hours,cargo\n1,fruit,x\n", 2, "#3", "3 fields"),
    ("hours\n1\nabc\n", 3, "hours", "'abc'"),
    ("hours\n-1\n", 2, "hours", "'-1'"),
    ("hours\nnan\n", 2, "hours", "'nan'"),
    ("hours\ninf\n", 2, "hours", "'inf'"),
    ("hours,service:scan\n1,inf\n", 2, "service:scan", "'inf'"),
    ("hours,crossing:main\n1,-0.5\n", 2, "crossing:main", "'-0.5'"),
    ("time\n2024-07-31 23:59\n", 2, "time", "'2024-07-31 23:59'"),
    ("time\n2024-08-01 7:00\n", 2, "time", "'2024-08-01 7:00'"),
    ("time\n2024-08-01 07:00+07:00\n", 2, "time", "'2024-08-01 07:00+07:00'"),
    ("time\n2024-02-30 07:00\n", 2, "time", "'2024-02-30 07:00'"),
    ("hours,direction\n1,exprot\n", 2, "direction", "'exprot'"),
    ("hours,cargo\n1,fruits\n", 2, "cargo", "'fruits'"),
    ("hours,site\n1,east\n", 2, "site", "'east'"),
    ("hours,reefer\n1,\n", 2, "reefer", "''"),
    ("hours,reefer\n1,maybe\n", 2, "reefer", "'maybe'"),
    ("hours,direction,cargo\n1,export,fruit\n2,import,fruit\n", 3, "cargo",
     "direction import, cargo fruit, site (none)"),
    ('hours,cargo\n1,"fruit\n', 2, None, "CSV"),
]


@pytest.mark.parametrize(("text", "line", "column", "value"), BAD)
def test_each_fault_is_one_line_naming_file_line_column_and_value(tmp_path, text, line,
                                                                  column, value):
    with pytest.raises(ReplayError) as info:
        read(tmp_path, text)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{tmp_path / 'log.csv'}, line {line}")
    assert (f", column {column}: " in message) if column else ": got " in message
    assert value in message and message.endswith(f"({WHERE})")
    assert "could not" not in message and "Traceback" not in message
    assert isinstance(info.value, ScenarioError) and isinstance(info.value, GatesimError)


@pytest.mark.parametrize(("text", "expected"), [
    ("hours,direction\n1,exprot\n", "expected a direction of the scenario, did you mean 'export'?"),
    ("hours,cargo\n1,xyz\n", "expected a cargo of the scenario, one of fruit, general"),
    ("hours\nabc\n", "expected a number of hours >= 0"),
    ("hours,service:scan\n1,x\n", "expected a number of hours from 0 to 878400, or nothing"),
    ("time\n2024-07-31 23:00\n", "expected a time at or after the clock start 2024-08-01"),
    ("Time\n2024-08-01 00:00\n", "expected a known column, did you mean 'time'?"),
    ("hours,zzz\n1,2\n", "expected a known column, one of cargo, crossing:green"),
])
def test_the_expectation_says_what_would_do(tmp_path, text, expected):
    with pytest.raises(ReplayError, match=re.escape(expected)):
        read(tmp_path, text)


def test_line_numbers_count_physical_lines_with_crlf_and_quoted_newlines(tmp_path):
    text = 'hours,cargo\r\n\r\n1,"fruit\n"\r\n2," general "\r\nabc,fruit\r\n'
    with pytest.raises(ReplayError, match=r"log.csv, line 6, column hours: got 'abc'"):
        read(tmp_path, text)
    r = read(tmp_path, 'hours,cargo\r\n1,"fruit"\r\n2," general "\r\n')
    assert [k.cargo for k in r.kinds] == ["fruit", "general"]


def test_bytes_that_are_not_utf8_are_placed(tmp_path):
    with pytest.raises(ReplayError, match=r"log.csv, line 3, column cargo: got the byte 0xe9; "
                                          r"expected UTF-8 text"):
        read(tmp_path, b"hours,cargo\n1,fruit\n2,caf\xe9\n")
    with pytest.raises(ReplayError, match="line 1, column \ufffdcargo: got the byte 0xff"):
        read(tmp_path, b"hours,\xffcargo\n1,fruit\n")  # the header itself
    with pytest.raises(ReplayError, match=r"line 2, column hours: got the byte 0xc3"):
        read(tmp_path, b"hours\n\xc3\n")  # a truncated sequence


def test_a_missing_file_is_one_line(tmp_path):
    with pytest.raises(ReplayError, match=r"nope.csv: got a file that cannot be read; "
                                          r"expected a readable CSV file"):
        read_replay(tmp_path / "nope.csv", **SCENARIO)
    with pytest.raises(ReplayError, match="not a directory, device or pipe"):
        read_replay(tmp_path, **SCENARIO)


def test_too_many_rows(tmp_path, monkeypatch):
    monkeypatch.setattr("gatesim.scenario.replay.MAX_ROWS", 3)
    with pytest.raises(ReplayError, match=r"line 5, column hours: got over 3 rows"):
        read(tmp_path, "hours\n1\n2\n3\n4\n")
    assert MAX_ROWS == 2_000_000


def test_the_error_survives_pickling(tmp_path):
    with pytest.raises(ReplayError) as info:
        read(tmp_path, "hours\n-1\n")
    back = pickle.loads(pickle.dumps(info.value))
    assert str(back) == str(info.value) and back.line == 2
