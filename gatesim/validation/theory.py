"""Analytic queueing formulas used to validate the simulator.

All rates are "per unit time" in whatever time unit the caller uses; the
returned times are in that same unit.  Functions raise ``ValueError`` with a
clear message for invalid inputs (non-positive rates, unstable systems, ...).
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass

__all__ = [
    "MMc",
    "MMcK",
    "erlang_b",
    "erlang_c",
    "fluid_backlog_growth",
    "jackson_tandem_w",
    "mg1_wq",
    "mg_inf_mean",
    "mm1",
    "mmc",
    "mmck",
]


def check_positive(name: str, value: float) -> None:
    try:
        ok = math.isfinite(value) and value > 0
    except TypeError:
        ok = False
    if not ok:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")


def as_int(name: str, value: int, minimum: int) -> int:
    try:
        n = operator.index(value)
    except TypeError:
        n = None
    if n is None or isinstance(value, bool) or n < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return n


def erlang_b(c: int, a: float) -> float:
    """Return the Erlang B blocking probability for ``c`` servers and offered load ``a``.

    ``a = lam / mu`` in Erlangs.  Uses the stable recursion ``B0 = 1``,
    ``Bk = a B(k-1) / (k + a B(k-1))``, so large ``c`` does not overflow.
    Requires ``c >= 1`` and ``a > 0``.
    """
    c = as_int("c", c, 1)
    check_positive("a", a)
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c(c: int, a: float) -> float:
    """Return the Erlang C probability that an arrival must wait in an M/M/c queue.

    Computed via Erlang B as ``C = B / (1 - rho (1 - B))`` with ``rho = a / c``.
    Requires ``c >= 1``, ``a > 0`` and ``rho < 1``.
    """
    c = as_int("c", c, 1)
    check_positive("a", a)
    rho = a / c
    if rho >= 1.0:
        raise ValueError(f"unstable system: rho = a/c = {rho:.6g} must be < 1")
    b = erlang_b(c, a)
    return b / (1.0 - rho * (1.0 - b))


@dataclass(frozen=True)
class MMc:
    """Steady-state measures of an M/M/c queue.

    ``rho`` utilisation per server, ``p_wait`` probability of waiting, ``lq`` mean
    queue length, ``wq`` mean wait in queue, ``w`` mean time in system, ``l`` mean
    number in system.
    """

    rho: float
    p_wait: float
    lq: float
    wq: float
    w: float
    l: float  # noqa: E741, RUF100 - "L" is standard queueing notation


def mmc(lam: float, mu: float, c: int) -> MMc:
    """Return steady-state measures of an M/M/c queue (arrival ``lam``, service ``mu``).

    Requires ``lam > 0``, ``mu > 0``, ``c >= 1`` and ``rho = lam / (c mu) < 1``.
    """
    check_positive("lam", lam)
    check_positive("mu", mu)
    c = as_int("c", c, 1)
    a = lam / mu
    rho = a / c
    if rho >= 1.0:
        raise ValueError(f"unstable system: rho = lam/(c*mu) = {rho:.6g} must be < 1")
    p_wait = erlang_c(c, a)
    wq = p_wait / (c * mu - lam)
    lq = lam * wq
    w = wq + 1.0 / mu
    return MMc(rho=rho, p_wait=p_wait, lq=lq, wq=wq, w=w, l=lam * w)


def mm1(lam: float, mu: float) -> MMc:
    """Return steady-state measures of an M/M/1 queue; identical to ``mmc(lam, mu, 1)``.

    Requires ``lam > 0``, ``mu > 0`` and ``lam < mu``.
    """
    return mmc(lam, mu, 1)


@dataclass(frozen=True)
class MMcK:
    """Steady-state measures of an M/M/c/K queue (capacity ``K`` including service).

    ``p_block`` probability an arrival is lost, ``l`` mean number in system, ``lq``
    mean queue length, ``lam_eff`` accepted arrival rate, ``w`` / ``wq`` mean time
    in system / queue of accepted customers, ``mean_busy`` mean busy servers.
    """

    p_block: float
    l: float  # noqa: E741, RUF100 - "L" is standard queueing notation
    lq: float
    lam_eff: float
    w: float
    wq: float
    mean_busy: float


def mmck(lam: float, mu: float, c: int, K: int) -> MMcK:
    """Return steady-state measures of an M/M/c/K queue (no stability condition needed).

    Uses the product form ``p_n ∝ a^n / n!`` (n <= c) and ``a^n / (c! c^(n-c))``
    (c < n <= K), built iteratively from ratios and rescaled to avoid overflow.
    ``K = c`` gives the Erlang B loss system.  Requires ``lam > 0``, ``mu > 0``,
    ``c >= 1`` and integer ``K >= c``.
    """
    check_positive("lam", lam)
    check_positive("mu", mu)
    c = as_int("c", c, 1)
    K = as_int("K", K, 1)
    if c > K:
        raise ValueError(f"K (system capacity) must be >= c, got K={K}, c={c}")
    a = lam / mu
    # Unnormalised weights q_n with q_0 = 1 and q_n = q_{n-1} * a / min(n, c).
    # Rescale whenever weights grow large so nothing overflows.
    weights = [1.0]
    for n in range(1, K + 1):
        nxt = weights[-1] * a / min(n, c)
        if nxt > 1e250:
            weights = [x / nxt for x in weights]
            nxt = 1.0
        weights.append(nxt)
    total = math.fsum(weights)
    p = [x / total for x in weights]
    p_block = p[K]
    l_sys = math.fsum(n * pn for n, pn in enumerate(p))
    lq = math.fsum((n - c) * p[n] for n in range(c + 1, K + 1))
    mean_busy = l_sys - lq
    lam_eff = lam * (1.0 - p_block)
    w = l_sys / lam_eff
    wq = lq / lam_eff
    return MMcK(p_block=p_block, l=l_sys, lq=lq, lam_eff=lam_eff, w=w, wq=wq, mean_busy=mean_busy)


def mg1_wq(lam: float, mean_s: float, scv_s: float) -> float:
    """Return the M/G/1 mean wait in queue by Pollaczek–Khinchine.

    ``Wq = rho (1 + scv) E[S] / (2 (1 - rho))`` with ``rho = lam E[S]`` and ``scv``
    the squared coefficient of variation of service time.  Requires ``lam > 0``,
    ``mean_s > 0``, ``scv_s >= 0`` and ``rho < 1``.
    """
    check_positive("lam", lam)
    check_positive("mean_s", mean_s)
    if not math.isfinite(scv_s) or scv_s < 0:
        raise ValueError(f"scv_s must be a finite number >= 0, got {scv_s!r}")
    rho = lam * mean_s
    if rho >= 1.0:
        raise ValueError(f"unstable system: rho = lam*mean_s = {rho:.6g} must be < 1")
    return rho * (1.0 + scv_s) * mean_s / (2.0 * (1.0 - rho))


def jackson_tandem_w(lam: float, stations: list[tuple[float, int]]) -> float:
    """Return mean time in system of a tandem (Jackson) line of M/M/c stations.

    ``stations`` is a list of ``(mu, c)`` per station; the result is the sum of the
    stations' M/M/c mean sojourn times at arrival rate ``lam``.  Requires at least
    one station and every station stable (``lam < c mu``).
    """
    if not stations:
        raise ValueError("stations must contain at least one (mu, c) pair")
    return math.fsum(mmc(lam, mu, c).w for mu, c in stations)


def fluid_backlog_growth(arrival_rate_per_day: float, cap_per_day: float) -> float:
    """Return the fluid-model backlog growth rate ``max(0, arrival - capacity)`` per day.

    Requires both rates to be finite and ``>= 0``.
    """
    for name, value in (
        ("arrival_rate_per_day", arrival_rate_per_day),
        ("cap_per_day", cap_per_day),
    ):
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return max(0.0, arrival_rate_per_day - cap_per_day)


def mg_inf_mean(lam: float, mean_s: float) -> float:
    """Return the M/G/inf mean number in system ``lam * mean_s`` (any service law).

    Requires ``lam > 0`` and ``mean_s > 0``.
    """
    check_positive("lam", lam)
    check_positive("mean_s", mean_s)
    return lam * mean_s
