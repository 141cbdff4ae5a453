"""results.xlsx: a results directory's tables as one workbook that planners open in Excel.

The CSV and Parquet files are the contract (full precision, long format); the workbook is for
reading. It is built from the tables in hand at write time, never by reading the files back:
a "Read me" sheet first, then one sheet per table. Cells are typed — numbers, booleans,
date-times — and stored to 6 significant digits (the only rounding gatesim does outside the
report); what a planner sees is set by number formats. The "Hourly" sheet holds the mean
over replications per hour (each replication's hours are in the hourly series' file). Rows
are streamed (openpyxl's write-only mode), so the workbook costs little memory beyond the
tables themselves, and it is written through a hidden sibling renamed into place, so a
results.xlsx is never half-written. Per-truck and per-visit records never go into it.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Iterator, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from gatesim.output.destination import Kind
from gatesim.output.reader import metric_label

XLSX = "results.xlsx"
MAX_ROWS = 1_000_000
MAX_COLUMNS = 16_384
"""A sheet with more rows or columns is left out (Excel's sheet holds 1,048,576 rows and
16,384 columns): the Read me says to read its CSV."""
SIGNIFICANT = 6
SHEETS = {"replications": "Replications", "timeseries": "Hourly", "fit": "Fit"}
"""Sheet names by CSV stem; the kind's main table (summary.csv for a run) is "Key figures"."""
KEY_SHEET = "Key figures"
ABOUT = {"Key figures": "the key figures ({file})",
         "Replications": "each replication's figures ({file})",
         "Hourly": "the mean over replications per hour (local clock time), a column per "
                   "series: trucks in the system, in each yard and on each road, waiting, and "
                   "crossings; each replication's hours are in {file}",
         "Fit": "each fitted parameter: start, range, fit and 95 % profile interval ({file})"}
"""What each sheet holds; ``{file}`` is its table's file."""
KINDS = {"run": "the results of a gatesim run", "comparison": "a gatesim comparison of scenarios",
         "sweep": "a gatesim parameter sweep", "sensitivity": "a gatesim sensitivity analysis",
         "screening": "a gatesim Morris screening", "calibration": "a gatesim calibration"}
DATE_COLUMNS = {"time"}
"""Columns holding ISO local times, written as Excel date-times."""
DATE_FORMAT = "yyyy-mm-dd hh:mm"
WHOLE, FIXED, FINE = "#,##0", "0.00", "0.0000"
COLUMN_FORMATS = {"p_value": FINE, "p_adj": FINE, "hour": "General"}
CHUNK = 20_000
"""Rows converted to Python values at a time (bounds the memory of a long table)."""
BOLD = Font(bold=True)


def write_xlsx(directory: Path, kind: Kind, meta: Mapping[str, Any],
               files: Mapping[str, str] | None = None, **tables: pd.DataFrame) -> Path:
    """Write ``directory/results.xlsx`` from ``tables``, keyed by their file's stem
    (``summary=``, ``replications=``, ``timeseries=``, ``fit=``, …; the first is the key
    figures), with a "Read me" from the provenance ``meta``; ``files`` names a table's file
    when it is not ``<stem>.csv`` (``timeseries.parquet``). Atomic: written beside and
    renamed into place."""
    path = Path(directory) / XLSX
    tmp = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        build(kind, meta, tables, files).save(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def build(kind: Kind, meta: Mapping[str, Any], tables: Mapping[str, pd.DataFrame],
          files: Mapping[str, str] | None = None) -> Workbook:
    """The workbook (write-only: save it once): "Read me", then a sheet per table that fits."""
    files = {stem: f"{stem}.csv" for stem in tables} | dict(files or {})
    wb = Workbook(write_only=True)
    wb.properties.creator = "gatesim"
    wb.properties.title = KINDS[kind]
    sheets, left_out = [], []
    for i, (stem, df) in enumerate(tables.items()):
        title = KEY_SHEET if i == 0 else SHEETS.get(stem, stem.capitalize()[:31])
        df = shaped(title, df)
        if len(df) > MAX_ROWS or len(df.columns) > MAX_COLUMNS:
            left_out.append((title, files[stem], len(df)))
        else:
            sheets.append((title, files[stem], df))
    _read_me(wb.create_sheet("Read me"), kind, meta, files, sheets, left_out)
    for title, _, df in sheets:
        _table(wb.create_sheet(title), df)
    return wb


def shaped(title: str, df: pd.DataFrame) -> pd.DataFrame:
    """A table as its sheet shows it: key figures with words, the hourly series side by side."""
    if title == KEY_SHEET and {"metric", "scope", "stat"} <= set(df.columns):
        return with_labels(df)
    if title == SHEETS["timeseries"]:
        return hourly(df)
    return df


def hourly(ts: pd.DataFrame) -> pd.DataFrame:
    """The long time series (a row per replication, hour and series) as its mean over
    replications, a row per hour with a column per series, ``metric (scope)``: each series
    is a column to chart, and the sheet has a sixtieth of the long table's cells per ten
    replications (writing cells is what takes time)."""
    index = ["hour", "time"]
    keys = ["replication", *index, "metric", "scope"]
    if ts.empty or not {*keys, "value"} <= set(ts.columns) or ts.duplicated(keys).any():
        return ts  # not one value per series, replication and hour: shown as it is
    mean = ts.groupby([*index, "metric", "scope"], sort=False)["value"].mean()
    wide = mean.unstack(["metric", "scope"])
    series = list(ts[["metric", "scope"]].drop_duplicates().itertuples(index=False,
                                                                        name=None))
    wide = wide.reindex(columns=pd.MultiIndex.from_tuples(series, names=["metric", "scope"]))
    wide.columns = [f"{m} ({s})" for m, s in series]
    return wide.sort_index().reset_index()


def with_labels(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with a first column ``label``: the metric, scope and statistic in plain words."""
    keys = list(zip(df["metric"], df["stat"], df["scope"], strict=True))
    words = {k: metric_label(*map(str, k)) for k in set(keys)}
    return df.assign(label=[words[k] for k in keys])[["label", *df.columns]]


def scenario_names(meta: Mapping[str, Any]) -> str:
    """The scenario (or scenarios) a result is about, as written in its meta."""
    if isinstance(meta.get("scenarios"), list):
        return ", ".join(map(str, meta["scenarios"]))
    s = meta.get("scenario")
    if isinstance(s, dict):
        return str(s["name"]) if isinstance(s.get("name"), str) else ", ".join(map(str, s))
    return "" if s is None else str(s)


def _gatesim_version(meta: Mapping[str, Any]) -> str:
    versions = meta.get("versions")
    if isinstance(versions, dict) and "gatesim" in versions:
        return str(versions["gatesim"])
    try:
        return metadata.version("gatesim")
    except metadata.PackageNotFoundError:
        return "unknown"


def _read_me(ws: WriteOnlyWorksheet, kind: Kind, meta: Mapping[str, Any],
             files: Mapping[str, str], sheets: list[tuple[str, str, pd.DataFrame]],
             left_out: list[tuple[str, str, int]]) -> None:
    rows: list[tuple[str, Any]] = [
        ("This file", f"{KINDS[kind]}, for reading in Excel"),
        ("Scenario" + ("s" if len(meta.get("scenarios") or []) > 1 else ""),
         scenario_names(meta)),
        ("Seed", meta.get("seed")),
        ("Replications", meta.get("replications")),
        ("gatesim version", _gatesim_version(meta)),
        ("Precision", "Values are stored to 6 significant digits and shown rounded. The CSV "
                      "and Parquet files beside this workbook keep full precision and are "
                      "the contract; use them for further work."),
    ]
    if kind == "run":
        rows.append(("Records", _records(meta, files)))
    stability = meta.get("stability")
    if isinstance(stability, dict) and stability.get("unstable"):
        rows.append(("Warning", f"unstable: {stability.get('note') or 'the backlog grows'}"))
    rows += [(f"Sheet {title}", ABOUT.get(title, "the table ({file})").format(file=name))
             for title, name, _ in sheets]
    rows += [(f"Sheet {title}", f"left out: its {n:,} rows are more than an Excel sheet "
                                f"takes (or it is too wide); read {name} beside this file")
             for title, name, n in left_out]
    ws.column_dimensions["A"].width = max(len(k) for k, _ in rows) + 2
    ws.column_dimensions["B"].width = 100
    wrap = Alignment(wrap_text=True, vertical="top")
    for key, value in rows:
        head = _text_cell(ws, key)
        head.font = BOLD
        value = _value(value)
        cell = _text_cell(ws, value) if isinstance(value, str) else WriteOnlyCell(ws, value)
        cell.alignment = wrap
        ws.append([head, cell])


def _records(meta: Mapping[str, Any], files: Mapping[str, str]) -> str:
    """Which per-truck and per-visit records the run kept, and in which files."""
    mode = meta.get("records", "all")
    if "trucks" not in files or mode == "none":
        return "none kept (gatesim run --records all keeps them)"
    kept = "every truck" if mode == "all" else "every tenth truck (--records all keeps all)"
    return f"{kept}: {files['trucks']} and {files['visits']} beside this file"


def _table(ws: WriteOnlyWorksheet, df: pd.DataFrame) -> None:
    """One table: bold frozen header with an autofilter, fitted widths, typed cells."""
    columns = [str(c) for c in df.columns]
    formats = [_formats(df, c) for c in df.columns]
    for i, width in enumerate(_widths(df, formats), 1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(max(len(columns), 1))}{len(df) + 1}"
    header = []
    for name in columns:
        cell = _text_cell(ws, name)
        cell.font = BOLD
        header.append(cell)
    ws.append(header)
    # One styled cell per column and format, reused row after row: write-only sheets write
    # each row's cells as they are appended, so a cell is free again for the next row.
    styled: dict[tuple[int, str], WriteOnlyCell] = {}
    for rows in _chunks(df, formats):
        for row in rows:
            out = []
            for i, (value, fmt) in enumerate(row):
                if isinstance(value, str):
                    out.append(_text_cell(ws, value) if value[0] in "=#" else value)
                    continue
                if fmt is None or value is None:
                    out.append(value)
                    continue
                cell = styled.get((i, fmt))
                if cell is None:
                    cell = styled[(i, fmt)] = WriteOnlyCell(ws)
                    cell.number_format = fmt
                cell.value = value
                out.append(cell)
            ws.append(out)


def _chunks(df: pd.DataFrame, formats: list[Any]) -> Iterator[Iterator[list[tuple[Any, Any]]]]:
    """The rows of ``df``, CHUNK at a time, as (value, number format) pairs."""
    for start in range(0, len(df), CHUNK):
        part = df.iloc[start:start + CHUNK]
        cols = []
        for (name, s), fmt in zip(part.items(), formats, strict=True):
            values = _dates(s) if name in DATE_COLUMNS else [_value(v) for v in s]
            keys = part["metric"] if isinstance(fmt, dict) else None
            fmts = [fmt.get(k) for k in keys] if keys is not None else [fmt] * len(values)
            cols.append(list(zip(values, fmts, strict=True)))
        yield (list(r) for r in zip(*cols, strict=True))


def _formats(df: pd.DataFrame, name: Any) -> str | dict[Any, str] | None:
    """The number format of a column: one for all its cells, one per metric (a long table
    mixes shares, hours and VND costs in one column), or None (text, General)."""
    s = df[name]
    if name in DATE_COLUMNS:
        return DATE_FORMAT
    if name in COLUMN_FORMATS:
        return COLUMN_FORMATS[name]
    if pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
        return None
    size = pd.Series(np.abs(s.to_numpy(dtype=float, na_value=np.nan)), index=s.index)
    size = size.where(np.isfinite(size))
    if pd.api.types.is_integer_dtype(s):  # General shows small whole numbers as they are
        return WHOLE if size.max() >= 1000 else None
    if "metric" not in df.columns:
        return _by_size(size.max(), "")
    biggest = size.groupby(df["metric"].astype(str), sort=False).max()
    return {m: _by_size(v, m) for m, v in biggest.items()}


def _by_size(biggest: float, metric: str) -> str:
    """VND costs and large counts as whole numbers, small figures with four decimals."""
    if "cost" in metric or (math.isfinite(biggest) and biggest >= 1000):
        return WHOLE
    if math.isfinite(biggest) and 0 < biggest < 0.1:
        return FINE
    return FIXED


def _widths(df: pd.DataFrame, formats: list[Any]) -> list[float]:
    """Column widths that fit the header and the widest value as displayed (5 to 60)."""
    out = []
    for (name, s), fmt in zip(df.items(), formats, strict=True):
        width = len(str(name))
        if fmt == DATE_FORMAT:
            width = max(width, 16)
        elif fmt is None or pd.api.types.is_bool_dtype(s):
            texts = (str(v) for v in s.drop_duplicates() if not pd.isna(v))
            width = max(width, max(map(len, texts), default=0))
        elif len(s):
            size = np.abs(s.to_numpy(dtype=float, na_value=np.nan))
            size = size[np.isfinite(size)]
            top = float(size.max()) if len(size) else 0.0
            decimals = 0 if fmt == WHOLE else 4 if fmt == FINE else 2
            width = max(width, len(f"{-top:,.{decimals}f}"))
        out.append(min(max(width + 2, 5), 60))
    return out


def _dates(s: pd.Series) -> list[Any]:
    """ISO local times as naive date-times (a value that is not one stays text)."""
    parsed = pd.to_datetime(s, format="ISO8601", errors="coerce")
    return [_value(raw) if pd.isna(t) else t.to_pydatetime()
            for raw, t in zip(s, parsed, strict=True)]


def _value(v: Any) -> Any:
    """A cell value: numbers (6 significant digits; NaN and inf empty), booleans, date-times,
    text (never a formula)."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, bool | np.bool_):
        return bool(v)
    if isinstance(v, int | np.integer):
        return int(v)
    if isinstance(v, float | np.floating):
        x = float(v)
        return float(f"{x:.{SIGNIFICANT}g}") if math.isfinite(x) else None
    if isinstance(v, dt.datetime | dt.date):
        return v
    return _text(str(v))


def _text(s: str) -> str | None:
    """Text Excel takes: characters it refuses dropped, at most 32,767 long; empty is None."""
    return ILLEGAL_CHARACTERS_RE.sub("", s)[:32767] or None


def _text_cell(ws: WriteOnlyWorksheet, s: str) -> WriteOnlyCell:
    """A cell holding ``s`` as text, even when it starts with '=' or '#' (openpyxl would
    write a formula or an error value)."""
    cell = WriteOnlyCell(ws, _text(s))
    cell.data_type = "s"
    return cell
