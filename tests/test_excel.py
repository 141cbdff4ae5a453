"""results.xlsx: typed cells that match the CSVs, in every kind of results directory."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import openpyxl
import pandas as pd
import pytest

from gatesim import cli
from gatesim.experiments.calibrate import CALIBRATION_COLUMNS, FIT_COLUMNS, CalibrationResult
from gatesim.experiments.sensitivity import SensitivityResult
from gatesim.output import excel
from gatesim.output.calibration import write_calibration
from gatesim.output.destination import owner
from gatesim.output.writer import write_sensitivity
from tests.conftest import TINY


@pytest.fixture
def tiny(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY)
    return path


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("xlsx")
    (root / "tiny.yaml").write_text(TINY)
    out = root / "res"
    assert cli.main(["run", str(root / "tiny.yaml"), "-r", "2", "-w", "1", "--seed", "5",
                     "--out", str(out), "--no-report", "-q"]) == 0
    return out


def rows(ws) -> list[list]:
    return [list(r) for r in ws.iter_rows(values_only=True)]


def close(a, b) -> bool:
    """Equal within 6 significant digits; an empty cell stands for NaN or infinity."""
    if a is None or (isinstance(a, float) and math.isnan(a)):
        return b is None or not math.isfinite(b)
    return math.isclose(a, b, rel_tol=1e-5, abs_tol=1e-12)


def test_key_figures_are_typed_and_match_summary_csv(run_dir):
    wb = openpyxl.load_workbook(run_dir / "results.xlsx")
    assert wb.sheetnames == ["Read me", "Key figures", "Replications", "Hourly"]
    ws = wb["Key figures"]
    header, *body = rows(ws)
    summary = pd.read_csv(run_dir / "summary.csv", keep_default_na=False,
                          na_values=["", "NaN", "nan"])
    assert header == ["label", *summary.columns]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == f"A1:I{len(summary) + 1}"
    assert all(c.font.b for c in ws[1])
    assert len(body) == len(summary)
    for cells, row in zip(body, summary.itertuples(index=False), strict=True):
        assert cells[1:4] == [row.metric, row.scope, row.stat]
        assert isinstance(cells[0], str) and cells[0]
        for got, want in zip(cells[4:7], (row.estimate, row.ci_low, row.ci_high), strict=True):
            assert got is None or type(got) in (int, float)
            assert close(got, want), (row, got, want)
        assert cells[7] == row.n and type(cells[7]) is int
        assert (cells[8] or "") == ("" if pd.isna(row.note) else row.note)
    throughput = next(r for r in body if r[1:4] == ["throughput_per_day", "system", "mean"])
    assert throughput[0] == "trucks cleared per day, mean (trucks/day)"
    estimate = ws.cell(row=2, column=5)
    assert estimate.data_type == "n" and estimate.number_format == "0.00"


def test_replications_and_hourly_are_numbers_and_date_times(run_dir):
    wb = openpyxl.load_workbook(run_dir / "results.xlsx")
    reps = pd.read_csv(run_dir / "replications.csv")
    header, *body = rows(wb["Replications"])
    assert header == list(reps.columns) and len(body) == len(reps)
    assert all(type(r[0]) is int and (r[4] is None or type(r[4]) in (int, float))
               for r in body)
    ws = wb["Hourly"]  # the mean over replications, a row per hour
    header, *body = rows(ws)
    assert header[:2] == ["hour", "time"]
    assert "in_system (system)" in header
    ts = pd.read_parquet(run_dir / "timeseries.parquet")
    assert len(body) == ts["hour"].nunique() == 3 * 24 + 1
    assert body[1][:2] == [1, dt.datetime(2024, 1, 1, 1, 0)]
    assert ws.cell(row=3, column=2).is_date
    assert ws.cell(row=3, column=2).number_format == "yyyy-mm-dd hh:mm"
    col = header.index("in_system (system)")
    level = ts[(ts.metric == "in_system") & (ts.scope == "system")]
    want = level.groupby("hour")["value"].mean()
    assert all(close(r[col], w) for r, w in zip(body, want, strict=True))
    readme = dict((k, v) for k, v in rows(wb["Read me"]))
    assert readme["Scenario"] == "tiny" and readme["Seed"] == 5
    assert readme["Replications"] == 2 and readme["gatesim version"]
    assert "contract" in readme["Precision"]
    assert readme["Sheet Hourly"].endswith("each replication's hours are in timeseries.parquet")
    assert readme["Records"] == ("every tenth truck (--records all keeps all): trucks.parquet "
                                 "and visits.parquet beside this file")


def test_cells_are_typed_rounded_and_never_formulas(tmp_path):
    table = pd.DataFrame({
        "metric": ["wait_h", "waiting_cost_per_day", "utilisation"],
        "scope": ["system"] * 3, "stat": ["mean"] * 3,
        "estimate": [1.23456789, 123456789.4, np.nan], "ci_low": [np.inf, 1.0, 0.5],
        "significant": [True, False, True], "note": ["=1+1", "#N/A", ""]})
    path = excel.write_xlsx(tmp_path, "comparison", {"scenarios": ["a", "b"]},
                            comparison=table)
    ws = openpyxl.load_workbook(path)["Key figures"]
    first, cost, share = rows(ws)[1:]
    assert first[:4] == ["total waiting time, mean (h)", "wait_h", "system", "mean"]
    assert first[4:] == [1.23457, None, True, "=1+1"]
    assert cost[4:] == [123457000, 1, False, "#N/A"] and cost[4] == 123457000.0
    assert share[4] is None and share[6] is True and share[7] is None
    assert ws.cell(row=2, column=8).data_type == "s"  # text, not a formula
    assert ws.cell(row=3, column=8).data_type == "s"  # text, not an error value
    assert ws.cell(row=3, column=5).number_format == "#,##0"  # VND
    assert not list(tmp_path.glob(".*partial*"))


def test_an_hourly_sheet_past_the_row_limit_is_left_out_with_a_note(tmp_path, tiny,
                                                                    monkeypatch):
    tiny.write_text(TINY.replace("horizon_days: 3", "horizon_days: 10"))  # 241 hours
    monkeypatch.setattr(excel, "MAX_ROWS", 150)  # more than the key figures' rows
    out = tmp_path / "res"
    assert cli.main(["run", str(tiny), "-r", "1", "-w", "1", "--out", str(out),
                     "--no-report", "-q"]) == 0
    wb = openpyxl.load_workbook(out / "results.xlsx")
    assert wb.sheetnames == ["Read me", "Key figures", "Replications"]
    note = dict((k, v) for k, v in rows(wb["Read me"]))["Sheet Hourly"]
    assert "left out" in note and "timeseries.parquet" in note
    assert (out / "timeseries.parquet").is_file()


def test_comparison_and_sweep_directories_carry_results_xlsx(tmp_path, tiny):
    other = tmp_path / "other.yaml"
    other.write_text(TINY.replace("name: tiny", "name: other"))
    comp = tmp_path / "comp"
    assert cli.main(["compare", str(tiny), str(other), "-r", "1", "-w", "1", "--out",
                     str(comp), "--no-report", "-q"]) == 0
    table = pd.read_csv(comp / "comparison.csv")
    header, *body = rows(openpyxl.load_workbook(comp / "results.xlsx")["Key figures"])
    assert header == ["label", *table.columns] and len(body) == len(table)
    assert (comp / "other" / "results.xlsx").is_file()
    assert owner(comp) == ("comparison", [])

    sweep = tmp_path / "sweep"
    assert cli.main(["sweep", str(tiny), "--param", "yards.queue.slots=10,20", "-r", "1",
                     "-w", "1", "--out", str(sweep), "--no-report", "-q"]) == 0
    table = pd.read_csv(sweep / "sweep.csv")
    wb = openpyxl.load_workbook(sweep / "results.xlsx")
    header, *body = rows(wb["Key figures"])
    assert header[0] == "label" and len(body) == len(table)
    assert {r[header.index("yards.queue.slots")] for r in body} == {10, 20}
    assert owner(sweep) == ("sweep", [])


def test_calibration_and_sensitivity_directories_carry_results_xlsx(tmp_path):
    fit = pd.DataFrame([["desk_minutes", 8.0, 5.0, 15.0, 10.02, 9.1, 11.3, "",
                         "stages.desk.service.mean"]], columns=FIT_COLUMNS)
    table = pd.DataFrame([["t0", "calibration", "summary", 0.8, 0.05, 0.75, 0.85, 0.81,
                           0.79, 0.83, True, 0.7, False, "desk", "gatesim"]],
                         columns=CALIBRATION_COLUMNS)
    empty = pd.DataFrame({"x": []})
    result = CalibrationResult(fit, table, empty, empty, {"scenario": "desk", "seed": 1,
                                                         "replications": 3})
    out = write_calibration(result, tmp_path / "cal", plots=False)
    wb = openpyxl.load_workbook(out / "results.xlsx")
    assert wb.sheetnames == ["Read me", "Key figures", "Fit"]
    assert rows(wb["Key figures"])[1][CALIBRATION_COLUMNS.index("in_band")] is True
    assert rows(wb["Fit"])[1][:5] == ["desk_minutes", 8, 5, 15, 10.02]
    assert owner(out) == ("calibration", [])

    sens = pd.DataFrame({"parameter": ["p"], "metric": ["wait_h"], "scope": ["system"],
                         "stat": ["mean"], "swing": [0.5]})
    out = write_sensitivity(SensitivityResult(sens, {"scenarios": ["tiny"]}),
                            tmp_path / "sens", plots=False)
    assert rows(openpyxl.load_workbook(out / "results.xlsx")["Key figures"])[1][-1] == 0.5
    assert owner(out) == ("sensitivity", [])


def test_force_replaces_a_directory_holding_results_xlsx(tmp_path, tiny):
    out = tmp_path / "res"
    args = ["run", str(tiny), "-r", "1", "-w", "1", "--out", str(out), "--no-report", "-q"]
    assert cli.main(args) == 0
    assert (out / "results.xlsx").is_file() and owner(out) == ("run", [])
    assert cli.main([*args, "--force", "--seed", "9"]) == 0
    readme = dict((k, v) for k, v in rows(openpyxl.load_workbook(out / "results.xlsx")
                                          ["Read me"]))
    assert readme["Seed"] == 9
