"""Display names per language: what a planner reads for a scenario item instead of its code name.

Every named item that is a mapping (a calendar, yard, stage, lane, arrival stream, route, cargo
class, factor, stoppage, acceptance) may carry ``label: {vi: "Bãi chờ xuất khẩu Hữu Nghị", en:
"Hữu Nghị export yard"}``. Things without a mapping of their own -- roads, sites, the two
directions, truck attributes and uncertain parameters -- are labelled in the scenario's
``labels:`` mapping, by name (the type ``Label`` is in base.py). A label is display text only:
the engine never reads it, so it changes no result. :func:`labels_of` gathers them all and
:func:`gatesim.i18n.display` picks the one in the current language.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from gatesim import i18n
from gatesim.scenario.schema import Scenario
from gatesim.scenario.uncertain import RangedFloat, RangedInt

DIRECTIONS = ("export", "import")
LABELLED = ("calendars", "yards", "stages", "lanes", "arrivals", "routes", "cargo", "factors",
            "stoppages", "acceptances")
"""The scenario's sections whose items carry their own ``label:``."""


def sites_of(s: Scenario) -> set[str]:
    """Every site a stream brings trucks to or a route serves."""
    out = {r.site for r in s.routes.values() if r.site is not None}
    for a in s.arrivals.values():
        if isinstance(a.site, dict):
            out |= set(a.site)
        elif a.site is not None:
            out.add(a.site)
    return out


def attributes_of(s: Scenario) -> set[str]:
    """Every yes/no attribute a truck may carry (the scenario's defaults and the streams')."""
    return set(s.attributes) | {k for a in s.arrivals.values() for k in a.attributes}


def labellable(s: Scenario) -> dict[str, str]:
    """What the scenario-level ``labels:`` may name, name → what it is: roads, sites,
    directions, truck attributes and uncertain parameters (items with a mapping carry their
    own ``label:``). A name may be two of these (an attribute written with a range is also
    a parameter): one label serves both."""
    out = dict.fromkeys(s.uncertain, "uncertain parameter")
    out.update(dict.fromkeys(attributes_of(s), "attribute"))
    out.update(dict.fromkeys(DIRECTIONS, "direction"))
    out.update(dict.fromkeys(sites_of(s), "site"))
    out.update(dict.fromkeys(s.roads, "road"))
    return out


def title_of(s: Scenario) -> str:
    """The scenario's own display name in the current language (its ``label``), else its
    name. Not through :func:`labels_of`: a site may share the scenario's name."""
    return i18n.display(s.name, {s.name: s.label} if s.label else None)


def labels_of(s: Scenario) -> dict[str, dict[str, str]]:
    """Every labelled item's name → its labels by language (``{"vi": …, "en": …}``), from the
    items' own ``label:`` and the scenario's ``labels:``; items without a label are left out.

    Names are unique within a section, not across sections: where a yard and a stage share
    a name, the section later in :data:`LABELLED` wins for each language it gives (and an
    item's own label over ``labels:``). Pass the result to :func:`gatesim.i18n.display`:
    ``display("hn_export_yard", labels_of(s))``."""
    out: dict[str, dict[str, str]] = {k: dict(v) for k, v in s.labels.items()}
    for section in LABELLED:
        for name, item in getattr(s, section).items():
            if item.label:
                out[name] = {**out.get(name, {}), **item.label}
    return out


def written_parameters(docs: Iterable[Any]) -> set[str]:
    """The names of the ranges written in scenario documents (marked, not yet collected):
    a range's ``name``, else its dotted path. Used to drop the label of a parameter that an
    override or a variant fixed (it labels nothing any more; a typo is still refused)."""
    found: set[str] = set()

    def walk(node: Any, path: list[str]) -> None:
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for k, v in items:
            here = [*path, str(k)]
            if isinstance(v, RangedFloat | RangedInt):
                found.add(v.mark.name or ".".join(here))
            elif isinstance(v, dict | list):
                walk(v, here)

    for doc in docs:
        if isinstance(doc, dict | list):
            walk(doc, [])
    return found


def _raw_names(doc: dict[str, Any]) -> set[str]:
    """Roads, sites, directions and attributes of a resolved document not yet validated."""
    roads = doc.get("roads", ["road"])
    out = set(DIRECTIONS) | ({r for r in roads if isinstance(r, str)}
                             if isinstance(roads, list) else set())
    attributes = doc.get("attributes")
    out |= set(attributes) if isinstance(attributes, dict) else set()
    for section in ("arrivals", "routes"):
        items = doc.get(section)
        for item in items.values() if isinstance(items, dict) else ():
            item = item if isinstance(item, dict) else {}
            site, attributes = item.get("site"), item.get("attributes")
            if isinstance(site, str):
                out.add(site)
            elif isinstance(site, dict):
                out |= set(site)
            out |= set(attributes) if isinstance(attributes, dict) else set()
    return out


def drop_fixed(doc: dict[str, Any], written: Collection[str]) -> None:
    """Drop from ``doc``'s ``labels:`` (in place, a new mapping) the parameters that were
    written as ranges but are no longer uncertain: a ``--set`` or a variant fixed them, and a
    label of a number that no longer varies labels nothing. Any other unknown key stays, for
    the reference check to refuse."""
    labels, uncertain = doc.get("labels"), doc.get("uncertain")
    if not isinstance(labels, dict):
        return
    keep = _raw_names(doc) | (set(uncertain) if isinstance(uncertain, dict) else set())
    gone = {k for k in labels if k in written and k not in keep}
    if gone:
        doc["labels"] = {k: v for k, v in labels.items() if k not in gone}
