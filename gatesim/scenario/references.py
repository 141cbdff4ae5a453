"""Cross-reference checks a field-by-field schema cannot make: names that must exist."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import accumulate

from gatesim.errors import shown
from gatesim.scenario.calendar import is_ever_open
from gatesim.scenario.labels import LABELLED, labellable
from gatesim.scenario.resources import admission_problems, variability_problems
from gatesim.scenario.schema import (
    TURN_AWAY,
    ArrivalStream,
    ChooseStep,
    ExitStep,
    LaneStep,
    Route,
    Scenario,
    StageStep,
    Step,
)
from gatesim.scenario.unused import did_you_mean, unused

Problem = tuple[str, object, str]
PSEUDO_ATTRIBUTES = ("cargo", "direction", "site")
MAX_STATES, MAX_VISITS = 10_000, 1_000_000
"""Distinct truck states the route check follows at once, and (state, step) pairs it looks at
in all; beyond either it gives up and leaves the case to the engine's own check at run time
(a shipped scenario needs at most 4 per route and stream)."""


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
        for direction in ("export", "import"):
            side = lane.side(direction)
            for i, cond in enumerate(side.priority if side is not None else []):
                yield f"lanes.{lname}.{direction}.priority[{i}]", cond
    for name, stage in s.stages.items():
        for i, cond in enumerate(stage.priority):
            yield f"stages.{name}.priority[{i}]", cond
    for name, acc in s.acceptances.items():
        for i, cond in enumerate(acc.priority):
            yield f"acceptances.{name}.priority[{i}]", cond
    for cname, cal in s.calendars.items():
        for i, rule in enumerate(cal.weekly):
            for j, w in enumerate(rule.windows):
                yield f"calendars.{cname}.weekly[{i}].windows[{j}].only", w.only
        for i, ov in enumerate(cal.overrides):
            for j, w in enumerate(ov.windows):
                yield f"calendars.{cname}.overrides[{i}].windows[{j}].only", w.only


def truck_values(s: Scenario) -> dict[str, set[str]]:
    """What a truck's direction, cargo and site can be: a condition on any other value would
    quietly match no truck, and results have a scope for each (experiments/names.py)."""
    kinds = [(a.direction, a.cargo) for a in s.arrivals.values()]
    sites = {x for a in s.arrivals.values() if a.site is not None
             for x in (a.site if isinstance(a.site, dict) else [a.site])}
    if any(a.replay for a in s.arrivals.values()):  # a replayed row may bring any routed kind
        kinds += [(r.direction, r.cargo) for r in s.routes.values()]
        sites |= {r.site for r in s.routes.values() if r.site is not None}
    return {"direction": {d for d, _ in kinds}, "cargo": {c for _, c in kinds},
            "site": sites}


def check_references(s: Scenario) -> Problem | None:
    """The first broken reference as (field path, value, expectation), or None; then the
    first thing defined but never used."""
    return next(_problems(s), None) or unused(s)


def _problems(s: Scenario) -> Iterator[Problem]:
    roads, yards = set(s.roads), set(s.yards)
    places = roads | yards
    if roads & yards:
        yield "yards", sorted(roads & yards)[0], "yard names different from road names"
    horizon = s.clock.horizon_days * 24
    for name, cal in s.calendars.items():
        try:
            is_open = is_ever_open(cal, s.clock.start, horizon)
        except ValueError as exc:
            yield f"calendars.{name}", name, f"windows that do not overlap ({exc})"
            continue
        if not is_open:
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
            yield from admission_problems(s, path, side.calendar, side.daily_cap)
    known_attrs = set(s.attributes) | {k for a in s.arrivals.values() for k in a.attributes}
    branches = {step.choose: set(step.options) for r in s.routes.values()
                for _, step in _walk(r.steps, "") if isinstance(step, ChooseStep)}
    values = truck_values(s)
    for path, cond in _conditions(s):
        for key, value in cond.items():
            if key in branches:
                if value not in branches[key]:
                    want = f"an option of branch {key} {sorted(branches[key])}"
                    yield f"{path}.{key}", value, want
            elif key not in known_attrs and key not in PSEUDO_ATTRIBUTES:
                allowed = sorted(known_attrs | set(PSEUDO_ATTRIBUTES) | set(branches))
                yield f"{path}.{key}", key, f"an attribute or a branch name {allowed}"
            elif key in values and value not in values[key]:
                want = f"one of {sorted(values[key])} (no truck has {key} {value!r})"
                yield f"{path}.{key}", value, want
            elif key in known_attrs and key not in values and not isinstance(value, bool):
                yield f"{path}.{key}", value, f"true or false ({key} is a yes/no attribute)"
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
    yield from variability_problems(s)
    yield from _label_problems(s)
    for rname, route in s.routes.items():
        problem = _ends_early(s, rname, route)
        if problem:
            yield problem
    yield from _initial_yards(s)


def _label_problems(s: Scenario) -> Iterator[Problem]:
    """A ``labels:`` key that names no road, site, direction, attribute or uncertain parameter
    (an item with a mapping of its own carries its ``label:`` there)."""
    known = labellable(s)
    own = {name: section for section in LABELLED for name in getattr(s, section)}
    what = "a road, site, direction, attribute or uncertain parameter"
    for name in s.labels:
        if name in known:
            continue
        if name in own:
            want = f"{what} ({own[name]} carry their own label: write {own[name]}.{name}.label)"
        else:
            names = sorted(known)
            more = " …" if len(names) > 12 else ""
            want = f"{what}: {did_you_mean(name, names)}({', '.join(names[:12])}{more})"
        yield f"labels.{name}", name, want


# --- routes a truck can leave before any stage or lane --------------------------------------
# The engine expands a truck's route at its arrival and stops with an error naming no file
# when the path is empty or starts with an exit. The same walk, done here on every kind of
# truck a route receives, finds it when the scenario loads. A truck is known only as far as
# the ``when:`` conditions ask: its attributes are bound (true or false, as its stream's shares
# allow) when a condition first reads them, and a branch's outcome is kept only if some
# condition asks for it, so the states to follow stay few.

State = tuple[tuple[tuple[str, object], ...], tuple[tuple[str, str], ...],
              tuple[tuple[str, float, float], ...]]
"""(attribute values bound so far, branch outcomes so far, what is known of the uniform of
each branch name met more than once: [low, high)), each sorted by name."""


class _EndsEarly(Exception):
    def __init__(self, path: str, state: State) -> None:
        self.path, self.state = path, state


class _GiveUp(Exception):
    pass


def _possible(shares: dict[str, float]) -> list[str]:
    """The options a uniform can pick (engine.routes.option_index): those with a share, and the
    last one when rounding leaves the total short of 1."""
    names = list(shares)
    total = list(accumulate(shares.values()))[-1]
    return [n for i, n in enumerate(names)
            if shares[n] > 0 or (i == len(names) - 1 and total < 1)]


def _feeds(s: Scenario, route: Route) -> Iterator[tuple[str, ArrivalStream]]:
    for name, stream in s.arrivals.items():
        if (stream.direction, stream.cargo) != (route.direction, route.cargo):
            continue
        sites = _possible(stream.site) if isinstance(stream.site, dict) else [stream.site]
        if route.site in sites:
            yield name, stream


class _Walk:
    """Where trucks of one stream go on one route before their first stage or lane."""

    def __init__(self, s: Scenario, route: Route, stream: ArrivalStream) -> None:
        shares = {**s.attributes, **stream.attributes}
        names = set(s.attributes) | {k for a in s.arrivals.values() for k in a.attributes}
        # what the engine's TruckClass.values holds: pseudo-attributes, then every attribute
        self.choices: dict[str, list[object]] = {
            "direction": [route.direction], "cargo": [route.cargo], "site": [route.site]}
        for name in names:
            p = shares.get(name, 0.0)
            self.choices[name] = [True] if p >= 1 else [False] if p <= 0 else [True, False]
        self.asked = {k for _, step in _walk(route.steps, "") for k in step.when}
        met = [step.choose for _, step in _walk(route.steps, "") if isinstance(step, ChooseStep)]
        # a branch name met twice: one uniform decides both (the draw is the name's)
        self.repeated = {name for name in met if met.count(name) > 1}
        self.visits = 0

    def split(self, when: dict, state: State) -> Iterator[tuple[State, bool]]:
        """``state`` cut into disjoint states that decide ``when``, each with whether it holds:
        the first key that differs (each other value it may take), or all keys as asked -- as
        many states as values, never their product."""
        bound, outcomes = dict(state[0]), dict(state[1])

        def cut(extra: dict) -> State:
            return tuple(sorted({**bound, **extra}.items())), state[1], state[2]

        agreed: dict[str, object] = {}
        for key, want in when.items():
            if key in outcomes or key in bound or key not in self.choices:
                # known (a branch taken, a bound attribute) or None: the engine's lookup
                if outcomes.get(key, bound.get(key)) != want:
                    yield cut(agreed), False
                    return
                continue
            for other in self.choices[key]:
                if other != want:
                    yield cut({**agreed, key: other}), False
            if want not in self.choices[key]:
                return
            agreed[key] = want
        yield cut(agreed), True

    def through(self, steps: list[Step], path: str, states: list[State]) -> list[State]:
        """The states that pass all of ``steps`` without a stage or a lane (raises
        _EndsEarly for one that meets an exit first)."""
        for i, step in enumerate(steps):
            here = f"{path}[{i}]"
            nxt: dict[State, None] = {}
            self.visits += len(states)
            if self.visits > MAX_VISITS:
                raise _GiveUp
            for state in states:
                for st, holds in self.split(step.when, state) if step.when else [(state, True)]:
                    if not holds:
                        nxt[st] = None
                    elif isinstance(step, ExitStep):
                        raise _EndsEarly(here, st)
                    elif isinstance(step, ChooseStep):
                        for name, taken in self.choose(step, st):
                            option = f"{here}.options.{name}.steps"
                            nxt.update(dict.fromkeys(
                                self.through(step.options[name].steps, option, [taken])))
                    # a stage or lane: this truck has its step
            states = list(nxt)
            if len(states) > MAX_STATES:
                raise _GiveUp
            if not states:
                break
        return states


    def choose(self, step: ChooseStep, state: State) -> Iterator[tuple[str, State]]:
        """The options the truck may take (engine.routes.option_index on its uniform), each with
        the state after it."""
        known = {name: (lo, hi) for name, lo, hi in state[2]}
        lo, hi = known.get(step.choose, (0.0, 1.0))
        cum = list(accumulate(o.p for o in step.options.values()))
        for i, name in enumerate(step.options):
            a = cum[i - 1] if i else 0.0
            b = cum[i] if i < len(cum) - 1 else 1.0  # the last takes what rounding leaves
            a, b = max(a, lo), min(b, hi)
            if a >= b:
                continue
            outcomes, uniforms = state[1], state[2]
            if step.choose in self.asked:
                outcomes = tuple(sorted({**dict(outcomes), step.choose: name}.items()))
            if step.choose in self.repeated:
                uniforms = tuple(sorted((n, *u) for n, u in {**known, step.choose: (a, b)}.items()))
            yield name, (state[0], outcomes, uniforms)


def _ends_early(s: Scenario, rname: str, route: Route) -> Problem | None:
    """A kind of truck that leaves ``route`` (an exit, or its end) before any stage or lane."""
    path = f"routes.{rname}.steps"
    for sname, stream in _feeds(s, route):
        walk = _Walk(s, route, stream)
        try:
            left = walk.through(route.steps, path, [((), (), ())])
        except _GiveUp:
            continue
        except _EndsEarly as early:
            return _early_problem(early.path, sname, early.state, "meets this exit")
        if left:
            return _early_problem(path, sname, left[0], "reaches the end of its route")
    return None


def _early_problem(path: str, stream: str, state: State, what: str) -> Problem:
    known = [f"{k}={v}" for k, v in (*state[0], *state[1])]
    who = f"a truck of {stream}" + (f" with {', '.join(known)}" if known else "")
    return (path, shown(f"{who} that {what} before any stage or lane"),
            "a stage or lane step for every truck before its route ends or exits")


# --- initial trucks put in a yard their route does not start in ---------------------------
def _first_yards(s: Scenario, direction: str, steps: list[Step]) -> tuple[set[str], bool]:
    """Yards a truck may wait in at the first stage or lane of ``steps``, and whether some
    truck may get past all of ``steps`` without one (every step conditional or a branch)."""
    yards = set()
    for step in steps:
        if isinstance(step, ExitStep):
            if not step.when:
                return yards, False
            continue
        if isinstance(step, StageStep):
            if step.stage in s.stages:
                yards.add(s.stages[step.stage].yard)
            if not step.when:
                return yards, False
        elif isinstance(step, LaneStep):
            for lane in [step.lane] if isinstance(step.lane, str) else step.lane:
                side = s.lanes[lane].side(direction) if lane in s.lanes else None
                if side is not None:
                    yards.add(side.yard)
            if not step.when:
                return yards, False
        elif isinstance(step, ChooseStep):
            through = False
            for option in step.options.values():
                sub, passes = _first_yards(s, direction, option.steps)
                yards |= sub
                through = through or passes
            if not step.when and not through:
                return yards, False
    return yards, True


def _initial_yards(s: Scenario) -> Iterator[Problem]:
    """Initial trucks put in a yard where no route of their stream starts."""
    for i, init in enumerate(s.initial_state):
        if init.at not in s.yards or init.stream not in s.arrivals:
            continue
        stream = s.arrivals[init.stream]
        sites = set(stream.site) if isinstance(stream.site, dict) else {stream.site}
        starts = set()
        for route in s.routes.values():
            if (route.direction, route.cargo) == (stream.direction, stream.cargo) \
                    and route.site in sites:
                starts |= _first_yards(s, route.direction, route.steps)[0]
        if init.at not in starts:
            yield (f"initial_state[{i}].at", init.at,
                   f"a road, or a yard where the route of {init.stream} starts {sorted(starts)}")
