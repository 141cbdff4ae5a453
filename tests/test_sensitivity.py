"""One-at-a-time sensitivity: known answers, B − A, refusals, the results folder, resume."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import gatesim
from gatesim import cli
from gatesim.errors import GatesimError
from gatesim.experiments import run as run_module
from gatesim.experiments.checkpoint import Checkpoint, checkpoint_key
from gatesim.experiments.sensitivity import prepare
from gatesim.scenario.loader import load_scenario
from tests.conftest import TINY

# A two-stage tandem: the first stage near saturation (ρ = 0.85), the second lightly loaded
# (ρ = 0.3); both service means ±20 %, and two numbers that cannot move a waiting time: a
# yard's cost and the slots of a yard that never fills.
TANDEM = """\
name: tandem
clock: {start: 2024-01-01 00:00, horizon_days: 6, warmup_days: 0.5}
yards:
  y1: {slots: {value: 500, low: 400, high: 1000, name: y1_slots},
       cost_per_slot_year: {value: 100, low: 50, high: 200, name: slot_cost}}
  y2: {}
stages:
  first: {servers: 1, yard: y1, service: {dist: exponential, unit: min,
          mean: {value: 5.1, low: 4.08, high: 6.12, name: first_service}}}
  second: {servers: 1, yard: y2, service: {dist: exponential, unit: min,
           mean: {value: 1.8, low: 1.44, high: 2.16, name: second_service}}}
arrivals: {c: {direction: import, cargo: general,
               interarrival: {dist: exponential, mean: 6, unit: min}}}
routes: {only: {direction: import, cargo: general, steps: [{stage: first}, {stage: second}]}}
"""
DOCUMENTED = [
    "parameter", "paths", "value", "low", "high", "metric", "scope", "stat", "base",
    "base_ci_low", "base_ci_high", "at_low", "at_high", "diff_low", "diff_low_ci_low",
    "diff_low_ci_high", "diff_high", "diff_high_ci_low", "diff_high_ci_high", "swing",
    "swing_ci_low", "swing_ci_high", "effect_shown", "n"]
TIME = "time_in_system_h/system/mean"


@pytest.fixture
def tandem(tmp_path):
    path = tmp_path / "tandem.yaml"
    path.write_text(TANDEM, encoding="utf-8")
    return path


def _row(table: pd.DataFrame, name: str) -> pd.Series:
    return table.set_index("parameter").loc[name]


def _per_rep(s, key: str, reps: int, seed: int) -> np.ndarray:
    metric, scope, stat = key.split("/")
    r = gatesim.run(s, reps, seed, records="none").replications
    sel = r[(r.metric == metric) & (r.scope == scope) & (r.stat == stat)]
    return sel.sort_values("replication")["value"].to_numpy()


def test_a_number_that_does_not_enter_the_model_has_exactly_no_swing(tandem):
    r = gatesim.sensitivity(tandem, metric="wait_h/system/mean", replications=3, seed=7)
    for name in ("slot_cost", "y1_slots"):  # common random numbers: the same sample path
        row = _row(r.table, name)
        assert row.swing == 0 and row.diff_low == 0 and row.diff_high == 0
        assert row.swing_ci_low == 0 and row.swing_ci_high == 0 and not row.effect_shown
        assert row.at_low == row.at_high == row.base
    assert list(r.table.columns) == DOCUMENTED and list(r.table.parameter[-2:]) == [
        "y1_slots", "slot_cost"]  # no swing: last, in the scenario's order


def test_the_bottleneck_ranks_first(tandem):
    r = gatesim.sensitivity(tandem, metric=TIME, replications=5, seed=11)
    assert list(r.table.parameter[:2]) == ["first_service", "second_service"]
    first, second = _row(r.table, "first_service"), _row(r.table, "second_service")
    assert first.effect_shown and first.swing > 5 * second.swing
    assert first.at_low < first.base < first.at_high
    assert first.diff_low_ci_high < 0 < first.diff_high_ci_low
    assert first.swing_ci_low > 0 and first.n == 5
    assert first.paths == "stages.first.service.mean" and first.low == pytest.approx(4.08)


def test_two_scenarios_give_the_difference_b_minus_a_per_replication(tandem):
    a = load_scenario(tandem)
    # B has a second server at the bottleneck and fixes the second stage's mean (a --set
    # on a ranged place): second_service is then A's alone, swung in A only
    b = load_scenario(tandem, ["name=tandem_b", "stages.first.servers=2",
                               "stages.second.service.mean=1.8"])
    assert "second_service" not in b.uncertain
    r = gatesim.sensitivity([a, b], metric=TIME, replications=3, seed=5,
                            only=["first_service", "second_service"])
    assert r.meta["answer"] == "tandem_b − tandem" and set(r.table.parameter) == {
        "first_service", "second_service"}
    base_a, base_b = _per_rep(a, TIME, 3, 5), _per_rep(b, TIME, 3, 5)
    second_low = load_scenario(tandem, ["stages.second.service.mean=1.44"])
    first_low = ["stages.first.service.mean=4.08"]
    a_low = load_scenario(tandem, first_low)
    b_low = load_scenario(tandem, ["name=tandem_b", "stages.first.servers=2",
                                   "stages.second.service.mean=1.8", *first_low])
    second, first = _row(r.table, "second_service"), _row(r.table, "first_service")
    assert second.base == pytest.approx(np.mean(base_b - base_a), rel=1e-12)
    assert second.at_low == pytest.approx(np.mean(base_b - _per_rep(second_low, TIME, 3, 5)),
                                          rel=1e-12)
    assert first.at_low == pytest.approx(
        np.mean(_per_rep(b_low, TIME, 3, 5) - _per_rep(a_low, TIME, 3, 5)), rel=1e-12)


@pytest.mark.parametrize("args, words", [
    (["--metric", TIME], "no numbers with a range: write {value, low, high}"),
    (["--metric", "time_in_sytem_h/system/mean"], "did you mean 'time_in_system_h'"),
    (["--metric", TIME, "--only", "first_servce"], "did you mean 'first_service'"),
    (["--metric", TIME, "-r", "1"], "--replications: got 1; expected at least 2"),
])
def test_refusals_are_one_line_before_any_work(tmp_path, tandem, capsys, args, words):
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(TINY, encoding="utf-8")
    chosen = scenario if "range" in words else tandem
    out = tmp_path / "out"
    assert cli.main(["sensitivity", str(chosen), *args, "--out", str(out), "-q"]) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1 and err.startswith("gatesim: error: ")
    assert not out.exists()


def test_the_cli_writes_the_csv_the_json_and_the_tornado_chart(tmp_path, tandem, capsys):
    out = tmp_path / "sens"
    argv = ["sensitivity", str(tandem), "--metric", TIME, "-r", "5", "--seed", "3",
            "--workers", "1", "--only", "first_service", "slot_cost", "--out", str(out)]
    assert cli.main(argv) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("first_service moves time in the system, mean (h) most: from ")
    assert "no effect shown" in next(line for line in printed if "slot_cost" in line)
    table = pd.read_csv(out / "sensitivity.csv")
    assert list(table.columns) == DOCUMENTED and list(table.parameter) == ["first_service",
                                                                          "slot_cost"]
    meta = json.loads((out / "sensitivity.json").read_text(encoding="utf-8"))
    assert meta["generator"] == "gatesim" and meta["seed"] == 3 and meta["replications"] == 5
    assert meta["metric"] == {"metric": "time_in_system_h", "scope": "system", "stat": "mean"}
    assert {"versions", "runtime_s", "scenarios"} <= set(meta)
    plots = out / "plots"
    assert (plots / "tornado.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (plots / "tornado.svg").is_file()
    assert not (tmp_path / ".sens.partial").exists()  # the kept replications are cleared
    assert cli.main(argv) == 2  # results there: refused without --force
    assert cli.main([*argv, "--force", "--no-report", "-q"]) == 0
    assert not (out / "plots").exists()


def test_the_same_seed_gives_the_same_table_whatever_the_workers(tandem):
    one, two = (gatesim.sensitivity(tandem, metric=TIME, replications=3, seed=9, workers=w,
                                    only=["first_service", "second_service"]) for w in (1, 2))
    pd.testing.assert_frame_equal(one.table, two.table)


def test_the_api_writes_nothing_and_an_interrupted_analysis_resumes(tmp_path, tandem,
                                                                    monkeypatch):
    monkeypatch.chdir(tmp_path)
    kept = tmp_path / "results"

    def checkpoints(s):
        return Checkpoint(kept, checkpoint_key(s.model_dump(mode="json", by_alias=True), 2,
                                               "none"))

    first = gatesim.sensitivity(str(tandem), metric=TIME, replications=2, seed=2,
                                only=["second_service"], checkpoints=checkpoints)
    assert isinstance(first, gatesim.SensitivityResult)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".results.partial", "tandem.yaml"]

    def refuse(*args, **kwargs):
        raise AssertionError("a kept replication was run again")

    monkeypatch.setattr(run_module, "run_replication", refuse)
    again = gatesim.sensitivity(str(tandem), metric=TIME, replications=2, seed=2,
                                only=["second_service"], checkpoints=checkpoints)
    pd.testing.assert_frame_equal(first.table, again.table)


def test_a_bad_end_value_is_refused_when_planned(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(TINY.replace("servers: 1", "servers: {value: 1, low: 0.5, high: 2}"),
                    encoding="utf-8")
    with pytest.raises(GatesimError, match=r"stages\.server\.servers"):
        prepare(path, TIME, replications=2)
