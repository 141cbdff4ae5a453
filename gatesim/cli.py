"""Command line: argument parsing and exit codes only; the work is in the Python API."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from gatesim.errors import GatesimError


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--replications", "-r", type=int, default=10, help="independent replications")
    p.add_argument("--seed", type=int, default=12345, help="root seed of all random streams")
    p.add_argument("--days", type=float, help="override clock.horizon_days")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                   help="override a scenario field, e.g. yards.front.slots=300 (repeatable)")
    p.add_argument("--workers", "-w", type=int, default=os.cpu_count() or 1,
                   help="worker processes (results do not depend on it)")
    p.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gatesim", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a scenario and write its results")
    run.add_argument("scenario", type=Path)
    run.add_argument("--out", type=Path, help="results directory (default results/<name>/)")
    run.add_argument("--no-records", action="store_true", help="skip trucks.csv and visits.csv")
    _common(run)
    return p


def _overrides(args: argparse.Namespace) -> list[str]:
    extra = [f"clock.horizon_days={args.days}"] if args.days is not None else []
    return [*args.overrides, *extra]


def cmd_run(args: argparse.Namespace) -> int:
    from gatesim.experiment import run
    from gatesim.loader import load_scenario
    from gatesim.results import write_run

    if args.replications < 1:
        raise GatesimError(f"--replications: got {args.replications}; expected at least 1")
    scenario = load_scenario(args.scenario, _overrides(args))
    out = args.out or Path("results") / scenario.name
    result = run(scenario, replications=args.replications, seed=args.seed, workers=args.workers)
    write_run(result, out, records=not args.no_records)
    if not args.quiet:
        s = result.summary.set_index(["metric", "scope", "stat"])
        print(f"{scenario.name}: {args.replications} replications, seed {args.seed}, "
              f"{result.meta['trucks_arrived']} trucks, {result.meta['runtime_s']:.1f} s")
        for key, label in [
            (("throughput_per_day", "system", "mean"), "throughput (trucks/day)"),
            (("time_in_system_h", "system", "mean"), "time in system, mean (h)"),
            (("time_in_system_h", "system", "p95"), "time in system, p95 (h)"),
            (("road_queue", "system", "mean"), "road queue, mean (trucks)"),
            (("in_system_end", "system", "count"), "inside at the end (trucks)"),
        ]:
            if key in s.index:
                row = s.loc[key]
                print(f"  {label:30s} {row.estimate:10.2f}  [{row.ci_low:.2f}, {row.ci_high:.2f}]")
        print(f"results: {out}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return {"run": cmd_run}[args.command](args)
    except GatesimError as exc:
        print(f"gatesim: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("gatesim: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
