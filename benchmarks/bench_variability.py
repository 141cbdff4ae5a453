"""Cost per truck of the day-to-day variability mechanisms (issue 15), side by side in one run.

The default Hữu Nghị scenario as shipped against ``scenarios/huu_nghi_all_variability.yaml``:
the same scenario with every mechanism on (shared daily factors on servers and admission
rates, random and dated stoppages, a shared acceptance, priorities at every stage and lane,
daily demand factors), and the same with values that change nothing material ("neutral": the
mechanisms' own cost, apart from the extra queueing their swings cause). Each is one
replication in this process, the cases alternated within each repetition on the same seed;
the cost per truck is CPU seconds over trucks arrived, and the ratio to "off" is taken within
each repetition (paired: machine noise hits both alike) and reported as the median over
repetitions, beside the ratio of the best times. The target: within 10 %.

    .venv/bin/python -m benchmarks.bench_variability [--days 30] [--reps 5] [--quick]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np

from gatesim.engine.model import Model
from gatesim.scenario.loader import load_scenario

HERE = Path(__file__).parent
CASES = {
    "off (as shipped)": HERE.parent / "scenarios" / "huu_nghi.yaml",
    "all on": HERE / "scenarios" / "huu_nghi_all_variability.yaml",
    "all on, neutral": HERE / "scenarios" / "huu_nghi_all_variability_neutral.yaml",
}


def timed(path: Path, days: float, seed: int, records: str) -> tuple[float, int, int]:
    """CPU seconds of one replication, the trucks it brought and the SimPy events it
    scheduled (swings that make trucks wait more make more events per truck)."""
    s = load_scenario(path, [f"clock.horizon_days={days}"])
    t0 = time.process_time()
    m = Model(s, seed, 0, records)
    out = m.run()
    cpu = time.process_time() - t0
    return cpu, out.n_arrived, next(m.env._eid)  # SimPy's event counter


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=float, default=30.0)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--records", default="all", choices=["all", "sample", "none"])
    ap.add_argument("--quick", action="store_true", help="7 days, 2 repetitions")
    args = ap.parse_args(argv)
    days, reps = (7.0, 2) if args.quick else (args.days, args.reps)
    best: dict[str, tuple[float, int]] = {}
    ratios: dict[str, list[float]] = {name: [] for name in CASES}
    event_ratios: dict[str, list[float]] = {name: [] for name in CASES}
    counts: dict[str, float] = {}
    for _ in range(reps):
        per_rep, per_event = {}, {}
        for name, path in CASES.items():
            cpu, trucks, events = timed(path, days, 1, args.records)
            per_rep[name] = cpu / trucks
            per_event[name] = cpu / events
            counts[name] = events / trucks
            if name not in best or cpu / trucks < best[name][0] / best[name][1]:
                best[name] = (cpu, trucks)
        for name in CASES:
            ratios[name].append(per_rep[name] / per_rep["off (as shipped)"])
            event_ratios[name].append(per_event[name] / per_event["off (as shipped)"])
    base = best["off (as shipped)"][0] / best["off (as shipped)"][1]
    rows = []
    print(f"{days:g} days, records {args.records}, {reps} paired repetitions")
    for name, (cpu, trucks) in best.items():
        per = cpu / trucks
        median = float(np.median(ratios[name]))
        by_event = float(np.median(event_ratios[name]))
        rows.append({"case": name, "cpu_s": cpu, "trucks": trucks, "us_per_truck": per * 1e6,
                     "events_per_truck": counts[name], "ratio_of_best": per / base,
                     "median_paired_ratio": median, "median_paired_ratio_per_event": by_event,
                     "paired_ratios": ratios[name]})
        print(f"  {name:16s} {per * 1e6:5.1f} µs/truck  {counts[name]:5.2f} events/truck  "
              f"per truck × {median:.3f} (median paired; best × {per / base:.3f})  "
              f"per event × {by_event:.3f}")
    out = HERE / "results" / f"variability{'-quick' if args.quick else ''}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"machine": platform.platform(), "python": platform.python_version(),
                               "days": days, "reps": reps, "records": args.records,
                               "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
