"""Arrival times of one stream: a non-homogeneous Poisson process by exact inversion.

The rate is piecewise constant per local clock hour (daily rate × 24-hour profile ×
day-of-week × date-range multipliers × the day's random factor, if any), so given the day's
factor the arrivals are an exact non-homogeneous Poisson process. The next arrival solves
Λ(t') = Λ(t) + E with E ~ Exp(1) on the cumulative intensity, so no draw is wasted (unlike
thinning) and arrival *k* always uses draw *k*. A stream may instead give a plain
inter-arrival distribution (validation).
"""

from __future__ import annotations

import datetime as dt
import math
from bisect import bisect_right
from itertools import accumulate

import numpy as np

from gatesim.engine.rng import Block, stream
from gatesim.errors import GatesimError
from gatesim.scenario.schema import WEEKDAYS, ArrivalStream

INF = float("inf")
MAX_ARRIVALS_PER_HOUR = 100_000
"""Arrivals one stream may bring within a simulated hour. The schema keeps a stream's average
under 41 667 an hour (``fields.MAX_RATE_PER_DAY``); a law that still brings more -- zero gaps
from a skewed distribution, multipliers stacked on a peak hour -- would never let simulated time
advance (memory grows by ~190 MB/s), so it ends in an error instead."""


def hourly_rates(spec: ArrivalStream, start: dt.datetime, hours: int,
                 day_factor: list[float] | None = None) -> list[float]:
    """Arrival rate (trucks per hour) in each simulation hour [h, h+1) of the horizon;
    ``day_factor``: the stream's day-to-day factor, one value per local date from the start."""
    assert spec.rate_per_day is not None
    profile = spec.hourly_profile or [1.0] * 24
    mean = sum(profile) / 24
    base = spec.rate_per_day / 24
    # one factor per date (weekday, then each date multiplier in order, as listed): a thousand
    # multipliers cost a thousand passes over their own dates, not one per hour of a century
    first = start.date()
    days = (start + dt.timedelta(hours=hours)).date().toordinal() - first.toordinal() + 1
    factors = [spec.weekday_multipliers.get(WEEKDAYS[(first.weekday() + d) % 7], 1.0)
               for d in range(days)]
    for m in spec.date_multipliers:
        for d in range(max(0, (m.start - first).days), min(days, (m.end - first).days + 1)):
            factors[d] *= m.factor
    if day_factor is not None:
        factors = [f * day_factor[d] for d, f in enumerate(factors)]
    rates = []
    for h in range(hours):
        t = start + dt.timedelta(hours=h)
        rates.append(base * profile[t.hour] / mean * factors[t.toordinal() - first.toordinal()])
    return rates


class ArrivalClock:
    """Successive arrival times (hours) of one stream in one replication."""

    def __init__(
        self, spec: ArrivalStream, name: str, start: dt.datetime, horizon_h: float,
        seed: int, replication: int, day_factor: list[float] | None = None,
    ) -> None:
        gen = stream(seed, replication, f"{name}/arrivals")
        self.name = name
        self.t = 0.0
        self.horizon = horizon_h
        self._n = 0
        self._check_at = MAX_ARRIVALS_PER_HOUR
        self._block_start = 0.0
        if spec.interarrival is not None:
            self._gap = Block(gen, spec.interarrival.ppf_h)
            self._cum: list[float] | None = None
        else:
            self._rates = hourly_rates(spec, start, math.ceil(horizon_h), day_factor)
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
        self._n += 1
        if self._n == self._check_at:  # the only cost per arrival: an integer compare
            self._check_pace()
        return self.t if self.t < self.horizon else INF

    def _check_pace(self) -> None:
        """Every MAX_ARRIVALS_PER_HOUR arrivals: refuse if they all came within an hour (so
        any hour with twice as many is caught, whatever the blocks' alignment)."""
        span = self.t - self._block_start
        if span < 1.0:
            pace = (f"all at hour {self.t:.6g}" if span <= 0 else
                    f"a rate of {MAX_ARRIVALS_PER_HOUR / span:.3g} per hour from hour "
                    f"{self._block_start:.6g}")
            raise GatesimError(
                f"arrivals.{self.name}: {MAX_ARRIVALS_PER_HOUR:,} arrivals within one simulated "
                f"hour ({pace}); expected at most {MAX_ARRIVALS_PER_HOUR:,} an hour (check its "
                "interarrival law, or its rate_per_day and multipliers)")
        self._block_start = self.t
        self._check_at += MAX_ARRIVALS_PER_HOUR
