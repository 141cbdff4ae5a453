"""What every scenario section is made of: a strict, frozen pydantic model and the shared
condition type (``when:``, ``only:``, ``eligible:``, ``priority:``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from gatesim.fields import Name

Direction = Literal["export", "import"]
AttrCondition = dict[Name, bool | str]
"""Conditions on a truck's direction, cargo, site, attributes or branch outcomes (all must hold)."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
