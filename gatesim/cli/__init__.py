"""Command line: argument parsing and exit codes only; the work is in the Python API."""

from __future__ import annotations

import signal
import sys
from collections.abc import Sequence

from gatesim import i18n, interrupts
from gatesim.cli.analysis import cmd_calibrate, cmd_sensitivity
from gatesim.cli.commands import cmd_compare, cmd_report, cmd_run, cmd_sweep, cmd_validate
from gatesim.cli.parser import parser
from gatesim.errors import GatesimError, Interrupted

__all__ = ["main", "parser"]

COMMANDS = {"run": cmd_run, "compare": cmd_compare, "sweep": cmd_sweep,
            "sensitivity": cmd_sensitivity, "calibrate": cmd_calibrate, "validate": cmd_validate,
            "report": cmd_report}


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM in the main process: stop like Ctrl-C does (exit 143). Worker processes
    replace this handler with the default one (executors.py): they end quietly."""
    raise Interrupted()


def main(argv: Sequence[str] | None = None) -> int:
    """The console entry point: exit status 0, 1 (a run failed), 2 (bad input), 130 (Ctrl-C)
    or 143 (SIGTERM), with one line on stderr, never a traceback; a Ctrl-C is caught wherever
    it lands, from parsing the arguments and importing the libraries to the last line."""
    stopped = ("gatesim: interrupted; nothing was written as finished results; finished "
               "replications, sweep points and calibration candidates are kept, so the same "
               "command resumes")
    try:
        previous = signal.signal(signal.SIGTERM, _terminate)
    except ValueError:  # not the main thread: SIGTERM keeps its handler
        previous = None
    try:
        with interrupts.watched():
            try:
                args = parser().parse_args(argv)
                with i18n.using(args.lang):
                    return COMMANDS[args.command](args)
            except Exception as exc:
                if interrupts.noted():  # e.g. a C extension's init turned it into ImportError
                    code = 130
                elif isinstance(exc, GatesimError):
                    print(f"gatesim: error: {exc}", file=sys.stderr)
                    return exc.exit_code
                else:
                    raise
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


