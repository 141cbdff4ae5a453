"""The HTML report: the answer first, then every section for a run, a comparison and a sweep;
self-contained; in words (no dotted paths, JSON or raw comments); in English and Vietnamese;
and it renders in a real headless Chromium without errors and with every image loaded."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import sync_playwright

from gatesim.errors import GatesimError
from gatesim.output import reader
from gatesim.output.describe import demand
from gatesim.output.report import build_report, fmt, kind_of
from gatesim.output.words import figure_words
from gatesim.scenario.sources import parse_sources
from tests.conftest import SMALL_GATE
from tests.test_plots import KEYS, write_comparison, write_small_run, write_sweep

CHROMIUM = Path("/usr/bin/chromium")
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run"]
SECTIONS = ["answer", "key-figures", "scenario", "plots", "assumptions", "validation",
            "provenance"]
PNG = '<img src="data:image/png;base64,'


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, Path]:
    """report.html of a run (with validation.csv and its scenario file named), a comparison
    (one scenario without per-truck records) and a sweep."""
    root = tmp_path_factory.mktemp("report")
    run = write_small_run(root / "run")
    doc = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    annotated = root / "small_gate.yaml"  # the file with source comments, as shipped ones are
    annotated.write_text(SMALL_GATE.read_text(encoding="utf-8").replace(
        "servers: 2\n", "servers: {value: 2, low: 1, high: 3}   # assumption: two desks\n", 1
    ).replace("rate_per_day: 40\n", "rate_per_day: 40   # src: §1b counts [D]; assumption: "
              "steady\n", 1), encoding="utf-8")
    (run / "summary.json").write_text(json.dumps({**doc, "scenario_file": str(annotated)}),
                                      encoding="utf-8")
    pd.DataFrame([("mm1", "wait_h", 1.0, 1.02, 0.97, 1.07, 0.02, 0.05, True),
                  ("mm1_heavy", "wait_h", 9.0, 7.9, 7.5, 8.3, -0.12, 0.05, False)],
                 columns=["case", "metric", "theory", "simulated", "ci_low", "ci_high",
                          "rel_error", "half_width_rel", "passed"]).to_csv(
        run / "validation.csv", index=False)
    cmp = root / "cmp"
    write_small_run(cmp / "small_gate")
    write_small_run(cmp / "more_staff", ("name=more_staff", "stages.documents.servers=4"),
                    records=False)
    write_comparison(cmp, "small_gate", "more_staff")
    write_sweep(root / "sweep")
    return {kind: build_report(root / kind) for kind in ("run", "cmp", "sweep")}


def section(html: str, name: str) -> str:
    m = re.search(rf'<section id="{name}"[^>]*>(.*?)</section>', html, re.S)
    assert m, f"no section {name}"
    return m.group(1)


@pytest.mark.parametrize("kind", ["run", "cmp", "sweep"])
def test_report_is_complete_self_contained_and_leads_with_the_answer(reports, kind):
    html = reports[kind].read_text(encoding="utf-8")
    starts = [html.index(f'<section id="{s}"') for s in SECTIONS]
    assert starts == sorted(starts)  # the answer first, provenance last
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids))
    pngs = {p.stem for p in (reports[kind].parent / "plots").rglob("*.png")}
    shown = re.findall(r'<figure class="plot[^"]*" id="plot-(?:answer-)?([^"]+)"', html)
    assert shown and set(shown) <= pngs and html.count(PNG) == html.count("<img ") == len(shown)
    refs = re.findall(r'(?:src|href)\s*=\s*["\']?([^"\'\s>]+)', html)
    assert refs and not [r for r in refs if not r.startswith(("data:image/png;base64,", "#"))]
    assert not re.search(r"https?://|<script|<link|@import|url\(", html)


def test_kind_of_tells_the_three_kinds_apart(reports, tmp_path):
    assert [kind_of(p.parent) for p in reports.values()] == ["run", "comparison", "sweep"]
    with pytest.raises(GatesimError, match="not a results directory"):
        kind_of(tmp_path)


def test_run_report_key_figures_validation_and_sources(reports):
    html = reports["run"].read_text(encoding="utf-8")
    summary = pd.read_csv(reports["run"].parent / "summary.csv")
    key = section(html, "key-figures")
    assert "trucks queuing on the road, mean (trucks)<" not in key  # never summed
    for metric, scope, stat in KEYS:
        row = summary[(summary.metric == metric) & (summary.scope == scope)
                      & (summary.stat == stat)].iloc[0]
        label = figure_words(metric, stat, scope)
        assert re.search(rf"{re.escape(label)}</td><td class=\"num\">{re.escape(fmt(row.estimate))}"
                         rf"</td>\s*<td class=\"num\">{re.escape(fmt(row.ci_low))} – ", key)
    validation = section(html, "validation")
    assert "1 of 2 checks" in validation
    assert validation.count('class="pass"') == 1 and validation.count('class="fail"') == 1
    assumptions = section(html, "assumptions")
    assert "From the comments of" in assumptions and "Assumption:</span>" in assumptions
    assert "<td>documents — servers</td><td>2 (range 1 – 3)</td>" in assumptions
    assert "Source:</span> §1b counts [D]</div>" in assumptions
    assert not re.search(r"\bsrc:|[{}]|&amp;\w|\*\w", assumptions)  # no raw YAML or tags
    scenario = section(html, "scenario")
    assert "6 days from 8 Feb 2024 00:00" in scenario and "customs_shifts" in scenario
    assert "documents → channel (green 70 %; red 30 %: inspection)" in scenario
    provenance = section(html, "provenance")
    assert "seed</th><td>1<" in provenance and "matplotlib (report)" in provenance


def test_run_answer_says_throughput_against_demand_times_yards_roads(reports):
    html = reports["run"].read_text(encoding="utf-8")
    answer = section(html, "answer")
    run = reader.read_run(reports["run"].parent)
    summary = run.summary.set_index(["metric", "scope", "stat"])["estimate"]
    wanted = demand(run.scenario, run.scenario.clock.warmup_days)
    assert re.search(r"<h1>small_gate, 9 Feb 2024 – 13 Feb 2024: 3 replications</h1>", answer)
    assert (f"Of the {fmt(wanted['system'])} trucks a day the scenario brings, the gates clear "
            f"{fmt(summary['throughput_per_day', 'system', 'mean'])}") in answer
    assert f"spends {fmt(summary['time_in_system_h', 'system', 'mean'])} h in the system" in answer
    assert "Queues on the roads: ql1a" in answer
    for label in ("All trucks", "Export", "Import", "fresh", "general"):
        assert f">{label}" in answer
    for yard, y in run.scenario.yards.items():  # each yard's peak against its slots
        peak = fmt(summary["yard_occupancy", yard, "max"])
        assert re.search(rf">{yard}</th><td[^>]*>[^<]+</td><td[^>]*>{re.escape(peak)}</td>"
                         rf"<td[^>]*>{y.slots}</td>", answer)
    assert not re.search(r">[-−]\d", answer)  # no negative counts or times
    assert html.index('class="banner"') < html.index('<section id="answer"')  # unstable first


def test_comparison_report_shows_differences_and_each_scenario(reports):
    html = reports["cmp"].read_text(encoding="utf-8")
    scenario = section(html, "scenario")
    assert "stages.documents.servers" not in scenario and '{"' not in scenario
    assert re.search(r"<td>documents <span class=\"kind\">stage</span></td>\s*<td>servers</td>"
                     r"<td>2</td><td>4</td>", scenario)
    key = section(html, "key-figures")
    half = len(KEYS) // 2  # the fixture makes every other summary figure significant
    assert key.count("significantly better") + key.count("significantly worse") == half
    assert key.count("not significant") == half
    answer = section(html, "answer")
    assert "<h1>more_staff vs small_gate, 9 Feb 2024 – 13 Feb 2024: 3 replications</h1>" in answer
    assert "(A: small_gate; B: more_staff)" in answer and ">Δ<" in answer
    assert answer.count("<strong class=") >= 3  # the summary block's verdicts in the sentences
    plot_section = section(html, "plots")
    assert 'id="plot-comparison"' in plot_section and 'id="plot-overlay_in_system"' in plot_section
    assert "Per-truck records were not written" in plot_section
    assert "Source comments not available" in section(html, "assumptions")
    assert "Validation was not run" in section(html, "validation")


def test_sweep_report_marks_the_smallest_capacity(reports):
    html = reports["sweep"].read_text(encoding="utf-8")
    answer = section(html, "answer")
    assert ("The smallest front meeting “trucks queuing on the road, 95th percentile ≤ 4” is "
            "12 slots (upper CI bound 4).") in answer
    assert answer.index("The smallest front") < answer.index('id="plot-answer-sweep_')
    key = section(html, "key-figures")
    best = re.findall(r'<tr class="best">\s*<td class="num">(\d+)</td>', key)
    assert best == ["12"]
    assert key.count(">yes") == 3 and key.count(">no<") == 2


def test_sweep_report_describes_its_base_scenario_escaped(reports, tmp_path):
    spec = json.loads((reports["sweep"].parent / "sweep.json").read_text(encoding="utf-8"))
    scenario = json.loads((reports["run"].parent / "summary.json").read_text(encoding="utf-8"))
    scenario = {**scenario["scenario"], "description": "<b>bold</b> & more"}
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    (sweep / "sweep.csv").write_bytes((reports["sweep"].parent / "sweep.csv").read_bytes())
    (sweep / "sweep.json").write_text(json.dumps({**spec, "scenario": scenario}),
                                      encoding="utf-8")
    out = build_report(sweep, tmp_path / "elsewhere" / "r.html")
    assert out == tmp_path / "elsewhere" / "r.html"
    assert list((sweep / "plots").glob("sweep_*.svg"))  # with the results
    assert not (tmp_path / "elsewhere" / "plots").exists()  # never beside another file
    text = section(out.read_text(encoding="utf-8"), "scenario")
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; more" in text and "<b>bold" not in text
    assert "Stages (checks a truck goes through)" in text
    assert "<h1>Sweep of front — slots from 4 to 20: small_gate, 9 Feb 2024 – 13 Feb 2024, 3 " \
           "replications</h1>" in section(out.read_text(encoding="utf-8"), "answer")


def test_vietnamese_report_numbers_dates_and_language(reports, tmp_path):
    out = build_report(reports["run"].parent, tmp_path / "vi.html", lang="vi")
    html = out.read_text(encoding="utf-8")
    assert '<html lang="vi">' in html
    answer = section(html, "answer")
    assert "09/02/2024 – 13/02/2024" in answer
    assert re.search(r">\d+,\d+<", answer)  # a decimal comma
    assert '<html lang="en">' in reports["run"].read_text(encoding="utf-8")
    with pytest.raises(ValueError, match="language"):
        build_report(reports["run"].parent, tmp_path / "xx.html", lang="xx")


def test_parse_sources_names_fields_values_and_kinds():
    text = """# Header note.
name: x   # not a number
description: >
  folded text: with a colon # and a hash
clock:
  horizon_days: 14               # assumption: two weeks
yards:
  front: {slots: 300}            # src: §6 sizes
calendars:
  c:
    weekly:
      - windows: [{open: "07:00", close: "19:00"}]   # src: §2 hours; assumption: late
routes:
  r:
    steps:
      - stage: a
      - choose: ch
        options:
          green: {p: 0.5}        # assumption: §3 gap
"""
    notes, rows = parse_sources(text)
    assert notes == ["Header note."]
    assert [(r["field"], r["value"], r["kind"]) for r in rows] == [
        ("clock.horizon_days", "14", "assumption"),
        ("yards.front", "{slots: 300}", "source"),
        ("calendars.c.weekly[].windows", '[{open: "07:00", close: "19:00"}]',
         "source + assumption"),
        ("routes.r.steps[].options.green", "{p: 0.5}", "assumption"),
    ]


def chromium(path: Path = CHROMIUM) -> Path:
    """The browser for the rendering test: skipped without it, except on CI where it must be."""
    if path.is_file():
        return path
    if os.environ.get("CI") == "true":
        pytest.fail(f"{path} is missing but CI=true: the report's browser test must run on CI "
                    "(install Debian's chromium package, as .ci/run does)")
    pytest.skip(f"{path} not installed")


def test_missing_chromium_skips_locally_and_fails_on_ci(tmp_path, monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        chromium(tmp_path / "no-chromium")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        chromium(tmp_path / "no-chromium")


def test_report_renders_in_headless_chromium(reports, tmp_path):
    executable = chromium()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(executable), args=BROWSER_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: None if r.url.startswith(("file:", "data:"))
                    else errors.append(f"network request {r.url}"))
            for kind, report in reports.items():
                page.goto(report.as_uri(), wait_until="load")
                assert page.evaluate("Array.from(document.images).every("
                                     "i => i.complete && i.naturalWidth > 0)")
                assert page.evaluate("document.images.length") > 0
                shot = tmp_path / f"{kind}.png"
                page.screenshot(path=str(shot), full_page=True)
                assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
                assert shot.stat().st_size > 10_000
        finally:
            browser.close()
    assert errors == []


def test_numbers_read_as_a_planner_reads_them():
    from gatesim.i18n import using
    from gatesim.output.words import money, share, signed

    assert fmt(2.1e-15) == signed(2.1e-15) == "0"  # float noise of a difference, not 2e-15
    assert (signed(0.43), signed(-1.4), fmt(0.002), fmt(34.0)) == ("+0.43", "−1.40", "0.0020",
                                                                  "34")
    assert (share(0.056), share(0.0), share(0.25)) == ("5.6 %", "0 %", "25 %")
    assert money(652.1e6, "VND") == "VND 652 million"
    assert money(51.4e6, "VND", sign=True) == "+VND 51.4 million"
    assert money(137.0, "VND") == "VND 137"
    with using("vi"):
        assert (fmt(1214.2), fmt(6.94), signed(-0.94)) == ("1.214", "6,94", "−0,94")
