"""Writing results: tables as Parquet (default) or CSV, and ``manifest.json``.

Every file is written to a temporary name in the output folder and renamed into place, so a run
that fails or is interrupted never leaves a half-written table, and files it does not produce are
left alone.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
import sys
import tempfile
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

FORMATS = ("parquet", "csv")
_PACKAGES = ("simpy", "numpy", "scipy", "pandas", "pyarrow", "pydantic", "holidays", "pyyaml")


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


def atomic_write(path: Path, write: Callable[[str], object]) -> None:
    """Write ``path`` through ``write(temporary_name)`` and rename the result into place: the file
    is complete or absent, never half-written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes files private; results are for sharing
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_figure(fig: Any, path: Path, dpi: int = 120) -> Path:
    """Write a matplotlib figure as PNG, whole or not at all, and let it go."""
    import matplotlib.pyplot as plt

    try:
        atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=dpi, format="png"))
    finally:
        plt.close(fig)
    return path


def write_table(frame: pd.DataFrame, folder: Path, name: str, fmt: str = "parquet") -> Path:
    """Write ``frame`` as ``folder/name.parquet`` or ``.csv``; returns the path."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    path = Path(folder) / f"{name}.{fmt}"
    if fmt == "parquet":
        atomic_write(path, lambda tmp: frame.to_parquet(tmp, index=False))
    else:
        atomic_write(path, lambda tmp: frame.to_csv(tmp, index=False))
    return path


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write a text file (a report, a log) atomically."""
    path = Path(path)
    atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    return path


def read_table(path: str | os.PathLike) -> pd.DataFrame:
    path = Path(path)
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)


@functools.lru_cache(maxsize=1)
def code_digest() -> str:
    """SHA-256 of the package's own source files and data (the KPI catalogue's CSV decides which
    columns are KPIs): it changes with any change of the model, even one that keeps the version
    number (results computed by other code are not reused)."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parents[1]
    for path in sorted([*package.rglob("*.py"), *package.rglob("*.csv")]):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "code_digest": code_digest()[:16]}
    for name in ("connection-sim", *_PACKAGES):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def write_manifest(folder: Path, content: dict) -> Path:
    """``manifest.json``: what was run (resolved scenario, digest, seed), with what, and the files."""
    body = {"command": sys.argv, "versions": versions(), **content}
    path = Path(folder) / "manifest.json"

    def write(tmp):
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(body, fh, indent=2, ensure_ascii=False, default=str)
            fh.write("\n")

    atomic_write(path, write)
    return path
