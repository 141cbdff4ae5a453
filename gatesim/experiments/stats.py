"""Output analysis across replications: Student-t confidence intervals (Law, ch. 9)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special


def t_interval(x: np.ndarray, level: float = 0.95) -> tuple[float, float, float, int]:
    """(mean, ci_low, ci_high, n) of the finite values of ``x``; NaN bounds when n < 2."""
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    n = len(x)
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    mean = float(x.mean())
    if n < 2:
        return mean, math.nan, math.nan, n
    half = float(special.stdtrit(n - 1, 0.5 + level / 2) * x.std(ddof=1) / math.sqrt(n))
    return mean, mean - half, mean + half, n


def paired_difference(a: np.ndarray, b: np.ndarray, level: float = 0.95
                      ) -> tuple[float, float, float, int, float]:
    """Paired-t on b − a (common random numbers): (diff, ci_low, ci_high, n, p_value).

    Pairs with a missing value on either side are dropped. Identical samples give a zero
    difference with a zero-width interval and p = 1.
    """
    d = np.asarray(b, dtype=float) - np.asarray(a, dtype=float)
    d = d[np.isfinite(d)]
    n = len(d)
    if n == 0:
        return math.nan, math.nan, math.nan, 0, math.nan
    mean = float(d.mean())
    if n < 2:
        return mean, math.nan, math.nan, n, math.nan
    sd = float(d.std(ddof=1))
    if sd == 0.0:
        return mean, mean, mean, n, 1.0 if mean == 0.0 else 0.0
    se = sd / math.sqrt(n)
    half = float(special.stdtrit(n - 1, 0.5 + level / 2) * se)
    p = float(2 * special.stdtr(n - 1, -abs(mean / se)))
    return mean, mean - half, mean + half, n, p


@dataclass(frozen=True)
class Truncation:
    """A warm-up chosen by MSER on daily means; ``found`` is False at the search boundary."""

    days: int
    found: bool
    batch: int
    note: str


def mser(series: np.ndarray, batch: int = 5) -> Truncation:
    """MSER-``batch`` truncation of a series of daily means (White 1997; White et al. 2000).

    Chooses d minimising the squared standard error of the mean of what remains, searching
    the first half of the batches; a minimum at the edge of the search means no warm-up
    could be found (e.g. a backlog that keeps growing).
    """
    y = np.asarray(series, dtype=float)
    b = len(y) // batch
    if b < 4:
        return Truncation(0, False, batch, f"too few days ({len(y)}) for MSER-{batch}")
    z = y[: b * batch].reshape(b, batch).mean(axis=1)
    limit = b // 2
    best, best_d = math.inf, 0
    for d in range(limit + 1):
        rest = z[d:]
        value = float(((rest - rest.mean()) ** 2).sum() / len(rest) ** 2)
        if value < best - 1e-15 * max(1.0, abs(best) if math.isfinite(best) else 1.0):
            best, best_d = value, d
    if best_d == limit:
        return Truncation(best_d * batch, False, batch,
                          f"MSER-{batch} minimum at the edge of the search: no warm-up found")
    return Truncation(best_d * batch, True, batch, f"MSER-{batch} on daily mean trucks in system")


def growth_per_day(daily: list[np.ndarray]) -> tuple[float, float, float]:
    """Mean OLS slope (trucks/day) of daily means across replications, with its t-interval."""
    slopes = []
    for y in daily:
        y = np.asarray(y, dtype=float)
        if len(y) >= 3:
            x = np.arange(len(y), dtype=float)
            slopes.append(float(np.polyfit(x, y, 1)[0]))
    mean, lo, hi, _ = t_interval(np.array(slopes))
    return mean, lo, hi
