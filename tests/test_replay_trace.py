"""The replay_trace validation case: 100 replayed trucks through a stage whose servers go
1, 3, 1, 10 at t = 15, 30, 50 h; every engine departure must equal an exact FIFO recursion's.

Two references, written apart: gatesim.validation.trace.fifo_departures (what the suite runs)
and tests/trace_recursion.py (naive, quadratic); they must agree with each other too.
"""

from __future__ import annotations

import runpy

import numpy as np
import pytest

from gatesim.scenario.calendar import compile_calendar
from gatesim.validation import trace
from tests.conftest import ROOT
from tests.trace_recursion import fifo_departures as naive_departures


@pytest.fixture(scope="module")
def case():
    s = trace.scenario()
    return s, *trace.trace_of(s)


def test_every_departure_matches_the_recursion_to_1e_9(case):
    s, arrivals, _ = case
    got = trace.engine_trace(s)
    assert len(arrivals) == trace.TRUCKS == 100
    assert len(got.arrivals) == len(got.departures) == 100 and got.inside == 0
    errors = trace.departure_errors(s)
    assert errors.shape == (100,)
    assert np.max(np.abs(errors)) <= trace.TOLERANCE_H == 1e-9
    assert trace.max_departure_error() <= 1e-9
    assert trace.max_departure_error(seed=12345) <= 1e-9  # the trace overrides every draw
    row = trace.trace_row()
    assert row["passed"] and row["simulated"] <= 1e-9


def test_the_two_references_agree_on_the_trace(case):
    _, arrivals, services = case
    mine = trace.fifo_departures(arrivals, services, trace.SCHEDULE)
    theirs = naive_departures(arrivals, services, list(trace.SCHEDULE))
    assert mine == theirs  # the times are dyadic: both sums are exact


def test_the_two_references_agree_where_events_coincide():
    """Whole-hour times make departures, arrivals and server changes meet: both references
    free a server at its departure instant and apply a change from its instant on."""
    gen = np.random.default_rng(3)
    for _ in range(200):
        n = int(gen.integers(1, 30))
        arrivals = np.sort(gen.integers(0, 20, n)).astype(float).tolist()
        services = gen.integers(0, 6, n).astype(float).tolist()
        times = np.unique(gen.integers(1, 25, int(gen.integers(0, 5)))).tolist()
        schedule = [(0.0, int(gen.integers(0, 4)))]
        schedule += [(float(t), int(gen.integers(0, 4))) for t in times]
        schedule += [(30.0, int(gen.integers(1, 4)))]
        assert trace.fifo_departures(arrivals, services, schedule) == naive_departures(
            arrivals, services, schedule)


def test_the_trace_exercises_every_server_change(case):
    _, arrivals, services = case
    departures = trace.fifo_departures(arrivals, services)
    starts = [d - s for d, s in zip(departures, services, strict=True)]
    assert all(b > a for a, b in zip(arrivals, arrivals[1:], strict=False))
    assert arrivals[0] > 0 and 55 < arrivals[-1] < 65
    events = arrivals + departures + [15.0, 30.0, 50.0]
    assert len(set(events)) == len(events)  # nothing simultaneous
    assert starts.count(15.0) == 2 and starts.count(50.0) == 9
    assert sum(s <= 30 < d for s, d in zip(starts, departures, strict=True)) == 3  # 2 finish
    assert sum(a < 30 < s for a, s in zip(arrivals, starts, strict=True)) > 0  # off duty


def test_the_case_calendar_is_the_issue_schedule(case):
    s, *_ = case
    horizon = s.clock.horizon_days * 24
    stage = s.stages[trace.STAGE]
    intervals = compile_calendar(s.calendars[stage.calendar], s.clock.start, horizon)
    assert [(iv.start, iv.servers) for iv in intervals] == list(trace.SCHEDULE)
    assert [iv.end for iv in intervals] == [15.0, 30.0, 50.0, horizon]


def test_the_committed_trace_is_what_the_tool_generates(capsys):
    tool = runpy.run_path(str(ROOT / "tools" / "make_replay_trace.py"))  # not as __main__
    assert tool["main"](["--check"]) == 0, capsys.readouterr()
    assert tool["problems"](*trace.read_trace(tool["OUT"])) == []


@pytest.mark.parametrize(("override", "schedule"), [
    ("calendars.shifts.overrides.0.windows.0.servers=2",
     ((0.0, 2), (15.0, 3), (30.0, 1), (50.0, 10))),
    ("calendars.shifts.overrides.1.windows.1.servers=3",  # 3 until Tue 24:00, 1 to 02:00
     ((0.0, 1), (15.0, 3), (48.0, 1), (50.0, 10))),
])
def test_another_calendar_gives_other_departures(override, schedule):
    """The check can fail: the engine follows the calendar it is given, the reference its
    schedule; with the variant's own schedule they agree again."""
    s = trace.scenario([override])
    errors = trace.departure_errors(s)
    assert np.max(np.abs(errors)) > 0.1
    assert np.max(np.abs(trace.departure_errors(s, schedule=schedule))) <= 1e-9
