"""The run, compare, sweep, validate and report commands."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gatesim.cli.support import (
    Phases,
    check_options,
    checkpoint_for,
    destination,
    executor_for,
    overrides,
    records_for,
    report,
    say,
    say_answer,
)
from gatesim.errors import GatesimError
from gatesim.i18n import _


def cmd_check(args: argparse.Namespace) -> int:
    from gatesim.experiments.check import reproduce

    ok, message = reproduce(args.check)
    print(message, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


def precision_for(args: argparse.Namespace, scenario):
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
    from gatesim.scenario.labels import title_of
    from gatesim.scenario.loader import load_scenario

    if args.check is not None:
        return cmd_check(args)
    if args.scenario is None:
        raise GatesimError("run: give a SCENARIO file (or --check RESULTS_DIR)")
    check_options(args)
    phases = Phases()
    scenario = load_scenario(args.scenario, overrides(args))
    precision = precision_for(args, scenario)
    records = records_for(args, [scenario])
    executor = executor_for(args)
    out = args.out or Path("results") / scenario.name
    with destination(args, out, "run", [args.scenario]) as dest:
        checkpoint = checkpoint_for(args, scenario, dest.path, records)
        try:
            with phases(_("simulating")):
                result = run(scenario, args.replications, args.seed, executor=executor,
                             precision=precision, progress=not args.quiet, records=records,
                             checkpoint=checkpoint)
        except ValueError as exc:
            raise GatesimError(str(exc)) from None
        result.meta["scenario_file"] = str(args.scenario)
        with phases(_("writing")):
            write_run(result, dest.path, records_format=args.records_format)
        checkpoint.clear()
    m = result.meta
    say(args, f"{scenario.name}: {m['replications']} replications, seed {args.seed}, "
               f"{m['trucks_arrived']} trucks, {m['runtime_s']:.1f} s")
    say_answer(args, out)
    if not args.quiet:
        if m["warmup"]["method"] == "auto":
            print(f"  warm-up: {m['warmup']['days']} days ({m['warmup']['note']})")
        if text := describe(title_of(scenario), m["stability"]):
            print(f"  {text}")
        if m["precision"] and not m["precision"]["achieved"]:
            print(f"  precision not reached after {m['replications']} replications "
                  f"(half-width {m['precision']['half_width_rel']:.1%})")
    say(args, _("results: %(path)s") % {"path": out})
    report(args, out, phases)
    say(args, phases.line())
    return 0


RESERVED_NAMES = {"plots"}
"""Names a compared scenario may not have: its results directory would mix with the report's."""


def cmd_compare(args: argparse.Namespace) -> int:
    from gatesim.experiments.compare import compare
    from gatesim.experiments.stability import describe
    from gatesim.output.writer import write_comparison
    from gatesim.scenario.labels import title_of
    from gatesim.scenario.loader import load_scenario

    check_options(args)
    phases = Phases()
    scenarios = [load_scenario(p, overrides(args)) for p in args.scenarios]
    for s, path in zip(scenarios, args.scenarios, strict=True):
        if s.name in RESERVED_NAMES:
            raise GatesimError(f"{path}: name: got {s.name!r}; expected a name other than "
                               f"{', '.join(sorted(RESERVED_NAMES))} (the report's folder)")
    records = records_for(args, scenarios)
    executor = executor_for(args)
    out = args.out or Path("results") / ("compare_" + "_vs_".join(s.name for s in scenarios))
    with destination(args, out, "comparison", list(args.scenarios)) as dest:
        kept = []

        def checkpoint(s):
            kept.append(checkpoint_for(args, s, dest.path, records))
            return kept[-1]

        with phases(_("simulating")):
            c = compare(scenarios, args.replications, args.seed, executor=executor,
                        progress=not args.quiet, records=records, checkpoints=checkpoint)
        for result, path in zip(c.results, args.scenarios, strict=True):
            result.meta["scenario_file"] = str(path)
        with phases(_("writing")):
            write_comparison(c, dest.path, records_format=args.records_format)
        for cp in kept:
            cp.clear()
    say_answer(args, out)
    for result in c.results:  # an unstable scenario's figures hold for this horizon only
        if text := describe(title_of(result.scenario), result.meta["stability"]):
            say(args, f"  {text}")
    say(args, _("results: %(path)s") % {"path": out})
    report(args, out, phases)
    say(args, phases.line())
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from gatesim.experiments.names import check_key
    from gatesim.experiments.sweep import Target, parse_param, point_scenarios, sweep
    from gatesim.output.writer import PointDirectory, write_sweep
    from gatesim.scenario.loader import load_scenario

    check_options(args)
    phases = Phases()
    params = [parse_param(p) for p in args.param]
    target = Target.parse(args.target) if args.target else None
    base = load_scenario(args.scenario, overrides(args))
    if target is not None:
        check_key(base, "--target", target.metric, target.scope, target.stat)
    points = [s for _, s in point_scenarios(args.scenario, params, overrides(args))]
    records_for(args, points)
    executor = executor_for(args)
    name = base.name
    out = args.out or Path("results") / f"sweep_{name}"
    with destination(args, out, "sweep", [args.scenario], resume=True) as dest:
        with phases(_("simulating")):
            result = sweep(args.scenario, params, overrides(args), args.replications,
                           args.seed, executor=executor, target=target,
                           progress=not args.quiet, store=PointDirectory(dest.path))
        with phases(_("writing")):
            write_sweep(result, dest.path)
    m = result.meta
    say(args, f"{name}: {m['points']} points ({m['computed']} computed, "
               f"{m['points'] - m['computed']} reused), {args.replications} replications each")
    say_answer(args, out)
    if m["unstable_points"]:
        listed = "; ".join(", ".join(f"{k} = {v}" for k, v in p.items())
                           for p in m["unstable_points"][:5])
        say(args, f"UNSTABLE at {len(m['unstable_points'])} of {m['points']} points ({listed}"
                   f"{' …' if len(m['unstable_points']) > 5 else ''}): their waits and queues "
                   "hold for this horizon only")
    say(args, _("results: %(path)s") % {"path": out})
    report(args, out, phases)
    say(args, phases.line())
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
    say(args, format_table(table))
    say(args, f"results: {args.out / 'validation.csv'}")
    return 0 if table["passed"].all() else 1


def cmd_report(args: argparse.Namespace) -> int:
    from gatesim.output.report import build_report

    built = build_report(args.results, args.out, args.include, lang=args.lang)
    say(args, _("report: %(path)s") % {"path": built})
    return 0


