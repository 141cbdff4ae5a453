"""The scenario: a validated, immutable description of the border system (no engine code).

Named things (calendars, yards, stages, lanes, arrival streams, routes) are mappings keyed by
name, so ``--set yards.front.slots=300`` reads naturally and names cannot collide. Time is in
hours from ``clock.start`` (local Hanoi time); service times carry their own unit.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import (
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)

from gatesim.fields import (
    MAX_HOURS,
    MAX_RATE_PER_DAY,
    ClockTime,
    Cost,
    Count,
    Float,
    Hours,
    Multiplier,
    Name,
    NonNegFloat,
    PosFloat,
    Probability,
    Servers,
    Weight,
    clock_hours,
)
from gatesim.scenario.base import AttrCondition, Direction, Label, Strict
from gatesim.scenario.distributions import Distribution
from gatesim.scenario.uncertain import Parameter
from gatesim.scenario.variability import (
    Acceptance,
    Capacity,
    DailyCap,
    Factor,
    FactorRef,
    Priority,
    Stoppage,
    check_cap_factor,
)

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TURN_AWAY = "turn_away"
MIN_GAP_H = 24 / MAX_RATE_PER_DAY
"""The shortest mean inter-arrival time (0.0864 s): a stream's law may bring no more trucks a
day than ``rate_per_day`` may."""

class Clock(Strict):
    start: dt.datetime = Field(description="local (Hanoi) date and hour at t = 0")
    horizon_days: PosFloat = Field(le=MAX_HOURS // 24)
    warmup_days: NonNegFloat | Literal["auto"] = Field(
        0.0, description="days left out of the statistics, or 'auto' (MSER-5 on daily means)")

    @field_validator("start")
    @classmethod
    def _local_on_the_hour(cls, v: dt.datetime) -> dt.datetime:
        if v.tzinfo is not None:
            raise ValueError("a local (Hanoi) date and time without a UTC offset")
        if not 1900 <= v.year <= 2200:
            raise ValueError("a date between the years 1900 and 2200")
        if (v.minute, v.second, v.microsecond) != (0, 0, 0):
            raise ValueError("a time on the hour, e.g. 2024-08-01 00:00")
        return v

    @field_validator("warmup_days")
    @classmethod
    def _warmup_inside(cls, v: float | str, info: ValidationInfo) -> float | str:
        horizon = info.data.get("horizon_days")
        if v != "auto" and horizon is not None and v >= horizon:
            raise ValueError(f"fewer days than horizon_days ({horizon:g}), or 'auto'")
        return v


class Window(Strict):
    """An opening window on one day of the calendar's own clock; ``close`` may be 24:00."""

    open: ClockTime
    close: ClockTime
    servers: Servers | None = Field(None, description="servers on duty (default: the pool's)")
    only: AttrCondition = Field(default_factory=dict, description="open only to such trucks")

    @field_validator("open")
    @classmethod
    def _opens_before_midnight(cls, v: str) -> str:
        if v == "24:00":
            raise ValueError("an opening time from 00:00 to 23:59 (24:00 only as a close)")
        return v

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if clock_hours(self.close) <= clock_hours(self.open):
            raise ValueError("close must be after open (split a night window in two)")
        return self

    @property
    def hours(self) -> tuple[float, float]:
        return clock_hours(self.open), clock_hours(self.close)


MAX_WINDOWS = 48
"""Opening windows a day may have (every half hour), which bounds the calendar's size."""


class WeeklyRule(Strict):
    days: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS), min_length=1)
    windows: list[Window] = Field(max_length=MAX_WINDOWS)


class DateOverride(Strict):
    """Replaces the weekly windows on every date in [start, end]; no windows means closed."""

    start: dt.date
    end: dt.date
    windows: list[Window] = Field(default_factory=list, max_length=MAX_WINDOWS)
    note: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> DateOverride:
        if self.end < self.start:
            raise ValueError("end must not be before start")
        return self


class Calendar(Strict):
    weekly: list[WeeklyRule] = Field(min_length=1, max_length=14)
    overrides: list[DateOverride] = Field(default_factory=list, max_length=1000)
    clock_offset_h: Float = Field(0.0, ge=-12, le=14, description="hours ahead of Hanoi")
    label: Label | None = Field(None, description="display name per language (vi, en)")


class Yard(Strict):
    slots: Count | None = Field(None, description="parking places; omitted = unlimited")
    cost_per_slot_year: Cost = Field(0.0, description="yearly cost of one slot")
    overflow: str | None = Field(
        None, description="a road where arrivals wait when full, or 'turn_away'"
    )
    label: Label | None = Field(None, description="display name per language (vi, en)")


class Stage(Strict):
    servers: Servers
    service: Distribution
    yard: str = Field(description="the yard or road where trucks wait for this stage")
    calendar: str | None = None
    servers_factor: FactorRef | None = Field(
        None, description="day-to-day factor on the servers on duty (rounded ⌊s·F + U⌋)")
    priority: Priority = Field(default_factory=list)
    label: Label | None = Field(None, description="display name per language (vi, en)")


class LaneSide(Strict):
    """One direction of a lane: where trucks wait for it, how fast it admits, when it runs.

    Its admission is its own (``capacity_per_hour``, ``daily_cap``) or an ``acceptance``
    shared with other lanes, never both."""

    yard: str
    capacity_per_hour: Capacity | None = None
    calendar: str | None = None
    daily_cap: DailyCap = Field(
        default_factory=dict, description="other side's acceptance per day by cargo, or 'total'"
    )
    acceptance: str | None = Field(None, description="an acceptance shared with other lanes")
    rate_factor: FactorRef | None = None
    cap_factor: FactorRef | None = None
    priority: Priority = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_admission(self) -> LaneSide:
        own = [k for k in ("capacity_per_hour", "rate_factor", "cap_factor")
               if getattr(self, k) is not None] + (["daily_cap"] if self.daily_cap else []) + (
            ["priority"] if self.priority else [])
        if self.acceptance is not None and own:
            raise ValueError(f"{own[0]} belongs to the shared acceptance "
                             f"{self.acceptance!r}: give it there, not on the lane side")
        if self.acceptance is None and self.capacity_per_hour is None:
            raise ValueError("give capacity_per_hour, or an acceptance shared with other lanes")
        return self

    @field_validator("cap_factor")
    @classmethod
    def _cap_to_vary(cls, v: FactorRef | None, info: ValidationInfo) -> FactorRef | None:
        return check_cap_factor(v, info)


class Lane(Strict):
    model_config = ConfigDict(populate_by_name=True)
    crossing_time: Distribution
    export: LaneSide | None = None
    import_: LaneSide | None = Field(None, alias="import")
    eligible: AttrCondition = Field(default_factory=dict)
    cap_clock_offset_h: Float = Field(0.0, ge=-12, le=14, description="the cap's day boundary")
    label: Label | None = Field(None, description="display name per language (vi, en)")

    @model_validator(mode="after")
    def _some_side(self) -> Lane:
        if self.export is None and self.import_ is None:
            raise ValueError("a lane needs an 'export' or an 'import' side")
        return self

    def side(self, direction: str) -> LaneSide | None:
        return self.export if direction == "export" else self.import_


class DateMultiplier(Strict):
    start: dt.date
    end: dt.date
    factor: Multiplier
    note: str = ""


class ArrivalStream(Strict):
    direction: Direction
    cargo: Name
    site: str | dict[Name, Probability] | None = None
    rate_per_day: PosFloat | None = Field(None, le=MAX_RATE_PER_DAY)
    hourly_profile: list[Weight] | None = Field(None, min_length=24, max_length=24)
    weekday_multipliers: dict[Weekday, Multiplier] = Field(default_factory=dict)
    date_multipliers: list[DateMultiplier] = Field(default_factory=list, max_length=1000)
    interarrival: Distribution | None = None
    replay: str | None = Field(
        None, description="a CSV file of trucks to replay (path relative to the scenario file)")
    daily_factor: FactorRef | None = Field(
        None, description="day-to-day factor on the rate (mean 1), beside the multipliers")
    attributes: dict[Name, Probability] = Field(default_factory=dict)
    label: Label | None = Field(None, description="display name per language (vi, en)")

    @field_validator("interarrival")
    @classmethod
    def _not_too_fast(cls, v: Distribution | None) -> Distribution | None:
        if v is not None and not v.mean_h() >= MIN_GAP_H:
            raise ValueError(f"a mean of at least {MIN_GAP_H * 3600:g} s (at most "
                             f"{MAX_RATE_PER_DAY:,} trucks a day, as rate_per_day may bring)")
        return v

    @model_validator(mode="after")
    def _one_law(self) -> ArrivalStream:
        laws = [k for k in ("rate_per_day", "interarrival", "replay") if getattr(self, k)]
        if len(laws) != 1:
            raise ValueError("give exactly one of rate_per_day, interarrival or replay")
        shaped = [k for k in ("hourly_profile", "weekday_multipliers", "date_multipliers")
                  if getattr(self, k)]
        if self.replay is not None and shaped:
            raise ValueError(f"a replayed stream brings its file's trucks as logged: no "
                             f"{shaped[0]}")
        if self.replay is not None and isinstance(self.site, dict):
            raise ValueError("a replayed stream names one site, or gives each truck's in a "
                             "'site' column of its file")
        if self.daily_factor is not None and self.rate_per_day is None:
            raise ValueError("daily_factor scales rate_per_day: give rate_per_day")
        if self.hourly_profile is not None and sum(self.hourly_profile) <= 0:
            raise ValueError("hourly_profile must have a positive hour")
        if isinstance(self.site, dict) and abs(sum(self.site.values()) - 1) > 1e-9:
            raise ValueError("site shares must sum to 1")
        return self


class StageStep(Strict):
    stage: str
    when: AttrCondition = Field(default_factory=dict)


class LaneStep(Strict):
    lane: str | Annotated[list[str], Field(min_length=1)] = Field(
        description="a lane, or several: the eligible one with the shortest queue is taken")
    when: AttrCondition = Field(default_factory=dict)


class ExitStep(Strict):
    """The truck leaves here without finishing its route (e.g. sent back by the other side)."""

    exit: Literal["turned_back"]
    when: AttrCondition = Field(default_factory=dict)


class Option(Strict):
    p: Probability
    steps: list[Step] = Field(default_factory=list)


class ChooseStep(Strict):
    choose: Name = Field(description="the branch's name; it names its random stream")
    options: dict[Name, Option] = Field(min_length=1)
    when: AttrCondition = Field(default_factory=dict)

    @field_validator("options")
    @classmethod
    def _shares(cls, v: dict[str, Option]) -> dict[str, Option]:
        if abs(sum(o.p for o in v.values()) - 1) > 1e-9:
            raise ValueError("option shares p must sum to 1")
        return v


def _step_kind(value: object) -> str | None:
    keys = value if isinstance(value, dict) else vars(value) if hasattr(value, "when") else {}
    return next((k for k in ("stage", "lane", "choose", "exit") if k in keys), None)


Step = Annotated[
    Annotated[StageStep, Tag("stage")]
    | Annotated[LaneStep, Tag("lane")]
    | Annotated[ChooseStep, Tag("choose")]
    | Annotated[ExitStep, Tag("exit")],
    Discriminator(
        _step_kind,
        custom_error_type="step",
        custom_error_message="a step with one of the keys stage, lane, choose or exit",
    ),
]


class Route(Strict):
    direction: Direction
    cargo: Name
    site: str | None = None
    steps: list[Step] = Field(min_length=1)
    label: Label | None = Field(None, description="display name per language (vi, en)")


class CargoClass(Strict):
    """What a cargo class costs and how long it keeps."""

    time_budget_h: Hours | None = Field(
        None, description="hours from arrival before the cargo loses value (perishability)")
    waiting_cost_per_day: Cost = Field(
        0.0, description="cost of one truck-day in the system (parking, reefer fuel…)")
    label: Label | None = Field(None, description="display name per language (vi, en)")


class InitialTrucks(Strict):
    """Trucks already waiting at t = 0 (queues carry overnight), as trucks of a stream."""

    stream: str
    count: Count
    at: str = Field(description="a road, or the yard of the route's first step")


class Scenario(Strict):
    name: Name
    label: Label | None = Field(None, description="the scenario's display name per language "
                                "(report headings, plot legends)")
    description: str = ""
    clock: Clock
    calendars: dict[Name, Calendar] = Field(default_factory=dict)
    attributes: dict[Name, Probability] = Field(
        default_factory=dict, description="default shares; a stream may override"
    )
    cargo: dict[Name, CargoClass] = Field(default_factory=dict)
    currency: str = "VND"
    roads: list[Name] = Field(default_factory=lambda: ["road"], min_length=1)
    yards: dict[Name, Yard] = Field(default_factory=dict)
    stages: dict[Name, Stage] = Field(default_factory=dict)
    lanes: dict[Name, Lane] = Field(default_factory=dict)
    arrivals: dict[Name, ArrivalStream] = Field(min_length=1)
    routes: dict[Name, Route] = Field(min_length=1)
    initial_state: list[InitialTrucks] = Field(default_factory=list)
    factors: dict[Name, Factor] = Field(
        default_factory=dict, description="day-to-day factors shared by the resources naming them")
    stoppages: dict[Name, Stoppage] = Field(default_factory=dict)
    acceptances: dict[Name, Acceptance] = Field(
        default_factory=dict, description="the other side's intake shared by several lanes")
    uncertain: dict[str, Parameter] = Field(
        default_factory=dict, description="numbers written with a range (filled by the loader)")
    labels: dict[str, Label] = Field(default_factory=dict, description=(
        "display names per language of roads, sites, directions, attributes and uncertain "
        "parameters"))
