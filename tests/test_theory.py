"""Unit tests for gatesim.validation.theory against published queueing values."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from gatesim.validation.theory import (
    MMc,
    MMcK,
    erlang_b,
    erlang_c,
    fluid_backlog_growth,
    jackson_tandem_w,
    mg1_wq,
    mg_inf_mean,
    mm1,
    mmc,
    mmck,
)

# --- M/M/c -----------------------------------------------------------------


def test_mmc_lam10_mu4_c3() -> None:
    r = mmc(10.0, 4.0, 3)
    assert isinstance(r, MMc)
    assert r.rho == pytest.approx(0.8333, abs=1e-4)
    assert r.p_wait == pytest.approx(0.7022, abs=1e-4)
    assert r.wq == pytest.approx(0.3511, abs=1e-4)
    assert r.w == pytest.approx(0.3511 + 0.25, abs=1e-4)
    assert r.lq == pytest.approx(3.511, abs=1e-3)


def test_mm4_lam36_mu1() -> None:
    r = mmc(3.6, 1.0, 4)
    assert r.p_wait == pytest.approx(0.78775, abs=1e-5)
    assert r.wq == pytest.approx(1.96938, abs=1e-5)
    assert r.rho == pytest.approx(0.9)


def test_mm3_lam02_mu01() -> None:
    r = mmc(0.2, 0.1, 3)
    assert r.p_wait == pytest.approx(0.4444, abs=1e-4)
    assert erlang_c(3, 2.0) == pytest.approx(4.0 / 9.0, rel=1e-9)
    assert r.wq == pytest.approx(4.444, abs=1e-3)


def test_mm1_textbook_and_equals_mmc_c1() -> None:
    r = mm1(0.5, 1.0)
    # M/M/1 closed forms: P(wait)=rho, Wq=rho/(mu-lam), W=1/(mu-lam), L=rho/(1-rho)
    assert r.p_wait == pytest.approx(0.5)
    assert r.wq == pytest.approx(1.0)
    assert r.w == pytest.approx(2.0)
    assert r.l == pytest.approx(1.0)
    assert r.lq == pytest.approx(0.5)
    assert r == mmc(0.5, 1.0, 1)


@pytest.mark.parametrize(("lam", "mu", "c"), [(10.0, 4.0, 3), (3.6, 1.0, 4), (0.7, 1.0, 1)])
def test_mmc_littles_law(lam: float, mu: float, c: int) -> None:
    r = mmc(lam, mu, c)
    assert r.l == pytest.approx(lam * r.w, rel=1e-12)
    assert r.lq == pytest.approx(lam * r.wq, rel=1e-12)
    assert r.w == pytest.approx(r.wq + 1.0 / mu, rel=1e-12)


def test_mmc_result_is_frozen() -> None:
    r = mmc(10.0, 4.0, 3)
    with pytest.raises(AttributeError):
        r.wq = 0.0  # type: ignore[misc]


# --- Erlang B / C ----------------------------------------------------------


def test_erlang_b_a2_c3() -> None:
    assert erlang_b(3, 2.0) == pytest.approx(0.2105, abs=1e-4)
    assert erlang_b(3, 2.0) == pytest.approx(4.0 / 19.0, rel=1e-12)


def test_erlang_b_large_c_no_overflow() -> None:
    b = erlang_b(100, 80.0)
    assert math.isfinite(b)
    assert 0.0 < b < 1.0
    # Known value: B(100, 80) ~ 0.0040 (about 0.4 % blocking)
    assert b == pytest.approx(0.004, abs=1e-3)


def test_erlang_c_above_erlang_b() -> None:
    assert erlang_c(3, 2.5) == pytest.approx(0.7022, abs=1e-4)
    assert erlang_c(3, 2.5) > erlang_b(3, 2.5)


# --- M/M/c/K ---------------------------------------------------------------


def test_mmck_lam10_mu4_c3_k6() -> None:
    r = mmck(10.0, 4.0, 3, 6)
    assert isinstance(r, MMcK)
    assert r.p_block == pytest.approx(0.1024, abs=1e-4)
    assert r.l == pytest.approx(2.944, abs=1e-3)
    assert r.w == pytest.approx(0.328, abs=1e-3)
    assert r.wq == pytest.approx(0.078, abs=1e-3)
    assert r.lam_eff == pytest.approx(10.0 * (1 - 0.1024), abs=1e-3)


def test_mmck_littles_law_and_busy_servers() -> None:
    lam, mu = 10.0, 4.0
    r = mmck(lam, mu, 3, 6)
    assert r.l == pytest.approx(r.lam_eff * r.w, rel=1e-12)
    assert r.lq == pytest.approx(r.lam_eff * r.wq, rel=1e-12)
    # Mean busy servers equals carried load lam_eff / mu.
    assert r.mean_busy == pytest.approx(r.lam_eff / mu, rel=1e-9)
    assert r.l == pytest.approx(r.lq + r.mean_busy, rel=1e-12)


def test_mmck_k_equals_c_is_erlang_b() -> None:
    r = mmck(2.0, 1.0, 3, 3)
    assert r.p_block == pytest.approx(0.2105, abs=1e-4)
    assert r.lq == 0.0
    assert r.wq == 0.0


def test_mmck_large_k_approaches_mmc() -> None:
    r = mmck(10.0, 4.0, 3, 2000)
    assert r.wq == pytest.approx(0.3511, abs=1e-4)
    assert r.wq == pytest.approx(mmc(10.0, 4.0, 3).wq, abs=1e-6)
    assert r.p_block < 1e-12


def test_mmck_large_c_and_k_no_overflow() -> None:
    r = mmck(250.0, 1.0, 200, 10_000)  # overloaded: rho = 1.25
    for value in (r.p_block, r.l, r.lq, r.w, r.wq, r.mean_busy):
        assert math.isfinite(value)
    # Overloaded finite buffer: servers all busy, throughput capped at c * mu.
    assert r.mean_busy == pytest.approx(200.0, rel=1e-9)
    assert r.lam_eff == pytest.approx(200.0, rel=1e-9)
    assert r.p_block == pytest.approx(0.2, rel=1e-9)


# --- M/G/1 -----------------------------------------------------------------


@pytest.mark.parametrize(("scv", "expected"), [(0.0, 2.0), (0.25, 2.5), (1.0, 4.0)])
def test_mg1_pk(scv: float, expected: float) -> None:
    assert mg1_wq(0.8, 1.0, scv) == pytest.approx(expected, rel=1e-9)


def test_mg1_exponential_matches_mm1() -> None:
    assert mg1_wq(0.8, 1.0, 1.0) == pytest.approx(4.0)
    assert mm1(0.8, 1.0).wq == pytest.approx(4.0)


# --- Tandem ----------------------------------------------------------------


def test_jackson_tandem_two_single_servers() -> None:
    assert jackson_tandem_w(1.0, [(2.0, 1), (1.5, 1)]) == pytest.approx(3.0, rel=1e-12)


def test_jackson_tandem_four_station_total_wq() -> None:
    mus = (0.625, 0.47619, 0.55556, 0.29412)
    cs = (2, 3, 2, 4)
    stations = list(zip(mus, cs, strict=True))
    total_w = jackson_tandem_w(1.0, stations)
    total_service = sum(1.0 / mu for mu in mus)
    assert total_w - total_service == pytest.approx(15.57306, rel=1e-3)
    per_station_wq = sum(mmc(1.0, mu, c).w - 1.0 / mu for mu, c in stations)
    assert per_station_wq == pytest.approx(15.57306, rel=1e-3)


# --- Fluid / M/G/inf -------------------------------------------------------


def test_fluid_backlog_growth() -> None:
    assert fluid_backlog_growth(120.0, 100.0) == pytest.approx(20.0)
    assert fluid_backlog_growth(80.0, 100.0) == 0.0
    assert fluid_backlog_growth(100.0, 100.0) == 0.0


def test_mg_inf_mean() -> None:
    assert mg_inf_mean(3.0, 2.5) == pytest.approx(7.5)


# --- Validation ------------------------------------------------------------


@pytest.mark.parametrize(("lam", "mu", "c"), [(12.0, 4.0, 3), (13.0, 4.0, 3), (1.0, 1.0, 1)])
def test_mmc_rejects_unstable(lam: float, mu: float, c: int) -> None:
    with pytest.raises(ValueError, match="rho"):
        mmc(lam, mu, c)


def test_mg1_rejects_unstable() -> None:
    with pytest.raises(ValueError, match="rho"):
        mg1_wq(1.0, 1.0, 0.5)
    with pytest.raises(ValueError):
        mg1_wq(0.5, 1.0, -0.1)


def test_mmck_rejects_k_below_c() -> None:
    with pytest.raises(ValueError, match="K"):
        mmck(10.0, 4.0, 3, 2)


def test_tandem_rejects_unstable_station_and_empty() -> None:
    with pytest.raises(ValueError):
        jackson_tandem_w(1.0, [(2.0, 1), (0.5, 1)])
    with pytest.raises(ValueError):
        jackson_tandem_w(1.0, [])


@pytest.mark.parametrize(
    "call",
    [
        lambda: mmc(0.0, 4.0, 3),
        lambda: mmc(-1.0, 4.0, 3),
        lambda: mmc(1.0, 0.0, 3),
        lambda: mmc(1.0, -4.0, 3),
        lambda: mmc(1.0, 4.0, 0),
        lambda: mm1(0.0, 1.0),
        lambda: mmck(0.0, 4.0, 3, 6),
        lambda: mmck(10.0, -4.0, 3, 6),
        lambda: mmck(10.0, 4.0, 0, 6),
        lambda: erlang_b(3, 0.0),
        lambda: erlang_b(0, 2.0),
        lambda: erlang_c(3, -1.0),
        lambda: mg1_wq(0.0, 1.0, 1.0),
        lambda: mg1_wq(0.5, 0.0, 1.0),
        lambda: mg_inf_mean(-1.0, 1.0),
        lambda: mg_inf_mean(1.0, 0.0),
        lambda: fluid_backlog_growth(-1.0, 10.0),
        lambda: fluid_backlog_growth(1.0, -10.0),
        lambda: mmc(float("nan"), 4.0, 3),
        lambda: mmc(1.0, float("inf"), 3),
    ],
)
def test_rejects_non_positive_or_invalid(call: Callable[[], object]) -> None:
    with pytest.raises(ValueError):
        call()
