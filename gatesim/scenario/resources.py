"""What the day-to-day variability of a scenario may name, and the checks on those names.

A *resource* is anything with a capacity that can vary or stop: a stage (``cn_customs``), one
side of a lane (``huu_nghi.export``), a whole lane (both its sides) or a shared acceptance.
"""

from __future__ import annotations

from collections.abc import Iterator

from gatesim.scenario.schema import Scenario
from gatesim.scenario.unused import did_you_mean
from gatesim.scenario.variability import Factor, FactorRef

Problem = tuple[str, object, str]


def factor_refs(s: Scenario) -> Iterator[tuple[str, FactorRef]]:
    """Every factor a resource or a stream names or carries, as (field path, reference)."""
    for name, stage in s.stages.items():
        if stage.servers_factor is not None:
            yield f"stages.{name}.servers_factor", stage.servers_factor
    for name, lane in s.lanes.items():
        for direction in ("export", "import"):
            side = lane.side(direction)
            for key in ("rate_factor", "cap_factor"):
                if side is not None and getattr(side, key) is not None:
                    yield f"lanes.{name}.{direction}.{key}", getattr(side, key)
    for name, acc in s.acceptances.items():
        for key in ("rate_factor", "cap_factor"):
            if getattr(acc, key) is not None:
                yield f"acceptances.{name}.{key}", getattr(acc, key)
    for name, stream in s.arrivals.items():
        if stream.daily_factor is not None:
            yield f"arrivals.{name}.daily_factor", stream.daily_factor


def resolve(s: Scenario, name: str) -> list[str] | None:
    """The stoppable resources a name stands for (stage, acceptance, ``lane.direction``
    scopes), or None when it names none."""
    if name in s.stages or name in s.acceptances:
        return [name]
    if name in s.lanes:
        lane = s.lanes[name]
        return [f"{name}.{d}" for d in ("export", "import") if lane.side(d) is not None]
    lane, _, direction = name.rpartition(".")
    if lane in s.lanes and direction in ("export", "import") and s.lanes[lane].side(direction):
        return [name]
    return None


def stopped_scopes(s: Scenario) -> list[str]:
    """The resources some stoppage names (stage, lane side, acceptance), in the order the
    stoppages name them: the scopes of ``stopped_h`` and of the hourly ``stopped`` flags."""
    return list(dict.fromkeys(sc for spec in s.stoppages.values() for target in spec.at
                              for sc in resolve(s, target) or []))


def _resources(s: Scenario) -> list[str]:
    sides = [f"{n}.{d}" for n, lane in s.lanes.items() for d in ("export", "import")
             if lane.side(d) is not None]
    return [*s.stages, *s.lanes, *sides, *s.acceptances]


def admission_problems(s: Scenario, path: str, calendar: str | None, daily_cap: dict[str, int]
                       ) -> Iterator[Problem]:
    """The calendar and the daily-cap keys of an admission (a lane side or an acceptance)."""
    if calendar is not None and calendar not in s.calendars:
        yield f"{path}.calendar", calendar, "a calendar defined under calendars"
    cargos = {a.cargo for a in s.arrivals.values()}
    for key in daily_cap:
        if key != "total" and key not in cargos:
            yield f"{path}.daily_cap.{key}", key, f"'total' or a cargo class {sorted(cargos)}"


def variability_problems(s: Scenario) -> Iterator[Problem]:
    """Broken names and impossible combinations in factors, stoppages and acceptances."""
    for path, ref in factor_refs(s):
        if not isinstance(ref, Factor) and ref not in s.factors:
            want = (f"a factor defined under factors ({did_you_mean(ref, list(s.factors))}"
                    f"{sorted(s.factors)}) or a factor of its own ({{cv: …}})")
            yield path, ref, want
    for name, acc in s.acceptances.items():
        yield from admission_problems(s, f"acceptances.{name}", acc.calendar, acc.daily_cap)
    for name, lane in s.lanes.items():
        for direction in ("export", "import"):
            side = lane.side(direction)
            if side is not None and side.acceptance is not None and (
                    side.acceptance not in s.acceptances):
                want = (f"an acceptance defined under acceptances "
                        f"({did_you_mean(side.acceptance, list(s.acceptances))}"
                        f"{sorted(s.acceptances)})")
                yield f"lanes.{name}.{direction}.acceptance", side.acceptance, want
    start = s.clock.start
    for name, stop in s.stoppages.items():
        for i, target in enumerate(stop.at):
            scopes = resolve(s, target)
            if scopes is None:
                names = _resources(s)
                want = (f"a stage, lane, lane side (<lane>.export|import) or acceptance "
                        f"({did_you_mean(target, names)}{', '.join(names[:12])})")
                yield f"stoppages.{name}.at[{i}]", target, want
            elif stop.fraction < 1 and any(_has_acceptance(s, sc) for sc in scopes):
                yield (f"stoppages.{name}.fraction", stop.fraction,
                       f"1 for {target}, a lane side admitted by a shared acceptance (a "
                       "partial stoppage of its intake belongs on the acceptance)")
        for i, dated in enumerate(stop.dated):
            if dated.end <= start:
                yield (f"stoppages.{name}.dated[{i}].end", dated.end.isoformat(" "),
                       f"a time after the run starts ({start.isoformat(' ')})")


def _has_acceptance(s: Scenario, scope: str) -> bool:
    lane, _, direction = scope.rpartition(".")
    side = s.lanes[lane].side(direction) if lane in s.lanes else None
    return side is not None and side.acceptance is not None
