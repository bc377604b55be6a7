"""Sweep files: one base scenario and many points (scenario variations), each run for the same
replications with the same seed; loaded and checked before anything runs.

A sweep file (YAML, see ``docs/sweeps.md`` and ``scenarios/sweeps/``)::

    name: managers-x-plan-engineers
    base: ../baseline.yaml                  # relative to the sweep file
    replications: 4                         # default: the base scenario's
    seed: 20210304                          # default: the base scenario's
    set: {horizon.arrival_days: 120}        # optional: applied to every point
    grid:                                   # full factorial of these values
      resources.customer_manager.capacity: [4, 6, 8]
      resources.plan_engineer.capacity: [3, 4, 5]
    points:                                 # and/or single points
      - {resources.customer_manager.capacity: 10, resources.plan_engineer.capacity: 6}
    labels: {resources.customer_manager.capacity: "Customer managers (people)"}
    figure: {kpi: on_target_share, segment: lv_smb}

The file's own shape is the pydantic model ``SweepFile``, checked like a scenario and with the
same errors (file, line, key path, what was found, what was expected, "did you mean"). Its keys
are the key paths of ``--set``: only existing keys of the base scenario, each checked at its own
line; then every point's scenario is validated, so a value the scenario schema refuses is named
with the point that holds it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, NoReturn

import pandas as pd  # type: ignore[import-untyped, unused-ignore]
from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    model_validator,
)

from sim.experiments.spec_files import KeyPathText, Places, PointsFile, PointsSpec, read_base, read_spec
from sim.kpi_catalogue import kpi_names
from sim.outputs.tables import code_digest
from sim.scenario.errors import KeyPath, LineMap, Location, ScenarioError, fail_at, suggest, validated
from sim.scenario.load import validate_scenario
from sim.scenario.overrides import OverrideError, apply_overrides, parse_key_path
from sim.scenario.resources import Strict
from sim.scenario.schema import Scenario

POINT_COLUMNS = ["sweep", "point", "point_id"]  # the values table's first columns
SWEEP = "a sweep"  # who sets the keys, as override errors name it


@dataclass
class SweepPoint:
    index: int
    overrides: dict[str, Any]  # the point's own values, by dotted key (grid and points)
    scenario: Scenario
    where: Location

    @property
    def id(self) -> str:
        """Number and digest of the point's scenario and of the code that runs it: a point is
        taken for done on resume only if neither changed."""
        digest = hashlib.sha256(f"{self.scenario.digest()}:{code_digest()}".encode()).hexdigest()
        return f"p{self.index:04d}-{digest[:12]}"

    @property
    def label(self) -> str:
        return _label(self.overrides)


@dataclass
class SweepSpec(PointsSpec):
    """A loaded, checked sweep: every point's scenario is validated."""

    parameters: list[str]  # parameter columns, in order: grid keys, then keys only points use
    points: list[SweepPoint]
    values: pd.DataFrame  # one row per point: point, point_id and the parameter columns
    labels: dict[str, str] = field(default_factory=dict)
    figures: list[dict] = field(default_factory=list)


# ------------------------------------------------------------------------ the sweep file's shape


def _show(value: Any) -> str:
    if isinstance(value, (str, dt.date)):
        return str(value)
    return json.dumps(value, default=str, ensure_ascii=False)


def _distinct(values: list[Any]) -> list[Any]:
    if len({_show(v) for v in values}) != len(values):
        raise ValueError("the list repeats a value")
    return values


def _one_or_many(value: Any) -> Any:
    """One figure may be written as a mapping rather than a list of one."""
    return ([value] if value else []) if isinstance(value, dict) else value


class FigureRequest(Strict):
    """A figure the sweep draws (``sim.outputs.sweep_figures.plot_sweep``)."""

    kpi: str = Field(description="the name of a KPI column")
    segment: str | None = Field(None, description="the name of a segment")
    x: str | None = Field(None, description="a parameter of the sweep")
    y: str | None = Field(None, description="a parameter of the sweep")
    kind: Literal["auto", "heatmap", "lines"] = "auto"
    title: str | None = Field(None, description="a line of text")
    file: str | None = Field(None, description="a file name")


OneFigure = Annotated[FigureRequest, Field(description="a mapping with kpi and segment")]
Values = Annotated[
    list[Any], Field(min_length=1, description="a non-empty list of values"), AfterValidator(_distinct)
]
Assignments = Annotated[
    dict[KeyPathText, Any], Field(min_length=1, description="a mapping of key paths to values")
]


class SweepFile(PointsFile):
    """What a sweep file may hold; its values are checked against the base scenario later."""

    kind: ClassVar[str] = "a sweep file"

    grid: dict[KeyPathText, Values] | None = Field(
        None, description="a mapping of key paths to lists of values"
    )
    points: list[Assignments] | None = Field(None, description="a list of mappings of key paths to values")
    labels: dict[KeyPathText, Annotated[str, Field(description="an axis label (text)")]] | None = Field(
        None, description="a mapping of key paths to axis labels (text)"
    )
    figure: Annotated[list[OneFigure], BeforeValidator(_one_or_many)] | None = Field(
        None, description="a mapping with kpi and segment, or a list of them"
    )

    @model_validator(mode="after")
    def _has_points(self) -> SweepFile:
        if not self.grid and not self.points:
            raise ValueError("a sweep needs 'grid' (key paths with lists of values) or 'points' or both")
        return self


# ---------------------------------------------------------------------------------- loading


def load_sweep(sweep: str | Path | Mapping, reps: int | None = None, seed: int | None = None) -> SweepSpec:
    """Read and check a sweep (a YAML file, or a mapping with the same keys whose ``base`` is a
    scenario path relative to the working folder or a ``Scenario``), and validate every point.
    ``reps`` and ``seed`` replace the file's. Raises ``ScenarioError`` on bad input."""
    data, lines, shown, folder = read_spec(sweep, kind=SweepFile.kind)
    at = Places(lines, shown)
    file = validated(SweepFile, data, lines, shown)
    base_data, base_lines, base_shown = read_base(file.base, folder, at)
    if reps is None:
        reps = file.replications or base_data.get("replications", 1)
    if seed is None:  # a missing or null seed in the sweep file: the base scenario's
        seed = file.seed if file.seed is not None else base_data.get("seed", 1)
    common = file.common or {}
    base_data = common_base(base_data, base_lines, int(seed), int(reps), common, at)
    grid, listed = file.grid or {}, file.points or []
    written: list[Written] = [(("grid", key), key, values[0]) for key, values in grid.items()]
    written += [(("points", i, key), key, v) for i, point in enumerate(listed) for key, v in point.items()]
    check_keys(base_data, base_lines, written, at)
    points = make_points(_variations(grid, listed, at), base_data, base_lines, base_shown, at)
    parameters = list(grid) + [k for k in dict.fromkeys(k for p in listed for k in p) if k not in grid]
    segments = list(points[0].scenario.segments)
    _check_names(file, isinstance(data.get("figure"), list), parameters, segments, at)

    spec = SweepSpec(
        name=file.name or (Path(shown).stem if shown != "<sweep>" else "sweep"),
        title=file.title,
        source=shown,
        base=base_shown,
        replications=int(reps),
        seed=int(seed),
        common=dict(common),
        parameters=parameters,
        points=points,
        values=pd.DataFrame(),
        labels=dict(file.labels or {}),
        figures=[f.model_dump(exclude_unset=True) for f in file.figure or []],
        data={k: (v if k != "base" or isinstance(v, str) else base_shown) for k, v in data.items()},
    )
    spec.values = values_table(spec, base_data)
    return spec


Written = tuple[KeyPath, str, Any]  # where the sweep file writes a key path, the key path, its value


def common_base(
    base_data: dict, base_lines: LineMap, seed: int, reps: int, common: dict[str, Any], at: Places
) -> dict:
    """The base with the spec's seed, replications and common overrides (its ``set``, each
    checked at its line): what every point varies. ``base_lines`` then places them in the spec."""
    base_data = {**base_data, "seed": seed, "replications": reps}
    check_keys(base_data, base_lines, [(("set", key), key, value) for key, value in common.items()], at)
    if common:
        base_data = apply_overrides(base_data, common, base_lines, origin=SWEEP)
        base_lines.update({parse_key_path(key): at(("set", key)) for key in common})
    return base_data


def check_keys(data: dict, lines: LineMap, keys: list[Written], at: Places, origin: str = SWEEP) -> None:
    """Each key path a spec file (a sweep file, a sensitivity file) writes at a place names an
    existing key of the base scenario and can take the value; a problem is reported at that place."""
    for place, key, value in keys:
        try:
            apply_overrides(data, {key: value}, dict(lines), origin=origin)
        except OverrideError as exc:
            at.fail(place, exc.problem)


# a point's overrides, where the sweep file defines the point, where each of its values was written
Variation = tuple[dict[str, Any], Location, dict[str, KeyPath]]


def _variations(grid: dict[str, list], listed: list[dict[str, Any]], at: Places) -> list[Variation]:
    """The grid's full factorial (the first key slowest), then the listed points."""
    out: list[Variation] = []
    if grid:
        for combo in itertools.product(*[list(enumerate(v)) for v in grid.values()]):
            overrides = {k: v for k, (_, v) in zip(grid, combo)}
            origins: dict[str, KeyPath] = {k: ("grid", k, i) for k, (i, _) in zip(grid, combo)}
            out.append((overrides, at(("grid",)), origins))
    for i, point in enumerate(listed):
        out.append((dict(point), at(("points", i)), {k: ("points", i, k) for k in point}))
    return out


def make_points(
    variations: list[Variation],
    base_data: dict,
    base_lines: LineMap,
    base_shown: str,
    at: Places,
    what: str = "sweep",
    refused: Callable[[int, dict[str, Any], ScenarioError], NoReturn] | None = None,
) -> list[SweepPoint]:
    """Every point's scenario, validated; a value the schema refuses is placed at the line of the
    spec file (a ``what`` file: sweep, sensitivity) that wrote it, or explained by ``refused``
    (the point's index, its overrides and the error)."""
    points: list[SweepPoint] = []
    seen: dict[str, int] = {}
    for index, (overrides, where, origins) in enumerate(variations):
        label = _label(overrides)
        point_lines = dict(base_lines)
        try:
            point_data = apply_overrides(base_data, overrides, point_lines, origin=f"a {what}")
        except OverrideError as exc:  # an earlier key of the point changed what a later one names
            fail_at(where, (), f"point {index} ({label}): {exc.key}: {exc.problem}")
        point_lines.update({parse_key_path(k): at(origin) for k, origin in origins.items()})
        try:
            scenario = validate_scenario(point_data, point_lines, source=base_shown)
        except ScenarioError as exc:
            if refused is not None:
                refused(index, overrides, exc)
            raise ScenarioError(f"{exc} ({what} point {index}: {label})") from None
        same = json.dumps(overrides, sort_keys=True, default=str)
        if same in seen:
            fail_at(where, (), f"point {index} ({label}) repeats point {seen[same]}")
        seen[same] = index
        points.append(SweepPoint(index, overrides, scenario, where))
    return points


def _check_names(
    file: SweepFile, figure_list: bool, parameters: list[str], segments: list[str], at: Places
) -> None:
    """The parameters that labels and figures name, and the KPIs and segments figures name, exist."""

    def need_parameter(key: str, path: KeyPath) -> None:
        if key not in parameters:
            at.fail(
                path,
                f"'{key}' is not a parameter of this sweep{suggest(key, parameters)}; "
                f"expected one of {', '.join(parameters)}",
            )

    for key in file.labels or {}:
        need_parameter(key, ("labels", key))
    kpis = kpi_names("kpis")
    for i, figure in enumerate(file.figure or []):
        path: KeyPath = ("figure", i) if figure_list else ("figure",)
        if figure.kpi not in kpis:
            at.fail(
                (*path, "kpi"),
                f"no KPI '{figure.kpi}'{suggest(figure.kpi, kpis)}; the KPIs are the columns of the "
                "kpis table (docs/model.md, e.g. on_target_share, handling_wd_mean)",
            )
        if figure.segment is not None and figure.segment not in segments:
            at.fail(
                (*path, "segment"),
                f"no segment '{figure.segment}'{suggest(figure.segment, segments)}; "
                f"expected one of {', '.join(segments)}",
            )
        for axis, name in (("x", figure.x), ("y", figure.y)):
            if name is not None:
                need_parameter(name, (*path, axis))


# ------------------------------------------------------------------------------ values table


def _label(overrides: Mapping) -> str:
    """A point as people read it: ``key=value, key=value``."""
    return ", ".join(f"{k}={_show(v)}" for k, v in overrides.items()) or "(base)"


def value_at(data: Any, key: str) -> Any:
    node = data
    for part in parse_key_path(key):
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def _column(values: list) -> pd.Series:
    """One parameter column with one type: booleans, whole numbers, numbers, else text."""
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return pd.Series(values, dtype="boolean")
    if (
        present
        and all(isinstance(v, int) and not isinstance(v, bool) for v in present)
        and len(present) == len(values)
    ):
        return pd.Series(values, dtype="int64")
    if present and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        return pd.Series([math.nan if v is None else float(v) for v in values], dtype="float64")
    return pd.Series([None if v is None else _show(v) for v in values], dtype="string")


def values_table(spec: SweepSpec, base_data: dict) -> pd.DataFrame:
    sweep, point, point_id = POINT_COLUMNS
    table = pd.DataFrame(
        {
            sweep: pd.Series([spec.name] * len(spec.points), dtype="string"),
            point: pd.Series([p.index for p in spec.points], dtype="int64"),
            point_id: pd.Series([p.id for p in spec.points], dtype="string"),
        }
    )
    for key in spec.parameters:
        values = [p.overrides.get(key, value_at(base_data, key)) for p in spec.points]
        table[key] = _column([v.isoformat() if isinstance(v, dt.date) else v for v in values])
    return table
