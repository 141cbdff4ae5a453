"""The scenario in plain language: the tables of facts a planner checks before any number."""

from __future__ import annotations

import math
from typing import Any

from gatesim.scenario.resources import factor_refs
from gatesim.scenario.schema import Calendar, ChooseStep, LaneStep, Scenario, StageStep
from gatesim.scenario.variability import Factor, FactorRef


def fmt(x: Any) -> str:
    """A number as a planner reads it: 3 significant figures or so, '–' when missing."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    if isinstance(x, bool | str):
        return str(x)
    a = abs(x)
    return f"{x:,.0f}" if a >= 100 else f"{x:.1f}" if a >= 10 else f"{x:.2f}"


def _dist(d: Any) -> str:
    mean_min = d.mean_h() * 60
    spread = f", CV {math.sqrt(d.scv()):.2f}" if d.scv() > 0 else ""
    return f"{d.dist}, mean {fmt(mean_min)} min{spread}"


def _when(cond: dict[str, Any]) -> str:
    """An attribute condition in words: 'preregistered', 'not predeclared', 'site = x'."""
    return " and ".join(k if v is True else f"not {k}" if v is False else f"{k} = {v}"
                        for k, v in cond.items())


def _steps(steps: list) -> str:
    parts = []
    for st in steps:
        if isinstance(st, StageStep):
            text = st.stage
        elif isinstance(st, LaneStep):
            lanes = [st.lane] if isinstance(st.lane, str) else st.lane
            text = "lane " + " or ".join(lanes) + (" (shortest queue)" if len(lanes) > 1 else "")
        elif isinstance(st, ChooseStep):
            opts = [f"{name} {o.p:.0%}" + (f": {_steps(o.steps)}" if o.steps else "")
                    for name, o in st.options.items()]
            text = f"{st.choose} ({'; '.join(opts)})"
        else:                                   # any other kind of step, by its fields
            text = " ".join(f"{k} {v}" for k, v in st.model_dump(exclude={"when"}).items())
        parts.append(text + (f" [if {_when(st.when)}]" if st.when else ""))
    return " → ".join(parts)


def _calendar(cal: Calendar) -> str:
    rules = []
    for rule in cal.weekly:
        days = "every day" if len(rule.days) == 7 else ", ".join(rule.days)
        wins = ", ".join(f"{w.open}–{w.close}" + (f" ({w.servers} on duty)" if w.servers else "")
                         + (f" (only {_when(w.only)})" if w.only else "") for w in rule.windows)
        rules.append(f"{days} {wins or 'closed'}")
    for o in cal.overrides:
        span = f"{o.start:%d %b %Y}" + (f" to {o.end:%d %b %Y}" if o.end != o.start else "")
        wins = ", ".join(f"{w.open}–{w.close}" + (f" (only {_when(w.only)})" if w.only else "")
                         for w in o.windows)
        wins = wins or "closed"
        rules.append(f"{span}: {wins}" + (f" ({o.note})" if o.note not in ("", wins) else ""))
    offset = f"; on a clock {cal.clock_offset_h:+g} h from Hanoi" if cal.clock_offset_h else ""
    return "; ".join(rules) + offset


def _days(x: float) -> str:
    return f"{x:g} day" + ("" if x == 1 else "s")


def _factor(ref: FactorRef | None) -> str:
    """A day-to-day factor in words: its name, or its law when it is the resource's own."""
    if ref is None:
        return ""
    if isinstance(ref, str):
        return f"factor {ref}"
    return _law(ref)


def _law(f: Factor) -> str:
    law = (f"{len(f.values or [])} observed days" if f.law == "empirical"
           else f"{f.law}, CV {f.cv:g}")
    return law + (f", day-to-day correlation {f.autocorrelation:g}" if f.autocorrelation else "")


def _priority(conds: list[dict[str, Any]]) -> str:
    """Priority classes in words: 'cargo = fresh first', 'a first, then b'."""
    return (", then ".join(_when(c) for c in conds) + " first") if conds else ""


def _variability(s: Scenario) -> dict[str, list[dict[str, str]]]:
    used: dict[str, list[str]] = {}
    for path, ref in factor_refs(s):
        if isinstance(ref, str):
            used.setdefault(ref, []).append(path.rsplit(".", 1)[0])
    factors = [{"name": n, "law": _law(f), "used_by": ", ".join(used.get(n, [])),
                "note": f.note} for n, f in s.factors.items()]
    stoppages = []
    for name, st in s.stoppages.items():
        random = (f"{st.rate_per_day:g} a day while up, lasting {_dist(st.duration)}"
                  if st.rate_per_day > 0 and st.duration is not None else "")
        dated = "; ".join(f"{d.start:%d %b %Y %H:%M} to {d.end:%d %b %Y %H:%M}"
                          + (f" ({d.note})" if d.note else "") for d in st.dated)
        stoppages.append({"name": name, "at": ", ".join(st.at),
                          "when": "; ".join(x for x in (random, dated) if x),
                          "lost": "all" if st.fraction == 1 else f"{st.fraction:.0%}"})
    lanes = {a: [f"{n}.{d}" for n, lane in s.lanes.items() for d in ("export", "import")
                 if (side := lane.side(d)) is not None and side.acceptance == a]
             for a in s.acceptances}
    acceptances = [{"name": n, "capacity": f"{a.capacity_per_hour:g}",
                    "caps": ", ".join(f"{k} {v}/day" for k, v in a.daily_cap.items()) or "none",
                    "calendar": a.calendar or "always open", "lanes": ", ".join(lanes[n]),
                    "varies": ", ".join(x for x in (_factor(a.rate_factor),
                                                     _factor(a.cap_factor)) if x) or "no",
                    "priority": _priority(a.priority) or "none"}
                   for n, a in s.acceptances.items()]
    return {"factors": factors, "stoppages": stoppages, "acceptances": acceptances}


def describe(s: Scenario) -> dict[str, Any]:
    """The scenario as tables of plain facts (what a planner checks before any number)."""
    arrivals = []
    for name, a in s.arrivals.items():
        rate: float | str = (a.rate_per_day if a.rate_per_day is not None else
                             24 / a.interarrival.mean_h() if a.interarrival is not None else
                             "replayed")
        pattern = [f"replayed from {a.replay}"] if a.replay else []
        if a.hourly_profile:
            peak = max(range(24), key=a.hourly_profile.__getitem__)
            pattern.append(f"busiest hour {peak:02d}:00")
        pattern += [f"{d} ×{m:g}" for d, m in a.weekday_multipliers.items()]
        pattern += [f"{m.start:%d %b}–{m.end:%d %b} ×{m.factor:g}" for m in a.date_multipliers]
        if a.daily_factor is not None:
            pattern.append(f"each day × {_factor(a.daily_factor)}")
        shares = {**s.attributes, **a.attributes}
        arrivals.append({"name": name, "direction": a.direction, "cargo": a.cargo,
                         "rate": rate if isinstance(rate, str) else f"{rate:g}",
                         "pattern": ", ".join(pattern) or "steady",
                         "shares": ", ".join(f"{k} {v:.0%}" for k, v in shares.items())})
    lanes = []
    for name, lane in s.lanes.items():
        for direction in ("export", "import"):
            side = lane.side(direction)
            if side:
                own = side.capacity_per_hour is not None
                varies = [x for x in (_factor(side.rate_factor), _factor(side.cap_factor)) if x]
                lanes.append({"name": name, "direction": direction,
                              "capacity": (f"{side.capacity_per_hour:g}" if own else
                                           f"shared: {side.acceptance}")
                              + (f" (each day × {' and '.join(varies)})" if varies else ""),
                              "yard": side.yard, "calendar": side.calendar or "always open",
                              "caps": ", ".join(f"{k} {v}/day" for k, v in side.daily_cap.items())
                              or ("see acceptances" if not own else "none"),
                              "eligible": (_when(lane.eligible) or "all trucks")
                              + (f"; {_priority(side.priority)}" if side.priority else ""),
                              "crossing": _dist(lane.crossing_time)})
    start = s.clock.start
    return {
        "name": s.name, "description": s.description,
        "period": f"{_days(s.clock.horizon_days)} from {start:%a %d %b %Y %H:%M} (Hanoi time)",
        "warmup": _days(s.clock.warmup_days),
        "arrivals": arrivals,
        "stages": [{"name": n, "servers": f"{st.servers}" + (
                        f" × {_factor(st.servers_factor)}" if st.servers_factor else ""),
                    "service": _dist(st.service)
                    + (f"; {_priority(st.priority)}" if st.priority else ""),
                    "yard": st.yard, "calendar": st.calendar or "always open"}
                   for n, st in s.stages.items()],
        "yards": [{"name": n, "slots": y.slots or "unlimited",
                   "full": {None: "trucks wait where they are", "turn_away": "trucks turned away"}
                   .get(y.overflow, f"trucks queue on {y.overflow}")} for n, y in s.yards.items()],
        "lanes": lanes,
        "calendars": [{"name": n, "text": _calendar(c)} for n, c in s.calendars.items()],
        "routes": [{"name": n, "who": f"{r.direction} {r.cargo}" + (f" at {r.site}" if r.site
                                                                     else ""),
                    "steps": _steps(r.steps)} for n, r in s.routes.items()],
        "initial": [f"{i.count} {i.stream} trucks at {i.at}" for i in s.initial_state],
        **_variability(s),
    }
