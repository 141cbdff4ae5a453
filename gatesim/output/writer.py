"""The files of the results contract, written atomically with their provenance.

A run is written into a temporary sibling directory and renamed into place at the end, so a
results directory either holds a complete run or does not exist. Every JSON file carries
``generator: gatesim``, the marker by which a later ``--force`` knows the directory is
gatesim's to replace (destination.py). A failed write (a full disk) removes what it had
written and is reported in one line (exit 1); results already there are left as they were.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from gatesim import interrupts
from gatesim.errors import WriteFailed
from gatesim.experiments.compare import Comparison
from gatesim.experiments.run import RunResult
from gatesim.experiments.screening import ScreeningResult
from gatesim.experiments.sensitivity import SensitivityResult
from gatesim.experiments.sweep import SweepResult
from gatesim.output.destination import GENERATOR
from gatesim.output.excel import write_xlsx
from gatesim.output.tables import RECORDS, TABLES, Format, as_written, file_name


def _clean(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_clean(v) for v in x]
    return x


def _atomic(path: Path, write: Any) -> None:
    """Write through a temporary sibling and rename, so ``path`` is never half-written."""
    tmp = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_csv(df: pd.DataFrame, path: Path) -> None:
    _atomic(Path(path), lambda p: df.to_csv(p, index=False, lineterminator="\n"))


def write_parquet(df: pd.DataFrame, path: Path, dictionary: bool = True) -> None:
    """A table as Parquet (pyarrow, snappy: the codec every reader knows), written atomically
    like every other file. ``dictionary=False`` stores float and date-time columns plainly:
    the records' times are nearly all distinct, and a dictionary only adds to them (-20 %)."""
    coded = [c for c in df.columns if dictionary or not (
        pd.api.types.is_float_dtype(df[c]) or pd.api.types.is_datetime64_any_dtype(df[c]))]
    _atomic(Path(path), lambda p: df.to_parquet(p, engine="pyarrow", index=False,
                                                compression="snappy", use_dictionary=coded))


def write_json(obj: Any, path: Path) -> None:
    text = json.dumps(_clean(obj), indent=2, ensure_ascii=False, default=str) + "\n"
    _atomic(Path(path), lambda p: p.write_text(text, encoding="utf-8"))


def publish(tmp: Path, out: Path) -> None:
    """Replace ``out`` by the finished directory ``tmp`` (rename; no half-written state)."""
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        out.rename(old)
    tmp.rename(out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def staging_dir(out: Path) -> Path:
    """A new hidden sibling of ``out``, with the permissions the umask gives a directory
    (``mkdtemp`` alone makes it 0700)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)
    return tmp


def _failed(out: Path, exc: OSError) -> WriteFailed:
    return WriteFailed(f"cannot write results to {out}: {exc.strerror or exc}; nothing was "
                       "replaced")


@contextlib.contextmanager
def staged(out: Path) -> Iterator[Path]:
    """A staging directory beside ``out``, published in its place when the block succeeds and
    removed when it fails; an OSError (a full disk) becomes one line, exit 1."""
    try:
        tmp = staging_dir(out)
    except OSError as exc:
        raise _failed(out, exc) from None
    try:
        yield tmp
        interrupts.check()  # a Ctrl-C some library swallowed: publish nothing
        publish(tmp, out)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise _failed(out, exc) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_tables(result: RunResult, directory: Path, fmt: Format = "parquet",
                 records: bool = True) -> dict[str, str]:
    """The hourly series (and unless ``records`` is False the per-truck and per-visit
    records) as ``fmt`` files in ``directory`` (tables.py); their file names by table."""
    start = result.scenario.clock.start
    names = {}
    for table in TABLES:
        if table in RECORDS and not records:
            continue
        df = as_written(getattr(result, table), table, fmt, start)
        names[table] = file_name(table, fmt)
        if fmt == "parquet":
            write_parquet(df, directory / names[table], dictionary=table not in RECORDS)
        else:
            write_csv(df, directory / names[table])
    return names


def write_run(result: RunResult, out: Path, records: bool = True, xlsx: bool = True,
              records_format: Format = "parquet") -> Path:
    """Write summary.csv, replications.csv, the hourly series and the records (tables.py:
    Parquet, or CSV with ``records_format="csv"``), summary.json and (unless ``xlsx`` is
    False) results.xlsx."""
    out = Path(out)
    with staged(out) as tmp:
        write_csv(result.summary, tmp / "summary.csv")
        write_csv(result.replications, tmp / "replications.csv")
        keep = records and result.meta.get("records", "all") != "none"
        files = write_tables(result, tmp, records_format, keep)
        doc = {
            "generator": GENERATOR,
            **result.meta,
            "summary": result.summary.to_dict(orient="records"),
            "replication_values": result.replications.to_dict(orient="records"),
        }
        write_json(doc, tmp / "summary.json")
        if xlsx:
            write_xlsx(tmp, "run", result.meta, files=files, summary=result.summary,
                       replications=result.replications, timeseries=result.timeseries)
    return out


def write_comparison(c: Comparison, out: Path, records: bool = True,
                     records_format: Format = "parquet") -> Path:
    """comparison.csv / comparison.json / results.xlsx, and each scenario's run in
    ``out/<name>/`` (its large tables in ``records_format``)."""
    out = Path(out)
    with staged(out) as tmp:
        write_csv(c.table, tmp / "comparison.csv")
        write_json({"generator": GENERATOR, **c.meta,
                    "rows": c.table.to_dict(orient="records")}, tmp / "comparison.json")
        write_xlsx(tmp, "comparison", c.meta, comparison=c.table)
        for result in c.results:
            write_run(result, tmp / result.scenario.name, records=records,
                      records_format=records_format)
    return out


def write_sweep(result: SweepResult, out: Path) -> Path:
    """sweep.csv, sweep.json and results.xlsx in ``out`` (beside its ``points/``)."""
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        write_csv(result.table, out / "sweep.csv")
        write_json({"generator": GENERATOR, **result.meta}, out / "sweep.json")
        write_xlsx(out, "sweep", result.meta, sweep=result.table)
    except OSError as exc:
        raise _failed(out, exc) from None
    return out


def write_sensitivity(result: SensitivityResult, out: Path, plots: bool = True) -> Path:
    """sensitivity.csv, sensitivity.json, results.xlsx and (unless ``plots`` is False)
    plots/tornado.png and .svg, published together in ``out``."""
    out = Path(out)
    with staged(out) as tmp:
        write_csv(result.table, tmp / "sensitivity.csv")
        write_json({"generator": GENERATOR, **result.meta,
                    "rows": result.table.to_dict(orient="records")}, tmp / "sensitivity.json")
        write_xlsx(tmp, "sensitivity", result.meta, sensitivity=result.table)
        if plots:
            from gatesim.output.tornado import plot_tornado  # matplotlib only when drawn

            plot_tornado(result.table, result.meta, tmp / "plots")
    return out


def write_screening(result: ScreeningResult, out: Path, plots: bool = True) -> Path:
    """screening.csv, screening.json, results.xlsx and (unless ``plots`` is False)
    plots/morris.png and .svg, published together in ``out``."""
    out = Path(out)
    with staged(out) as tmp:
        write_csv(result.table, tmp / "screening.csv")
        write_json({"generator": GENERATOR, **result.meta,
                    "rows": result.table.to_dict(orient="records")}, tmp / "screening.json")
        write_xlsx(tmp, "screening", result.meta, screening=result.table)
        if plots:
            from gatesim.output.morris_plot import plot_morris  # matplotlib only when drawn

            plot_morris(result.table, result.meta, tmp / "plots")
    return out


class PointDirectory:
    """A sweep's finished points, each a run's summary files in ``<out>/points/<key>/``."""

    def __init__(self, out: Path) -> None:
        self.dir = Path(out) / "points"

    def load(self, key: str) -> tuple[pd.DataFrame, dict[str, Any]] | None:
        path = self.dir / key / "summary.csv"
        if not path.is_file():
            return None
        try:
            meta = json.loads((path.parent / "summary.json").read_text(encoding="utf-8"))
            summary = pd.read_csv(path, keep_default_na=False, na_values=["", "NaN", "nan"])
            return summary, meta["stability"]
        except (OSError, ValueError, KeyError, TypeError):
            return None  # a damaged point is computed again

    def save(self, key: str, result: RunResult) -> None:
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _failed(self.dir, exc) from None
        write_run(result, self.dir / key, records=False, xlsx=False)  # the sweep's has it
