"""The report leads with the answer: in a real headless Chromium at 1366×768, the summary block
(id="answer": its heading, sentences and the top of its table) of a run, a comparison and a
sweep lies within the first screen, in English and in Vietnamese, with no console error.

Built from real results of a tiny labelled scenario (tests/scenarios/two_gates.yaml: 4 days,
2 replications). Screenshots go to the test's tmp dir and to /tmp/report_shots/.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

import gatesim
from gatesim.experiments.sweep import Target, sweep
from gatesim.output.report import build_report
from gatesim.output.writer import write_comparison, write_run, write_sweep
from tests.conftest import ROOT
from tests.test_report import BROWSER_ARGS, chromium

pytestmark = pytest.mark.slow  # about 25 s: three real results, six reports with their charts
TWO_GATES = ROOT / "tests" / "scenarios" / "two_gates.yaml"
VIEWPORT = {"width": 1366, "height": 768}
SHOTS = Path("/tmp/report_shots")
KINDS = ("run", "comparison", "sweep")


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict[str, Path]:
    """A run, a comparison (one more desk at gate B) and a sweep of gate B's export yard."""
    root = tmp_path_factory.mktemp("browser")
    base = gatesim.load_scenario(TWO_GATES)
    more = gatesim.load_scenario(TWO_GATES, ["name=two_gates_more_desks",
                                             "stages.b_documents.servers=2"])
    write_run(gatesim.run(base, replications=2, seed=3), root / "run", xlsx=False)
    write_comparison(gatesim.compare([base, more], 2, 3), root / "comparison")
    write_sweep(sweep(TWO_GATES, [("yards.b_export_yard.slots", [10, 20, 40])],
                      replications=2, seed=3,
                      target=Target("road_queue", "road_b", "p95", "<=", 5.0)),
                root / "sweep")
    return {k: root / k for k in KINDS}


@pytest.fixture(scope="module")
def reports(results, tmp_path_factory) -> dict[tuple[str, str], Path]:
    out = tmp_path_factory.mktemp("reports")
    return {(kind, lang): build_report(results[kind], out / f"{kind}-{lang}.html", lang=lang)
            for kind in KINDS for lang in ("en", "vi")}


def test_the_answer_is_on_the_first_screen(reports, tmp_path):
    executable = chromium()
    SHOTS.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(executable), args=BROWSER_ARGS)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            for (kind, lang), report in reports.items():
                page.goto(report.as_uri(), wait_until="load")
                assert page.evaluate("document.documentElement.lang") == lang
                answer = page.locator("#answer")
                heading = answer.locator("h1").bounding_box()
                sentences = answer.locator(".sentences").bounding_box()
                assert heading and heading["y"] >= 0, (kind, lang)
                assert sentences and sentences["y"] + sentences["height"] <= 768, (kind, lang)
                first = answer.locator("table, figure").first.bounding_box()
                assert first and first["y"] < 768, (kind, lang, first)
                if kind != "sweep":  # the whole block, tables included
                    box = answer.bounding_box()
                    assert box and box["y"] + box["height"] <= 768, (kind, lang, box)
                assert page.evaluate("document.documentElement.scrollWidth") <= 1366
                for name, full in ((f"{kind}-{lang}.png", False),
                                   (f"{kind}-{lang}-full.png", True)):
                    page.screenshot(path=str(tmp_path / name), full_page=full)
                    shutil.copy(tmp_path / name, SHOTS / name)
        finally:
            browser.close()
    assert errors == []


def test_the_answer_speaks_the_planners_words(reports):
    """Display names, not code names; each language's own words and numbers."""
    run = reports["run", "en"].read_text(encoding="utf-8")
    assert "<h1>two_gates, 2 Aug 2024 – 4 Aug 2024: 2 replications</h1>" in run
    assert ">Gate A export yard</th>" in run and ">a_export_yard<" not in run
    assert "Road A" in run and ">Export <span" in run and ">Fresh produce <span" in run
    vi = reports["run", "vi"].read_text(encoding="utf-8")
    assert ">Bãi chờ xuất khẩu A</th>" in vi and "02/08/2024 – 04/08/2024" in vi
    sweep_en = reports["sweep", "en"].read_text(encoding="utf-8")
    assert "The smallest Gate B export yard meeting “queue on Road B, 95th percentile ≤ 5” is" \
        in sweep_en
    cmp = reports["comparison", "en"].read_text(encoding="utf-8")
    assert "<td>Gate B document check <span class=\"kind\">stage</span></td>" in cmp
