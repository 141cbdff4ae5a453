"""The command line's arguments: every subcommand and its options, with their help."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from gatesim.i18n import LANGUAGES

DESCRIPTION = """\
Simulate cargo trucks through a land border crossing (Hữu Nghị – Youyiguan and
Tân Thanh – Pò Chài) and compare ways of running it: how long trucks wait, how
full the yards get, how many cross per day, what it costs — each with a 95 %
confidence interval over independent replications."""
EXAMPLES = """examples:
  the default study (conventional vs smart gate at Hữu Nghị, results + report):
    gatesim compare scenarios/huu_nghi.yaml scenarios/huu_nghi_smart_gate.yaml
  the same report in Vietnamese:
    gatesim compare scenarios/huu_nghi.yaml scenarios/huu_nghi_smart_gate.yaml --lang vi
  the smallest export yard that keeps the QL1A queue short:
    gatesim sweep scenarios/huu_nghi.yaml --target "road_queue/ql1a/p95<=20"
      --param yards.hn_export_yard.slots=400,600,800
  one scenario, a shorter horizon, one number changed:
    gatesim run scenarios/huu_nghi.yaml --days 20 --set stages.hn_export_documents.servers=6

Each command writes a results folder (CSV, results.xlsx, plots, report.html) and prints
where it is. `gatesim COMMAND --help` lists a command's options."""


def common_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--replications", "-r", type=int, default=10, help="independent replications")
    p.add_argument("--seed", type=int, default=12345, help="root seed of all random streams")
    p.add_argument("--days", type=float, help="override clock.horizon_days")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                   help="override a scenario field, e.g. yards.front.slots=300 (repeatable)")
    p.add_argument("--workers", "-w", type=int, default=os.cpu_count() or 1,
                   help="local worker processes (results do not depend on it)")
    p.add_argument("--executor", choices=["local", "dask"], default="local")
    p.add_argument("--scheduler", help="address of a running dask scheduler (with --executor dask)")
    p.add_argument("--out", type=Path, help="results directory")
    p.add_argument("--no-report", action="store_true", help="skip report.html and its plots")
    p.add_argument("--force", action="store_true", help="replace existing results in --out")
    p.add_argument("--allow-large", action="store_true",
                   help="run even when the expected work is very large")
    p.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors")
    language_option(p)


def language_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--lang", choices=LANGUAGES, default="en",
                   help="language of the report, plots and printed results: en (English) or "
                        "vi (tiếng Việt)")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gatesim", description=DESCRIPTION, epilog=EXAMPLES,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a scenario and write its results")
    run.add_argument("scenario", type=Path, nargs="?")
    run.add_argument("--check", type=Path, metavar="RESULTS_DIR",
                     help="re-run replication 0 of earlier results and confirm it is identical")
    records_options(run)
    run.add_argument("--precision", type=float,
                     help="add replications until this metric's CI half-width ≤ this share")
    run.add_argument("--metric", default="time_in_system_h/system/mean",
                     help="metric/scope/stat that --precision judges")
    run.add_argument("--max-replications", type=int, default=100)
    common_options(run)
    cmp = sub.add_parser("compare", help="compare scenarios with common random numbers")
    cmp.add_argument("scenarios", type=Path, nargs="+", help="baseline first")
    records_options(cmp)
    common_options(cmp)
    sw = sub.add_parser("sweep", help="run a grid of capacities (common random numbers)")
    sw.add_argument("scenario", type=Path)
    sw.add_argument("--param", action="append", required=True, metavar="PATH=LO:HI:STEP",
                    help="a swept field: path=lo:hi:step or path=a,b,c (repeat for a grid)")
    sw.add_argument("--target", help="e.g. road_queue/system/p95<=5, judged on the CI bound")
    common_options(sw)
    sen = sub.add_parser("sensitivity", help="how far each ranged number moves one answer "
                         "(one at a time, common random numbers)")
    sen.add_argument("scenarios", type=Path, nargs="+", metavar="SCENARIO",
                     help="a scenario, or two: the answer is then B − A per replication")
    sen.add_argument("--metric", required=True, metavar="METRIC/SCOPE/STAT",
                     help="the answer, e.g. time_in_system_h/system/mean")
    sen.add_argument("--only", nargs="+", action="extend", metavar="NAME",
                     help="swing only these parameters (names as in sensitivity.csv)")
    sen.add_argument("--method", choices=["oat", "morris"], default="oat",
                     help="oat: each range alone, low and high (tornado chart); morris: "
                          "elementary effects of every range at once (SALib), for many ranges")
    sen.add_argument("--trajectories", type=int, default=10, metavar="N",
                     help="Morris trajectories (with --method morris)")
    sen.add_argument("--levels", type=int, default=4, metavar="L",
                     help="Morris grid levels, even and at least 4 (with --method morris)")
    common_options(sen)
    cal = sub.add_parser("calibrate", help="fit ranged numbers to reported figures (common "
                         "random numbers), with an interval for each")
    cal.add_argument("scenario", type=Path)
    cal.add_argument("--targets", type=Path, required=True, metavar="TARGETS.yaml",
                     help="the parameters to fit and the reported figures (calibration and "
                          "validation)")
    cal.add_argument("--budget", type=int, metavar="N",
                     help="candidates the local search may try (default 15 per parameter)")
    cal.add_argument("--profile-points", type=int, default=7, metavar="N",
                     help="grid points of each parameter's profile interval")
    common_options(cal)
    cal.set_defaults(replications=5)
    val = sub.add_parser("validate", help="check gatesim against queueing theory")
    val.add_argument("--quick", action="store_true", help="shorter runs, looser bounds (≈ 1 min)")
    val.add_argument("--out", type=Path, default=Path("results") / "validation")
    val.add_argument("--workers", "-w", type=int, default=os.cpu_count() or 1)
    val.add_argument("--quiet", "-q", action="store_true")
    language_option(val)
    rep = sub.add_parser("report", help="(re)build report.html from a results directory")
    rep.add_argument("results", type=Path, help="a run, compare, sweep, sensitivity, "
                     "screening or calibration results directory")
    rep.add_argument("--out", type=Path, help="the HTML file (default RESULTS/report.html)")
    rep.add_argument("--include", type=Path, action="append", default=[], metavar="DIR",
                     help="add the sections of a sensitivity, screening or calibration "
                          "results directory after the key figures (repeatable)")
    rep.add_argument("--quiet", "-q", action="store_true")
    language_option(rep)
    return p


def records_options(p: argparse.ArgumentParser) -> None:
    """--records and --records-format of run and compare (README: the results files)."""
    p.add_argument("--records", choices=["sample", "all", "none"], default="sample",
                   help="per-truck and per-visit records kept: every tenth truck (default), "
                        "all, or none; the summary is the same in every mode")
    p.add_argument("--records-format", choices=["parquet", "csv"], default="parquet",
                   help="file format of the records and the hourly series: parquet "
                        "(default) or csv (trucks.csv, visits.csv, timeseries.csv)")
