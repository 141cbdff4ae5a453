"""The analyses over many runs of a scenario: sensitivity and calibration."""

from __future__ import annotations

import argparse
from pathlib import Path

from gatesim.cli.support import (
    check_options,
    checkpoint_for,
    destination,
    executor_for,
    overrides,
    report,
    say,
)
from gatesim.errors import GatesimError


def cmd_sensitivity(args: argparse.Namespace) -> int:
    """One-at-a-time sensitivity (or Morris screening); --no-report skips the chart."""
    if args.method == "morris":
        return cmd_screening(args)
    from gatesim.experiments.guard import check_work
    from gatesim.experiments.sensitivity import prepare, sensitivity, summary_text
    from gatesim.output.reader import metric_label
    from gatesim.output.writer import write_sensitivity

    check_options(args)
    plan = prepare(args.scenarios, args.metric, args.replications, args.only, overrides(args))
    check_work(list(plan.points.values()), args.replications, args.allow_large)
    executor = executor_for(args)
    out = args.out or Path("results") / ("sensitivity_" + "_vs_".join(plan.names))
    with destination(args, out, "sensitivity", list(args.scenarios)) as dest:
        kept = []

        def checkpoint(s):  # each point's finished replications, kept until written
            kept.append(checkpoint_for(args, s, dest.path, "none"))
            return kept[-1]

        result = sensitivity(args.scenarios, seed=args.seed, executor=executor, plan=plan,
                             progress=not args.quiet, checkpoints=checkpoint)
        write_sensitivity(result, dest.path, plots=not args.no_report)
        for cp in kept:
            cp.clear()
    m = plan.metric
    say(args, summary_text(result, metric_label(m.metric, m.stat, m.scope)))
    say(args, f"results: {out}")
    report(args, out)
    return 0




def cmd_screening(args: argparse.Namespace) -> int:
    """Morris screening: elementary effects of every range at once (SALib)."""
    from gatesim.experiments.guard import check_work
    from gatesim.experiments.screening import morris, prepare_morris, summary_text
    from gatesim.output.reader import metric_label
    from gatesim.output.writer import write_screening

    check_options(args)
    sp = prepare_morris(args.scenarios, args.metric, args.replications, args.trajectories,
                        args.levels, args.seed, args.only, overrides(args))
    check_work(list(sp.plan.points.values()), args.replications, args.allow_large)
    out = args.out or Path("results") / ("screening_" + "_vs_".join(sp.plan.names))
    with destination(args, out, "screening", list(args.scenarios)) as dest:
        kept = []

        def checkpoint(s):  # each point's finished replications, kept until written
            kept.append(checkpoint_for(args, s, dest.path, "none"))
            return kept[-1]

        result = morris(args.scenarios, seed=args.seed, executor=executor_for(args), plan=sp,
                        progress=not args.quiet, checkpoints=checkpoint)
        write_screening(result, dest.path, plots=not args.no_report)
        for cp in kept:
            cp.clear()
    m = sp.plan.metric
    say(args, summary_text(result, metric_label(m.metric, m.stat, m.scope)))
    say(args, f"results: {out}")
    report(args, out)
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Fit the targets file's parameters; calibration.csv, the variant file, the profiles."""
    from gatesim.experiments.calibrate import calibrate, prepare, summary_text
    from gatesim.experiments.checkpoint import MeasureStore
    from gatesim.experiments.guard import check_work
    from gatesim.output.calibration import write_calibration

    check_options(args)
    if args.budget is not None and args.budget < 1:
        raise GatesimError(f"--budget: got {args.budget}; expected at least 1 candidate")
    plan = prepare(args.scenario, args.targets, args.replications, overrides(args))
    check_work([g.source.scenario for g in plan.groups], args.replications, args.allow_large)
    out = args.out or Path("results") / f"calibration_{plan.source.scenario.name}"
    with destination(args, out, "calibration", [args.scenario, args.targets]) as dest:
        store = MeasureStore(dest.path)
        if store.done():
            say(args, f"resuming: {store.done()} measured candidates kept from an "
                      "interrupted calibration")
        result = calibrate(args.scenario, args.targets, seed=args.seed, plan=plan,
                           executor=executor_for(args), budget=args.budget,
                           profile_points=args.profile_points, progress=not args.quiet,
                           store=store)
        write_calibration(result, dest.path, plots=not args.no_report)
        store.clear()
    say(args, summary_text(result))
    say(args, f"results: {out}")
    report(args, out)
    return 0
