"""A run warm-started from an event log's backlog at a cut-off date (docs/warm-start.md).

``warm_start`` reads the backlog (``sim.evidence.backlog``), moves the scenario's horizon to start
at the cut-off without a warm-up (the backlog is the system's state), and runs the replications
on the replication engine, each starting from the backlog (``sim.engine.backlog``). A utility's
log (one period) gives every replication the same backlog; a simulated log of several
replications gives replication ``r`` the backlog of its ``r``-th replication, so that a cut run
can be set against the uncut one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim import kpi_catalogue
from sim.engine.calendar import CalendarError, WorkingCalendar, calendar_for
from sim.engine.rules import opening
from sim.evidence.backlog import BacklogReading, read_backlog
from sim.evidence.flows import top_level
from sim.evidence.log_reading import Log, LogError
from sim.experiments.kpis import segment_kpis
from sim.experiments.replications import Progress, Task, collect, replicate, with_seed
from sim.experiments.results import RunResult, assemble
from sim.experiments.stats import summarise, t_half_width
from sim.scenario.schema import Scenario


@dataclass(frozen=True)
class WarmStart:
    """A warm-started run (``result``: its ``cases`` have ``warm_started``) and the backlog it
    started from (``reading``: the cases placed, those not placed and why)."""

    result: RunResult
    reading: BacklogReading

    def backlog(self) -> pd.DataFrame:
        """The backlog's own KPIs: ``backlog_summary`` of the run."""
        return backlog_summary(self.result)

    def cleared(self) -> dict[str, Any]:
        """When the whole backlog is cleared: ``cleared_by`` of the run's warm-started cases."""
        return cleared_by(self.result.cases[self.result.cases["warm_started"]], self.reading.cut_off)


def warm_scenario(scenario: Scenario, cut_off: dt.date) -> Scenario:
    """``scenario`` with its horizon starting at ``cut_off`` and no warm-up (its arrival and drain
    days as they were: the new applications from the cut-off on)."""
    horizon = scenario.horizon.model_copy(update={"start": cut_off, "warmup_days": 0})
    return scenario.model_copy(update={"horizon": horizon})


def _at_cut_off(warm: Scenario, calendar: WorkingCalendar, log: Log) -> Scenario | None:
    """The warm scenario under its dated measures without ``where`` in force at the cut-off (its
    start: ``rules.at_start``), whose flows the backlog's cases walk and are placed in
    (``WarmModel``); None without measures. A measure with ``where`` in force then that changes a
    flow would walk some cases in flows they were not placed in: refused (``LogError``), as not
    supported."""
    if not warm.measures:
        return None
    starts = [opening(calendar, m.from_) for m in warm.measures]  # as ``sim.engine.rules`` has them
    unscoped = tuple(i for i, (m, s) in enumerate(zip(warm.measures, starts)) if m.where is None and s <= 0)
    placed_in = warm.under(unscoped)
    flows = {name: top_level(placed_in, s.flow) for name, s in placed_in.segments.items()}
    for i, (measure, s) in enumerate(zip(warm.measures, starts)):
        if measure.where is None or s > 0:
            continue
        scoped = warm.under(tuple(sorted((*unscoped, i))))
        changed = [n for n, seg in scoped.segments.items() if top_level(scoped, seg.flow) != flows.get(n)]
        if changed:
            raise LogError(
                f"{log.source}: the measure from {measure.from_} (where {measure.where}) changes the flow "
                f"of {', '.join(changed)} before the cut-off {warm.horizon.start}; a warm start under a "
                "measure with `where` that changes a flow is not supported: give a cut-off before it"
            )
    return placed_in


def warm_start(
    scenario: Scenario,
    log: Log,
    cut_off: dt.date,
    reps: int | None = None,
    seed: int | None = None,
    jobs: int = 1,
    progress: Progress | None = None,
    events: bool = False,
    scheduler: Any = None,
) -> WarmStart:
    """Run ``reps`` replications of ``scenario`` (default: its own) from the backlog of ``log`` at
    00:00 of ``cut_off``; see the module doc. A scenario with companies is refused (``ValueError``);
    a log that cannot give the backlog raises ``LogError``."""
    if scenario.companies:
        raise ValueError(f"{scenario.name}: a warm start of a scenario with companies is not supported")
    warm = warm_scenario(with_seed(scenario, seed), cut_off)
    try:
        calendar = calendar_for(warm)
    except CalendarError as exc:  # say that the warm start moved the horizon
        h = warm.horizon
        raise CalendarError(
            f"--cut-off {cut_off}: a warm run counts the scenario's {h.arrival_days:g} working days of "
            f"applications and {h.drain_days:g} of drain from the cut-off, and then {exc}; or shorten "
            "them (--set horizon.arrival_days=N)"
        ) from None
    reps = warm.replications if reps is None else int(reps)
    periods = sorted(int(p) for p in log.events["period"].unique())
    if len(periods) > 1 and reps > len(periods):
        raise LogError(
            f"{log.source}: holds {len(periods)} replications, fewer than the {reps} asked for; "
            f"ask for at most {len(periods)} (each starts from its own replication's backlog)"
        )
    used = periods[:reps] if len(periods) > 1 else periods  # only the replications run are read
    reading = read_backlog(log, scenario, cut_off, used, placed_in=_at_cut_off(warm, calendar, log))
    if not reading.placed and not reading.finished and reading.unplaced.empty:
        raise LogError(f"{log.source}: no case applied before the cut-off {cut_off}")
    reading.runs = tuple(used[r] if len(used) > 1 else used[0] for r in range(reps))
    backlogs = [reading.backlogs[p] for p in reading.runs]
    tasks = [Task(warm, r, events, backlog=backlogs[r]) for r in range(reps)]
    parts = collect(replicate(tasks, jobs=jobs, scheduler=scheduler, progress=progress))
    return WarmStart(assemble(warm, parts), reading)


def backlog_summary(result: RunResult) -> pd.DataFrame:
    """Per segment with warm-started cases: their KPIs (``kpi_catalogue.SUMMARY``, as
    ``RunResult.summary`` gives them for all cases; ``n_cases``: the cases warm-started per
    replication) and ``cleared_by``'s columns: the date its last warm-started case connects."""
    warm = result.cases[result.cases["warm_started"]]
    table = segment_kpis(warm, result.scenario, range(result.replications))
    targets = table.groupby("segment", sort=False)["target_measure"].first()
    table = table[table["segment"].isin(set(warm["segment"]))]
    out = summarise(table, ["segment"], kpi_catalogue.SUMMARY)
    out.insert(1, "target_measure", out["segment"].map(targets))
    start = result.scenario.horizon.start
    for key in ("cleared", "cleared_lo", "cleared_hi", "open_at_end"):
        out[key] = [cleared_by(warm[warm["segment"] == s], start)[key] for s in out["segment"]]
    return out


def cleared_by(warm: pd.DataFrame, cut_off: dt.date) -> dict[str, Any]:
    """The date by which warm-started cases (a cases table's rows) are all connected: per
    replication the day the last of them connects, its mean over replications (``cleared``) and
    95% t-interval (``cleared_lo``, not before the cut-off: ``interval_truncated`` when the
    interval reached before it and was cut there; ``cleared_hi``; NaT with one replication), the
    first and last replication's day (``cleared_first``, ``cleared_last``). ``open_at_end``:
    replications in which some were still open when the run ended: their day is later than the
    run, unknown, so then there is no mean, interval or last day (only the first day of the
    replications that did clear)."""
    start = pd.Timestamp(cut_off)
    days, still_open = [], 0
    for _, part in warm.groupby("replication"):
        if not part["finished"].all():
            still_open += 1
            continue
        days.append((pd.Timestamp(part["connected"].max()) - start).total_seconds() / 86400.0)
    # a replication still open at the end cleared later than the run, at a day unknown: a mean or a
    # t-interval of the others would be early, so there is none then (the others' days are kept)
    mean = float(np.mean(days)) if days and not still_open else float("nan")
    half = t_half_width(days) if not still_open else float("nan")

    def day(offset: float) -> Any:
        return (start + pd.Timedelta(days=offset)).normalize() if np.isfinite(offset) else pd.NaT

    return {
        "cleared": day(mean),
        "cleared_lo": day(max(mean - half, 0.0)),  # never before the cut-off: see interval_truncated
        "cleared_hi": day(mean + half),
        "cleared_first": day(min(days, default=float("nan"))),
        "cleared_last": day(max(days, default=float("nan")) if not still_open else float("nan")),
        "interval_truncated": bool(mean - half < 0.0),  # False when NaN
        "open_at_end": still_open,
        "replications": len(days) + still_open,
    }
