"""The HTML report: one self-contained file a planner can put in front of the province.

Built from a results directory only — a run, a comparison of scenarios, a capacity sweep or
an analysis (sensitivity, Morris screening, calibration: analysis_report.py) — so it can be
rebuilt at any time without simulating. It leads with the answer (summary.py): what was
asked, a few sentences with numbers and compact tables, visible without scrolling; then the
detailed figures, the scenario in prose and tables, the plots, assumptions, validation and
provenance. English or Vietnamese (``lang``): every visible word goes through gettext,
numbers and dates through the language's formats. A run, comparison or sweep report may
include the sections of analysis directories (``include``). Plots are embedded as base64 PNG
and the styles are inline: the file opens offline and fetches nothing. The PNG and SVG files
are also left in the results directory's ``plots/`` for slides. A report replaces only a file
that is itself a gatesim report (it carries ``<meta name="generator" content="gatesim">``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import jinja2
import pandas as pd
from markupsafe import Markup

from gatesim import i18n
from gatesim.errors import GatesimError, WriteFailed
from gatesim.experiments.stability import growth
from gatesim.i18n import _
from gatesim.output import plots, reader, summary
from gatesim.output.describe import describe, differences
from gatesim.output.figures import embed, provenance
from gatesim.output.reader import RunFiles
from gatesim.output.words import (
    UNITS,
    field_words,
    figure_words,
    fmt,
    names,
    note_parts,
    paragraphs,
    period,
    setting_words,
    signed,
    value_words,
    verdict,
)
from gatesim.scenario.labels import labels_of, title_of
from gatesim.scenario.loader import validate
from gatesim.scenario.schema import Scenario
from gatesim.scenario.sources import sources

Kind = Literal["run", "comparison", "sweep", "sensitivity", "screening", "calibration"]
ANALYSES = ("sensitivity", "screening", "calibration")
"""The kinds with their own template (analysis.html.j2), built by analysis_report.py."""
GENERATOR_TAG = '<meta name="generator" content="gatesim">'


def kind_of(results_dir: Path) -> Kind:
    """Which results a directory holds: a comparison, a sweep, a single run or an analysis."""
    d = Path(results_dir)
    if (d / "comparison.csv").is_file():
        return "comparison"
    if (d / "sweep.csv").is_file():
        return "sweep"
    if (d / "summary.json").is_file():
        return "run"
    for kind in ANALYSES:
        if (d / f"{kind}.json").is_file():
            return kind  # type: ignore[return-value]
    raise GatesimError(f"{d}: not a results directory (no summary.json, comparison.csv, "
                       "sweep.csv, sensitivity.json, screening.json or calibration.json)")


def _figure(png: Path) -> dict[str, str]:
    return embed(png, plots.caption(png.stem))


# --- sources and assumptions from the scenario file's comments ----------------------------
def _assumptions(meta: dict[str, Any], s: Scenario | None) -> dict[str, Any]:
    file = meta.get("scenario_file")
    if not file:
        return {"file": None, "missing": _("Source comments not available (the results do not "
                                           "name the scenario file).")}
    try:
        notes, rows = sources(Path(file))
    except OSError as exc:
        return {"file": file, "missing": _("Source comments not available ({reason}: "
                                           "{file}).").format(reason=exc.strerror, file=file)}
    labels = labels_of(s) if s is not None else {}
    kinds = {"source": _("source"), "assumption": _("assumption"),
             "source + assumption": _("source + assumption")}
    shown = [{"field": field_words(r["field"], labels), "value": value_words(r["value"]),
              "kind": kinds.get(r["kind"], r["kind"]), "assumed": "assumption" in r["kind"],
              "note": note_parts(r["note"])} for r in rows]
    return {"file": file, "missing": None, "notes": paragraphs(notes), "rows": shown,
            "n_assumed": sum(r["assumed"] for r in shown)}


# --- figures, provenance, validation ------------------------------------------------------
def key_figures(summary_table: pd.DataFrame, keys: list[tuple[str, str, str]],
                s: Scenario | None = None) -> list[dict[str, Any]]:
    """The primary figures of a summary with their 95 % intervals, in words."""
    t = summary_table.set_index(["metric", "scope", "stat"])
    labels = labels_of(s) if s is not None else {}
    currency = s.currency if s is not None else "VND"
    rows = []
    for key in keys:
        if key in t.index:
            r = t.loc[key]
            note = r["note"] if isinstance(r["note"], str) else ""
            rows.append({"key": key, "label": figure_words(key[0], key[2], key[1], labels,
                                                           currency=currency),
                         "estimate": r["estimate"], "low": r["ci_low"], "high": r["ci_high"],
                         "n": r["n"], "note": _("interval clipped at 0") if note ==
                         "interval clipped at 0" else note})
    return rows


def _validation(d: Path) -> dict[str, Any] | None:
    f = d / "validation.csv"
    if not f.is_file():
        return None
    v = pd.read_csv(f)
    v["passed"] = reader.as_bool(v["passed"])
    return {"rows": v.to_dict(orient="records"), "passed": int(v["passed"].sum()),
            "total": len(v)}


def _scenario_block(run: RunFiles, plot_dir: Path | None) -> dict[str, Any]:
    return {"name": run.scenario.name, "describe": describe(run.scenario),
            "key_figures": key_figures(run.summary, reader.primary(run.scenario), run.scenario),
            "assumptions": _assumptions(run.meta, run.scenario),
            "figures": [] if plot_dir is None else
            [_figure(p) for p in plots.plot_run(run, plot_dir)],
            "records": run.trucks is not None and run.visits is not None, "differences": None}


def instability(name: str, stability: dict[str, Any]) -> str | None:
    """The banner of a run that is unstable or could not be judged; None when stable."""
    unstable = stability.get("unstable")
    if unstable:
        return _("{name} is UNSTABLE: its backlog grows by {growth} trucks a day, so its "
                 "waits and queues hold for this horizon only (a longer run gives larger "
                 "ones).").format(name=name, growth=fmt(growth(stability)))
    if unstable is None:
        return _("{name}: whether its backlog keeps growing could not be judged "
                 "({note}).").format(name=name, note=stability.get("note", ""))
    return None


def _instability(runs: list[RunFiles]) -> list[str]:
    return [text for run in runs if (text := instability(
        title_of(run.scenario), run.meta.get("stability", {})))]


# --- the three kinds of results -----------------------------------------------------------
def _run_context(d: Path, plot_dir: Path) -> dict[str, Any]:
    run = reader.read_run(d)
    return {"scenarios": [_scenario_block(run, plot_dir)], "meta": run.meta,
            "instability": _instability([run]), "answer": summary.run_answer(run)}


def _compared(d: Path, records: bool = True
              ) -> tuple[dict[str, Any], pd.DataFrame, list[RunFiles]]:
    """A comparison directory's comparison.json, its comparison.csv rows of the scenarios
    other than the baseline (flags as booleans) and its runs, baseline first."""
    meta = json.loads((d / "comparison.json").read_text(encoding="utf-8"))
    cmp = reader.with_block_columns(pd.read_csv(d / "comparison.csv"))
    cmp = cmp[cmp["scenario"] != meta["baseline"]].assign(
        significant=lambda c: reader.as_bool(c["significant"]),
        significant_block=lambda c: reader.as_bool(c["significant_block"]),
        in_block=lambda c: reader.as_bool(c["in_block"]) if "in_block" in c else True)
    names_ = [meta["baseline"], *(n for n in meta["scenarios"] if n != meta["baseline"])]
    return meta, cmp, [reader.read_run(d / n, records) for n in names_]


def answer_lines(results_dir: Path, lang: str = "en") -> list[str]:
    """The answer of a run, comparison or sweep as plain lines (heading, then its sentences),
    the same words as the report's summary block, for the terminal."""
    d = Path(results_dir)
    with i18n.using(lang):
        kind = kind_of(d)
        if kind == "run":
            answer = summary.run_answer(reader.read_run(d, records=False))
        elif kind == "comparison":
            _, cmp, runs = _compared(d, records=False)
            answer = summary.comparison_answer(runs, cmp)
        elif kind == "sweep":
            spec = json.loads((d / "sweep.json").read_text(encoding="utf-8"))
            s = validate(spec["scenario"], str(d / "sweep.json")) if spec.get("scenario") \
                else None
            answer = sweep_answer(spec, pd.read_csv(d / "sweep.csv"), s)
        else:
            return []
    return [Markup(answer["title"]).striptags(),
            *(f"  {Markup(s).striptags()}" for s in answer["sentences"])]


def _comparison_context(d: Path, plot_dir: Path) -> dict[str, Any]:
    meta, cmp, runs = _compared(d)
    blocks = [_scenario_block(run, None) for run in runs]  # one set of charts, overlaid
    for block in blocks[1:]:
        block["differences"] = differences(blocks[0]["describe"], block["describe"])
    titles = {run.scenario.name: title_of(run.scenario) for run in runs}
    labels = {k: v for run in runs for k, v in labels_of(run.scenario).items()}
    base = runs[0].scenario
    rows = []
    keys = reader.primary(base)
    for key in keys:
        sel = cmp[(cmp["metric"] == key[0]) & (cmp["scope"] == key[1]) & (cmp["stat"] == key[2])]
        for r in sel.to_dict(orient="records"):
            rows.append({**r, "label": figure_words(key[0], key[2], key[1], labels,
                                                    currency=base.currency),
                         "scenario_name": titles[r["scenario"]],
                         "verdict": verdict(key[0], r)})
    side = [{"label": figure_words(key[0], key[2], key[1], labels, currency=base.currency),
             "cells": [next((f for f in b["key_figures"] if f["key"] == key), None)
                       for b in blocks]} for key in keys]
    shown = cmp.assign(scenario=cmp["scenario"].map(titles))  # display names on the chart
    figures = [_figure(plots.plot_comparison(shown, titles[meta["baseline"]], keys, plot_dir,
                                             labels)),
               *(_figure(p) for p in plots.plot_overlay(runs, plot_dir))]
    return {"scenarios": blocks, "meta": meta, "figures": figures,
            "instability": _instability(runs), "answer": summary.comparison_answer(runs, cmp),
            "comparison": {"baseline": titles[meta["baseline"]], "rows": rows,
                           "side": side}}


def _sweep_context(d: Path, plot_dir: Path) -> dict[str, Any]:
    spec = json.loads((d / "sweep.json").read_text(encoding="utf-8"))
    sw = pd.read_csv(d / "sweep.csv")
    keys = plots.sweep_keys(spec)
    params, target = list(spec["params"]), spec.get("target")
    points = []
    for values, g in sw.groupby(params, sort=True):
        values = values if isinstance(values, tuple) else (values,)
        g = g.set_index(["metric", "scope", "stat"])
        cells = [g.loc[k].to_dict() if k in g.index else None for k in keys]
        meets = None
        if target and cells[0] is not None:
            meets = (cells[0]["ci_high"] <= target["value"] if target["op"] == "<="
                     else cells[0]["ci_low"] >= target["value"])
        points.append({"setting": [fmt(v) for v in values], "cells": cells, "meets": meets,
                       "best": spec.get("best") == dict(zip(params, values, strict=True))})
    s = validate(spec["scenario"], str(d / "sweep.json")) if spec.get("scenario") else None
    labels = labels_of(s) if s is not None else {}
    blocks = []
    if s is not None:
        blocks.append({"name": s.name, "describe": describe(s), "assumptions":
                       _assumptions(spec, s), "key_figures": [], "figures": [],
                       "records": False, "differences": None})
    unstable = spec.get("unstable_points") or []
    warning = [_("UNSTABLE at {n} of {total} points ({points}): their backlog keeps growing, "
                 "so their waits and queues hold for this horizon only.").format(
        n=len(unstable), total=spec.get("points", len(points)),
        points="; ".join(", ".join(" ".join(setting_words(k, v, labels)) for k, v in p.items())
                         for p in unstable[:5]) + (" …" if len(unstable) > 5 else ""))
        ] if unstable else []
    figures = [_figure(plots.plot_sweep(sw, spec, plot_dir, k)) for k in keys]
    answer = sweep_answer(spec, sw, s)
    answer["figure"] = figures[0] if figures else None
    return {"scenarios": blocks, "meta": spec, "instability": warning, "figures": figures[1:],
            "answer": answer,
            "sweep": {"params": [setting_words(p, 0, labels)[0] + (
                          f" ({_(UNITS[p.rsplit('.', 1)[-1]])})"
                          if p.rsplit(".", 1)[-1] in UNITS else "") for p in params],
                      "target": target,
                      "labels": [figure_words(m, st, sc, labels) for m, sc, st in keys],
                      "points": points}}


def sweep_answer(spec: dict[str, Any], sweep: pd.DataFrame, s: Scenario | None
                 ) -> dict[str, Any]:
    """The answer of a sweep: a heading and one sentence (the smallest setting meeting the
    target, judged on the cautious bound of its confidence interval)."""
    labels = labels_of(s) if s is not None else {}
    params, target, best = list(spec["params"]), spec.get("target"), spec.get("best")
    items = names([field_words(p, labels) for p in params])
    values = sweep[params[0]]
    if len(params) == 1 and len(values):
        items = _("{items} from {low} to {high}").format(items=items, low=fmt(values.min()),
                                                        high=fmt(values.max()))
    n = spec.get("replications")
    title = _("Sweep of {items}: {n} replications").format(items=items, n=n)
    if s is not None and isinstance(s.clock.warmup_days, int | float):
        title = _("Sweep of {items}: {scenario}, {period}, {n} replications").format(
            items=items, scenario=title_of(s), n=n,
            period=period(s.clock.start, s.clock.warmup_days, s.clock.horizon_days))
    answer: dict[str, Any] = {"title": title, "sentences": [], "tables": [], "notes": []}
    key = (target["metric"], target["scope"], target["stat"]) if target else None
    t = sweep[(sweep["metric"] == key[0]) & (sweep["scope"] == key[1])
              & (sweep["stat"] == key[2])] if key else sweep.iloc[:0]
    if key is None or t.empty:
        answer["sentences"] = [_("No target was given: the chart shows how the figures change "
                                 "with {items}.").format(items=items)]
        return answer
    upper = target["op"] == "<="
    goal = "{} {} {}".format(figure_words(key[0], key[2], key[1], labels, unit=False),
                             "≤" if upper else "≥", fmt(target["value"]))
    if best:
        for p, v in best.items():
            t = t[t[p] == v]
        chosen = t.iloc[0]
    else:
        chosen = t.loc[t["ci_high"].idxmin()] if upper else t.loc[t["ci_low"].idxmax()]
    bound = (_("upper CI bound {x}") if upper else _("lower CI bound {x}")).format(
        x=fmt(chosen["ci_high" if upper else "ci_low"]))
    said = [setting_words(p, chosen[p].item() if hasattr(chosen[p], "item") else chosen[p],
                          labels) for p in params]
    setting = "; ".join(f"{w}: {v}" for w, v in said)
    if best and len(params) == 1 and params[0].rsplit(".", 1)[-1] in UNITS:
        text = _("The smallest {item} meeting “{target}” is {value} ({bound}).").format(
            item=said[0][0], target=goal, value=said[0][1], bound=bound)
    elif best:
        text = _("The smallest setting meeting “{target}” is {setting} ({bound}).").format(
            target=goal, setting=setting, bound=bound)
    else:
        text = _("No setting tried meets “{target}”; the closest, {setting}, reaches "
                 "{bound}.").format(target=goal, setting=setting, bound=bound)
    answer["sentences"] = [text]
    if best and spec.get("best_unstable"):
        answer["sentences"].append(_("The target is met for this horizon only: at that "
                                     "setting the backlog keeps growing."))
    return answer


# --- building the file ---------------------------------------------------------------------
def _is_report(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            head = f.read(4096)
    except OSError:
        return False
    return GENERATOR_TAG.encode() in head


def environment() -> jinja2.Environment:
    """The templates with gettext and the language-aware number filters."""
    env = jinja2.Environment(loader=jinja2.PackageLoader("gatesim.output", "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined,
                             extensions=["jinja2.ext.i18n"])
    env.install_gettext_callables(i18n._, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters["fmt"] = fmt
    env.filters["percent"] = i18n.percent
    env.filters["signed"] = signed
    return env


def build_report(results_dir: Path, out: Path | None = None,
                 include: Sequence[Path] = (), lang: str = "en") -> Path:
    """Write one self-contained ``report.html`` for a run, comparison, sweep, sensitivity,
    screening or calibration directory, in ``lang`` ('en' or 'vi').

    The plots are also written as PNG and SVG under the results directory's ``plots/``.
    ``out`` may name another file; an existing one is replaced only if gatesim wrote it.
    ``include``: analysis directories whose sections a run, comparison or sweep report adds
    after its answer (their charts go to this directory's ``plots/``)."""
    from gatesim.output import analysis_report  # it builds on this module's helpers

    i18n.check(lang)
    d = Path(results_dir)
    out = Path(out) if out is not None else d / "report.html"
    if out.is_dir():
        raise GatesimError(f"--out {out}: is a directory; give the report's file name")
    if out.exists() and not _is_report(out):
        raise GatesimError(f"--out {out}: refused, it exists and is not a gatesim report; "
                           "choose a new file name")
    kind = kind_of(d)
    include = [Path(p) for p in include]
    if include and kind in ANALYSES:
        raise GatesimError(f"--include: {d} is a {kind}; only a run, comparison or sweep "
                           "report takes the sections of analyses")
    analysis_report.check_included(include)
    build = {"run": _run_context, "comparison": _comparison_context, "sweep": _sweep_context}
    with i18n.using(lang):
        try:
            if kind in ANALYSES:
                context = analysis_report.context(d, d / "plots", out.parent)
            else:
                context = build[kind](d, d / "plots")
            validation = _validation(d)
        except GatesimError:
            raise
        except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
            raise GatesimError(f"{d}: damaged results directory, cannot build its report "
                               f"({type(exc).__name__}: {str(exc)[:120]})") from None
        analyses = analysis_report.included(include, d / "plots", out.parent,
                                            context["meta"] if kind == "comparison" else None)
        template = "analysis.html.j2" if kind in ANALYSES else "report.html.j2"
        html = environment().get_template(template).render(
            kind=kind, lang=lang, validation=validation, provenance=provenance(context["meta"]),
            generated=i18n.datetime(dt.datetime.now()), markup=Markup,
            **{"figures": [], "comparison": None, "sweep": None, "instability": [],
               "analyses": analyses, "answer": None, **context})
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.partial-{os.getpid()}")
        try:
            tmp.write_text(html, encoding="utf-8")
            os.replace(tmp, out)
        finally:
            tmp.unlink(missing_ok=True)
    except OSError as exc:
        raise WriteFailed(f"cannot write the report {out}: {exc.strerror or exc}") from None
    return out
