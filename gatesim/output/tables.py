"""A run's large tables as files: the hourly series and the per-truck and per-visit records.

They are written as Parquet (pyarrow, snappy) by default and as CSV on request
(``--records-format csv``: the files and columns of gatesim 0.1). Both formats hold the
same table: the columns of the results contract first, then a local date-time column
``<name>_at`` for each time given in hours since t = 0 (to the second; the hour column keeps
full precision). In Parquet the hourly series' ``time`` is a date-time too; in CSV it stays
ISO text. Reading gives the same frame whichever file is there.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal, get_args

import numpy as np
import pandas as pd

Format = Literal["parquet", "csv"]
FORMATS: tuple[str, ...] = get_args(Format)
TABLES = ("timeseries", "trucks", "visits")
"""The tables whose file follows the format (summary.csv and the other tables are CSV)."""
RECORDS = ("trucks", "visits")
TIMES = {"trucks": ("arrival", "exit"), "visits": ("ready", "start", "end", "left")}
"""Columns in hours since t = 0 that get a local date-time column ``<name>_at``."""
TEXT = {"timeseries": ("metric", "scope"),
        "trucks": ("stream", "lane", "turned_away", "direction", "cargo", "site"),
        "visits": ("station",)}
"""Columns of names: text in both formats (a missing one, no lane, is empty or null)."""
DATE_UNIT = "datetime64[ms]"
"""The unit of the date-time columns (Parquet stores no coarser one)."""


def file_name(table: str, fmt: Format) -> str:
    return f"{table}.{fmt}"


def local_times(hours: pd.Series | np.ndarray, start: dt.datetime) -> pd.Series:
    """Local clock times (to the second) of hours since t = 0 from a clock ``start``; NaN
    hours give NaT."""
    seconds = np.round(np.asarray(hours, dtype=float) * 3600)
    times = pd.Timestamp(start) + pd.to_timedelta(seconds, unit="s")
    index = hours.index if isinstance(hours, pd.Series) else None
    return pd.Series(times, index=index).astype(DATE_UNIT)


def as_written(df: pd.DataFrame, table: str, fmt: Format, start: dt.datetime) -> pd.DataFrame:
    """``df`` (a frame of the run) as its file holds it: with the ``_at`` columns at the end,
    empty names as missing; in Parquet the hourly ``time`` is a date-time."""
    df = df.copy()
    for col in TEXT.get(table, ()):
        if col in df.columns:
            df[col] = df[col].astype("str").replace("", np.nan)
    for col in TIMES.get(table, ()):
        if col in df.columns:
            df[f"{col}_at"] = local_times(df[col], start)
    if table == "timeseries" and fmt == "parquet" and "hour" in df.columns:
        df["time"] = local_times(df["hour"], start)
    return df


def read_table(directory: Path, table: str) -> pd.DataFrame | None:
    """``table`` of a run directory from its Parquet or CSV file (None when neither is
    there), with the same columns and dtypes from either."""
    directory = Path(directory)
    parquet, csv = (directory / file_name(table, f) for f in ("parquet", "csv"))
    if parquet.is_file():
        import pyarrow as pa

        try:
            df = pd.read_parquet(parquet, engine="pyarrow")
        except pa.ArrowException as exc:  # ArrowInvalid is a ValueError; the rest too
            raise ValueError(f"{parquet}: {exc}") from None
    elif csv.is_file():
        df = pd.read_csv(csv, keep_default_na=False, na_values=[""],
                         dtype=dict.fromkeys(TEXT.get(table, ()), "str"))
    else:
        return None
    return normalised(df, table)


def normalised(df: pd.DataFrame, table: str) -> pd.DataFrame:
    """Names as text and date-times in one unit, whichever file ``df`` was read from."""
    for col in TEXT.get(table, ()):
        if col in df.columns:
            df[col] = df[col].astype("str")
    dates = [f"{c}_at" for c in TIMES.get(table, ())] + (["time"] if table == "timeseries"
                                                          else [])
    for col in dates:
        if col in df.columns:
            values = df[col]
            if not pd.api.types.is_datetime64_any_dtype(values):
                values = pd.to_datetime(values, format="ISO8601")
            df[col] = values.astype(DATE_UNIT)
    return df
