"""Parallel replications: 16 replications of the default scenario (7-day horizon) on 1 and 2
local workers and on a dask LocalCluster (2 workers × 1 thread, processes=True).

    python -m benchmarks.bench_parallel            # 16 replications × 7 days, best of 2
    python -m benchmarks.bench_parallel --quick    # 8 replications × 3 days, 1 run (< 1 min)

Each configuration runs ``gatesim.run`` in a fresh subprocess. Wall time is end to end
(replications + building the result tables in the parent); the replications phase alone
(``Runner.outputs``, i.e. the executor's map) is timed too by wrapping it. The dask cluster's
start-up (and importing gatesim on its workers, as a long-lived cluster would have done) is
reported separately and not counted. Target: speed-up ≥ 1.8× on 2 workers.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: python benchmarks/<name>.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
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

TARGET = 1.8
CONFIGS = [("local", 1), ("local", 2), ("dask", 2)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--replications", type=int)
    ap.add_argument("--days", type=float)
    ap.add_argument("--reps", type=int, help="runs per configuration (best taken)")
    ap.add_argument("--records", default=None,
                    help="gatesim.run(records=...) if supported (default: gatesim's default)")
    ap.add_argument("--scenario", default=str(DEFAULT_SCENARIO))
    a = ap.parse_args(argv)
    R = a.replications or (8 if a.quick else 16)
    days = a.days or (3.0 if a.quick else 7.0)
    reps = a.reps or (1 if a.quick else 2)
    try:
        import distributed  # noqa: F401
        configs = CONFIGS
    except ImportError:
        print("dask.distributed not installed: skipping the dask configuration")
        configs = CONFIGS[:2]
    m = machine()
    t0 = time.perf_counter()
    runs: dict[str, list[dict[str, Any]]] = {}
    for rep in range(reps):
        order = configs if rep % 2 == 0 else configs[::-1]
        for ex, w in order:
            r = run_child({"kind": "parallel", "scenario": a.scenario, "days": days,
                           "replications": R, "executor": ex, "workers": w,
                           "records": a.records})
            runs.setdefault(f"{ex}/{w}", []).append(r)
            print(f"[{time.perf_counter() - t0:6.1f}s] {ex:5s} workers={w} run {rep + 1}/{reps}:"
                  f" wall {r['wall_s']:6.2f}s (replications {r['replications_s']:6.2f}s, "
                  f"tables {r['frames_s']:5.2f}s)", flush=True)
    m["loadavg_at_end"] = loadavg()
    best = {k: min(v, key=lambda r: r["wall_s"]) for k, v in runs.items()}
    base = best["local/1"]
    # Load-independent estimate: on idle cores the run would take the parent's own CPU (serial:
    # submitting, unpickling results, tables) plus the workers' CPU shared over the workers.
    # Best CPU of the 1-worker runs (all in the parent) over that.
    t1_cpu = min(r["parent_cpu_s"] + r["workers_cpu_s"] for r in runs["local/1"])

    def estimate(k: str, w: int) -> float:
        wall = min(r["parent_cpu_s"] + r["workers_cpu_s"] / w for r in runs[k])
        return t1_cpu / wall
    rows, summary = [], {}
    for (ex, w) in configs:
        k = f"{ex}/{w}"
        b = best[k]
        sp = base["wall_s"] / b["wall_s"]
        sp_reps = base["replications_s"] / b["replications_s"]
        ok = sp >= TARGET if w >= 2 else None
        est = estimate(k, w)
        summary[k] = {"wall_s": b["wall_s"], "replications_s": b["replications_s"],
                      "frames_s": b["frames_s"], "setup_s": b["setup_s"], "speedup": sp,
                      "speedup_replications": sp_reps, "met": ok,
                      "reps_per_s": R / b["wall_s"], "trucks": b["arrived"],
                      "cpu_total_s": b["parent_cpu_s"] + b["workers_cpu_s"],
                      "cores_used": (b["parent_cpu_s"] + b["workers_cpu_s"]) / b["wall_s"],
                      "speedup_estimate_idle": est}
        rows.append([ex, w, R, fmt(days, ".0f"), fmt(b["wall_s"], ".2f"),
                     fmt(b["replications_s"], ".2f"), fmt(b["frames_s"], ".2f"),
                     fmt(b["setup_s"], ".1f") if ex == "dask" else "–",
                     fmt(R / b["wall_s"], ".2f"),
                     fmt(summary[k]["cpu_total_s"], ".2f"), fmt(summary[k]["cores_used"], ".2f"),
                     fmt(sp, ".2f"), fmt(sp_reps, ".2f"),
                     fmt(est, ".2f"),
                     met(ok) if w >= 2 else "–"])
    print()
    print(table(["executor", "workers", "replications", "days", "wall s (best)",
                 "replications phase s", "tables s", "cluster start s", "replications/s",
                 "CPU s (all processes)", "cores used (CPU/wall)",
                 "speed-up", "speed-up (replications phase)", "est. speed-up on idle cores",
                 f"target ≥ {TARGET}× (measured)"], rows))
    print("\nCores used = CPU seconds of the parent and its worker processes / wall seconds: "
          "about 2 on an idle 2-core machine with 2 workers; lower means the workers did not "
          "get two cores. Est. speed-up on idle cores = CPU of the 1-worker run / (parent CPU +"
          " workers' CPU / workers): what the CPU accounting predicts without other load"
          " (an estimate, not a measurement). Dask workers' CPU is read on the workers"
          " (time.process_time before and after the run).")
    print(f"Records: {best['local/1'].get('records_kw') or 'gatesim default'}; "
          f"{base['arrived']:,} trucks in all replications.")
    note = loaded_note(m)
    if note:
        print(note.replace("compare CPU times and the pairwise ratios",
                           "a speed-up needs idle cores, so this one is pessimistic"))
    path = write_result("bench_parallel-quick" if a.quick else "bench_parallel", {
        "benchmark": "bench_parallel", "quick": a.quick, "machine": m, "versions": versions(),
        "config": {"replications": R, "days": days, "reps": reps, "records": a.records,
                   "scenario": a.scenario, "seed": 12345},
        "summary": summary, "runs": runs, "target_speedup": TARGET,
        "elapsed_s": time.perf_counter() - t0})
    print(f"\nwrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
