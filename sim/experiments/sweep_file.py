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

Keys are the dotted key paths of ``--set``: only existing keys, with values checked by the
scenario's schema. Every point is loaded and validated before anything runs; a bad sweep file
stops with an error naming the file, the line, the key path and what was expected.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import itertools
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim.outputs.tables import code_digest
from sim.scenario.errors import Location, ScenarioError, fail_at, locate, suggest
from sim.scenario.files import display_path, read_yaml
from sim.scenario.load import validate_scenario
from sim.scenario.overlays import resolve_extends
from sim.scenario.overrides import apply_overrides, parse_key_path
from sim.scenario.schema import Scenario

SWEEP_KEYS = (
    "name",
    "title",
    "description",
    "base",
    "replications",
    "seed",
    "set",
    "grid",
    "points",
    "labels",
    "figure",
)
FIGURE_KEYS = ("kpi", "segment", "x", "y", "kind", "title", "file")
POINT_COLUMNS = ["sweep", "point", "point_id"]


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
class SweepSpec:
    """A loaded, checked sweep: every point's scenario is validated."""

    name: str
    title: str
    source: str  # the sweep file as shown to the user, or "<memory>"
    base: str  # the base scenario's file
    replications: int
    seed: int
    common: dict[str, Any]
    parameters: list[str]  # parameter columns, in order: grid keys, then keys only points use
    points: list[SweepPoint]
    values: pd.DataFrame  # one row per point: point, point_id and the parameter columns
    labels: dict[str, str] = field(default_factory=dict)
    figures: list[dict] = field(default_factory=list)
    data: dict = field(default_factory=dict)  # the sweep file's content, for the manifest


# ---------------------------------------------------------------------------------- loading


def _show(value: Any) -> str:
    if isinstance(value, (str, dt.date)):
        return str(value)
    return json.dumps(value, default=str, ensure_ascii=False)


def _check_keys(data: dict, allowed: tuple[str, ...], path: tuple, lines: dict, shown: str) -> None:
    for key in data:
        if key not in allowed:
            where = lines.get((*path, key), (shown, None))
            hint = suggest(str(key), allowed)
            fail_at(where, (*path, key), f"unknown key '{key}'{hint}; expected one of {', '.join(allowed)}")


def _need(ok: bool, lines: dict, path: tuple, shown: str, problem: str) -> None:
    if not ok:
        fail_at(locate(path, lines, shown), path, problem)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def load_sweep(sweep: str | Path | Mapping, reps: int | None = None, seed: int | None = None) -> SweepSpec:
    """Read and check a sweep (a YAML file, or a mapping with the same keys whose ``base`` is a
    scenario path relative to the working folder or a ``Scenario``), and validate every point.
    ``reps`` and ``seed`` replace the file's. Raises ``ScenarioError`` on bad input."""
    if isinstance(sweep, Mapping):
        data, lines, shown, folder = copy.deepcopy(dict(sweep)), {}, "<sweep>", Path.cwd()
    else:
        path = Path(sweep)
        shown = display_path(path)
        data, lines = read_yaml(path, shown)
        folder = path.parent
    _check_keys(data, SWEEP_KEYS, (), lines, shown)

    # the base scenario: resolved once (extends), then the common overrides
    base = data.get("base")
    if isinstance(base, Scenario):
        base_data = base.model_dump(mode="json", by_alias=True)
        base_lines: dict = {}
        base_shown = base.source
    else:
        _need(
            isinstance(base, str) and base,
            lines,
            ("base",),
            shown,
            f"found {base!r}; expected the path of the base scenario, relative to the sweep file",
        )
        base_path = (folder / base) if not Path(base).is_absolute() else Path(base)
        if not base_path.is_file():
            fail_at(
                locate(("base",), lines, shown),
                ("base",),
                f"base scenario {display_path(base_path)} does not exist",
            )
        base_shown = display_path(base_path)
        base_data, base_lines = resolve_extends(base_path, base_shown)

    name = data.get("name", Path(shown).stem if shown != "<sweep>" else "sweep")
    _need(isinstance(name, str) and bool(name), lines, ("name",), shown, f"found {name!r}; expected a name")
    title = data.get("title", "")
    _need(isinstance(title, str), lines, ("title",), shown, f"found {title!r}; expected a line of text")
    for key in ("replications", "seed"):
        value = data.get(key)
        low = 1 if key == "replications" else 0
        _need(
            value is None or (_is_int(value) and value >= low),
            lines,
            (key,),
            shown,
            f"found {value!r}; expected a whole number of at least {low}",
        )
    replications = int(
        reps if reps is not None else data.get("replications") or base_data.get("replications", 1)
    )
    if seed is None:  # a missing or null seed in the sweep file: the base scenario's
        seed = data.get("seed") if data.get("seed") is not None else base_data.get("seed", 1)
    seed = int(seed)

    common = data.get("set") or {}
    _need(
        isinstance(common, dict),
        lines,
        ("set",),
        shown,
        f"found {common!r}; expected a mapping of key paths to values",
    )
    grid = data.get("grid") or {}
    _need(
        isinstance(grid, dict),
        lines,
        ("grid",),
        shown,
        f"found {grid!r}; expected a mapping of key paths to lists of values",
    )
    points = data.get("points") or []
    _need(
        isinstance(points, list),
        lines,
        ("points",),
        shown,
        f"found {points!r}; expected a list of mappings of key paths to values",
    )
    if not grid and not points:
        fail_at(
            (shown, None), (), "a sweep needs 'grid' (key paths with lists of values) or 'points' or both"
        )
    for key, values in grid.items():
        _need(
            isinstance(values, list) and len(values) > 0,
            lines,
            ("grid", key),
            shown,
            f"found {values!r}; expected a non-empty list of values",
        )
        _need(
            len({_show(v) for v in values}) == len(values),
            lines,
            ("grid", key),
            shown,
            "the list repeats a value",
        )
    for i, point in enumerate(points):
        _need(
            isinstance(point, dict) and len(point) > 0,
            lines,
            ("points", i),
            shown,
            f"found {point!r}; expected a mapping of key paths to values",
        )

    # every key path: readable and present in the base scenario (checked once, at its line); the
    # common overrides first, then the points' keys on the base with the common overrides applied
    base_data = copy.deepcopy(base_data)
    base_data["seed"] = seed
    base_data["replications"] = replications
    for key, value in common.items():
        _check_key(base_data, base_lines, key, value, locate(("set", key), lines, shown), ("set", key))
    if common:
        base_data = apply_overrides(base_data, common, base_lines)
        for key in common:
            base_lines[parse_key_path(key)] = locate(("set", key), lines, shown)
    for key, values in grid.items():
        _check_key(base_data, base_lines, key, values[0], locate(("grid", key), lines, shown), ("grid", key))
    for i, point in enumerate(points):
        for key, value in point.items():
            at = ("points", i, key)
            _check_key(base_data, base_lines, key, value, locate(at, lines, shown), at)

    # the points: the grid's full factorial (first key slowest), then the listed ones
    specs: list[tuple[dict, Location, tuple]] = []
    if grid:
        for combo in itertools.product(*[list(enumerate(v)) for v in grid.values()]):
            overrides = {k: v for k, (_, v) in zip(grid, combo)}
            paths = {k: ("grid", k, i) for k, (i, _) in zip(grid, combo)}
            specs.append((overrides, locate(("grid",), lines, shown), paths))
    for i, point in enumerate(points):
        specs.append((dict(point), locate(("points", i), lines, shown), {k: ("points", i, k) for k in point}))

    out_points: list[SweepPoint] = []
    seen: dict[str, int] = {}
    for index, (overrides, where, paths) in enumerate(specs):
        point_lines = dict(base_lines)
        try:
            point_data = apply_overrides(base_data, overrides, point_lines)
        except ScenarioError as exc:
            fail_at(where, (), f"point {index} ({_label(overrides)}): {_unprefixed(exc)}")
        for key, origin in paths.items():
            point_lines[parse_key_path(key)] = locate(origin, lines, shown)
        try:
            scenario = validate_scenario(point_data, point_lines, source=base_shown)
        except ScenarioError as exc:
            raise ScenarioError(f"{exc} (sweep point {index}: {_label(overrides)})") from None
        label = json.dumps(overrides, sort_keys=True, default=str)
        if label in seen:
            fail_at(where, (), f"point {index} ({_label(overrides)}) repeats point {seen[label]}")
        seen[label] = index
        out_points.append(SweepPoint(index, overrides, scenario, where))

    grid_keys = list(grid)
    parameters = grid_keys + [k for k in dict.fromkeys(k for p in points for k in p) if k not in grid_keys]
    labels = data.get("labels") or {}
    _need(
        isinstance(labels, dict) and all(isinstance(v, str) for v in labels.values()),
        lines,
        ("labels",),
        shown,
        "expected a mapping of key paths to axis labels (text)",
    )
    for key in labels:
        if key not in parameters:
            fail_at(
                locate(("labels", key), lines, shown),
                ("labels", key),
                f"'{key}' is not a parameter of this sweep{suggest(str(key), parameters)}; "
                f"expected one of {', '.join(parameters)}",
            )
    figures = data.get("figure") or []
    figures = [figures] if isinstance(figures, dict) else figures
    _need(isinstance(figures, list), lines, ("figure",), shown, "expected a mapping (or a list of them)")
    segments = list(out_points[0].scenario.segments)
    for i, fig in enumerate(figures):
        at = ("figure", i) if isinstance(data.get("figure"), list) else ("figure",)
        _need(isinstance(fig, dict), lines, at, shown, f"found {fig!r}; expected a mapping with kpi, segment")
        _check_keys(fig, FIGURE_KEYS, at, lines, shown)
        _need(
            isinstance(fig.get("kpi"), str), lines, (*at, "kpi"), shown, "expected the name of a KPI column"
        )
        if fig.get("segment") is not None and fig["segment"] not in segments:
            fail_at(
                locate((*at, "segment"), lines, shown),
                (*at, "segment"),
                f"no segment '{fig['segment']}'{suggest(str(fig['segment']), segments)}; "
                f"expected one of {', '.join(segments)}",
            )
        for axis in ("x", "y"):
            if fig.get(axis) is not None and fig[axis] not in parameters:
                fail_at(
                    locate((*at, axis), lines, shown),
                    (*at, axis),
                    f"'{fig[axis]}' is not a parameter of this sweep; "
                    f"expected one of {', '.join(parameters)}",
                )

    spec = SweepSpec(
        name=name,
        title=title,
        source=shown,
        base=base_shown,
        replications=replications,
        seed=seed,
        common=dict(common),
        parameters=parameters,
        points=out_points,
        values=pd.DataFrame(),
        labels=dict(labels),
        figures=[dict(f) for f in figures],
        data={k: (v if k != "base" or isinstance(v, str) else base_shown) for k, v in data.items()},
    )
    spec.values = _values_table(spec, base_data)
    return spec


def _check_key(data: dict, lines: dict, key, value, where: Location, at: tuple) -> None:
    """A key path that can be read and names an existing key of ``data``."""
    try:
        if not isinstance(key, str):
            raise ScenarioError(f"the key {key!r} is not a dotted key path")
        apply_overrides(data, {key: value}, dict(lines))
    except ScenarioError as exc:
        fail_at(where, at, _unprefixed(exc))


def _unprefixed(exc: ScenarioError) -> str:
    text = str(exc)
    if text.startswith("--set"):  # "--set KEY: problem" or "--set: KEY: problem": the key is shown already
        text = text.split(": ", 1)[-1]
    return text.replace("--set only replaces existing keys", "a sweep only replaces existing keys")


def _label(overrides: Mapping) -> str:
    return ", ".join(f"{k}={_show(v)}" for k, v in overrides.items()) or "(base)"


def _value_at(data: Any, key: str) -> Any:
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
    if present and all(_is_int(v) for v in present) and len(present) == len(values):
        return pd.Series(values, dtype="int64")
    if present and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        return pd.Series([math.nan if v is None else float(v) for v in values], dtype="float64")
    return pd.Series([None if v is None else _show(v) for v in values], dtype="string")


def _values_table(spec: SweepSpec, base_data: dict) -> pd.DataFrame:
    table = pd.DataFrame(
        {
            "sweep": pd.Series([spec.name] * len(spec.points), dtype="string"),
            "point": pd.Series([p.index for p in spec.points], dtype="int64"),
            "point_id": pd.Series([p.id for p in spec.points], dtype="string"),
        }
    )
    for key in spec.parameters:
        values = [p.overrides.get(key, _value_at(base_data, key)) for p in spec.points]
        table[key] = _column([v.isoformat() if isinstance(v, dt.date) else v for v in values])
    return table
