"""CLI contracts that need no simulation: validate's exit status and files."""

from __future__ import annotations

import pandas as pd
import pytest

from gatesim import cli
from gatesim.validation import suite as validation


@pytest.mark.parametrize("passed, status", [([True, True], 0), ([True, False], 1)])
def test_validate_exit_status_and_csv(tmp_path, monkeypatch, capsys, passed, status):
    table = pd.DataFrame({
        "case": ["mm1", "mmc"], "metric": ["Wq", "Wq"], "theory": [4.0, 0.35],
        "simulated": [4.01, 0.5], "ci_low": [3.9, 0.45], "ci_high": [4.1, 0.55],
        "rel_error": [0.0025, 0.43], "half_width_rel": [0.025, 0.14], "passed": passed})
    monkeypatch.setattr(validation, "run_validation", lambda quick, workers: table)
    assert cli.main(["validate", "--quick", "--out", str(tmp_path)]) == status
    written = pd.read_csv(tmp_path / "validation.csv")
    assert list(written.columns) == list(table.columns) and len(written) == 2
    assert "validation.csv" in capsys.readouterr().out
