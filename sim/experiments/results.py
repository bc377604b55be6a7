"""What a run gives back: each replication's tables (``Replication``, from a worker), and a run's
tables over its replications (``RunResult``, built by ``assemble``) with their summaries: per
segment, pool, company, month and target. ``sim.experiments.replications`` runs the tasks that
produce them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pandas as pd

from sim import kpi_catalogue
from sim.experiments.kpis import segment_kpis
from sim.experiments.monthly import monthly_kpis, monthly_summary
from sim.experiments.stats import summarise
from sim.experiments.targets import judge
from sim.scenario.schema import Scenario


@dataclass(frozen=True)
class Replication:
    """What one replication gives back: its KPI rows (one per segment), pool and material rows,
    and the cases and events when the task kept them."""

    replication: int
    kpis: pd.DataFrame
    pools: pd.DataFrame
    materials: pd.DataFrame
    targets: pd.DataFrame
    cases: pd.DataFrame | None = None
    events: pd.DataFrame | None = None


@dataclass(frozen=True)
class RunResult:
    """Tables of a run: ``cases`` (one row per counted case), ``kpis`` (per replication and
    segment), ``pools`` and ``materials`` (per replication), ``targets`` (per replication, segment
    and target: ``target_summary`` judges them)."""

    scenario: Scenario
    replications: int
    cases: pd.DataFrame
    kpis: pd.DataFrame
    pools: pd.DataFrame
    materials: pd.DataFrame
    targets: pd.DataFrame
    events: pd.DataFrame | None = None
    _cache: dict = field(default_factory=dict, repr=False, compare=False)  # summaries computed once

    def summary(self) -> pd.DataFrame:
        """Per segment: the mean over replications of each KPI of the run's summary
        (``kpi_catalogue.SUMMARY``), with its 95% half-width."""
        table = summarise(self.kpis, ["segment"], kpi_catalogue.SUMMARY)
        targets = self.kpis.groupby("segment", sort=False)["target_measure"].first()
        table.insert(1, "target_measure", table["segment"].map(targets))
        return table

    def pool_summary(self) -> pd.DataFrame:
        """Per pool: mean over replications of its members, utilisation, mean wait and cases served
        (``kpi_catalogue.POOL_SUMMARY``), with 95% half-widths (empty, with these columns, for a
        scenario without pools); with ``companies``, per company and pool (a shared pool's
        ``company`` is ``shared``)."""
        by = ["company", "pool"] if "company" in self.pools else ["pool"]
        return summarise(self.pools, by, kpi_catalogue.POOL_SUMMARY)

    def monthly(self, by: Sequence[str] = (), every: str = "month") -> pd.DataFrame:
        """Per segment and month of application (and value of each ``by`` column, e.g.
        ``region`` or ``company``): the mean over replications of ``monthly.MONTHLY_KPIS`` with
        95% half-widths, each month against the targets in force at its end; ``every="quarter"``
        per quarter (``sim.experiments.monthly``)."""
        key = ("monthly", tuple(by), every)
        if key not in self._cache:
            frame = monthly_kpis(self.cases, self.scenario, range(self.replications), by, every)
            self._cache[key] = monthly_summary(frame, by)
        return self._cache[key].copy()

    def company_summary(self) -> pd.DataFrame:
        """Per company and segment: the mean over replications of each KPI of the run's summary
        over that company's cases, with its 95% half-width (empty without ``companies``)."""
        if not self.scenario.companies:
            return pd.DataFrame()
        if "companies" not in self._cache:
            reps = range(self.replications)
            frames = [
                segment_kpis(self.cases[self.cases["company"] == name], self.scenario, reps).assign(
                    company=name
                )
                for name in self.scenario.companies
            ]
            table = pd.concat(frames, ignore_index=True)
            self._cache["companies"] = summarise(table, ["company", "segment"], kpi_catalogue.SUMMARY)
        return self._cache["companies"].copy()

    def target_summary(self) -> pd.DataFrame:
        """Per segment and target: its statistic over replications with its 95% half-width and
        the verdict, met, missed or undecided (``sim.experiments.targets.judge``)."""
        return judge(self.targets)


def assemble(scenario: Scenario, parts: Sequence[Replication]) -> RunResult:
    """A ``RunResult`` from the replications ``0 .. n-1`` of ``scenario``, in that order (tasks
    that kept their cases)."""

    def gather(frames: Iterable[pd.DataFrame | None]) -> pd.DataFrame:
        return pd.concat([f for f in frames if f is not None], ignore_index=True)

    events = gather(p.events for p in parts) if parts and parts[0].events is not None else None
    return RunResult(
        scenario=scenario,
        replications=len(parts),
        cases=gather(p.cases for p in parts),
        kpis=gather(p.kpis for p in parts),
        pools=gather(p.pools for p in parts),
        materials=gather(p.materials for p in parts),
        targets=gather(p.targets for p in parts),
        events=events,
    )
