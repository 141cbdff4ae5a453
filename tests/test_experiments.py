"""Experiments a planner can defend: workers, dask, CRN, warm-up, instability, precision."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gatesim.experiments.compare import compare, summary_block
from gatesim.experiments.executors import DaskExecutor, LocalExecutor
from gatesim.experiments.run import Precision, run
from gatesim.experiments.stats import paired_difference
from gatesim.scenario.loader import load_scenario
from tests.conftest import SMALL_GATE, scenario


def queue(servers: int = 1, initial: int = 0, days: float = 60, warmup: object = 0,
          name: str = "queue", rate: float = 0.8) -> dict:
    """A single stage with exponential service (mean 1 h) fed by Poisson arrivals."""
    doc = {
        "name": name,
        "clock": {"start": "2024-01-01 00:00", "horizon_days": days, "warmup_days": warmup},
        "yards": {"q": {}},
        "stages": {"s": {"servers": servers, "yard": "q",
                         "service": {"dist": "exponential", "mean": 1.0}}},
        "arrivals": {"a": {"direction": "import", "cargo": "c",
                           "interarrival": {"dist": "exponential", "mean": 1 / rate}}},
        "routes": {"r": {"direction": "import", "cargo": "c", "steps": [{"stage": "s"}]}},
    }
    if initial:
        doc["initial_state"] = [{"stream": "a", "count": initial, "at": "road"}]
    return doc


def test_same_summary_with_one_and_two_workers():
    s = load_scenario(SMALL_GATE)
    a = run(s, replications=4, seed=5, executor=LocalExecutor(1))
    b = run(s, replications=4, seed=5, executor=LocalExecutor(2))
    pd.testing.assert_frame_equal(a.summary, b.summary)
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries)


@pytest.mark.slow
def test_dask_executor_gives_identical_results():
    distributed = pytest.importorskip("distributed")
    s = load_scenario(SMALL_GATE)
    local = run(s, replications=3, seed=8, executor=LocalExecutor(1))
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        remote = run(s, replications=3, seed=8, executor=DaskExecutor(cluster.scheduler_address))
    pd.testing.assert_frame_equal(local.summary, remote.summary)
    pd.testing.assert_frame_equal(local.replications, remote.replications)


def line(downstream_servers: int, name: str) -> dict:
    """Two stations in series (each ρ = 0.8 with one server); the pair differs downstream."""
    doc = queue(days=40, warmup=5, name=name)
    doc["yards"]["q2"] = {}
    doc["stages"]["t"] = {"servers": downstream_servers, "yard": "q2",
                          "service": {"dist": "exponential", "mean": 1.0}}
    doc["routes"]["r"]["steps"].append({"stage": "t"})
    return doc


def test_crn_narrows_the_difference_interval():
    one = scenario(line(1, "one"))
    two = scenario(line(2, "two"))
    key = dict(metric="time_in_system_h", scope="system", stat="mean")

    def values(result):
        r = result.replications
        sel = r[(r.metric == key["metric"]) & (r.scope == key["scope"]) & (r.stat == key["stat"])]
        return sel.sort_values("replication")["value"].to_numpy()

    base = values(run(one, replications=12, seed=1))
    crn = values(run(two, replications=12, seed=1))
    independent = values(run(two, replications=12, seed=999))
    _, lo_c, hi_c, _, _ = paired_difference(base, crn)
    _, lo_i, hi_i, _, _ = paired_difference(base, independent)
    assert (hi_i - lo_i) / (hi_c - lo_c) > 1.5


def test_compare_same_scenario_is_exactly_zero():
    a = load_scenario(SMALL_GATE)
    b = load_scenario(SMALL_GATE, ["name=copy"])
    c = compare([a, b], replications=3, seed=2)
    diffs = c.table["diff"].to_numpy()
    assert np.all((diffs == 0) | np.isnan(diffs))
    assert not c.table["significant"].any()
    assert set(c.table.columns) >= {"p_value", "p_adj", "significant", "baseline", "scenario"}


def test_compare_finds_a_real_improvement_in_the_summary_block():
    a = scenario(queue(servers=1, days=40, warmup=5, name="one"))
    b = scenario(queue(servers=2, days=40, warmup=5, name="two"))
    c = compare([a, b], replications=6, seed=4)
    row = c.table.set_index(["metric", "scope", "stat"]).loc[("wait_h", "system", "mean")]
    assert row["diff"] < 0 and row.ci_high_block < 0 and row.significant_block
    assert row.ci_low_block <= row.ci_low and row.ci_high <= row.ci_high_block  # wider
    assert (c.table["p_adj"].dropna() >= c.table["p_value"][c.table.in_block]).all()


def test_every_verdict_agrees_with_the_interval_beside_it():
    """Three scenarios used to make one Holm family of ~900 rows: a gain whose unadjusted
    interval excluded 0 was labelled 'not significant'. Now each verdict is read off the
    interval it is printed with: unadjusted per row, Bonferroni over the summary block."""
    a = scenario(queue(servers=1, days=30, warmup=5, name="one"))
    b = scenario(queue(servers=2, days=30, warmup=5, name="two"))
    d = scenario(queue(servers=3, days=30, warmup=5, name="three"))
    t = compare([a, b, d], replications=3, seed=4).table
    both = t.dropna(subset=["ci_low", "ci_high"])
    assert len(both) > 100
    assert (both.significant == ((both.ci_low > 0) | (both.ci_high < 0))).all()
    for name in ("two", "three"):
        mine = t[t.in_block & (t.scenario == name)]
        assert set(zip(mine.metric, mine.scope, mine.stat, strict=True)) == set(
            summary_block(a.roads))
    block = t[t.in_block].dropna(subset=["ci_low_block"])
    assert (block.significant_block
            == ((block.ci_low_block > 0) | (block.ci_high_block < 0))).all()
    assert (block.p_adj < 0.05).eq(block.significant_block).all()
    assert t[~t.in_block].p_adj.isna().all()


def test_mser5_truncates_an_initial_queue_within_bounds():
    # 300 trucks queued at t = 0 drain at 2 - 0.8 = 1.2 per hour: about 10 days
    doc = queue(servers=2, initial=300, days=80, warmup="auto")
    r = run(scenario(doc), replications=6, seed=3)
    warm = r.meta["warmup"]
    assert warm["found"] and 5 <= warm["days"] <= 20
    assert r.scenario.clock.warmup_days == warm["days"]
    assert not r.meta["stability"]["unstable"]


def test_fixed_warmup_is_kept_and_reported():
    r = run(scenario(queue(days=20, warmup=3)), replications=2, seed=3)
    assert r.meta["warmup"] == {"method": "fixed", "days": 3.0}


def test_unstable_backlog_is_flagged_with_the_fluid_growth_rate():
    # 170 trucks/day arrive, the other side accepts 80/day: the backlog grows by 90/day
    doc = {
        "name": "disruption",
        "clock": {"start": "2024-01-01 00:00", "horizon_days": 25, "warmup_days": "auto"},
        "yards": {"staging": {}},
        "lanes": {"gate": {"crossing_time": {"dist": "constant", "value": 0.1},
                           "export": {"yard": "staging", "capacity_per_hour": 100,
                                      "daily_cap": {"total": 80}}}},
        "arrivals": {"fruit": {"direction": "export", "cargo": "fresh", "rate_per_day": 170}},
        "routes": {"r": {"direction": "export", "cargo": "fresh", "steps": [{"lane": "gate"}]}},
    }
    r = run(scenario(doc), replications=4, seed=6)
    stab = r.meta["stability"]
    assert stab["unstable"]
    assert abs(stab["growth_per_day"] - 90) <= 9
    assert not r.meta["warmup"]["found"]


def test_precision_adds_replications_until_met():
    s = scenario(queue(days=60, warmup=2, rate=0.5))
    p = Precision.parse(0.05, "time_in_system_h/system/mean", max_replications=40)
    r = run(s, replications=3, seed=1, precision=p)
    prec = r.meta["precision"]
    assert prec["achieved"] and prec["half_width_rel"] <= 0.05
    assert r.meta["replications"] > 3
    row = r.summary.set_index(["metric", "scope", "stat"]).loc[("time_in_system_h", "system",
                                                                 "mean")]
    assert (row.ci_high - row.estimate) / row.estimate <= 0.05
    # the result is the same as asking for that many replications directly
    direct = run(s, replications=r.meta["replications"], seed=1)
    pd.testing.assert_frame_equal(r.summary, direct.summary)


def test_precision_says_plainly_when_not_reached():
    s = scenario(queue(days=5, warmup=1))
    p = Precision.parse(0.001, "time_in_system_h/system/mean", max_replications=5)
    r = run(s, replications=3, seed=1, precision=p)
    assert not r.meta["precision"]["achieved"] and r.meta["replications"] == 5


def test_compare_uses_the_baselines_auto_warmup_for_every_scenario():
    a = scenario(queue(servers=2, initial=300, days=80, warmup="auto", name="a"))
    b = scenario(queue(servers=3, initial=300, days=80, warmup="auto", name="b"))
    c = compare([a, b], replications=4, seed=3, workers=2)
    own = run(a, replications=4, seed=3).meta["warmup"]["days"]
    assert own > 0
    assert [r.scenario.clock.warmup_days for r in c.results] == [own, own]
