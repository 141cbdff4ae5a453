"""Swept parameters in words: a dotted path such as ``yards.hn_export_yard.slots`` becomes
'Hữu Nghị export yard — slots', ``lanes.x.export.capacity_per_hour`` 'X, export — admission
(trucks/h)': the item's display name, what the field is and its unit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gatesim.i18n import _
from gatesim.output.plots.names import DIRECTIONS, N_, Labels, direction, item
from gatesim.scenario.labels import LABELLED

FIELDS = {
    "slots": (N_("slots"), ""), "servers": (N_("servers"), ""),
    "capacity_per_hour": (N_("admission"), N_("trucks/h")),
    "rate_per_day": (N_("arrivals"), N_("trucks/day")),
    "time_budget_h": (N_("time budget"), N_("h")), "horizon_days": (N_("horizon"), N_("days")),
    "warmup_days": (N_("warm-up"), N_("days")), "clock_offset_h": (N_("clock offset"), N_("h")),
    "cap_clock_offset_h": (N_("clock of the daily cap"), N_("h")),
    "cv": (N_("day-to-day coefficient of variation"), ""),
    "autocorrelation": (N_("autocorrelation"), ""),
    "fraction": (N_("share of capacity lost"), ""), "count": (N_("trucks"), ""),
    "p": (N_("share"), ""),
    "cost_per_slot_year": (N_("cost per slot and year"), "$"),
    "waiting_cost_per_day": (N_("waiting cost per truck-day"), "$"),
}
"""Field → (what it is, its unit; '' when the word is the unit, '$' for the currency)."""
DISTRIBUTIONS = {"service": N_("service time"), "crossing_time": N_("crossing time"),
                 "interarrival": N_("time between arrivals"), "duration": N_("duration")}
PARTS = {"mean": N_("mean"), "low": N_("low"), "high": N_("high"), "mode": N_("mode"),
         "value": N_("value"), "cv": N_("coefficient of variation")}
STOPPAGE_RATE = (N_("stoppages per day"), "")


def _get(doc: Any, keys: list[str]) -> Any:
    for k in keys:
        if not isinstance(doc, Mapping) or k not in doc:
            return None
        doc = doc[k]
    return doc


def _field(section: str, rest: list[str], doc: Mapping[str, Any], where: list[str],
           names: Labels) -> tuple[str, str]:
    """(what the field is, its unit) for the path's tail ``rest`` below ``where``."""
    if len(rest) == 2 and rest[0] in DISTRIBUTIONS:
        law = _get(doc, [*where, rest[0]]) or {}
        unit = "" if rest[1] == "cv" else str(law.get("unit", "h"))
        return f"{_(DISTRIBUTIONS[rest[0]])}, {_(PARTS.get(rest[1], rest[1]))}", unit
    if len(rest) == 2 and rest[0] == "daily_cap":
        cargo = _("all cargo") if rest[1] == "total" else item(rest[1], names)
        return _("daily cap, %(cargo)s") % {"cargo": cargo}, _("trucks/day")
    if len(rest) == 2 and rest[0] == "attributes":
        return _("share of trucks %(attribute)s") % {"attribute": item(rest[1], names)}, ""
    if len(rest) == 2 and rest[0] == "weekday_multipliers":
        return _("multiplier on %(day)s") % {"day": rest[1]}, ""
    if len(rest) == 1 and (rest[0] in FIELDS or section == "stoppages"):
        what, unit = (STOPPAGE_RATE if section == "stoppages" and rest[0] == "rate_per_day"
                      else FIELDS.get(rest[0], (rest[0].replace("_", " "), "")))
        if unit == "$":
            return _(what), str(doc.get("currency", "VND"))
        return _(what), _(unit) if unit else ""
    return ".".join(rest).replace("_", " "), ""


def parameter(path: str, doc: Mapping[str, Any] | None = None,
              names: Labels | None = None) -> str:
    """A swept path in words with its unit, e.g. 'Hữu Nghị export yard — slots';
    ``doc`` is the resolved scenario (for distribution units and the currency)."""
    doc, names = doc or {}, names or {}
    parts = path.split(".")
    if parts[0] == "attributes" and len(parts) == 2:
        return _("%(item)s — %(field)s") % {"item": item(parts[1], names),
                                           "field": _("share of trucks")}
    if parts[0] == "clock" and len(parts) == 2:
        what, unit = _field("clock", parts[1:], doc, ["clock"], names)
        return f"{what} ({unit})" if unit else what
    if parts[0] not in LABELLED or len(parts) < 3:
        return path
    label, where, rest = item(parts[1], names), parts[:2], parts[2:]
    if parts[0] == "lanes" and rest[0] in DIRECTIONS and len(rest) > 1:
        label = _("%(lane)s, %(direction)s") % {"lane": label,
                                               "direction": direction(rest[0], names)}
        where, rest = [*where, rest[0]], rest[1:]
    what, unit = _field(parts[0], rest, doc, where, names)
    field = f"{what} ({unit})" if unit else what
    return _("%(item)s — %(field)s") % {"item": label, "field": field}


def uncertain(name: str, doc: Mapping[str, Any] | None = None,
              names: Labels | None = None) -> str:
    """An uncertain parameter in words: its label, else its dotted path in words (an
    unnamed range), else its name."""
    names = names or {}
    if name in names:
        return item(name, names)
    return parameter(name, doc, names) if "." in name else name
