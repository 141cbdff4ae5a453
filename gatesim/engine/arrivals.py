"""Arrival times of one stream: a non-homogeneous Poisson process by exact inversion.

The rate is piecewise constant per local clock hour (daily rate × 24-hour profile ×
day-of-week × date-range multipliers). The next arrival solves Λ(t') = Λ(t) + E with E ~ Exp(1)
on the cumulative intensity, so no draw is wasted (unlike thinning) and arrival *k* always
uses draw *k*. A stream may instead give a plain inter-arrival distribution (validation).
"""

from __future__ import annotations

import datetime as dt
import math
from bisect import bisect_right
from itertools import accumulate

import numpy as np

from gatesim.engine.rng import Block, stream
from gatesim.scenario.schema import WEEKDAYS, ArrivalStream

INF = float("inf")


def hourly_rates(spec: ArrivalStream, start: dt.datetime, hours: int) -> list[float]:
    """Arrival rate (trucks per hour) in each simulation hour [h, h+1) of the horizon."""
    assert spec.rate_per_day is not None
    profile = spec.hourly_profile or [1.0] * 24
    mean = sum(profile) / 24
    base = spec.rate_per_day / 24
    rates = []
    for h in range(hours):
        t = start + dt.timedelta(hours=h)
        factor = spec.weekday_multipliers.get(WEEKDAYS[t.weekday()], 1.0)
        for m in spec.date_multipliers:
            if m.start <= t.date() <= m.end:
                factor *= m.factor
        rates.append(base * profile[t.hour] / mean * factor)
    return rates


class ArrivalClock:
    """Successive arrival times (hours) of one stream in one replication."""

    def __init__(
        self, spec: ArrivalStream, name: str, start: dt.datetime, horizon_h: float,
        seed: int, replication: int,
    ) -> None:
        gen = stream(seed, replication, f"{name}/arrivals")
        self.t = 0.0
        self.horizon = horizon_h
        if spec.interarrival is not None:
            self._gap = Block(gen, spec.interarrival.ppf_h)
            self._cum: list[float] | None = None
        else:
            self._rates = hourly_rates(spec, start, math.ceil(horizon_h))
            self._cum = [0.0, *accumulate(self._rates)]
            self._gap = Block(gen, lambda u: -np.log1p(-u))

    def next(self) -> float:
        """The next arrival time, or infinity when none falls inside the horizon."""
        e = self._gap.next()
        if self._cum is None:
            self.t += e
        else:
            h = min(int(self.t), len(self._rates) - 1)
            target = self._cum[h] + (self.t - h) * self._rates[h] + e
            k = bisect_right(self._cum, target) - 1
            if k >= len(self._rates):
                self.t = INF
            else:
                rate = self._rates[k]
                self.t = k + (target - self._cum[k]) / rate if rate > 0 else float(k)
        return self.t if self.t < self.horizon else INF
