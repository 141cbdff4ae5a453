"""Time-weighted level monitors (queues, yards, busy servers), salabim-style.

Tally statistics (waits, sojourns) come from the per-visit records afterwards; a level monitor
keeps only its running integral and the time spent at each integer level since the last
reset (warm-up), which is enough for the mean and exact time-weighted quantiles.
"""

from __future__ import annotations

import math


class Level:
    """An integer level that holds until its next change."""

    __slots__ = ("value", "t", "area", "hist", "peak", "t0")

    def __init__(self, value: int = 0) -> None:
        self.value = value
        self.t = self.t0 = 0.0
        self.area = 0.0
        self.hist = [0.0] * (value + 1)
        self.peak = value

    def add(self, delta: int, now: float) -> None:
        """Change the level by ``delta`` at time ``now``."""
        v = self.value
        dt = now - self.t
        if dt:
            self.area += v * dt
            try:
                self.hist[v] += dt
            except IndexError:
                self.hist.extend([0.0] * (v + 1 - len(self.hist)))
                self.hist[v] += dt
            self.t = now
        v += delta
        self.value = v
        if v > self.peak:
            self.peak = v

    def reset(self, now: float) -> None:
        """Forget the past (end of warm-up); the current level carries on."""
        self.add(0, now)
        self.t0 = now
        self.area = 0.0
        self.hist = [0.0] * len(self.hist)
        self.peak = self.value

    def close(self, now: float) -> None:
        """Account for the time up to ``now`` (end of the run)."""
        self.add(0, now)

    def integral(self, now: float) -> float:
        """Time integral of the level since the last reset, up to ``now``."""
        return self.area + self.value * (now - self.t)

    def mean(self) -> float:
        span = self.t - self.t0
        return self.area / span if span > 0 else math.nan

    def quantile(self, q: float) -> float:
        """Smallest level at which the time-weighted distribution reaches ``q``."""
        total = sum(self.hist)
        if total <= 0:
            return math.nan
        acc = 0.0
        for level, w in enumerate(self.hist):
            acc += w
            if acc >= q * total - 1e-12 * total:
                return float(level)
        return float(len(self.hist) - 1)


class Integral:
    """A level whose time integral is all that is needed (servers on duty, busy on duty)."""

    __slots__ = ("value", "t", "area", "t0")

    def __init__(self, value: int = 0) -> None:
        self.value = value
        self.t = self.t0 = 0.0
        self.area = 0.0

    def add(self, delta: int, now: float) -> None:
        self.area += self.value * (now - self.t)
        self.t = now
        self.value += delta

    def integral(self, now: float) -> float:
        return self.area + self.value * (now - self.t)

    def reset(self, now: float) -> None:
        self.add(0, now)
        self.t0 = now
        self.area = 0.0

    def close(self, now: float) -> None:
        self.add(0, now)

    def mean(self) -> float:
        span = self.t - self.t0
        return self.area / span if span > 0 else math.nan


class Tally:
    """Observations (waits, times in system): count, mean and variance (Welford), max, and a
    log-binned histogram for quantiles, in constant memory.

    Quantile method (the same in every records mode): values ≤ ``FLOOR`` h (3.6 s) count as 0;
    larger ones fall in bins whose edges grow by ``RATIO`` (1 %); a quantile is the smallest
    bin whose cumulative count reaches q·n, reported at its geometric midpoint, so its relative
    error is at most 0.5 %.
    """

    FLOOR = 1e-3
    RATIO = 1.01
    _SCALE = 1 / math.log(RATIO)

    __slots__ = ("n", "mean", "m2", "max", "zeros", "bins")

    def __init__(self) -> None:
        self.n = 0
        self.mean = self.m2 = 0.0
        self.max = -math.inf
        self.zeros = 0
        self.bins: list[int] = []

    def add(self, x: float) -> None:
        n = self.n + 1
        self.n = n
        d = x - self.mean
        self.mean += d / n
        self.m2 += d * (x - self.mean)
        if x > self.max:
            self.max = x
        if x <= self.FLOOR:
            self.zeros += 1
            return
        k = int(math.log(x / self.FLOOR) * self._SCALE)
        bins = self.bins
        if k >= len(bins):
            bins.extend([0] * (k + 1 - len(bins)))
        bins[k] += 1

    def merge(self, other: Tally) -> None:
        """Add another tally's observations (Chan et al.'s parallel update; bins summed)."""
        if other.n == 0:
            return
        n = self.n + other.n
        d = other.mean - self.mean
        self.mean += d * other.n / n
        self.m2 += other.m2 + d * d * self.n * other.n / n
        self.n = n
        self.max = max(self.max, other.max)
        self.zeros += other.zeros
        if len(other.bins) > len(self.bins):
            self.bins.extend([0] * (len(other.bins) - len(self.bins)))
        for k, c in enumerate(other.bins):
            self.bins[k] += c

    def quantile(self, q: float) -> float:
        if self.n == 0:
            return math.nan
        target = q * self.n
        acc = self.zeros
        if acc >= target:
            return 0.0
        for k, c in enumerate(self.bins):
            acc += c
            if acc >= target:
                return self.FLOOR * self.RATIO ** (k + 0.5)
        return self.max
