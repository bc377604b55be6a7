"""Running sweeps: every point of a sweep file for the same replications with the same seed, on
this machine's cores or on a Dask cluster.

Results: one tidy table, one row per point, replication and segment, with the point's parameter
values as columns next to the KPIs of ``run`` (``kpis``), the pools per point and replication
(``pools``), one row per point with its status (``points``) and ``manifest.json``. With an output
folder, each point is written as soon as its replications are done (``points/ID.kpis.parquet``,
atomic renames), so an interrupted sweep keeps every finished point and ``resume=True`` computes
only the others. A point that raises is recorded with its error (``points/ID.error.json``) and
the sweep goes on. Point ``ID`` is ``p0003-<digest>``: its number and the first 12 hex digits of
the digest of its resolved scenario (seed and replications included) and of the package's code,
so a point whose scenario or model changed is never taken for done.

The replications of every point are tasks of the one replication engine
(``sim.experiments.replications``), on one executor; a point is written as soon as its own last
replication is back, whatever the order the points finish in (``replicate_as_completed``), and the
tables are put together in point order at the end. Figures are not drawn here: a caller that wants
them passes a ``figures`` writer (the command line passes
``sim.outputs.sweep_figures.write_sweep_figures``).
"""

from __future__ import annotations

import json
import time
import traceback
import warnings
from collections.abc import Callable, Mapping
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim.experiments.executors import Executor, Interrupted, make_executor
from sim.experiments.replications import Outcome, Replication, Task, replicate_as_completed
from sim.experiments.spec_files import points_manifest
from sim.experiments.stats import summarise
from sim.experiments.sweep_file import SweepPoint, SweepSpec, load_sweep
from sim.outputs.tables import FORMATS, atomic_write, read_table, write_manifest, write_table

__all__ = [
    "SweepOutcome",
    "SweepPoint",
    "SweepSpec",
    "load_sweep",
    "parameter_columns",
    "point_files",
    "run_sweep",
    "summarise_sweep",
    "sweep",
]


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


FigureWriter = Callable[[SweepOutcome], list[str]]  # draws the sweep's figures, returns file names
PointProgress = Callable[[int, int], None]  # called with (points done, points failed)


def point_files(out: Path, point: SweepPoint) -> dict[str, Path]:
    """A point's files in the sweep folder ``out``: its ``kpis`` and ``pools`` tables (there when
    the point is done) and its ``error`` record (there when it failed)."""
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

    atomic_write(path, write)
    return message


def run_sweep(
    spec: SweepSpec,
    out: str | Path | None = None,
    jobs: int | None = None,
    scheduler: Any = None,
    resume: bool = False,
    progress: PointProgress | None = None,
    fmt: str = "parquet",
    executor: Executor | None = None,
    command: list[str] | None = None,
    figures: FigureWriter | None = None,
) -> SweepOutcome:
    """Run every point of ``spec`` (see ``sweep`` for the arguments). ``progress(points_done,
    failures)`` is called after each point; ``executor``, if given, is used and left open;
    ``figures`` draws the figures into the folder once the tables are written. Returns the tables
    and the failures; raises ``KeyboardInterrupt`` after recording what was finished."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    started = time.monotonic()
    out = Path(out) if out is not None else None
    done_ids: set[str] = set()
    if out is not None and resume:
        done_ids = {p.id for p in spec.points if point_files(out, p)["kpis"].exists()}
    todo = [p for p in spec.points if p.id not in done_ids]
    tasks = [Task(p.scenario, r, cases=False) for p in todo for r in range(p.scenario.replications)]
    own_executor = executor is None
    if executor is None:
        executor = make_executor(jobs, scheduler)
    described = executor.describe()
    manifest = _manifest_base(spec, described, resume, command)
    if out is not None:
        write_manifest(out, {**manifest, "status": "running"})

    in_memory: dict[int, tuple[pd.DataFrame, pd.DataFrame]] = {}
    failures: dict[str, str] = {}
    finished = len(done_ids)
    point_of = [point for point in todo for _ in range(point.scenario.replications)]  # by task
    arrived: dict[int, dict[int, Outcome]] = {}  # point index -> replication -> outcome
    try:
        # outcomes come as tasks finish: a point is complete when its own replications are back
        with closing(replicate_as_completed(tasks, executor=executor)) as outcomes:
            for index, back in outcomes:
                point = point_of[index]
                got = arrived.setdefault(point.index, {})
                got[tasks[index].replication] = back
                if len(got) < point.scenario.replications:
                    continue
                del arrived[point.index]
                results = [got[r] for r in range(point.scenario.replications)]
                finished += 1
                error = next((r for r in results if isinstance(r, BaseException)), None)
                if error is not None:
                    failures[point.id] = _record_failure(out, point, error)
                else:
                    parts = [r for r in results if isinstance(r, Replication)]
                    kpis, pools = _assemble_point(point, parts)
                    if out is not None:
                        _write_point(out, point, kpis, pools)
                    else:
                        in_memory[point.index] = (kpis, pools)
                if progress:
                    progress(finished, len(failures))
    except (KeyboardInterrupt, Interrupted):
        if out is not None:
            seconds = round(time.monotonic() - started, 3)
            status = {"status": "interrupted", "points_finished": finished, "seconds": seconds}
            write_manifest(out, {**manifest, **status})
        raise KeyboardInterrupt from None
    finally:
        if own_executor:
            executor.close()

    # the tables and failures, in point order; with an output folder, read back from the point files
    failures = {p.id: failures[p.id] for p in spec.points if p.id in failures}
    ok = [p for p in spec.points if p.id not in failures]
    if out is not None:
        kpi_parts = [read_table(point_files(out, p)["kpis"]) for p in ok]
        pool_parts = [read_table(point_files(out, p)["pools"]) for p in ok]
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
        drawn = figures(outcome) if figures is not None and len(table) else []
        outcome.files = [p.name for p in written] + drawn
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


def _record_failure(out: Path | None, point: SweepPoint, error: BaseException) -> str:
    if out is not None:
        return _write_error(point_files(out, point)["error"], point, error)
    return f"{type(error).__name__}: {error}"


def _write_point(out: Path, point: SweepPoint, kpis: pd.DataFrame, pools: pd.DataFrame) -> None:
    files = point_files(out, point)
    write_table(pools, files["pools"].parent, files["pools"].name.removesuffix(".parquet"))
    write_table(kpis, files["kpis"].parent, files["kpis"].name.removesuffix(".parquet"))  # the "done" mark
    files["error"].unlink(missing_ok=True)


def _assemble_point(point: SweepPoint, parts: list[Replication]) -> tuple[pd.DataFrame, pd.DataFrame]:
    kpis = pd.concat([p.kpis for p in parts], ignore_index=True)
    pools = pd.concat([p.pools for p in parts], ignore_index=True)
    for frame in (kpis, pools):
        frame.insert(0, "point", point.index)
    return kpis, pools


def _manifest_base(spec: SweepSpec, executor: dict, resume: bool, command: list[str] | None) -> dict:
    points = [
        {"point": p.index, "point_id": p.id, "overrides": p.overrides, "digest": p.scenario.digest()}
        for p in spec.points
    ]
    own = {"sweep_name": spec.name, "parameters": spec.parameters, **executor, "points": points}
    return points_manifest("sweep", spec, resume, command, **own)


def sweep(
    sweep: str | Path | Mapping,
    *,
    reps: int | None = None,
    seed: int | None = None,
    jobs: int | None = None,
    scheduler: Any = None,
    out: str | Path | None = None,
    resume: bool = False,
    progress: PointProgress | None = None,
    fmt: str = "parquet",
    figures: FigureWriter | None = None,
) -> pd.DataFrame:
    """Run a sweep and return its tidy table: one row per point, replication and segment, with
    the point's parameter values (one column per dotted key) next to the KPIs of ``run``.

    ``sweep`` is a sweep file or a mapping with the same keys (``base`` may then be a loaded
    ``Scenario``). ``reps`` / ``seed`` replace the sweep's. Points run on all cores by default;
    ``jobs=1`` runs them in this process, ``scheduler`` (``tcp://host:8786`` or a
    ``distributed.Client``) on a Dask cluster. The table is the same whatever the executor.
    ``out`` writes each point as it finishes plus the tables and ``manifest.json``, and the
    figures the sweep file asks for when ``figures`` is given
    (``sim.outputs.sweep_figures.write_sweep_figures``); ``resume=True`` then skips the points
    already written. Points that raised are left out of the table and listed in
    ``table.attrs["failures"]`` (point id -> error), with a warning; ``table.attrs["points"]``
    maps every point id to its status (done, resumed, failed).
    """
    spec = load_sweep(sweep, reps=reps, seed=seed)
    outcome = run_sweep(
        spec,
        out=out,
        jobs=jobs,
        scheduler=scheduler,
        resume=resume,
        progress=progress,
        fmt=fmt,
        figures=figures,
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
    rows = table if segment is None else table[table["segment"] == segment]
    keys = ["point", *parameter_columns(table)] + ([] if segment is not None else ["segment"])
    return summarise(rows, keys, [kpi])
