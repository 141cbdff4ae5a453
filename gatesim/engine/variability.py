"""Day-to-day variability in one replication: factor series, random rounding, stoppages.

Every source of randomness has its own named stream, created only when the scenario asks for
it, so a scenario without variability draws exactly what it drew before:

- ``factor:<name>`` — a factor under ``factors:``, one value per day shared by all that name it;
- ``factor:<path>`` — a factor written inline (``stages.cn_customs.servers_factor``…);
- ``rounding:<path>`` — the uniforms U of a resource's whole servers or caps, ⌊c·F + U⌋;
- ``stoppage:<name>`` — a stoppage group's up times and durations.

A factor's days follow each resource's own clock: day 0 is the day holding t = 0 and day *d*
uses value *d* of the series, so a longer run only adds days at the end (common random numbers
across horizons and variants).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from typing import Protocol

import numpy as np
import simpy
from scipy import special, stats
from simpy.events import URGENT

from gatesim.engine.rng import stream
from gatesim.scenario.calendar import Interval
from gatesim.scenario.variability import DatedStoppage, Factor, FactorRef, Stoppage


def factor_series(spec: Factor, gen: np.random.Generator, days: int) -> np.ndarray:
    """``days`` values with mean 1: a standard normal AR(1) series Z (lag-1 correlation
    ``autocorrelation``) mapped through Φ and the law's quantile function, so every day has
    exactly the law's distribution (a Gaussian copula; for the lognormal law it is AR(1) on
    the log factor itself)."""
    phi = spec.autocorrelation
    eps = gen.standard_normal(days)
    z = np.empty(days)
    z[0] = eps[0]
    scale = math.sqrt(1 - phi * phi)
    for d in range(1, days):
        z[d] = phi * z[d - 1] + scale * eps[d]
    if spec.law == "lognormal":
        assert spec.cv is not None
        sigma = math.sqrt(math.log1p(spec.cv ** 2))
        return np.exp(sigma * z - sigma * sigma / 2)
    u = special.ndtr(z)
    if spec.law == "gamma":
        assert spec.cv is not None
        k = 1 / spec.cv ** 2
        return stats.gamma.ppf(u, a=k, scale=1 / k)
    values = np.asarray(spec.values, dtype=float)
    values = values / values.mean()
    return values[np.minimum((u * len(values)).astype(int), len(values) - 1)]


class DailyFactors:
    """The factor series of one replication, by reference: a named factor is drawn once and
    shared; an inline one belongs to the path that carries it. ``drawn`` keeps every series
    (by stream name) for the replication's output."""

    def __init__(self, factors: dict[str, Factor], seed: int, replication: int,
                 days: int) -> None:
        self._factors, self._seed, self._rep, self.days = factors, seed, replication, days
        self.drawn: dict[str, list[float]] = {}

    def series(self, ref: FactorRef, path: str) -> list[float]:
        name = ref if isinstance(ref, str) else path
        got = self.drawn.get(name)
        if got is None:
            spec = self._factors[ref] if isinstance(ref, str) else ref
            gen = stream(self._seed, self._rep, f"factor:{name}")
            got = self.drawn[name] = factor_series(spec, gen, self.days).tolist()
        return got

    def uniforms(self, path: str) -> list[float]:
        """The rounding uniforms of one resource, one per day."""
        return stream(self._seed, self._rep, f"rounding:{path}").random(self.days).tolist()


def rounded(c: float, f: float, u: float) -> int:
    """Unbiased random rounding of c·F: ⌊c·F + U⌋ has mean c·F for U ~ U(0, 1)."""
    return math.floor(c * f + u)


def day_of(t: float, first_end: float) -> int:
    """The day (0 = the one holding t = 0) of time ``t`` on a clock whose day 0 ends at
    ``first_end`` (in (0, 24])."""
    return 0 if t < first_end else int((t - first_end) // 24) + 1


def day_starts(first_end: float, horizon: float) -> Iterator[tuple[int, float]]:
    """(day, start) of every day after day 0 that starts before the horizon."""
    d, t = 1, first_end
    while t < horizon:
        yield d, t
        d, t = d + 1, t + 24.0


def varied_intervals(intervals: Sequence[Interval], default: int, first_end: float,
                     factor: list[float], u: list[float], horizon: float) -> list[Interval]:
    """Calendar intervals cut at the resource's day boundaries, each piece with that day's
    servers ⌊s·F_d + U_d⌋; pieces left without a server are closed (left out)."""
    out: list[Interval] = []
    for iv in intervals:
        start, end = iv.start, min(iv.end, horizon)
        while start < end:
            d = day_of(start, first_end)
            stop = min(end, first_end + 24.0 * d)
            n = rounded(iv.servers or default, factor[d], u[d])
            if n > 0:
                last = out[-1] if out else None
                if last and last.end == start and (last.servers, last.only) == (n, iv.only):
                    out[-1] = Interval(last.start, stop, n, iv.only)
                else:
                    out.append(Interval(start, stop, n, iv.only))
            start = stop
    return out


Change = tuple[float, int, Callable[[], None]]
"""(time, order, what changes): at one time a new day (order 0) comes before a window (1)."""


def timetable(env: simpy.Environment, changes: list[Change]):
    """The process that applies a resource's timetable changes in time order.

    A change is scheduled as an urgent event, so it takes effect before any departure or
    arrival at the same instant (a window holds from its start: a truck logged at 19:00
    finds a 19:00 closing already done, whatever was scheduled first)."""
    changes.sort(key=lambda c: (c[0], c[1]))
    for t, _, change in changes:
        if t > env.now:
            at = env.event()
            at._ok, at._value = True, None  # a timeout with URGENT instead of NORMAL priority
            env.schedule(at, URGENT, t - env.now)
            yield at
        change()


class Stoppable(Protocol):
    def stop(self, fraction: float, now: float) -> None: ...

    def resume(self, fraction: float, now: float) -> None: ...


def random_stoppages(env: simpy.Environment, spec: Stoppage, targets: list[Stoppable],
                     gen: np.random.Generator):
    """Up for an exponential time of rate ``rate_per_day``, stopped for a drawn duration,
    and again, until the run ends (every target stops and resumes together)."""
    mean_up_h = 24.0 / spec.rate_per_day
    assert spec.duration is not None
    while True:
        yield env.timeout(gen.exponential(mean_up_h))
        for target in targets:
            target.stop(spec.fraction, env.now)
        yield env.timeout(float(spec.duration.ppf_h(gen.random(1))[0]))
        for target in targets:
            target.resume(spec.fraction, env.now)


def dated_stoppage(env: simpy.Environment, start_h: float, end_h: float, fraction: float,
                   targets: list[Stoppable]):
    """A known stoppage from ``start_h`` to ``end_h`` (sim hours; one begun before the run
    is in force from t = 0)."""
    if start_h > 0:
        yield env.timeout(start_h)
    for target in targets:
        target.stop(fraction, env.now)
    yield env.timeout(end_h - env.now)
    for target in targets:
        target.resume(fraction, env.now)


def start_stoppages(env: simpy.Environment, name: str, spec: Stoppage, targets: list[Stoppable],
                    seed: int, replication: int, hours: Callable[[DatedStoppage], tuple]) -> None:
    """Start the processes of one stoppage group: its random stoppages, its dated ones."""
    if spec.rate_per_day > 0:
        gen = stream(seed, replication, f"stoppage:{name}")
        env.process(random_stoppages(env, spec, targets, gen))
    for dated in spec.dated:
        start_h, end_h = hours(dated)
        if end_h > 0:
            env.process(dated_stoppage(env, start_h, end_h, spec.fraction, targets))
