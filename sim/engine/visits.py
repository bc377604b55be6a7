"""A stage visit as the model runs it (``ConnectionModel`` takes these methods from ``StageVisits``):
the case enters the stage on its clocks, takes its materials (first visit only), waits for a member
of each of its pools in the global order (the pool's dispatch rule decides who is next), keeps each
for its work (effort plus travel on a site visit, in hours, over the pool's hours per day; each
member let go as its own work ends) and runs its lead time; a stage without staff takes its
duration (on the customer's calendar where it says so). The case may then fail and go through the
stage's fix and the stage again, up to its attempts. ``sim.engine.backlog`` resumes a warm-started
case's open stage with the same methods.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from sim.engine.calendar import WorkingCalendar
from sim.engine.cases import Case
from sim.engine.clocks import CLOSES, OPENS
from sim.engine.plans import StagePlan, Way
from sim.scenario.conditions import holds

Visit = Generator[simpy.Event, Any, float]  # a stage's visit (or a part of it): gives its end time


class StageVisits:
    """The visit of a stage, for the model that runs it (its calendar, drain cap and travel
    table are the model's)."""

    calendar: WorkingCalendar
    cap: float  # the drain cap: a stage past the calendar ends beyond it
    travel: dict[str, Any] | None  # travel hours by the value of ``travel_attribute``
    travel_attribute: str

    def visit(self, case: Case, plan: StagePlan, now: float, first: int = 0) -> Visit:
        """A visit of a stage, from ``now``, rework included (attempts from ``first``); when it is over.

        With staff: wait for a member of each pool (in the global order), work (each member its
        effort in hours, plus travel on a site visit, over its pool's hours per day; each member is
        let go as its own work ends), then the lead time. Without staff: the duration.

        This runs at every stage visit, so names are looked up once, and the time is carried
        along rather than read from the environment (a call): it changes only across a wait,
        and each wait tells when it ended."""
        attrs = case.attrs
        if plan.when is not None and not holds(plan.when, attrs):
            return now
        way = plan.way_for(attrs)
        env = case.env
        counted = case.counted
        log = case.unit.log if counted else None
        name, party, handling = plan.name, plan.party, plan.handling
        charge, visits, segment, number = case.clock.charge, case.visits, case.key, case.number
        streams = case.unit.streams
        sample = streams.sample
        pools = way.pools
        for attempt in range(first, plan.attempts):
            draw = visits.get(name, 0)
            visits[name] = draw + 1
            charge(now, party, OPENS, handling)
            if log:
                log(case, name, "schedule", now, pools, plan.owner, draw)
            if plan.material is not None and draw == 0:
                yield from plan.material.supply(segment, number, plan.quantity)
                now = env.now
            if pools:
                held = []
                for pool in pools:
                    rank = pool.rank(attrs.get("important") is True, case.deadline) if pool.ranked else 0.0
                    claim = pool.request(counted, now, rank)
                    if claim is not None:  # None: an unlimited pool, granted at once
                        yield claim
                        now = claim.usage_since  # the time of the grant: now
                    held.append((pool, claim))
                if log:
                    log(case, name, "start", now, pools, plan.owner, draw)
                travel = self.travel_hours(case, plan, draw) if way.site_visit else 0.0
                if way.shared and len(held) == 1:  # one member (the usual case)
                    pool, claim = held[0]
                    days = (
                        sample(segment, way.purposes[0], number, way.efforts[0], draw) + travel
                    ) / pool.hours_per_day
                    yield env.timeout(days)
                    now += days  # exactly the time SimPy computes for the timeout's end
                    pool.release(claim, now, counted)
                else:
                    now = yield from self.work(case, way, held, travel, draw, now)
                if way.lead is not None:
                    days = sample(segment, plan.lead_purpose, number, way.lead, draw)
                    yield env.timeout(days)
                    now += days
            else:
                if log:
                    log(case, name, "start", now, pools, plan.owner, draw)
                days = sample(segment, plan.duration_purpose, number, way.duration, draw)  # type: ignore[arg-type]
                if plan.calendar_days:
                    days = self.calendar_delay(days, now)
                yield env.timeout(days)
                now += days  # exactly the time SimPy computes for the timeout's end
            charge(now, party, CLOSES, handling)
            if log:
                log(case, name, "complete", now, pools, plan.owner, draw)
            if plan.procedure:
                case.procedures.add(plan.procedure)
            if attempt == plan.attempts - 1:
                break
            u = streams.uniform(segment, plan.rework_purpose, number, draw)
            if u >= plan.rework_probability:
                break
            case.reworks += 1
            if plan.fix is not None:
                now = yield from self.visit(case, plan.fix, now)
        return now

    def work(self, case: Case, way: Way, held: list, travel: float, draw: int, now: float) -> Visit:
        """Members of several pools at work on one visit: each works its effort (one shared draw,
        or one draw per pool) plus the travel, at its pool's hours per day; each is let go when its
        own work ends (ties in the global pool order). The time the last one is done."""
        sample, segment, number = case.unit.streams.sample, case.key, case.number
        counted = case.counted
        if way.shared:
            hours = sample(segment, way.purposes[0], number, way.efforts[0], draw) + travel
            ends = [(hours / pool.hours_per_day, i) for i, (pool, _) in enumerate(held)]
        else:
            ends = [
                ((sample(segment, purpose, number, effort, draw) + travel) / pool.hours_per_day, i)
                for i, (purpose, effort, (pool, _)) in enumerate(zip(way.purposes, way.efforts, held))
            ]
        done = 0.0
        for days, i in sorted(ends):
            if days > done:
                yield case.env.timeout(days - done)
                now += days - done
                done = days
            pool, claim = held[i]
            pool.release(claim, now, counted)
        return now

    def travel_hours(self, case: Case, plan: StagePlan, draw: int) -> float:
        """Travel hours of a site visit, by the case's value of the travel attribute (checked on
        load: every value a segment with site visits draws has its hours); 0 without a table."""
        if self.travel is None:
            return 0.0
        spec = self.travel[case.attrs[self.travel_attribute]]
        return case.unit.streams.sample(case.key, plan.travel_purpose, case.number, spec, draw)

    def calendar_delay(self, days: float, now: float) -> float:
        """Working time that ``days`` calendar days from ``now`` take (``WorkingCalendar.delay``)."""
        return self.calendar.delay(days, now, self.cap + 1 - now)
