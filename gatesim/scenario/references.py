"""Cross-reference checks a field-by-field schema cannot make: names that must exist."""

from __future__ import annotations

from collections.abc import Iterator

from gatesim.scenario.calendar import compile_calendar, open_hours
from gatesim.scenario.schema import TURN_AWAY, ChooseStep, LaneStep, Scenario, StageStep, Step

Problem = tuple[str, object, str]
PSEUDO_ATTRIBUTES = ("cargo", "direction", "site")


def _walk(steps: list[Step], path: str) -> Iterator[tuple[str, Step]]:
    for i, step in enumerate(steps):
        here = f"{path}[{i}]"
        yield here, step
        if isinstance(step, ChooseStep):
            for name, option in step.options.items():
                yield from _walk(option.steps, f"{here}.options.{name}.steps")


def _conditions(s: Scenario) -> Iterator[tuple[str, dict]]:
    for rname, route in s.routes.items():
        for path, step in _walk(route.steps, f"routes.{rname}.steps"):
            yield f"{path}.when", step.when
    for lname, lane in s.lanes.items():
        yield f"lanes.{lname}.eligible", lane.eligible
    for cname, cal in s.calendars.items():
        for i, rule in enumerate(cal.weekly):
            for j, w in enumerate(rule.windows):
                yield f"calendars.{cname}.weekly[{i}].windows[{j}].only", w.only
        for i, ov in enumerate(cal.overrides):
            for j, w in enumerate(ov.windows):
                yield f"calendars.{cname}.overrides[{i}].windows[{j}].only", w.only


def check_references(s: Scenario) -> Problem | None:
    """The first broken reference as (field path, value, expectation), or None."""
    return next(_problems(s), None)


def _problems(s: Scenario) -> Iterator[Problem]:
    roads, yards = set(s.roads), set(s.yards)
    places = roads | yards
    if roads & yards:
        yield "yards", sorted(roads & yards)[0], "yard names different from road names"
    horizon = s.clock.horizon_days * 24
    for name, cal in s.calendars.items():
        try:
            hours = open_hours(compile_calendar(cal, s.clock.start, horizon))
        except ValueError as exc:
            yield f"calendars.{name}", name, f"windows that do not overlap ({exc})"
            continue
        if hours <= 0:
            yield f"calendars.{name}", name, "a calendar open for some hours within the horizon"
    for name, yard in s.yards.items():
        if yard.overflow not in (None, TURN_AWAY) and yard.overflow not in roads:
            yield f"yards.{name}.overflow", yard.overflow, f"a road {sorted(roads)} or turn_away"
    for name, stage in s.stages.items():
        if stage.yard not in places:
            yield f"stages.{name}.yard", stage.yard, f"one of the yards or roads {sorted(places)}"
        if stage.calendar is not None and stage.calendar not in s.calendars:
            yield f"stages.{name}.calendar", stage.calendar, "a calendar defined under calendars"
    cargos = {a.cargo for a in s.arrivals.values()}
    for name, lane in s.lanes.items():
        for direction in ("export", "import"):
            side = lane.side(direction)
            if side is None:
                continue
            path = f"lanes.{name}.{direction}"
            if side.yard not in places:
                yield f"{path}.yard", side.yard, f"one of the yards or roads {sorted(places)}"
            if side.calendar is not None and side.calendar not in s.calendars:
                yield f"{path}.calendar", side.calendar, "a calendar defined under calendars"
            for key in side.daily_cap:
                if key != "total" and key not in cargos:
                    want = f"'total' or a cargo class {sorted(cargos)}"
                    yield f"{path}.daily_cap.{key}", key, want
    known_attrs = set(s.attributes) | {k for a in s.arrivals.values() for k in a.attributes}
    branches = {step.choose: set(step.options) for r in s.routes.values()
                for _, step in _walk(r.steps, "") if isinstance(step, ChooseStep)}
    for path, cond in _conditions(s):
        for key, value in cond.items():
            if key in branches:
                if value not in branches[key]:
                    want = f"an option of branch {key} {sorted(branches[key])}"
                    yield f"{path}.{key}", value, want
            elif key not in known_attrs and key not in PSEUDO_ATTRIBUTES:
                allowed = sorted(known_attrs | set(PSEUDO_ATTRIBUTES) | set(branches))
                yield f"{path}.{key}", key, f"an attribute or a branch name {allowed}"
    for name in s.cargo:
        if name not in cargos:
            yield f"cargo.{name}", name, f"a cargo class some stream brings {sorted(cargos)}"
    for rname, route in s.routes.items():
        for path, step in _walk(route.steps, f"routes.{rname}.steps"):
            if isinstance(step, StageStep) and step.stage not in s.stages:
                want = f"a stage defined under stages {sorted(s.stages)}"
                yield f"{path}.stage", step.stage, want
            if isinstance(step, LaneStep):
                for lane in [step.lane] if isinstance(step.lane, str) else step.lane:
                    if lane not in s.lanes:
                        yield f"{path}.lane", lane, f"a lane defined under lanes {sorted(s.lanes)}"
                    elif s.lanes[lane].side(route.direction) is None:
                        yield f"{path}.lane", lane, f"a lane with an '{route.direction}' side"
    keys = {(r.direction, r.cargo, r.site) for r in s.routes.values()}
    if len(keys) != len(s.routes):
        yield "routes", sorted(s.routes), "one route per direction, cargo and site"
    for name, stream in s.arrivals.items():
        sites = stream.site if isinstance(stream.site, dict) else {stream.site: 1.0}
        for site in sites:
            if (stream.direction, stream.cargo, site) not in keys:
                want = f"a route with direction {stream.direction}, cargo {stream.cargo}"
                yield f"arrivals.{name}", name, f"{want}, site {site}"
    for i, init in enumerate(s.initial_state):
        if init.stream not in s.arrivals:
            yield f"initial_state[{i}].stream", init.stream, "a stream defined under arrivals"
        if init.at not in places:
            yield f"initial_state[{i}].at", init.at, f"one of the yards or roads {sorted(places)}"
