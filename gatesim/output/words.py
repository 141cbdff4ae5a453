"""Words for the report: figures, places and periods in the planner's language.

Every visible word goes through gettext (``gatesim.i18n``); numbers and dates through its
language-aware formats; scenario items by their display names (``labels``). Msgids are
marked ``N_`` where they are defined and translated where they are shown.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from typing import Any

import yaml
from markupsafe import Markup

from gatesim.i18n import _, date, display, number, percent

Labels = Mapping[str, Mapping[str, str]]


def N_(message: str) -> str:
    """Mark a msgid for extraction; it is translated where it is shown."""
    return message


FIGURES = {
    "throughput_per_day": (N_("trucks cleared per day"), N_("trucks/day")),
    "time_in_system_h": (N_("time in the system"), N_("h")),
    "wait_h": (N_("total waiting time"), N_("h")),
    "road_time_h": (N_("time on the approach road"), N_("h")),
    "censored_wait_h": (N_("time so far of trucks still inside at the end"), N_("h")),
    "road_queue": (N_("trucks queuing on the road"), N_("trucks")),
    "in_system": (N_("trucks in the system"), N_("trucks")),
    "yard_occupancy": (N_("trucks parked in the yard"), N_("trucks")),
    "queue_length": (N_("trucks waiting"), N_("trucks")),
    "crossing": (N_("trucks on the lane"), N_("trucks")),
    "utilisation": (N_("utilisation"), N_("share")),
    "in_system_end": (N_("trucks still inside at the end"), N_("trucks")),
    "turned_away": (N_("trucks turned away"), N_("trucks")),
    "turned_back": (N_("trucks turned back"), N_("trucks")),
    "turned_back_time_h": (N_("time of trucks turned back"), N_("h")),
    "stopped_h": (N_("time stopped"), N_("h")),
    "over_time_budget": (N_("loads over their time budget"), N_("share")),
    "waiting_cost_per_day": (N_("waiting cost per day"), ""),
    "capacity_cost_per_day": (N_("yard slot cost per day"), ""),
    "total_cost_per_day": (N_("total cost per day"), ""),
}
STATS = {"mean": N_("mean"), "p50": N_("median"), "p90": N_("90th percentile"),
         "p95": N_("95th percentile"), "max": N_("maximum"), "count": N_("count"),
         "per_day": N_("per day"), "share": N_("share"), "total": N_("total")}
SHORT_STATS = {"mean": N_("mean"), "p50": N_("median"), "p90": N_("p90"), "p95": N_("p95"),
               "max": N_("max")}
DIRECTIONS = {"export": N_("export"), "import": N_("import")}
SCOPES = {"system": N_("all trucks"), "before_crossing": N_("before crossing"),
          "after_crossing": N_("after crossing")}


def scope_words(scope: str, labels: Labels | None = None) -> str:
    """A scope in words: 'all trucks', 'export', a site's, yard's or road's display name,
    'Hữu Nghị freight road (export)', 'predeclared: yes'."""
    if scope in SCOPES:
        return _(SCOPES[scope])
    if scope in DIRECTIONS:
        return display(scope, labels) if labels and scope in labels else _(DIRECTIONS[scope])
    if "=" in scope:
        key, value = scope.split("=", 1)
        if key == "site":
            return display(value, labels)
        return f"{display(key, labels)}: {_('yes') if value == 'true' else _('no')}"
    if "." in scope:
        lane, side = scope.rsplit(".", 1)
        if side in DIRECTIONS:
            return f"{display(lane, labels)} ({scope_words(side, labels)})"
    return display(scope, labels)


def figure_words(metric: str, stat: str, scope: str = "system", labels: Labels | None = None,
                 unit: bool = True, currency: str = "VND") -> str:
    """A (metric, stat, scope) in words, e.g. 'time in the system — export, 95th percentile
    (h)'; a road's queue as 'queue on QL1A'."""
    name, u = FIGURES.get(metric, (metric.replace("_", " "), ""))
    if metric == "road_queue" and scope != "system":
        text = _("queue on {road}").format(road=display(scope, labels))
    else:
        text = _(name) + ("" if scope == "system" else f" — {scope_words(scope, labels)}")
    text += f", {_(STATS.get(stat, stat))}"
    u = currency if metric.endswith("cost_per_day") else _(u) if u else ""
    return text + (f" ({u})" if unit and u else "")


def unit_of(metric: str, currency: str = "VND") -> str:
    """The unit of a metric's values, in words ('' when it has none)."""
    u = FIGURES.get(metric, ("", ""))[1]
    return currency if metric.endswith("cost_per_day") else _(u) if u else ""


def fmt(x: Any, digits: int | None = None) -> str:
    """A number as a planner reads it in the current language: about three significant
    figures, '–' when missing; text passes through."""
    if x is None or isinstance(x, str):
        return "–" if x is None else x
    if isinstance(x, bool):
        return _("yes") if x else _("no")
    if abs(x) < 1e-9:  # float noise, e.g. a difference of two equal means
        x = 0
    if digits is None and float(x).is_integer():
        digits = 0
    elif digits is None and 0 < abs(x) < 0.01:  # two significant figures, not '0.00'
        digits = 1 - math.floor(math.log10(abs(x)))
    text = number(x, digits)
    return "−" + text[1:] if text.startswith("-") else text  # a true minus sign


def signed(x: float | None, digits: int | None = None) -> str:
    """A difference with its sign, '+0.43' / '−1.2'."""
    if x is None or not math.isfinite(x):
        return "–"
    text = fmt(abs(x), digits)
    if not text.strip("0,."):
        return fmt(0)
    return ("+" if x > 0 else "−") + text


def money(x: float | None, currency: str, sign: bool = False, big: bool | None = None) -> str:
    """An amount as a planner says it: 'VND 652 million', 'VND 137'; ``sign``: '+VND 51.4
    million' for a difference; ``big``: in millions or not (default: from its size), so that
    the amounts of one sentence share a unit."""
    if x is None or not math.isfinite(x):
        return "–"
    big = abs(x) >= 1e6 if big is None else big
    amount = fmt(abs(x) / 1e6 if big else abs(x))
    text = (_("{currency} {amount} million") if big else _("{currency} {amount}")).format(
        currency=currency, amount=amount)
    return ("−" if x < 0 else "+" if sign and x > 0 and amount.strip("0,.") else "") + text


def share(x: float | None) -> str:
    """A share as a percentage: one decimal below 10 % ('5.6 %'), none above or at 0."""
    if x is None or not math.isfinite(x):
        return "–"
    return percent(x, 1 if 0 < abs(x) < 0.1 else 0)


def period(start: dt.datetime, warmup_days: float, horizon_days: float) -> str:
    """The days the statistics cover, after the warm-up: '1 Aug 2024 – 31 Aug 2024'."""
    first = start + dt.timedelta(days=warmup_days)
    last = start + dt.timedelta(days=horizon_days) - dt.timedelta(minutes=1)
    return date(first.date()) if first.date() == last.date() else \
        f"{date(first.date())} – {date(last.date())}"


def names(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c' in the current language."""
    if len(items) <= 1:
        return "".join(items)
    return _("{items} and {last}").format(items=", ".join(items[:-1]), last=items[-1])


# --- scenario fields and their written values, in words ------------------------------------
FIELDS = {
    "slots": N_("slots"), "servers": N_("servers"), "service": N_("service time"),
    "capacity_per_hour": N_("capacity (trucks/h)"), "rate_per_day": N_("trucks/day"),
    "cost_per_slot_year": N_("cost per slot and year"), "overflow": N_("when full"),
    "hourly_profile": N_("arrivals by hour of day"), "time_budget_h": N_("time budget (h)"),
    "waiting_cost_per_day": N_("waiting cost per truck and day"),
    "crossing_time": N_("crossing time"), "windows": N_("opening hours"),
    "clock_offset_h": N_("clock ahead of Hanoi (h)"), "start": N_("start"),
    "horizon_days": N_("days simulated"), "warmup_days": N_("warm-up (days)"),
    "rate_factor": N_("day-to-day factor of the rate"), "cap_factor": N_("day-to-day factor "
                                                                         "of the caps"),
    "cap_clock_offset_h": N_("day of the caps ahead of Hanoi (h)"), "daily_cap": N_("daily caps"),
    "cv": N_("coefficient of variation"), "law": N_("law"), "p": N_("share"),
    "autocorrelation": N_("day-to-day correlation"), "weekday_multipliers": N_("by weekday"),
    "date_multipliers": N_("by date"), "attributes": N_("attribute shares"),
    "dist": N_("law"), "mean": N_("mean"), "unit": N_("unit"), "open": N_("opens"),
    "close": N_("closes"), "mode": N_("mode"), "low": N_("low"), "high": N_("high"),
}
UNITS = {"slots": N_("slots"), "servers": N_("servers"), "capacity_per_hour": N_("trucks/h"),
         "rate_per_day": N_("trucks/day")}
PROVENANCE = (N_("seed"), N_("replications"), N_("worker processes"),
              N_("random-stream layout version"), N_("run time (s)"), N_("trucks arrived"),
              N_("host"), N_("scenario file"), N_("versions"), N_("results folder"),
              N_("targets file"), N_("candidates (runs)"), N_("search budget"),
              N_("scenarios"), N_("scenario files"), N_("design"), N_("points (computed)"),
              N_("warm-up"))
"""The row names of the provenance tables (figures.py), marked here, translated where shown."""
NOTE_TAGS = {"src": N_("Source"), "assumption": N_("Assumption"), "calibrated": N_("Calibrated")}
_TAGGED = re.compile(r"(?:^|[;:]\s+)(?:(src|assumption)\b:?|(calibrated)\b(?= \(|:))\s*")


def field_words(path: str, labels: Labels | None = None) -> str:
    """A scenario field's path in words: 'Hữu Nghị export yard — slots' for
    ``yards.hn_export_yard.slots``; a top-level field by its own words."""
    parts = [p for p in path.replace("[]", "").split(".") if p]
    if len(parts) == 1:
        return _(FIELDS.get(parts[0], parts[0].replace("_", " ")))
    item = display(parts[1], labels)
    if parts[0] == "lanes" and len(parts) > 2 and parts[2] in DIRECTIONS:
        item, parts = scope_words(f"{parts[1]}.{parts[2]}", labels), parts[1:]
    rest = [_(FIELDS[p]) if p in FIELDS else p.replace("_", " ") for p in parts[2:]
            if p != "weekly"]
    if parts[0] == "clock":
        return _(FIELDS.get(parts[1], parts[1].replace("_", " ")))
    return f"{item} — {', '.join(rest)}" if rest else item


def _plain(v: Any) -> str:
    if isinstance(v, dict):
        if "value" in v and ("low" in v or "high" in v):
            return _("{value} (range {low} – {high})").format(
                value=_plain(v["value"]), low=_plain(v.get("low")), high=_plain(v.get("high")))
        return ", ".join(f"{_(FIELDS[k]) if k in FIELDS else k} {_plain(x)}"
                         for k, x in v.items() if k not in ("name", "label")) or "–"
    if isinstance(v, list):
        return ", ".join(_plain(x) for x in v) or "–"
    if isinstance(v, bool):
        return _("yes") if v else _("no")
    if isinstance(v, int | float):
        return fmt(v)
    return "–" if v is None else str(v)


def value_words(text: str) -> str:
    """A value as written in a scenario file, without YAML syntax: a range as '400 (range 300
    – 500)', a law as 'dist lognormal, mean 15 (range 10 – 25), …', an alias as 'as above'."""
    text = re.sub(r"&[\w-]+\s*", "", text.strip())
    if re.fullmatch(r"\*[\w-]+", text):
        return _("as {name} above").format(name=text[1:].replace("_", " "))
    text = re.sub(r"\*([\w-]+)", r"\1", text)
    try:
        return _plain(yaml.safe_load(text))
    except yaml.YAMLError:
        return text


def note_parts(note: str) -> list[tuple[str, str]]:
    """A source comment split into its tagged parts: [('Source', '§1b …'), ('Assumption', …)];
    text before any tag is kept untagged."""
    found = list(_TAGGED.finditer(note))
    if not found:
        return [("", note)]
    parts = [("", note[:found[0].start()].strip(" ;"))] if found[0].start() else []
    for m, nxt in zip(found, [*found[1:], None], strict=True):
        body = note[m.end():nxt.start() if nxt else len(note)].strip(" ;")
        parts.append((_(NOTE_TAGS[m.group(1) or m.group(2)]), body))
    return [(k, v) for k, v in parts if v]


def setting_words(param: str, value: Any, labels: Labels | None = None) -> tuple[str, str]:
    """(what, value in words) of one swept parameter: ('Hữu Nghị export yard', '800 slots');
    other fields as their words and the bare value."""
    parts = param.split(".")
    shown = fmt(value) if isinstance(value, int | float) else str(value)
    if len(parts) >= 3 and parts[-1] in UNITS:
        item = display(parts[1], labels)
        if parts[0] == "lanes" and parts[2] in DIRECTIONS:
            item = scope_words(f"{parts[1]}.{parts[2]}", labels)
        return item, f"{shown} {_(UNITS[parts[-1]])}"
    return field_words(param, labels), shown


def paragraphs(lines: list[str]) -> list[str]:
    """A file's free comment lines as paragraphs: wrapped lines joined, a paragraph ending at
    a full stop or colon before a capital, '--- heading ---' rules kept as their words."""
    out: list[str] = []
    current = ""
    for line in lines:
        line = line.strip()
        rule = re.fullmatch(r"-{2,}\s*(.*?)\s*-*", line)
        if rule:
            out += [p for p in (current, rule.group(1)) if p]
            current = ""
            continue
        if current and current.endswith((".", ":")) and line[:1].isupper():
            out.append(current)
            current = line
        else:
            current = f"{current} {line}".strip()
    return [p for p in [*out, current] if p]


# --- cells of the tables the templates draw ------------------------------------------------
def cell(text: str, cls: str = "", span: int = 1, title: str = "", kind: str = ""
         ) -> dict[str, Any]:
    """One cell of a template table."""
    return {"text": text, "cls": cls, "span": span, "title": title, "kind": kind}


def flag(flag: bool, yes: str, no: str, neutral: bool = False) -> dict[str, Any]:
    """A yes/no cell drawn as a coloured flag."""
    return cell(yes if flag else no, "flag " + ("yes" if flag else "neutral" if neutral
                                                 else "no"))


# --- verdicts of a comparison's rows --------------------------------------------------------
HIGHER_IS_BETTER = {"throughput_per_day"}


def verdict(metric: str, row: dict[str, Any] | None, block: bool = True) -> str:
    """'better', 'worse' or '' (no difference shown), from the row's interval: the summary
    block's simultaneous one where the row is in it (and ``block``), else its own 95 %."""
    if row is None:
        return ""
    in_block = block and bool(row.get("in_block"))
    significant = row["significant_block"] if in_block else row["significant"]
    if not significant or not math.isfinite(row["diff"]):
        return ""
    return "better" if (row["diff"] > 0) == (metric in HIGHER_IS_BETTER) else "worse"


def interval(row: dict[str, Any]) -> tuple[float, float]:
    """The interval a row's verdict is judged on (simultaneous in the summary block)."""
    if row.get("in_block"):
        return row["ci_low_block"], row["ci_high_block"]
    return row["ci_low"], row["ci_high"]


def verdict_words(v: str) -> Markup:
    """A verdict in words, coloured: better, worse, no clear difference."""
    text = {"better": _("better"), "worse": _("worse")}.get(v, _("no clear difference"))
    return Markup('<strong class="{}">{}</strong>').format(v or "same", text)
