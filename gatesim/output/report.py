"""The HTML report: one self-contained file a planner can put in front of the province.

Built from a results directory only — a run, a comparison of scenarios, a capacity sweep or
an analysis (sensitivity, Morris screening, calibration: analysis_report.py) — so it can be
rebuilt at any time without simulating. A run, comparison or sweep report may include the
sections of analysis directories (``include``). Plots are embedded as base64 PNG and the
styles are inline: the file opens offline and fetches nothing. The PNG and SVG files are also
left in the results directory's ``plots/`` for slides. A report replaces only a file that is
itself a gatesim report (it carries ``<meta name="generator" content="gatesim">``).
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

from gatesim.errors import GatesimError, WriteFailed
from gatesim.experiments import stability
from gatesim.output import plots, reader
from gatesim.output.describe import describe, fmt
from gatesim.output.figures import embed, provenance
from gatesim.output.reader import RunFiles, metric_label
from gatesim.scenario.loader import validate
from gatesim.scenario.sources import sources

Kind = Literal["run", "comparison", "sweep", "sensitivity", "screening", "calibration"]
ANALYSES = ("sensitivity", "screening", "calibration")
"""The kinds with their own template (analysis.html.j2), built by analysis_report.py."""
GENERATOR_TAG = '<meta name="generator" content="gatesim">'
CAPTIONS = {
    "in_system": "Trucks in the system (from arrival to leaving), hourly.",
    "yard_occupancy": "Trucks parked in each yard, hourly, against its number of slots.",
    "road_queue": "Trucks queuing on the approach roads, hourly.",
    "typical_day": "The same days folded onto one day (after the warm-up): when queues build "
                   "up and when the backlog peaks, and how long a truck arriving at each hour "
                   "waits in total.",
    "distributions": "Share of trucks whose time in the system (or wait at a stage) was at "
                     "most the value on the axis. Trucks that arrived after the warm-up and "
                     "left before the end; those still inside appear in the key figures as "
                     "'time so far'.",
    "throughput": "Trucks crossing per simulated day on each lane and direction.",
    "utilisation": "Share of on-duty time each stage's servers (or each lane) were busy; "
                   "near 1 means the stage is a bottleneck.",
    "comparison": "Difference of each key figure from the baseline, paired over replications "
                  "with common random numbers. The intervals hold together for all the figures "
                  "shown (Bonferroni): green/red when an interval lies wholly above or below 0 "
                  "(significantly better/worse); grey: not significant.",
    "sweep": "The figure against the swept capacity, with its 95 % confidence band. The "
             "smallest capacity meeting the target is judged on the cautious end of the band.",
}
LEVEL_NOTE = (" Line: mean of the replications; band: 95 % confidence interval across "
              "replications. Shaded: opening hours of the first lane; hatched: warm-up, "
              "excluded from every statistic.")


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
    stem = png.stem
    caption = CAPTIONS["sweep" if stem.startswith("sweep") else stem]
    return embed(png, caption + (LEVEL_NOTE if stem in plots.LEVELS else ""))


def _flat(x: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(x, dict):
        return {k: v for key, val in x.items() for k, v in _flat(val, f"{prefix}{key}.").items()}
    return {prefix.rstrip("."): json.dumps(x, ensure_ascii=False)}


def differences(base: dict[str, Any], other: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(dotted field, base value, other value) where two resolved scenarios differ."""
    a, b = _flat(base), _flat(other)
    return [(k, a.get(k, "–"), b.get(k, "–")) for k in sorted(a.keys() | b.keys())
            if k != "name" and a.get(k) != b.get(k)]


# --- sources and assumptions from the scenario file's comments ----------------------------


def _assumptions(meta: dict[str, Any]) -> dict[str, Any]:
    file = meta.get("scenario_file")
    if not file:
        return {"file": None, "missing": "source comments not available (the results do not "
                                          "name the scenario file)"}
    try:
        notes, rows = sources(Path(file))
    except OSError as exc:
        return {"file": file, "missing": f"source comments not available ({exc.strerror}: "
                                         f"{file})"}
    return {"file": file, "missing": None, "notes": notes, "rows": rows,
            "n_assumed": sum("assumption" in r["kind"] for r in rows)}


# --- figures, provenance, validation ------------------------------------------------------
def key_figures(summary: pd.DataFrame, keys: list[tuple[str, str, str]]
                ) -> list[dict[str, Any]]:
    """The primary figures of a summary with their 95 % intervals."""
    s = summary.set_index(["metric", "scope", "stat"])
    rows = []
    for key in keys:
        if key in s.index:
            r = s.loc[key]
            note = r["note"] if isinstance(r["note"], str) else ""
            rows.append({"key": key, "label": metric_label(key[0], key[2], key[1]), "estimate":
                         r["estimate"], "low": r["ci_low"], "high": r["ci_high"], "n": r["n"],
                         "note": note})
    return rows


def _validation(d: Path) -> dict[str, Any] | None:
    f = d / "validation.csv"
    if not f.is_file():
        return None
    v = pd.read_csv(f)
    v["passed"] = reader.as_bool(v["passed"])
    return {"rows": v.to_dict(orient="records"), "passed": int(v["passed"].sum()),
            "total": len(v)}


def _scenario_block(run: RunFiles, plot_dir: Path) -> dict[str, Any]:
    return {"name": run.scenario.name, "describe": describe(run.scenario),
            "key_figures": key_figures(run.summary, reader.primary(run.scenario)),
            "assumptions": _assumptions(run.meta),
            "figures": [_figure(p) for p in plots.plot_run(run, plot_dir)],
            "records": run.trucks is not None and run.visits is not None, "differences": None}


# --- the three kinds of results -----------------------------------------------------------
def _run_context(d: Path, plot_dir: Path) -> dict[str, Any]:
    run = reader.read_run(d)
    return {"scenarios": [_scenario_block(run, plot_dir)], "meta": run.meta,
            "instability": _instability([run])}


def _comparison_context(d: Path, plot_dir: Path) -> dict[str, Any]:
    meta = json.loads((d / "comparison.json").read_text(encoding="utf-8"))
    cmp = reader.with_block_columns(pd.read_csv(d / "comparison.csv"))
    names = [meta["baseline"], *(n for n in meta["scenarios"] if n != meta["baseline"])]
    runs = [reader.read_run(d / n) for n in names]
    blocks = [_scenario_block(run, plot_dir / run.scenario.name) for run in runs]
    for block, run in zip(blocks[1:], runs[1:], strict=True):
        block["differences"] = differences(runs[0].meta["scenario"], run.meta["scenario"])
    cmp = cmp[cmp["scenario"] != meta["baseline"]].assign(
        significant_block=lambda c: reader.as_bool(c["significant_block"]))
    rows = []
    keys = reader.primary(runs[0].scenario)
    for key in keys:
        sel = cmp[(cmp["metric"] == key[0]) & (cmp["scope"] == key[1]) & (cmp["stat"] == key[2])]
        for r in sel.to_dict(orient="records"):
            better = (r["diff"] > 0) == (key[0] in plots.HIGHER_IS_BETTER)
            rows.append({**r, "label": metric_label(key[0], key[2], key[1]),
                         "verdict": ("better" if better else "worse")
                         if r["significant_block"] else ""})
    side = [{"label": metric_label(key[0], key[2], key[1]),
             "cells": [next((f for f in b["key_figures"] if f["key"] == key), None)
                       for b in blocks]} for key in keys]
    figure = _figure(plots.plot_comparison(cmp, meta["baseline"], keys, plot_dir))
    return {"scenarios": blocks, "meta": meta, "figures": [figure],
            "instability": _instability(runs),
            "comparison": {"baseline": meta["baseline"], "rows": rows, "side": side}}


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
        points.append({"setting": values, "cells": cells, "meets": meets,
                       "best": spec.get("best") == dict(zip(params, values, strict=True))})
    scenario = spec.get("scenario")
    blocks = []
    if scenario:
        s = validate(scenario, str(d / "sweep.json"))
        blocks.append({"name": s.name, "describe": describe(s), "assumptions":
                       _assumptions(spec), "key_figures": [], "figures": [], "records": False,
                       "differences": None})
    unstable = spec.get("unstable_points") or []
    warning = [f"UNSTABLE at {len(unstable)} of {spec.get('points', len(points))} points ("
               + "; ".join(", ".join(f"{k} = {v}" for k, v in p.items()) for p in unstable[:5])
               + (" …" if len(unstable) > 5 else "") + "): their backlog keeps growing, so "
               "their waits and queues hold for this horizon only"] if unstable else []
    if spec.get("best_unstable"):
        warning.append("The smallest point meeting the target is met for this horizon only: "
                       "its backlog keeps growing.")
    return {"scenarios": blocks, "meta": spec, "instability": warning,
            "figures": [_figure(plots.plot_sweep(sw, spec, plot_dir, k)) for k in keys],
            "sweep": {"params": params, "target": target, "best": spec.get("best"),
                      "labels": [metric_label(m, st, sc) for m, sc, st in keys],
                      "points": points}}


def _instability(runs: list[RunFiles]) -> list[str]:
    """The stability sentence of each run that is unstable or could not be judged."""
    return [text for run in runs
            if (text := stability.describe(run.scenario.name, run.meta.get("stability", {})))]


def _is_report(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            head = f.read(4096)
    except OSError:
        return False
    return GENERATOR_TAG.encode() in head


def build_report(results_dir: Path, out: Path | None = None,
                 include: Sequence[Path] = ()) -> Path:
    """Write one self-contained ``report.html`` for a run, comparison, sweep, sensitivity,
    screening or calibration directory.

    The plots are also written as PNG and SVG under the results directory's ``plots/``.
    ``out`` may name another file; an existing one is replaced only if gatesim wrote it.
    ``include``: analysis directories whose sections a run, comparison or sweep report adds
    after its key figures (their charts go to this directory's ``plots/``)."""
    from gatesim.output import analysis_report  # it builds on this module's helpers

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
    env = jinja2.Environment(loader=jinja2.PackageLoader("gatesim.output", "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined)
    env.filters["fmt"] = fmt
    template = "analysis.html.j2" if kind in ANALYSES else "report.html.j2"
    html = env.get_template(template).render(
        kind=kind, validation=validation, provenance=provenance(context["meta"]),
        generated=dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        **{"figures": [], "comparison": None, "sweep": None, "instability": [],
           "analyses": analyses, **context})
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
