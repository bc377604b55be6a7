"""Replications of a scenario, serially or on a pool of processes, gathered into tables.

Replication ``r`` of a scenario depends only on (scenario, seed, r): the results are the same
whatever the executor and the number of workers, and they are always assembled in replication
order.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import pandas as pd

from sim.kpi import segment_kpis
from sim.model import simulate
from sim.scenario import Scenario
from sim.stats import summarise

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
        return summarise(self.pools, ["pool"], ["capacity", "utilisation", "wait_wd_mean", "n_served"])


def _one(args: tuple[Scenario, int, bool]):
    scenario, replication, events = args
    records = simulate(scenario, replication, events=events)
    return records.cases, records.pools, records.materials, records.events


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def run(
    scenario: Scenario,
    reps: int | None = None,
    seed: int | None = None,
    jobs: int = 1,
    progress: Callable[[int], None] | None = None,
    events: bool = False,
) -> RunResult:
    """Run ``reps`` replications (default: the scenario's) with ``seed`` (default: the scenario's).

    ``jobs`` > 1 runs replications on that many processes; the tables are identical either way.
    ``progress`` is called with 1 after each finished replication (the CLI passes a tqdm bar).
    ``events`` also returns the event log (one row per stage queue entry, start and completion).
    """
    if seed is not None:
        scenario = _with(scenario, seed=int(seed))
    reps = scenario.replications if reps is None else int(reps)
    if reps < 1:
        raise ValueError(f"reps must be at least 1, found {reps}")
    tasks = [(scenario, r, events) for r in range(reps)]
    parts = []
    if jobs > 1 and reps > 1:
        with ProcessPoolExecutor(max_workers=min(jobs, reps)) as pool:
            for part in pool.map(_one, tasks):
                parts.append(part)
                if progress:
                    progress(1)
    else:
        for task in tasks:
            parts.append(_one(task))
            if progress:
                progress(1)
    cases = pd.concat([p[0] for p in parts], ignore_index=True)
    pools = pd.concat([p[1] for p in parts], ignore_index=True)
    materials = pd.concat([p[2] for p in parts], ignore_index=True)
    log = pd.concat([p[3] for p in parts], ignore_index=True) if events else None
    kpis = segment_kpis(cases, scenario)
    return RunResult(scenario, reps, cases, kpis, pools, materials, log)


def _with(scenario: Scenario, **changes) -> Scenario:
    copy = scenario.model_copy(update=changes)
    copy._source = scenario.source
    return copy
