"""Field types shared by the scenario schema: numbers that refuse booleans, names, clock times.

YAML reads ``yes``/``on``/``true`` as booleans, which pydantic would quietly take as 1; a
planner who wrote ``servers: yes`` made a mistake, so numbers refuse them. YAML 1.1 also reads
an unquoted ``18:00`` as the sexagesimal number 1080: clock times take that back.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field


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

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")


def _name(value: str) -> str:
    if not _NAME.match(value) or len(value) > 100:
        raise ValueError("a name of letters, digits, '_' or '-' that starts with a letter or '_'")
    return value


Name = Annotated[str, AfterValidator(_name)]


def _clock_text(value: object) -> object:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 24 * 60:
        return f"{value // 60:02d}:{value % 60:02d}"  # YAML 1.1 read 18:00 as 1080
    return value


ClockTime = Annotated[str, BeforeValidator(_clock_text)]
