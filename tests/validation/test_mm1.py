"""M/M/1 through the ordinary schema lands on Pollaczek–Khinchine / M/M/1 theory."""

from __future__ import annotations

import pytest

from gatesim import theory
from gatesim.experiment import run
from gatesim.loader import load_scenario
from tests.conftest import ROOT


@pytest.mark.slow
def test_mm1_wait_within_ci_and_ci_tight():
    s = load_scenario(ROOT / "tests" / "validation" / "mm1.yaml")
    r = run(s, replications=10, seed=2024, workers=2)
    row = r.summary.set_index(["metric", "scope", "stat"]).loc[("wait_h", "server", "mean")]
    wq = theory.mm1(0.8, 1.0).wq
    half = row.ci_high - row.estimate
    assert half <= 0.05 * wq
    assert row.ci_low <= wq <= row.ci_high
    util = r.summary.set_index(["metric", "scope", "stat"]).loc[("utilisation", "server", "mean")]
    assert util.ci_low - 0.01 <= 0.8 <= util.ci_high + 0.01
