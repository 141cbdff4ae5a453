"""Output analysis across replications: Student-t confidence intervals (Law, ch. 9)."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats as st


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
    half = float(st.t.ppf(0.5 + level / 2, n - 1) * x.std(ddof=1) / math.sqrt(n))
    return mean, mean - half, mean + half, n
