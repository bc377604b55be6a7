"""A warm start: a run that begins at a cut-off date with the open cases of an event log (its
*backlog*) already in the system, instead of empty pools and a warm-up.

Simulation time 0 is the cut-off. Each case of the backlog (``Placed``, read from a log by
``sim.evidence.backlog``) starts there at its position in its flow: the stages it completed
before the cut-off are behind it, and their observed times are in its clocks (its charges are
replayed on a ``CaseClock`` at their negative working times, then the clock goes on from 0); the
stage open at the cut-off, if any, is finished first (``resume_stage``; inside a parallel step,
each unfinished branch's open stage, then the rest of that branch: ``resume_parallel``), then the
rest of its flow is walked as any case's. Its elapsed time, party clocks and handling are thus
the observed time before the cut-off plus the simulated time after it; its calendar days before
the cut-off come from the log.

The open stage resumes by these rules (docs/warm-start.md gives their biases):

* without staff: the rest of its duration, drawn *conditioned on the time it has already run*
  (the inverse transform of a uniform number on [F(e), 1), ``remaining``), so that a fixed
  duration of 10 days that has run 3 ends exactly 7 days after the cut-off;
* with staff, queueing at the cut-off: the case asks for its pools again at the cut-off, before
  any new application, in the order the backlog's cases entered their open stages, then works its
  effort and its lead time, as any visit;
* with staff, started (one member, one effort): its work and lead time are drawn conditioned on
  their sum exceeding the time since the start (``_served``, by rejection on the case's own
  numbers); if the work is not over at the cut-off, the case holds a member for the rest of it,
  then runs the lead time; else the rest of the lead time runs. A started visit of several members
  (or efforts per pool) restarts whole: an upward bias of at most one visit's service;
* materials are not taken again (the case took them, or was waiting for them, before the cut-off).

A warm-started case has random numbers of its own: key ``warm:SEGMENT``, numbered 0, 1, 2, ... in
the backlog, so the new applications after the cut-off keep their usual numbers. Its attributes
are those of the log; those the log lacks are drawn from the segment's distributions on these keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.engine.cases import Case
from sim.engine.clocks import CLOSES, CaseClock
from sim.engine.model import ConnectionModel, Visit
from sim.engine.plans import StagePlan, Step
from sim.engine.records import RunRecords
from sim.engine.rules import RuleSet
from sim.engine.streams import CHUNK
from sim.scenario.conditions import SEGMENT, holds
from sim.scenario.distributions import Distribution
from sim.scenario.schema import Scenario

WARM = "warm:"
"""The prefix of the random-number key of a warm-started case (``warm:SEGMENT``)."""


@dataclass(frozen=True)
class Charge:
    """A stage of ``party`` (index in ``PARTIES``) opened or closed before the cut-off, at
    ``wd`` working days and ``cd`` calendar days from the cut-off (negative)."""

    wd: float
    cd: float
    party: int
    change: int
    handling: bool


@dataclass(frozen=True)
class OpenStage:
    """A stage open at the cut-off: ``step`` (its index in its flow: the case's, or with
    ``branch``, that branch of the parallel step ``Placed.step``; for a rework's fix, ``fixing``
    names the stage it fixes and ``step`` is that stage's), its ``attempt``, whether it had
    ``started`` (its staff at work, or its lead time running) and how long it has run
    (``elapsed_wd``, ``elapsed_cd``: since it started, else since the case entered it)."""

    stage: str
    step: int
    branch: int | None
    fixing: str | None
    attempt: int
    started: bool
    elapsed_wd: float
    elapsed_cd: float


@dataclass(frozen=True)
class Placed:
    """A case of the backlog at the cut-off: ``origin`` (its id in the log), its segment and the
    attributes the log gives, its application (``arrival_wd``, ``arrival_cd``: from the cut-off,
    negative), ``step`` (the index in its compiled flow of the step open at the cut-off, a stage or a
    parallel step, or of the next step when none is open), its ``open`` stages (none, one, or one
    per unfinished branch of a parallel step), what it did before (``visits`` per stage,
    ``procedures``, ``reworks``) and its clock ``charges`` in time order."""

    origin: str
    segment: str
    attrs: tuple[tuple[str, Any], ...]
    arrival_wd: float
    arrival_cd: float
    step: int
    open: tuple[OpenStage, ...]
    visits: tuple[tuple[str, int], ...]
    procedures: frozenset[str]
    reworks: int
    charges: tuple[Charge, ...]
    path: tuple[tuple[Any, bool], ...] = ()
    """What its path showed: (condition, whether it held) per conditional step it took or went past;
    the attributes drawn for it must agree (``WarmModel._attributes``)."""

    @property
    def party_cd(self) -> tuple[float, ...]:
        """Calendar days charged to each party (``PARTIES`` order) before the cut-off."""
        clock = self.clock(calendar=True)
        return tuple(clock.totals)

    def clock(self, calendar: bool = False) -> CaseClock:
        """Its clocks at the cut-off (working days, or ``calendar`` days), going on from 0."""
        clock = CaseClock(self.arrival_cd if calendar else self.arrival_wd)
        for c in self.charges:
            clock.charge(c.cd if calendar else c.wd, c.party, c.change, c.handling)
        clock.rebase(0.0)
        return clock


@dataclass(frozen=True)
class Backlog:
    """The cases a warm-started replication begins with, in the order they entered their open
    stage (the order in which they ask for staff at the cut-off)."""

    cases: tuple[Placed, ...]


def remaining(spec: Distribution, elapsed: float, u: float) -> float:
    """The rest of a duration that has run ``elapsed`` days: D - elapsed, with D drawn from
    ``spec`` conditioned on D > elapsed by inverse transform of ``u`` on [F(elapsed), 1). F is
    found by bisection on the quantile function; a duration already over (F = 1) has no rest."""

    def quantile(v: float) -> float:
        return float(np.asarray(spec.ppf(np.array([v])), dtype=float)[0])

    lo, hi = 0.0, 1.0
    if quantile(0.0) <= elapsed:
        for _ in range(60):  # the least u with quantile(u) > elapsed, to ~1e-18
            mid = (lo + hi) / 2
            lo, hi = (lo, mid) if quantile(mid) > elapsed else (mid, hi)
    else:
        hi = 0.0
    v = min(hi + u * (1.0 - hi), np.nextafter(1.0, 0.0))
    return max(quantile(v) - elapsed, 0.0)


def resume_stage(model: ConnectionModel, case: Case, plan: StagePlan, placed: OpenStage) -> Visit:
    """Finish the stage a warm-started case had open at the cut-off (time 0), then its rework,
    as ``ConnectionModel.visit`` would; the time it is over."""
    env, attrs, key, number = case.env, case.attrs, case.key, case.number
    streams, counted, draw = case.unit.streams, case.counted, placed.attempt
    log = case.unit.log if counted else None
    way = plan.way_for(attrs)
    now = 0.0
    service = _served(model, case, plan, placed) if placed.started and way.pools else None
    if service is not None:  # its member at work, or its lead time running, at the cut-off
        work, lead = service
        if work > placed.elapsed_wd:  # the member is still at work: it holds one again
            pool = way.pools[0]
            rank = pool.rank(attrs.get("important") is True, case.deadline) if pool.ranked else 0.0
            claim = pool.request(counted, now, rank)
            if claim is not None:
                yield claim
                now = claim.usage_since
            yield env.timeout(work - placed.elapsed_wd)
            now += work - placed.elapsed_wd
            pool.release(claim, now, counted)
        days = lead if work > placed.elapsed_wd else max(work + lead - placed.elapsed_wd, 0.0)
        yield env.timeout(days)
        now += days
    elif way.pools:
        held = []
        for pool in way.pools:
            rank = pool.rank(attrs.get("important") is True, case.deadline) if pool.ranked else 0.0
            claim = pool.request(counted, now, rank)
            if claim is not None:
                yield claim
                now = claim.usage_since
            held.append((pool, claim))
        if log and not placed.started:
            log(case, plan.name, "start", now, way.pools, plan.owner, draw)
        travel = model.travel_hours(case, plan, draw) if way.site_visit else 0.0
        now = yield from model.work(case, way, held, travel, draw, now)
        if way.lead is not None:
            days = streams.sample(key, plan.lead_purpose, number, way.lead, draw)
            yield env.timeout(days)
            now += days
    else:
        u = streams.uniform(key, plan.duration_purpose, number, draw)
        if plan.calendar_days:
            rest = remaining(way.duration, placed.elapsed_cd, u)  # type: ignore[arg-type]
            days = model.calendar_delay(rest, now)
        else:
            days = remaining(way.duration, placed.elapsed_wd, u)  # type: ignore[arg-type]
        yield env.timeout(days)
        now += days
    case.clock.charge(now, plan.party, CLOSES, plan.handling)
    if log:
        log(case, plan.name, "complete", now, way.pools, plan.owner, draw)
    if plan.procedure:
        case.procedures.add(plan.procedure)
    last = draw == plan.attempts - 1
    if not last and streams.uniform(key, plan.rework_purpose, number, draw) < plan.rework_probability:
        case.reworks += 1
        if plan.fix is not None:
            now = yield from model.visit(case, plan.fix, now)
        now = yield from model.visit(case, plan, now, draw + 1)
    return now


RESAMPLE = 1000
"""Draw numbers ``attempt + RESAMPLE * k`` (k = 1, 2, ...) are the further tries of ``_served``."""
TRIES = 200
ATTRIBUTE_TRIES = 1000
"""A warm-started case's attributes are drawn at most this many times (``WarmModel._attributes``)."""


def _served(
    model: ConnectionModel, case: Case, plan: StagePlan, placed: OpenStage
) -> tuple[float, float] | None:
    """(work, lead) in working days of a visit that one member had started ``placed.elapsed_wd``
    days before the cut-off, drawn conditioned on work + lead > elapsed: the first of the case's
    tries (its own numbers of the attempt, then further draw numbers) that satisfies it
    (rejection sampling). (0, 0) when none of ``TRIES`` does: the elapsed time is beyond what the
    scenario's distributions give, and the stage ends at the cut-off. None for a visit of several
    members or efforts per pool: it restarts whole."""
    way = plan.way_for(case.attrs)
    if len(way.pools) != 1 or not way.shared:
        return None
    sample, key, number, pool = case.unit.streams.sample, case.key, case.number, way.pools[0]
    for k in range(TRIES):
        draw = placed.attempt + RESAMPLE * k
        hours = sample(key, way.purposes[0], number, way.efforts[0], draw)
        travel = model.travel_hours(case, plan, draw) if way.site_visit else 0.0
        work = (hours + travel) / pool.hours_per_day
        lead = sample(key, plan.lead_purpose, number, way.lead, draw) if way.lead is not None else 0.0
        if work + lead > placed.elapsed_wd:
            return work, lead
    return 0.0, 0.0


def resume_parallel(model: ConnectionModel, case: Case, step: Step, placed: Placed) -> Visit:
    """Finish a parallel step a warm-started case was inside at the cut-off: each branch with an
    open stage finishes it and goes on (a process of its own, as ``ConnectionModel.walk`` runs
    branches); the branches done before the cut-off are over. The time the last one is done."""
    env = case.env
    runs = []
    for stage in placed.open:
        branch = step.branches[stage.branch]  # type: ignore[index]
        resume = resume_open(model, case, branch, stage, placed)
        runs.append(env.process(model.walk(case, branch[stage.step + 1 :], False, resume)))
    yield env.all_of(runs)
    return env.now


def resume_open(
    model: ConnectionModel, case: Case, steps: tuple[Step, ...], stage: OpenStage, placed: Placed
) -> Visit:
    """Finish the open stage of the step ``steps[stage.step]``; in a rework's fix (``fixing``: the
    stage it fixes, that step's), the fix, then the stage it fixes again from its next attempt, as
    ``ConnectionModel.visit`` goes on after a fix. The time it is over."""
    plan = steps[stage.step].stage
    fix = plan.fix if plan is not None else None
    if plan is None or plan.name != (stage.fixing or stage.stage) or (stage.fixing and fix is None):
        raise ValueError(f"{placed.origin}: {stage.stage} is not step {stage.step} of its flow")
    if stage.fixing is None:
        return (yield from resume_stage(model, case, plan, stage))
    now = yield from resume_stage(model, case, fix, stage)  # type: ignore[arg-type]
    return (yield from model.visit(case, plan, now, case.visits.get(plan.name, 0)))


class WarmModel(ConnectionModel):
    """A replication that starts at the cut-off with a backlog (``ConnectionModel`` otherwise).
    The scenario's ``horizon.start`` is the cut-off and it has no warm-up; its arrivals are the
    new applications from the cut-off on."""

    def __init__(self, scenario: Scenario, replication: int, backlog: Backlog, events: bool = False):
        if scenario.companies:
            raise ValueError("a warm start of a scenario with companies is not supported")
        super().__init__(scenario, replication, events=events)
        self.backlog = backlog
        self._tried = 0  # the most further tries of a case's attributes

    def run_all(self) -> list[RunRecords]:
        unit = self.units[0]
        numbers: dict[str, int] = {}
        # what a case lacks is drawn as a case applying at the cut-off would draw it: under the
        # measures without ``where`` in force then (as ``ConnectionModel._arrivals``), whose
        # flows the cases were placed in (``sim.experiments.warm_start``)
        at_cut_off = unit.rules.get(unit.rules.unscoped(0.0)) if unit.rules.dated else unit.rules.base
        for placed in self.backlog.cases:  # they ask for staff before anything else happens
            key = WARM + placed.segment
            number = numbers[key] = numbers.get(key, -1) + 1
            rules = at_cut_off
            attrs = self._attributes(placed, rules, key, number)
            if self.reads_segment:
                attrs[SEGMENT] = placed.segment
            if unit.rules.dated:
                rules = unit.rules.get(unit.rules.for_case(0.0, attrs))
            due = placed.arrival_wd + rules.due(placed.segment, attrs)
            case = Case(unit, number, placed.segment, attrs, True, placed.arrival_wd, due, key, self.env)
            case.clock = placed.clock()
            case.visits = dict(placed.visits)
            case.procedures = set(placed.procedures)
            case.reworks = placed.reworks
            case.observed = placed
            unit.streams.began(key, number)
            steps = rules.flows[placed.segment]
            if not placed.open:
                self.env.process(self.walk(case, steps[placed.step :], True))
                continue
            step = steps[placed.step]
            if step.stage is not None:
                resume = resume_open(self, case, steps, placed.open[0], placed)
            else:
                resume = resume_parallel(self, case, step, placed)
            self.env.process(self.walk(case, steps[placed.step + 1 :], True, resume))
        for key in numbers:  # the numbers of the further tries of attributes go
            for k in range(1, self._tried + 1):
                for chunk in range(numbers[key] // CHUNK + 1):
                    unit.streams.passed(f"{key}#{k}", (chunk + 1) * CHUNK)
        return super().run_all()

    def _attributes(self, placed: Placed, rules: RuleSet, key: str, number: int) -> dict[str, Any]:
        """The case's attributes from the log; those it lacks drawn on the case's own numbers
        (its arrival stream's first, if it has one, then its segment's), consistent with its
        segment (a stream routes them to it) and its path (``Placed.path``): the first of its
        tries (key ``key``, then ``key#1``, ``key#2``, ...) that is; the first try if none of
        ``TRIES`` is (the log contradicts the scenario)."""
        stream = self.sc.segments[placed.segment].arrivals.stream
        samplers = rules.samplers[placed.segment]
        if stream is not None:
            samplers = (*rules.stream_samplers[stream], *samplers)
        first: dict[str, Any] | None = None
        for k in range(ATTRIBUTE_TRIES):
            attrs = dict(placed.attrs)
            for sampler in samplers:
                if sampler.name not in attrs:
                    draws = key if k == 0 else f"{key}#{k}"
                    self._tried = max(self._tried, k)
                    attrs[sampler.name] = sampler.draw(self.units[0].streams, draws, number, attrs)
            first = attrs if first is None else first
            if _consistent(placed, rules, stream, attrs):
                return attrs
        return first  # type: ignore[return-value]


def _consistent(placed: Placed, rules: RuleSet, stream: str | None, attrs: dict[str, Any]) -> bool:
    """Whether drawn attributes agree with the case's segment (its stream routes them to it, as
    ``ConnectionModel._arrivals`` does) and its path (a condition reading an attribute it lacks
    says nothing)."""
    if stream is not None:
        try:
            route = next(n for when, n in rules.routes[stream] if when is None or holds(when, attrs))
        except KeyError:
            route = placed.segment
        if route != placed.segment:
            return False
    for condition, held in placed.path:
        try:
            if holds(condition, attrs) != held:
                return False
        except KeyError:
            continue
    return True


def warm_records(scenario: Scenario, replication: int, backlog: Backlog, events: bool = False) -> RunRecords:
    """One warm-started replication of ``scenario`` (its horizon starting at the cut-off)."""
    return WarmModel(scenario, replication, backlog, events).run()
