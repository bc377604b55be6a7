"""The connection process as SimPy processes: arrivals, a case's flow, parallel branches, rework.

Simulation time is *working time*: working days since the calendar's start (see
``sim.engine.calendar``). Stage durations are in working days, except stages with ``calendar: calendar``
(the customer's own construction), whose calendar days are mapped through the calendar.

Each segment has an arrival process (Poisson, a fixed interval or given times; case numbers
0, 1, 2, ...). A case draws its
attributes, then walks its segment's flow. A stage is skipped when its condition fails; otherwise
the case takes its materials (first visit only); a stage with staff then waits for a member of
each of its pools (the pool's dispatch rule decides who is next), keeps each for its work (effort
plus travel, in hours, over the pool's hours per day) and runs its lead time; a stage without
staff takes its duration. The case may then fail and go through rework. A ``parallel`` step runs
its branches as separate processes and continues when all have finished. Every random number comes from the
case-keyed streams (``sim.engine.streams``), so cases meet the same luck in every scenario.

A case whose flow touches no pool with a capacity, no stock and no parallel branches (today:
residential applications) can never wait for another case, so it is walked to its connection at
its application, by the same code, with ``Ahead`` standing for the environment: its times, draws
and records are those the event loop would give (tested), without an event per wait; most such
segments' cases are computed a chunk at a time before the loop starts (``sim.engine.batch``). The
run then ends at the last counted connection, wherever it was computed.

The model is pure: scenario and replication number in, ``RunRecords`` out. No printing, no files.
It holds the processes only; the rules they apply have their own modules (``sim.engine``'s
docstring lists them).
"""

from __future__ import annotations

import gc
import math
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from typing import Any

import pandas as pd
import simpy

from sim.engine import batch
from sim.engine.arrivals import arrival_times
from sim.engine.attributes import draw_attributes
from sim.engine.calendar import WorkingCalendar, calendar_for
from sim.engine.cases import Ahead, Case, toward
from sim.engine.plans import Step
from sim.engine.pools import ResourcePool
from sim.engine.records import RunRecords
from sim.engine.rules import at_start
from sim.engine.seasons import Intensity
from sim.engine.units import Unit
from sim.engine.visits import StageVisits, Visit
from sim.scenario.city import SHARED
from sim.scenario.conditions import SEGMENT, holds, reads_segment
from sim.scenario.schema import Scenario

Process = Generator[simpy.Event, Any, None]


class ConnectionModel(StageVisits):
    """One replication of a scenario: build it, ``run`` it once, read the records.

    Without ``companies`` the scenario is one district. With them, ``company`` runs one company
    alone; None runs every company in one simulation, which a city with ``shared`` pools needs
    (their members serve every company's cases; ``run_all`` gives each company's records)."""

    def __init__(
        self,
        scenario: Scenario,
        replication: int,
        calendar: WorkingCalendar | None = None,
        events: bool = False,
        company: str | None = None,
    ):
        self.sc = scenario
        self.replication = replication
        self.calendar = calendar or calendar_for(scenario)
        self.env = simpy.Environment()
        h = scenario.horizon
        self.count_from = h.warmup_days
        self.count_until = h.warmup_days + h.arrival_days
        self.cap = self.count_until + h.drain_days
        names: list[str | None] = (
            [company] if company is not None or not scenario.companies else list(scenario.companies)
        )
        self.shared = {
            name: ResourcePool(self.env, name, spec, scenario.scale, self.count_from, h.arrival_days)
            for name, spec in at_start(scenario, self.calendar).resources.items()
            if spec.shared and scenario.companies
        }
        self.units = [
            Unit(self.env, scenario, replication, self.calendar, name, self.shared, events) for name in names
        ]
        seasonality = scenario.seasonality
        self.intensity = Intensity(seasonality, self.calendar) if seasonality is not None else None
        self.travel = scenario.travel.hours if scenario.travel is not None else None
        self.travel_attribute = scenario.travel.attribute if scenario.travel is not None else ""
        self.reads_segment = reads_segment(scenario.model_dump())
        self.open_cases: dict[Case, None] = {}  # counted cases not yet connected, in order
        self.counted_open = 0
        self.last_connection = 0.0  # of a counted case (one computed ahead may lie in the future)
        self.end = 0.0  # when the run ended
        # cases that never wait are computed at their application, except in an event log (whose
        # rows come in the order things happen)
        self.ahead = Ahead() if not events else None
        self.computed_ahead = 0  # how many
        self.arrivals_done = False
        self.done = self.env.event()
        self.shared_pools: pd.DataFrame | None = None  # the shared pools' table, after the run

    # ------------------------------------------------------------------ running
    def run(self) -> RunRecords:
        """Simulate one unit (the district, or one company) until every counted case is
        connected, or the drain cap; its records."""
        if len(self.units) != 1:
            raise ValueError("a city of several companies in one run: use run_all()")
        return self.run_all()[0]

    def run_all(self) -> list[RunRecords]:
        """Simulate every unit together until every counted case is connected, or the drain cap;
        the records of each (in the scenario's order of companies); ``shared_pools`` then holds
        the shared pools' table."""
        for unit in self.units:
            segments = self.sc.segments.items()
            own = [(n, s.arrivals, False) for n, s in segments if s.arrivals.stream is None]
            for key, arrivals, stream in own + [(n, s.arrivals, True) for n, s in self.sc.streams.items()]:
                times = arrival_times(arrivals, key, unit.scale, unit.streams, self.intensity)
                if times is None:
                    continue
                cases: Iterator[tuple[int, float]] = enumerate(times)
                if self.ahead is not None and not stream and batch.applies(unit, key):
                    cases = iter(batch.compute(self, unit, key, cases))  # those left: one by one
                self.env.process(self._arrivals(unit, key, cases, stream))
        self.env.process(self._close_cohort())
        if self.units[0].rules.dated:
            self.env.process(self._dated_staff_and_stock())
        with _collector_paused():
            self.env.run(until=self.done)
        end = self.end
        for case in self.open_cases:
            if case.counted:
                case.unit.records.add(case, None, end)
        if self.shared:
            table = pd.DataFrame([p.summary(end) for p in self.shared.values()])
            table.insert(0, "company", SHARED)
            table.insert(0, "replication", self.replication)
            table.insert(0, "scenario", self.sc.name)
            self.shared_pools = table
        return [unit.finish(end) for unit in self.units]

    def _close_cohort(self) -> Process:
        yield self.env.timeout(self.count_until)
        self.arrivals_done = True
        if self.counted_open == 0:
            self._drained()
            return
        yield self.env.timeout(self.cap - self.count_until)
        if not self.done.triggered:
            self.end = self.env.now
            self.done.succeed()

    def _drained(self, timer: simpy.Event | None = None) -> None:
        """Every counted case has applied and connected: the run ends at the last connection, at
        once or, if a case computed ahead connects later, then (a timer set to end at its time)."""
        if self.done.triggered:
            return
        now = self.env.now
        if self.last_connection > now:  # (twice if no one delay ends there: ``toward``)
            self.env.timeout(toward(now, self.last_connection)).callbacks.append(self._drained)
            return
        self.end = self.env.now
        self.done.succeed()

    def _dated_staff_and_stock(self) -> Process:
        """Pools and stock change at the dates of the measures that change them, for every case
        (``sim.engine.rules``: they are shared)."""
        starts = self.units[0].rules.starts
        for start in sorted({s for s in starts if s > 0 and s != math.inf}):
            yield self.env.timeout(start - self.env.now)
            now = self.env.now
            rules = self.sc.under(self.units[0].rules.unscoped(now))
            for unit in self.units:
                unit.adjust(rules, now)
            for name, pool in self.shared.items():
                pool.adjust(rules.resources[name], self.sc.scale, now)

    def _arrivals(self, unit: Unit, key: str, cases: Iterator[tuple[int, float]], stream: bool) -> Process:
        """The cases of a segment's own arrivals (``key``: the segment) or of an arrival stream
        (``key``: the stream). A stream's case draws the stream's attributes, joins the first of
        the stream's segments whose ``when`` holds (the last takes the rest), then draws that
        segment's; all a case's random numbers are keyed to ``key``, so a stream's case keeps its
        luck whichever segment it joins. With dated measures, its attributes are drawn under those
        without ``where``, and its scope then decides its rules (``sim.engine.rules``)."""
        streams, fixed = unit.streams, unit.fixed
        rules, dated = unit.rules.base, unit.rules.dated
        ahead = self.ahead is not None
        # a segment whose cases never wait, whatever the rules: only its counted cases matter
        alone = ahead and not stream and not dated and key in rules.independent
        for number, t in cases:
            streams.passed(key, number)  # an earlier chunk's random numbers may go
            if alone and t < self.count_from:
                continue
            if alone and t >= self.count_until:
                return
            yield self.env.timeout(toward(self.env.now, t))
            if self.env.now != t:  # no delay ends at t from there: two do
                yield self.env.timeout(toward(self.env.now, t))  # then now is t exactly
            counted = self.count_from <= t < self.count_until
            if dated:
                rules = unit.rules.get(unit.rules.unscoped(t))
            attrs: dict[str, Any] | None = None
            segment = key
            if stream:
                attrs = draw_attributes(rules.stream_samplers[key], streams, key, number, fixed=fixed)
                segment = next(n for when, n in rules.routes[key] if when is None or holds(when, attrs))
            attrs = draw_attributes(rules.samplers[segment], streams, key, number, attrs, fixed)
            if self.reads_segment:  # for conditions on it (the cases table has it already)
                attrs[SEGMENT] = segment
            if dated:
                rules = unit.rules.get(unit.rules.for_case(t, attrs))
            due = t + rules.due(segment, attrs)
            if ahead and segment in rules.independent:
                if counted:  # one not counted changes nothing (unlimited pools count counted work)
                    streams.began(key, number)
                    case = Case(unit, number, segment, attrs, counted, t, due, key, self.ahead)
                    self._compute_ahead(case, rules.flows[segment])
            else:
                streams.began(key, number)
                case = Case(unit, number, segment, attrs, counted, t, due, key, self.env)
                self.env.process(self.walk(case, rules.flows[segment], True))

    def _compute_ahead(self, case: Case, steps: tuple[Step, ...]) -> None:
        """Walk a case that never waits for another to its connection now, at its application.
        One whose connection would come after the drain cap stops at the wait that crosses it:
        it is left open there, as the event loop would leave it."""
        now = self.ahead.now = self.env.now  # type: ignore[union-attr]
        self.computed_ahead += 1
        waits: Iterator[Any] = self.walk(case, steps, True)  # each wait's length (``Ahead``)
        for days in waits:
            now += days
            if now > self.cap:  # one that ends at the cap is over before the run is (as in the loop)
                return

    # ------------------------------------------------------------------ a case
    def walk(self, case: Case, steps: tuple[Step, ...], whole: bool, resume: Visit | None = None) -> Process:
        """Walk a flow: a case's ``whole`` flow, from application to power-on and its record, or
        one of its parallel branches (a process of its own; the flow goes on when all are done).
        ``resume``: a warm-started case's open stage, finished first (``sim.engine.backlog``)."""
        counted = whole and case.counted
        if counted:  # only counted cases are reported open at the end
            self.open_cases[case] = None
            self.counted_open += 1
        env, attrs = case.env, case.attrs
        now = env.now
        if resume is not None:
            now = yield from resume
        for step in steps:
            if step.when is not None and not holds(step.when, attrs):
                continue
            if step.stage is not None:
                now = yield from self.visit(case, step.stage, now)
            else:
                yield env.all_of([env.process(self.walk(case, b, False)) for b in step.branches])
                now = env.now
        if whole:
            case.unit.streams.ended(case.key, case.number)
        if counted:
            del self.open_cases[case]
            case.unit.records.add(case, now, now)
            self.counted_open -= 1
            if now > self.last_connection:
                self.last_connection = now
            if self.counted_open == 0 and self.arrivals_done:
                self._drained()


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused for the event loop. The run makes next to no
    cyclic garbage (a few hundred objects in a city-year: a finished case's objects go by their
    reference counts), but each collection walks the young objects the loop keeps making, and
    its old generations hold the whole run: collections took about 11% of a city-year's time.
    Nothing in the results depends on it; it is on again when the loop ends, however it ends."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def simulate(
    scenario: Scenario, replication: int, events: bool = False, company: str | None = None
) -> RunRecords:
    """Run one replication of a scenario (of one of its ``companies``: the city is their
    independent runs together); ``events`` also keeps the stage event log."""
    return ConnectionModel(scenario, replication, events=events, company=company).run()
