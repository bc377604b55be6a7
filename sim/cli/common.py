"""What every verb of the command line shares: argument types, the one-line usage error, the
progress bar and the way numbers are printed."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, NoReturn

import pandas as pd

from sim.outputs.publish import FolderBusy, lock, owner, unlock


class UsageError(Exception):
    """Bad command-line input (exit status 2)."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C, with what was kept and how to go on (the message); the command line prints it once,
    after ``interrupted: ``."""


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


def executor_place(how: dict) -> str:
    """Where the replications run, from ``Executor.describe()``: ``on 2 processes``."""
    if how["executor"] == "dask":
        return f"on the Dask cluster at {how['scheduler']} ({how['workers']} worker threads)"
    if how["executor"] == "processes":
        return f"on {how['workers']} processes"
    return "serially"


def add_debug(parser: argparse.ArgumentParser) -> None:
    """``--debug`` after the verb as well as before it (where ``--help`` lists it)."""
    parser.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)


def progress_bar(total: int, label: str, unit: str = "rep") -> Any:
    """A tqdm bar on a terminal; elsewhere (a log, a pipe, a batch job) a ``ProgressLines`` that
    writes one line per step finished, so that a long run is never silent."""
    if not sys.stderr.isatty():
        return ProgressLines(total, label, unit)
    from tqdm import tqdm

    return tqdm(total=total, desc=label, unit=unit, file=sys.stderr)


class ProgressLines:
    """Progress as lines on stderr, one per update: ``compare: 3/20 reps done, 12.4 s``. It has
    the part of tqdm's interface the verbs use (``n``, ``update``, ``set_postfix``, ``close``)."""

    def __init__(self, total: int, label: str, unit: str, clock: Callable[[], float] = time.monotonic):
        self.total, self.label, self.unit, self.n = total, label, unit, 0
        self._clock, self._start, self._postfix = clock, clock(), ""

    def update(self, done: int = 1) -> None:
        if done <= 0:
            return
        self.n += done
        units = self.unit if self.total == 1 else f"{self.unit}s"
        elapsed = self._clock() - self._start
        print(
            f"{self.label}: {self.n}/{self.total} {units} done, {elapsed:.1f} s{self._postfix}",
            file=sys.stderr,
            flush=True,
        )

    def set_postfix(self, **values: Any) -> None:
        self._postfix = "".join(f", {k} {v}" for k, v in values.items())

    def close(self) -> None:
        """Nothing to clear: every line is already out."""


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


_HELD: list[tuple[IO[str], Path]] = []  # the result folders this command has locked


def output_folder(path: Path, result: tuple[str, str], force: bool = False, in_place: bool = False) -> Path:
    """``path`` if this command can write its results there, locked for it until it ends
    (``sim.outputs.publish``). Checked before anything runs, so that a long run does not end in a
    folder it cannot write: a file, an unwritable place, a folder another run is writing, a
    folder holding anything but this tool's results, or the results of another ``result`` (verb,
    name) unless ``force`` (then replaced; ``in_place`` writers remove them now) are usage errors."""
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
    try:
        _HELD.append((lock(path), path))
    except FolderBusy as exc:
        raise UsageError(f"--out {path}: {exc}") from None
    if path.is_dir() and any(path.iterdir()):
        held = owner(path)
        if held is None:
            raise UsageError(
                f"--out {path}: holds files that are not results of this tool (no manifest.json); "
                "give a new or empty folder, so that nothing in it is replaced"
            )
        if tuple(held) != tuple(result):
            if not force:
                raise UsageError(
                    f"--out {path}: holds the results of '{held[0]} {held[1]}'; give another folder, "
                    "or add --force to replace them"
                )
            if in_place:
                shutil.rmtree(path)
    return path


def release_folders() -> None:
    """Unlock the result folders this command locked (the system would at exit anyway)."""
    while _HELD:
        handle, path = _HELD.pop()
        unlock(handle, path)


def add_force(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--force", action="store_true", help="replace the results of another run in --out (never other files)"
    )


def plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")
