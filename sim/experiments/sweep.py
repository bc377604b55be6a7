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

from sim.engine.model import simulate
from sim.experiments.executors import Executor, ExecutorError, Interrupted, make_executor
from sim.experiments.kpis import segment_kpis
from sim.experiments.sweep_file import SweepPoint, SweepSpec, load_sweep
from sim.outputs.tables import FORMATS, _atomic_write, read_table, write_manifest, write_table
from sim.scenario import Scenario, format_path


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
    from sim.experiments.stats import t_half_width

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

    from sim.outputs.sweep_figures import plot_sweep

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
