"""How the border varies from day to day: random daily factors, stoppages, shared acceptance.

A *factor* is a day-level multiplier with mean 1 (the other side's intake, a customs shift's
strength, a day's demand). Written inline on a resource it is that resource's own; defined
under ``factors:`` and named by several resources, one draw per day moves them all (the other
side's slow day slows both gates). A *stoppage* switches a group of resources off (or to a
fraction of their capacity) at random or on dated events. An *acceptance* is the other side's
intake at one gate, which several lanes draw from together.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from gatesim.fields import MAX_COUNT, Float, Name, NoBool, Weight
from gatesim.scenario.base import AttrCondition, Label, Strict
from gatesim.scenario.distributions import Distribution

FACTOR_CV_MAX = 2.0
"""A day-to-day coefficient of variation above 2 means most days near 0 and a few enormous:
no border's capacity or demand swings like that, and such a law is a typo (15 for 0.15)."""
FACTOR_CV_MIN = 0.001
"""As for distributions: a smaller CV is a constant (write none), and a gamma of shape 1/cv²
beyond 10⁶ has no quantile function worth the name."""
MAX_FACTOR_VALUES = 10_000
MAX_STOPPAGES_PER_DAY = 24.0
"""Random stoppages starting per day while up: one an hour is already a resource that never
works; more is a unit mistake (per hour written as per day)."""
CAPACITY_MIN, CAPACITY_MAX = 1e-6, 100_000.0
"""Trucks a lane admits per hour: its headway 1/capacity stays within a million hours (longer
than any horizon) and above 0.036 s (a lane admitting more has no queue worth simulating)."""

Capacity = Annotated[float, Field(ge=CAPACITY_MIN, le=CAPACITY_MAX), NoBool]
DailyCap = dict[Name, Annotated[int, Field(ge=0, le=MAX_COUNT), NoBool]]
Priority = Annotated[list[AttrCondition], Field(max_length=20)]
"""Classes served first, in order: a waiting truck matching the first condition goes before
any other, and so on; trucks matching none come last (non-pre-emptive, FIFO within a class)."""


class Factor(Strict):
    """A day-to-day multiplier with mean 1, drawn once per day of its resource's clock."""

    law: Literal["gamma", "lognormal", "empirical"] = "gamma"
    cv: Annotated[float, Field(ge=FACTOR_CV_MIN, le=FACTOR_CV_MAX), NoBool] | None = Field(
        None, description="coefficient of variation (gamma or lognormal)")
    values: list[Weight] | None = Field(
        None, min_length=2, max_length=MAX_FACTOR_VALUES,
        description="observed daily values (empirical): divided by their mean, drawn uniformly")
    autocorrelation: Annotated[float, Field(ge=0, le=0.99), NoBool] = Field(
        0.0, description="lag-1 correlation of the underlying normal (AR(1); 0 = independent days)")
    note: str = ""
    label: Label | None = Field(None, description="display name per language (vi, en)")

    @model_validator(mode="after")
    def _one_law(self) -> Factor:
        if self.law == "empirical":
            if self.values is None or self.cv is not None:
                raise ValueError("an empirical factor gives values (and no cv)")
            if sum(self.values) <= 0:
                raise ValueError("values with a positive mean")
        elif self.cv is None or self.values is not None:
            raise ValueError(f"a {self.law} factor gives cv (and no values)")
        return self


FactorRef = Name | Factor
"""A factor defined under ``factors:`` (shared by everything naming it), or one of its own."""


class DatedStoppage(Strict):
    """A known stoppage replayed: from ``start`` to ``end``, local (Hanoi) time."""

    start: dt.datetime
    end: dt.datetime
    note: str = ""

    @field_validator("start", "end")
    @classmethod
    def _local(cls, v: dt.datetime) -> dt.datetime:
        if v.tzinfo is not None:
            raise ValueError("a local (Hanoi) date and time without a UTC offset")
        return v

    @model_validator(mode="after")
    def _ordered(self) -> DatedStoppage:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class Stoppage(Strict):
    """Resources that stop together: at random (rate while up, drawn duration) or on dates.

    Service in progress finishes; nothing new starts while stopped (or, for a partial
    stoppage, the resource keeps ``1 - fraction`` of its servers or admission rate)."""

    at: list[str] = Field(min_length=1, max_length=1000, description=(
        "stages, lanes (both sides), lane sides as <lane>.<direction>, or acceptances"))
    rate_per_day: Annotated[float, Field(ge=0, le=MAX_STOPPAGES_PER_DAY), NoBool] = Field(
        0.0, description="random stoppages starting per day while up")
    duration: Distribution | None = Field(None, description="how long a random stoppage lasts")
    fraction: Annotated[float, Field(gt=0, le=1), NoBool] = Field(
        1.0, description="share of capacity lost while stopped (1 = full stop)")
    dated: list[DatedStoppage] = Field(default_factory=list, max_length=1000)
    note: str = ""
    label: Label | None = Field(None, description="display name per language (vi, en)")

    @model_validator(mode="after")
    def _some_stoppage(self) -> Stoppage:
        if self.rate_per_day > 0 and self.duration is None:
            raise ValueError("random stoppages (rate_per_day > 0) need a duration")
        if self.rate_per_day == 0 and not self.dated:
            raise ValueError("give rate_per_day > 0 with a duration, or dated stoppages")
        if self.rate_per_day == 0 and self.duration is not None:
            raise ValueError("a duration is for random stoppages: give rate_per_day > 0")
        return self


class Acceptance(Strict):
    """The other side's intake at one gate, shared by the lanes that name it: one admission
    line, first come first served by ready time across them, each lane keeping its own
    eligibility, calendar and crossing time."""

    capacity_per_hour: Capacity
    daily_cap: DailyCap = Field(
        default_factory=dict, description="acceptance per day by cargo, or 'total'")
    calendar: str | None = None
    cap_clock_offset_h: Float = Field(0.0, ge=-12, le=14, description="the cap's day boundary")
    rate_factor: FactorRef | None = None
    cap_factor: FactorRef | None = None
    priority: Priority = Field(default_factory=list)
    label: Label | None = Field(None, description="display name per language (vi, en)")

    @field_validator("cap_factor")
    @classmethod
    def _cap_to_vary(cls, v: FactorRef | None, info: ValidationInfo) -> FactorRef | None:
        return check_cap_factor(v, info)


def check_cap_factor(cap_factor: FactorRef | None, info: ValidationInfo) -> FactorRef | None:
    """A cap factor needs a daily cap to vary (else it would be silently ignored)."""
    if cap_factor is not None and not info.data.get("daily_cap"):
        raise ValueError("a daily_cap beside it (cap_factor varies the daily cap; use "
                         "rate_factor for the admission rate)")
    return cap_factor
