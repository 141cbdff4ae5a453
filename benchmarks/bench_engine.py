"""Engine speed: gatesim vs hand-written idiomatic SimPy (vs Ciw), pairwise in the same run.

    python -m benchmarks.bench_engine            # 200,000 customers, best of 3 (~10 min)
    python -m benchmarks.bench_engine --quick    # 20,000 customers, 1 repetition (~1 min)

Networks:
  mmc       M/M/4 of engine-speed-anchors.md (gatesim: benchmarks/scenarios/mmc.yaml)
  tandem    the anchors' 4-stage tandem (gatesim: benchmarks/scenarios/tandem.yaml)
  huu_nghi  the default scenario (scenarios/huu_nghi.yaml, loaded at run time) against a plain
            SimPy model of its stages (benchmarks/hand_simpy.py) that ignores calendars,
            yards' finite slots and daily caps. Two gatesim runs pair with it:
              huu_nghi-like     gatesim with those features neutralised by overrides
                                (like for like);
              huu_nghi-default  gatesim on the scenario as shipped (NOT like for like).

Every timed run is a fresh subprocess (benchmarks/child.py); engines alternate within each
repetition (the order flips every repetition). The headline ratio is the median over
repetitions of the pairwise ratio of CPU seconds per customer, gatesim / hand SimPy.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: python benchmarks/<name>.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import statistics
import time
from typing import Any

from benchmarks.common import (
    DEFAULT_SCENARIO,
    SCENARIOS,
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
from benchmarks.hand_simpy import WQ_THEORY

REFERENCE_RATE = {"mmc": 90_069, "tandem": 26_867}
"""simpy-idiomatic customers/s in engine-speed-anchors.md (wall, best of 3, 200k customers)."""
REFERENCE_TOL = 0.20
TARGET_RATIO = 1.2


def anchor_task(engine: str, network: str, n: int, count: bool = False) -> dict[str, Any]:
    """engine: gatesim, gatesim-norec (records="none"), simpy or ciw."""
    t = {"kind": "anchor", "engine": engine.split("-")[0], "network": network, "n": n,
         "count_events": count, "records": "none" if engine.endswith("norec") else "all"}
    if engine.startswith("gatesim"):
        t["scenario"] = str(SCENARIOS / f"{network}.yaml")
    return t


def huu_task(engine: str, days: float | None, scenario: str,
             count: bool = False) -> dict[str, Any]:
    """engine: simpy (the plain model), gatesim-like[-norec] or gatesim-default."""
    parts = engine.split("-")
    variant = "like" if engine == "simpy" else parts[1]
    return {"kind": "huu_nghi", "engine": parts[0], "variant": variant, "days": days,
            "scenario": scenario, "count_events": count,
            "records": "none" if engine.endswith("norec") else "all"}


def has_records_option() -> bool:
    import inspect

    from gatesim.engine.model import run_replication

    return "records" in inspect.signature(run_replication).parameters


def pair_label(net: str, engine: str) -> str:
    return net if engine == "gatesim" else f"{net}-{engine.removeprefix('gatesim-')}"


def units(run: dict[str, Any]) -> int:
    """Customers that left (anchors) or trucks that arrived (Hữu Nghị)."""
    return run["customers"] if "customers" in run else run["arrived"]


def summarise(runs: list[dict[str, Any]], events: dict[str, Any] | None) -> dict[str, Any]:
    best_cpu = min(runs, key=lambda r: r["cpu_s"] / units(r))
    best_wall = min(runs, key=lambda r: r["wall_s"] / units(r))
    rate_cpu = units(best_cpu) / best_cpu["cpu_s"]
    out = {
        "runs": len(runs),
        "units": units(best_cpu),
        "best_cpu_s": best_cpu["cpu_s"],
        "best_wall_s": best_wall["wall_s"],
        "per_cpu_s": rate_cpu,
        "per_wall_s": units(best_wall) / best_wall["wall_s"],
        "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
        "sim_mb": max(r["peak_rss_mb"] - r["rss_before_mb"] for r in runs),
        "rss_after_imports_mb": min(r["rss_before_mb"] for r in runs),
    }
    for key in ("wq", "time_in_system_h", "left"):
        if key in best_cpu:
            out[key] = best_cpu[key]
    if events and events.get("events"):
        per = events["events"] / units(events)
        out["events_per_unit"] = per
        out["events_per_cpu_s"] = per * rate_cpu
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="20k customers, 1 repetition, <1 min")
    ap.add_argument("--customers", type=int, help="customers per anchor run (default 200,000)")
    ap.add_argument("--reps", type=int, help="repetitions (default 3, --quick 1)")
    ap.add_argument("--huu-days", type=float,
                    help="horizon of the Hữu Nghị runs (default: the scenario's; --quick 7)")
    ap.add_argument("--scenario", default=str(DEFAULT_SCENARIO))
    ap.add_argument("--no-ciw", action="store_true", help="skip Ciw")
    ap.add_argument("--networks", default="mmc,tandem,huu_nghi")
    a = ap.parse_args(argv)
    n = a.customers or (20_000 if a.quick else 200_000)
    reps = a.reps or (1 if a.quick else 3)
    huu_days = a.huu_days if a.huu_days is not None else (7.0 if a.quick else None)
    count_n = 5_000 if a.quick else min(n, 20_000)
    count_days = 2.0 if a.quick else huu_days
    networks = a.networks.split(",")
    try:
        import ciw  # noqa: F401
        have_ciw = not a.no_ciw
    except ImportError:
        have_ciw = False
        print("Ciw not installed: skipping it (pip install -r benchmarks/requirements.txt)")

    m = machine()
    t_start = time.perf_counter()
    raw: dict[str, dict[str, list[dict[str, Any]]]] = {}
    events: dict[str, dict[str, Any]] = {}
    pairs: dict[str, list[float]] = {}

    def log(msg: str) -> None:
        print(f"[{time.perf_counter() - t_start:6.1f}s] {msg}", flush=True)

    norec = has_records_option()
    if not norec:
        print("gatesim has no records= option: measuring its default (all records) only")
    for net in networks:
        if net in ("mmc", "tandem"):
            engines = (["gatesim"] + (["gatesim-norec"] if norec else []) + ["simpy"]
                       + (["ciw"] if have_ciw else []))

            def make(e, count=False, net=net):
                return anchor_task(e, net, count_n if count else n, count)
        elif net == "huu_nghi":
            engines = (["gatesim-like"] + (["gatesim-like-norec"] if norec else [])
                       + ["simpy", "gatesim-default"])

            def make(e, count=False):
                return huu_task(e, count_days if count else huu_days, a.scenario, count)
        else:
            raise SystemExit(f"unknown network {net!r}")
        keys = {e: f"{net}/{e}" for e in engines}
        for e in engines:
            raw.setdefault(keys[e], [])
        for rep in range(reps):
            order = engines if rep % 2 == 0 else engines[::-1]
            got: dict[str, dict[str, Any]] = {}
            for e in order:
                r = run_child(make(e))
                got[e] = r
                raw[keys[e]].append(r)
                log(f"{net:9s} rep {rep + 1}/{reps} {e:19s} cpu {r['cpu_s']:7.2f}s  "
                    f"wall {r['wall_s']:7.2f}s  {units(r):>7,} units  "
                    f"{units(r) / r['cpu_s']:>9,.0f}/cpu-s")
            h = got["simpy"]
            for e in engines:
                if e.startswith("gatesim"):
                    g = got[e]
                    ratio = (g["cpu_s"] / units(g)) / (h["cpu_s"] / units(h))
                    pairs.setdefault(pair_label(net, e), []).append(ratio)
        for e in engines:  # instrumented runs: SimPy events per customer / truck
            if e != "ciw" and not e.endswith("norec"):  # records do not change the events
                events[keys[e]] = run_child(make(e, count=True))
                log(f"{net:9s} events   {e:19s} {events[keys[e]]['events']:,} events / "
                    f"{units(events[keys[e]]):,} units")
        for e in engines:
            if e.endswith("norec"):
                events[keys[e]] = events[keys[e.removesuffix("-norec")]]

    m["loadavg_at_end"] = loadavg()
    summary = {k: summarise(v, events.get(k)) for k, v in raw.items()}

    # --- the table ---------------------------------------------------------------------------
    rows = []
    for key, s in summary.items():
        net, engine = key.split("/")
        theory = WQ_THEORY.get(net)
        err = (s["wq"] - theory) / theory if theory and "wq" in s else None
        stat = (f"Wq {s['wq']:.4f} ({err:+.1%})" if err is not None else
                f"T {s['time_in_system_h']:.3f} h" if "time_in_system_h" in s else "")
        rows.append([net, engine, fmt(s["units"], ","), fmt(s["best_cpu_s"], ".2f"),
                     fmt(s["best_wall_s"], ".2f"), fmt(s["per_cpu_s"], ",.0f"),
                     fmt(s["per_wall_s"], ",.0f"), fmt(s.get("events_per_unit"), ".1f"),
                     fmt(s.get("events_per_cpu_s"), ",.0f"), fmt(s["peak_rss_mb"], ".1f"),
                     fmt(s["sim_mb"], ".1f"), stat])
    headers = ["network", "engine", "customers", "best CPU s", "best wall s", "per CPU-s",
               "per wall-s", "events/cust", "events/CPU-s", "peak RSS MB", "model MB",
               "Wq (err vs theory) / mean T"]
    print()
    print(table(headers, rows))

    ratio_rows, ratios = [], {}
    for label, rs in pairs.items():
        med = statistics.median(rs)
        net, _, variant = label.partition("-")
        gkey = f"{net}/gatesim" + (f"-{variant}" if variant else "")
        hkey = f"{net}/simpy"
        best = (summary[gkey]["best_cpu_s"] / summary[gkey]["units"]) / (
            summary[hkey]["best_cpu_s"] / summary[hkey]["units"])
        ge, he = summary[gkey].get("events_per_unit"), summary[hkey].get("events_per_unit")
        ev = ge / he if ge and he else None
        judged = not variant.startswith("default")
        ratios[label] = {"median_pairwise": med, "pairwise": rs, "best_vs_best": best,
                         "events_ratio": ev, "target": TARGET_RATIO,
                         "met": med <= TARGET_RATIO, "judged": judged}
        note = {"": "records='all' (default); Wq from the visit records",
                "norec": "records='none' (summary only); Wq from the streamed tally",
                "like": "like for like (calendars, slots, caps neutralised); records='all'",
                "like-norec": "like for like; records='none'",
                "default": "shipped scenario vs simplified hand model: NOT like for like",
                }.get(variant, "")
        ratio_rows.append([label, fmt(med, ".2f"), " ".join(f"{r:.2f}" for r in rs),
                           fmt(best, ".2f"), fmt(ev, ".2f"),
                           met(med <= TARGET_RATIO) if judged else
                           f"({met(med <= TARGET_RATIO)})", note])
    print()
    print(table(["network", "ratio gatesim/simpy (CPU, median pairwise)", "pairwise",
                 "best vs best", "events ratio", f"target ≤ {TARGET_RATIO}", "note"],
                ratio_rows))

    base_rows, baseline = [], {}
    for net, ref in REFERENCE_RATE.items():
        s = summary.get(f"{net}/simpy")
        if not s:
            continue
        ok = abs(s["per_cpu_s"] / ref - 1) <= REFERENCE_TOL
        baseline[net] = {"reference": ref, "per_cpu_s": s["per_cpu_s"],
                         "per_wall_s": s["per_wall_s"], "within_20pct": ok}
        base_rows.append([net, fmt(ref, ","), fmt(s["per_cpu_s"], ",.0f"),
                          fmt(s["per_wall_s"], ",.0f"), f"{s['per_cpu_s'] / ref - 1:+.1%}",
                          "YES" if ok else "NO"])
    print()
    print(table(["network", "anchor customers/s", "hand SimPy per CPU-s",
                 "hand SimPy per wall-s", "CPU vs anchor", "baseline reproduced (±20 %)"],
                base_rows))
    if any(not b["within_20pct"] for b in baseline.values()):
        print("WARNING: the hand SimPy baseline did not reproduce the anchors within ±20 %; "
              "the ratios are less meaningful on this run.")
    print("\nper CPU-s / per wall-s: customers that left (mmc, tandem) or trucks that arrived "
          "(huu_nghi) per second of the best run; events/cust from an instrumented run "
          f"({count_n:,} customers), events/CPU-s = events/cust × per CPU-s; peak RSS = VmHWM of"
          " the child (imports included); model MB = peak − RSS after the imports.")
    if "huu_nghi/simpy" in summary:
        print("\nhuu_nghi: the hand SimPy model ignores calendars, yards' finite slots and caps,"
              " the warm-up and all statistics but the mean time in system; 'huu_nghi-like' runs"
              " gatesim with those neutralised (like for like); 'huu_nghi-default' is the"
              " shipped scenario. Units = trucks arrived (initial trucks included). The hand"
              " model's RSS includes gatesim's imports (used to read the scenario).")
    note = loaded_note(m)
    if note:
        print("\n" + note)
    print()
    for label, r in ratios.items():
        print(f"ratio gatesim/simpy {label}: {r['median_pairwise']:.2f}")

    path = write_result("bench_engine-quick" if a.quick else "bench_engine", {
        "benchmark": "bench_engine", "quick": a.quick, "machine": m, "versions": versions(),
        "config": {"customers": n, "reps": reps, "event_count_customers": count_n,
                   "event_count_huu_days": count_days,
                   "huu_days": huu_days, "scenario": a.scenario, "ciw": have_ciw,
                   "timing": "CPU = time.process_time in a fresh child; best of reps"},
        "summary": summary, "ratios": ratios, "baseline": baseline,
        "targets": {"ratio_le": TARGET_RATIO}, "raw": raw, "event_runs": events,
        "elapsed_s": time.perf_counter() - t_start})
    print(f"\nwrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
