"""What every command shares: options checked, executor_for, destination, checkpoints, output."""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from gatesim.errors import GatesimError
from gatesim.i18n import _, number


def overrides(args: argparse.Namespace) -> list[str]:
    extra = [f"clock.horizon_days={args.days}"] if args.days is not None else []
    return [*args.overrides, *extra]


def check_options(args: argparse.Namespace) -> None:
    """Refuse bad numeric options before anything is loaded or run."""
    from gatesim.experiments.guard import check_replications

    if not 0 <= args.seed < 2**63:
        raise GatesimError(f"--seed: got {args.seed}; expected a whole number from 0 to "
                           "2**63 - 1 (the root of every random stream)")
    check_replications(args.replications, args.allow_large)
    if args.workers < 1:
        raise GatesimError(f"--workers: got {args.workers}; expected at least 1")


def executor_for(args: argparse.Namespace):
    from gatesim.experiments.executors import make_executor

    return make_executor(args.executor, args.workers, args.scheduler)


def say(args: argparse.Namespace, text: str) -> None:
    if not args.quiet:
        print(text)


def say_answer(args: argparse.Namespace, out: Path) -> None:
    """The answer of a run or comparison in sentences, the words of the report's summary."""
    if args.quiet:
        return
    from gatesim.output.report import answer_lines

    for line in answer_lines(out, args.lang):
        print(line)


class Phases:
    """Wall time per phase of a command (simulate, write, report) for its last line."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.spent: dict[str, float] = {}

    @contextlib.contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.spent[name] = self.spent.get(name, 0.0) + time.perf_counter() - t0

    def line(self) -> str:
        """'done in 64 s: simulating 48 s, writing 9 s, report 7 s'."""
        parts = ", ".join(f"{name} {_seconds(s)}" for name, s in self.spent.items())
        total = _seconds(time.perf_counter() - self.start)
        return _("done in %(total)s: %(parts)s") % {"total": total, "parts": parts}


def _seconds(s: float) -> str:
    return f"{number(s, 1 if s < 10 else 0)} s"


def report(args: argparse.Namespace, out: Path, phases: Phases | None = None) -> None:
    """The report at the end of every command that writes results (unless --no-report)."""
    if args.no_report:
        return
    from gatesim.output.report import build_report

    try:
        with phases(_("report")) if phases else contextlib.nullcontext():
            built = build_report(out, lang=args.lang)
        say(args, _("report: %(path)s") % {"path": built})
    except KeyboardInterrupt:
        print(f"gatesim: interrupted while building the report; the results in {out} are "
              f"complete: `gatesim report {out}` builds it again", file=sys.stderr)
        raise SystemExit(130) from None


def destination(args: argparse.Namespace, out: Path, kind: str, inputs: list[Path],
                 resume: bool = False):
    from gatesim.output.destination import Destination

    return Destination(out, kind, args.force, inputs, resume)


def records_for(args: argparse.Namespace, scenarios: list) -> str:
    """Refuse absurd work for every scenario; the records mode that fits in memory."""
    from gatesim.experiments.guard import check_work, records_mode

    trucks = check_work(scenarios, args.replications, args.allow_large)
    records = getattr(args, "records", "all")
    if not args.allow_large:
        records, note = records_mode(records, trucks)
        if note:
            say(args, f"note: {note}")
    return records


def checkpoint_for(args: argparse.Namespace, scenario, out: Path, records: str):
    from gatesim.experiments.checkpoint import Checkpoint, checkpoint_key

    doc = scenario.model_dump(mode="json", by_alias=True)
    cp = Checkpoint(out, checkpoint_key(doc, args.seed, records))
    if cp.done():
        say(args, f"resuming: {cp.done()} finished replications kept from an interrupted run")
    return cp


