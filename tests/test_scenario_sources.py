"""Every number in a shipped scenario names its source or says it is an assumption."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gatesim.scenario.loader import load_scenario
from tests.conftest import ROOT

SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
NUMBER = re.compile(r"(?<!\w)\d")
"""A digit that starts a number (not one inside a name such as demand_target_2027)."""
TAGGED = re.compile(r"#.*\b(src|assumption)\b")
LABEL = re.compile(r'\{\s*(?:vi|en)\s*:\s*"[^"]*"(?:\s*,\s*(?:vi|en)\s*:\s*"[^"]*")*\s*\}')
"""A display name per language (``{vi: "…", en: "…"}``): text to show, not a number to source
(``"Quốc lộ 1A"``, ``"mốc 1119–1120"``)."""


def untagged_lines(path: Path) -> list[str]:
    bad = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        code = LABEL.sub("", line).split("#", 1)[0]
        if NUMBER.search(code) and not TAGGED.search(line):
            bad.append(f"{path.name}:{n}: {line.strip()}")
    return bad


def test_there_are_shipped_scenarios():
    assert any(p.name == "huu_nghi.yaml" for p in SCENARIOS)


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_every_number_has_a_source_or_assumption(path):
    assert untagged_lines(path) == []


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_shipped_scenario_loads(path):
    load_scenario(path)


def test_checker_catches_an_untagged_number(tmp_path):
    f = tmp_path / "x.yaml"
    f.write_text("a: 3   # src: §1\nb: 4\nc: name_with_digit_9  # fine\nd: [1, 2]  # assumption\n"
                 "g_2027: x\n"
                 'e: {label: {vi: "Quốc lộ 1A", en: "road 1A"}}\n'
                 'f: {label: {vi: "Bãi 2"}, slots: 5}\n')
    assert untagged_lines(f) == ["x.yaml:2: b: 4", 'x.yaml:7: f: {label: {vi: "Bãi 2"}, slots: 5}']
