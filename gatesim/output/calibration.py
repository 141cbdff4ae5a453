"""A calibration's files: the fit, every target in or out of its band, the profiles, and the
calibrated scenario as a variant file that ``gatesim run`` accepts.

``calibrated.yaml`` is ``extends:`` the calibrated scenario plus each fitted number, written
as a range (its original low and high) whose value is the fit and whose note gives the
targets, the interval and the value it had. A number inside a list (a calendar window) is
written with its whole list, as ``extends:`` replaces lists; other ranges in that list keep
their name and range, so they stay the parameter they were.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
from pathlib import Path
from typing import Any

import yaml
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from gatesim.experiments.calibrate import CHI2_95, CalibrationResult
from gatesim.i18n import _
from gatesim.output.destination import GENERATOR
from gatesim.output.excel import write_xlsx
from gatesim.output.plots import COLOURS, save
from gatesim.output.writer import staged, write_csv, write_json
from gatesim.scenario.loader import apply_overrides, resolve_document
from gatesim.scenario.uncertain import RangedFloat, RangedInt


def _plain(node: Any) -> Any:
    """A raw document with every ranged number written back as its range mapping."""
    if isinstance(node, RangedFloat | RangedInt):
        m = node.mark
        out: dict[str, Any] = {"value": int(node) if isinstance(node, RangedInt) else float(node),
                               "low": m.low, "high": m.high}
        if m.name:
            out["name"] = m.name
        if m.note:
            out["note"] = m.note
        return out
    if isinstance(node, dict):
        return {k: _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def _number(x: float, integral: bool) -> int | float:
    return int(round(x)) if integral else float(f"{x:.6g}")


def _at(doc: Any, path: str) -> Any:
    for part in path.split("."):
        doc = doc[int(part)] if isinstance(doc, list) else doc[part]
    return copy.deepcopy(doc)


def _place(variant: dict[str, Any], raw: dict[str, Any], path: str, value: Any) -> None:
    """Put ``value`` at dotted ``path`` of the variant; a list on the way is copied whole from
    the raw resolved document first (``extends:`` replaces lists, it does not merge them)."""
    parts = path.split(".")
    node, src = variant, raw
    for i, part in enumerate(parts[:-1]):
        nxt = parts[i + 1]
        src = src[int(part)] if isinstance(src, list) else src[part]
        if isinstance(node, list):
            node = node[int(part)]
            continue
        if isinstance(src, list) and part not in node:
            node[part] = _plain(copy.deepcopy(src))
        node = node.setdefault(part, {} if not nxt.isdigit() else [])
    last = parts[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


def variant_text(result: CalibrationResult, out: Path) -> str | None:
    """The calibrated scenario as YAML (None when the scenario came from no file)."""
    meta = result.meta
    if meta.get("scenario_file") is None:
        return None
    scenario = Path(meta["scenario_file"]).resolve()
    raw, _ = resolve_document(scenario, str(scenario))
    apply_overrides(raw, meta["overrides"])
    raw = _plain(raw)
    when = dt.date.today().isoformat()
    variant: dict[str, Any] = {
        "extends": os.path.relpath(scenario, Path(out).resolve()),
        "name": f"{meta['scenario']}_calibrated",
    }
    header = [f"# {meta['scenario']} calibrated by gatesim on {when} to "
              f"{Path(meta['targets_file']).name}: {meta['replications']} replications, "
              f"seed {meta['seed']}, objective {meta['objective']:.3g}.",
              f"# Made from {scenario} with --set {' '.join(meta['overrides']) or '(none)'}.",
              "# Each fitted number keeps its range; its note gives the fit and its interval."]
    fitted_paths = {path for paths in result.fit.paths for path in paths.split(";")}
    for text in meta["overrides"]:  # the scenario calibrated is the file with its --set
        path = text.split("=", 1)[0].strip()
        if path not in fitted_paths:
            _place(variant, raw, path, _at(raw, path))
    for row in result.fit.itertuples():
        integral = float(row.start).is_integer() and float(row.fitted).is_integer()
        fitted = {"value": _number(row.fitted, integral), "low": _number(row.low, integral),
                  "high": _number(row.high, integral), "name": row.parameter,
                  "note": (f"calibrated to {Path(meta['targets_file']).name} on {when}: "
                           f"{row.fitted:.4g}, 95 % profile interval [{row.interval_low:.4g}, "
                           f"{row.interval_high:.4g}]"
                           f"{' (' + row.interval_note + ')' if row.interval_note else ''}; "
                           f"was {row.start:.4g}")}
        for path in row.paths.split(";"):
            _place(variant, raw, path, dict(fitted))
        header.append(f"#   {row.parameter}: {row.start:.4g} -> {row.fitted:.4g} "
                      f"[{row.interval_low:.4g}, {row.interval_high:.4g}]")
    body = yaml.safe_dump(variant, allow_unicode=True, sort_keys=False, width=100)
    return "\n".join(header) + "\n" + body


def figure_profiles(result: CalibrationResult) -> Figure:
    """One panel per fitted parameter: its profile objective, the χ² threshold, the fit and
    its interval (the candidates that grew a backlog marked apart)."""
    fit = result.fit
    n = max(len(fit), 1)
    fig = Figure(figsize=(8.0, 2.6 * n), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(n, 1, squeeze=False)[:, 0]
    smin = float(result.meta.get("objective", 0.0))
    for ax, row in zip(axes, fit.itertuples(), strict=False):
        prof = result.profile[result.profile.parameter == row.parameter]
        stable = prof[~prof.unstable.astype(bool)]
        ax.plot(stable["value"], stable["objective"], "o-", color=COLOURS[0], ms=4,
                label=_("profile (others re-fitted)"))
        bad = prof[prof.unstable.astype(bool)]
        if len(bad):
            ax.plot(bad["value"], bad["objective"], "x", color=COLOURS[3], ms=6,
                    label=_("backlog grows (refused)"))
        ax.axhline(smin + CHI2_95, color="#555555", lw=0.8, ls="--",
                   label=f"minimum + {CHI2_95:.2f}")
        ax.axvspan(row.interval_low, row.interval_high, color=COLOURS[2], alpha=0.15,
                   label=_("95 % interval"))
        ax.axvline(row.fitted, color=COLOURS[2], lw=1.2, label=f"fit {row.fitted:.4g}")
        ax.axvline(row.start, color=COLOURS[1], lw=1, ls=":", label=f"was {row.start:.4g}")
        top = max(float(stable["objective"].min()) + 6 * CHI2_95, smin + 2 * CHI2_95) \
            if len(stable) else smin + 2 * CHI2_95
        ax.set_ylim(0, top)
        ax.set_xlim(row.low, row.high)
        ax.set_xlabel(row.parameter)
        ax.set_ylabel(_("Σ((sim − reported)/half-band)²"))
        ax.legend(fontsize=7, loc="upper right")
    fig.suptitle(f"Calibration of {result.meta.get('scenario', '')}: profile of each fitted "
                 "parameter", fontsize=10)
    return fig


def write_calibration(result: CalibrationResult, out: Path, plots: bool = True) -> Path:
    """calibration.csv (target, set, reported, band, simulated with CI, in band?), fit.csv,
    profile.csv, trials.csv, calibration.json, calibrated.yaml and plots/profile.png,
    published together in ``out``."""
    out = Path(out)
    with staged(out) as tmp:
        write_csv(result.table, tmp / "calibration.csv")
        write_csv(result.fit, tmp / "fit.csv")
        write_csv(result.profile, tmp / "profile.csv")
        write_csv(result.trials, tmp / "trials.csv")
        write_xlsx(tmp, "calibration", result.meta, calibration=result.table, fit=result.fit)
        write_json({"generator": GENERATOR, **result.meta,
                    "fit": result.fit.to_dict(orient="records"),
                    "rows": result.table.to_dict(orient="records")}, tmp / "calibration.json")
        text = variant_text(result, out)
        if text is not None:
            (tmp / "calibrated.yaml").write_text(text, encoding="utf-8")
        if plots:
            save(figure_profiles(result), tmp / "plots", "profile")
    return out

