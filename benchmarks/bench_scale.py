"""Scaling with the horizon: one replication of the default scenario over 7, 30, 90, 365 days.

    python -m benchmarks.bench_scale            # 7, 30, 90, 365 days (~5 min)
    python -m benchmarks.bench_scale --quick    # 7 and 30 days (< 1 min)

Each run is a fresh subprocess; peak RSS is its ru_maxrss (interpreter and imports included;
"model MB" subtracts the RSS measured after the imports). Two entry points are measured:
``engine`` = ``gatesim.engine.model.run_replication`` and ``pipeline`` = ``gatesim.run`` with one
replication on one worker (tables built as well). If gatesim takes ``records=`` both "all" and
"none" are measured, else the default only. Target: with records="none" a 365-day replication
stays under 150 MB peak RSS and flat in the horizon (365-day peak within 10 % of the 7-day).
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: python benchmarks/<name>.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import inspect
import time
from typing import Any

from benchmarks.common import (
    DEFAULT_SCENARIO,
    fmt,
    loadavg,
    loaded_note,
    machine,
    met,
    run_child,
    table,
    versions,
    write_result,
)

TARGET_MB = 150.0
FLAT_TOL = 0.10


def records_modes() -> list[str | None]:
    import gatesim
    from gatesim.engine.model import run_replication

    engine = "records" in inspect.signature(run_replication).parameters
    pipeline = "records" in inspect.signature(gatesim.run).parameters
    return ["all", "none"] if engine and pipeline else (
        ["all", "none", "partial"] if engine or pipeline else [None])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="7 and 30 days only")
    ap.add_argument("--days", help="comma-separated horizons (default 7,30,90,365)")
    ap.add_argument("--apis", default="engine,pipeline")
    ap.add_argument("--scenario", default=str(DEFAULT_SCENARIO))
    a = ap.parse_args(argv)
    days = [float(d) for d in (a.days or ("7,30" if a.quick else "7,30,90,365")).split(",")]
    apis = a.apis.split(",")
    modes = records_modes()
    if "partial" in modes:
        modes = [None]
        print("gatesim's records= is on only one of run_replication / gatesim.run: "
              "measuring the default")
    elif modes == [None]:
        print("gatesim has no records= option yet: measuring the default (all records)")
    m = machine()
    t0 = time.perf_counter()
    runs: list[dict[str, Any]] = []
    for api in apis:
        for mode in modes:
            for d in days:
                r = run_child({"kind": "scale", "scenario": a.scenario, "days": d,
                               "records": mode, "api": api})
                r.update(api=api, records=mode or "default", days=d)
                runs.append(r)
                print(f"[{time.perf_counter() - t0:6.1f}s] {api:8s} records={mode or 'default':7s}"
                      f" {d:5.0f} d  wall {r['wall_s']:6.2f}s  cpu {r['cpu_s']:6.2f}s  "
                      f"peak {r['peak_rss_mb']:6.1f} MB  {r['arrived']:>8,} trucks", flush=True)
    m["loadavg_at_end"] = loadavg()

    rows, verdicts = [], {}
    for api in apis:
        for mode in modes:
            sel = [r for r in runs if r["api"] == api and r["records"] == (mode or "default")]
            first = sel[0]
            for r in sel:
                growth = r["peak_rss_mb"] / first["peak_rss_mb"] - 1
                rows.append([api, mode or "default", fmt(r["days"], ".0f"),
                             fmt(r["arrived"], ","), fmt(r["wall_s"], ".2f"),
                             fmt(r["cpu_s"], ".2f"),
                             fmt(1e6 * r["cpu_s"] / max(r["arrived"], 1), ".0f"),
                             fmt(r["peak_rss_mb"], ".1f"),
                             fmt(r["peak_rss_mb"] - r["rss_before_mb"], ".1f"),
                             f"{growth:+.0%}", fmt(r["truck_rows"], ","),
                             fmt(r["visit_rows"], ",")])
            last = sel[-1]
            under = last["peak_rss_mb"] < TARGET_MB
            flat = last["peak_rss_mb"] <= (1 + FLAT_TOL) * first["peak_rss_mb"]
            verdicts[f"{api}/{mode or 'default'}"] = {
                "days": last["days"], "peak_rss_mb": last["peak_rss_mb"],
                "under_150MB": under, "flat": flat,
                "growth_vs_first": last["peak_rss_mb"] / first["peak_rss_mb"] - 1}
    print()
    print(table(["api", "records", "days", "trucks", "wall s", "CPU s", "CPU µs/truck",
                 "peak RSS MB", "model MB (peak − imports)", f"RSS vs {days[0]:.0f} d",
                 "truck rows", "visit rows"], rows))
    vrows = []
    for key, v in verdicts.items():
        target = key.endswith("/none")
        vrows.append([key, fmt(v["days"], ".0f"), fmt(v["peak_rss_mb"], ".1f"),
                      met(v["under_150MB"]) if target else f"({met(v['under_150MB'])})",
                      met(v["flat"]) if target else f"({met(v['flat'])})"])
    print()
    print(table(["api/records", "longest horizon d", "peak RSS MB", "< 150 MB", "flat (±10 %)"],
                vrows))
    print("\nThe targets apply to records='none' (summary only); other rows in brackets are "
          "for information.")
    if max(days) < 365:
        print(f"(longest horizon {max(days):.0f} days, not 365: the verdict is partial)")
    note = loaded_note(m)
    if note:
        print(note)
    path = write_result("bench_scale-quick" if a.quick else "bench_scale", {
        "benchmark": "bench_scale", "quick": a.quick, "machine": m, "versions": versions(),
        "config": {"days": days, "apis": apis, "records_modes": modes,
                   "scenario": a.scenario, "seed": 12345},
        "runs": runs, "verdicts": verdicts,
        "targets": {"peak_rss_mb_lt": TARGET_MB, "flat_tolerance": FLAT_TOL},
        "elapsed_s": time.perf_counter() - t0})
    print(f"\nwrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
