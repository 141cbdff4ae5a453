"""Field types shared by the scenario schema: numbers that refuse booleans, names, clock times,
and the bounds every number must keep so the engine can honour it.

YAML reads ``yes``/``on``/``true`` as booleans, which pydantic would quietly take as 1; a
planner who wrote ``servers: yes`` made a mistake, so numbers refuse them. YAML 1.1 also reads
an unquoted ``18:00`` as the sexagesimal number 1080; gatesim's YAML loader keeps such text as
text, and a clock time is only ever the text ``HH:MM``.
"""

from __future__ import annotations

import math
import re
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field

MAX_HOURS = 36_600 * 24
"""The longest duration anything may last (a distribution's mean or largest value, a time
budget): 100 years, the longest horizon (``clock.horizon_days`` ≤ 36 600). A longer time cannot
play out in any run, and the bound keeps every draw, sum and report figure finite (an
exponential of mean 1e308 days is infinite hours)."""
MAX_SERVERS = 100_000
"""Servers of one stage or window: far beyond any border post, and small enough that counts of
busy servers stay exact in the float-valued monitors."""
MAX_COUNT = 1_000_000
"""Yard slots, daily caps and trucks placed at t = 0: a million trucks is a city's worth."""
MAX_RATE_PER_DAY = 1_000_000
"""Trucks a stream may average per day, however it is given (``rate_per_day`` or the mean of
``interarrival``): 41 667 an hour, under the engine's guard of 100 000 arrivals of one stream
within a simulated hour (``engine/arrivals.py``)."""
MAX_COST = 1e15
"""A cost per slot-year or per truck-day, in any currency: 1e15 VND is 40 billion USD; sums over
a million slots and a century stay finite and exact to the unit."""


def _not_bool(value: object) -> object:
    if isinstance(value, bool):
        raise ValueError("a number, not true/false")
    return value


NoBool = BeforeValidator(_not_bool)
PosInt = Annotated[int, Field(gt=0), NoBool]
NonNegInt = Annotated[int, Field(ge=0), NoBool]
PosFloat = Annotated[float, Field(gt=0), NoBool]
NonNegFloat = Annotated[float, Field(ge=0), NoBool]
Float = Annotated[float, NoBool]
Probability = Annotated[float, Field(ge=0.0, le=1.0), NoBool]
Servers = Annotated[int, Field(gt=0, le=MAX_SERVERS), NoBool]
Count = Annotated[int, Field(gt=0, le=MAX_COUNT), NoBool]
Cost = Annotated[float, Field(ge=0, le=MAX_COST), NoBool]
Hours = Annotated[float, Field(gt=0, le=MAX_HOURS), NoBool]

MULTIPLIER_MAX = 1000.0
"""A weekday or date-range multiplier of demand: x1000 turns a quiet border into a metropolis;
larger factors (several may overlap and multiply) would overflow the hourly rate."""
Multiplier = Annotated[float, Field(ge=0, le=MULTIPLIER_MAX), NoBool]

WEIGHT_MIN, WEIGHT_MAX = 1e-9, 1e9
"""An hour's weight in ``hourly_profile`` is 0 or within [1e-9, 1e9]: the profile is relative
(shares or truck counts), 18 orders of magnitude are far more than a day's rhythm needs, and the
bounds keep every weight, the sum and the mean normal floats, so normalising loses none of them
(24 times 1e308 sums to infinity and gave 0 trucks; a subnormal weight divides by a mean of 0)."""


def _weight(value: float) -> float:
    if value != 0 and not WEIGHT_MIN <= value <= WEIGHT_MAX:
        raise ValueError(f"0, or a weight between {WEIGHT_MIN:g} and {WEIGHT_MAX:g}")
    return value


Weight = Annotated[float, Field(ge=0), NoBool, AfterValidator(_weight)]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")


def _name(value: str) -> str:
    if not _NAME.match(value) or len(value) > 100:
        raise ValueError("a name of letters, digits, '_' or '-' that starts with a letter or '_'")
    return value


Name = Annotated[str, AfterValidator(_name)]

_HHMM = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$")
CLOCK_EXPECTED = ("a clock time HH:MM between 00:00 and 24:00, e.g. '07:30', or hours after "
                  "midnight from 0 to 24, e.g. 19.5")


def _clock_text(value: object) -> object:
    if (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value) and 0 <= value <= 24):
        minutes = round(value * 60)
        return f"{minutes // 60:02d}:{minutes % 60:02d}"
    if not isinstance(value, str) or not _HHMM.match(value):
        raise ValueError(CLOCK_EXPECTED)
    return value


ClockTime = Annotated[str, BeforeValidator(_clock_text)]
"""``HH:MM`` from 00:00 to 24:00 exactly as written (``7:5``, ``18:00:00`` and ``25:00`` are
refused; a window refuses 24:00 as its opening), or a number of hours from 0 to 24, kept as the
nearest minute (19.5 is 19:30): a number can carry a range, so calibration and sensitivity can
move an opening or closing hour."""


def clock_hours(text: str) -> float:
    """Hours after midnight of a validated clock time."""
    return int(text[:2]) + int(text[3:]) / 60
