"""What spec files share: a sweep, sensitivity or staffing file names a base scenario and writes
key paths of it; each starts with the same head (``SpecFile``: name, title, description, base,
seed, set; ``PointsFile`` adds the replications of every point of a sweep or sensitivity file),
is read with its line map, its base loaded with its ``extends`` chain,
and its errors placed at the line that wrote the key (``Places``)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, ClassVar, NoReturn

from pydantic import Field, InstanceOf

from sim.scenario.errors import KeyPath, LineMap, Location, fail_at, locate
from sim.scenario.files import display_path, read_yaml
from sim.scenario.overlays import resolve_extends
from sim.scenario.resources import Strict
from sim.scenario.schema import Scenario

KeyPathText = Annotated[str, Field(description="a key path such as resources.inspector.capacity")]
WholeNumber = Annotated[int, Field(strict=True, ge=0)]


class SpecFile(Strict):
    """The head of every spec file: what it is called, its base scenario, the seed of its runs and
    the keys ``set`` in the base for all of them. A kind of spec file says
    what it is (``kind``, e.g. "a sweep file"): the description of ``base`` names it."""

    kind: ClassVar[str] = "a spec file"

    name: Annotated[str, Field(min_length=1)] | None = Field(None, description="a name")
    title: str = Field("", description="a line of text")
    description: str | None = Field(None, description="text")
    base: Annotated[str, Field(min_length=1)] | InstanceOf[Scenario] = Field(
        description="the path of the base scenario, relative to the spec file"
    )
    seed: WholeNumber | None = Field(None, description="a whole number of at least 0")
    common: dict[KeyPathText, Any] | None = Field(
        None, alias="set", description="a mapping of key paths to values"
    )

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        """``base`` is relative to this kind of file (its description only: errors show it)."""
        super().__pydantic_init_subclass__(**kwargs)
        info = cls.__pydantic_fields__["base"]
        relative = f"the path of the base scenario, relative to {cls.kind.replace('a ', 'the ', 1)}"
        cls.__pydantic_fields__["base"] = type(info).merge_field_infos(info, description=relative)


class PointsFile(SpecFile):
    """The head of a spec file whose points each run the same number of replications (a sweep
    file, a sensitivity file)."""

    replications: Annotated[WholeNumber, Field(ge=1)] | None = Field(
        None, description="a whole number of at least 1"
    )


@dataclass(kw_only=True)
class PointsSpec:
    """What a loaded sweep or sensitivity file says of its runs, as its manifest shows it."""

    name: str
    title: str
    source: str  # the file as shown to the user, or "<memory>"
    base: str  # the base scenario's file
    replications: int
    seed: int
    common: dict[str, Any]
    data: dict = field(default_factory=dict)  # the file's content, for the manifest


def points_manifest(kind: str, spec: PointsSpec, resume: bool, command: list[str] | None, **own: Any) -> dict:
    """The manifest of a sweep or sensitivity run (``kind``): what it is (``result``), its file,
    base, replications, seed and ``set``, what is ``own`` to the kind, whether it resumed, the
    file's content under ``kind`` and the command line that ran it."""
    content = {
        "result": [kind, spec.name],
        "kind": kind,
        f"{kind}_file": spec.source,
        "title": spec.title,
        "base_scenario": spec.base,
        "replications": spec.replications,
        "seed": spec.seed,
        "set": spec.common,
        **own,
        "resume": resume,
        kind: spec.data,
    }
    return content if command is None else {**content, "command": command}


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
