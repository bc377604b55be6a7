"""The connection process as SimPy processes: arrivals, a case's flow, parallel branches, rework.

Simulation time is *working time*: working days since the calendar's start (see
``sim.engine.calendar``). Stage durations are in working days, except stages with ``calendar: calendar``
(the customer's own construction), whose calendar days are mapped through the calendar.

Each segment has an arrival process (Poisson, case numbers 0, 1, 2, ...). A case draws its
attributes, then walks its segment's flow. A stage is skipped when its condition fails; otherwise
the case takes its materials (first visit only), queues for the stage's pools, holds them for the
sampled duration, and may fail and go through rework. A ``parallel`` step runs its branches as
separate processes and continues when all have finished. Every random number comes from the
case-keyed streams (``sim.engine.streams``), so cases meet the same luck in every scenario.

The model is pure: scenario and replication number in, ``RunRecords`` out. No printing, no files.
"""

from __future__ import annotations

import bisect
import math
from functools import lru_cache

import numpy as np
import simpy

from sim.engine.calendar import WorkingCalendar
from sim.engine.pools import MaterialStock, ResourcePool
from sim.engine.records import CaseClock, RunRecords
from sim.engine.streams import CaseStreams
from sim.scenario.conditions import holds
from sim.scenario.distributions import Bernoulli, Categorical, Constant, Exponential
from sim.scenario.schema import ParallelStep, Scenario, StageStep, pool_names


@lru_cache(maxsize=8)
def _china_calendar(start, end, beyond_published: str) -> WorkingCalendar:
    return WorkingCalendar.china(start, end, beyond_published=beyond_published)


def calendar_for(scenario: Scenario) -> WorkingCalendar:
    """A calendar long enough for the whole horizon (warm-up, arrivals and the drain cap)."""
    import datetime as dt

    h = scenario.horizon
    needed = h.warmup_days + h.arrival_days + h.drain_days
    days = math.ceil(needed * 7 / 5 * 1.1) + 45  # ample: 5 working days a week plus holidays
    cal = _china_calendar(h.start, h.start + dt.timedelta(days=days), scenario.calendar.beyond_published)
    if cal.total_working_days < needed:  # pragma: no cover - the margin above is generous
        raise AssertionError("calendar margin too small")
    return cal


class _Case:
    __slots__ = (
        "arrival",
        "attrs",
        "clock",
        "counted",
        "number",
        "procedures",
        "reworks",
        "segment",
        "visits",
    )

    def __init__(self, number, segment, attrs, counted, arrival):
        self.number = number
        self.segment = segment
        self.attrs = attrs
        self.counted = counted
        self.arrival = arrival
        self.clock = CaseClock(arrival)
        self.visits: dict[str, int] = {}
        self.procedures: set[str] = set()
        self.reworks = 0


class _StagePlan:
    """A stage as the model walks it: names resolved to pool and stock objects, purposes named."""

    __slots__ = (
        "attempts",
        "calendar_days",
        "duration",
        "duration_purpose",
        "fix",
        "handling",
        "material",
        "name",
        "owner",
        "pools",
        "procedure",
        "quantity",
        "rework_probability",
        "rework_purpose",
        "variants",
        "when",
    )

    def __init__(self, name: str, stage, pools: dict, materials: dict):
        self.name = name
        self.owner = stage.owner
        self.handling = stage.handling
        self.procedure = stage.procedure
        self.when = stage.when
        self.duration = stage.duration
        # pools are always requested in one global order (by name), so that two stages holding
        # the same pools can never wait for each other
        self.pools = tuple(pools[p] for p in sorted(stage.pools))
        self.variants = [
            (
                v.when,
                v.duration or stage.duration,
                self.pools if v.pool is None else tuple(pools[p] for p in sorted(pool_names(v.pool))),
            )
            for v in stage.variants
        ]
        self.calendar_days = stage.calendar == "calendar"
        self.attempts = stage.rework.max_attempts if stage.rework else 1
        self.rework_probability = stage.rework.probability if stage.rework else 0.0
        self.fix = stage.rework.fix if stage.rework else None
        self.material = materials[stage.materials.item] if stage.materials else None
        self.quantity = stage.materials.quantity if stage.materials else 0
        self.duration_purpose = "duration:" + name
        self.rework_purpose = "rework:" + name


_Step = tuple  # (stage plan or None, condition or None, parallel branches or None)


def _compile_flow(steps, plans: dict) -> list[_Step]:
    """The flow with stage names resolved; disabled stages (``enabled: false``) left out."""
    out = []
    for step in steps:
        if isinstance(step, str):
            if plans[step] is not None:
                out.append((plans[step], None, None))
        elif isinstance(step, StageStep):
            if plans[step.stage] is not None:
                out.append((plans[step.stage], step.when, None))
        elif isinstance(step, ParallelStep):
            out.append((None, step.when, [_compile_flow(b, plans) for b in step.parallel]))
    return out


class ConnectionModel:
    def __init__(
        self,
        scenario: Scenario,
        replication: int,
        calendar: WorkingCalendar | None = None,
        events: bool = False,
    ):
        self.sc = scenario
        self.replication = replication
        self.calendar = calendar or calendar_for(scenario)
        self.env = simpy.Environment()
        self.streams = CaseStreams(scenario.seed, replication)
        h = scenario.horizon
        self.count_from = h.warmup_days
        self.count_until = h.warmup_days + h.arrival_days
        self.cap = self.count_until + h.drain_days
        self.pools = {
            name: ResourcePool(self.env, name, spec, scenario.scale, self.count_from)
            for name, spec in scenario.resources.items()
        }
        self.materials = {
            name: MaterialStock(self.env, name, spec, scenario.scale, self.streams)
            for name, spec in scenario.materials.items()
        }
        self.plans = {
            name: _StagePlan(name, stage, self.pools, self.materials) if stage.enabled else None
            for name, stage in scenario.stages.items()
        }
        self.flows = {name: _compile_flow(seg.flow, self.plans) for name, seg in scenario.segments.items()}
        self.records = RunRecords(scenario, replication, self.calendar, events=events)
        self.log = self.records.log_event if events else None
        self.open_cases: dict[tuple[str, int], _Case] = {}  # counted cases not yet connected
        self.counted_open = 0
        self.arrivals_done = False
        self.done = self.env.event()
        self._attribute_plans = {name: self._attribute_plan(name) for name in scenario.segments}

    # ------------------------------------------------------------------ running
    def run(self) -> RunRecords:
        for name, segment in self.sc.segments.items():
            rate = segment.arrivals.rate_per_wd * self.sc.scale
            if rate > 0:
                self.env.process(self._arrivals(name, Exponential(dist="exponential", mean=1 / rate)))
        self.env.process(self._close_cohort())
        self.env.run(until=self.done)
        end = self.env.now
        for case in self.open_cases.values():
            if case.counted:
                self.records.add(case, None, end)
        self.records.finish(end, self.pools.values(), self.materials.values())
        return self.records

    def _close_cohort(self):
        yield self.env.timeout(self.count_until)
        self.arrivals_done = True
        if self.counted_open == 0:
            self.done.succeed()
            return
        yield self.env.timeout(self.cap - self.count_until)
        if not self.done.triggered:
            self.done.succeed()

    def _arrivals(self, segment: str, gap):
        t = 0.0
        number = 0
        while True:
            t += self.streams.sample(segment, "arrival", number, gap)
            yield self.env.timeout(t - self.env.now)
            counted = self.count_from <= t < self.count_until
            case = _Case(number, segment, self._attributes(segment, number), counted, t)
            self.env.process(self._case(case))
            number += 1

    def _attribute_plan(self, segment: str) -> list[tuple]:
        """The segment's attributes as (name, kind, purpose, argument), resolved once per run:
        kind 0 a constant (argument: the value), 1 a flag (its condition and p), 2 a category
        (cumulative weights and values), 3 a distribution sampled by inverse transform."""
        plan = []
        for name, spec in self.sc.segments[segment].attributes.items():
            purpose = "attr:" + name
            if isinstance(spec, Constant):
                plan.append((name, 0, purpose, spec.value))
            elif isinstance(spec, Bernoulli):
                plan.append((name, 1, purpose, (spec.when, spec.p)))
            elif isinstance(spec, Categorical):
                w = np.fromiter(spec.values.values(), dtype=float)
                plan.append((name, 2, purpose, (list(np.cumsum(w) / w.sum()), list(spec.values))))
            else:
                plan.append((name, 3, purpose, spec))
        return plan

    def _attributes(self, segment: str, number: int) -> dict:
        attrs: dict = {}
        streams = self.streams
        for name, kind, purpose, arg in self._attribute_plans[segment]:
            if kind == 0:
                attrs[name] = arg
            elif kind == 1:
                u = streams.uniform(segment, purpose, number)
                attrs[name] = holds(arg[0], attrs) and u < arg[1]
            elif kind == 2:
                u = streams.uniform(segment, purpose, number)
                cum, values = arg
                attrs[name] = values[min(bisect.bisect_right(cum, u), len(values) - 1)]
            else:
                attrs[name] = streams.sample(segment, purpose, number, arg)
        return attrs

    # ------------------------------------------------------------------ a case
    def _case(self, case: _Case):
        counted = case.counted
        key = (case.segment, case.number)
        if counted:  # only counted cases are reported open at the end
            self.open_cases[key] = case
            self.counted_open += 1
        # the flow's top level is walked here rather than in _steps: one generator frame less to
        # resume at every event of the case
        attrs = case.attrs
        for plan, when, branches in self.flows[case.segment]:
            if when is not None and not holds(when, attrs):
                continue
            if branches is None:
                yield from self._visit(case, plan)
            else:
                yield self.env.all_of([self.env.process(self._steps(case, b)) for b in branches])
        if counted:
            del self.open_cases[key]
            self.records.add(case, self.env.now, self.env.now)
            self.counted_open -= 1
            if self.counted_open == 0 and self.arrivals_done and not self.done.triggered:
                self.done.succeed()

    def _steps(self, case: _Case, steps: list[_Step]):
        attrs = case.attrs
        for plan, when, branches in steps:
            if when is not None and not holds(when, attrs):
                continue
            if branches is None:
                yield from self._visit(case, plan)
            else:
                yield self.env.all_of([self.env.process(self._steps(case, b)) for b in branches])

    def _visit(self, case: _Case, plan: _StagePlan):
        attrs = case.attrs
        if plan.when is not None and not holds(plan.when, attrs):
            return
        duration, pools = plan.duration, plan.pools
        for when, variant_duration, variant_pools in plan.variants:
            if holds(when, attrs):
                duration, pools = variant_duration, variant_pools
                break
        # this runs at every stage visit: names are looked up once, and the time is read once
        # after each wait and handed to the pools and the clock
        env = self.env
        counted = case.counted
        log = self.log if counted else None
        name, owner, handling = plan.name, plan.owner, plan.handling
        clock, visits, segment, number = case.clock, case.visits, case.segment, case.number
        sample = self.streams.sample
        for attempt in range(plan.attempts):
            draw = visits.get(name, 0)
            visits[name] = draw + 1
            now = env.now
            clock.enter(now, owner, handling)
            if log:
                log(case, name, "schedule", now, pools, owner, draw)
            if plan.material is not None and draw == 0:
                yield from plan.material.supply(segment, number, plan.quantity)
                now = env.now
            held = []
            for pool in pools:
                if pool.resource is None:
                    pool.start(counted, 0.0, now)
                    held.append((pool, None))
                else:
                    asked = now
                    request = pool.resource.request()
                    yield request
                    now = env.now
                    pool.start(counted, now - asked, now)
                    held.append((pool, request))
            days = sample(segment, plan.duration_purpose, number, duration, draw)
            if log:
                log(case, name, "start", now, pools, owner, draw)
            if plan.calendar_days:
                days = self._calendar_delay(days)
            yield env.timeout(days)
            now = env.now
            for pool, request in held:
                pool.release(request, now)
            clock.leave(now, owner, handling)
            if log:
                log(case, name, "complete", now, pools, owner, draw)
            if plan.procedure:
                case.procedures.add(plan.procedure)
            if attempt == plan.attempts - 1:
                return
            u = self.streams.uniform(segment, plan.rework_purpose, number, draw)
            if u >= plan.rework_probability:
                return
            case.reworks += 1
            if plan.fix is not None and self.plans[plan.fix] is not None:
                yield from self._visit(case, self.plans[plan.fix])

    def _calendar_delay(self, days: float) -> float:
        """Working time that ``days`` calendar days from now take; past the calendar, beyond the cap."""
        now = self.env.now
        cal = self.calendar
        t_end = cal.calendar_time(now) + days
        if t_end >= len(cal.is_working):
            return self.cap + 1 - now
        return cal.working_time(t_end) - now


def simulate(scenario: Scenario, replication: int, events: bool = False) -> RunRecords:
    """Run one replication of a scenario; ``events`` also keeps the stage event log."""
    return ConnectionModel(scenario, replication, events=events).run()
