"""Report sections for the analyses: one-at-a-time sensitivity, Morris screening, calibration.

Each is built from its results directory only into one block: the answer in words first (its
headline the first line of the analysis's own ``summary_text``, as the terminal says it), its
tables, plot and provenance. The block makes the analysis's own report and a section of a run
or comparison report (``--include DIR``, its plot drawn into RESULTS/plots under a unique
name). A comparison including a sensitivity of its difference B − A also gets a short "how
far to trust it" table: the ranges that flip its sign and those that move it most.
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
from gatesim.i18n import _, ngettext
from gatesim.output import reader
from gatesim.output.figures import embed, provenance
from gatesim.output.words import N_, cell, figure_words, flag, fmt, names

ANALYSES = {"sensitivity": "sensitivity.json", "screening": "screening.json",
            "calibration": "calibration.json"}
"""The analysis kinds and the JSON file that marks each one's results directory."""
DIFFERENCE = "difference B − A"
CAPTIONS = {
    "sensitivity": N_("Each ranged number set to its low end (blue) and its high end "
                      "(orange), the others at their values; the black line is the answer "
                      "with every number at its value, the whiskers the 95 % CI of each change "
                      "(common random numbers). Faded bars: no effect shown beyond the noise."),
    "screening": N_("Above: μ*, the mean absolute change of the answer across each number's "
                    "range (every range moving, Morris), with its 95 % CI. Below: μ* against "
                    "σ; a number above the dotted line acts with the others or bends."),
    "calibration": N_("The objective of each fitted number on a grid of its range, the others "
                      "re-fitted; the shaded span (below the dashed line) is its 95 % interval, "
                      "the solid line the fit, the dotted line the value it had."),
}
TRUST_ROWS = 5
"""Ranges the trust table shows besides those that flip the sign (largest swings first)."""


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


def _read(d: Path, kind: str) -> tuple[dict[str, Any], pd.DataFrame]:
    meta = json.loads((d / ANALYSES[kind]).read_text(encoding="utf-8"))
    return meta, pd.read_csv(d / f"{kind}.csv")


def _fit(d: Path) -> pd.DataFrame:
    """fit.csv, an empty interval note read as ''."""
    return pd.read_csv(d / "fit.csv", dtype={"interval_note": str}).fillna(
        {"interval_note": ""})


def _words(meta: dict[str, Any]) -> str:
    """The analysed figure in the report's language."""
    m = meta["metric"]
    return figure_words(m["metric"], m["stat"], m["scope"])


def flips(row: Any) -> bool:
    """Whether a sensitivity row's range changes the sign of the answer (a difference)."""
    ends = [row.at_low, row.at_high, row.base]
    return all(math.isfinite(x) for x in ends) and min(ends) < 0 < max(ends)


# --- the three analyses -------------------------------------------------------------------
def _sensitivity(meta: dict[str, Any], table: pd.DataFrame) -> dict[str, Any]:
    from gatesim.experiments.sensitivity import SensitivityResult, summary_text

    table = table.assign(effect_shown=reader.as_bool(table["effect_shown"]))
    two = meta.get("mode") == DIFFERENCE
    label = _words(meta)
    what = _("the difference {answer} in {figure}").format(answer=meta["answer"],
                                                            figure=label) if two else label
    sentences = [_sentence(summary_text(SensitivityResult(table, meta),
                                        label).splitlines()[0])]
    quiet = sum(not r.effect_shown for r in table.itertuples())
    if quiet and quiet < len(table):  # when none is shown, the headline says so
        sentences.append(_("{n} of {total} ranges show no effect beyond the noise of {reps} "
                           "replications (their swing's 95 % CI holds 0; marked in the "
                           "table).").format(n=quiet, total=len(table),
                                             reps=meta["replications"]))
    flipped = [r.parameter for r in table.itertuples() if flips(r)]
    if two:
        sentences.append(_("The sign of the difference {answer} flips within the range of "
                           "{names}.").format(answer=meta["answer"], names=names(flipped))
                         if flipped else _("No range flips the sign of the difference "
                                           "{answer}.").format(answer=meta["answer"]))
    rows = [{**r, "flips": flips(pd.Series(r))} for r in table.to_dict(orient="records")]
    base = rows[0] if rows else None
    grid = {"caption": _("Each range alone, the others at their values (largest swing first)."
                         " With every number at its value: {base} [{lo} – {hi}].").format(
                base=fmt(base["base"]), lo=fmt(base["base_ci_low"]), hi=fmt(base["base_ci_high"]))
            if base else "", "cls": "analysis", "note": "",
            "head": [[cell(_("parameter")), cell(_("low → high"), "num"), cell(_("at low"), "num"),
                      cell(_("at high"), "num"), cell(_("swing [95 % CI]"), "num"),
                      cell(_("effect shown")), *([cell(_("sign of the difference"))]
                                                 if two else [])]],
            "rows": [[cell(r["parameter"]), cell(f"{fmt(r['low'])} → {fmt(r['high'])}", "num"),
                      cell(fmt(r["at_low"]), "num"), cell(fmt(r["at_high"]), "num"),
                      cell(f"{fmt(r['swing'])} [{fmt(r['swing_ci_low'])} – "
                           f"{fmt(r['swing_ci_high'])}]", "num"),
                      flag(r["effect_shown"], _("yes"), _("no (CI holds 0)"), neutral=True),
                      *([flag(not r["flips"], _("keeps"), _("flips"))] if two else [])]
                     for r in rows]}
    return {"title": _("Sensitivity: what moves {what}").format(what=what), "what": what,
            "label": label, "sentences": sentences, "rows": rows, "difference": two,
            "tables": [grid],
            "method": _("One at a time: each ranged number at its low and at its high end, the "
                        "others at their values; {n} replications, common random "
                        "numbers.").format(n=meta["replications"]),
            "banners": _unstable(meta)}


def _screening(meta: dict[str, Any], table: pd.DataFrame) -> dict[str, Any]:
    from gatesim.experiments.screening import ScreeningResult, summary_text

    label = _words(meta)
    two = meta.get("mode") == DIFFERENCE
    what = _("the difference {answer} in {figure}").format(answer=meta["answer"],
                                                            figure=label) if two else label
    sentences = [_sentence(summary_text(ScreeningResult(table, meta),
                                        label).splitlines()[0])]
    none = sum(r.mu_star == 0 for r in table.itertuples())
    bends = sum(r.sigma > r.mu_star > 0 for r in table.itertuples())
    if none:
        sentences.append(_("{n} of {total} ranges have no effect at all (every elementary "
                           "effect exactly 0).").format(n=none, total=len(table)))
    if bends:
        sentences.append(_("{n} have σ above μ*: their effect depends on where the others "
                           "are.").format(n=bends))
    grid = {"caption": _("Every range moving at once (Morris), largest μ* first; an effect is "
                         "the change of the answer across the whole range."),
            "cls": "analysis", "note": "",
            "head": [[cell(_("parameter")), cell(_("low → high"), "num"),
                      cell(_("μ* [95 % CI]"), "num"), cell("μ", "num"), cell("σ", "num"),
                      cell(_("reading"))]],
            "rows": [[cell(r.parameter), cell(f"{fmt(r.low)} → {fmt(r.high)}", "num"),
                      cell(f"{fmt(r.mu_star)} [{fmt(r.mu_star_ci_low)} – "
                           f"{fmt(r.mu_star_ci_high)}]", "num"),
                      cell(fmt(r.mu), "num"), cell(fmt(r.sigma), "num"),
                      cell(_("no effect") if r.mu_star == 0 else _("acts with the others or "
                                                                    "bends")
                           if r.sigma > r.mu_star else "")] for r in table.itertuples()]}
    return {"title": _("Morris screening: what moves {what}").format(what=what), "what": what,
            "label": label, "sentences": sentences, "rows": table.to_dict(orient="records"),
            "tables": [grid], "method": _sentence(meta.get("design",
                                                           "Morris elementary effects")),
            "banners": _unstable(meta)}


def _unstable(meta: dict[str, Any]) -> list[str]:
    pts = meta.get("unstable_points") or []
    if not pts:
        return []
    return [_("UNSTABLE at {n} points ({points}): their backlog keeps growing, so their values "
              "hold for this horizon only").format(
        n=len(pts), points="; ".join(pts[:5]) + (" …" if len(pts) > 5 else ""))]


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
    fit_grid = {"caption": _("Fitted values"), "cls": "analysis", "note": "",
                "head": [[cell(_("parameter")), cell(_("fitted"), "num"),
                          cell(_("95 % interval"), "num"), cell(_("was"), "num"),
                          cell(_("range tried"), "num"), cell(_("note"))]],
                "rows": [[cell(r.parameter), cell(fmt(r.fitted), "num strong"),
                          cell(f"{fmt(r.interval_low)} – {fmt(r.interval_high)}", "num"),
                          cell(fmt(r.start), "num"), cell(f"{fmt(r.low)} – {fmt(r.high)}", "num"),
                          cell(r.interval_note)] for r in fit.itertuples()]}
    sets = []
    for use, title in (("calibration", _("Calibration figures (fitted)")),
                       ("validation", _("Validation figures (measured, never fitted)"))):
        rows = table[table["set"] == use]
        if rows.empty:
            continue
        sets.append({"heading": _("{title}: {n} of {total} in their band (before calibration: "
                                  "{before})").format(title=title, n=int(rows["in_band"].sum()),
                                                      total=len(rows),
                                                      before=int(rows["start_in_band"].sum())),
                     "caption": "", "cls": "analysis", "note": "",
                     "head": [[cell(_("figure")), cell(_("what (source)")),
                               cell(_("reported ± band"), "num"),
                               cell(_("simulated [95 % CI]"), "num"), cell(_("in band")),
                               cell(_("before calibration"), "num")]],
                     "rows": [[cell(r.target), cell(f"{r.measure} — {r.source}", "what"),
                               cell(f"{fmt(r.reported)} ± {fmt(r.half_band)}", "num"),
                               cell(f"{fmt(r.simulated)} [{fmt(r.ci_low)} – {fmt(r.ci_high)}]",
                                    "num"),
                               flag(r.in_band, _("yes"), _("no")),
                               cell(f"{fmt(r.start_simulated)} · "
                                    + (_("in") if r.start_in_band else _("out")),
                                    "num " + ("pass" if r.start_in_band else "fail"))]
                              for r in rows.itertuples()]})
    variant = d / "calibrated.yaml"
    banners = [_("UNSTABLE: at the fitted values the backlog keeps growing; no stable candidate "
                 "fitted better, so the fit holds for this horizon only")] \
        if meta.get("unstable") else []
    return {"title": _("Calibration of {scenario} to {targets}").format(
                scenario=meta["scenario"], targets=Path(meta["targets_file"]).name),
            "sentences": [*said, _sentence(lines[0])], "tables": [fit_grid],
            "set_tables": sets, "method": _sentence(_("Method: ") + meta.get("method", "")),
            "variant": {"name": variant.name, "href": href, "run": f"gatesim run {variant}"}
            if variant.is_file() else None, "banners": banners}


def _measure(text: str) -> str:
    """A target's measure in words: a summary figure by its label."""
    m = re.fullmatch(r"(\w+)/([\w.-]+)/(\w+) \(summary\)", str(text))
    return figure_words(m[1], m[3], m[2]) if m else str(text)


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
    return embed(save(fig, plot_dir, stem), _(CAPTIONS[kind]))


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
        b["nav"] = {"sensitivity": _("Sensitivity"), "screening": _("Screening"),
                    "calibration": _("Calibration")}[kind]
        if comparison is not None and kind == "sensitivity" and b["difference"]:
            b["trust"] = trust(b, comparison)
        blocks.append(b)
    return blocks


def trust(b: dict[str, Any], comparison: dict[str, Any]) -> dict[str, Any]:
    """How far to trust a comparison's answer, from a sensitivity of its difference B − A:
    a sentence (the difference and whether any range flips its sign), a short table of the
    ranges that flip it and those that move it most, and how it was found."""
    meta, rows = b["meta"], b["rows"]
    first = rows[0]
    base, lo, hi = first["base"], first["base_ci_low"], first["base_ci_high"]
    names_ = meta.get("scenarios", [])
    lead = _("With every ranged number at its value, {what} is {base}, 95 % CI {lo} to "
             "{hi}").format(what=b["what"], base=fmt(base), lo=fmt(lo), hi=fmt(hi))
    if names_ and base != 0:
        lead += " " + (_("({name}'s is the lower)") if base < 0 else
                       _("({name}'s is the higher)")).format(name=names_[-1])
    lead += "; " + (_("that interval holds 0, so even there the sign is not established.")
                    if lo <= 0 <= hi else _("the sign is established there."))
    flipped = [r for r in rows if r["flips"]]
    flip = (ngettext("The sign of {what} flips within the range of {n} number: pin it down "
                     "before relying on the answer.", "The sign of {what} flips within the "
                     "ranges of {n} numbers: pin them down before relying on the answer.",
                     len(flipped)) if flipped else
            _("No range of the sensitivity analysis flips the sign of {what}.")).format(
        n=len(flipped), what=b["what"])
    finite = [r for r in rows if math.isfinite(r["swing"])]
    top = sorted((r for r in finite if not r["flips"] and r["swing"] > 0),
                 key=lambda r: -r["swing"])[:TRUST_ROWS]
    shown = [*flipped, *top]
    still = [r for r in finite if r["swing"] == 0]
    rest = len(finite) - len(shown) - len(still)
    table = {"caption": "", "cls": "analysis trust-table", "note": "",
             "head": [[cell(_("parameter")), cell(_("range"), "num"),
                       cell(_("at low → at high"), "num"), cell(_("swing"), "num"),
                       cell(_("effect beyond the noise?")), cell(_("flips the sign?"))]],
             "rows": [[cell(r["parameter"]), cell(f"{fmt(r['low'])} – {fmt(r['high'])}", "num"),
                       cell(f"{fmt(r['at_low'])} → {fmt(r['at_high'])}", "num"),
                       cell(fmt(r["swing"]), "num"),
                       flag(r["effect_shown"], _("yes"), _("no"), neutral=True),
                       flag(not r["flips"], _("no"), _("yes"))] for r in shown]}
    tail = []
    if rest > 0:
        tail.append(ngettext("{n} other range moves it less and does not flip its sign.",
                             "{n} other ranges move it less and do not flip its sign.",
                             rest).format(n=rest))
    if still:
        tail.append(ngettext("{n} range does not move it at all.",
                             "{n} ranges do not move it at all.", len(still)).format(
                                 n=len(still)))
    tail.append(_("Each range was tried alone, the others at their values ({name}, {n} "
                  "replications); ranges moving together can go further.").format(
                      name=b["name"], n=meta["replications"]))
    if len(names_) == 2 and (names_[0] != comparison.get("baseline")
                             or names_[1] not in comparison.get("scenarios", [])):
        tail.append(_("Note: that sensitivity compared {b} with {a}, not exactly this "
                      "report's scenarios.").format(b=names_[1], a=names_[0]))
    return {"lead": f"{lead} {flip}", "flip": flip, "table": table, "tail": " ".join(tail)}
