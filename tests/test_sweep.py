"""Capacity sweeps: grids, targets judged on the CI bound, resuming an interrupted sweep."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from gatesim.errors import GatesimError
from gatesim.experiments.sweep import Target, best_point, parse_param
from gatesim.experiments.sweep import sweep as sweep_table
from gatesim.output.writer import PointDirectory, write_sweep
from tests.conftest import SMALL_GATE

PARAMS = [parse_param("yards.front.slots=10:30:10"), parse_param("stages.documents.servers=1,2")]


def sweep(scenario, params, out, **kw):
    """What the CLI does: points kept in ``out/points``, then sweep.csv / sweep.json."""
    result = sweep_table(scenario, params, store=PointDirectory(out), **kw)
    write_sweep(result, out)
    return result


def test_sweep_writes_no_files_by_itself(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = sweep_table(SMALL_GATE, PARAMS[:1], replications=2, seed=3)
    assert r.meta["computed"] == 3 and len(r.table) > 0
    assert list(tmp_path.iterdir()) == []


def test_parse_param_forms():
    assert parse_param("a.b=100:600:250") == ("a.b", [100, 350, 600])
    assert parse_param("a.b=0.5:1.0:0.25") == ("a.b", [0.5, 0.75, 1.0])
    assert parse_param("x=1,2, 5") == ("x", [1, 2, 5])
    assert parse_param("a=x:y:z") == ("a", ["x:y:z"])  # a value with colons, not a range
    for bad in ("nope", "a=5:1:1", "a=1:5:0", "a="):
        with pytest.raises(GatesimError):
            parse_param(bad)


def test_target_is_judged_on_the_interval_not_the_estimate():
    t = Target.parse("road_queue/system/p95<=5")
    table = pd.DataFrame({
        "slots": [100, 200, 300],
        "metric": "road_queue", "scope": "system", "stat": "p95",
        "estimate": [8.0, 4.0, 1.0], "ci_low": [6.0, 2.0, 0.5], "ci_high": [10.0, 6.0, 1.5],
    })
    assert best_point(table, ["slots"], t) == {"slots": 300}  # 200's estimate meets it, CI not
    assert best_point(table, ["slots"], Target.parse("road_queue/system/p95>=3")) == {"slots": 100}
    assert best_point(table, ["slots"], Target.parse("road_queue/system/p95<=1")) is None
    with pytest.raises(GatesimError):
        Target.parse("road_queue<=5")


def test_interrupted_sweep_resumes_to_the_same_table(tmp_path):
    whole = sweep(SMALL_GATE, PARAMS, tmp_path / "whole", replications=2, seed=3)
    assert whole.meta["points"] == 6 and whole.meta["computed"] == 6

    class Stop(Exception):
        pass

    def stop_after(k):
        def hook(done):
            if done == k:
                raise Stop
        return hook

    out = tmp_path / "resumed"
    with pytest.raises(Stop):
        sweep(SMALL_GATE, PARAMS, out, replications=2, seed=3, on_point=stop_after(4))
    assert not (out / "sweep.csv").exists()  # nothing that looks complete
    assert len(list((out / "points").iterdir())) == 4
    again = sweep(SMALL_GATE, PARAMS, out, replications=2, seed=3)
    assert again.meta["computed"] == 2
    assert (out / "sweep.csv").read_bytes() == (tmp_path / "whole" / "sweep.csv").read_bytes()


def test_changed_seed_does_not_reuse_points(tmp_path):
    first = sweep(SMALL_GATE, PARAMS[:1], tmp_path, replications=2, seed=3)
    second = sweep(SMALL_GATE, PARAMS[:1], tmp_path, replications=2, seed=4)
    assert first.meta["computed"] == 3 and second.meta["computed"] == 3


def test_sweep_table_and_target(tmp_path):
    t = Target.parse("queue_length/documents/mean<=1000")
    r = sweep(SMALL_GATE, PARAMS[:1], tmp_path, replications=2, seed=1, target=t)
    table = pd.read_csv(tmp_path / "sweep.csv")
    assert list(table.columns[:2]) == ["yards.front.slots", "metric"]
    assert sorted(table["yards.front.slots"].unique()) == [10, 20, 30]
    meta = json.loads((tmp_path / "sweep.json").read_text())
    assert meta["best"] == {"yards.front.slots": 10} == r.meta["best"]
    assert meta["target"]["op"] == "<="


def test_param_values_may_contain_colons():
    path, values = parse_param("lanes.smart.eligible={predeclared: true},{}")
    assert path == "lanes.smart.eligible" and values == [{"predeclared": True}, {}]
