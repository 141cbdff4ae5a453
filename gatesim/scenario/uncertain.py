"""Uncertain parameters: a number written with its range, ``{value: 20.3, low: 18, high: 24}``.

Any number of a scenario may carry a range beside its value (uniform between ``low`` and
``high``; an optional ``name`` labels it in tables and charts, an optional ``note`` says why);
the model runs on ``value``, and sensitivity analysis and calibration swing the number within
its range. A range written once under a YAML anchor and used through aliases (one lognormal
``&desk`` law for several stages) is ONE parameter that moves all its places together.

The loader marks each range as a :class:`Ranged` number (a float or int that remembers its
range) while the file's aliases still share objects, so every place an alias puts it holds the
same parameter; ``extends:`` and ``--set`` then work on plain values (a ``--set`` on a ranged
place fixes it there), and :func:`collect` finally turns them back into plain numbers and
lists the parameters in ``Scenario.uncertain``.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

from pydantic import Field, model_validator

from gatesim.scenario.base import Strict

RANGE_KEYS = frozenset({"value", "low", "high"})
OPTIONAL_KEYS = frozenset({"name", "note"})
_ids = itertools.count()


class Parameter(Strict):
    """One uncertain number: its value, its range, the places it sets (dotted paths)."""

    paths: list[str] = Field(min_length=1)
    value: float
    low: float
    high: float
    note: str = ""

    @model_validator(mode="after")
    def _inside(self) -> Parameter:
        if not self.low < self.high:
            raise ValueError(f"low ({self.low:g}) below high ({self.high:g})")
        if not self.low <= self.value <= self.high:
            raise ValueError(f"value ({self.value:g}) within [low, high] = "
                             f"[{self.low:g}, {self.high:g}]")
        return self


class _Mark:
    """What a Ranged number remembers: its range and which parameter it is."""

    __slots__ = ("key", "low", "high", "name", "note")

    def __init__(self, key: str, low: float, high: float, name: str | None, note: str) -> None:
        self.key, self.low, self.high, self.name, self.note = key, low, high, name, note


class RangedFloat(float):
    mark: _Mark


class RangedInt(int):
    mark: _Mark


Ranged = RangedFloat | RangedInt


def _number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def is_range(x: Any) -> bool:
    """A mapping of exactly value, low, high (and perhaps name, note), all three numbers and
    name and note text (anything else is no range: the field's schema refuses it)."""
    return (isinstance(x, dict) and RANGE_KEYS <= set(x) <= RANGE_KEYS | OPTIONAL_KEYS
            and all(_number(x[k]) for k in RANGE_KEYS)
            and all(isinstance(x.get(k, ""), str) for k in OPTIONAL_KEYS))


def _ranged(spec: dict[str, Any], origin: str) -> Ranged:
    mark = _Mark(f"{origin}#{next(_ids)}", spec["low"], spec["high"], spec.get("name"),
                 str(spec.get("note", "")))
    integer = all(isinstance(spec[k], int) for k in RANGE_KEYS)
    out: Ranged = RangedInt(spec["value"]) if integer else RangedFloat(spec["value"])
    out.mark = mark
    return out


def mark_ranges(doc: Any, origin: str, memo: dict[int, Any] | None = None) -> Any:
    """``doc`` with every range mapping replaced by a Ranged number. Mappings shared through
    YAML aliases are one object: they become one parameter (``memo`` by identity)."""
    memo = {} if memo is None else memo
    if id(doc) in memo:
        return memo[id(doc)]
    if is_range(doc):
        out: Any = _ranged(doc, origin)
    elif isinstance(doc, dict):
        out = {k: mark_ranges(v, origin, memo) for k, v in doc.items()}
    elif isinstance(doc, list):
        out = [mark_ranges(v, origin, memo) for v in doc]
    else:
        return doc
    memo[id(doc)] = out
    return out


class RangeError(ValueError):
    """A range that is no range (low ≥ high, or the value outside it), at a dotted path."""

    def __init__(self, path: str, value: str, expected: str) -> None:
        super().__init__(f"{path}: got {value}; expected {expected}")
        self.path, self.value, self.expected = path, value, expected


def _same_range(entry: dict[str, Any], v: float, m: _Mark, here: list[str]
                ) -> dict[str, Any]:
    """Two ranges with one name are one parameter when they are written alike (the same
    value, low and high; e.g. a list copied whole into a variant file), else refused."""
    if (float(v), m.low, m.high) != (entry["value"], entry["low"], entry["high"]):
        raise RangeError(".".join(here), f"{{value: {v:g}, low: {m.low:g}, high: {m.high:g}, "
                         f"name: {m.name}}}", f"the same value, low and high as the range "
                         f"named {m.name!r} at {entry['paths'][0]}, or another name")
    return entry


def collect(doc: Any) -> dict[str, dict[str, Any]]:
    """Turn every Ranged number of ``doc`` back into a plain one, in place; the parameters
    found, by name (its ``name``, else its first place), as Parameter fields. RangeError for
    a range that is none."""
    found: dict[str, dict[str, Any]] = {}
    by_key: dict[str, dict[str, Any]] = {}

    def walk(node: Any, path: list[str]) -> None:
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for k, v in list(items):
            here = [*path, str(k)]
            if isinstance(v, RangedFloat | RangedInt):
                m = v.mark
                entry = by_key.get(m.key)
                if entry is None and m.name in found:  # a range repeated under its name
                    entry = by_key[m.key] = _same_range(found[m.name], v, m, here)
                if entry is None:
                    entry = by_key[m.key] = {
                        "paths": [], "value": float(v), "low": m.low, "high": m.high,
                        "note": m.note}
                    if not m.low < m.high or not m.low <= v <= m.high:
                        raise RangeError(".".join(here), f"{{value: {v:g}, low: {m.low:g}, "
                                         f"high: {m.high:g}}}", "a range with low < high and "
                                         "the value within it")
                    found[m.name or ".".join(here)] = entry
                entry["paths"].append(".".join(here))
                node[k] = int(v) if isinstance(v, RangedInt) else float(v)
            elif isinstance(v, dict | list):
                walk(v, here)

    if isinstance(doc, dict):
        walk(doc, [])
    return found
