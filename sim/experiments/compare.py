"""Comparing scenarios: the same replications (same seed) for each, paired differences.

Every scenario is run with one common seed and the same replication numbers, so replication ``r``
of each scenario meets the same cases with the same luck (case-keyed streams). The difference of a
KPI between a scenario and the reference is taken replication by replication and summarised by its
mean and 95% t-interval: the paired interval, much narrower than comparing two independent means.
A scenario compared with itself has a difference of exactly zero.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.experiments.replications import Progress, RunResult, Task, assemble, collect, replicate, with_seed
from sim.experiments.stats import paired_differences, summarise
from sim.experiments.targets import verdict_table
from sim.kpi_catalogue import COMPARISON, is_share, kpi_names
from sim.scenario.schema import Scenario
from sim.scenario.steps import measure_steps

HEADLINE_SEGMENTS = ("lv_smb", "hv_single", "hv_dual")


@dataclass(frozen=True)
class CompareResult:
    """``table``: one row per segment, scenario and KPI (``kpi_catalogue.COMPARISON``) with the
    mean over replications, its half-width, and the paired difference to the reference with its
    half-width. ``pools``: pool utilisation and waits side by side. ``targets``: every target of
    every scenario judged (``sim.experiments.targets.judge``). ``runs``: each scenario's
    ``RunResult``. ``by_measure``: when asked for, the comparison of a package's steps, one
    measure at a time (``by_measure``)."""

    reference: str
    scenarios: list[str]
    seed: int
    replications: int
    runs: dict[str, RunResult]
    table: pd.DataFrame
    pools: pd.DataFrame
    targets: pd.DataFrame
    by_measure: CompareResult | None = None

    def verdicts(self) -> pd.DataFrame:
        """Targets x scenarios: each target's statistic with its interval and verdict, for reading
        (segments and targets in the reference's order; a target one scenario lacks is empty)."""
        table = verdict_table(self.targets)
        table["cell"] = table["value (95% interval)"] + ": " + table["verdict"]
        wide = table.pivot_table(
            index=["segment", "target", "applies to"],
            columns="scenario",
            values="cell",
            aggfunc="first",
            sort=False,
        )
        return wide.reindex(columns=self.scenarios).fillna("").reset_index()

    def wide(
        self, kpis: Sequence[str] = ("target_wd_mean", "target_wd_p95", "on_target_share")
    ) -> pd.DataFrame:
        """Segments x scenarios with the chosen KPIs (means) as columns, for reading."""
        sub = self.table[self.table["kpi"].isin(kpis)]
        return sub.pivot_table(index=["segment", "scenario"], columns="kpi", values="mean", sort=False)


def with_target_columns(kpis: pd.DataFrame) -> pd.DataFrame:
    """Add ``target_wd_mean/p95/max`` (those the KPI catalogue names): the statistics of each
    row's own target measure."""
    out = kpis.copy()
    for stat in [n.removeprefix("target_wd_") for n in kpi_names("kpis") if n.startswith("target_wd_")]:
        values = np.full(len(out), np.nan)
        for measure in out["target_measure"].dropna().unique():
            rows = (out["target_measure"] == measure).to_numpy()
            values[rows] = out.loc[rows, f"{measure}_wd_{stat}"].to_numpy()
        out[f"target_wd_{stat}"] = values
    return out


def consecutive_differences(
    result: CompareResult, kpis: Sequence[str] = ("target_wd_mean", "on_target_share")
) -> pd.DataFrame:
    """Each scenario minus the one before it, in the order compared, paired by replication
    (``paired_differences``): the change each one brings. For the steps of a package
    (``sim.scenario.steps``) that is each measure's contribution in roll-out order."""
    frames = [with_target_columns(result.runs[name].kpis) for name in result.scenarios]
    out = []
    for i in range(1, len(frames)):
        step = paired_differences(frames[i - 1], frames[i], list(kpis))
        step.insert(0, "scenario", result.scenarios[i])
        step.insert(1, "previous", result.scenarios[i - 1])
        out.append(step)
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame()


def compare(
    reference: Scenario,
    others: Sequence[Scenario],
    reps: int | None = None,
    seed: int | None = None,
    jobs: int = 1,
    progress: Progress | None = None,
    scheduler: Any = None,
) -> CompareResult:
    """Run the reference and the other scenarios on common random numbers and compare them.

    ``seed`` defaults to the reference's seed and ``reps`` to its replications; every scenario is
    run with both, whatever its own file says. The replications of all scenarios share one
    executor (``jobs`` processes, or the Dask cluster at ``scheduler``); ``progress`` is called
    with 1 after each one."""
    names = [s.name for s in (reference, *others)]
    if len(set(names)) != len(names):
        raise ValueError(f"scenario names must differ to be compared, found {names}")
    for other in others:
        if set(other.segments) != set(reference.segments):
            raise ValueError(
                f"scenario {other.name} has segments {sorted(other.segments)}, the reference "
                f"{reference.name} has {sorted(reference.segments)}: only scenarios with the same "
                "segments can be compared"
            )
    seed = reference.seed if seed is None else int(seed)
    reps = reference.replications if reps is None else int(reps)
    scenarios = [with_seed(s, seed) for s in (reference, *others)]
    tasks = [Task(s, r) for s in scenarios for r in range(reps)]
    parts = collect(replicate(tasks, jobs=jobs, scheduler=scheduler, progress=progress))
    runs = {s.name: assemble(s, parts[i * reps : (i + 1) * reps]) for i, s in enumerate(scenarios)}
    return CompareResult(
        reference=reference.name,
        scenarios=names,
        seed=seed,
        replications=reps,
        runs=runs,
        table=_kpi_table(runs, reference.name),
        pools=_pool_table(runs),
        targets=pd.concat([r.target_summary() for r in runs.values()], ignore_index=True),
    )


def _kpi_table(runs: dict[str, RunResult], reference: str) -> pd.DataFrame:
    kpis = list(COMPARISON)
    frames = {name: with_target_columns(r.kpis) for name, r in runs.items()}
    ref = frames[reference]
    means = {name: summarise(f, ["segment"], kpis).set_index("segment") for name, f in frames.items()}
    diffs = {
        name: paired_differences(ref, f, kpis).set_index(["segment", "kpi"]) for name, f in frames.items()
    }
    targets = {
        name: f.groupby("segment", sort=False)[["target_measure", "target_days"]].first()
        for name, f in frames.items()
    }
    rows = []
    for segment in ref["segment"].unique():
        for name in frames:
            for kpi in kpis:
                paired = diffs[name].loc[(segment, kpi)]
                rows.append(
                    {
                        "segment": segment,
                        "scenario": name,
                        "kpi": kpi,
                        "target_measure": targets[name].at[segment, "target_measure"],
                        "target_days": targets[name].at[segment, "target_days"],
                        "mean": means[name].at[segment, kpi],
                        "hw": means[name].at[segment, f"{kpi}_hw"],
                        **_interval(means[name].loc[segment], kpi),
                        "diff": paired["difference"],
                        "diff_hw": paired["difference_hw"],
                    }
                )
    return pd.DataFrame(rows)


def _interval(summary: pd.Series, kpi: str) -> dict[str, float]:
    """A KPI's 95% interval: a share's bounded one, any other mean ± its half-width."""
    if is_share(kpi):
        return {"lo": summary[f"{kpi}_lo"], "hi": summary[f"{kpi}_hi"]}
    return {"lo": summary[kpi] - summary[f"{kpi}_hw"], "hi": summary[kpi] + summary[f"{kpi}_hw"]}


def _pool_table(runs: dict[str, RunResult]) -> pd.DataFrame:
    frames = []
    for name, result in runs.items():
        summary = result.pool_summary()
        summary.insert(0, "scenario", name)
        frames.append(summary)
    return pd.concat(frames, ignore_index=True)


def by_measure(
    path: str | os.PathLike,
    reps: int | None = None,
    seed: int | None = None,
    jobs: int = 1,
    progress: Progress | None = None,
    scheduler: Any = None,
) -> CompareResult:
    """A package's measures one at a time (``sim.scenario.steps.measure_steps``): its base, the
    base with each further measure in roll-out order, and the package, all on common random
    numbers (the package's seed and replications unless given). ``consecutive_differences`` of
    the result are the measures' contributions."""
    steps = measure_steps(path)
    package = steps[-1]
    return compare(
        steps[0],
        steps[1:],
        reps=package.replications if reps is None else reps,
        seed=package.seed if seed is None else seed,
        jobs=jobs,
        progress=progress,
        scheduler=scheduler,
    )
