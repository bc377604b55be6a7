"""What every verb of the command line shares: argument types, the one-line usage error, the
progress bar and the way numbers are printed."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import pandas as pd


class UsageError(Exception):
    """Bad command-line input (exit status 2)."""


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and exit status 2, as every other input error."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message} (see --help)")


def _whole_number(text: str, minimum: int, expected: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, found {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"expected {expected}, found {value}")
    return value


def positive_int(text: str) -> int:
    return _whole_number(text, 1, "a number of at least 1")


def seed(text: str) -> int:
    return _whole_number(text, 0, "a seed of 0 or more")


def add_set(parser: argparse.ArgumentParser, help_text: str) -> None:
    """The repeatable ``--set KEY=VALUE`` option (scenario overrides)."""
    parser.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help=help_text
    )


def add_executor(parser: argparse.ArgumentParser, what: str) -> None:
    """``--jobs N`` or ``--scheduler ADDRESS``, one or the other: where ``what`` runs."""
    on = parser.add_mutually_exclusive_group()
    on.add_argument("--jobs", type=positive_int, help="worker processes (default: all cores)")
    on.add_argument("--scheduler", metavar="tcp://HOST:PORT", help=f"run {what} on a Dask cluster")


def add_debug(parser: argparse.ArgumentParser) -> None:
    """``--debug`` after the verb as well as before it (where ``--help`` lists it)."""
    parser.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)


def progress_bar(total: int, label: str, unit: str = "rep") -> Any:
    """A tqdm bar on a terminal; None when stderr is not a TTY (logs and tests stay quiet)."""
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=label, unit=unit, file=sys.stderr)


def ticker(bar: Any) -> Callable[[int], None] | None:
    """The progress callback of the library (called with the replications just finished)."""
    return bar.update if bar is not None else None


def fmt(value: Any, hw: Any = None, digits: int = 1) -> str:
    """A number with its ± half-width, or – when missing."""
    if value is None or pd.isna(value):
        return "–"
    text = f"{value:.{digits}f}"
    if hw is not None and not pd.isna(hw):
        text += f" ±{hw:.{digits}f}"
    return text


def output_folder(path: Path) -> Path:
    """``path`` if a run can write its results there: checked before anything runs, so that a long
    run does not end in a folder it cannot write (a usage error, exit 2, otherwise)."""
    if path.exists() and not path.is_dir():
        raise UsageError(f"--out {path}: is a file, not a folder; give a folder (it is created if missing)")
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise UsageError(
            f"--out {path}: {existing} is a file, so the folder cannot be made; give another folder"
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"--out {path}: {existing} is not writable; give a folder you can write")
    return path


def plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")
