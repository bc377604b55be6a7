"""Result folders: a run's and a comparison's tables, figures, report and manifest, written the
same way by the command line and by a notebook.

A folder is self-describing: ``manifest.json`` names what was run (scenario files, digests, seed,
replications), with which versions, and every file written beside it. Each file is written under
a temporary name and renamed into place (``sim.outputs.tables``), so an interrupted write leaves
the previous file or none, never half of one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from sim.experiments.compare import CompareResult, consecutive_differences
from sim.experiments.replications import RunResult
from sim.outputs.event_log import write_events
from sim.outputs.tables import save_figure, write_manifest, write_table


def write_run(
    result: RunResult,
    out: str | os.PathLike,
    fmt: str = "parquet",
    events_format: str | None = None,
    overrides: Sequence[str] | Mapping[str, Any] | None = None,
    jobs: int | None = None,
    monthly: bool = False,
    warm_start: Mapping[str, Any] | None = None,
) -> list[Path]:
    """Write a run to the folder ``out``: ``kpis``, ``cases``, ``pools``, ``materials`` and
    ``targets`` as ``fmt`` (parquet or csv), the event log when the run kept one (as
    ``events_format``: parquet, csv or xes; default ``fmt``), for a scenario with dated measures
    (or with ``monthly``) the ``monthly`` table and ``trajectory.png`` (with ``companies`` also
    ``monthly_companies`` and ``trajectory-COMPANY.png`` each), and ``manifest.json`` with the
    resolved scenario, the ``overrides`` it was loaded with and the ``jobs`` it ran on. A warm
    start (``warm_start``: its ``log``, ``reading``, and ``backlog`` and ``cleared`` from
    ``sim.experiments.warm_start``) also writes ``not_placed``, the log's cases that could not be
    placed and why, and ``backlog``, the backlog's own KPIs per segment, and says in the manifest
    what it started from and when the backlog is cleared. Returns the files written, the manifest last."""
    out = Path(out)
    written = [
        write_table(result.kpis, out, "kpis", fmt),
        write_table(result.cases, out, "cases", fmt),
        write_table(result.pools, out, "pools", fmt),
        write_table(result.materials, out, "materials", fmt),
        write_table(result.targets, out, "targets", fmt),
    ]
    if result.events is not None:
        written.append(write_events(result.events, out, events_format or fmt, cases=result.cases))
    if result.scenario.measures or monthly:  # the trajectory: per month of application
        written += _write_monthly(result, out, fmt)
    if result.scenario.companies:  # per supply company
        written.append(write_table(result.company_summary(), out, "companies", fmt))
    warm = None
    if warm_start is not None:  # docs/warm-start.md
        reading = warm_start["reading"]
        written.append(write_table(reading.unplaced, out, "not_placed", fmt))
        if warm_start.get("backlog") is not None:
            written.append(write_table(warm_start["backlog"], out, "backlog", fmt))
        cleared = warm_start.get("cleared") or {}
        warm = {
            "log": str(warm_start["log"]),
            "cut_off": str(reading.cut_off),
            # null: the log has no replications, its one backlog starts each replication
            "log_replications_read": list(reading.periods) if reading.log_periods > 1 else None,
            "warm_started": reading.warm_started,  # the cases table's warm_started rows
            "warm_started_per_replication": reading.per_replication(),
            "warm_started_per_segment": {str(k): int(v) for k, v in reading.by_segment().items()},
            "not_placed": len(reading.unplaced),
            "likely_lost_records": reading.lost,
            "finished_before": reading.finished,
            "events_skipped": dict(reading.skipped),
            "attributes_logged": dict(reading.logged),
            "attributes_inferred": dict(reading.inferred),
            "attributes_drawn": dict(reading.drawn),
            **{
                f"backlog_{k}": (None if pd.isna(v) else str(v.date())) if k.startswith("cleared") else v
                for k, v in cleared.items()
            },
        }
    scenario = result.scenario
    manifest = write_manifest(
        out,
        {
            "result": ["run", scenario.name],
            "scenario_file": scenario.source,
            "scenario_name": scenario.name,
            "scenario_digest": scenario.digest(),
            "seed": scenario.seed,
            "replications": result.replications,
            "overrides": _plain(overrides),
            "jobs": jobs,
            "files": [p.name for p in written],
            **({"warm_start": warm} if warm is not None else {}),
            "scenario": scenario.to_dict(),
        },
    )
    return [*written, manifest]


def _write_monthly(result: RunResult, out: Path, fmt: str) -> list[Path]:
    from sim.outputs.monthly_figures import trajectory_figure

    monthly = result.monthly()
    figure = save_figure(trajectory_figure(monthly, result.scenario), out / "trajectory.png", 110)
    written = [write_table(monthly, out, "monthly", fmt), figure]
    sc = result.scenario
    if sc.companies:  # and each company's months
        by_company = result.monthly(by=["company"])
        written.append(write_table(by_company, out, "monthly_companies", fmt))
        for name, company in sc.companies.items():
            own = by_company[by_company["company"] == name]
            fig = trajectory_figure(own, sc, title=f"{company.label} ({sc.name})")
            written.append(save_figure(fig, out / f"trajectory-{name}.png", 110))
    return written


def write_comparison(
    result: CompareResult,
    out: str | os.PathLike,
    fmt: str = "parquet",
    lang: str = "en",
    jobs: int | None = None,
) -> list[Path]:
    """Write a comparison to the folder ``out``: the ``comparison``, ``pools``, ``kpis`` and
    ``targets`` (every target judged) tables as ``fmt``, the five figures (PNG, labels in
    ``lang``: en or zh), ``report.md``, a self-contained ``report.html`` and ``manifest.json``;
    for scenarios with dated measures also the ``monthly`` table and a trajectory figure each.
    Returns the files written, the manifest last. Chinese labels without a CJK font warn
    (``sim.outputs.figures.CJK_HINT``)."""
    from sim.outputs.figures import FIGURES, waterfall_figure
    from sim.outputs.monthly_figures import trajectory_figure
    from sim.outputs.report import write_report

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    kpis = pd.concat([r.kpis for r in result.runs.values()], ignore_index=True)
    written = [
        write_table(result.table, out, "comparison", fmt),
        write_table(result.pools, out, "pools", fmt),
        write_table(kpis, out, "kpis", fmt),
        write_table(result.targets, out, "targets", fmt),
    ]
    figures = {}
    for key, make in FIGURES.items():
        save_figure(make(result, lang=lang), out / f"{key}.png", 120)
        figures[key] = f"{key}.png"
    monthly = []
    for name, run in result.runs.items():  # scenarios with dated measures: their trajectory
        if not run.scenario.measures:
            continue
        frame = run.monthly()
        monthly.append(frame.assign(scenario=name))
        save_figure(trajectory_figure(frame, run.scenario), out / f"trajectory-{name}.png", 120)
        figures[f"trajectory-{name}"] = f"trajectory-{name}.png"
    if monthly:
        written.append(write_table(pd.concat(monthly, ignore_index=True), out, "monthly", fmt))
    if result.by_measure is not None:  # a package's measures one at a time
        steps = result.by_measure
        written.append(write_table(consecutive_differences(steps), out, "by_measure", fmt))
        figure = waterfall_figure(steps, lang=lang, by_measure=True)
        save_figure(figure, out / "waterfall_by_measure.png", 120)
        figures["waterfall_by_measure"] = "waterfall_by_measure.png"
    md, page = write_report(result, out, figures, lang)
    written += [out / name for name in figures.values()] + [md, page]
    manifest = write_manifest(
        out,
        {
            "result": ["compare", "+".join(result.scenarios)],
            "reference": result.reference,
            "scenarios": {
                name: {"file": r.scenario.source, "digest": r.scenario.digest()}
                for name, r in result.runs.items()
            },
            "seed": result.seed,
            "replications": result.replications,
            "jobs": jobs,
            "files": [p.name for p in written],
        },
    )
    return [*written, manifest]


def _plain(overrides: Sequence[str] | Mapping[str, Any] | None) -> list[str] | dict[str, Any]:
    if overrides is None:
        return []
    return dict(overrides) if isinstance(overrides, Mapping) else list(overrides)
