"""The files people use: records and the hourly series in Parquet by default (every tenth
truck), all records and CSV on request, local date-times beside the hours, and the CSVs of the
contract unchanged whatever the records mode or format."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from gatesim import cli
from gatesim.output.reader import read_run
from gatesim.output.tables import as_written, local_times, read_table
from tests.conftest import TINY

OLD_TRUCKS = ["replication", "id", "stream", "arrival", "exit", "road_time", "lane",
              "turned_away", "turned_back", "direction", "cargo", "site"]
OLD_VISITS = ["replication", "truck", "station", "ready", "start", "end", "left", "wait"]
OLD_SERIES = ["replication", "hour", "time", "metric", "scope", "value"]
"""The columns of trucks.csv, visits.csv and timeseries.csv in gatesim 0.1, in order."""
CONTRACT = ["summary.csv", "replications.csv"]
MODES = {"default": [], "all": ["--records", "all"],
         "csv": ["--records", "all", "--records-format", "csv"],
         "none": ["--records", "none", "--records-format", "csv"]}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The tiny scenario run once per records mode and format, same seed."""
    root = tmp_path_factory.mktemp("files")
    (root / "tiny.yaml").write_text(TINY)
    out = {}
    for name, extra in MODES.items():
        out[name] = root / name
        assert cli.main(["run", str(root / "tiny.yaml"), "-r", "2", "-w", "1", "--seed", "3",
                         "--out", str(out[name]), "--no-report", "-q", *extra]) == 0
    return out


def names(d) -> set[str]:
    return {p.name for p in d.iterdir()}


def test_the_default_run_writes_parquet_of_every_tenth_truck(runs):
    files = names(runs["default"])
    assert {"trucks.parquet", "visits.parquet", "timeseries.parquet"} <= files
    assert not {f for f in files if f.endswith(".csv")} - set(CONTRACT)
    trucks = pd.read_parquet(runs["default"] / "trucks.parquet")
    assert len(trucks) and (trucks["id"] % 10 == 0).all()
    every = pd.read_parquet(runs["all"] / "trucks.parquet")
    pd.testing.assert_frame_equal(trucks.reset_index(drop=True),
                                  every[every["id"] % 10 == 0].reset_index(drop=True))
    visits = pd.read_parquet(runs["default"] / "visits.parquet")
    assert set(visits["truck"]) <= set(trucks["id"])


def test_csv_on_request_keeps_the_old_columns_first_at_full_precision(runs):
    d = runs["csv"]
    assert {"trucks.csv", "visits.csv", "timeseries.csv"} <= names(d)
    assert not {f for f in names(d) if f.endswith(".parquet")}
    for table, old, times in (("trucks", OLD_TRUCKS, ["arrival", "exit"]),
                              ("visits", OLD_VISITS, ["ready", "start", "end", "left"])):
        header = (d / f"{table}.csv").read_text().splitlines()[0].split(",")
        assert header == [*old, *(f"{c}_at" for c in times)]
        text = pd.read_csv(d / f"{table}.csv")
        typed = pd.read_parquet(runs["all"] / f"{table}.parquet")
        for col in times:  # the hours as written, to the last bit
            assert np.array_equal(text[col].to_numpy(), typed[col].to_numpy(), equal_nan=True)
    header = (d / "timeseries.csv").read_text().splitlines()[0].split(",")
    assert header == OLD_SERIES
    assert pd.read_csv(d / "timeseries.csv")["time"].iloc[1] == "2024-01-01T00:00"


def test_local_date_times_from_the_scenario_clock():
    start = dt.datetime(2024, 7, 29, 0, 0)
    at = local_times(pd.Series([25.5, np.nan, 0.0, 1 / 3600 * 0.4]), start)
    assert at.tolist()[0] == pd.Timestamp("2024-07-30 01:30")
    assert pd.isna(at.iloc[1]) and at.iloc[2] == pd.Timestamp(start)
    assert at.iloc[3] == pd.Timestamp(start)  # to the second
    trucks = pd.DataFrame({"id": [1], "arrival": [25.5], "exit": [np.nan], "lane": [""]})
    written = as_written(trucks, "trucks", "parquet", start)
    assert list(written.columns) == ["id", "arrival", "exit", "lane", "arrival_at", "exit_at"]
    assert written["arrival_at"].iloc[0] == pd.Timestamp("2024-07-30 01:30")
    assert pd.isna(written["exit_at"].iloc[0]) and pd.isna(written["lane"].iloc[0])


def test_written_date_times_match_the_hours(runs):
    for fmt in ("all", "csv"):
        run = read_run(runs[fmt])
        t = run.trucks
        want = pd.Timestamp("2024-01-01") + pd.to_timedelta(
            np.round(t["arrival"] * 3600), unit="s")
        assert (t["arrival_at"] == want).all()
        ts = run.timeseries
        assert (ts["time"] == pd.Timestamp("2024-01-01") + pd.to_timedelta(ts["hour"], "h")
                ).all()


def test_the_reader_gives_equal_frames_from_either_format(runs):
    a, b = read_run(runs["all"]), read_run(runs["csv"])
    for table in ("trucks", "visits", "timeseries"):
        pd.testing.assert_frame_equal(getattr(a, table), getattr(b, table))
    assert a.trucks["turned_away"].isna().all()  # as the plots expect of an empty name
    assert a.trucks["arrival_at"].dtype == "datetime64[ms]"
    none = read_run(runs["none"])
    assert none.trucks is None and none.visits is None and len(none.timeseries)


def test_records_csv_of_gatesim_0_1_still_read(runs, tmp_path):
    for table in ("trucks", "visits"):
        old = pd.read_csv(runs["csv"] / f"{table}.csv")
        old[[c for c in old.columns if not c.endswith("_at")]].to_csv(
            tmp_path / f"{table}.csv", index=False)
    trucks = read_table(tmp_path, "trucks")
    assert list(trucks.columns) == OLD_TRUCKS
    assert trucks["lane"].dtype == "str" and trucks["arrival"].dtype == float
    assert read_table(tmp_path, "timeseries") is None


def test_the_contract_csvs_are_identical_whatever_the_records(runs):
    for name in CONTRACT:
        first = (runs["default"] / name).read_bytes()
        assert all((d / name).read_bytes() == first for d in runs.values()), name


def test_compare_writes_each_scenarios_records_in_the_format_asked(tmp_path):
    tiny, other = tmp_path / "tiny.yaml", tmp_path / "other.yaml"
    tiny.write_text(TINY)
    other.write_text(TINY.replace("name: tiny", "name: other").replace("mean: 10", "mean: 9"))
    args = ["compare", str(tiny), str(other), "-r", "1", "-w", "1", "--no-report", "-q"]
    assert cli.main([*args, "--out", str(tmp_path / "p")]) == 0
    assert cli.main([*args, "--out", str(tmp_path / "c"), "--records-format", "csv"]) == 0
    for name in ("tiny", "other"):
        assert {"trucks.parquet", "visits.parquet", "timeseries.parquet"} <= names(
            tmp_path / "p" / name)
        assert {"trucks.csv", "visits.csv", "timeseries.csv"} <= names(tmp_path / "c" / name)
        assert (tmp_path / "p" / name / "summary.csv").read_bytes() == (
            tmp_path / "c" / name / "summary.csv").read_bytes()
    assert (tmp_path / "p" / "comparison.csv").read_bytes() == (
        tmp_path / "c" / "comparison.csv").read_bytes()


def test_the_default_sample_falls_back_to_none_when_it_would_not_fit():
    from gatesim.experiments.guard import MAX_RECORDED, records_mode

    assert records_mode("sample", MAX_RECORDED * 5) == ("sample", None)
    mode, note = records_mode("sample", MAX_RECORDED * 50)
    assert mode == "none" and "--records sample --allow-large" in note
