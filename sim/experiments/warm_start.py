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

from sim.evidence.backlog import BacklogReading, read_backlog
from sim.evidence.log_reading import Log, LogError
from sim.experiments.replications import Progress, Task, collect, replicate, with_seed
from sim.experiments.results import RunResult, assemble
from sim.scenario.schema import Scenario


@dataclass(frozen=True)
class WarmStart:
    """A warm-started run (``result``: its ``cases`` have ``warm_started``) and the backlog it
    started from (``reading``: the cases placed, those not placed and why)."""

    result: RunResult
    reading: BacklogReading


def warm_scenario(scenario: Scenario, cut_off: dt.date) -> Scenario:
    """``scenario`` with its horizon starting at ``cut_off`` and no warm-up (its arrival and drain
    days as they were: the new applications from the cut-off on)."""
    horizon = scenario.horizon.model_copy(update={"start": cut_off, "warmup_days": 0})
    return scenario.model_copy(update={"horizon": horizon})


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
    reps = warm.replications if reps is None else int(reps)
    periods = sorted(int(p) for p in log.events["period"].unique())
    if len(periods) > 1 and reps > len(periods):
        raise LogError(
            f"{log.source}: holds {len(periods)} replications, fewer than the {reps} asked for; "
            f"ask for at most {len(periods)} (each starts from its own replication's backlog)"
        )
    used = periods[:reps] if len(periods) > 1 else periods  # only the replications run are read
    reading = read_backlog(log, scenario, cut_off, used)
    if not reading.placed and not reading.finished and reading.unplaced.empty:
        raise LogError(f"{log.source}: no case applied before the cut-off {cut_off}")
    backlogs = [reading.backlogs[used[r] if len(used) > 1 else used[0]] for r in range(reps)]
    tasks = [Task(warm, r, events, backlog=backlogs[r]) for r in range(reps)]
    parts = collect(replicate(tasks, jobs=jobs, scheduler=scheduler, progress=progress))
    return WarmStart(assemble(warm, parts), reading)
