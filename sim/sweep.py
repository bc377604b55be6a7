"""Sweeps: one base scenario, many points (scenario variations), each run for the same
replications with the same seed, on this machine's cores or on a Dask cluster.

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

Results: one tidy table, one row per point, replication and segment, with the point's parameter
values as columns next to the KPIs of ``run`` (``kpis``), the pools per point and replication
(``pools``), one row per point with its status (``points``) and ``manifest.json``. With an output
folder, each point is written as soon as its replications are done (``points/ID.kpis.parquet``,
atomic renames), so an interrupted sweep keeps every finished point and ``resume=True`` computes
only the others. A point that raises is recorded with its error (``points/ID.error.json``) and
the sweep goes on. Point ``ID`` is ``p0003-<digest>``: its number and the first 12 hex digits of
the digest of its resolved scenario (seed and replications included) and of the package's code,
so a point whose scenario or model changed is never taken for done.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import itertools
import json
import math
import time
import traceback
import warnings
from collections.abc import Callable, Mapping
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim.executors import Executor, ExecutorError, Interrupted, make_executor
from sim.kpi import segment_kpis
from sim.model import simulate
from sim.output import FORMATS, _atomic_write, code_digest, read_table, write_manifest, write_table
from sim.scenario import (
    Location,
    Scenario,
    ScenarioError,
    _display,
    _fail,
    _locate,
    _read_yaml,
    _resolve,
    _suggest,
    apply_overrides,
    format_path,
    parse_key_path,
    validate,
)

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


@dataclass
class SweepOutcome:
    """What ``run_sweep`` produced: ``table`` (the tidy KPI table), ``pools``, ``points`` (status
    per point) and the failures by point id."""

    spec: SweepSpec
    table: pd.DataFrame
    pools: pd.DataFrame
    points: pd.DataFrame
    failures: dict[str, str]
    out: Path | None
    computed: int
    skipped: int
    seconds: float
    executor: dict
    files: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------- loading


def _show(value: Any) -> str:
    if isinstance(value, (str, dt.date)):
        return str(value)
    return json.dumps(value, default=str, ensure_ascii=False)


def _check_keys(data: dict, allowed: tuple[str, ...], path: tuple, lines: dict, shown: str) -> None:
    for key in data:
        if key not in allowed:
            where = lines.get((*path, key), (shown, None))
            hint = _suggest(str(key), allowed)
            _fail(where, (*path, key), f"unknown key '{key}'{hint}; expected one of {', '.join(allowed)}")


def _need(ok: bool, lines: dict, path: tuple, shown: str, problem: str) -> None:
    if not ok:
        _fail(_locate(path, lines, shown), path, problem)


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
        shown = _display(path)
        data, lines = _read_yaml(path, shown)
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
            _fail(
                _locate(("base",), lines, shown),
                ("base",),
                f"base scenario {_display(base_path)} does not exist",
            )
        base_shown = _display(base_path)
        base_data, base_lines, _ = _resolve(base_path, base_shown, ())
        base_data = {k: v for k, v in base_data.items() if not (isinstance(k, str) and k.startswith("x-"))}

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
        _fail((shown, None), (), "a sweep needs 'grid' (key paths with lists of values) or 'points' or both")
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
        _check_key(base_data, base_lines, key, value, _locate(("set", key), lines, shown), ("set", key))
    if common:
        base_data = apply_overrides(base_data, common, base_lines)
        for key in common:
            base_lines[parse_key_path(key)] = _locate(("set", key), lines, shown)
    for key, values in grid.items():
        _check_key(base_data, base_lines, key, values[0], _locate(("grid", key), lines, shown), ("grid", key))
    for i, point in enumerate(points):
        for key, value in point.items():
            at = ("points", i, key)
            _check_key(base_data, base_lines, key, value, _locate(at, lines, shown), at)

    # the points: the grid's full factorial (first key slowest), then the listed ones
    specs: list[tuple[dict, Location, tuple]] = []
    if grid:
        for combo in itertools.product(*[list(enumerate(v)) for v in grid.values()]):
            overrides = {k: v for k, (_, v) in zip(grid, combo)}
            paths = {k: ("grid", k, i) for k, (i, _) in zip(grid, combo)}
            specs.append((overrides, _locate(("grid",), lines, shown), paths))
    for i, point in enumerate(points):
        specs.append(
            (dict(point), _locate(("points", i), lines, shown), {k: ("points", i, k) for k in point})
        )

    out_points: list[SweepPoint] = []
    seen: dict[str, int] = {}
    for index, (overrides, where, paths) in enumerate(specs):
        point_lines = dict(base_lines)
        try:
            point_data = apply_overrides(base_data, overrides, point_lines)
        except ScenarioError as exc:
            _fail(where, (), f"point {index} ({_label(overrides)}): {_unprefixed(exc)}")
        for key, origin in paths.items():
            point_lines[parse_key_path(key)] = _locate(origin, lines, shown)
        try:
            scenario = validate(point_data, point_lines, default_file=base_shown)
        except ScenarioError as exc:
            raise ScenarioError(f"{exc} (sweep point {index}: {_label(overrides)})") from None
        scenario._source = base_shown
        label = json.dumps(overrides, sort_keys=True, default=str)
        if label in seen:
            _fail(where, (), f"point {index} ({_label(overrides)}) repeats point {seen[label]}")
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
            _fail(
                _locate(("labels", key), lines, shown),
                ("labels", key),
                f"'{key}' is not a parameter of this sweep{_suggest(str(key), parameters)}; "
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
            _fail(
                _locate((*at, "segment"), lines, shown),
                (*at, "segment"),
                f"no segment '{fig['segment']}'{_suggest(str(fig['segment']), segments)}; "
                f"expected one of {', '.join(segments)}",
            )
        for axis in ("x", "y"):
            if fig.get(axis) is not None and fig[axis] not in parameters:
                _fail(
                    _locate((*at, axis), lines, shown),
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
        _fail(where, at, _unprefixed(exc))


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


# ---------------------------------------------------------------------------------- running


def _point_replication(task: tuple[Scenario, int]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One replication of one point: its KPI rows (per segment) and its pool rows."""
    scenario, replication = task
    records = simulate(scenario, replication)
    return segment_kpis(records.cases, scenario, [records.replication]), records.pools


def _point_files(out: Path, point: SweepPoint) -> dict[str, Path]:
    folder = out / "points"
    return {
        "kpis": folder / f"{point.id}.kpis.parquet",
        "pools": folder / f"{point.id}.pools.parquet",
        "error": folder / f"{point.id}.error.json",
    }


def _with_values(frame: pd.DataFrame, values: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (with a ``point`` column) with the sweep, point id and parameter columns first."""
    merged = values.merge(frame, on="point", how="right", sort=False, validate="one_to_many")
    return merged.reset_index(drop=True)


def _write_error(path: Path, point: SweepPoint, exc: BaseException) -> str:
    message = f"{type(exc).__name__}: {exc}"
    cause = exc.__cause__  # a process pool's remote traceback
    tb = str(cause) if cause is not None else "".join(traceback.format_exception(exc))
    body = {
        "point": point.index,
        "point_id": point.id,
        "overrides": point.overrides,
        "error": message,
        "traceback": tb,
    }

    def write(tmp):
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(body, fh, indent=2, ensure_ascii=False, default=str)

    _atomic_write(path, write)
    return message


def run_sweep(
    spec: SweepSpec,
    out: str | Path | None = None,
    jobs: int | None = None,
    scheduler=None,
    resume: bool = False,
    progress: Callable[[int, int], None] | None = None,
    fmt: str = "parquet",
    executor: Executor | None = None,
    command: list[str] | None = None,
) -> SweepOutcome:
    """Run every point of ``spec`` (see ``sweep`` for the arguments). ``progress(points_done,
    failures)`` is called after each point. Returns the tables and the failures; raises
    ``KeyboardInterrupt`` after recording what was finished."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    started = time.monotonic()
    out = Path(out) if out is not None else None
    done_ids: set[str] = set()
    if out is not None and resume:
        done_ids = {p.id for p in spec.points if _point_files(out, p)["kpis"].exists()}
    todo = [p for p in spec.points if p.id not in done_ids]
    own_executor = executor is None
    if executor is None:
        executor = make_executor(jobs=jobs, scheduler=scheduler)
    described = executor.describe()
    manifest = _manifest_base(spec, described, resume, command)
    if out is not None:
        write_manifest(out, {**manifest, "status": "running"})

    tasks: list[tuple[Scenario, int]] = []
    owner: list[int] = []  # task -> position in todo
    for k, point in enumerate(todo):
        for r in range(point.scenario.replications):
            tasks.append((point.scenario, r))
            owner.append(k)
    remaining = [p.scenario.replications for p in todo]
    parts: list[dict[int, Any]] = [{} for _ in todo]  # per point: replication -> result or exception
    in_memory: dict[int, tuple[pd.DataFrame, pd.DataFrame]] = {}
    failures: dict[str, str] = {}
    finished = len(done_ids)
    try:
        # closing(): an interrupt stops the workers at once, not when the generator is collected
        with closing(executor.run(_point_replication, tasks)) as outcomes:
            for t, outcome in outcomes:
                k = owner[t]
                parts[k][tasks[t][1]] = outcome
                remaining[k] -= 1
                if remaining[k]:
                    continue
                point, results = todo[k], parts[k]
                parts[k] = {}
                finished += 1
                errors = [results[r] for r in sorted(results) if isinstance(results[r], BaseException)]
                if errors:
                    if out is not None:
                        failures[point.id] = _write_error(_point_files(out, point)["error"], point, errors[0])
                    else:
                        failures[point.id] = f"{type(errors[0]).__name__}: {errors[0]}"
                else:
                    kpis, pools = _assemble_point(point, results)
                    if out is not None:
                        files = _point_files(out, point)
                        write_table(
                            pools, files["pools"].parent, files["pools"].name.removesuffix(".parquet")
                        )
                        write_table(kpis, files["kpis"].parent, files["kpis"].name.removesuffix(".parquet"))
                        files["error"].unlink(missing_ok=True)
                    else:
                        in_memory[point.index] = (kpis, pools)
                if progress:
                    progress(finished, len(failures))
    except (KeyboardInterrupt, Interrupted):
        if out is not None:
            write_manifest(
                out,
                {
                    **manifest,
                    "status": "interrupted",
                    "points_finished": finished,
                    "seconds": round(time.monotonic() - started, 3),
                },
            )
        raise KeyboardInterrupt from None
    finally:
        if own_executor:
            executor.close()

    # the tables, in point order; with an output folder, read back from the point files
    ok = [p for p in spec.points if p.id not in failures]
    if out is not None:
        kpi_parts = [read_table(_point_files(out, p)["kpis"]) for p in ok]
        pool_parts = [read_table(_point_files(out, p)["pools"]) for p in ok]
    else:
        kpi_parts = [in_memory[p.index][0] for p in ok]
        pool_parts = [in_memory[p.index][1] for p in ok]
    table = _with_values(pd.concat(kpi_parts, ignore_index=True), spec.values) if ok else pd.DataFrame()
    pools = _with_values(pd.concat(pool_parts, ignore_index=True), spec.values) if ok else pd.DataFrame()
    status = spec.values.copy()
    status["status"] = pd.Series(
        ["failed" if p.id in failures else "resumed" if p.id in done_ids else "done" for p in spec.points],
        dtype="string",
    )
    status["error"] = pd.Series([failures.get(p.id) for p in spec.points], dtype="string")
    seconds = time.monotonic() - started
    outcome = SweepOutcome(
        spec, table, pools, status, failures, out, len(todo), len(done_ids), seconds, described
    )
    if out is not None:
        written = [
            write_table(table, out, "kpis", fmt),
            write_table(pools, out, "pools", fmt),
            write_table(status, out, "points", fmt),
        ]
        outcome.files = [p.name for p in written] + _write_figures(outcome)
        write_manifest(
            out,
            {
                **manifest,
                "status": "failed" if failures else "complete",
                "points_computed": len(todo),
                "points_resumed": len(done_ids),
                "failures": failures,
                "seconds": round(seconds, 3),
                "files": outcome.files,
            },
        )
    return outcome


def _assemble_point(point: SweepPoint, parts: dict[int, tuple]) -> tuple[pd.DataFrame, pd.DataFrame]:
    order = range(point.scenario.replications)
    kpis = pd.concat([parts[r][0] for r in order], ignore_index=True)
    pools = pd.concat([parts[r][1] for r in order], ignore_index=True)
    for frame in (kpis, pools):
        frame.insert(0, "point", point.index)
    return kpis, pools


def _manifest_base(spec: SweepSpec, executor: dict, resume: bool, command) -> dict:
    content = {
        "kind": "sweep",
        "sweep_file": spec.source,
        "sweep_name": spec.name,
        "title": spec.title,
        "base_scenario": spec.base,
        "replications": spec.replications,
        "seed": spec.seed,
        "set": spec.common,
        "parameters": spec.parameters,
        "resume": resume,
        **executor,
        "points": [
            {"point": p.index, "point_id": p.id, "overrides": p.overrides, "digest": p.scenario.digest()}
            for p in spec.points
        ],
        "sweep": spec.data,
    }
    if command is not None:
        content["command"] = command
    return content


def sweep(
    sweep: str | Path | Mapping,
    *,
    reps: int | None = None,
    seed: int | None = None,
    jobs: int | None = None,
    scheduler=None,
    out: str | Path | None = None,
    resume: bool = False,
    progress: Callable[[int, int], None] | None = None,
    fmt: str = "parquet",
) -> pd.DataFrame:
    """Run a sweep and return its tidy table: one row per point, replication and segment, with
    the point's parameter values (one column per dotted key) next to the KPIs of ``run``.

    ``sweep`` is a sweep file or a mapping with the same keys (``base`` may then be a loaded
    ``Scenario``). ``reps`` / ``seed`` replace the sweep's. Points run on all cores by default;
    ``jobs=1`` runs them in this process, ``scheduler`` (``tcp://host:8786`` or a
    ``distributed.Client``) on a Dask cluster. The table is the same whatever the executor.
    ``out`` writes each point as it finishes plus the tables and ``manifest.json``;
    ``resume=True`` then skips the points already written. Points that raised are left out of
    the table and listed in ``table.attrs["failures"]`` (point id -> error), with a warning;
    ``table.attrs["points"]`` maps every point id to its status (done, resumed, failed).
    """
    spec = load_sweep(sweep, reps=reps, seed=seed)
    outcome = run_sweep(
        spec, out=out, jobs=jobs, scheduler=scheduler, resume=resume, progress=progress, fmt=fmt
    )
    table = outcome.table
    # plain data only: pandas compares attrs when it combines tables (a DataFrame here would fail)
    table.attrs["failures"] = dict(outcome.failures)
    table.attrs["points"] = dict(zip(outcome.points["point_id"], outcome.points["status"]))
    if outcome.failures:
        warnings.warn(
            f"{len(outcome.failures)} of {len(spec.points)} sweep points failed: "
            + "; ".join(f"{k}: {v}" for k, v in outcome.failures.items()),
            RuntimeWarning,
            stacklevel=2,
        )
    return table


def parameter_columns(table: pd.DataFrame) -> list[str]:
    """The parameter columns of a sweep table: those between ``point_id`` and ``scenario``."""
    columns = list(table.columns)
    return columns[columns.index("point_id") + 1 : columns.index("scenario")]


def summarise_sweep(table: pd.DataFrame, kpi: str, segment: str | None = None) -> pd.DataFrame:
    """Per point: the parameter values, the mean of ``kpi`` over replications and its 95%
    half-width (for one segment, or per segment)."""
    from sim.stats import t_half_width

    params = parameter_columns(table)
    rows = table if segment is None else table[table["segment"] == segment]
    keys = ["point", *params] + ([] if segment is not None else ["segment"])
    grouped = rows.groupby(keys, sort=False, dropna=False)[kpi]
    out = grouped.mean().rename(kpi).to_frame()
    out[f"{kpi}_hw"] = grouped.agg(t_half_width)
    out.insert(0, "replications", grouped.size())
    return out.reset_index()


def command(args, progress_bar: Callable | None = None) -> int:
    """The ``sweep`` verb: run, print a summary, write the tables, figures and manifest.

    Exit status 0 when every point ran, 1 when some failed (named on stderr). Raises
    ``ScenarioError`` on a bad sweep file (exit 2) and ``KeyboardInterrupt`` when stopped, after
    saying what was kept."""
    import sys

    spec = load_sweep(args.sweep, reps=args.reps, seed=args.seed)
    out = args.out or Path("results") / spec.name
    try:
        executor = make_executor(jobs=args.jobs, scheduler=args.scheduler)
    except ExecutorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    how = executor.describe()
    where = (
        f"on the Dask cluster at {how['scheduler']} ({how['workers']} worker threads)"
        if how["executor"] == "dask"
        else f"on {how['workers']} processes"
        if how["executor"] == "processes"
        else "serially"
    )
    print(
        f"sweep {spec.name}: {len(spec.points)} points x {spec.replications} replications, "
        f"seed {spec.seed}, {where}; base {spec.base}",
        flush=True,
    )
    bar = progress_bar(len(spec.points), spec.name) if progress_bar else None
    failed_so_far = [0]

    def tick(done: int, failures: int) -> None:
        if bar is None:
            return
        if failures != failed_so_far[0]:
            failed_so_far[0] = failures
            bar.set_postfix(failed=failures)
        bar.update(done - bar.n)

    try:
        if bar is not None and args.resume:
            already = sum(1 for p in spec.points if _point_files(out, p)["kpis"].exists())
            bar.update(already)
        outcome = run_sweep(
            spec,
            out=out,
            resume=args.resume,
            progress=tick,
            fmt=args.format,
            executor=executor,
            command=sys.argv,
        )
    except KeyboardInterrupt:
        if bar is not None:
            bar.close()
        kept = sum(1 for p in spec.points if _point_files(out, p)["kpis"].exists())
        print(
            f"interrupted: {kept} of {len(spec.points)} points are saved in {out}; "
            "run again with --resume to compute the others",
            file=sys.stderr,
        )
        raise
    finally:
        executor.close()
    if bar is not None:
        bar.close()

    print(
        f"{outcome.computed} points run ({len(outcome.failures)} failed), {outcome.skipped} already done "
        f"(--resume), in {outcome.seconds:.1f} s"
    )
    if len(outcome.table) and spec.figures and spec.figures[0]["kpi"] in outcome.table.columns:
        first = spec.figures[0]
        summary = summarise_sweep(outcome.table, first["kpi"], first.get("segment"))
        with pd.option_context("display.width", 200, "display.max_columns", 20):
            print(f"\n{first['kpi']} ({first.get('segment') or 'per segment'}), mean over replications:")
            print(summary.drop(columns=["point"]).to_string(index=False))
    written = [*outcome.files, "manifest.json", "points/"]
    print(f"\nwrote {', '.join(written)} to {out}")
    if outcome.failures:
        labels = {p.id: p.label for p in spec.points}
        names = "; ".join(f"{k} ({labels[k]}): {v}" for k, v in outcome.failures.items())
        print(f"error: {len(outcome.failures)} of {len(spec.points)} points failed: {names}", file=sys.stderr)
        return 1
    return 0


def _write_figures(outcome: SweepOutcome) -> list[str]:
    """The sweep file's figures, as PNG files in the output folder."""
    if outcome.out is None or not len(outcome.table):
        return []
    import matplotlib.pyplot as plt

    from sim.sweep_plots import plot_sweep

    names = []
    for fig_spec in outcome.spec.figures:
        kwargs = {k: v for k, v in fig_spec.items() if k in ("kpi", "segment", "x", "y", "kind", "title")}
        name = fig_spec.get("file") or f"{fig_spec['kpi']}-{fig_spec.get('segment') or 'all'}.png"
        segments = outcome.spec.points[0].scenario.segments
        seg = fig_spec.get("segment")
        label = f"{segments[seg].label} ({seg})" if seg in segments else None
        try:
            fig = plot_sweep(outcome.table, labels=outcome.spec.labels, segment_label=label, **kwargs)
        except ValueError as exc:  # e.g. a KPI name the table does not have: the data is saved anyway
            warnings.warn(f"figure {name} not drawn: {exc}", RuntimeWarning, stacklevel=2)
            continue
        try:
            _atomic_write(outcome.out / name, lambda tmp, fig=fig: fig.savefig(tmp, dpi=120, format="png"))
        finally:
            plt.close(fig)
        names.append(name)
    return names


__all__ = [
    "SweepOutcome",
    "SweepPoint",
    "SweepSpec",
    "format_path",
    "load_sweep",
    "parameter_columns",
    "run_sweep",
    "summarise_sweep",
    "sweep",
]
