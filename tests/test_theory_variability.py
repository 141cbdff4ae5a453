"""Exact theory for the variability validation cases (issue 15), checked independently.

Each analytic function is compared with values derived another way: hand arithmetic,
conservation laws, closed forms of special cases, a separate dense solve, or a
Monte Carlo run of the same recursion.  ``tests/trace_recursion.py`` is checked on
hand-worked traces and on the classical single- and multi-server FIFO recursions.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from gatesim.validation.theory import mm1
from gatesim.validation.variability_theory import (
    CapBacklog,
    StoppageMM1,
    daily_cap_backlog,
    priority_mm1,
    random_rounding_pmf,
    stoppage_mm1,
)
from tests.trace_recursion import fifo_departures

# --- non-pre-emptive priority M/M/1 (Cobham) --------------------------------------


def test_priority_two_classes_hand_values() -> None:
    # W0 = 0.8, sigma = (0.2, 0.8): Wq = 0.8/0.8 = 1 and 0.8/(0.8*0.2) = 5.
    (w0, wq0), (w1, wq1) = priority_mm1([0.2, 0.6], 1.0)
    assert (w0, wq0) == pytest.approx((2.0, 1.0), abs=1e-12)
    assert (w1, wq1) == pytest.approx((6.0, 5.0), abs=1e-12)
    assert (0.2 * wq0 + 0.6 * wq1) / 0.8 == pytest.approx(mm1(0.8, 1.0).wq, abs=1e-12)


def test_priority_single_class_is_mm1() -> None:
    ((w, wq),) = priority_mm1([0.7], 2.0)
    ref = mm1(0.7, 2.0)
    assert (w, wq) == pytest.approx((ref.w, ref.wq), rel=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_priority_conservation_law(seed: int) -> None:
    """Kleinrock's conservation law: the rate-weighted mean wait is the FCFS M/M/1 wait."""
    rng = np.random.default_rng(seed)
    mu = rng.uniform(0.5, 3.0)
    lams = rng.dirichlet(np.ones(rng.integers(2, 6))) * rng.uniform(0.1, 0.95) * mu
    res = priority_mm1(list(lams), mu)
    mean_wq = sum(lam * wq for lam, (_, wq) in zip(lams, res, strict=True)) / lams.sum()
    assert mean_wq == pytest.approx(mm1(lams.sum(), mu).wq, rel=1e-12)
    assert all(w == pytest.approx(wq + 1.0 / mu) for w, wq in res)
    assert [wq for _, wq in res] == sorted(wq for _, wq in res)


@pytest.mark.parametrize(
    ("lams", "mu"),
    [([0.5, 0.5], 1.0), ([0.6, 0.6], 1.0), ([], 1.0), ([0.2, -0.1], 1.0), ([0.2], 0.0)],
)
def test_priority_refuses_bad_input(lams: list[float], mu: float) -> None:
    with pytest.raises(ValueError):
        priority_mm1(lams, mu)


# --- M/M/1 with server stoppages ----------------------------------------------------


def dense_stoppage(lam: float, mu: float, xi: float, eta: float, n_max: int) -> StoppageMM1:
    """The same CTMC built state by state and solved densely with sum(pi) = 1."""
    states = [
        (n, ph)
        for n in range(n_max + 1)
        for ph in ("up", "fin", "idle")
        if not (ph == "fin" and n == 0)
    ]
    idx = {s: i for i, s in enumerate(states)}
    q = np.zeros((len(states), len(states)))

    def move(src: tuple[int, str], dst: tuple[int, str], rate: float) -> None:
        q[idx[src], idx[dst]] += rate
        q[idx[src], idx[src]] -= rate

    for n, ph in states:
        if n < n_max:
            move((n, ph), (n + 1, ph), lam)
        if ph == "up":
            if n > 0:
                move((n, ph), (n - 1, "up"), mu)
            move((n, ph), (n, "fin" if n > 0 else "idle"), xi)
        else:
            move((n, ph), (n, "up"), eta)
            if ph == "fin":
                move((n, ph), (n - 1, "idle"), mu)
    a = q.T.copy()
    a[-1] = 1.0
    rhs = np.zeros(len(states))
    rhs[-1] = 1.0
    pi = np.linalg.solve(a, rhs)
    l_sys = sum(p * n for p, (n, _) in zip(pi, states, strict=True))
    p_stop = sum(p for p, (_, ph) in zip(pi, states, strict=True) if ph != "up")
    return StoppageMM1(w=l_sys / lam, l=l_sys, p_stopped=p_stop)


def test_stoppage_issue15_case() -> None:
    r = stoppage_mm1(0.5, 1.0, 1.0 / 24.0, 0.25)
    assert r.w == pytest.approx(3.575, abs=5e-3)
    assert r.l == pytest.approx(0.5 * r.w, rel=1e-12)
    assert r.p_stopped == pytest.approx((1 / 24) / (1 / 24 + 1 / 4), abs=1e-9)  # = 1/7


def test_stoppage_vanishing_is_mm1() -> None:
    assert stoppage_mm1(0.5, 1.0, 1e-12, 0.25).w == pytest.approx(2.0, abs=1e-6)


@pytest.mark.parametrize(("lam", "mu", "xi", "eta"), [(0.6, 1.2, 0.3, 0.7), (0.3, 1.0, 0.1, 0.5)])
def test_stoppage_matches_dense_solve(lam: float, mu: float, xi: float, eta: float) -> None:
    got = stoppage_mm1(lam, mu, xi, eta, n_max=200)
    ref = dense_stoppage(lam, mu, xi, eta, 200)
    assert got.w == pytest.approx(ref.w, rel=1e-9)
    assert got.p_stopped == pytest.approx(ref.p_stopped, abs=1e-12)
    assert got.p_stopped == pytest.approx(xi / (xi + eta), abs=1e-9)
    assert stoppage_mm1(lam, mu, xi, eta).w == pytest.approx(got.w, rel=1e-9)


def test_stoppage_refuses_unstable_and_short_truncation() -> None:
    # Capacity is mu (P(up) + P(finishing)) = 6/7 + 1/35 = 31/35 for these stoppages.
    with pytest.raises(ValueError, match="unstable"):
        stoppage_mm1(31 / 35 + 1e-9, 1.0, 1 / 24, 0.25)
    stoppage_mm1(0.85, 1.0, 1 / 24, 0.25)
    with pytest.raises(ValueError, match="n_max"):
        stoppage_mm1(0.5, 1.0, 1 / 24, 0.25, n_max=20)
    with pytest.raises(ValueError):
        stoppage_mm1(0.5, 1.0, 0.0, 0.25)


# --- random rounding of a continuous daily cap ----------------------------------------


def stop_loss(t: np.ndarray, shape: float, scale: float) -> np.ndarray:
    """E[(X - t)+] for X ~ gamma(shape, scale), in closed form."""
    mean = shape * scale
    upper = mean * stats.gamma.sf(t, shape + 1, scale=scale) - t * stats.gamma.sf(
        t, shape, scale=scale
    )
    return np.where(t < 0, mean - t, upper)


@pytest.mark.parametrize("law", ["gamma", "lognormal"])
@pytest.mark.parametrize(("c", "cv"), [(110.0, 0.15), (7.3, 0.6), (2.5, 1.5)])
def test_random_rounding_is_a_pmf_with_mean_c(law: str, c: float, cv: float) -> None:
    pmf = random_rounding_pmf(c, cv, law)
    assert np.all(pmf >= 0)
    assert pmf.sum() == pytest.approx(1.0, abs=1e-9)
    assert np.arange(len(pmf)) @ pmf == pytest.approx(c, abs=1e-9)


@pytest.mark.parametrize(("c", "cv"), [(110.0, 0.15), (7.3, 0.6), (2.5, 1.5)])
def test_random_rounding_gamma_matches_stop_loss(c: float, cv: float) -> None:
    """hat(x - k) = (x-k+1)+ - 2 (x-k)+ + (x-k-1)+, so P(C = k) is a second difference."""
    pmf = random_rounding_pmf(c, cv, "gamma")
    k = np.arange(len(pmf), dtype=float)
    sl = [stop_loss(k + d, 1 / cv**2, c * cv**2) for d in (-1.0, 0.0, 1.0)]
    np.testing.assert_allclose(pmf, sl[0] - 2 * sl[1] + sl[2], rtol=0, atol=1e-11)


def test_random_rounding_without_variability() -> None:
    np.testing.assert_allclose(random_rounding_pmf(3.25, 0.0), [0, 0, 0, 0.75, 0.25], atol=1e-15)


@pytest.mark.parametrize(
    ("c", "cv", "law"), [(0.0, 0.1, "gamma"), (5.0, -0.1, "gamma"), (5.0, 0.1, "weibull")]
)
def test_random_rounding_refuses_bad_input(c: float, cv: float, law: str) -> None:
    with pytest.raises(ValueError):
        random_rounding_pmf(c, cv, law)


# --- daily-cap backlog (Lindley chain) ------------------------------------------------


def test_backlog_issue15_case() -> None:
    """Reference numbers were computed with C = round(110 G); random rounding is close."""
    r = daily_cap_backlog(100.0, random_rounding_pmf(110.0, 0.15))
    assert isinstance(r, CapBacklog)
    assert r.mean == pytest.approx(9.25, rel=0.03)
    assert r.p_positive == pytest.approx(0.451, rel=0.03)


@pytest.mark.parametrize("lam", [0.3, 0.5, 0.9])
def test_backlog_unit_cap_is_md1_queue(lam: float) -> None:
    """With C = 1, B = max(0, N - 1) for N the M/D/1 count left behind by a departure.

    Hence E[B] = Lq = rho^2 / (2 (1 - rho)) (Pollaczek-Khinchine) and
    P(B > 0) = P(N >= 2) = 1 - (1 - rho) e^rho (embedded chain: pi0 = 1 - rho,
    pi1 = (1 - rho)(e^rho - 1)).
    """
    r = daily_cap_backlog(lam, np.array([0.0, 1.0]))
    assert r.mean == pytest.approx(lam**2 / (2 * (1 - lam)), rel=1e-9)
    assert r.p_positive == pytest.approx(1 - (1 - lam) * math.exp(lam), rel=1e-9)


def test_backlog_fixed_cap_matches_monte_carlo() -> None:
    cap = np.zeros(111)
    cap[110] = 1.0
    r = daily_cap_backlog(100.0, cap)
    days, batches = 200_000, 100
    steps = np.random.default_rng(15).poisson(100.0, days) - 110
    walk = np.cumsum(steps)
    backlog = walk - np.minimum(np.minimum.accumulate(walk), 0)  # Lindley from B_0 = 0
    for sample, exact in ((backlog, r.mean), (backlog > 0, r.p_positive)):
        means = sample.reshape(batches, -1).mean(axis=1)
        se = means.std(ddof=1) / math.sqrt(batches)
        assert abs(means.mean() - exact) < 4 * se


def test_backlog_huge_cap_is_empty() -> None:
    cap = np.zeros(1001)
    cap[1000] = 1.0
    r = daily_cap_backlog(100.0, cap)
    assert r.mean < 1e-12
    assert r.p_positive < 1e-12


def test_backlog_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="unstable"):
        daily_cap_backlog(110.0, random_rounding_pmf(110.0, 0.15))
    with pytest.raises(ValueError, match="sum to 1"):
        daily_cap_backlog(1.0, np.array([0.5, 0.6]))
    with pytest.raises(ValueError, match="n_max"):
        daily_cap_backlog(100.0, random_rounding_pmf(101.0, 0.15), n_max=300)


# --- the trace-checking FIFO recursion -------------------------------------------------


def test_fifo_single_server_hand_trace() -> None:
    # Starts 0, 3, 4, 6: each truck waits for the one ahead to leave.
    got = fifo_departures([0, 1, 2, 6], [3, 1, 2, 1], [(0, 1)])
    assert got == [3, 4, 6, 7]


def test_fifo_servers_added_release_the_queue() -> None:
    # One server busy until 10; at t = 5 two more come on duty and both queued trucks start.
    assert fifo_departures([0, 1, 2], [10, 1, 1], [(0, 1), (5, 3)]) == [10, 6, 6]


def test_fifo_servers_removed_finish_their_trucks() -> None:
    arrivals, services = [0, 0, 0, 1], [5, 3, 4, 1]
    # 3 -> 2 at t = 2: the fourth truck needs in-service < 2, i.e. two have left (t = 4).
    assert fifo_departures(arrivals, services, [(0, 3), (2, 2)]) == [5, 3, 4, 5]
    # 3 -> 1 at t = 2: in-service must reach 0, i.e. all three have left (t = 5).
    assert fifo_departures(arrivals, services, [(0, 3), (2, 1)]) == [5, 3, 4, 6]
    # A departure at 1.5, before the change, frees a server while three are on duty.
    assert fifo_departures(arrivals, [5, 1.5, 4, 1], [(0, 3), (2, 1)]) == [5, 1.5, 4, 2.5]


def test_fifo_boundaries_are_right_continuous() -> None:
    # A server freed at t, by a departure or by coming on duty, serves a truck arriving at t.
    assert fifo_departures([0, 2], [2, 1], [(0, 1)]) == [2, 3]
    assert fifo_departures([0, 2], [5, 1], [(0, 1), (2, 2)]) == [5, 3]


@pytest.mark.parametrize("c", [1, 3])
def test_fifo_constant_servers_matches_kiefer_wolfowitz(c: int) -> None:
    rng = np.random.default_rng(c)
    arrivals = np.cumsum(rng.exponential(1.0, 300)).tolist()
    services = rng.exponential(0.9 * c, 300).tolist()
    free = [0.0] * c  # Kiefer-Wolfowitz: sorted times at which each server frees up
    expected = []
    for a, s in zip(arrivals, services, strict=True):
        dep = max(a, free.pop(0)) + s
        expected.append(dep)
        free = sorted([*free, dep])
    assert fifo_departures(arrivals, services, [(0.0, c)]) == pytest.approx(expected)
