"""The analyses over many runs of a scenario: sensitivity and calibration."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gatesim.cli.support import (
    Phases,
    check_options,
    checkpoint_for,
    destination,
    executor_for,
    overrides,
    report,
    say,
)
from gatesim.errors import GatesimError
from gatesim.i18n import _


def cmd_sensitivity(args: argparse.Namespace) -> int:
    """One-at-a-time sensitivity (or Morris screening); --no-report skips the chart."""
    from gatesim.experiments import screening, sensitivity
    from gatesim.output import writer

    check_options(args)
    if args.method == "morris":
        sp = screening.prepare_morris(args.scenarios, args.metric, args.replications,
                                      args.trajectories, args.levels, args.seed, args.only,
                                      overrides(args))
        return _one_at_a_time_or_morris(args, "screening", sp.plan, sp, screening.morris,
                                        screening.summary_text, writer.write_screening)
    plan = sensitivity.prepare(args.scenarios, args.metric, args.replications, args.only,
                               overrides(args))
    return _one_at_a_time_or_morris(args, "sensitivity", plan, plan, sensitivity.sensitivity,
                                    sensitivity.summary_text, writer.write_sensitivity)


def _one_at_a_time_or_morris(args: argparse.Namespace, kind: str, plan: Any, prepared: Any,
                             analyse: Callable[..., Any], text: Callable[..., str],
                             write: Callable[..., Any]) -> int:
    """Run a prepared sensitivity or screening plan, write it, say its answer."""
    from gatesim.experiments.guard import check_work
    from gatesim.output.reader import metric_label

    phases = Phases()
    check_work(list(plan.points.values()), args.replications, args.allow_large)
    executor = executor_for(args)
    out = args.out or Path("results") / (f"{kind}_" + "_vs_".join(plan.names))
    with destination(args, out, kind, list(args.scenarios)) as dest:
        kept = []

        def checkpoint(s):  # each point's finished replications, kept until written
            kept.append(checkpoint_for(args, s, dest.path, "none"))
            return kept[-1]

        with phases(_("simulating")):
            result = analyse(args.scenarios, seed=args.seed, executor=executor, plan=prepared,
                             progress=not args.quiet, checkpoints=checkpoint)
        with phases(_("writing")):
            write(result, dest.path, plots=not args.no_report)
        for cp in kept:
            cp.clear()
    m = plan.metric
    say(args, text(result, metric_label(m.metric, m.stat, m.scope)))
    say(args, _("results: %(path)s") % {"path": out})
    report(args, out, phases)
    say(args, phases.line())
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Fit the targets file's parameters; calibration.csv, the variant file, the profiles."""
    from gatesim.experiments.calibrate import calibrate, prepare, summary_text
    from gatesim.experiments.checkpoint import MeasureStore
    from gatesim.experiments.guard import check_work
    from gatesim.output.calibration import write_calibration

    check_options(args)
    phases = Phases()
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
        with phases(_("simulating")):
            result = calibrate(args.scenario, args.targets, seed=args.seed, plan=plan,
                               executor=executor_for(args), budget=args.budget,
                               profile_points=args.profile_points, progress=not args.quiet,
                               store=store)
        with phases(_("writing")):
            write_calibration(result, dest.path, plots=not args.no_report)
        store.clear()
    say(args, summary_text(result))
    say(args, _("results: %(path)s") % {"path": out})
    report(args, out, phases)
    say(args, phases.line())
    return 0
