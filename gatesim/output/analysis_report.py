"""Report sections for the analyses: one-at-a-time sensitivity, Morris screening, calibration.

Each is built from its results directory only (CSV and JSON), like every report, into one
block the templates render: the answer in plain words first, then its tables and plot, then
provenance. The same block makes the analysis's own report and, compact, a section of a run
or comparison report (``gatesim report RESULTS --include DIR``), whose plot is then drawn
into RESULTS/plots under a unique name so the report stays self-contained. The headline is
the first line of the analysis's own ``summary_text``: the terminal and the report say the
same thing. A comparison that includes a sensitivity of its difference B − A also gets a
plain paragraph on which ranges can flip the sign of that difference.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from gatesim.errors import GatesimError
from gatesim.output import reader
from gatesim.output.describe import fmt
from gatesim.output.figures import embed, provenance

ANALYSES = {"sensitivity": "sensitivity.json", "screening": "screening.json",
            "calibration": "calibration.json"}
"""The analysis kinds and the JSON file that marks each one's results directory."""
DIFFERENCE = "difference B − A"
CAPTIONS = {
    "sensitivity": "Each ranged number set to its low end (blue) and its high end (orange), "
                   "the others at their values; the black line is the answer with every number "
                   "at its value, the whiskers the 95 % CI of each change (common random "
                   "numbers). Faded bars: no effect shown beyond the noise.",
    "screening": "Above: μ*, the mean absolute change of the answer across each number's range "
                 "(every range moving, Morris), with its 95 % CI. Below: μ* against σ; a "
                 "number above the dotted line acts with the others or bends.",
    "calibration": "The objective of each fitted number on a grid of its range, the others "
                   "re-fitted; the shaded span (below the dashed line) is its 95 % interval, "
                   "the solid line the fit, the dotted line the value it had.",
}


def analysis_kind(d: Path) -> str | None:
    """Which analysis a directory holds (None: none)."""
    return next((k for k, marker in ANALYSES.items() if (Path(d) / marker).is_file()), None)


def _sentence(text: str) -> str:
    """A line of a summary_text as a sentence: a capital when it opens with a plain word
    (not a parameter's name), a full stop."""
    text = text.strip().rstrip(":")
    if re.match(r"(no|calibration|validation)\b", text):
        text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def _names(names: Sequence[str]) -> str:
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _read(d: Path, kind: str) -> tuple[dict[str, Any], pd.DataFrame]:
    meta = json.loads((d / ANALYSES[kind]).read_text(encoding="utf-8"))
    return meta, pd.read_csv(d / f"{kind}.csv")


def _fit(d: Path) -> pd.DataFrame:
    """fit.csv, an empty interval note read as ''."""
    return pd.read_csv(d / "fit.csv", dtype={"interval_note": str}).fillna(
        {"interval_note": ""})


def _label(meta: dict[str, Any]) -> str:
    m = meta["metric"]
    return reader.metric_label(m["metric"], m["stat"], m["scope"])


def _small(x: float) -> str:
    """fmt, but a small nonzero number keeps two significant figures (not 0.00)."""
    return f"{x:.2g}" if 0 < abs(x) < 0.01 else fmt(x)


def flips(row: Any) -> bool:
    """Whether a sensitivity row's range changes the sign of the answer (a difference)."""
    ends = [row.at_low, row.at_high, row.base]
    return all(math.isfinite(x) for x in ends) and min(ends) < 0 < max(ends)


# --- the three analyses -------------------------------------------------------------------
def _sensitivity(meta: dict[str, Any], table: pd.DataFrame) -> dict[str, Any]:
    from gatesim.experiments.sensitivity import SensitivityResult, summary_text

    table = table.assign(effect_shown=reader.as_bool(table["effect_shown"]))
    label, two = _label(meta), meta.get("mode") == DIFFERENCE
    what = f"the difference {meta['answer']} in {label}" if two else label
    sentences = [_sentence(summary_text(SensitivityResult(table, meta), label).splitlines()[0])]
    quiet = [r.parameter for r in table.itertuples() if not r.effect_shown]
    if quiet and len(quiet) < len(table):  # when none is shown, the headline says so
        sentences.append(f"These parameters' swings hold 0 in their 95 % CI (no effect shown "
                         f"beyond the noise of {meta['replications']} replications): "
                         f"{_names(quiet)}.")
    flipped = [r.parameter for r in table.itertuples() if flips(r)]
    if two:
        sentences.append(f"The sign of the difference {meta['answer']} flips within the range "
                         f"of {_names(flipped)}." if flipped else "No range flips the sign of "
                         f"the difference {meta['answer']}.")
    rows = [{**r, "flips": flips(pd.Series(r))} for r in table.to_dict(orient="records")]
    return {"title": f"Sensitivity: what moves {what}", "what": what, "label": label,
            "sentences": sentences, "rows": rows, "difference": two,
            "method": "One at a time: each ranged number at its low and at its high end, the "
                      f"others at their values; {meta['replications']} replications, common "
                      "random numbers.",
            "banners": _unstable(meta)}


def _screening(meta: dict[str, Any], table: pd.DataFrame) -> dict[str, Any]:
    from gatesim.experiments.screening import ScreeningResult, summary_text

    label = _label(meta)
    two = meta.get("mode") == DIFFERENCE
    what = f"the difference {meta['answer']} in {label}" if two else label
    sentences = [_sentence(summary_text(ScreeningResult(table, meta), label).splitlines()[0])]
    none = [r.parameter for r in table.itertuples() if r.mu_star == 0]
    bends = [r.parameter for r in table.itertuples() if r.sigma > r.mu_star > 0]
    if none:
        sentences.append(f"No effect at all (every elementary effect exactly 0): {_names(none)}.")
    if bends:
        sentences.append(f"σ above μ*, so the effect depends on where the others are: "
                         f"{_names(bends)}.")
    return {"title": f"Morris screening: what moves {what}", "what": what, "label": label,
            "sentences": sentences, "rows": table.to_dict(orient="records"),
            "method": _sentence(meta.get("design", "Morris elementary effects")),
            "banners": _unstable(meta)}


def _unstable(meta: dict[str, Any]) -> list[str]:
    pts = meta.get("unstable_points") or []
    if not pts:
        return []
    return [f"UNSTABLE at {len(pts)} points ({'; '.join(pts[:5])}{' …' if len(pts) > 5 else ''})"
            ": their backlog keeps growing, so their values hold for this horizon only"]


def _calibration(d: Path, meta: dict[str, Any], table: pd.DataFrame, href: str | None
                 ) -> dict[str, Any]:
    from gatesim.experiments.calibrate import CalibrationResult, summary_text

    fit = _fit(d)
    table = table.assign(in_band=reader.as_bool(table["in_band"]),
                         start_in_band=reader.as_bool(table["start_in_band"]))
    head = summary_text(CalibrationResult(fit, table, pd.DataFrame(), pd.DataFrame(), meta))
    lines = head.splitlines()  # its two-space lines: the fits and the counts in band
    said = [_sentence(x) for x in lines[1:] if x.startswith("  ") and not x.startswith("   ")
            and "UNSTABLE" not in x]
    table["measure"] = table["measure"].map(_measure)
    sets = {}
    for use in ("calibration", "validation"):
        rows = table[table["set"] == use]
        sets[use] = {"rows": rows.to_dict(orient="records"), "n": len(rows),
                     "in": int(rows["in_band"].sum()), "before": int(rows["start_in_band"].sum())}
    variant = d / "calibrated.yaml"
    banners = ["UNSTABLE: at the fitted values the backlog keeps growing; no stable candidate "
               "fitted better, so the fit holds for this horizon only"] if meta.get("unstable") \
        else []
    return {"title": f"Calibration of {meta['scenario']} to {Path(meta['targets_file']).name}",
            "sentences": [*said, _sentence(lines[0])], "fit": fit.to_dict(orient="records"),
            "sets": sets, "method": _sentence("Method: " + meta.get("method", "")),
            "variant": {"name": variant.name, "href": href, "run": f"gatesim run {variant}"}
            if variant.is_file() else None, "banners": banners}


def _measure(text: str) -> str:
    """A target's measure in words: a summary figure by its label."""
    m = re.fullmatch(r"(\w+)/([\w.-]+)/(\w+) \(summary\)", str(text))
    return reader.metric_label(m[1], m[3], m[2]) if m else str(text)


# --- blocks, own reports, included sections -----------------------------------------------
def _figure(kind: str, d: Path, meta: dict[str, Any], table: pd.DataFrame, plot_dir: Path,
            stem: str) -> dict[str, str]:
    """Draw the analysis's chart into ``plot_dir`` as ``stem``.png/.svg, from its tables."""
    from gatesim.output.plots import save

    if kind == "sensitivity":
        from gatesim.output.tornado import figure_tornado
        fig = figure_tornado(table, meta)
    elif kind == "screening":
        from gatesim.output.morris_plot import figure_morris
        fig = figure_morris(table, meta)
    else:
        from gatesim.experiments.calibrate import CalibrationResult
        from gatesim.output.calibration import figure_profiles
        fig = figure_profiles(CalibrationResult(_fit(d), table, pd.DataFrame(),
                                                pd.read_csv(d / "profile.csv"), meta=meta))
    return embed(save(fig, plot_dir, stem), CAPTIONS[kind])


def _provenance(kind: str, d: Path, meta: dict[str, Any]) -> list[tuple[str, str]]:
    rows: list[tuple[str, Any]] = [("results folder", d)]
    if kind == "calibration":
        rows += [("targets file", meta.get("targets_file")),
                 ("candidates (runs)", f"{meta.get('candidates')} ({meta.get('runs')})"),
                 ("search budget", meta.get("search_budget"))]
    else:
        files = [f for f in meta.get("scenario_files") or [] if f]
        warm = meta.get("warmup") or {}
        rows += [("scenarios", ", ".join(meta.get("scenarios", []))),
                 ("scenario files", ", ".join(files) or None),
                 ("design", meta.get("design")),
                 ("points (computed)", f"{meta.get('points')} ({meta.get('computed')})"),
                 ("warm-up", f"{warm.get('days')} days ({warm.get('method')})" if warm else None)]
    if meta.get("overrides"):
        rows.append(("--set", " ".join(meta["overrides"])))
    return [(k, str(v)) for k, v in rows if v is not None] + provenance(meta)


def block(d: Path, plot_dir: Path, stem: str | None = None, report_dir: Path | None = None
          ) -> dict[str, Any]:
    """One analysis directory as the templates show it; its chart drawn into ``plot_dir``
    (as ``stem``, default the analysis's own name). ``report_dir``: where the report goes,
    for the link to calibrated.yaml."""
    d = Path(d)
    kind = analysis_kind(d)
    if kind is None:
        raise GatesimError(f"{d}: not an analysis results directory (no "
                           f"{', '.join(ANALYSES.values())})")
    meta, table = _read(d, kind)
    if kind == "sensitivity":
        b = _sensitivity(meta, table)
    elif kind == "screening":
        b = _screening(meta, table)
    else:
        href = None if report_dir is None else os.path.relpath(
            (d / "calibrated.yaml").resolve(), Path(report_dir).resolve())
        b = _calibration(d, meta, table, href)
    own = {"sensitivity": "tornado", "screening": "morris", "calibration": "profile"}[kind]
    figure = _figure(kind, d, meta, table, plot_dir, stem or own)
    return {**b, "kind": kind, "dir": str(d), "name": d.name, "meta": meta,
            "figures": [figure], "provenance": _provenance(kind, d, meta), "trust": None}


def context(d: Path, plot_dir: Path, report_dir: Path) -> dict[str, Any]:
    """The context of an analysis's own report (template analysis.html.j2)."""
    b = block(d, plot_dir, report_dir=report_dir)
    return {"analysis": b, "meta": b["meta"], "instability": b["banners"]}


def check_included(dirs: Sequence[Path]) -> None:
    """Refuse (one line) an ``--include`` that is not an analysis directory, before any work."""
    for d in dirs:
        if analysis_kind(Path(d)) is None:
            raise GatesimError(f"--include {d}: not a sensitivity, screening or calibration "
                               f"results directory (no {', '.join(ANALYSES.values())})")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-.") or "analysis"


def included(dirs: Sequence[Path], plot_dir: Path, report_dir: Path,
             comparison: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """A compact block per included analysis, its chart under a unique name in ``plot_dir``;
    with the ``comparison``'s meta, the trust paragraph of each sensitivity of B − A."""
    check_included(dirs)
    taken: set[str] = set()  # "included-" keeps them apart from the report's own plots
    blocks = []
    for i, d in enumerate(dirs, 1):
        kind = analysis_kind(Path(d))
        stem = first = f"included-{kind}-{_slug(Path(d).resolve().name)}"
        n = 1
        while stem in taken:
            n += 1
            stem = f"{first}-{n}"
        taken.add(stem)
        try:
            b = block(Path(d), plot_dir, stem, report_dir)
        except GatesimError:
            raise
        except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
            raise GatesimError(f"--include {d}: damaged results directory ({type(exc).__name__}"
                               f": {str(exc)[:120]})") from None
        b["anchor"] = f"analysis-{i}"
        if comparison is not None and kind == "sensitivity" and b["difference"]:
            b["trust"] = trust(b, comparison)
        blocks.append(b)
    return blocks


def trust(b: dict[str, Any], comparison: dict[str, Any]) -> str:
    """How far to trust a comparison's answer: which ranges can flip the sign of B − A (from
    a sensitivity of the difference) and which leave the conclusion standing."""
    meta, rows = b["meta"], b["rows"]
    first = rows[0]
    base, lo, hi = first["base"], first["base_ci_low"], first["base_ci_high"]
    names = meta.get("scenarios", [])
    lower = "" if not names or base == 0 else (
        f" ({'negative' if base < 0 else 'positive'}: {names[-1]}'s is the "
        f"{'lower' if base < 0 else 'higher'})")
    text = [f"With every ranged number at its value, {b['what']} is {fmt(base)}{lower}, 95 % "
            f"CI {fmt(lo)} to {fmt(hi)}" + ("; that interval holds 0, so even there the sign "
                                            "is not established." if lo <= 0 <= hi else ".")]
    flipped = [r for r in rows if r["flips"]]
    standing = sorted((r for r in rows if not r["flips"] and math.isfinite(r["swing"])),
                      key=lambda r: -r["swing"])
    moving = [r for r in standing if r["swing"] > 0]
    still = [r["parameter"] for r in standing if r["swing"] == 0]
    if flipped:
        ends = [f"{r['parameter']} ({fmt(r['at_low'])} at its low end {r['low']:g}, "
                f"{fmt(r['at_high'])} at its high end {r['high']:g}"
                + ("" if r["effect_shown"] else "; a swing within the noise") + ")"
                for r in flipped]
        one = len(flipped) == 1
        text.append(f"Its sign flips within the range of {_names(ends)}: the conclusion hangs "
                    f"on {'this number' if one else 'these numbers'}, so pin "
                    f"{'it' if one else 'them'} down before relying on it.")
    else:
        text.append("No range flips its sign.")
    if moving:
        top = [f"{r['parameter']} (swing {_small(r['swing'])})" for r in moving[:3]]
        more = len(moving) - len(top)
        text.append(f"The {'other ' if flipped else ''}range"
                    f"{'s' if len(standing) > 1 else ''} leave the conclusion standing; the "
                    f"largest swing{'s' if len(top) > 1 else ''}: {_names(top)}"
                    + (f", and {more} smaller" if more > 0 else "") + ".")
    if still:
        text.append(f"{_names(still)} do{'es' if len(still) == 1 else ''} not move it at all.")
    text.append(f"Each range was tried alone, the others at their values ({b['name']}, "
                f"{meta['replications']} replications); ranges moving together can go further.")
    if len(names) == 2 and (names[0] != comparison.get("baseline")
                            or names[1] not in comparison.get("scenarios", [])):
        text.append(f"Note: that sensitivity compared {names[1]} with {names[0]}, not "
                    "exactly this report's scenarios.")
    return " ".join(text)
