"""`gatesim run`: the results contract, byte-identical reruns, worker independence."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from gatesim.experiments.run import run
from gatesim.scenario.loader import load_scenario
from tests.conftest import ROOT, SMALL_GATE

SUMMARY_COLUMNS = ["metric", "scope", "stat", "estimate", "ci_low", "ci_high", "n"]
CONTRACT_METRICS = {
    "throughput_per_day", "time_in_system_h", "wait_h", "queue_length", "utilisation",
    "yard_occupancy", "road_queue", "turned_away", "in_system_end", "censored_wait_h",
}
FILES = ["results.xlsx", "summary.csv", "replications.csv", "timeseries.parquet",
         "summary.json", "trucks.parquet", "visits.parquet"]


def gatesim(*args: str, cwd=ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gatesim.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    outs = []
    for k in range(2):
        out = tmp_path_factory.mktemp(f"run{k}") / "res"
        p = gatesim("run", str(SMALL_GATE), "-r", "3", "--seed", "7", "--workers", str(k + 1),
                    "--out", str(out), "--quiet", "--no-report")
        assert p.returncode == 0, p.stderr
        assert p.stdout == ""
        outs.append(out)
    return outs


def test_files_and_columns(two_runs):
    out = two_runs[0]
    assert sorted(f.name for f in out.iterdir()) == sorted(FILES)
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.columns[:7]) == SUMMARY_COLUMNS
    assert set(summary.metric) >= CONTRACT_METRICS
    assert {"mean", "p50", "p90", "p95", "max"} <= set(summary.stat)
    assert summary.loc[summary.stat == "max", "note"].str.startswith("horizon-dependent").all()
    reps = pd.read_csv(out / "replications.csv")
    assert list(reps.columns) == ["replication", "metric", "scope", "stat", "value"]
    assert sorted(reps.replication.unique()) == [0, 1, 2]
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert list(ts.columns) == ["replication", "hour", "time", "metric", "scope", "value"]
    assert {"in_system", "yard_occupancy", "road_queue", "queue_length", "departures"} <= set(
        ts.metric)
    assert ts.hour.max() == 6 * 24
    trucks = pd.read_parquet(out / "trucks.parquet")
    for col in ("arrival", "exit", "direction", "cargo", "predeclared", "lane", "road_time"):
        assert col in trucks.columns


def test_summary_json_carries_provenance(two_runs):
    doc = json.loads((two_runs[0] / "summary.json").read_text())
    assert doc["seed"] == 7 and doc["replications"] == 3
    assert doc["scenario"]["name"] == "small_gate"
    assert doc["scenario"]["lanes"]["main"]["import"]["capacity_per_hour"] == 30
    assert doc["stream_layout_version"] >= 1
    assert {"gatesim", "simpy", "numpy", "python"} <= set(doc["versions"])
    assert doc["runtime_s"] > 0
    assert len(doc["summary"]) == len(pd.read_csv(two_runs[0] / "summary.csv"))


@pytest.mark.parametrize("name", ["summary.csv", "replications.csv", "timeseries.parquet",
                                  "trucks.parquet", "visits.parquet"])
def test_same_seed_byte_identical_whatever_the_workers(two_runs, name):
    a, b = (out / name for out in two_runs)
    assert a.read_bytes() == b.read_bytes()


def test_different_seed_differs():
    s = load_scenario(SMALL_GATE)
    a = run(s, replications=2, seed=1).replications["value"]
    b = run(s, replications=2, seed=2).replications["value"]
    assert not a.equals(b)


def test_summary_is_mean_of_replications_with_t_interval():
    s = load_scenario(SMALL_GATE)
    r = run(s, replications=4, seed=3)
    reps = r.replications
    x = reps[(reps.metric == "wait_h") & (reps.scope == "system") & (reps.stat == "mean")]
    row = r.summary.set_index(["metric", "scope", "stat"]).loc[("wait_h", "system", "mean")]
    assert row.estimate == pytest.approx(x.value.mean())
    half = 3.182446305284263 * x.value.std(ddof=1) / 2  # t(0.975, 3) * s / sqrt(4)
    assert row.ci_high - row.estimate == pytest.approx(half)
    assert row.n == 4


def test_default_scenario_runs(tmp_path):
    p = gatesim("run", "scenarios/huu_nghi.yaml", "-r", "2", "--days", "4", "--out",
                str(tmp_path / "hn"))
    assert p.returncode == 0, p.stderr
    assert "the gates clear" in p.stdout and "report: " in p.stdout  # the answer in words
    assert (tmp_path / "hn" / "report.html").is_file()
    summary = pd.read_csv(tmp_path / "hn" / "summary.csv")
    tput = summary.set_index(["metric", "scope", "stat"]).loc[
        ("throughput_per_day", "system", "mean"), "estimate"]
    # Hữu Nghị and the 1088/2-1089 lane cleared 1131-1298 a day in Aug 2024 (facts §1b); the
    # calibrated comparison lives in tests/test_face_validation.py
    assert 700 < tput < 2000


def test_existing_results_replaced_whole(tmp_path):
    out = tmp_path / "res"
    args = ("run", str(SMALL_GATE), "-r", "1", "--out", str(out), "-q", "--no-report")
    assert gatesim(*args).returncode == 0
    assert (out / "trucks.parquet").is_file()
    assert gatesim(*args, "--force", "--records", "none").returncode == 0
    assert not (out / "trucks.parquet").exists()  # the old run's records went with it
    assert [p.name for p in tmp_path.iterdir()] == ["res"]  # no staging leftovers


def test_compare_cli_writes_the_comparison_contract(tmp_path):
    out = tmp_path / "cmp"
    p = gatesim("compare", str(SMALL_GATE), str(SMALL_GATE), "--set", "name=copy", "-r", "2",
                "--out", str(out))
    assert p.returncode == 2 and "names must differ" in p.stderr  # --set renames both
    variant = tmp_path / "variant.yaml"
    variant.write_text(f"extends: {SMALL_GATE}\nname: more_quarantine\n"
                       "stages:\n  quarantine:\n    servers: 3\n")
    p = gatesim("compare", str(SMALL_GATE), str(variant), "-r", "3", "--out", str(out),
                "--no-report")
    assert p.returncode == 0, p.stderr
    assert "more_quarantine vs small_gate" in p.stdout
    table = pd.read_csv(out / "comparison.csv")
    assert list(table.columns[:13]) == ["metric", "scope", "stat", "scenario", "baseline",
                                        "estimate", "diff", "ci_low", "ci_high", "n", "p_value",
                                        "p_adj", "significant"]
    assert (table.baseline == "small_gate").all()  # the baseline's name; its value follows
    row = table.set_index(["metric", "scope", "stat"]).loc[("wait_h", "system", "mean")]
    assert row.estimate - row.baseline_estimate == pytest.approx(row["diff"])
    assert (out / "small_gate" / "summary.csv").is_file()
    assert (out / "more_quarantine" / "summary.csv").is_file()
    doc = json.loads((out / "comparison.json").read_text())
    assert doc["baseline"] == "small_gate" and doc["correction"].startswith("bonferroni")
    assert len(doc["summary_block"]) == 6 + 2 * 2  # system figures, each road's mean and p95


def test_sweep_cli_reports_the_smallest_capacity(tmp_path):
    out = tmp_path / "sw"
    p = gatesim("sweep", str(SMALL_GATE), "--param", "yards.front.slots=10,20", "-r", "2",
                "--target", "queue_length/documents/mean<=1000", "--out", str(out), "--no-report")
    assert p.returncode == 0, p.stderr
    assert "2 points (2 computed" in p.stdout
    assert "The smallest front meeting “trucks waiting — documents, mean ≤ 1,000” is 10 slots" \
        in p.stdout
    p = gatesim("sweep", str(SMALL_GATE), "--param", "yards.front.slots=10,20", "-r", "2",
                "--out", str(out), "--no-report")
    assert p.returncode == 2 and "already holds results" in p.stderr
    p = gatesim("sweep", str(SMALL_GATE), "--param", "yards.front.slots=10,20", "-r", "2",
                "--out", str(out), "--no-report", "--force")
    assert "0 computed, 2 reused" in p.stdout
    bad = gatesim("sweep", str(SMALL_GATE), "--param", "yards.front.slots=9:1:1")
    assert bad.returncode == 2 and bad.stderr.startswith("gatesim: error: --param")


@pytest.mark.parametrize("records", ["sample", "none"])
def test_summary_does_not_depend_on_the_records_kept(records):
    s = load_scenario(SMALL_GATE)
    full = run(s, replications=2, seed=9)
    lean = run(s, replications=2, seed=9, records=records)
    pd.testing.assert_frame_equal(full.summary, lean.summary)
    pd.testing.assert_frame_equal(full.timeseries, lean.timeseries)
    if records == "none":
        assert lean.trucks.empty and lean.visits.empty
    else:
        ids = lean.trucks["id"]
        assert len(lean.trucks) > 0 and (ids % 10 == 0).all()
        assert set(lean.visits["truck"]) <= set(ids)
