"""Reports of the analyses (sensitivity, screening, calibration), alone and included in a
comparison's report: the answer first, the tables, the charts; rendered in a real Chromium."""

from __future__ import annotations

import html as htmllib
import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from playwright.sync_api import sync_playwright

import gatesim
from gatesim import cli
from gatesim.errors import GatesimError
from gatesim.experiments.calibrate import calibrate
from gatesim.experiments.screening import morris
from gatesim.experiments.sensitivity import SensitivityResult, summary_text
from gatesim.output.analysis_report import trust
from gatesim.output.calibration import write_calibration
from gatesim.output.reader import metric_label
from gatesim.output.report import build_report, kind_of
from gatesim.output.writer import write_comparison, write_screening, write_sensitivity
from gatesim.scenario.loader import load_scenario
from tests.test_report import BROWSER_ARGS, chromium, section

# Two stages in line, the first the bottleneck (ρ = 0.75, range 0.6–0.9), and two numbers no
# time depends on. B runs the first stage at a fixed 4.2 min: B − A < 0 at A's values, > 0
# when A's own first stage is at its low end (3.6 min), so that range flips the sign.
LINE = """\
name: line
clock: {start: 2024-01-01 00:00, horizon_days: 4, warmup_days: 0.5}
yards:
  y1: {slots: {value: 500, low: 400, high: 1000, name: y1_slots},
       cost_per_slot_year: {value: 100, low: 50, high: 200, name: slot_cost}}
  y2: {}
stages:
  first: {servers: 1, yard: y1, service: {dist: exponential, unit: min,
          mean: {value: 4.5, low: 3.6, high: 5.4, name: first_service}}}
  second: {servers: 1, yard: y2, service: {dist: exponential, unit: min,
           mean: {value: 1.8, low: 1.44, high: 2.16, name: second_service}}}
arrivals: {c: {direction: import, cargo: general,
               interarrival: {dist: exponential, mean: 6, unit: min}}}
routes: {only: {direction: import, cargo: general, steps: [{stage: first}, {stage: second}]}}
"""
B = ["name=line_b", "stages.first.service.mean=4.2"]
# Two desks' worth of officers; the data were made at 10 min per truck.
DESK = """\
name: desk
clock: {start: 2024-01-01 00:00, horizon_days: 6, warmup_days: 1}
yards: {y: {}}
stages:
  desk: {servers: 2, yard: y, service: {dist: exponential, unit: min,
         mean: {value: 8, low: 5, high: 12, name: desk_minutes}}}
arrivals: {c: {direction: import, cargo: general, rate_per_day: 240}}
routes: {only: {direction: import, cargo: general, steps: [{stage: desk}]}}
"""
TIME = "time_in_system_h/system/mean"
LABEL = metric_label("time_in_system_h", "mean")
PNG = '<img src="data:image/png;base64,'


def _targets(path: Path, scenario: Path) -> None:
    s = load_scenario(scenario, ["stages.desk.service.mean=10"])
    summary = gatesim.run(s, 4, 99, records="none").summary.set_index(
        ["metric", "scope", "stat"])

    def target(key: str, use: str, half: float | None = None) -> dict:
        row = summary.loc[tuple(key.split("/"))]
        return {"measure": "summary", "metric": key, "reported": round(float(row.estimate), 3),
                "half_band": half or round(float(row.ci_high - row.estimate), 3) + 0.01,
                "source": "made by gatesim, seed 99", "use": use}

    path.write_text(yaml.safe_dump({"fit": ["desk_minutes"], "targets": {
        "desk_busy": target("utilisation/desk/mean", "calibration"),
        "desk_wait": target("wait_h/desk/mean", "calibration"),
        "time_inside": target(TIME, "validation"),
        "cleared": target("throughput_per_day/system/mean", "validation", 0.5)}}),
        encoding="utf-8")


@pytest.fixture(scope="module")
def dirs(tmp_path_factory) -> dict[str, Path]:
    """Real results: a comparison of A and B, a sensitivity of A and of B − A, a Morris
    screening of A, a calibration of the desk (two calibration and two validation figures)."""
    root = tmp_path_factory.mktemp("analyses")
    (root / "line.yaml").write_text(LINE, encoding="utf-8")
    (root / "desk.yaml").write_text(DESK, encoding="utf-8")
    a, b = load_scenario(root / "line.yaml"), load_scenario(root / "line.yaml", B)
    out = {k: root / k for k in ("cmp", "sens", "diff", "screen", "cal")}
    write_comparison(gatesim.compare([a, b], 3, 5), out["cmp"])
    write_sensitivity(gatesim.sensitivity(root / "line.yaml", metric=TIME, replications=5,
                                          seed=5), out["sens"])
    write_sensitivity(gatesim.sensitivity([a, b], metric=TIME, replications=5, seed=5),
                      out["diff"])
    write_screening(morris(root / "line.yaml", metric=TIME, replications=2, trajectories=3,
                           seed=5), out["screen"])
    _targets(root / "targets.yaml", root / "desk.yaml")
    write_calibration(calibrate(root / "desk.yaml", root / "targets.yaml", replications=3,
                                seed=1, budget=4, profile_points=4), out["cal"])
    return out


@pytest.fixture(scope="module")
def reports(dirs) -> dict[str, Path]:
    built = {k: build_report(dirs[k]) for k in ("sens", "diff", "screen", "cal")}
    built["cmp"] = build_report(dirs["cmp"], include=[dirs["diff"], dirs["cal"],
                                                      dirs["screen"]])
    return built


def _text(path: Path) -> str:
    return htmllib.unescape(path.read_text(encoding="utf-8"))


def _order(html: str, *ids: str) -> list[int]:
    return [html.index(f'<section id="{i}"') for i in ids]


def _self_contained(html: str) -> None:
    assert not re.search(r"https?://|<script|<link|@import|url\(", html)
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids))


def test_kind_of_knows_the_analyses(dirs):
    assert [kind_of(dirs[k]) for k in ("sens", "screen", "cal")] == [
        "sensitivity", "screening", "calibration"]


def test_sensitivity_report_leads_with_the_answer(dirs, reports):
    html = _text(reports["sens"])
    _self_contained(reports["sens"].read_text(encoding="utf-8"))
    assert _order(html, "answer", "plots", "provenance") == sorted(
        _order(html, "answer", "plots", "provenance"))
    meta = json.loads((dirs["sens"] / "sensitivity.json").read_text(encoding="utf-8"))
    table = pd.read_csv(dirs["sens"] / "sensitivity.csv")
    headline = summary_text(SensitivityResult(table, meta), LABEL).splitlines()[0]
    answer = section(html, "answer")
    assert f'<p class="lead">{headline}.' in answer
    assert headline.startswith("first_service moves time in the system, mean (h) most: from")
    quiet = int((~table.effect_shown.astype(str).str.lower().eq("true")).sum())
    assert f"{quiet} of {len(table)} ranges show no effect beyond the noise of 5 " \
           "replications" in answer
    assert "flips" not in answer  # one scenario: no sign to flip
    for name in table.parameter:
        assert f'scope="row">{name}</th>' in answer
    assert section(html, "plots").count(PNG) == html.count("<img ") == 1
    assert (dirs["sens"] / "plots" / "tornado.svg").is_file()
    assert "seed</th><td>5<" in section(html, "provenance")


def test_difference_sensitivity_report_says_where_the_sign_flips(dirs, reports):
    answer = section(_text(reports["diff"]), "answer")
    table = pd.read_csv(dirs["diff"] / "sensitivity.csv").set_index("parameter")
    first = table.loc["first_service"]
    assert first.base < 0 < first.at_low  # the fixture's design
    assert "the difference line_b − line in time in the system, mean (h)" in answer
    assert "The sign of the difference line_b − line flips within the range of " \
           "first_service." in answer
    assert answer.count(">flips<") == 1 and answer.count(">keeps<") == 3


def test_screening_report_names_the_largest_mu_star(dirs, reports):
    html = _text(reports["screen"])
    _self_contained(html)
    answer = section(html, "answer")
    top = pd.read_csv(dirs["screen"] / "screening.csv").iloc[0]
    assert re.search(rf'<p class="lead">{top.parameter} moves time in the system, mean \(h\) '
                     r"most: μ\* = ", answer)
    assert "2 of 4 ranges have no effect at all (every elementary effect exactly 0)." in answer
    assert answer.count(">no effect<") == 2
    assert section(html, "plots").count(PNG) == 1 and "Morris elementary effects" in html


def test_calibration_report_fit_figures_and_how_to_run_it(dirs, reports):
    html = _text(reports["cal"])
    _self_contained(html)
    answer = section(html, "answer")
    fit = pd.read_csv(dirs["cal"] / "fit.csv").iloc[0]
    assert answer.index('<p class="lead">desk_minutes = ') < answer.index("Fitted values")
    assert "95 % interval [" in answer and f"was {fit.start:g}" in answer
    cal = pd.read_csv(dirs["cal"] / "calibration.csv")
    for use, title in (("calibration", "Calibration figures (fitted)"),
                       ("validation", "Validation figures (measured, never fitted)")):
        rows = cal[cal.set == use]
        assert f"{title}: {int(rows.in_band.sum())} of {len(rows)} in their band" in answer
    assert answer.count('class="flag yes">yes<') == int(cal.in_band.sum())
    assert answer.count('class="flag no">no<') == int((~cal.in_band).sum())
    assert answer.count(" · out<") + answer.count(" · in<") == len(cal)  # before calibration
    assert "utilisation — desk, mean (share)" in answer  # summary targets in words
    assert f"gatesim run {dirs['cal']}/calibrated.yaml" in answer
    assert '<a href="calibrated.yaml">' in answer
    plot = section(html, "plots")
    assert plot.count(PNG) == 1 and "Method: objective Σ((mean − reported)/half_band)²" in plot
    assert 'role="alert"' not in html  # a stable fit: no banner


def test_an_unstable_fit_is_flagged_in_a_banner(dirs, tmp_path):
    cal = tmp_path / "cal"
    shutil.copytree(dirs["cal"], cal)
    meta = json.loads((cal / "calibration.json").read_text(encoding="utf-8"))
    (cal / "calibration.json").write_text(json.dumps({**meta, "unstable": True}),
                                          encoding="utf-8")
    html = _text(build_report(cal))
    assert re.search(r'<div class="banner" role="alert">UNSTABLE: at the fitted values', html)


def test_a_comparison_includes_the_analyses_after_its_key_figures(dirs, reports):
    raw = reports["cmp"].read_text(encoding="utf-8")
    _self_contained(raw)
    html = htmllib.unescape(raw)
    assert _order(html, "key-figures", "analysis-1", "analysis-2", "analysis-3",
                  "scenario", "plots") == sorted(_order(html, "key-figures", "analysis-1",
                                                        "analysis-2", "analysis-3",
                                                        "scenario", "plots"))
    assert "Sensitivity: what moves the difference line_b − line" in section(html, "analysis-1")
    assert "Calibration figures (fitted)" in section(html, "analysis-2")
    assert "Morris screening: what moves" in section(html, "analysis-3")
    for i in (1, 2, 3):
        assert section(html, f"analysis-{i}").count(PNG) == 1
    plots = dirs["cmp"] / "plots"
    assert {p.name for p in plots.glob("included-*.png")} == {
        "included-sensitivity-diff.png", "included-calibration-cal.png",
        "included-screening-screen.png"}
    assert '<a href="../cal/calibrated.yaml">' in html
    key = section(html, "key-figures")
    box = re.search(r'<div class="trust">(.*?)</div>', key, re.S)[1]
    flip = ("The sign of the difference line_b − line in time in the system, mean (h) flips "
            "within the range of 1 number: pin it down before relying on the answer.")
    assert flip in box and flip in section(html, "answer")  # the answer says it too
    assert "(line_b's is the lower)" in box
    rows = re.findall(r'scope="row">(\w+)</th>.*?class="flag (\w+)">(\w+)</span></td></tr>',
                      box, re.S)
    assert rows[0] == ("first_service", "no", "yes")  # flips the sign: first, in red
    assert [r[0] for r in rows] == ["first_service", "second_service"]  # what moves it
    assert "2 ranges do not move it at all." in box
    assert not re.search(r'class="trust"', section(html, "analysis-1"))  # once, in the answer


def _row(parameter: str, base: float, low: float, high: float, shown: bool = True) -> dict:
    swing = abs(high - low)
    return {"parameter": parameter, "low": 1, "high": 2, "base": base, "base_ci_low": base - .1,
            "base_ci_high": base + .1, "at_low": low, "at_high": high, "swing": swing,
            "effect_shown": shown, "flips": min(low, high, base) < 0 < max(low, high, base)}


def test_the_trust_paragraph_names_what_flips_and_what_leaves_it_standing():
    meta = {"scenarios": ["a", "b"], "answer": "b − a", "replications": 5}
    block = {"meta": meta, "name": "s", "what": "the difference b − a in waits",
             "rows": [_row("big", -1.0, -2.0, -0.2), _row("mid", -1.0, -1.3, -0.8),
                      _row("small", -1.0, -1.05, -1.0), _row("none", -1.0, -1.0, -1.0),
                      _row("tail", -1.0, -1.01, -1.0)]}
    t = trust(block, {"baseline": "a", "scenarios": ["a", "b"]})
    assert t["flip"] == "No range of the sensitivity analysis flips the sign of the " \
                        "difference b − a in waits."
    assert "(b's is the lower)" in t["lead"] and t["flip"] in t["lead"]
    shown = [(r[0]["text"], r[3]["text"]) for r in t["table"]["rows"]]
    assert shown == [("big", "1.80"), ("mid", "0.50"), ("small", "0.05"), ("tail", "0.01")]
    assert "1 range does not move it at all." in t["tail"] and "Note:" not in t["tail"]
    block["rows"] += [_row(f"more{i}", -1.0, -1.0 - i / 10, -1.0) for i in range(1, 4)]
    t = trust(block, {"baseline": "a", "scenarios": ["a", "b"]})
    assert len(t["table"]["rows"]) == 5 and "2 other ranges move it less" in t["tail"]
    block["rows"][1] = _row("mid", -1.0, 0.4, -1.5, shown=False)
    t = trust(block, {"baseline": "x", "scenarios": ["x", "b"]})
    assert t["flip"].startswith("The sign of the difference b − a in waits flips within the "
                                "range of 1 number")
    first = t["table"]["rows"][0]
    assert [c["text"] for c in first] == ["mid", "1 – 2", "0.40 → −1.50", "1.90", "no", "yes"]
    assert "Note: that sensitivity compared b with a, not exactly this report's" in t["tail"]


def test_the_same_directory_included_twice_gets_two_plot_names(dirs, tmp_path):
    out = build_report(dirs["cmp"], tmp_path / "r.html", include=[dirs["sens"], dirs["sens"]])
    html = out.read_text(encoding="utf-8")
    assert 'id="plot-included-sensitivity-sens"' in html
    assert 'id="plot-included-sensitivity-sens-2"' in html
    assert "How far to trust" not in html  # a sensitivity of one scenario: no sign


def test_include_refuses_what_is_not_an_analysis_in_one_line(dirs, capsys, tmp_path):
    assert cli.main(["report", str(dirs["cmp"]), "--include", str(dirs["cmp"] / "line")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "not a sensitivity, screening or calibration results" in err
    with pytest.raises(GatesimError, match="only a run, comparison or sweep report"):
        build_report(dirs["sens"], include=[dirs["cal"]])
    assert cli.main(["report", str(dirs["cmp"]), "--include", str(dirs["diff"]), "-q",
                     "--out", str(tmp_path / "r.html")]) == 0
    assert "How far to trust the answer" in (tmp_path / "r.html").read_text(encoding="utf-8")


def test_reports_render_in_headless_chromium_with_the_answer_first(reports, tmp_path):
    executable = chromium()
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(executable), args=BROWSER_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: None if r.url.startswith(("file:", "data:"))
                    else errors.append(f"network request {r.url}"))
            for name, answer in (("cal", "#answer .answer"), ("cmp", "#answer table")):
                page.goto(reports[name].as_uri(), wait_until="load")
                assert page.evaluate("Array.from(document.images).every("
                                     "i => i.complete && i.naturalWidth > 0)")
                box = page.locator(answer).first.bounding_box()
                assert box and box["y"] >= 0 and box["y"] + box["height"] <= 768, (name, box)
                assert page.evaluate("document.documentElement.scrollWidth") <= 1366
                page.screenshot(path=str(tmp_path / f"{name}-viewport.png"))
                shot = tmp_path / f"{name}.png"
                page.screenshot(path=str(shot), full_page=True)
                assert shot.stat().st_size > 10_000
        finally:
            browser.close()
    assert errors == []
