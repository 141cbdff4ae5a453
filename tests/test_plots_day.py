"""The typical day leaves closure days out (and draws them apart); throughput has its demand
line, from the summary, the records (a sample scaled up) or the scenario's rates."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
import pytest

import gatesim
from gatesim.output import plots, reader
from gatesim.output.plots.day import typical_days
from gatesim.output.plots.demand import from_records, from_scenario, from_summary
from gatesim.output.writer import write_run
from tests.conftest import SMALL_GATE, scenario

CLOSED = dt.date(2024, 1, 3)
TINY_CLOSURE = {
    "name": "tiny_closure",
    "clock": {"start": "2024-01-01 00:00", "horizon_days": 5, "warmup_days": 1},
    "calendars": {"gate": {
        "weekly": [{"windows": [{"open": "06:00", "close": "20:00"}]}],
        "overrides": [{"start": "2024-01-03", "end": "2024-01-03", "windows": [],
                       "note": "storm"}]}},
    "yards": {"queue": {"slots": 500}},
    "lanes": {"gate": {"crossing_time": {"dist": "constant", "value": 5, "unit": "min"},
                       "import": {"yard": "queue", "capacity_per_hour": 12,
                                  "calendar": "gate"}}},
    "arrivals": {"a": {"direction": "import", "cargo": "general", "rate_per_day": 100}},
    "routes": {"only": {"direction": "import", "cargo": "general",
                        "steps": [{"lane": "gate"}]}},
}
"""A lane open 06:00–20:00 and closed all of 3 Jan 2024 (a storm): a backlog that day."""


@pytest.fixture(scope="module")
def closure_run(tmp_path_factory) -> reader.RunFiles:
    s = scenario(TINY_CLOSURE)
    out = tmp_path_factory.mktemp("closure") / "run"
    return reader.read_run(write_run(gatesim.run(s, replications=2, seed=3), out, xlsx=False))


def by_hour_of_day(run: reader.RunFiles, days: list[dt.date]) -> pd.Series:
    """Trucks in the system by hour of day over ``days``, straight from the series."""
    ts = run.timeseries.query("metric == 'in_system' and hour >= 24 and hour < 120")
    date = [dt.date(2024, 1, 1) + dt.timedelta(days=int(h // 24)) for h in ts.hour]
    ts = ts[[d in days for d in date]].assign(hod=ts.hour % 24)
    return ts.groupby(["replication", "hod"])["value"].mean().groupby("hod").mean()


def test_closure_days_from_overrides_and_dated_stoppages():
    doc = {**TINY_CLOSURE, "calendars": {"gate": {
        **TINY_CLOSURE["calendars"]["gate"], "clock_offset_h": 1,
        "overrides": [{"start": "2024-01-03", "end": "2024-01-03", "windows": []},
                      {"start": "2024-02-01", "end": "2024-02-09", "windows": []}]}},
        "stoppages": {"strike": {"at": ["gate"], "dated": [
            {"start": "2024-01-04 22:00", "end": "2024-01-05 02:00", "note": "strike"}]}}}
    days = plots.closure_days(scenario(doc))
    # Beijing's 3 Jan is 23 h of Hanoi's 3 Jan and 1 h of the 2nd; February is past the end;
    # a stoppage marks every day it touches
    assert days == {CLOSED: "gate closed", dt.date(2024, 1, 4): "strike",
                    dt.date(2024, 1, 5): "strike"}


def test_typical_day_leaves_the_closure_day_out(closure_run):
    days, closed = typical_days(closure_run)
    assert closed == {CLOSED: "storm"}
    assert days == [dt.date(2024, 1, d) for d in (2, 4, 5)]
    fig = plots.figure_typical_day(closure_run)
    backlog = fig.axes[0]
    (typical,) = [ln for ln in backlog.get_lines() if ln.get_label() == "trucks in the system"]
    (apart,) = [ln for ln in backlog.get_lines()
                if ln.get_label() == "trucks in the system, on closure days"]
    want = by_hour_of_day(closure_run, days)
    assert np.asarray(typical.get_ydata())[:24] == pytest.approx(want.to_numpy())
    on_closure = by_hour_of_day(closure_run, [CLOSED])
    assert np.asarray(apart.get_ydata())[:24] == pytest.approx(on_closure.to_numpy())
    everything = by_hour_of_day(closure_run, [*days, CLOSED])
    assert not np.allclose(everything.to_numpy(), want.to_numpy())   # it would have mattered
    title = fig.get_suptitle().replace("\n", " ")
    assert "3 typical days" not in title and "closure days left out: 3 Jan 2024 (storm)" in title
    assert "closure" in plots.caption("typical_day")


def test_demand_counted_in_the_records_beside_throughput(closure_run):
    fig = plots.figure_throughput(closure_run)
    (ax,) = fig.axes
    (stair,) = [p for p in ax.patches if p.get_label().startswith("trucks arriving")]
    t = closure_run.trucks
    per_day = t.assign(day=(t.arrival // 24).astype(int)).groupby(["replication", "day"]).size()
    want = per_day.groupby("day").mean().reindex(range(5), fill_value=0)
    assert stair.get_data().values == pytest.approx(want.to_numpy())
    assert "counted in the truck records" in stair.get_label()


def test_a_sample_of_the_records_is_counted_ten_times(tmp_path):
    s = scenario(TINY_CLOSURE)
    run = reader.read_run(write_run(gatesim.run(s, replications=2, seed=3, records="sample"),
                                    tmp_path / "run", xlsx=False))
    assert run.meta["records"] == "sample"
    full = from_records(dataclasses.replace(run, meta={**run.meta, "records": "all"}))
    sampled = from_records(run)
    assert sampled is not None and full is not None and "every tenth" in sampled.source
    assert sampled.per_day["value"].to_numpy() == pytest.approx(
        10 * full.per_day["value"].to_numpy())
    assert sampled.per_day["value"].sum() == pytest.approx(5 * 100, rel=0.15)


def test_demand_from_the_scenario_rates_without_records():
    s = gatesim.load_scenario(SMALL_GATE)
    d = from_scenario(s).per_day.set_index(["direction", "day"])["value"]
    # 8 Feb 2024 is a Thursday: day 3 is Sunday (general exports x 0.5), days 4-5 are the
    # import date multiplier's (x 1.5)
    assert [d["export", k] for k in range(6)] == [70, 70, 70, 55, 70, 70]
    assert [d["import", k] for k in range(6)] == [80, 80, 80, 80, 120, 120]


def test_the_summary_arrivals_per_day_come_first(closure_run):
    row = pd.DataFrame([{"metric": "arrivals_per_day", "scope": "import", "stat": "mean",
                         "estimate": 98.5, "ci_low": 90, "ci_high": 107, "n": 2}])
    run = dataclasses.replace(closure_run,
                              summary=pd.concat([closure_run.summary, row], ignore_index=True))
    d = from_summary(run)
    assert d is not None and set(d.per_day["value"]) == {98.5}
    assert list(d.per_day["day"]) == [1, 2, 3, 4]          # the days measured
    fig = plots.figure_throughput(run)
    (stair,) = [p for p in fig.axes[0].patches if p.get_label().startswith("trucks arriving")]
    assert "summary" in stair.get_label()
    bare = plots.figure_throughput(dataclasses.replace(closure_run, trucks=None, visits=None))
    (stair,) = [p for p in bare.axes[0].patches if p.get_label().startswith("trucks arriving")]
    assert "scenario's arrival rates" in stair.get_label()


def test_an_unstable_run_says_so_on_its_typical_day(closure_run):
    meta = {**closure_run.meta, "stability": {"unstable": True, "growth_per_day": 42.0}}
    fig = plots.figure_typical_day(dataclasses.replace(closure_run, meta=meta))
    assert "UNSTABLE: the backlog grows by 42.0 trucks a day" in fig.get_suptitle().replace(
        "\n", " ")


def test_a_run_of_closure_days_only_draws_them_apart(closure_run):
    doc = {**TINY_CLOSURE, "calendars": {"gate": {**TINY_CLOSURE["calendars"]["gate"],
                                                  "overrides": [{"start": "2024-01-02",
                                                                 "end": "2024-01-05",
                                                                 "windows": []}]}}}
    run = dataclasses.replace(closure_run, scenario=scenario(doc))
    days, closed = typical_days(run)
    assert days == [] and len(closed) == 4
    fig = plots.figure_typical_day(run)
    labels = [ln.get_label() for ln in fig.axes[0].get_lines()]
    assert labels == ["trucks in the system, on closure days", "all roads, on closure days"]
