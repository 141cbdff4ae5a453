"""Command line: argument parsing and exit codes only; the work is in the Python API."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from gatesim.errors import GatesimError, Interrupted


def _common(p: argparse.ArgumentParser) -> None:
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


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gatesim", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a scenario and write its results")
    run.add_argument("scenario", type=Path, nargs="?")
    run.add_argument("--check", type=Path, metavar="RESULTS_DIR",
                     help="re-run replication 0 of earlier results and confirm it is identical")
    run.add_argument("--records", choices=["all", "sample", "none"], default="all",
                     help="per-truck records kept: all, every tenth truck, or none (summary "
                          "statistics are the same)")
    run.add_argument("--precision", type=float,
                     help="add replications until this metric's CI half-width ≤ this share")
    run.add_argument("--metric", default="time_in_system_h/system/mean",
                     help="metric/scope/stat that --precision judges")
    run.add_argument("--max-replications", type=int, default=100)
    _common(run)
    cmp = sub.add_parser("compare", help="compare scenarios with common random numbers")
    cmp.add_argument("scenarios", type=Path, nargs="+", help="baseline first")
    cmp.add_argument("--records", choices=["all", "sample", "none"], default="all")
    _common(cmp)
    sw = sub.add_parser("sweep", help="run a grid of capacities (common random numbers)")
    sw.add_argument("scenario", type=Path)
    sw.add_argument("--param", action="append", required=True, metavar="PATH=LO:HI:STEP",
                    help="a swept field: path=lo:hi:step or path=a,b,c (repeat for a grid)")
    sw.add_argument("--target", help="e.g. road_queue/system/p95<=5, judged on the CI bound")
    _common(sw)
    sen = sub.add_parser("sensitivity", help="how far each ranged number moves one answer "
                         "(one at a time, common random numbers)")
    sen.add_argument("scenarios", type=Path, nargs="+", metavar="SCENARIO",
                     help="a scenario, or two: the answer is then B − A per replication")
    sen.add_argument("--metric", required=True, metavar="METRIC/SCOPE/STAT",
                     help="the answer, e.g. time_in_system_h/system/mean")
    sen.add_argument("--only", nargs="+", action="extend", metavar="NAME",
                     help="swing only these parameters (names as in sensitivity.csv)")
    _common(sen)
    val = sub.add_parser("validate", help="check gatesim against queueing theory")
    val.add_argument("--quick", action="store_true", help="shorter runs, looser bounds (≈ 1 min)")
    val.add_argument("--out", type=Path, default=Path("results") / "validation")
    val.add_argument("--workers", "-w", type=int, default=os.cpu_count() or 1)
    val.add_argument("--quiet", "-q", action="store_true")
    rep = sub.add_parser("report", help="(re)build report.html from a results directory")
    rep.add_argument("results", type=Path, help="a run, compare or sweep results directory")
    rep.add_argument("--out", type=Path, help="the HTML file (default RESULTS/report.html)")
    rep.add_argument("--quiet", "-q", action="store_true")
    return p


def _overrides(args: argparse.Namespace) -> list[str]:
    extra = [f"clock.horizon_days={args.days}"] if args.days is not None else []
    return [*args.overrides, *extra]


def _options(args: argparse.Namespace) -> None:
    """Refuse bad numeric options before anything is loaded or run."""
    from gatesim.experiments.guard import check_replications

    if not 0 <= args.seed < 2**63:
        raise GatesimError(f"--seed: got {args.seed}; expected a whole number from 0 to "
                           "2**63 - 1 (the root of every random stream)")
    check_replications(args.replications, args.allow_large)
    if args.workers < 1:
        raise GatesimError(f"--workers: got {args.workers}; expected at least 1")


def _executor(args: argparse.Namespace):
    from gatesim.experiments.executors import make_executor

    return make_executor(args.executor, args.workers, args.scheduler)


def _say(args: argparse.Namespace, text: str) -> None:
    if not args.quiet:
        print(text)


def _report(args: argparse.Namespace, out: Path) -> None:
    """The report at the end of run, compare and sweep (unless --no-report)."""
    if args.no_report:
        return
    from gatesim.output.report import build_report

    try:
        _say(args, f"report: {build_report(out)}")
    except KeyboardInterrupt:
        print(f"gatesim: interrupted while building the report; the results in {out} are "
              f"complete: `gatesim report {out}` builds it again", file=sys.stderr)
        raise SystemExit(130) from None


def _destination(args: argparse.Namespace, out: Path, kind: str, inputs: list[Path],
                 resume: bool = False):
    from gatesim.output.destination import Destination

    return Destination(out, kind, args.force, inputs, resume)


def _records(args: argparse.Namespace, scenarios: list) -> str:
    """Refuse absurd work for every scenario; the records mode that fits in memory."""
    from gatesim.experiments.guard import check_work, records_mode

    trucks = check_work(scenarios, args.replications, args.allow_large)
    records = getattr(args, "records", "all")
    if not args.allow_large:
        records, note = records_mode(records, trucks)
        if note:
            _say(args, f"note: {note}")
    return records


def _checkpoint(args: argparse.Namespace, scenario, out: Path, records: str):
    from gatesim.experiments.checkpoint import Checkpoint, checkpoint_key

    doc = scenario.model_dump(mode="json", by_alias=True)
    cp = Checkpoint(out, checkpoint_key(doc, args.seed, records))
    if cp.done():
        _say(args, f"resuming: {cp.done()} finished replications kept from an interrupted run")
    return cp


def cmd_check(args: argparse.Namespace) -> int:
    from gatesim.experiments.check import reproduce

    ok, message = reproduce(args.check)
    print(message, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


def _precision(args: argparse.Namespace, scenario):
    """--precision and --metric, checked before any work."""
    from gatesim.experiments.guard import check_replications, check_work
    from gatesim.experiments.names import check_key
    from gatesim.experiments.run import Precision

    if args.precision is None:
        return None
    if not 0 < args.precision < 1:
        raise GatesimError(f"--precision: got {args.precision:g}; expected a share between 0 "
                           "and 1, e.g. 0.05 for a half-width of 5 % of the estimate")
    check_replications(args.max_replications, args.allow_large, "--max-replications")
    check_work([scenario], args.max_replications, args.allow_large)
    try:
        p = Precision.parse(args.precision, args.metric, args.max_replications)
    except ValueError as exc:
        raise GatesimError(str(exc)) from None
    check_key(scenario, "--metric", p.metric, p.scope, p.stat)
    return p


def cmd_run(args: argparse.Namespace) -> int:
    from gatesim.experiments.run import run
    from gatesim.experiments.stability import describe
    from gatesim.output.writer import write_run
    from gatesim.scenario.loader import load_scenario

    if args.check is not None:
        return cmd_check(args)
    if args.scenario is None:
        raise GatesimError("run: give a SCENARIO file (or --check RESULTS_DIR)")
    _options(args)
    scenario = load_scenario(args.scenario, _overrides(args))
    precision = _precision(args, scenario)
    records = _records(args, [scenario])
    executor = _executor(args)
    out = args.out or Path("results") / scenario.name
    with _destination(args, out, "run", [args.scenario]) as dest:
        checkpoint = _checkpoint(args, scenario, dest.path, records)
        try:
            result = run(scenario, args.replications, args.seed, executor=executor,
                         precision=precision, progress=not args.quiet, records=records,
                         checkpoint=checkpoint)
        except ValueError as exc:
            raise GatesimError(str(exc)) from None
        result.meta["scenario_file"] = str(args.scenario)
        write_run(result, dest.path)
        checkpoint.clear()
    m = result.meta
    _say(args, f"{scenario.name}: {m['replications']} replications, seed {args.seed}, "
               f"{m['trucks_arrived']} trucks, {m['runtime_s']:.1f} s")
    if not args.quiet:
        _print_key_figures(result.summary, scenario.roads)
        if m["warmup"]["method"] == "auto":
            print(f"  warm-up: {m['warmup']['days']} days ({m['warmup']['note']})")
        if text := describe(scenario.name, m["stability"]):
            print(f"  {text}")
        if m["precision"] and not m["precision"]["achieved"]:
            print(f"  precision not reached after {m['replications']} replications "
                  f"(half-width {m['precision']['half_width_rel']:.1%})")
    _say(args, f"results: {out}")
    _report(args, out)
    return 0


def _print_key_figures(summary, roads: list[str]) -> None:
    """The summary block of one run (each road's queue apart), with 95 % intervals."""
    from gatesim.experiments.compare import summary_block

    s = summary.set_index(["metric", "scope", "stat"])
    for key, label in summary_block(roads).items():
        if key in s.index:
            row = s.loc[key]
            print(f"  {label:30s} {row.estimate:10.2f}  [{row.ci_low:.2f}, {row.ci_high:.2f}]")


RESERVED_NAMES = {"plots"}
"""Names a compared scenario may not have: its results directory would mix with the report's."""


def cmd_compare(args: argparse.Namespace) -> int:
    from gatesim.experiments.compare import compare, primary_table
    from gatesim.output.writer import write_comparison
    from gatesim.scenario.loader import load_scenario

    _options(args)
    scenarios = [load_scenario(p, _overrides(args)) for p in args.scenarios]
    for s, path in zip(scenarios, args.scenarios, strict=True):
        if s.name in RESERVED_NAMES:
            raise GatesimError(f"{path}: name: got {s.name!r}; expected a name other than "
                               f"{', '.join(sorted(RESERVED_NAMES))} (the report's folder)")
    records = _records(args, scenarios)
    executor = _executor(args)
    out = args.out or Path("results") / ("compare_" + "_vs_".join(s.name for s in scenarios))
    with _destination(args, out, "comparison", list(args.scenarios)) as dest:
        kept = []

        def checkpoint(s):
            kept.append(_checkpoint(args, s, dest.path, records))
            return kept[-1]

        c = compare(scenarios, args.replications, args.seed, executor=executor,
                    progress=not args.quiet, records=records, checkpoints=checkpoint)
        for result, path in zip(c.results, args.scenarios, strict=True):
            result.meta["scenario_file"] = str(path)
        write_comparison(c, dest.path)
        for cp in kept:
            cp.clear()
    _say(args, primary_table(c))
    _say(args, f"results: {out}")
    _report(args, out)
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from gatesim.experiments.names import check_key
    from gatesim.experiments.sweep import Target, parse_param, point_scenarios, sweep
    from gatesim.output.writer import PointDirectory, write_sweep
    from gatesim.scenario.loader import load_scenario

    _options(args)
    params = [parse_param(p) for p in args.param]
    target = Target.parse(args.target) if args.target else None
    base = load_scenario(args.scenario, _overrides(args))
    if target is not None:
        check_key(base, "--target", target.metric, target.scope, target.stat)
    points = [s for _, s in point_scenarios(args.scenario, params, _overrides(args))]
    _records(args, points)
    executor = _executor(args)
    name = base.name
    out = args.out or Path("results") / f"sweep_{name}"
    with _destination(args, out, "sweep", [args.scenario], resume=True) as dest:
        result = sweep(args.scenario, params, _overrides(args), args.replications, args.seed,
                       executor=executor, target=target, progress=not args.quiet,
                       store=PointDirectory(dest.path))
        write_sweep(result, dest.path)
    m = result.meta
    _say(args, f"{name}: {m['points']} points ({m['computed']} computed, "
               f"{m['points'] - m['computed']} reused), {args.replications} replications each")
    if target is not None:
        best = m["best"]
        goal = f"{target.metric}/{target.scope}/{target.stat} {target.op} {target.value:g}"
        found = ", ".join(f"{k} = {v}" for k, v in best.items()) if best else "none in the grid"
        caveat = (" — met for this horizon only: the backlog at this point keeps growing"
                  if m["best_unstable"] else "")
        _say(args, f"smallest point meeting {goal} (judged on the 95 % CI): {found}{caveat}")
    if m["unstable_points"]:
        listed = "; ".join(", ".join(f"{k} = {v}" for k, v in p.items())
                           for p in m["unstable_points"][:5])
        _say(args, f"UNSTABLE at {len(m['unstable_points'])} of {m['points']} points ({listed}"
                   f"{' …' if len(m['unstable_points']) > 5 else ''}): their waits and queues "
                   "hold for this horizon only")
    _say(args, f"results: {out}")
    _report(args, out)
    return 0


def cmd_sensitivity(args: argparse.Namespace) -> int:
    """One-at-a-time sensitivity; --no-report skips the tornado chart."""
    from gatesim.experiments.guard import check_work
    from gatesim.experiments.sensitivity import prepare, sensitivity, summary_text
    from gatesim.output.reader import metric_label
    from gatesim.output.writer import write_sensitivity

    _options(args)
    plan = prepare(args.scenarios, args.metric, args.replications, args.only, _overrides(args))
    check_work(list(plan.points.values()), args.replications, args.allow_large)
    executor = _executor(args)
    out = args.out or Path("results") / ("sensitivity_" + "_vs_".join(plan.names))
    with _destination(args, out, "sensitivity", list(args.scenarios)) as dest:
        kept = []

        def checkpoint(s):  # each point's finished replications, kept until written
            kept.append(_checkpoint(args, s, dest.path, "none"))
            return kept[-1]

        result = sensitivity(args.scenarios, seed=args.seed, executor=executor, plan=plan,
                             progress=not args.quiet, checkpoints=checkpoint)
        write_sensitivity(result, dest.path, plots=not args.no_report)
        for cp in kept:
            cp.clear()
    m = plan.metric
    _say(args, summary_text(result, metric_label(m.metric, m.stat, m.scope)))
    _say(args, f"results: {out}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """Exit 0 when every case agrees with theory, 1 when any does not."""
    from gatesim.output.writer import write_csv
    from gatesim.validation.suite import COLUMNS, format_table, run_validation

    target = args.out / "validation.csv"
    if target.exists():  # replace only a validation table gatesim wrote
        try:
            with target.open(encoding="utf-8") as f:
                ours = f.readline().strip() == ",".join(COLUMNS)
        except (OSError, UnicodeDecodeError):
            ours = False
        if not ours:
            raise GatesimError(f"--out {args.out}: refused, its validation.csv was not "
                               "written by gatesim; choose another --out")
    table = run_validation(quick=args.quick, workers=args.workers)
    try:
        args.out.mkdir(parents=True, exist_ok=True)
        write_csv(table, target)
    except OSError as exc:
        raise GatesimError(f"--out {args.out}: cannot write it ({exc.strerror or exc})"
                           ) from None
    _say(args, format_table(table))
    _say(args, f"results: {args.out / 'validation.csv'}")
    return 0 if table["passed"].all() else 1


def cmd_report(args: argparse.Namespace) -> int:
    from gatesim.output.report import build_report

    _say(args, f"report: {build_report(args.results, args.out)}")
    return 0


COMMANDS = {"run": cmd_run, "compare": cmd_compare, "sweep": cmd_sweep,
            "sensitivity": cmd_sensitivity, "validate": cmd_validate, "report": cmd_report}


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM in the main process: stop like Ctrl-C does (exit 143). Worker processes
    replace this handler with the default one (executors.py): they end quietly."""
    raise Interrupted()


def main(argv: Sequence[str] | None = None) -> int:
    """The console entry point: exit status 0, 1 (a run failed), 2 (bad input), 130 (Ctrl-C)
    or 143 (SIGTERM), with one line on stderr, never a traceback; a Ctrl-C is caught wherever
    it lands, from parsing the arguments and importing the libraries to the last line."""
    stopped = ("gatesim: interrupted; nothing was written as finished results; finished "
               "replications and sweep points are kept, so the same command resumes")
    try:
        previous = signal.signal(signal.SIGTERM, _terminate)
    except ValueError:  # not the main thread: SIGTERM keeps its handler
        previous = None
    try:
        try:
            args = parser().parse_args(argv)
            return COMMANDS[args.command](args)
        except GatesimError as exc:
            print(f"gatesim: error: {exc}", file=sys.stderr)
            return exc.exit_code
        except KeyboardInterrupt:
            code = 130
        except Interrupted as exc:
            code = exc.exit_code
        print(stopped, file=sys.stderr)
        return code
    except KeyboardInterrupt:  # a second Ctrl-C while the first was being reported
        return 130
    except Interrupted as exc:
        return exc.exit_code
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
