"""What every scenario section is made of: a strict, frozen pydantic model, the shared
condition type (``when:``, ``only:``, ``eligible:``, ``priority:``) and the display label
per language (``label: {vi: …, en: …}``, see labels.py)."""

from __future__ import annotations

import unicodedata
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from gatesim.fields import Name
from gatesim.i18n import LANGUAGES

Direction = Literal["export", "import"]
AttrCondition = dict[Name, bool | str]
"""Conditions on a truck's direction, cargo, site, attributes or branch outcomes (all must hold)."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


MAX_LABEL = 200
"""Characters a label may have: a display name, not a description (a table's row heading)."""


def _language(code: str) -> str:
    if code not in LANGUAGES:
        raise ValueError(f"a language code: {' or '.join(LANGUAGES)}")
    return code


def _text(text: str) -> str:
    if not text.strip():
        raise ValueError("a non-empty display name")
    if len(text) > MAX_LABEL:
        raise ValueError(f"a display name of at most {MAX_LABEL} characters")
    if any(unicodedata.category(c).startswith("C") for c in text):
        raise ValueError("a display name on one line (no control characters)")
    return text


Language = Annotated[str, AfterValidator(_language)]
LabelText = Annotated[str, AfterValidator(_text)]
Label = Annotated[dict[Language, LabelText], Field(min_length=1)]
"""A display name per language: ``{vi: "Bãi chờ xuất khẩu Hữu Nghị", en: "…"}``."""
