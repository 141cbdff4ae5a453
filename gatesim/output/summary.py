"""The answer a report leads with: a heading that says what was asked, a few sentences with
numbers, and compact tables per site, direction and cargo (throughput against demand, time in
the system, loads over their time budget), each yard's peak against its slots, each road's
queue and the cost per day — for a run, for a comparison side by side with the paired
differences and verdicts of its summary block, and one sentence for a sweep.

Computed from result tables and the resolved scenario only. A table is a plain structure the
template draws as it is: ``{"caption", "head": [[cell]], "rows": [[cell]], "note"}``, a cell
``{"text", "cls", "span", "title", "kind"}``; sentences are Markup (their verdicts coloured).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from markupsafe import Markup

from gatesim.i18n import _, display, percent
from gatesim.output.describe import demand
from gatesim.output.reader import RunFiles
from gatesim.output.words import (
    DIRECTIONS,
    Labels,
    cell,
    fmt,
    interval,
    money,
    names,
    period,
    scope_words,
    share,
    signed,
    verdict,
    verdict_words,
)
from gatesim.scenario.labels import labels_of, title_of
from gatesim.scenario.schema import Scenario

Key = tuple[str, str, str]


# --- reading a summary and a comparison ----------------------------------------------------
class Figures:
    """The estimates of one run's summary table, by (metric, scope, stat)."""

    def __init__(self, summary: pd.DataFrame) -> None:
        self._t = {(r.metric, r.scope, r.stat): (r.estimate, r.ci_low, r.ci_high)
                   for r in summary.itertuples()}

    def __call__(self, metric: str, scope: str, stat: str) -> float | None:
        v = self._t.get((metric, scope, stat))
        return None if v is None or not math.isfinite(v[0]) else float(v[0])

    def ci(self, key: Key) -> tuple[float, float]:
        return self._t.get(key, (math.nan,) * 3)[1:]  # type: ignore[return-value]

    def has(self, key: Key) -> bool:
        return key in self._t


# --- rows: sites, directions, cargo ---------------------------------------------------------
def flow_scopes(s: Scenario, present: Figures) -> list[tuple[str, str]]:
    """(scope, kind) of the summary table's rows: all trucks, each site, direction, cargo."""
    sites = []
    for a in s.arrivals.values():
        for site in (a.site if isinstance(a.site, dict) else [a.site] if a.site else []):
            sites.append(f"site={site}")
    cargo = [*s.cargo, *(a.cargo for a in s.arrivals.values())]
    rows = [("system", ""), *((x, _("site")) for x in dict.fromkeys(sites)),
            *((x, _("direction")) for x in DIRECTIONS),
            *((x, _("cargo")) for x in dict.fromkeys(cargo))]
    return [(sc, kind) for sc, kind in rows if present.has(("throughput_per_day", sc, "mean"))]


def _budgets(s: Scenario) -> dict[str, float]:
    return {k: c.time_budget_h for k, c in s.cargo.items() if c.time_budget_h is not None}


def _label(scope: str, kind: str, s: Scenario, labels: Labels) -> dict[str, Any]:
    text = scope_words(scope, labels)
    budget = _budgets(s).get(scope)
    if scope == "system" or scope in DIRECTIONS:
        text = text[:1].upper() + text[1:]
    return cell(text, "label", kind=kind,
                 title=_("time budget {h} h").format(h=fmt(budget)) if budget else "")


# --- one run -------------------------------------------------------------------------------
def _warmup(run: RunFiles) -> float:
    days = (run.meta.get("warmup") or {}).get("days")
    return float(days) if days is not None else float(run.scenario.clock.warmup_days)


def when(run: RunFiles) -> str:
    """The days the statistics cover, in words."""
    s = run.scenario
    return period(s.clock.start, _warmup(run), s.clock.horizon_days)


def limited_yards(s: Scenario) -> list[str]:
    return [n for n, y in s.yards.items() if y.slots]


def _full(peak: float | None, slots: float | None) -> bool:
    return peak is not None and bool(slots) and peak >= 0.99 * slots  # type: ignore[operator]


def run_answer(run: RunFiles) -> dict[str, Any]:
    """The answer block of a run: heading, sentences, tables."""
    s, f = run.scenario, Figures(run.summary)
    labels = labels_of(s)
    dem = demand(s, _warmup(run))
    title = _("{scenario}, {period}: {n} replications").format(
        scenario=title_of(s), period=when(run), n=run.meta.get("replications"))
    cleared, wanted = f("throughput_per_day", "system", "mean"), dem.get("system")
    sentences = []
    if wanted:
        sentences.append(_("Of the {demand} trucks a day the scenario brings, the gates clear "
                           "{cleared} ({share}).").format(
            demand=fmt(wanted), cleared=fmt(cleared),
            share=percent((cleared or 0) / wanted)))
    else:
        sentences.append(_("The gates clear {cleared} trucks a day.").format(cleared=fmt(cleared)))
    lo, hi = f.ci(("time_in_system_h", "system", "mean"))
    sentences.append(_("A truck spends {mean} h in the system on average (95 % CI {lo} to "
                       "{hi}); one in twenty spends more than {p95} h.").format(
        mean=fmt(f("time_in_system_h", "system", "mean")), lo=fmt(lo), hi=fmt(hi),
        p95=fmt(f("time_in_system_h", "system", "p95"))))
    over = [_("{cargo} {share} (budget {h} h)").format(
        share=share(v), cargo=display(c, labels), h=fmt(b))
        for c, b in sorted(_budgets(s).items(), key=lambda x: x[1])
        if (v := f("over_time_budget", c, "share")) is not None]
    if over:
        sentences.append(_("Loads over their time budget: {items}.").format(items=names(over)))
    sentences.append(_yards_sentence(s, labels, f))
    queues = [r for r in s.roads if (f("road_queue", r, "mean") or 0) >= 0.05]
    quiet = [display(r, labels) for r in s.roads if r not in queues]
    roads = [_("{road} {mean} trucks on average ({p95} at the 95th percentile)").format(
        road=display(r, labels), mean=fmt(f("road_queue", r, "mean")),
        p95=fmt(f("road_queue", r, "p95"))) for r in queues]
    if roads:
        sentences.append(_("Queues on the roads: {roads}{quiet}.").format(
            roads=names(roads), quiet=_("; none on {roads}").format(roads=names(quiet))
            if quiet else ""))
    elif quiet:
        sentences.append(_("No trucks queue on the roads ({roads}).").format(
            roads=names(quiet)))
    sentences.append(_cost_sentence(s, f))
    return {"title": title, "sentences": [Markup.escape(x) for x in sentences if x],
            "tables": [_flows_table(s, labels, [f], dem), *_places_tables(s, labels, [f])],
            "notes": [_("Demand: the trucks a day the scenario brings on average over these "
                        "days; cleared: trucks that left after crossing; peak: the highest count "
                        "in a replication, averaged over replications.")]}


def _yards_sentence(s: Scenario, labels: Labels, f: Figures) -> str:
    peaks = [(n, f("yard_occupancy", n, "max"), s.yards[n].slots) for n in limited_yards(s)]
    peaks = [(n, p, sl) for n, p, sl in peaks if p is not None]
    if not peaks:
        return ""
    full = [_("{yard} ({peak} of {slots} slots)").format(
        yard=display(n, labels), peak=fmt(p), slots=fmt(sl)) for n, p, sl in peaks
        if _full(p, sl)]
    if full:
        return _("Yards that fill up at their peak: {yards}.").format(yards=names(full))
    n, p, sl = max(peaks, key=lambda x: x[1] / x[2])
    return _("No yard fills up; the fullest, {yard}, peaks at {peak} of {slots} slots.").format(
        yard=display(n, labels), peak=fmt(p), slots=fmt(sl))


def _cost_sentence(s: Scenario, f: Figures) -> str:
    total = f("total_cost_per_day", "system", "mean")
    if not total:  # no costs given in the scenario
        return ""
    return _("Cost: {total} a day, of which waiting {wait} and yard slots {slots}.").format(
        total=money(total, s.currency),
        wait=money(f("waiting_cost_per_day", "system", "mean"), s.currency),
        slots=money(f("capacity_cost_per_day", "system", "mean"), s.currency))


def _flows_table(s: Scenario, labels: Labels, runs: list[Figures],
                 dem: dict[str, float | None], rows: list[dict[str, Any]] | None = None,
                 heads: list[str] | None = None) -> dict[str, Any]:
    """Sites, directions and cargo (rows) × demand, cleared, time in system, over budget;
    with several runs one column per run in each group (``heads``), and Δ when there are
    two, coloured by its verdict."""
    n, delta = len(runs), len(runs) == 2
    heads = heads or [""]
    budgets = bool(_budgets(s))
    if n == 1:
        top = [cell("", "label"), cell(_("trucks/day"), "group", span=2),
               cell(_("time in the system (h)"), "group", span=2)]
        sub = [_("demand"), _("cleared"), _("mean"), _("p95")]
        if budgets:
            top.append(cell(_("over time budget"), "group"))
            sub.append(_("share"))
    else:
        top = [cell("", "label"), cell(_("trucks/day"), "group", span=1 + n),
               cell(_("time in the system, mean (h)"), "group", span=n + delta),
               cell(_("time in the system, p95 (h)"), "group", span=n + delta)]
        sub = [_("demand"), *(_("cleared {name}").format(name=h) for h in heads),
               *heads, *(["Δ"] if delta else []), *heads, *(["Δ"] if delta else [])]
        if budgets:
            top.append(cell(_("over time budget"), "group", span=n))
            sub += heads
    head = [top, [cell("", "label"), *(cell(x, "num") for x in sub)]]
    cmp = {(r["metric"], r["scope"], r["stat"]): r for r in rows or []}
    body = []
    for scope, kind in flow_scopes(s, runs[0]):
        row = [_label(scope, kind, s, labels), cell(fmt(dem.get(scope)), "num")]
        for metric, stat in (("throughput_per_day", "mean"), ("time_in_system_h", "mean"),
                             ("time_in_system_h", "p95"), ("over_time_budget", "share")):
            budget = metric == "over_time_budget"
            if budget and not budgets:
                continue
            r = cmp.get((metric, scope, stat))
            v = verdict(metric, r)
            row += [cell(share(f(metric, scope, stat)) if budget else
                          fmt(f(metric, scope, stat)), "num" + (f" {v}" if i else ""),
                          title="" if i == 0 else _ci_title(r))
                    if not budget or scope in _budgets(s) else cell("", "num")
                    for i, f in enumerate(runs)]
            if delta and metric == "time_in_system_h":
                row.append(cell(signed(r["diff"]) if r else "–", f"num delta {v or 'same'}",
                                 title=_ci_title(r)))
        body.append(row)
    return {"caption": _("Trucks by site, direction and cargo"), "head": head, "rows": body,
            "note": "", "cls": "flows"}


def _ci_title(r: dict[str, Any] | None) -> str:
    if r is None:
        return ""
    lo, hi = interval(r)
    return _("95 % CI {lo} to {hi}").format(lo=signed(lo), hi=signed(hi))


def _places_tables(s: Scenario, labels: Labels, runs: list[Figures],
                   scenarios: list[Scenario] | None = None, heads: list[str] | None = None,
                   rows: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Each yard's peak against its slots, each road's queue (one column per run)."""
    scenarios = scenarios or [s]
    cmp = {(r["metric"], r["scope"], r["stat"]): r for r in rows or []}
    yards = list(dict.fromkeys(n for sc in scenarios for n in limited_yards(sc)))
    one = len(runs) == 1
    yard_rows = []
    for y in yards:
        row = [cell(display(y, labels), "label")]
        for f, sc in zip(runs, scenarios, strict=True):
            slots = sc.yards[y].slots if y in sc.yards else None
            peak = f("yard_occupancy", y, "max") if slots else None
            if one:
                row += [cell(fmt(f("yard_occupancy", y, "mean")), "num"),
                        cell(fmt(peak), "num" + (" full" if _full(peak, slots) else "")),
                        cell(fmt(slots), "num")]
            else:
                text = "–" if not slots else f"{fmt(peak)} / {fmt(slots)}"
                row.append(cell(text, "num" + (" full" if _full(peak, slots) else "")))
        yard_rows.append(row)
    if one:
        yard_head = [cell(_("yard"), "label"), cell(_("mean"), "num"), cell(_("peak"), "num"),
                     cell(_("slots"), "num")]
    else:
        yard_head = [cell(_("yard"), "label"), *(cell(h, "num") for h in heads or [])]
    road_rows = []
    for r in s.roads:
        row = [cell(display(r, labels), "label")]
        for stat in ("mean", "p95"):
            v = verdict("road_queue", cmp.get(("road_queue", r, stat)))
            row += [cell(fmt(f("road_queue", r, stat)), "num" + (f" {v}" if i else ""),
                          title=_ci_title(cmp.get(("road_queue", r, stat))) if i else "")
                    for i, f in enumerate(runs)]
        road_rows.append(row)
    if one:
        road_head = [[cell(_("road"), "label"), cell(_("mean"), "num"), cell(_("p95"), "num")]]
    else:
        road_head = [[cell("", "label"), cell(_("mean"), "group", span=len(runs)),
                      cell(_("p95"), "group", span=len(runs))],
                     [cell(_("road"), "label"), *(cell(h, "num") for h in (heads or []) * 2)]]
    return [{"caption": _("Yards: trucks parked, peak against slots"), "head": [yard_head],
             "rows": yard_rows, "cls": "places side",
             "note": ""},
            {"caption": _("Roads: trucks queuing"), "head": road_head, "rows": road_rows,
             "note": "", "cls": "places"}]


# --- a comparison --------------------------------------------------------------------------
def _say(text: str, **values: Any) -> Markup:
    """A translated sentence with its values escaped (verdicts stay coloured)."""
    return Markup(text).format(**values)


def comparison_answer(runs: list[RunFiles], cmp: pd.DataFrame) -> dict[str, Any]:
    """The answer block of a comparison (baseline first): heading, sentences per other
    scenario with the summary block's verdicts, and the tables side by side (A, B, …)."""
    base = runs[0].scenario
    labels = {k: v for run in runs for k, v in labels_of(run.scenario).items()}
    shown = [title_of(run.scenario) for run in runs]
    heads = [chr(ord("A") + i) for i in range(len(runs))]
    title = _("{others} vs {baseline}, {period}: {n} replications").format(
        others=names(shown[1:]), baseline=shown[0], period=when(runs[0]),
        n=runs[0].meta.get("replications"))
    figs = [Figures(run.summary) for run in runs]
    dem = demand(base, _warmup(runs[0]))
    sentences: list[Markup] = []
    for run, name, f in zip(runs[1:], shown[1:], figs[1:], strict=True):
        rows = {(r["metric"], r["scope"], r["stat"]): r for r in
                cmp[cmp["scenario"] == run.scenario.name].to_dict(orient="records")}
        sentences += _comparison_sentences(base, labels, rows, figs[0], f, name, shown[0], dem)
    rows = cmp[cmp["scenario"] == runs[1].scenario.name].to_dict(orient="records") \
        if len(runs) == 2 else []
    legend = "; ".join(f"{h}: {n}" for h, n in zip(heads, shown, strict=True))
    flows = _flows_table(base, labels, figs, dem, rows, heads)
    flows["caption"] += f" ({legend})"
    return {"title": title, "sentences": sentences,
            "tables": [flows, *_places_tables(base, labels, figs, [r.scenario for r in runs],
                                              heads, rows)],
            "notes": [_("Δ = B − A; green: better, red: worse, when its 95 % CI excludes 0 "
                        "(for all trucks and the roads, intervals that hold together); hover a "
                        "value for its interval. Demand: trucks a day the scenario brings. "
                        "Yards: peak (the highest count, averaged over replications) / slots.")]}


def _comparison_sentences(s: Scenario, labels: Labels, rows: dict[Key, dict[str, Any]],
                          fa: Figures, fb: Figures, b: str, a: str,
                          dem: dict[str, float | None]) -> list[Markup]:
    def row(*key: str) -> dict[str, Any] | None:
        return rows.get(key)  # type: ignore[arg-type]

    def ci(r: dict[str, Any]) -> dict[str, str]:
        lo, hi = interval(r)
        return {"diff": signed(r["diff"]), "lo": signed(lo), "hi": signed(hi)}

    out = []
    r = row("time_in_system_h", "system", "mean")
    if r:
        more = r["diff"] > 0
        out.append(_say(
            _("Trucks spend {abs} h longer in the system with {b} ({vb} h vs {va} h, "
              "difference {diff} h, 95 % CI {lo} to {hi}): {verdict}.") if more else
            _("Trucks spend {abs} h less in the system with {b} ({vb} h vs {va} h, "
              "difference {diff} h, 95 % CI {lo} to {hi}): {verdict}."),
            abs=fmt(abs(r["diff"])), b=b, vb=fmt(r["estimate"]), va=fmt(r["baseline_estimate"]),
            **ci(r), verdict=verdict_words(verdict(r["metric"], r))))
    r = row("time_in_system_h", "system", "p95")
    if r:
        v = verdict(r["metric"], r)
        out.append(_say(_("One truck in twenty spends more than {vb} h with {b}, {va} h with "
                          "{a} (difference {diff} h, 95 % CI {lo} to {hi}): {verdict}.") if v
                        else _("One truck in twenty spends more than {vb} h with {b}, {va} h "
                               "with {a}: {verdict}."),
                        b=b, a=a, vb=fmt(r["estimate"]), va=fmt(r["baseline_estimate"]),
                        **ci(r), verdict=verdict_words(v)))
    r = row("throughput_per_day", "system", "mean")
    if r:
        v = verdict(r["metric"], r)
        out.append(_say(_("Of the {demand} trucks arriving a day, {b} clears {vb} and {a} {va} "
                          "(difference {diff}, 95 % CI {lo} to {hi}): {verdict}.") if v else
                        _("Of the {demand} trucks arriving a day, {b} clears {vb} and {a} "
                          "{va}: {verdict}."),
                        b=b, a=a, vb=fmt(r["estimate"]), va=fmt(r["baseline_estimate"]),
                        demand=fmt(dem.get("system")), **ci(r), verdict=verdict_words(v)))
    queues, quiet = [], []
    for n in s.roads:
        r = row("road_queue", n, "mean")
        if r is None:
            continue
        if max(abs(r["estimate"]), abs(r["baseline_estimate"])) < 0.05:
            quiet.append(display(n, labels))
            continue
        queues.append(_say(_("{road} {va} → {vb} ({verdict})"), road=display(n, labels),
                           va=fmt(r["baseline_estimate"]), vb=fmt(r["estimate"]),
                           verdict=verdict_words(verdict("road_queue", r))))
    if queues:
        out.append(_say(_("Trucks queuing on the roads, on average: {roads}{quiet}."),
                        roads=Markup(names(queues)), quiet=_("; none on {roads}").format(
                            roads=names(quiet)) if quiet else ""))
    elif quiet:
        out.append(_say(_("No trucks queue on the roads ({roads}) in either."),
                        roads=names(quiet)))
    over = [_say(_("{cargo} {va} → {vb} ({verdict})"), cargo=display(c, labels),
                 va=share(r["baseline_estimate"]), vb=share(r["estimate"]),
                 verdict=verdict_words(verdict("over_time_budget", r)))
            for c in sorted(_budgets(s), key=_budgets(s).__getitem__)
            if (r := row("over_time_budget", c, "share"))]
    if over:
        out.append(_say(_("Loads over their time budget: {items}."), items=Markup(names(over))))
    r = row("total_cost_per_day", "system", "mean")
    if r and (r["estimate"] or r["baseline_estimate"]):
        lo, hi = interval(r)
        c = s.currency
        big = max(abs(r["estimate"]), abs(r["baseline_estimate"])) >= 1e6
        out.append(_say(_("Cost per day: {va} → {vb} (difference {diff}, 95 % CI {lo} to "
                          "{hi}): {verdict}."),
                        va=money(r["baseline_estimate"], c, big=big),
                        vb=money(r["estimate"], c, big=big),
                        diff=money(r["diff"], c, True, big), lo=money(lo, c, True, big),
                        hi=money(hi, c, True, big),
                        verdict=verdict_words(verdict(r["metric"], r))))
    return out
