"""Exact answers for the day-to-day variability cases: priority classes, a server that stops,
and the backlog under a random daily cap.

Rates are per unit time in the caller's unit; times come back in that unit. Invalid input
(non-positive rates, an unstable system, a truncation that loses mass) raises ``ValueError``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import integrate, sparse, stats
from scipy.sparse.linalg import spsolve

from gatesim.validation.theory import as_int, check_positive

__all__ = ["CapBacklog", "StoppageMM1", "daily_cap_backlog", "priority_mm1",
           "random_rounding_pmf", "stoppage_mm1"]


def priority_mm1(lams: Sequence[float], mu: float) -> list[tuple[float, float]]:
    """Return ``(W_k, Wq_k)`` per class of a non-pre-emptive priority M/M/1 queue.

    Class 0 has the highest priority; every class is served at exponential rate ``mu``.
    Cobham's formula (Kleinrock, *Queueing Systems* vol. 2, §3.6):
    ``Wq_k = W0 / ((1 - sigma_{k-1}) (1 - sigma_k))`` with the mean residual work
    ``W0 = sum_i lam_i E[S^2] / 2 = sum_i lam_i / mu^2`` and ``sigma_k = sum_{i<=k} lam_i / mu``.
    Requires at least one class, every ``lam_i > 0``, ``mu > 0`` and total ``rho < 1``.
    """
    if not lams:
        raise ValueError("lams must contain at least one arrival rate")
    for i, lam in enumerate(lams):
        check_positive(f"lams[{i}]", lam)
    check_positive("mu", mu)
    rho = math.fsum(lams) / mu
    if rho >= 1.0:
        raise ValueError(f"unstable system: rho = sum(lams)/mu = {rho:.6g} must be < 1")
    w0 = rho / mu
    out = []
    sigma_prev = 0.0
    for lam in lams:
        sigma = sigma_prev + lam / mu
        wq = w0 / ((1.0 - sigma_prev) * (1.0 - sigma))
        out.append((wq + 1.0 / mu, wq))
        sigma_prev = sigma
    return out


def _check_truncation(p_level: np.ndarray, what: str) -> None:
    """Refuse a truncated chain whose top tenth of levels holds more than 1e-12 probability."""
    n_top = max(1, len(p_level) // 10)
    tail = float(p_level[-n_top:].sum())
    if tail > 1e-12:
        raise ValueError(
            f"{what}: probability {tail:.3g} in the top {n_top} of {len(p_level)} levels; "
            "the system is near-unstable or n_max is too small"
        )


@dataclass(frozen=True)
class StoppageMM1:
    """Steady-state measures of an M/M/1 queue with server stoppages.

    ``w`` mean time in system, ``l`` mean number in system, ``p_stopped`` fraction of
    time the server is stopped.
    """

    w: float
    l: float  # noqa: E741, RUF100 - "L" is standard queueing notation
    p_stopped: float


def stoppage_mm1(lam: float, mu: float, xi: float, eta: float, n_max: int = 1500) -> StoppageMM1:
    """Return steady-state measures of an M/M/1 queue whose server stops now and then.

    Stoppages start at rate ``xi`` while the server is up (busy or idle) and last
    Exp(``eta``); a service under way when a stoppage starts still finishes at rate
    ``mu``, but no new service starts until the stoppage ends.  The CTMC on
    (number in system, {up, stopped-finishing, stopped-idle}) is a quasi-birth-death
    process (Neuts, *Matrix-Geometric Solutions*, 1981), here truncated at ``n_max``
    trucks and solved exactly with a sparse ``pi Q = 0``; ``W = L / lam`` by Little.
    The chain has no product form, hence the numerical solve.
    Requires positive rates, ``lam`` below the long-run service capacity
    ``mu (P(up) + P(finishing))``, and negligible (<= 1e-12) mass near ``n_max``.
    """
    for name, value in (("lam", lam), ("mu", mu), ("xi", xi), ("eta", eta)):
        check_positive(name, value)
    n_max = as_int("n_max", n_max, 1)
    # Phase balance of a saturated server: up -xi-> finishing -mu-> idle, both -eta-> up.
    fin_per_up = xi / (mu + eta)
    up = 1.0 / (1.0 + fin_per_up * (1.0 + mu / eta))
    capacity = mu * up * (1.0 + fin_per_up)
    if lam >= capacity:
        raise ValueError(
            f"unstable system: lam = {lam:.6g} must be < service capacity {capacity:.6g}"
        )
    n = np.arange(n_max + 1)
    m = n[1:]
    i_up, i_idle, i_fin = n, 2 * n_max + 1 + n, n_max + m  # fin exists for n >= 1 only
    src, dst, rate = [], [], []

    def add(a: np.ndarray, b: np.ndarray, r: float) -> None:
        src.append(a)
        dst.append(b)
        rate.append(np.full(len(a), r))

    add(i_up[:-1], i_up[1:], lam)
    add(i_up[1:], i_up[:-1], mu)
    add(i_up[1:], i_fin, xi)
    add(i_up[:1], i_idle[:1], xi)
    add(i_fin[:-1], i_fin[1:], lam)
    add(i_fin, i_idle[:-1], mu)
    add(i_fin, i_up[1:], eta)
    add(i_idle[:-1], i_idle[1:], lam)
    add(i_idle, i_up, eta)
    size = 3 * n_max + 2
    rows, cols, vals = np.concatenate(src), np.concatenate(dst), np.concatenate(rate)
    diag = np.arange(size)
    out_rate = np.bincount(rows, weights=vals, minlength=size)
    q_t = sparse.csr_matrix(
        (
            np.concatenate([vals, -out_rate]),
            (np.concatenate([cols, diag]), np.concatenate([rows, diag])),
        ),
        shape=(size, size),
    )
    # pi Q = 0 is rank-deficient by one: replace its last equation by pi(up, 0) = 1 (a
    # sparse row, unlike sum(pi) = 1, so the LU keeps the band), then normalise.
    a = sparse.vstack([q_t[:-1], sparse.csr_matrix(([1.0], ([0], [0])), shape=(1, size))])
    rhs = np.zeros(size)
    rhs[-1] = 1.0
    pi = spsolve(a.tocsc(), rhs)
    pi /= pi.sum()
    p_level = pi[i_up] + pi[i_idle]
    p_level[1:] += pi[i_fin]
    _check_truncation(p_level, "stoppage_mm1 truncation")
    l_sys = float(n @ p_level)
    p_stopped = float(pi[i_fin].sum() + pi[i_idle].sum())
    return StoppageMM1(w=l_sys / lam, l=l_sys, p_stopped=p_stopped)


def random_rounding_pmf(c: float, cv: float, law: str = "gamma") -> np.ndarray:
    """Return the pmf over ``k = 0..K`` of ``C = floor(c F + U)``, ``U ~ Uniform(0, 1)``.

    ``F`` has mean 1 and coefficient of variation ``cv`` (``law`` ``"gamma"`` or
    ``"lognormal"``; ``cv = 0`` means ``F = 1``).  Random rounding is unbiased,
    ``E[C | cF = x] = x``, so ``E[C] = c`` exactly: it turns a continuous daily cap into
    an integer one without shifting its mean.  Given ``x = cF``,
    ``P(C = k | x) = max(0, 1 - |x - k|)`` (a hat function), so ``P(C = k)`` is the
    integral of the hat against the density of ``x``, done with ``quad`` on
    ``[k-1, k]`` and ``[k, k+1]``.  ``K`` is where ``P(cF > K) < 1e-13``.
    Requires ``c > 0`` and ``cv >= 0``.
    """
    check_positive("c", c)
    if not math.isfinite(cv) or cv < 0:
        raise ValueError(f"cv must be a finite number >= 0, got {cv!r}")
    if law not in ("gamma", "lognormal"):
        raise ValueError(f"law must be 'gamma' or 'lognormal', got {law!r}")
    if cv == 0:
        k = np.arange(math.floor(c) + 2)
        return np.maximum(0.0, 1.0 - np.abs(c - k))
    # Log-densities of x = cF written out with ``math``: scipy's per-point pdf would
    # dominate the run time of thousands of scalar quad evaluations.
    if law == "gamma":
        shape, scale = 1.0 / cv**2, c * cv**2
        x = stats.gamma(shape, scale=scale)
        log_const = -math.lgamma(shape) - shape * math.log(scale)

        def log_pdf(t: float) -> float:
            return (shape - 1.0) * math.log(t) - t / scale + log_const
    else:
        s2 = math.log1p(cv**2)
        m = math.log(c) - s2 / 2.0
        x = stats.lognorm(math.sqrt(s2), scale=math.exp(m))
        log_const = -0.5 * math.log(2.0 * math.pi * s2)

        def log_pdf(t: float) -> float:
            log_t = math.log(t)
            return -((log_t - m) ** 2) / (2.0 * s2) - log_t + log_const

    def hat_mass(k: int) -> float:
        def integrand(t: float) -> float:
            return (1.0 - abs(t - k)) * math.exp(log_pdf(t))

        # Unit pieces either side of the hat's kink at k (x > 0, so none below 0); quad
        # never evaluates an end point, so log(0) cannot occur.
        lows = (k - 1.0, float(k)) if k > 0 else (0.0,)
        return math.fsum(
            integrate.quad(integrand, lo, lo + 1.0, epsabs=1e-15, epsrel=1e-12)[0] for lo in lows
        )

    return np.array([hat_mass(k) for k in range(math.ceil(x.isf(1e-13)) + 1)])


@dataclass(frozen=True)
class CapBacklog:
    """Stationary end-of-day backlog under a random daily cap.

    ``mean`` is ``E[B]`` in trucks and ``p_positive`` is ``P(B > 0)``.
    """

    mean: float
    p_positive: float


def daily_cap_backlog(
    arrivals_per_day: float, cap_pmf: np.ndarray, n_max: int = 4000
) -> CapBacklog:
    """Return the stationary backlog of ``B_n = max(0, B_{n-1} + A_n - C_n)``.

    ``A_n ~ Poisson(arrivals_per_day)`` and ``C_n ~ cap_pmf`` (pmf over ``0..K``) are
    i.i.d.; this Lindley chain (Lindley 1952; Asmussen, *Applied Probability and
    Queues*, ch. III) is the day-to-day backlog of a crossing that clears at most a
    random number of trucks per day.  Its stationary law is found by iterating the
    distribution (convolution with the pmf of ``A - C``, mass below 0 folded onto 0)
    from ``B = 0`` until the L1 change per day is below 1e-13, on ``0..n_max``.
    Requires ``arrivals_per_day > 0``, a valid pmf with mean above it, and
    negligible (<= 1e-12) mass near ``n_max``.
    """
    check_positive("arrivals_per_day", arrivals_per_day)
    n_max = as_int("n_max", n_max, 1)
    cap = np.asarray(cap_pmf, dtype=float)
    if cap.ndim != 1 or not np.all(np.isfinite(cap)) or np.any(cap < 0):
        raise ValueError("cap_pmf must be a 1-D array of finite non-negative numbers")
    if abs(cap.sum() - 1.0) > 1e-9:
        raise ValueError(f"cap_pmf must sum to 1, got {cap.sum():.12g}")
    mean_cap = float(np.arange(len(cap)) @ cap)
    if arrivals_per_day >= mean_cap:
        raise ValueError(
            f"unstable system: arrivals {arrivals_per_day:.6g} must be < mean cap {mean_cap:.6g}"
        )
    arr = stats.poisson.pmf(
        np.arange(int(stats.poisson.isf(1e-16, arrivals_per_day)) + 1), arrivals_per_day
    )
    # Pmf of D = A - C: index j holds D = j - K.
    inc = np.convolve(arr / arr.sum(), cap[::-1])
    big_k = len(cap) - 1
    b = np.zeros(n_max + 1)
    b[0] = 1.0
    for _ in range(1_000_000):  # a guard only: the finite chain converges geometrically
        full = np.convolve(b, inc)
        new = np.empty_like(b)
        new[0] = full[: big_k + 1].sum()
        new[1:] = full[big_k + 1 : big_k + 1 + n_max]
        new /= new.sum()
        change = float(np.abs(new - b).sum())
        b = new
        if change < 1e-13:
            break
    else:
        raise ValueError("daily_cap_backlog did not converge; the system is near-unstable")
    _check_truncation(b, "daily_cap_backlog truncation")
    return CapBacklog(mean=float(np.arange(n_max + 1) @ b), p_positive=float(1.0 - b[0]))
