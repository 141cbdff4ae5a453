"""Morris screening through SALib: known rankings, exact zeros, refusals, files, no SALib."""

from __future__ import annotations

import builtins
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from gatesim.errors import GatesimError
from gatesim.experiments import run as run_module
from gatesim.experiments.screening import (
    NO_SALIB,
    SCREENING_COLUMNS,
    morris,
    prepare_morris,
    summary_text,
)
from gatesim.output.destination import owner
from gatesim.output.writer import write_screening
from gatesim.scenario.loader import load_scenario
from tests.test_moves import _write as channels

# Two stages in line: the first near saturation (ρ ≈ 0.8), the second lightly loaded; both
# service means uncertain, and two numbers no waiting time depends on: the slots of a yard
# that never fills and that yard's cost.
LINE = """\
name: line
clock: {start: 2024-01-01 00:00, horizon_days: 5, warmup_days: 0.5}
yards:
  front: {slots: {value: 300, low: 250, high: 900, name: front_slots},
          cost_per_slot_year: {value: 80, low: 40, high: 160, name: front_cost}}
  back: {}
stages:
  check: {servers: 1, yard: front, service: {dist: exponential, unit: min,
          mean: {value: 4.8, low: 4.0, high: 5.6, name: check_mean}}}
  release: {servers: 1, yard: back, service: {dist: exponential, unit: min,
            mean: {value: 1.5, low: 1.2, high: 1.8, name: release_mean}}}
arrivals: {trucks: {direction: import, cargo: general,
                    interarrival: {dist: exponential, mean: 6, unit: min}}}
routes: {only: {direction: import, cargo: general, steps: [{stage: check}, {stage: release}]}}
"""
TIME = "time_in_system_h/system/mean"


@pytest.fixture(scope="module")
def line(tmp_path_factory):
    path = tmp_path_factory.mktemp("screening") / "line.yaml"
    path.write_text(LINE, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def screened(line):
    return morris(line, metric=TIME, replications=3, trajectories=4, seed=21)


def _row(table: pd.DataFrame, name: str) -> pd.Series:
    return table.set_index("parameter").loc[name]


def test_the_bottleneck_has_the_largest_mu_star(screened):
    t = screened.table
    assert list(t.columns) == SCREENING_COLUMNS
    assert list(t.parameter[:2]) == ["check_mean", "release_mean"]
    check, release = _row(t, "check_mean"), _row(t, "release_mean")
    assert check["rank"] == 1 and check.mu_star > 5 * release.mu_star > 0
    assert check.mu_star_ci_low <= check.mu_star <= check.mu_star_ci_high
    assert check.mu > 0 and check.n_points == 4 * (4 + 1)
    assert (check.low, check.high) == (4.0, 5.6)


def test_a_number_that_does_not_enter_the_model_has_mu_star_exactly_zero(screened):
    for name in ("front_slots", "front_cost"):  # common random numbers: the same sample path
        row = _row(screened.table, name)
        assert row.mu_star == 0 and row.mu == 0 and row.sigma == 0
        assert row.mu_star_ci_low == 0 and row.mu_star_ci_high == 0
    text = summary_text(screened, "time in the system, mean (h)")
    assert text.startswith("check_mean moves time in the system, mean (h) most: μ* = ")
    assert "no effect" in next(line for line in text.splitlines() if "front_cost" in line)


def test_the_meta_says_how_the_numbers_were_made(screened):
    m = screened.meta
    assert m["design"].startswith("Morris elementary effects, SALib ")
    assert m["trajectories"] == 4 and m["levels"] == 4 and m["replications"] == 3
    assert m["seed"] == 21 and "SALib" in m["versions"] and m["runtime_s"] >= 0
    assert m["scenarios"] == ["line"] and m["points"] == 20 and isinstance(
        m["unstable_points"], list)
    assert np.shape(m["design_matrix"]) == (20, 4) and len(m["responses"]) == 20


def test_whole_numbers_are_rounded_at_the_points_but_not_in_the_design(line):
    sp = prepare_morris(line, TIME, replications=2, trajectories=3, seed=4)
    slots = sp.design[:, sp.problem["names"].index("front_slots")]
    assert not np.all(slots == np.round(slots))  # the design keeps its levels for SALib
    held = {s.yards["front"].slots for s in sp.plan.points.values()}
    assert all(isinstance(v, int) and 250 <= v <= 900 for v in held)


def test_the_same_seed_gives_the_same_table_whatever_the_workers(line):
    one, two = (morris(line, metric=TIME, replications=2, trajectories=3, seed=9, workers=w,
                       only=["check_mean", "release_mean"]) for w in (1, 2))
    pd.testing.assert_frame_equal(one.table, two.table)
    assert one.meta["responses"] == two.meta["responses"]


def test_two_equal_scenarios_differ_by_exactly_nothing(line):
    a = load_scenario(line)
    b = load_scenario(line, ["name=line_b"])
    r = morris([a, b], metric=TIME, replications=2, trajectories=2, seed=3,
               only=["check_mean", "front_cost"])
    assert r.meta["answer"] == "line_b − line" and r.meta["responses"] == [0.0] * 6
    assert (r.table.mu_star == 0).all()


def test_ranged_choose_shares_keep_summing_to_one_at_every_point(tmp_path):
    path = channels(tmp_path, yellow="{value: 0.3, low: 0.2, high: 0.4, name: yellow_share}")
    sp = prepare_morris(path, TIME, replications=1, trajectories=3, seed=5)
    assert set(sp.problem["names"]) == {"gate_servers", "gate_mean", "green_share",
                                        "yellow_share"}
    for s in sp.plan.points.values():
        shares = [o.p for o in s.routes["export"].steps[1].options.values()]
        assert sum(shares) == pytest.approx(1, abs=1e-9) and min(shares) >= 0


@pytest.mark.parametrize("kwargs, words", [
    ({"only": ["check_mean"]}, "got 1 parameter (check_mean); expected at least 2"),
    ({"trajectories": 1}, "--trajectories: got 1; expected at least 2"),
    ({"levels": 3}, "--levels: got 3; expected an even number of at least 4"),
    ({"levels": 6, "replications": 0}, "--replications: got 0; expected at least 1"),
    ({"metric": "time_in_sytem_h/system/mean"}, "did you mean 'time_in_system_h'"),
    ({"only": ["check_maen", "release_mean"]}, "did you mean 'check_mean'"),
])
def test_refusals_are_one_line_before_any_work(line, monkeypatch, kwargs, words):
    def refuse(*args, **kw):
        raise AssertionError("a replication ran before the refusal")

    monkeypatch.setattr(run_module, "run_replication", refuse)
    with pytest.raises(GatesimError) as err:
        morris(line, **{"metric": TIME, **kwargs})
    assert words in str(err.value) and "\n" not in str(err.value)


def test_write_screening_writes_the_csv_the_json_and_the_chart(tmp_path, screened):
    out = write_screening(screened, tmp_path / "screen")
    table = pd.read_csv(out / "screening.csv")
    assert list(table.columns) == SCREENING_COLUMNS and len(table) == 4
    meta = json.loads((out / "screening.json").read_text(encoding="utf-8"))
    assert meta["generator"] == "gatesim" and meta["levels"] == 4 and len(meta["rows"]) == 4
    assert (out / "plots" / "morris.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "plots" / "morris.svg").is_file()
    assert owner(out) == ("screening", [])  # --force may replace it, and only it
    bare = write_screening(screened, tmp_path / "bare", plots=False)
    assert sorted(p.name for p in bare.iterdir()) == ["results.xlsx", "screening.csv",
                                                      "screening.json"]


def test_without_salib_morris_says_how_to_get_it_in_one_line(line, monkeypatch):
    real = builtins.__import__

    def no_salib(name, *args, **kwargs):
        if name.split(".")[0] == "SALib":
            raise ImportError(f"No module named {name!r}")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_salib)
    with pytest.raises(GatesimError) as err:
        morris(line, metric=TIME)
    assert str(err.value) == NO_SALIB == (
        "Morris screening needs SALib: pip install 'gatesim[screening]'")


def test_importing_gatesim_does_not_need_salib():
    code = ("import sys; sys.modules['SALib'] = None; import gatesim; "
            "import gatesim.experiments.screening, gatesim.output.writer, gatesim.cli; "
            "gatesim.sensitivity")
    subprocess.run([sys.executable, "-c", code], check=True)
