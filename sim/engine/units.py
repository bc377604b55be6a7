"""The parts of a run that belong to one supply company (or to the whole district of a scenario
without ``companies``): a *unit* owns its random streams, its share of the applications, the
members of its own pools, its stock, its compiled rules and its records. Pools declared
``shared`` belong to the city: one set of members that every company's cases queue for, at the
scenario's ``scale`` (``sim.engine.model`` runs the units of a city with shared pools in one
simulation)."""

from __future__ import annotations

from collections.abc import Mapping

import simpy

from sim.engine.calendar import WorkingCalendar
from sim.engine.materials import MaterialStock
from sim.engine.pools import ResourcePool
from sim.engine.records import RunRecords
from sim.engine.rules import Rules, at_start
from sim.engine.streams import CaseStreams
from sim.scenario.resources import Pool
from sim.scenario.schema import Scenario


class Unit:
    """One company of a city (``company``: its name) or the scenario's district (None)."""

    def __init__(
        self,
        env: simpy.Environment,
        scenario: Scenario,
        replication: int,
        calendar: WorkingCalendar,
        company: str | None,
        shared: Mapping[str, ResourcePool],
        events: bool,
    ):
        self.name = company
        self.streams = CaseStreams(scenario.seed, replication, company)
        # one company of the city: its share of the applications, staff and stock, its own
        # members where it says so, its name and region on every case
        self.company = scenario.companies[company] if company is not None else None
        self.scale = scenario.scale * (self.company.share if self.company else 1.0)
        self.fixed = {"company": company, "region": self.company.region} if self.company else None
        h = scenario.horizon
        observed = (h.warmup_days, h.arrival_days)  # from the end of the warm-up; the counted days
        start = at_start(scenario, calendar)  # staff and stock as the measures of the start say
        self.own_pools = {
            name: ResourcePool(env, name, *self.staffed(name, spec), *observed)
            for name, spec in start.resources.items()
            if name not in shared
        }
        self.pools = {name: shared.get(name) or self.own_pools[name] for name in scenario.resources}
        self.materials = {
            name: MaterialStock(env, name, spec, self.scale, self.streams)
            for name, spec in start.materials.items()
        }
        self.rules = Rules(scenario, calendar, self.pools, self.materials)
        self.records = RunRecords(scenario, replication, calendar, events=events, company=company)
        self.log = self.records.log.add if self.records.log is not None else None

    def staffed(self, name: str, spec: Pool) -> tuple[Pool, float]:
        """A pool's spec and scale in this unit: a company's own members, unscaled, where it
        gives them; else the scenario's capacity at the unit's scale."""
        own = self.company.resources.get(name) if self.company else None
        if own is None:
            return spec, self.scale
        hours = own.hours_per_day if own.hours_per_day is not None else spec.hours_per_day
        return spec.model_copy(update={"capacity": own.capacity, "hours_per_day": hours}), 1.0

    def adjust(self, rules: Scenario, now: float) -> None:
        """Its own pools and its stock as the measures in force from ``now`` (``rules``) say."""
        for name, pool in self.own_pools.items():
            pool.adjust(*self.staffed(name, rules.resources[name]), now)
        for name, stock in self.materials.items():
            stock.adjust(rules.materials[name], self.scale)

    def finish(self, end: float) -> RunRecords:
        """The unit's tables, at the run's end; its random numbers are let go first (the tables
        take their place in memory)."""
        self.streams.clear()
        self.records.finish(end, self.own_pools.values(), self.materials.values())
        return self.records
