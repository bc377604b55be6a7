"""Replications of a scenario, serially, on a pool of processes or on a Dask cluster, gathered into
tables; runs to a requested precision; paired comparisons.

Replication ``r`` of a scenario depends only on (scenario, seed, r): the results are the same
whatever the executor and the number of workers, and they are always assembled in replication
order. Sweeps over many scenario points are in ``sim.sweep``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from contextlib import closing
from dataclasses import dataclass

import pandas as pd

from sim.engine.model import simulate
from sim.experiments.executors import Executor, ProcessExecutor, SerialExecutor, default_jobs, make_executor
from sim.experiments.kpis import segment_kpis
from sim.experiments.stats import (
    PrecisionError,
    paired_differences,
    parse_precision,
    precision_report,
    summarise,
)
from sim.scenario.schema import Scenario

__all__ = [
    "RunResult",
    "default_jobs",
    "paired",
    "replications_needed",
    "run",
    "run_to_precision",
]

SUMMARY_COLUMNS = [
    "n_cases",
    "n_finished",
    "n_open",
    "handling_wd_mean",
    "handling_wd_p50",
    "handling_wd_p95",
    "handling_wd_max",
    "full_process_wd_mean",
    "full_process_wd_p50",
    "full_process_wd_p95",
    "full_process_wd_max",
    "elapsed_wd_mean",
    "elapsed_wd_p50",
    "elapsed_wd_p95",
    "elapsed_wd_max",
    "elapsed_cd_mean",
    "target_days",
    "on_target_share",
    "procedures_mean",
]


@dataclass(frozen=True)
class RunResult:
    """Tables of a run: ``cases`` (one row per counted case), ``kpis`` (per replication and
    segment), ``pools`` and ``materials`` (per replication)."""

    scenario: Scenario
    replications: int
    cases: pd.DataFrame
    kpis: pd.DataFrame
    pools: pd.DataFrame
    materials: pd.DataFrame
    events: pd.DataFrame | None = None

    def summary(self) -> pd.DataFrame:
        """Per segment: the mean over replications of each KPI, with its 95% half-width."""
        table = summarise(self.kpis, ["segment"], SUMMARY_COLUMNS)
        targets = self.kpis.groupby("segment", sort=False)["target_measure"].first()
        table.insert(1, "target_measure", table["segment"].map(targets))
        return table

    def pool_summary(self) -> pd.DataFrame:
        """Per pool: mean over replications of its slots, utilisation, mean wait and cases served,
        with 95% half-widths (empty, with these columns, for a scenario without pools)."""
        columns = ["capacity", "utilisation", "wait_wd_mean", "n_served"]
        if self.pools.empty:
            empty = ["pool", "replications", *columns, *(f"{c}_hw" for c in columns)]
            return pd.DataFrame(columns=empty)
        return summarise(self.pools, ["pool"], columns)


def _one(args: tuple[Scenario, int, bool]):
    scenario, replication, events = args
    records = simulate(scenario, replication, events=events)
    return records.cases, records.pools, records.materials, records.events


def _executor_for(jobs: int, n_tasks: int, scheduler) -> Executor:
    if scheduler is not None:
        return make_executor(scheduler=scheduler)
    if jobs > 1 and n_tasks > 1:
        return ProcessExecutor(min(jobs, n_tasks))
    return SerialExecutor()


def _replications(
    scenario: Scenario,
    replications: Iterable[int],
    events: bool,
    jobs: int,
    scheduler,
    progress: Callable[[int], None] | None,
) -> list[tuple]:
    """The parts (cases, pools, materials, events) of the given replications, in their order."""
    tasks = [(scenario, r, events) for r in replications]
    parts: list = [None] * len(tasks)
    executor = _executor_for(jobs, len(tasks), scheduler)
    with executor, closing(executor.run(_one, tasks)) as outcomes:
        for i, outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
            parts[i] = outcome
            if progress:
                progress(1)
    return parts


def _result(scenario: Scenario, parts: list[tuple], events: bool) -> RunResult:
    cases = pd.concat([p[0] for p in parts], ignore_index=True)
    pools = pd.concat([p[1] for p in parts], ignore_index=True)
    materials = pd.concat([p[2] for p in parts], ignore_index=True)
    log = pd.concat([p[3] for p in parts], ignore_index=True) if events else None
    kpis = segment_kpis(cases, scenario, range(len(parts)))  # replications 0 .. n-1, in order
    return RunResult(scenario, len(parts), cases, kpis, pools, materials, log)


def run(
    scenario: Scenario,
    reps: int | None = None,
    seed: int | None = None,
    jobs: int = 1,
    progress: Callable[[int], None] | None = None,
    events: bool = False,
    scheduler=None,
) -> RunResult:
    """Run ``reps`` replications (default: the scenario's) with ``seed`` (default: the scenario's).

    ``jobs`` > 1 runs replications on that many processes; ``scheduler`` (an address
    ``tcp://host:8786`` or a ``distributed.Client``) runs them on a Dask cluster instead. The
    tables are identical either way. ``progress`` is called with 1 after each finished replication
    (the CLI passes a tqdm bar). ``events`` also returns the event log (one row per stage queue
    entry, start and completion).
    """
    if seed is not None:
        scenario = _with(scenario, seed=int(seed))
    reps = scenario.replications if reps is None else int(reps)
    if reps < 1:
        raise ValueError(f"reps must be at least 1, found {reps}")
    parts = _replications(scenario, range(reps), events, jobs, scheduler, progress)
    return _result(scenario, parts, events)


MIN_FIRST_BATCH = 10


def run_to_precision(
    scenario: Scenario,
    precision: Mapping[str, float | str] | Iterable[str],
    reps: int | None = None,
    max_reps: int = 100,
    seed: int | None = None,
    jobs: int = 1,
    progress: Callable[[int], None] | None = None,
    events: bool = False,
    scheduler=None,
    confidence: float = 0.95,
) -> tuple[RunResult, pd.DataFrame]:
    """Run replications until each requested KPI's 95% half-width is small enough (sequential
    procedure), or ``max_reps`` replications have run.

    ``precision`` maps ``KPI`` (every segment) or ``SEGMENT.KPI`` to a half-width in the KPI's
    units, or to a percentage of its mean (``"5%"``); strings ``"KPI=H"`` are accepted too, e.g.
    ``{"on_target_share": 0.02}``. It starts with ``reps`` replications (default: the
    scenario's; at least ``MIN_FIRST_BATCH``), estimates from their spread how many each KPI needs
    (``sim.experiments.stats.replications_needed``), runs the missing ones (replications ``n, n+1, ...``: the
    first ``n`` are kept, nothing is rerun) and checks again. Returns the run and the report of
    ``sim.experiments.stats.precision_report`` (one row per segment and KPI, with ``met``).

    Stopping when an interval estimated from the same data is narrow enough makes the final
    interval cover a little less than its nominal 95%: about 90% when the first batch is 3
    replications, about 93.5% from 10 (a Monte Carlo check of this procedure). Hence the first
    batch of at least 10.
    """
    requests = parse_precision(precision)
    for segment, _, _, _ in requests:
        if segment is not None and segment not in scenario.segments:
            known = ", ".join(scenario.segments)
            raise PrecisionError(f"--precision: no segment '{segment}'; expected one of {known}")
    if seed is not None:
        scenario = _with(scenario, seed=int(seed))
    first = scenario.replications if reps is None else int(reps)
    n = min(max(MIN_FIRST_BATCH, first), max(2, int(max_reps)))
    parts = _replications(scenario, range(n), events, jobs, scheduler, progress)
    while True:
        result = _result(scenario, parts, events)
        report = precision_report(result.kpis, requests, confidence)
        unmet = report[~report["met"]]
        if unmet.empty or len(parts) >= max_reps:
            return result, report
        needed = unmet["needed"].dropna()
        if needed.empty:  # nothing can be estimated (no finite values): more replications won't help
            return result, report
        target = min(max_reps, max(len(parts) + 1, int(needed.max())))
        parts += _replications(scenario, range(len(parts), target), events, jobs, scheduler, progress)


def replications_needed(
    result: RunResult, precision: Mapping[str, float | str] | Iterable[str], confidence: float = 0.95
) -> pd.DataFrame:
    """For a finished run: per requested (segment, KPI), the half-width reached and the
    replications needed for the requested one (see ``sim.experiments.stats.precision_report``)."""
    return precision_report(result.kpis, parse_precision(precision), confidence)


def paired(
    reference: RunResult, other: RunResult, columns: Iterable[str] | None = None, confidence: float = 0.95
) -> pd.DataFrame:
    """Paired differences ``other - reference`` per segment and KPI, matched by replication (see
    ``sim.experiments.stats.paired_differences``). Run both with the same seed to use common random
    numbers."""
    return paired_differences(reference.kpis, other.kpis, columns, ("segment",), confidence)


def _with(scenario: Scenario, **changes) -> Scenario:
    copy = scenario.model_copy(update=changes)
    copy._source = scenario.source
    return copy
