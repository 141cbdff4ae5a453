"""Cost per truck of the day-to-day variability mechanisms (issue 15), side by side in one run.

The default Hữu Nghị scenario as shipped against ``scenarios/huu_nghi_all_variability.yaml``:
the same scenario with every mechanism on (shared daily factors on servers and admission
rates, random and dated stoppages, a shared acceptance, priorities at every stage and lane,
daily demand factors), and the same with values that change nothing material ("neutral": the
mechanisms' own cost, apart from the extra queueing their swings cause). Each is one
replication in this process, alternated, best CPU time of ``--reps``; the cost per truck is
CPU seconds over trucks arrived. The target: within 10 %.

    .venv/bin/python -m benchmarks.bench_variability [--days 30] [--reps 5] [--quick]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

from gatesim.engine.model import run_replication
from gatesim.scenario.loader import load_scenario

HERE = Path(__file__).parent
CASES = {
    "off (as shipped)": HERE.parent / "scenarios" / "huu_nghi.yaml",
    "all on": HERE / "scenarios" / "huu_nghi_all_variability.yaml",
    "all on, neutral": HERE / "scenarios" / "huu_nghi_all_variability_neutral.yaml",
}


def timed(path: Path, days: float, seed: int, records: str) -> tuple[float, int]:
    """CPU seconds of one replication and the trucks it brought."""
    s = load_scenario(path, [f"clock.horizon_days={days}"])
    t0 = time.process_time()
    out = run_replication(s, seed, 0, records=records)
    return time.process_time() - t0, out.n_arrived


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=float, default=30.0)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--records", default="all", choices=["all", "sample", "none"])
    ap.add_argument("--quick", action="store_true", help="7 days, 2 repetitions")
    args = ap.parse_args(argv)
    days, reps = (7.0, 2) if args.quick else (args.days, args.reps)
    best: dict[str, tuple[float, int]] = {}
    for rep in range(reps):
        for name, path in CASES.items():
            cpu, trucks = timed(path, days, 1 + rep, args.records)
            per = cpu / trucks
            if name not in best or per < best[name][0] / best[name][1]:
                best[name] = (cpu, trucks)
    base = best["off (as shipped)"][0] / best["off (as shipped)"][1]
    rows = []
    print(f"{days:g} days, records {args.records}, best of {reps}")
    for name, (cpu, trucks) in best.items():
        per = cpu / trucks
        rows.append({"case": name, "cpu_s": cpu, "trucks": trucks, "us_per_truck": per * 1e6,
                     "ratio": per / base})
        print(f"  {name:18s} {cpu:6.2f} s CPU  {trucks:7,d} trucks  {per * 1e6:6.1f} µs/truck"
              f"  × {per / base:.3f}")
    out = HERE / "results" / f"variability{'-quick' if args.quick else ''}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"machine": platform.platform(), "python": platform.python_version(),
                               "days": days, "reps": reps, "records": args.records,
                               "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
