"""Every registered validation case lands on its queueing-theory value (full runs); the quick
runs behind ``gatesim validate --quick`` pass their looser rule; the rule itself."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gatesim.scenario.loader import load_scenario
from gatesim.validation import suite as validation


@pytest.mark.parametrize("case", validation.CASES, ids=lambda c: c.name)
def test_case_file_is_an_ordinary_scenario(case):
    s = load_scenario(validation.CASES_DIR / case.file)
    assert s.name == case.name
    assert 0 < s.clock.warmup_days < case.quick.horizon_days < s.clock.horizon_days


def test_pass_rule_needs_both_accuracy_and_precision():
    tight = 1.0 + np.array([-0.01, 0.01, -0.005, 0.005, 0.0])
    assert validation.judge("c", "m", 1.0, tight, 0.03)["passed"]
    assert not validation.judge("c", "m", 1.1, tight, 0.03)["passed"]  # precise but wrong
    wide = 1.0 + np.array([-0.5, 0.5, -0.2, 0.2, 0.0])
    row = validation.judge("c", "m", 1.0, wide, 0.03)
    assert row["ci_low"] < 1.0 < row["ci_high"] and not row["passed"]  # covers, too wide


@pytest.mark.slow
@pytest.mark.parametrize("case", validation.CASES, ids=lambda c: c.name)
def test_case_matches_theory(case):
    rows = pd.DataFrame(validation.run_case(case, quick=False, workers=2))
    assert rows["passed"].all(), "\n" + validation.format_table(rows)


@pytest.mark.slow
def test_quick_validation_passes():
    df = validation.run_validation(quick=True, workers=2)
    assert list(df.columns) == validation.COLUMNS
    assert len(df) == sum(len(c.checks) for c in validation.CASES) + 1  # + the replayed trace
    table = validation.format_table(df)
    assert df["passed"].all(), "\n" + table
    assert table.splitlines()[-1] == f"{len(df)} of {len(df)} checks passed"
