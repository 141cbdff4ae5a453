"""The scenario in plain language: the tables of facts a planner checks before any number,
what differs between two scenarios in words, and the trucks a day a scenario brings.

Every table is ``{"id", "caption", "columns": [(key, label, numeric)], "rows": [{key: text,
"_name": item}]}`` with the items by their display names; the template draws it as it is.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from gatesim.i18n import _, date, display, ngettext, percent
from gatesim.i18n import datetime as moment
from gatesim.output.words import DIRECTIONS, N_, Labels, fmt, names, scope_words
from gatesim.scenario.labels import labels_of, title_of
from gatesim.scenario.resources import factor_refs
from gatesim.scenario.schema import (
    WEEKDAYS,
    Calendar,
    ChooseStep,
    ExitStep,
    LaneStep,
    Scenario,
    StageStep,
)
from gatesim.scenario.variability import Factor, FactorRef

DAYS = dict(zip(WEEKDAYS, (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"),
                           N_("Sun")), strict=True))
LAWS = {"constant": N_("constant"), "exponential": N_("exponential"),
        "lognormal": N_("lognormal"), "gamma": N_("gamma"), "triangular": N_("triangular"),
        "uniform": N_("uniform"), "empirical": N_("empirical"), "normal": N_("normal")}


def _dist(d: Any) -> str:
    spread = _(", CV {cv}").format(cv=fmt(math.sqrt(d.scv()), 2)) if d.scv() > 0 else ""
    law, minutes = _(LAWS.get(d.dist, d.dist)), d.mean_h() * 60
    if minutes < 1:
        return _("{law}, mean {seconds} s").format(law=law, seconds=fmt(minutes * 60)) + spread
    return _("{law}, mean {minutes} min").format(law=law, minutes=fmt(minutes)) + spread


def _when(cond: dict[str, Any], labels: Labels) -> str:
    """An attribute condition in words: 'predeclared', 'not predeclared', 'site: x'."""
    return _(" and ").join(
        display(k, labels) if v is True else _("not {what}").format(what=display(k, labels))
        if v is False else f"{display(k, labels)}: {display(str(v), labels)}"
        for k, v in cond.items())


def _steps(steps: list, labels: Labels) -> str:
    parts = []
    for st in steps:
        if isinstance(st, StageStep):
            text = display(st.stage, labels)
        elif isinstance(st, LaneStep):
            lanes = [st.lane] if isinstance(st.lane, str) else st.lane
            text = _("lane {lanes}").format(lanes=_(" or ").join(display(x, labels) for x in lanes))
            text += _(" (shortest queue)") if len(lanes) > 1 else ""
        elif isinstance(st, ChooseStep):
            opts = [f"{display(name, labels)} {percent(o.p)}"
                    + (f": {_steps(o.steps, labels)}" if o.steps else "")
                    for name, o in st.options.items()]
            text = f"{display(st.choose, labels)} ({'; '.join(opts)})"
        elif isinstance(st, ExitStep):
            text = _("sent back")
        else:                                   # any other kind of step, by its fields
            text = " ".join(f"{k} {v}" for k, v in st.model_dump(exclude={"when"}).items())
        parts.append(text + (_(" [if {condition}]").format(condition=_when(st.when, labels))
                             if st.when else ""))
    return " → ".join(parts)


def _windows(windows: list, labels: Labels) -> str:
    out = []
    for w in windows:
        text = f"{w.open}–{w.close}"
        if getattr(w, "servers", None):
            text += _(" ({n} on duty)").format(n=w.servers)
        if w.only:
            text += _(" (only {who})").format(who=_when(w.only, labels))
        out.append(text)
    return ", ".join(out) or _("closed")


def _calendar(cal: Calendar, labels: Labels) -> str:
    rules = []
    for rule in cal.weekly:
        days = _("every day") if len(rule.days) == 7 else ", ".join(_(DAYS[d]) for d in rule.days)
        rules.append(f"{days} {_windows(rule.windows, labels)}")
    for o in cal.overrides:
        span = date(o.start) + (f" – {date(o.end)}" if o.end != o.start else "")
        wins = _windows(o.windows, labels)
        rules.append(f"{span}: {wins}" + (f" ({o.note})" if o.note not in ("", wins) else ""))
    offset = _("; on a clock {h} h from Hanoi").format(h=f"{cal.clock_offset_h:+g}") \
        if cal.clock_offset_h else ""
    return "; ".join(rules) + offset


def _days(x: float) -> str:
    return ngettext("{n} day", "{n} days", int(x) if x == int(x) else 2).format(n=fmt(x))


def _factor(ref: FactorRef | None, labels: Labels) -> str:
    """A day-to-day factor in words: its name, or its law when it is the resource's own."""
    if ref is None:
        return ""
    return _("factor {name}").format(name=display(ref, labels)) if isinstance(ref, str) \
        else _law(ref)


def _law(f: Factor) -> str:
    law = (_("{n} observed days").format(n=len(f.values or [])) if f.law == "empirical"
           else _("{law}, CV {cv}").format(law=_(LAWS.get(f.law, f.law)), cv=fmt(f.cv)))
    return law + (_(", day-to-day correlation {r}").format(r=fmt(f.autocorrelation))
                  if f.autocorrelation else "")


def _priority(conds: list[dict[str, Any]], labels: Labels) -> str:
    """Priority classes in words: 'fresh first', 'a first, then b'."""
    return _("{classes} first").format(classes=_(", then ").join(
        _when(c, labels) for c in conds)) if conds else ""


def _table(id_: str, caption: str, columns: list[tuple[str, str, bool]],
           rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": id_, "caption": caption, "columns": columns, "rows": rows}


def _arrivals(s: Scenario, labels: Labels) -> dict[str, Any]:
    rows = []
    for name, a in s.arrivals.items():
        rate = (fmt(a.rate_per_day) if a.rate_per_day is not None else
                fmt(24 / a.interarrival.mean_h()) if a.interarrival is not None else
                _("replayed"))
        pattern = [_("replayed from {file}").format(file=a.replay)] if a.replay else []
        if a.hourly_profile:
            peak = max(range(24), key=a.hourly_profile.__getitem__)
            pattern.append(_("busiest hour {hour}").format(hour=f"{peak:02d}:00"))
        pattern += [f"{_(DAYS[d])} ×{m:g}" for d, m in a.weekday_multipliers.items()]
        pattern += [f"{date(m.start)} – {date(m.end)} ×{m.factor:g}" for m in a.date_multipliers]
        if a.daily_factor is not None:
            pattern.append(_("each day × {factor}").format(factor=_factor(a.daily_factor,
                                                                          labels)))
        site = (", ".join(f"{display(k, labels)} {percent(v)}" for k, v in a.site.items())
                if isinstance(a.site, dict) else display(a.site, labels) if a.site else "")
        rows.append({"_name": name, "name": display(name, labels), "site": site,
                     "direction": scope_words(a.direction, labels),
                     "cargo": display(a.cargo, labels), "rate": rate,
                     "pattern": ", ".join(pattern) or _("steady"),
                     "shares": ", ".join(f"{display(k, labels)} {percent(v)}"
                                         for k, v in a.attributes.items())})
    return _table("arrivals", _("Trucks arriving"), [
        ("name", _("stream"), False), ("site", _("site"), False),
        ("direction", _("direction"), False), ("cargo", _("cargo"), False),
        ("rate", _("trucks/day"), True), ("pattern", _("pattern"), False),
        ("shares", _("own attribute shares"), False)], rows)


def _lanes(s: Scenario, labels: Labels) -> dict[str, Any]:
    rows = []
    for name, lane in s.lanes.items():
        for direction in DIRECTIONS:
            side = lane.side(direction)
            if not side:
                continue
            own = side.capacity_per_hour is not None
            varies = [x for x in (_factor(side.rate_factor, labels),
                                  _factor(side.cap_factor, labels)) if x]
            caps = ", ".join(_("{cargo} {n}/day").format(cargo=display(k, labels), n=v)
                             for k, v in side.daily_cap.items())
            rows.append({
                "_name": f"{name}.{direction}", "name": display(name, labels),
                "_item": scope_words(f"{name}.{direction}", labels),
                "direction": scope_words(direction, labels),
                "capacity": (fmt(side.capacity_per_hour) if own else
                             _("shared: {acceptance}").format(
                                 acceptance=display(side.acceptance, labels)))
                + (_(" (each day × {factors})").format(factors=_(" and ").join(varies))
                   if varies else ""),
                "yard": display(side.yard, labels),
                "calendar": display(side.calendar, labels) if side.calendar else
                _("always open"),
                "caps": caps or (_("see the shared intake") if not own else _("none")),
                "eligible": (_when(lane.eligible, labels) or _("all trucks"))
                + (f"; {_priority(side.priority, labels)}" if side.priority else ""),
                "crossing": _dist(lane.crossing_time)})
    return _table("lanes", _("Lanes across the border"), [
        ("name", _("lane"), False), ("direction", _("direction"), False),
        ("capacity", _("capacity (trucks/h)"), True), ("yard", _("trucks wait in"), False),
        ("calendar", _("hours"), False), ("caps", _("other side's daily caps"), False),
        ("eligible", _("open to"), False), ("crossing", _("crossing time"), False)], rows)


def _variability(s: Scenario, labels: Labels) -> list[dict[str, Any]]:
    used: dict[str, list[str]] = {}
    for path, ref in factor_refs(s):
        if isinstance(ref, str):
            item = path.rsplit(".", 1)[0].split(".")
            used.setdefault(ref, []).append(display(item[1] if len(item) > 1 else item[0],
                                                    labels))
    factors = [{"_name": n, "name": display(n, labels), "law": _law(f),
                "used_by": ", ".join(dict.fromkeys(used.get(n, []))), "note": f.note}
               for n, f in s.factors.items()]
    stoppages = []
    for name, st in s.stoppages.items():
        random = (_("{n} a day while up, lasting {law}").format(n=fmt(st.rate_per_day),
                                                                 law=_dist(st.duration))
                  if st.rate_per_day > 0 and st.duration is not None else "")
        dated = "; ".join(f"{moment(d.start)} – {moment(d.end)}"
                          + (f" ({d.note})" if d.note else "") for d in st.dated)
        stoppages.append({"_name": name, "name": display(name, labels),
                          "at": ", ".join(display(x, labels) for x in st.at),
                          "when": "; ".join(x for x in (random, dated) if x),
                          "lost": _("all") if st.fraction == 1 else
                          percent(st.fraction)})
    lanes = {a: [scope_words(f"{n}.{d}", labels) for n, lane in s.lanes.items()
                 for d in DIRECTIONS
                 if (side := lane.side(d)) is not None and side.acceptance == a]
             for a in s.acceptances}
    acceptances = [{
        "_name": n, "name": display(n, labels), "capacity": fmt(a.capacity_per_hour),
        "caps": ", ".join(_("{cargo} {n}/day").format(cargo=display(k, labels), n=v)
                          for k, v in a.daily_cap.items()) or _("none"),
        "calendar": display(a.calendar, labels) if a.calendar else _("always open"),
        "lanes": ", ".join(lanes[n]),
        "varies": ", ".join(x for x in (_factor(a.rate_factor, labels),
                                        _factor(a.cap_factor, labels)) if x) or _("no"),
        "priority": _priority(a.priority, labels) or _("none")}
        for n, a in s.acceptances.items()]
    return [
        _table("acceptances", _("The other side's intake shared by several lanes"), [
            ("name", _("intake"), False), ("capacity", _("trucks/h"), True),
            ("caps", _("daily caps"), False), ("calendar", _("hours"), False),
            ("lanes", _("lanes"), False), ("varies", _("varies by day"), False),
            ("priority", _("served first"), False)], acceptances),
        _table("factors", _("Day-to-day factors (mean 1, one draw per day)"), [
            ("name", _("factor"), False), ("law", _("law"), False),
            ("used_by", _("moves"), False), ("note", _("note"), False)], factors),
        _table("stoppages", _("Stoppages"), [
            ("name", _("stoppage"), False), ("at", _("stops"), False),
            ("when", _("when"), False), ("lost", _("capacity lost"), False)], stoppages)]


def describe(s: Scenario) -> dict[str, Any]:
    """The scenario as plain facts and tables (what a planner checks before any number)."""
    labels = labels_of(s)
    start = s.clock.start
    warm = s.clock.warmup_days
    stages = [{"_name": n, "name": display(n, labels),
               "servers": f"{st.servers}" + (f" × {_factor(st.servers_factor, labels)}"
                                             if st.servers_factor else ""),
               "service": _dist(st.service)
               + (f"; {_priority(st.priority, labels)}" if st.priority else ""),
               "yard": display(st.yard, labels),
               "calendar": display(st.calendar, labels) if st.calendar else _("always open")}
              for n, st in s.stages.items()]
    yards = [{"_name": n, "name": display(n, labels),
              "slots": fmt(y.slots) if y.slots else _("unlimited"),
              "full": _("trucks wait where they are") if y.overflow is None else
              _("trucks turned away") if y.overflow == "turn_away" else
              _("trucks queue on {road}").format(road=display(y.overflow, labels))}
             for n, y in s.yards.items()]
    routes = [{"_name": n, "name": display(n, labels),
               "who": f"{scope_words(r.direction, labels)}, {display(r.cargo, labels)}"
               + (f", {display(r.site, labels)}" if r.site else ""),
               "steps": _steps(r.steps, labels)} for n, r in s.routes.items()]
    calendars = [{"_name": n, "name": display(n, labels), "text": _calendar(c, labels)}
                 for n, c in s.calendars.items()]
    facts = [(_("Period simulated"), _("{days} from {start} (Hanoi time)").format(
                 days=_days(s.clock.horizon_days), start=moment(start))),
             (_("Warm-up"), _("left out of every statistic (queues build up from the initial "
                              "state)") if warm == "auto" else
              _("{days} at the start, left out of every statistic (queues build up from the "
                "initial state)").format(days=_days(warm)))]
    if s.attributes:
        facts.append((_("Truck attributes (share of trucks)"), ", ".join(
            f"{display(k, labels)} {percent(v)}" for k, v in s.attributes.items())))
    if s.initial_state:
        facts.append((_("Already waiting at the start"), "; ".join(
            _("{n} {stream} trucks at {place}").format(n=i.count, stream=display(i.stream,
                                                                                   labels),
                                                       place=display(i.at, labels))
            for i in s.initial_state)))
    tables = [
        _arrivals(s, labels),
        _table("stages", _("Stages (checks a truck goes through)"), [
            ("name", _("stage"), False), ("servers", _("servers"), True),
            ("service", _("service time"), False), ("yard", _("trucks wait in"), False),
            ("calendar", _("hours"), False)], stages),
        _table("yards", _("Yards"), [("name", _("yard"), False), ("slots", _("slots"), True),
                                     ("full", _("when full"), False)], yards),
        _lanes(s, labels), *_variability(s, labels),
        _table("calendars", _("Opening hours"), [("name", _("calendar"), False),
                                                 ("text", _("windows"), False)], calendars),
        _table("routes", _("Routes"), [("name", _("route"), False), ("who", _("trucks"), False),
                                       ("steps", _("steps"), False)], routes)]
    return {"name": s.name, "title": title_of(s), "description": s.description,
            "facts": facts, "tables": [t for t in tables if t["rows"]],
            **{t["id"]: t["rows"] for t in tables}}


# --- what differs between two scenarios ----------------------------------------------------
def differences(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """What differs from described scenario ``a`` to ``b``, in words: a sentence counting the
    new, removed and changed items, and rows (item, what, in a, in b)."""
    rows, counts = [], []
    for label, x, y in zip((f[0] for f in a["facts"]), (f[1] for f in a["facts"]),
                           (dict(b["facts"]).get(f[0], "–") for f in a["facts"]), strict=True):
        if x != y:
            rows.append({"item": label, "kind": "", "what": "", "a": x, "b": y})
    tables_b = {t["id"]: t for t in b["tables"]}
    tables_a = {t["id"]: t for t in a["tables"]}
    for id_ in dict.fromkeys([*tables_a, *tables_b]):
        ta, tb = tables_a.get(id_), tables_b.get(id_)
        t = tb or ta
        assert t is not None
        ra = {r["_name"]: r for r in (ta or {"rows": []})["rows"]}
        rb = {r["_name"]: r for r in (tb or {"rows": []})["rows"]}
        cols = [c for c in t["columns"] if c[0] != "name"]
        kind = t["columns"][0][1]
        new = [n for n in rb if n not in ra]
        gone = [n for n in ra if n not in rb]
        changed = [n for n in rb if n in ra and ra[n] != rb[n]]
        for n in new:
            rows.append({"item": rb[n].get("_item", rb[n]["name"]), "kind": kind,
                         "what": _("new"), "a": "–",
                         "b": "; ".join(f"{label}: {rb[n][k]}" for k, label, _n in cols
                                        if rb[n][k])})
        for n in gone:
            rows.append({"item": ra[n].get("_item", ra[n]["name"]), "kind": kind,
                         "what": _("removed"),
                         "a": "; ".join(f"{label}: {ra[n][k]}" for k, label, _n in cols
                                        if ra[n][k]), "b": "–"})
        for n in changed:
            rows += [{"item": rb[n].get("_item", rb[n]["name"]), "kind": kind, "what": label,
                      "a": ra[n][k],
                      "b": rb[n][k]} for k, label, _n in cols if ra[n][k] != rb[n][k]]
        parts = [(_("{n} new") if new else "").format(n=len(new)),
                 (_("{n} removed") if gone else "").format(n=len(gone)),
                 (_("{n} changed") if changed else "").format(n=len(changed))]
        if any(parts):
            counts.append(f"{t['caption'].split(' (')[0].lower()}: "
                          f"{', '.join(p for p in parts if p)}")
    sentence = (_("The same as {a} except for these differences ({counts}).").format(
        a=a["title"], counts="; ".join(counts)) if counts else
        _("The same as {a} except for these differences.").format(a=a["title"])
        if rows else _("The same as {a}.").format(a=a["title"]))
    return {"sentence": sentence, "rows": rows}


# --- the trucks a day a scenario brings ----------------------------------------------------
def demand(s: Scenario, warmup_days: float) -> dict[str, float | None]:
    """Expected arrivals per day over the statistics window (after the warm-up), per scope
    ('system', direction, cargo, 'site=…'); None where a stream is replayed from a file."""
    start = s.clock.start
    first, last = math.ceil(warmup_days * 24), math.floor(s.clock.horizon_days * 24)
    days = max(last - first, 1) / 24
    out: dict[str, float | None] = {}

    def add(scope: str, x: float | None) -> None:
        old = out.get(scope, 0.0)
        out[scope] = None if old is None or x is None else old + x

    for a in s.arrivals.values():
        per_day: float | None = None
        if a.rate_per_day is not None:
            profile = a.hourly_profile or [1.0] * 24
            mean = sum(profile) / 24
            total = 0.0
            for h in range(first, last):
                t = start + dt.timedelta(hours=h)
                f = a.weekday_multipliers.get(WEEKDAYS[t.weekday()], 1.0)
                for m in a.date_multipliers:
                    f *= m.factor if m.start <= t.date() <= m.end else 1.0
                total += a.rate_per_day / 24 * profile[t.hour] / mean * f
            per_day = round(total / days, 6)  # no float noise ('40.0000001')
        elif a.interarrival is not None:
            per_day = 24 / a.interarrival.mean_h()
        sites = a.site if isinstance(a.site, dict) else {a.site: 1.0} if a.site else {}
        for scope in ("system", a.direction, a.cargo):
            add(scope, per_day)
        for site, share in sites.items():
            add(f"site={site}", None if per_day is None else per_day * share)
    return out


__all__ = ["demand", "describe", "differences", "fmt", "names"]
