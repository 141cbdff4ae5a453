"""Absurd work is refused before any work, and every option is checked before any work.

Before the fix the work guard checked only the baseline of a comparison and the base of a
sweep, never ``--precision``'s replications or the replication count itself; a huge
``--param`` range was expanded in memory first; memory that grows with horizon × model size
was not counted; and an unknown ``--metric``/``--target`` was found after all the work.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from gatesim import cli
from gatesim.engine.model import run_replication
from gatesim.experiments.frames import replications_frame
from gatesim.experiments.guard import MAX_MEMORY, expected_memory
from gatesim.experiments.names import result_keys
from gatesim.scenario.loader import load_scenario
from tests.conftest import ROOT, SMALL_GATE, TINY


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
