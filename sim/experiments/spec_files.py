"""What spec files share: a sweep file and a staffing file each name a base scenario and write
key paths of it; both are read with their line map, their base loaded with its ``extends`` chain,
and their errors placed at the line that wrote the key (``Places``)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from sim.scenario.errors import KeyPath, LineMap, Location, fail_at, locate
from sim.scenario.files import display_path, read_yaml
from sim.scenario.overlays import resolve_extends
from sim.scenario.schema import Scenario


@dataclass(frozen=True)
class Places:
    """Where a spec file (a sweep file, a staffing file) wrote each key path, and errors placed
    there."""

    lines: LineMap
    shown: str

    def __call__(self, path: KeyPath) -> Location:
        return locate(path, self.lines, self.shown)

    def fail(self, path: KeyPath, problem: str) -> NoReturn:
        fail_at(self(path), path, problem)


def read_spec(
    spec: str | Path | Mapping, kind: str = "a sweep file", unnamed: str = "<sweep>"
) -> tuple[dict, LineMap, str, Path]:
    """A spec's data (a file of ``kind``, or a mapping shown as ``unnamed``), its line map, its
    name as shown, and the folder its paths start from (the working folder for a mapping)."""
    if isinstance(spec, Mapping):
        return copy.deepcopy(dict(spec)), {}, unnamed, Path.cwd()
    path = Path(spec)
    shown = display_path(path)
    data, lines = read_yaml(path, shown, kind=kind)
    return data, lines, shown, path.parent


def read_base(base: str | Scenario, folder: Path, at: Places) -> tuple[dict, LineMap, str]:
    """The base scenario's data (its ``extends`` chain merged), its line map and its file; a path
    is relative to ``folder``, a missing file is reported at the spec's ``base``."""
    if isinstance(base, Scenario):
        return base.model_dump(mode="json", by_alias=True), {}, base.source
    path = Path(base) if Path(base).is_absolute() else folder / base
    if not path.is_file():
        at.fail(("base",), f"base scenario {display_path(path)} does not exist")
    shown = display_path(path)
    data, lines = resolve_extends(path, shown)
    return data, lines, shown
