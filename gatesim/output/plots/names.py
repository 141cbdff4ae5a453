"""What a plot calls things: metrics, yards, roads, lanes and stages by their display names in
the current language (``label:`` in the scenario), and where each station belongs.

Every word goes through ``gatesim.i18n``; a scenario item is shown by its label in the current
language, else its English label, else its code name.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from gatesim.i18n import _, display, number
from gatesim.output.reader import NAMES
from gatesim.output.words import FIGURES, STATS
from gatesim.scenario.labels import LABELLED, labels_of
from gatesim.scenario.schema import ChooseStep, LaneStep, Scenario, StageStep, Step

Labels = Mapping[str, Mapping[str, str]]


def N_(message: str) -> str:
    """Mark a msgid for the catalog; it is translated where it is shown."""
    return message


DIRECTIONS = (N_("export"), N_("import"))


def labels(s: Scenario) -> Labels:
    """The display names of a scenario's items (``gatesim.scenario.labels.labels_of``)."""
    return labels_of(s)


def doc_labels(doc: Mapping[str, Any] | None) -> Labels:
    """The display names in a resolved scenario as JSON (a sweep's or an analysis' record),
    as ``labels_of`` gives them for the validated scenario."""
    doc = doc or {}
    out: dict[str, dict[str, str]] = {k: dict(v) for k, v in (doc.get("labels") or {}).items()}
    for section in LABELLED:
        for name, entry in (doc.get(section) or {}).items():
            if isinstance(entry, Mapping) and entry.get("label"):
                out[name] = {**out.get(name, {}), **entry["label"]}
    return out


def metric_name(metric: str) -> str:
    """'trucks in the system' in the current language (the report's words)."""
    name = FIGURES.get(metric, NAMES.get(metric, (metric.replace("_", " "), "")))[0]
    return _(name)


def metric_unit(metric: str) -> str:
    """'trucks', 'h' … in the current language ('' when the metric has none)."""
    unit = FIGURES.get(metric, NAMES.get(metric, ("", "")))[1]
    return _(unit) if unit else ""


def stat_name(stat: str) -> str:
    """'95th percentile' in the current language."""
    return _(STATS.get(stat, stat))


def direction(d: str, names: Labels) -> str:
    """'export' or 'import': the scenario's label, else the word in the current language."""
    return display(d, names) if d in names else _(d)


def item(name: str, names: Labels) -> str:
    """A yard, stage, lane, road, site or scenario by its display name."""
    return display(name, names)


def truck_class(cls: str, names: Labels) -> str:
    """A truck class 'export fresh' (direction, cargo) as 'Export, fresh fruit' by labels."""
    d, _space, cargo = cls.partition(" ")
    return _("%(direction)s, %(cargo)s") % {"direction": direction(d, names),
                                           "cargo": item(cargo, names)}


def station(scope: str, names: Labels) -> str:
    """A stage, or a lane side ``lane.direction`` as 'Lane, export'."""
    lane, _dot, side = scope.partition(".")
    if side in DIRECTIONS:
        return _("%(lane)s, %(direction)s") % {"lane": item(lane, names),
                                              "direction": direction(side, names)}
    return item(scope, names)


def road(scope: str, names: Labels) -> str:
    """A road by its display name; 'all roads' for the system scope."""
    return _("all roads") if scope == "system" else item(scope, names)


def slots(n: int | None) -> str:
    """'400 slots' or 'no limit'."""
    return _("no limit") if n is None else _("%(n)s slots") % {"n": number(n, 0)}


def yard(s: Scenario, name: str, names: Labels) -> str:
    """'Hữu Nghị export yard (400 slots)'."""
    size = s.yards[name].slots if name in s.yards else None
    return _("%(yard)s (%(slots)s)") % {"yard": item(name, names), "slots": slots(size)}


def scope(s: Scenario, metric: str, scope_: str, names: Labels) -> str:
    """The line label of one scope of a level metric."""
    if metric == "yard_occupancy":
        return yard(s, scope_, names)
    if metric == "road_queue":
        return road(scope_, names)
    return metric_name(metric)


def _stations(steps: list[Step], direction_: str) -> Iterator[str]:
    for step in steps:
        if isinstance(step, StageStep):
            yield step.stage
        elif isinstance(step, LaneStep):
            for lane in [step.lane] if isinstance(step.lane, str) else step.lane:
                yield f"{lane}.{direction_}"
        elif isinstance(step, ChooseStep):
            for option in step.options.values():
                yield from _stations(option.steps, direction_)


def station_groups(s: Scenario) -> dict[tuple[str | None, str], list[str]]:
    """The stations (stages and lane sides) by (site, direction) of the routes that first
    visit them, in route order: the panels of a plot with many stations."""
    groups: dict[tuple[str | None, str], list[str]] = {}
    seen: set[str] = set()
    for route in s.routes.values():
        for name in _stations(route.steps, route.direction):
            if name not in seen:
                seen.add(name)
                groups.setdefault((route.site, route.direction), []).append(name)
    return groups


def group_name(site: str | None, direction_: str, names: Labels) -> str:
    """'Hữu Nghị, export' (or 'export' without a site)."""
    if site is None:
        return direction(direction_, names)
    return _("%(site)s, %(direction)s") % {"site": item(site, names),
                                          "direction": direction(direction_, names)}
