"""The replication engine: every replication of every experiment (run, compare, sweep, check, run
to a precision) is a ``Task`` run by ``replicate``, serially, on a pool of processes or on a Dask
cluster.

A task is (scenario, replication number, what to keep). Replication ``r`` of a scenario depends
only on the scenario (its seed included) and ``r`` (``sim.engine.streams``), and ``replicate``
hands the outcomes back in task order, so every table built from them is the same whatever the
executor and the number of workers. ``replicate_as_completed`` hands each outcome back as soon as
its task finishes, with the task's index, for a caller that keeps each result as it comes (a sweep
writes a point when its own replications are done, whatever the other points do). Tasks of several
scenarios (a comparison, the points of a sweep) share one executor. A task that raises gives its
exception as its outcome; the caller decides whether that ends the experiment (a run) or is
recorded (a sweep point).

The worker (``run_task``) reduces the model's records to what the experiments read: the KPIs per
segment, pools and materials, and, when asked for, the cases and the event log. ``run`` and its
``RunResult`` are the single-scenario experiment built on it.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from contextlib import closing
from typing import Any, NamedTuple

import pandas as pd

from sim.engine.backlog import Backlog, warm_records
from sim.engine.model import ConnectionModel, simulate
from sim.engine.records import RunRecords
from sim.experiments.executors import Executor, default_jobs, make_executor
from sim.experiments.kpis import segment_kpis
from sim.experiments.results import Replication, RunResult, assemble
from sim.experiments.stats import (
    PrecisionError,
    paired_differences,
    parse_precision,
    precision_report,
)
from sim.experiments.targets import target_rows
from sim.scenario.schema import Scenario

__all__ = [
    "Outcome",
    "Progress",
    "Replication",
    "RunResult",
    "Task",
    "assemble",
    "collect",
    "default_jobs",
    "paired",
    "replicate",
    "replicate_as_completed",
    "replications_needed",
    "run",
    "run_task",
    "run_to_precision",
    "with_seed",
]

Progress = Callable[[int], None]  # called with the number of replications just finished


# ------------------------------------------------------------------------------ the engine


class Task(NamedTuple):
    """One replication to run. ``cases=False`` leaves the per-case table in the worker (a sweep
    keeps only KPIs and pools); ``events`` also keeps the stage event log. For a scenario with
    ``companies``, a task runs the whole city (its companies one after the other), or only
    ``company`` (``run(..., split_companies=True)``: the caller combines them). With a
    ``backlog`` the replication is warm-started from it (``sim.engine.backlog``)."""

    scenario: Scenario
    replication: int
    events: bool = False
    cases: bool = True
    company: str | None = None
    backlog: Backlog | None = None


def run_task(task: Task) -> Replication:
    """Run one task (in whichever process the executor chose)."""
    scenario, replication, events, cases, company, backlog = task
    if company is not None:  # one company of the city: its records, combined by the caller
        return _part(simulate(scenario, replication, events=events, company=company))
    if scenario.companies and scenario.shared_pools:  # one simulation: shared members serve all
        model = ConnectionModel(scenario, replication, events=events)
        parts = [_part(records) for records in model.run_all()]
        return combine(scenario, parts, cases, events, model.shared_pools)
    if scenario.companies:  # the city: its companies share nothing, so they run one by one
        parts = [run_task(task._replace(company=name, cases=True)) for name in scenario.companies]
        return combine(scenario, parts, cases, events)
    if backlog is not None:
        records = warm_records(scenario, replication, backlog, events)
    else:
        records = simulate(scenario, replication, events=events)
    return Replication(
        replication=replication,
        kpis=segment_kpis(records.cases, scenario, [replication]),
        pools=records.pools,
        materials=records.materials,
        targets=target_rows(records.cases, scenario, [replication]),
        cases=records.cases if cases else None,
        events=records.events if events else None,
    )


def _part(records: RunRecords) -> Replication:
    """One company's part of a city's replication (its KPIs come from the city's combination)."""
    empty = pd.DataFrame()
    return Replication(
        records.replication, empty, records.pools, records.materials, empty, records.cases, records.events
    )


def combine(
    scenario: Scenario,
    parts: Sequence[Replication],
    cases: bool = True,
    events: bool = False,
    shared_pools: pd.DataFrame | None = None,
) -> Replication:
    """One replication of a city from its companies' (in the scenario's order): their cases,
    pools, stock and events together (then the ``shared_pools``' rows), the KPIs and targets
    over all their cases."""
    replication = parts[0].replication
    together = pd.concat([p.cases for p in parts], ignore_index=True)
    pools = [p.pools for p in parts] + ([shared_pools] if shared_pools is not None else [])
    return Replication(
        replication=replication,
        kpis=segment_kpis(together, scenario, [replication]),
        pools=pd.concat(pools, ignore_index=True),
        materials=pd.concat([p.materials for p in parts], ignore_index=True),
        targets=target_rows(together, scenario, [replication]),
        cases=together if cases else None,
        events=pd.concat([p.events for p in parts], ignore_index=True) if events else None,
    )


Outcome = Replication | BaseException  # what a task gives back: its replication or its exception


def replicate_as_completed(
    tasks: Sequence[Task],
    *,
    jobs: int | None = 1,
    scheduler: Any = None,
    executor: Executor | None = None,
    progress: Progress | None = None,
) -> Generator[tuple[int, Outcome], None, None]:
    """Run ``tasks`` and yield ``(index, outcome)`` as each task finishes, in whatever order they
    finish: ``index`` is the task's position in ``tasks``, ``outcome`` a ``Replication`` or the
    exception the task raised.

    The tasks run on ``executor`` if given (left open for the caller to reuse), else on one made
    for them: a Dask cluster with ``scheduler`` (an address ``tcp://host:8786`` or a
    ``distributed.Client``), else ``jobs`` processes (``None``: all cores; 1: this process).
    ``progress`` is called with 1 as each task finishes. Closing the generator early (or an
    interrupt) stops the workers at once."""
    own = executor is None
    if executor is None:
        executor = make_executor(jobs, scheduler, tasks=len(tasks))
    try:
        with closing(executor.run(run_task, tasks)) as outcomes:
            for index, outcome in outcomes:
                if progress:
                    progress(1)
                yield index, outcome
    finally:
        if own:
            executor.close()


def replicate(
    tasks: Sequence[Task],
    *,
    jobs: int | None = 1,
    scheduler: Any = None,
    executor: Executor | None = None,
    progress: Progress | None = None,
) -> Generator[Outcome, None, None]:
    """Run ``tasks`` and yield their outcomes in task order: a ``Replication``, or the exception
    the task raised. An outcome that finished early waits for those before it; the arguments are
    those of ``replicate_as_completed``."""
    finished: dict[int, Outcome] = {}
    following = 0  # the next outcome to yield, in task order
    as_completed = replicate_as_completed(
        tasks, jobs=jobs, scheduler=scheduler, executor=executor, progress=progress
    )
    with closing(as_completed):
        for index, outcome in as_completed:
            finished[index] = outcome
            while following in finished:
                yield finished.pop(following)
                following += 1


def collect(outcomes: Generator[Outcome, None, None]) -> list[Replication]:
    """The replications of ``replicate(...)``, in task order; the first task that raised ends the
    experiment with its exception (the other workers are stopped)."""
    done: list[Replication] = []
    with closing(outcomes):
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
            done.append(outcome)
    return done


# ------------------------------------------------------------------------------ a run


def with_seed(scenario: Scenario, seed: int | None) -> Scenario:
    """``scenario`` with another seed (the same object when ``seed`` is None); it keeps its source."""
    return scenario if seed is None else scenario.model_copy(update={"seed": int(seed)})


def run(
    scenario: Scenario,
    reps: int | None = None,
    seed: int | None = None,
    jobs: int = 1,
    progress: Progress | None = None,
    events: bool = False,
    scheduler: Any = None,
    split_companies: bool = False,
) -> RunResult:
    """Run ``reps`` replications (default: the scenario's) with ``seed`` (default: the scenario's).

    A scenario with ``companies`` runs each replication as its companies' independent runs
    together; ``split_companies`` makes each company of each replication a task of its own
    (more tasks for more workers), with the same tables. With ``shared`` pools the companies are
    not independent: each replication is one simulation of them all, whatever the split.

    ``jobs`` > 1 runs replications on that many processes; ``scheduler`` (an address
    ``tcp://host:8786`` or a ``distributed.Client``) runs them on a Dask cluster instead. The
    tables are identical either way. ``progress`` is called with 1 after each finished replication
    (the CLI passes a tqdm bar). ``events`` also returns the event log (one row per stage queue
    entry, start and completion).
    """
    scenario = with_seed(scenario, seed)
    reps = scenario.replications if reps is None else int(reps)
    if reps < 1:
        raise ValueError(f"reps must be at least 1, found {reps}")
    if split_companies and scenario.companies and not scenario.shared_pools:  # a task per company
        companies = list(scenario.companies)
        tasks = [Task(scenario, r, events, True, c) for r in range(reps) for c in companies]
        parts = collect(replicate(tasks, jobs=jobs, scheduler=scheduler, progress=progress))
        size = len(companies)
        whole = [combine(scenario, parts[i : i + size], True, events) for i in range(0, len(parts), size)]
        return assemble(scenario, whole)
    tasks = [Task(scenario, r, events) for r in range(reps)]
    return assemble(scenario, collect(replicate(tasks, jobs=jobs, scheduler=scheduler, progress=progress)))


MIN_FIRST_BATCH = 10


def run_to_precision(
    scenario: Scenario,
    precision: Mapping[str, float | str] | Iterable[str],
    reps: int | None = None,
    max_reps: int = 100,
    seed: int | None = None,
    jobs: int = 1,
    progress: Progress | None = None,
    events: bool = False,
    scheduler: Any = None,
    confidence: float = 0.95,
) -> tuple[RunResult, pd.DataFrame]:
    """Run replications until each requested KPI's 95% half-width is small enough (sequential
    procedure), or ``max_reps`` replications have run.

    ``precision`` maps ``KPI`` (every segment) or ``SEGMENT.KPI`` to a half-width in the KPI's
    units, or to a percentage of its mean (``"5%"``); strings ``"KPI=H"`` are accepted too, e.g.
    ``{"on_target_share": 0.02}``. It starts with ``reps`` replications (default: the
    scenario's; at least ``MIN_FIRST_BATCH``), estimates from their spread how many each KPI needs
    (``sim.experiments.stats.replications_needed``), runs the missing ones (replications ``n, n+1,
    ...``: the first ``n`` are kept, nothing is rerun) and checks again. Returns the run and the
    report of ``sim.experiments.stats.precision_report`` (one row per segment and KPI, with ``met``).

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
    scenario = with_seed(scenario, seed)
    first = scenario.replications if reps is None else int(reps)
    limit = max(2, int(max_reps))
    n = min(max(MIN_FIRST_BATCH, first), limit)
    parts: list[Replication] = []
    with make_executor(jobs, scheduler, tasks=limit) as executor:  # one executor for every batch
        while True:
            tasks = [Task(scenario, r, events) for r in range(len(parts), n)]
            parts += collect(replicate(tasks, executor=executor, progress=progress))
            result = assemble(scenario, parts)
            report = precision_report(result.kpis, requests, confidence)
            unmet = report[~report["met"]]
            if unmet.empty or len(parts) >= max_reps:
                return result, report
            needed = unmet["needed"].dropna()
            if needed.empty:  # nothing can be estimated (no finite values): more replications won't help
                return result, report
            n = min(int(max_reps), max(len(parts) + 1, int(needed.max())))


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
