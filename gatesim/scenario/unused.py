"""Names a scenario defines but never uses, and names an override would invent.

A yard, stage, lane or calendar that nothing references is almost always a typo elsewhere
(``stages.x.yard: hn_exprt_yard`` beside ``yards.hn_export_yard``) or a leftover of an edit:
its capacity would be silently ignored. ``--set``/``--param`` may change what exists but not
create a new yard, stage, lane, calendar, stream, route or cargo class: a misspelt path would
otherwise add an unused thing and answer another question.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from gatesim.scenario.schema import ChooseStep, LaneStep, Scenario, StageStep, Step

NAMED = {"yards": "yard", "stages": "stage", "lanes": "lane", "calendars": "calendar",
         "arrivals": "arrival stream", "routes": "route", "cargo": "cargo class",
         "factors": "factor", "stoppages": "stoppage", "acceptances": "acceptance"}
"""Mappings whose keys name things of the scenario (by section → what one is called)."""


def article(noun: str) -> str:
    """'a yard', 'an acceptance', 'an arrival stream'."""
    return ("an " if noun[0] in "aeiou" else "a ") + noun


def did_you_mean(word: str, names: list[str]) -> str:
    """'did you mean 'x'? ' for the closest name, or nothing when none is close."""
    close = difflib.get_close_matches(word, names, n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}? " if close else ""


def listing(section: str, names: list[str]) -> str:
    shown = ", ".join(names[:10]) + (" …" if len(names) > 10 else "")
    return f"({section}: {shown or 'none'})"


def invented(section: str, name: str, existing: list[str]) -> str | None:
    """Why an override may not name ``section.name``, or None when it exists."""
    if section not in NAMED or name in existing:
        return None
    return (f"an existing {NAMED[section]}: there is no {NAMED[section]} named {name!r}; "
            f"{did_you_mean(name, existing)}{listing(section, existing)}")


def _steps(steps: list[Step]) -> Iterator[Step]:
    for step in steps:
        yield step
        if isinstance(step, ChooseStep):
            for option in step.options.values():
                yield from _steps(option.steps)


def unused(s: Scenario) -> tuple[str, object, str] | None:
    """The first yard, stage, lane or calendar nothing uses, as (field path, value,
    expectation), or None."""
    steps = [step for r in s.routes.values() for step in _steps(r.steps)]
    used_stages = {st.stage for st in steps if isinstance(st, StageStep)}
    used_lanes = {lane for st in steps if isinstance(st, LaneStep)
                  for lane in ([st.lane] if isinstance(st.lane, str) else st.lane)}
    sides = [side for lane in s.lanes.values() for d in ("export", "import")
             if (side := lane.side(d)) is not None]
    used_yards = {st.yard for st in s.stages.values()} | {side.yard for side in sides} | {
        init.at for init in s.initial_state}
    used_calendars = {st.calendar for st in s.stages.values()} | {
        side.calendar for side in sides} | {a.calendar for a in s.acceptances.values()}
    used_acceptances = {side.acceptance for side in sides}
    refs = [stage.servers_factor for stage in s.stages.values()] + [
        a.daily_factor for a in s.arrivals.values()] + [
        getattr(x, k) for x in [*sides, *s.acceptances.values()]
        for k in ("rate_factor", "cap_factor")]
    used_factors = {r for r in refs if isinstance(r, str)}
    checks = (("stages", s.stages, used_stages, "a route step uses"),
              ("lanes", s.lanes, used_lanes, "a route step uses"),
              ("yards", s.yards, used_yards, "a stage, a lane side or initial_state waits in"),
              ("calendars", s.calendars, used_calendars,
               "a stage, a lane side or an acceptance follows"),
              ("factors", s.factors, used_factors,
               "a stage, a lane side, an acceptance or a stream names"),
              ("acceptances", s.acceptances, used_acceptances, "a lane side names"))
    for section, defined, used, by in checks:
        for name in defined:
            if name not in used:
                hint = did_you_mean(name, sorted(x for x in used - set(defined) if x))
                return (f"{section}.{name}", name,
                        f"{article(NAMED[section])} that {by}; nothing uses it ({hint}remove it, "
                        "or check the spelling where it should be used)")
    return None
