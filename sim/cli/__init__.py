"""The command line: ``python run_sim.py VERB ...`` (also ``python -m sim`` and ``run-sim``).

One module per verb (``run``, ``compare``, ``sweep``, ``sensitivity``, ``optimise``, ``check``,
``validate``, ``fit``), each with its ``add_parser`` and its ``command``: parse, call the library,
print. Exit status: 0 done; 1 a check found drift, a sweep or sensitivity point failed or no staffing
meets the targets; 2 bad input (usage, scenario, sweep, sensitivity, staffing or baseline file, a
file that is not an event log),
reported as one line on stderr without a traceback (``--debug`` shows it).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import traceback
from collections.abc import Callable

from sim.cli import check, compare, fit, optimise, run, sensitivity, sweep, validate
from sim.cli.common import Interrupted, Parser, UsageError, release_folders
from sim.engine.calendar import CalendarError
from sim.evidence.log_reading import LogError
from sim.experiments.baseline_file import BaselineError
from sim.scenario import ScenarioError

__all__ = ["build_parser", "console_main", "main"]

VERBS = {
    "run": run,
    "compare": compare,
    "check": check,
    "sweep": sweep,
    "sensitivity": sensitivity,
    "optimise": optimise,
    "validate": validate,
    "fit": fit,
}
COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {name: m.command for name, m in VERBS.items()}


def build_parser(prog: str = "run_sim.py") -> argparse.ArgumentParser:
    parser = Parser(prog=prog, description="Simulate the electricity-connection process.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", parser_class=Parser)
    verbs.required = True
    for module in VERBS.values():
        module.add_parser(verbs)
    return parser


def main(argv: list[str] | None = None, prog: str = "run_sim.py") -> int:
    argv = sys.argv[1:] if argv is None else argv
    debug = "--debug" in argv
    try:
        args = build_parser(prog).parse_args(argv)
        return COMMANDS[args.verb](args)
    except (ScenarioError, CalendarError, UsageError, BaselineError, LogError) as exc:
        if debug:
            traceback.print_exc()
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:  # said once, with what was kept when the verb says it
        print(f"interrupted: {exc}" if isinstance(exc, Interrupted) else "interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader of the output went away (``| head``): stop quietly
        with contextlib.suppress(AttributeError, ValueError, OSError):  # a stdout without a file
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # exit's flush would fail
        return 141
    finally:
        release_folders()


def console_main() -> int:
    """Entry point of the ``run-sim`` console script."""
    return main(prog="run-sim")
