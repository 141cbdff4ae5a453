"""Service-time and inter-arrival distributions, turned from uniforms by inverse CDF.

Every distribution maps a block of uniforms to times in hours with one vectorised call, so a
truck's draws are fixed by its own uniforms (common random numbers survive a changed variant)
and the per-event hot path never calls numpy.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator
from scipy import special

from gatesim.fields import MAX_HOURS, NoBool, NonNegFloat, PosFloat

UNIT_HOURS = {"s": 1 / 3600, "min": 1 / 60, "h": 1.0, "d": 24.0}
CV_MIN, CV_MAX = 1e-3, 10.0
"""The coefficients of variation lognormal and gamma accept. Checked numerically (ppf of 2e7
stratified uniforms, and 3 x 1e7 draws as the engine makes them): at cv = 10 the lognormal's
sample mean is within 0.02 % (stratified) / 0.5 % (random) of the declared mean, the gamma's
within 0.01 % / 0.5 %, with 0.06 % exact zeros; at cv = 1e-3 both are exact to 1e-6 and
``gammaincinv`` (shape 1e6) inverts to a relative 2e-13. Beyond 10 the law's mean hides in draws
so rare a run never makes them (lognormal cv = 100 misses 4 % of it in a million draws) and the
gamma returns mostly exact zeros (16 % at cv = 20, 93 % at 100: as an inter-arrival law, time
stops); below 1e-3 it is a constant for any planning purpose (use ``dist: constant``), and at
1e-155 the gamma's shape 1/cv² overflows."""


MIN_HOURS = 1e-9
"""The shortest duration other than 0 (3.6 microseconds): shorter ones are no time at all to
a border, and near the bottom of the floats their squares (variance, scv) become 0."""


def _duration(value: float, info: ValidationInfo) -> float:
    """A duration in the distribution's unit: 0, or from MIN_HOURS to MAX_HOURS."""
    unit = info.data.get("unit", "h")
    if value != 0 and not MIN_HOURS <= value * UNIT_HOURS[unit] <= MAX_HOURS:
        shortest, longest = MIN_HOURS / UNIT_HOURS[unit], MAX_HOURS / UNIT_HOURS[unit]
        raise ValueError(f"a duration from {shortest:.3g} to {longest:.10g} {unit} (100 years, "
                         "the longest horizon)")
    return value


class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    unit: Literal["s", "min", "h", "d"] = "h"

    @property
    def _scale(self) -> float:
        return UNIT_HOURS[self.unit]

    def mean_h(self) -> float:
        """Mean in hours."""
        return self._mean() * self._scale

    def scv(self) -> float:
        """Squared coefficient of variation (unit-free)."""
        m = self._mean()
        return self._var() / (m * m) if m > 0 else 0.0

    def ppf_h(self, u: np.ndarray) -> np.ndarray:
        """Inverse CDF of uniforms ``u`` in [0, 1), in hours."""
        return self._ppf(np.asarray(u, dtype=float)) * self._scale

    def _mean(self) -> float:
        raise NotImplementedError

    def _var(self) -> float:
        raise NotImplementedError

    def _ppf(self, u: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class Constant(_Dist):
    dist: Literal["constant"]
    value: NonNegFloat
    _bounded = field_validator("value")(_duration)

    def _mean(self) -> float:
        return self.value

    def _var(self) -> float:
        return 0.0

    def _ppf(self, u: np.ndarray) -> np.ndarray:
        return np.full(u.shape, self.value)


class Exponential(_Dist):
    dist: Literal["exponential"]
    mean: PosFloat
    _bounded = field_validator("mean")(_duration)

    def _mean(self) -> float:
        return self.mean

    def _var(self) -> float:
        return self.mean**2

    def _ppf(self, u: np.ndarray) -> np.ndarray:
        return -self.mean * np.log1p(-u)


class _MeanCV(_Dist):
    """A distribution given by its mean and coefficient of variation (as planners state it)."""

    mean: PosFloat
    cv: Annotated[float, NoBool] = Field(description=f"between {CV_MIN:g} and {CV_MAX:g}")
    _bounded = field_validator("mean")(_duration)

    @field_validator("cv")
    @classmethod
    def _cv_honoured(cls, v: float) -> float:
        if not CV_MIN <= v <= CV_MAX:
            raise ValueError(f"a cv between {CV_MIN:g} and {CV_MAX:g} (below, use constant; "
                             "above, the draws no longer have the declared mean)")
        return v

    def _mean(self) -> float:
        return self.mean

    def _var(self) -> float:
        return (self.cv * self.mean) ** 2


class Lognormal(_MeanCV):
    dist: Literal["lognormal"]

    def _ppf(self, u: np.ndarray) -> np.ndarray:
        s2 = math.log1p(self.cv**2)
        return np.exp(math.log(self.mean) - s2 / 2 + math.sqrt(s2) * special.ndtri(u))


class Gamma(_MeanCV):
    dist: Literal["gamma"]

    def _ppf(self, u: np.ndarray) -> np.ndarray:
        shape = 1 / self.cv**2
        return special.gammaincinv(shape, u) * (self.mean / shape)


class Triangular(_Dist):
    dist: Literal["triangular"]
    low: NonNegFloat
    mode: NonNegFloat
    high: PosFloat
    _bounded = field_validator("low", "mode", "high")(_duration)

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not (self.low <= self.mode <= self.high and self.low < self.high):
            raise ValueError("triangular needs low <= mode <= high and low < high")
        return self

    def _mean(self) -> float:
        return (self.low + self.mode + self.high) / 3

    def _var(self) -> float:
        a, c, b = self.low, self.mode, self.high
        return (a * a + b * b + c * c - a * b - a * c - b * c) / 18

    def _ppf(self, u: np.ndarray) -> np.ndarray:
        a, c, b = self.low, self.mode, self.high
        fc = (c - a) / (b - a)
        left = a + np.sqrt(u * (b - a) * (c - a))
        right = b - np.sqrt((1 - u) * (b - a) * (b - c))
        return np.where(u < fc, left, right)


class Uniform(_Dist):
    dist: Literal["uniform"]
    low: NonNegFloat
    high: PosFloat
    _bounded = field_validator("low", "high")(_duration)

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.low >= self.high:
            raise ValueError("uniform needs low < high")
        return self

    def _mean(self) -> float:
        return (self.low + self.high) / 2

    def _var(self) -> float:
        return (self.high - self.low) ** 2 / 12

    def _ppf(self, u: np.ndarray) -> np.ndarray:
        return self.low + u * (self.high - self.low)


class Empirical(_Dist):
    """Equally likely observed values (e.g. timed inspections); sampled by sorted index."""

    dist: Literal["empirical"]
    values: list[NonNegFloat] = Field(min_length=1, max_length=1_000_000)

    @field_validator("values")
    @classmethod
    def _bounded(cls, v: list[float], info: ValidationInfo) -> list[float]:
        _duration(max(v), info)
        _duration(min((x for x in v if x > 0), default=0.0), info)
        return v

    def _mean(self) -> float:
        return float(np.mean(self.values))

    def _var(self) -> float:
        return float(np.var(self.values))

    def _ppf(self, u: np.ndarray) -> np.ndarray:
        v = np.sort(np.asarray(self.values, dtype=float))
        return v[np.minimum((u * len(v)).astype(np.int64), len(v) - 1)]


Distribution = Annotated[
    Constant | Exponential | Lognormal | Gamma | Triangular | Uniform | Empirical,
    Field(discriminator="dist"),
]
