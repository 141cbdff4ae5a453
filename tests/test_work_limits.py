"""Absurd work is refused before any work, and every option is checked before any work.

Before the fix the work guard checked only the baseline of a comparison and the base of a
sweep, never ``--precision``'s replications or the replication count itself; a huge
``--param`` range was expanded in memory first; memory that grows with horizon × model size
was not counted; and an unknown ``--metric``/``--target`` was found after all the work.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from gatesim import cli
from gatesim.engine.model import run_replication
from gatesim.engine.variability import factor_series
from gatesim.errors import GatesimError
from gatesim.experiments.frames import replications_frame
from gatesim.experiments.guard import (
    BYTES_PER_INTERVAL,
    BYTES_PER_REPLAY_ROW,
    BYTES_PER_TRUCK_INSIDE,
    MAX_MEMORY,
    MAX_TRUCKS,
    TAIL_SDS,
    check_work,
    demand_spread,
    expected_memory,
    expected_trucks,
)
from gatesim.experiments.names import result_keys
from gatesim.scenario.loader import load_scenario
from gatesim.scenario.variability import Factor
from tests.conftest import ROOT, SMALL_GATE, TINY, scenario


@pytest.fixture
def tiny(tmp_path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY)
    return path


def refused(capsys, args: list[str], *words: str, seconds: float = 10) -> str:
    """The command exits 2 within ``seconds`` with one line holding every word."""
    t = time.monotonic()
    assert cli.main(args) == 2
    assert time.monotonic() - t < seconds
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("gatesim: error: "), err
    for w in words:
        assert w in err[0], err[0]
    return err[0]


def nothing_written(tmp_path: Path) -> bool:
    return sorted(p.name for p in tmp_path.iterdir()) == ["tiny.yaml"]


def test_every_compared_scenario_is_guarded(tmp_path, tiny, capsys):
    huge = tmp_path / "huge.yaml"
    huge.write_text(TINY.replace("name: tiny", "name: huge").replace("rate_per_day: 100",
                                                                      "rate_per_day: 900000"))
    refused(capsys, ["compare", str(tiny), str(huge), "-r", "20", "--out",
                     str(tmp_path / "c")], "huge", "--allow-large")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["huge.yaml", "tiny.yaml"]


def test_every_sweep_point_is_guarded_and_validated(tmp_path, tiny, capsys):
    out = str(tmp_path / "sw")
    refused(capsys, ["sweep", str(tiny), "--param", "clock.horizon_days=3,30000", "-r", "20",
                     "--out", out], "--allow-large")
    refused(capsys, ["sweep", str(tiny), "--param", "clock.start=2024-01-01 00:30", "--out",
                     out], "clock.start")
    refused(capsys, ["sweep", str(tiny), "--param", "yards.queue.slots=10,-5", "--out", out],
            "yards.queue.slots")
    assert nothing_written(tmp_path)
    # a date is a value like any other (it used to be a TypeError that left points/ behind)
    assert cli.main(["sweep", str(tiny), "--param", "clock.start=2024-01-01,2024-01-02", "-r",
                     "1", "-w", "1", "--out", out, "--no-report", "-q"]) == 0
    assert (tmp_path / "sw" / "sweep.csv").read_text().count("2024-01-0") >= 2


def test_replication_counts_are_guarded(tmp_path, tiny, capsys):
    out = ["--out", str(tmp_path / "r")]
    refused(capsys, ["run", str(tiny), "-r", "1000000000", *out], "--replications", "10,000")
    refused(capsys, ["run", str(tiny), "-r", "0", *out], "--replications")
    refused(capsys, ["run", str(tiny), "--precision", "0", *out], "--precision")
    refused(capsys, ["run", str(tiny), "--precision", "0.05", "--max-replications",
                     "1000000000", *out], "--max-replications")
    for command in (["run", str(tiny)], ["compare", str(tiny), str(tiny)],
                    ["sweep", str(tiny), "--param", "yards.queue.slots=10"]):
        refused(capsys, [*command, "--seed", "-1", *out], "--seed", "from 0")
    assert nothing_written(tmp_path)


def test_a_huge_grid_is_refused_before_it_is_built(tmp_path, tiny, capsys):
    out = ["--out", str(tmp_path / "sw")]
    refused(capsys, ["sweep", str(tiny), "--param", "yards.queue.slots=1:1e12:1", *out],
            "1,000,000,000,000 values", seconds=2)
    refused(capsys, ["sweep", str(tiny), "--param", "yards.queue.slots=1:500:1",
                     "--param", "stages.server.servers=1:500:1", *out], "250,000 points")
    refused(capsys, ["sweep", str(tiny), "--param", "yards.queue.slots=1:5:1", "--target",
                     "a/b/c<=1e", *out], "--target")
    assert nothing_written(tmp_path)


def test_memory_that_grows_with_horizon_and_model_size_is_counted(tmp_path, capsys):
    """14 × 48 windows a day over a century, on 100 stages: ~10 GB of calendar intervals."""
    doc = yaml.safe_load(TINY)
    doc["clock"]["horizon_days"] = 36600
    doc["arrivals"]["a"]["rate_per_day"] = 0.01
    windows = [{"open": f"{h:02d}:{m:02d}", "close": f"{h:02d}:{m + 15:02d}"}
               for h in range(24) for m in (0, 30)]
    doc["calendars"] = {"busy": {"weekly": [{"windows": windows}] * 14}}
    stage = {**doc["stages"]["server"], "calendar": "busy"}
    doc["stages"] = {f"s{i}": stage for i in range(100)}
    doc["routes"]["only"]["steps"] = [{"stage": f"s{i}"} for i in range(100)]
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(doc))
    assert expected_memory(load_scenario(path)) > MAX_MEMORY
    refused(capsys, ["run", str(path), "--out", str(tmp_path / "r")], "GB of memory")
    assert nothing_written(tmp_path)


def test_unknown_metric_or_target_is_refused_before_work_with_the_valid_names(tmp_path,
                                                                              tiny, capsys):
    out = ["--out", str(tmp_path / "r")]
    refused(capsys, ["run", str(tiny), "--precision", "0.05", "--metric",
                     "time_in_sytem_h/system/mean", *out], "no metric",
            "did you mean 'time_in_system_h'?")
    refused(capsys, ["run", str(tiny), "--precision", "0.05", "--metric",
                     "wait_h/serverr/mean", *out], "no scope", "did you mean 'server'?")
    refused(capsys, ["sweep", str(tiny), "--param", "yards.queue.slots=10,20", "--target",
                     "road_queue/system/p99<=5", *out], "no statistic", "p95", "p50")
    assert nothing_written(tmp_path)


@pytest.mark.parametrize("path", [SMALL_GATE, ROOT / "scenarios" / "huu_nghi.yaml"])
def test_the_known_names_cover_every_row_a_run_produces(path):
    s = load_scenario(path, ["clock.horizon_days=4", "clock.warmup_days=1"])
    keys = result_keys(s)
    rows = replications_frame([run_replication(s, 1, 0, records="none")])
    for metric, scope, stat in rows[["metric", "scope", "stat"]].itertuples(index=False):
        assert metric in keys, metric
        assert scope in keys[metric][0], (metric, scope)
        assert stat in keys[metric][1], (metric, stat)


# --- the new fields: replayed rows, daily factors, their timetables, stoppages, doors -------


def _tiny_doc(**clock) -> dict:
    doc = yaml.safe_load(TINY)
    doc["clock"].update(clock)
    return doc


def _with_replay(tmp_path: Path, hours: list[float], name: str = "log.csv", **clock) -> Path:
    """TINY whose stream replays a file with one row at each of ``hours``."""
    (tmp_path / name).write_text("hours\n" + "".join(f"{h}\n" for h in hours))
    doc = _tiny_doc(**clock)
    doc["arrivals"]["a"] = {"direction": "import", "cargo": "general", "replay": name}
    path = tmp_path / f"{Path(name).stem}.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def test_replayed_rows_before_the_horizon_are_the_estimate(tmp_path, capsys):
    """A replay brings exactly its rows before the horizon (later rows never arrive); before
    the fix the estimate read the missing interarrival law and the CLI ended in a traceback."""
    path = _with_replay(tmp_path, [100, 0.5, 1, 10, 71.9, 72, 500], horizon_days=3)
    s = load_scenario(path)
    assert expected_trucks(s) == 4
    assert expected_trucks(s, 10) == 40 and check_work([s], 10, allow_large=False) == 40
    assert cli.main(["run", str(path), "-r", "2", "-w", "1", "--out", str(tmp_path / "r"), "-q",
                     "--no-report"]) == 0, capsys.readouterr().err
    assert (tmp_path / "r" / "summary.csv").is_file()


def test_a_huge_replay_is_refused_before_any_work(tmp_path, capsys):
    rows = 25_000  # 25,000 trucks a replication: 2,000 replications are the most a run may take
    path = _with_replay(tmp_path, [i * 72 / rows for i in range(rows)], horizon_days=3)
    s = load_scenario(path)
    assert expected_trucks(s) == rows
    assert check_work([s], MAX_TRUCKS // rows, allow_large=False) == MAX_TRUCKS
    with pytest.raises(GatesimError, match="--allow-large"):
        check_work([s], MAX_TRUCKS // rows + 1, allow_large=False)
    refused(capsys, ["run", str(path), "-r", str(MAX_TRUCKS // rows + 1), "--out",
                     str(tmp_path / "r")], "50,025,000 trucks", "--allow-large")
    assert not (tmp_path / "r").exists()
    # every row of the file is held in memory, as a truck that may still be inside at the end
    one = load_scenario(_with_replay(tmp_path, [1.0], "one.csv", horizon_days=3))
    assert expected_memory(s) - expected_memory(one) == pytest.approx(
        (rows - 1) * (BYTES_PER_TRUCK_INSIDE + BYTES_PER_REPLAY_ROW))


def test_a_daily_factor_keeps_the_mean_and_bounds_the_tail():
    """100 trucks a day for 3 days: a factor of mean 1 leaves the mean at 300 and adds three
    standard deviations of the 3 days' total, cv·√3 per truck-day when days are independent,
    up to cv·3 when they move together (autocorrelation 0.99)."""
    assert expected_trucks(scenario(_tiny_doc())) == 300
    doc = _tiny_doc()
    doc["arrivals"]["a"]["daily_factor"] = {"cv": 0.5}
    assert expected_trucks(scenario(doc)) == pytest.approx(300 + TAIL_SDS * 100 * 0.5 * 3 ** 0.5)
    assert expected_trucks(scenario(doc), 100) == pytest.approx(
        100 * 300 + 10 * TAIL_SDS * 100 * 0.5 * 3 ** 0.5)  # replications average out
    doc["factors"] = {"demand": {"cv": 0.5, "autocorrelation": 0.99}}
    doc["arrivals"]["a"]["daily_factor"] = "demand"
    assert expected_trucks(scenario(doc)) == pytest.approx(300 + TAIL_SDS * 100 * 0.5 * 3)
    doc["factors"]["demand"] = {"law": "empirical", "values": [1e9, 1e9, 1e9]}
    assert expected_trucks(scenario(doc)) == 300  # no spread (values are relative)
    doc = _tiny_doc(horizon_days=3650)
    doc["arrivals"]["a"]["daily_factor"] = {"cv": 0.2}
    assert expected_trucks(scenario(doc)) < 365_000 * 1.01  # ten years average out


@pytest.mark.parametrize("factor", [
    Factor(cv=2), Factor(cv=2, autocorrelation=0.99), Factor(cv=0.15),
    Factor(law="lognormal", cv=2), Factor(law="lognormal", cv=0.3, autocorrelation=0.5),
    Factor(law="empirical", values=[0, 0, 0, 1])],
    ids=["gamma2", "gamma2_ar99", "gamma015", "lognormal2", "lognormal03_ar5", "empirical"])
@pytest.mark.parametrize("days", [1, 7, 60])
def test_the_tail_bound_holds_for_drawn_factor_series(factor, days):
    """The bound on a horizon's total (mean + 3 sd) is above its 97th percentile and within
    twice its 95th, for the laws the engine draws (1,000 series each)."""
    gen = np.random.default_rng(5)
    sums = np.array([factor_series(factor, gen, days).sum() for _ in range(1000)])
    bound = days + TAIL_SDS * demand_spread(factor, days)
    assert (sums > bound).mean() <= 0.03
    assert bound <= 2 * np.quantile(sums, 0.95)


def test_a_long_horizon_with_factors_and_stoppages_is_counted_and_refused(tmp_path, capsys):
    """A century: each daily factor adds one timetable entry a day, each random stoppage a span
    on each resource it stops; 80 stages stopping 24 times a day keep 70 million spans."""
    days = 36_600
    doc = _tiny_doc(horizon_days=days)
    doc["arrivals"]["a"]["rate_per_day"] = 0.01
    base = expected_memory(scenario(doc))
    doc["stages"]["server"]["servers_factor"] = {"cv": 0.1}
    assert expected_memory(scenario(doc)) - base == pytest.approx((days + 2) * BYTES_PER_INTERVAL)
    stage = doc["stages"].pop("server")
    doc["stages"] = {f"s{i}": stage for i in range(80)}
    doc["routes"]["only"]["steps"] = [{"stage": f"s{i}"} for i in range(80)]
    assert expected_memory(scenario(doc)) < MAX_MEMORY
    doc["stoppages"] = {"storm": {"at": list(doc["stages"]), "rate_per_day": 24,
                                  "duration": {"dist": "constant", "value": 1, "unit": "min"}}}
    assert expected_memory(scenario(doc)) > MAX_MEMORY
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(doc))
    refused(capsys, ["run", str(path), "--out", str(tmp_path / "r")], "GB of memory")
    assert nothing_written(tmp_path)


def test_shared_acceptances_count_their_calendars(tmp_path):
    """A lane side admitted through a shared acceptance: its door keeps the side's calendar,
    the acceptance its own, compiled over the horizon like any pool's."""
    days = 1000
    doc = _tiny_doc(horizon_days=days)
    doc["calendars"] = {"day": {"weekly": [{"windows": [{"open": "07:00", "close": "18:00"}]}]}}
    doc["lanes"] = {"gate": {"crossing_time": {"dist": "constant", "value": 5, "unit": "min"},
                             "import": {"yard": "queue", "capacity_per_hour": 10,
                                        "calendar": "day"}}}
    doc["routes"]["only"]["steps"].append({"lane": "gate"})
    own = expected_memory(scenario(doc))
    doc["acceptances"] = {"other_side": {"capacity_per_hour": 10, "calendar": "day"}}
    doc["lanes"]["gate"]["import"] = {"yard": "queue", "acceptance": "other_side",
                                      "calendar": "day"}
    one_pool = ((1 + 1) * (days + 2) + days) * BYTES_PER_INTERVAL
    assert expected_memory(scenario(doc)) - own == pytest.approx(one_pool)
