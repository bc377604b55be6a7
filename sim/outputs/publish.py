"""Result folders written as one: a lock so that one run at a time writes a folder, and staging so
that a folder is either the earlier complete results or the new complete ones, never a mix.

- ``lock(out)`` takes ``.NAME.lock`` beside the folder (``flock``: the system releases it when the
  process ends, however it ends); a second run into the same folder is refused at once.
- ``staged(out)`` gives a hidden sibling ``.NAME.partial-PID`` to write into, and only when every
  file is written puts it in place of ``out`` (two renames; the earlier folder is then removed). A
  run killed while writing leaves the earlier folder as it was, and a ``.partial`` folder that the
  next run into ``out`` removes.
- ``owner(out)`` reads which run wrote a folder (its ``manifest.json``), so that the command line
  replaces a folder only with results of the same verb and name, unless told to (``--force``).

Sweeps and staffing searches write their points in place, to resume after an interruption: they
take the lock, and their manifest says ``running`` until they are done.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import IO


class FolderBusy(Exception):
    """Another process is writing the folder."""


def lock(out: Path) -> IO[str]:
    """Take the lock of the result folder ``out`` (held until the returned file is closed, or the
    process ends); ``FolderBusy`` if another process holds it."""
    out.parent.mkdir(parents=True, exist_ok=True)
    handle = open(out.parent / f".{out.name}.lock", "a+", encoding="utf-8")  # noqa: SIM115
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise FolderBusy(
            f"another run ({holder}) is writing it; wait for it to end or give another --out"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()}")
    handle.flush()
    return handle


def unlock(handle: IO[str], out: Path) -> None:
    with contextlib.suppress(OSError):
        (out.parent / f".{out.name}.lock").unlink()
    handle.close()


@contextlib.contextmanager
def staged(out: Path) -> Iterator[Path]:
    """A hidden folder beside ``out`` to write a complete result set into; on success it takes
    the place of ``out`` (whose earlier content is removed), on failure it is removed."""
    for stale in out.parent.glob(f".{out.name}.partial-*"):  # left by a run that was killed
        shutil.rmtree(stale, ignore_errors=True)
    tmp = out.parent / f".{out.name}.partial-{os.getpid()}"
    tmp.mkdir(parents=True)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if out.exists():
        old = out.parent / f".{out.name}.old-{os.getpid()}"
        os.rename(out, old)
        os.rename(tmp, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(tmp, out)


def owner(out: Path) -> tuple[str, str] | None:
    """Which results a folder holds, as (verb, name), from its manifest; None if it has none."""
    try:
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if isinstance(manifest.get("result"), list) and len(manifest["result"]) == 2:
        return (str(manifest["result"][0]), str(manifest["result"][1]))
    if "scenario_name" in manifest:  # manifests written before "result"
        return ("run", str(manifest["scenario_name"]))
    if "reference" in manifest:
        return ("compare", str(manifest["reference"]))
    if manifest.get("kind") == "sweep":
        return ("sweep", str(manifest.get("sweep_name")))
    return ("?", str(manifest.get("name", "?")))
