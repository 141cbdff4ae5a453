"""Monitors: time-weighted levels and streaming tallies, against hand computation and numpy."""

from __future__ import annotations

import numpy as np
import pytest

from gatesim.engine.monitors import Integral, Level, Tally


def test_level_stepping_up_once_per_hour():
    # salabim's check: a level stepping 0, 1, …, 100 once per time unit has mean 50
    lv = Level()
    for t in range(1, 101):
        lv.add(1, float(t))
    lv.close(101.0)
    assert lv.mean() == pytest.approx(50.0)
    assert lv.quantile(0.5) == 50.0 and lv.peak == 100
    assert lv.hist[0] == pytest.approx(1.0) and sum(lv.hist) == pytest.approx(101.0)


def test_level_reset_forgets_the_past_but_keeps_the_level():
    lv = Level()
    lv.add(5, 0.0)
    lv.add(-3, 10.0)  # 5 for 10 h, then 2
    lv.reset(10.0)
    lv.close(20.0)
    assert lv.mean() == pytest.approx(2.0) and lv.peak == 2
    it = Integral()
    it.add(3, 0.0)
    it.reset(4.0)
    it.add(-1, 6.0)
    it.close(8.0)
    assert it.mean() == pytest.approx((3 * 2 + 2 * 2) / 4)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_tally_moments_exact_and_quantiles_within_half_a_percent(seed):
    rng = np.random.default_rng(seed)
    x = np.concatenate([np.zeros(500), rng.lognormal(0.0, 1.5, 20_000)])  # many zero waits
    t = Tally()
    for v in x:
        t.add(float(v))
    assert t.n == len(x)
    assert t.mean == pytest.approx(x.mean(), rel=1e-12)
    assert t.m2 / (t.n - 1) == pytest.approx(x.var(ddof=1), rel=1e-9)
    assert t.max == x.max()
    for q in (0.01, 0.5, 0.9, 0.95, 0.99):
        exact = np.quantile(x, q, method="inverted_cdf")
        got = t.quantile(q)
        assert got == pytest.approx(exact, rel=0.005) or (exact <= Tally.FLOOR and got == 0.0)


def test_tally_merge_equals_one_tally_of_everything():
    rng = np.random.default_rng(7)
    a, b = rng.exponential(2.0, 3000), rng.exponential(9.0, 500)
    ta, tb, tall = Tally(), Tally(), Tally()
    for v in a:
        ta.add(float(v))
        tall.add(float(v))
    for v in b:
        tb.add(float(v))
        tall.add(float(v))
    ta.merge(tb)
    assert (ta.n, ta.zeros, ta.bins, ta.max) == (tall.n, tall.zeros, tall.bins, tall.max)
    assert ta.mean == pytest.approx(tall.mean, rel=1e-12)
    assert ta.m2 == pytest.approx(tall.m2, rel=1e-9)
    empty = Tally()
    empty.merge(Tally())
    assert empty.n == 0 and np.isnan(empty.quantile(0.5))
