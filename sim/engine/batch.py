"""Cases that never wait, computed a chunk at a time.

A segment whose flow touches no pool with a capacity, no stock and no parallel branches
(``sim.engine.plans.independent``; today: residential applications) has cases whose times follow
from their own random numbers alone. ``sim.engine.model`` can walk each such case at its
application (``Ahead``); this module computes a whole chunk of them at once instead (the cases
that share a block of random numbers, ``sim.engine.streams.CHUNK``), with numpy arrays in place
of the case's variables. It applies the model's rules in the model's order, operation for
operation, so every number comes out the same to the last bit (``tests/functional/test_model.py``
compares the tables with those of the event loop):

- the attributes are drawn by their samplers' rules (a flag's condition on earlier ones);
- a step is taken where its condition holds, a stage visited where its own does, by the way of
  its first variant whose condition holds;
- a visit opens its stage on the three clocks (``sim.engine.clocks``: in a sequence of stages
  the party charged is the stage's owner), takes a member of its unlimited pool, works its effort
  plus travel over the pool's hours per day, lets the member go, runs its lead time (or its
  duration, without staff) and closes the stage.

It takes only flows it can walk this way (``batchable``): one attempt per stage (no rework), no
calendar-day stages, at most one pool per way. A case whose connection would come after the
drain cap is handed back to be walked one at a time (``compute`` returns it): it is left open at
the wait that crosses the cap, as the event loop leaves it.

Nothing here keeps state between chunks: each chunk's numbers are drawn, used and let go.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from sim.engine.attributes import ChoiceAttribute, ConstantAttribute, NumberAttribute
from sim.engine.clocks import CUSTOMER, GOVERNMENT, UTILITY
from sim.engine.plans import StagePlan, Step, Way
from sim.engine.streams import CHUNK
from sim.scenario.conditions import SEGMENT


def applies(unit: Any, key: str) -> bool:
    """Whether segment ``key``'s own arrivals in ``unit`` go through the chunks: its cases never
    wait and its flow is one the chunks can walk, under the scenario's rules (with dated
    measures: before them, or with every measure that has no ``where``; each case's own rules
    are then checked). Only without an event log, whose rows come in the order things happen."""
    rules = unit.rules
    sets = [rules.base, rules.get(rules.unscoped(math.inf))] if rules.dated else [rules.base]
    return any(key in r.independent and batchable(r.flows[key]) for r in sets)


def batchable(steps: Sequence[Step]) -> bool:
    """Whether a flow whose cases never wait (``plans.independent``: no parallel step, no stock,
    no pool with a capacity) is one the chunks can walk: one attempt per stage, no calendar-day
    stage, at most one pool per way."""
    for step in steps:
        plan = step.stage
        if plan is None or plan.attempts != 1 or plan.calendar_days:
            return False
        if any(len(w.pools) > 1 for w in [plan.way, *(v.way for v in plan.variants)]):
            return False
    return True


def mask(cond: Mapping | None, columns: Mapping[str, list], n: int) -> np.ndarray:
    """``sim.scenario.conditions.holds`` for every case at once: ``columns`` holds each
    attribute's values (Python values, compared as ``holds`` compares them)."""
    ok = np.ones(n, dtype=bool)
    if cond is None:
        return ok
    for key, want in cond.items():
        if key == "any":
            some = np.zeros(n, dtype=bool)
            for c in want:
                some |= mask(c, columns, n)
            ok &= some
        elif key == "all":
            for c in want:
                ok &= mask(c, columns, n)
        elif key == "not":
            ok &= ~mask(want, columns, n)
        else:
            have = columns[key]
            if isinstance(want, Mapping):
                if "min" in want:
                    low = want["min"]
                    ok &= np.fromiter((h >= low for h in have), dtype=bool, count=n)
                if "max" in want:
                    high = want["max"]
                    ok &= np.fromiter((h <= high for h in have), dtype=bool, count=n)
            elif isinstance(want, list):
                ok &= np.fromiter((h in want for h in have), dtype=bool, count=n)
            else:
                # as ``holds`` has it (``have != want`` fails the condition)
                ok &= np.fromiter((not h != want for h in have), dtype=bool, count=n)  # noqa: SIM202
    return ok


class _Chunk:
    """One chunk's cases of a segment: their numbers, attributes, clocks and what they did."""

    def __init__(self, model: Any, unit: Any, key: str, numbers: np.ndarray, arrival: np.ndarray):
        self.model, self.unit, self.key = model, unit, key
        self.numbers, self.arrival = numbers, arrival
        self.chunk = int(numbers[0]) // CHUNK
        self.rows = numbers - self.chunk * CHUNK
        self.n = n = len(numbers)
        self._blocks: dict[tuple, np.ndarray] = {}
        self.now = arrival.copy()
        self.party = np.full(n, UTILITY, dtype=np.int8)  # the clocks (``CaseClock``)
        self.since = arrival.copy()
        self.totals = np.zeros((3, n))
        self.handling_active = np.zeros(n, dtype=np.int64)
        self.handling_since = arrival.copy()
        self.handling = np.zeros(n)
        self.marks: list[tuple[np.ndarray, np.ndarray, int]] = [(np.arange(n), arrival.copy(), UTILITY)]
        self.procedures = np.zeros(n, dtype=np.int64)  # a bit per procedure met
        self.visits: dict[str, np.ndarray] = {}
        self.pool_times: dict[Any, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {}
        self.columns: dict[str, list] = {}
        self.bits: dict[str, int] = {}  # a procedure's bit in ``procedures``

    def subset(self, cases: np.ndarray) -> _Chunk:
        """Some of its cases (``cases``: a mask), with their attributes, before they walk."""
        part = _Chunk(self.model, self.unit, self.key, self.numbers[cases], self.arrival[cases])
        kept = cases.tolist()
        part.columns = {k: [v for v, c in zip(vs, kept) if c] for k, vs in self.columns.items()}
        return part

    def drawn(self, purpose: str, spec: Any = None, draw: int = 0) -> np.ndarray:
        """The chunk's cases' numbers for ``purpose`` (``CaseStreams.uniform``, or ``sample``
        of ``spec``)."""
        key = (purpose, draw, id(spec))
        values = self._blocks.get(key)
        if values is None:
            block = self.unit.streams.block(self.key, purpose, self.chunk, spec, draw)
            values = self._blocks[key] = block[self.rows]
        return values

    # ------------------------------------------------------------------ attributes
    def draw_attributes(self, samplers: Sequence[Any], fixed: Mapping[str, Any] | None) -> None:
        """``sim.engine.attributes.draw_attributes`` for every case of the chunk."""
        n, columns = self.n, self.columns
        for name, value in (fixed or {}).items():
            columns[name] = [value] * n
        for sampler in samplers:
            if fixed and sampler.name in fixed:
                continue
            if isinstance(sampler, ConstantAttribute):
                columns[sampler.name] = [sampler.value] * n
            elif isinstance(sampler, NumberAttribute):
                columns[sampler.name] = self.drawn(sampler.purpose, sampler.distribution).tolist()
            elif isinstance(sampler, ChoiceAttribute):
                ppf = sampler.ppf
                values = [ppf(u) for u in self.drawn(sampler.purpose).tolist()]
                if sampler.when is not None:
                    ok = mask(sampler.when, columns, n).tolist()
                    values = [v if o else False for v, o in zip(values, ok)]
                columns[sampler.name] = values
            else:  # a sampler of another kind: not computed here
                raise TypeError(f"no chunk rule for {type(sampler).__name__}")

    # ------------------------------------------------------------------ the flow
    def walk(self, steps: Sequence[Step]) -> None:
        """``ConnectionModel.walk`` for every case of the chunk: each step where it applies."""
        for step in steps:
            plan: StagePlan = step.stage  # type: ignore[assignment]
            active = mask(step.when, self.columns, self.n) & mask(plan.when, self.columns, self.n)
            if active.any():
                self.visit(plan, active)

    def visit(self, plan: StagePlan, active: np.ndarray) -> None:
        """``ConnectionModel.visit`` (one attempt) for the ``active`` cases."""
        n = self.n
        seen = self.visits.setdefault(plan.name, np.zeros(n, dtype=np.int64))
        draws = seen.copy()  # a case's draw number at this stage: its visits so far
        seen[active] += 1
        self._charge(active, plan.party, plan.handling, opens=True)
        taken = np.zeros(n, dtype=bool)  # cases given a way already (the first that holds)
        for variant in plan.variants:
            way = active & ~taken & mask(variant.when, self.columns, n)
            taken |= way
            self._work(plan, variant.way, way, draws)
        self._work(plan, plan.way, active & ~taken, draws)
        self._charge(active, plan.party, plan.handling, opens=False)
        if plan.procedure:
            bit = self.bits.setdefault(plan.procedure, 1 << len(self.bits))
            self.procedures[active] |= bit

    def _work(self, plan: StagePlan, way: Way, cases: np.ndarray, draws: np.ndarray) -> None:
        """The cases taking ``way`` through the stage, from their ``now``."""
        if not cases.any():
            return
        now = self.now
        for draw in np.unique(draws[cases]).tolist():
            these = cases & (draws == draw)
            if way.pools:
                pool = way.pools[0]
                taken = now[these]
                travel = self._travel(plan, these, draw) if way.site_visit else 0.0
                effort = self.drawn(way.purposes[0], way.efforts[0], draw)
                now[these] += ((effort + travel) / pool.hours_per_day)[these]
                self.pool_times.setdefault(pool, []).append((np.flatnonzero(these), taken, now[these]))
                if way.lead is not None:
                    now[these] += self.drawn(plan.lead_purpose, way.lead, draw)[these]
            else:
                now[these] += self.drawn(plan.duration_purpose, way.duration, draw)[these]

    def _travel(self, plan: StagePlan, cases: np.ndarray, draw: int) -> np.ndarray | float:
        """``ConnectionModel.travel_hours`` for the chunk (0 where a case does not travel)."""
        model = self.model
        if model.travel is None:
            return 0.0
        values = self.columns[model.travel_attribute]
        hours = np.zeros(self.n)
        for value in set(v for v, c in zip(values, cases.tolist()) if c):
            spec = model.travel[value]
            these = cases & np.fromiter((v == value for v in values), dtype=bool, count=self.n)
            hours[these] = self.drawn(plan.travel_purpose, spec, draw)[these]
        return hours

    def _charge(self, cases: np.ndarray, party: int, handling: bool, opens: bool) -> None:
        """``CaseClock.charge`` for ``cases``: a stage of ``party`` opens (in a sequence, the
        only one open, so its party is charged from now) or closes (the charge stays)."""
        now = self.now
        if opens:
            change = cases & (self.party != party)
            for old in (CUSTOMER, GOVERNMENT, UTILITY):
                these = change & (self.party == old)
                self.totals[old][these] += now[these] - self.since[these]
            self.since[change] = now[change]
            self.party[change] = party
            if change.any():
                self.marks.append((np.flatnonzero(change), now[change], party))
        if handling:
            active = self.handling_active
            if opens:
                first = cases & (active == 0)
                self.handling_since[first] = now[first]
                active[cases] += 1
            else:
                active[cases] -= 1
                done = cases & (active == 0)
                self.handling[done] += now[done] - self.handling_since[done]


def compute(
    model: Any, unit: Any, key: str, cases: Iterator[tuple[int, float]]
) -> Iterator[tuple[int, float]]:
    """Compute the counted ones of segment ``key``'s cases ``(number, application time)`` a
    chunk at a time into ``unit``'s records and pools; the cases the model walks one at a time
    instead, in order of application. Without dated measures those are counted cases a chunk
    cannot place, and the cases not counted are left out (they change nothing, as
    ``sim.engine.pools`` says of unlimited pools). With them, a case's rules decide whether it
    can wait for others, so the cases not counted go back too, as do those whose rules the
    chunks cannot walk (a flow that can wait, or one the chunks do not take)."""
    rules = unit.rules
    left: list[tuple[int, float]] = []
    counted: list[tuple[int, float]] = []
    rest: Iterator[tuple[int, float]] = iter(())
    for number, t in cases:
        unit.streams.passed(key, number)  # an earlier chunk's arrival numbers may go
        if t >= model.count_until:
            rest = itertools.chain([(number, t)], cases) if rules.dated else rest
            break
        if t >= model.count_from:
            counted.append((number, t))
        elif rules.dated:
            left.append((number, t))
    numbers_all = np.fromiter((c[0] for c in counted), dtype=np.int64, count=len(counted))
    times_all = np.fromiter((c[1] for c in counted), dtype=np.float64, count=len(counted))
    bounds = np.flatnonzero(np.diff(numbers_all // CHUNK)) + 1
    for numbers, arrival in zip(np.split(numbers_all, bounds), np.split(times_all, bounds)):
        if not len(numbers):
            continue
        for part, steps in _parts(model, unit, key, numbers, arrival):
            if steps is None:  # its rules are not for the chunks
                left += zip(part.numbers.tolist(), part.arrival.tolist())
                continue
            part.walk(steps)
            connected = part.now
            keep = connected <= model.cap  # (as ``ConnectionModel._compute_ahead`` has it)
            left += zip(part.numbers[~keep].tolist(), part.arrival[~keep].tolist())
            _record(unit, key, part, keep)
            if keep.any():
                model.last_connection = max(model.last_connection, float(connected[keep].max()))
            model.computed_ahead += int(keep.sum())
    left.sort()
    return itertools.chain(left, rest)


def _parts(
    model: Any, unit: Any, key: str, numbers: np.ndarray, arrival: np.ndarray
) -> Iterator[tuple[_Chunk, tuple[Step, ...] | None]]:
    """A chunk's cases with their attributes drawn, by the rules they follow, each part with
    its flow (None: rules the chunks cannot walk). With dated measures, attributes are drawn
    under those without ``where`` in force at the application, then the case's scope decides
    its rules, as ``ConnectionModel._arrivals`` has it."""
    rules = unit.rules
    if not rules.dated:
        yield _drawn(model, unit, key, numbers, arrival, rules.base), rules.base.flows[key]
        return
    drawn_by = [rules.unscoped(t) for t in arrival.tolist()]
    for measures in dict.fromkeys(drawn_by):
        these = np.array([m == measures for m in drawn_by])
        part = _drawn(model, unit, key, numbers[these], arrival[these], rules.get(measures))
        columns = part.columns.items()  # (a case's attributes: none, for a segment without any)
        scopes = [
            rules.for_case(t, {name: values[i] for name, values in columns})
            for i, t in enumerate(part.arrival.tolist())
        ]
        for scope in dict.fromkeys(scopes):
            subset = part.subset(np.array([s == scope for s in scopes]))
            flows = rules.get(scope)
            steps = flows.flows[key]
            yield subset, steps if key in flows.independent and batchable(steps) else None


def _drawn(model: Any, unit: Any, key: str, numbers: np.ndarray, arrival: np.ndarray, rules: Any) -> _Chunk:
    part = _Chunk(model, unit, key, numbers, arrival)
    part.draw_attributes(rules.samplers[key], unit.fixed)
    if model.reads_segment:
        part.columns[SEGMENT] = [key] * part.n
    return part


def _record(unit: Any, key: str, part: _Chunk, keep: np.ndarray) -> None:
    """The kept cases' rows and their pools' members."""
    if not keep.any():
        return
    now = part.now
    totals = part.totals.copy()
    for p in (CUSTOMER, GOVERNMENT, UTILITY):  # ``CaseClock.reading`` at the connection
        these = part.party == p
        totals[p][these] += now[these] - part.since[these]
    handling = part.handling + np.where(part.handling_active > 0, now - part.handling_since, 0.0)
    clocks = {
        "connected_wd": now[keep],
        "customer_wd": totals[CUSTOMER][keep],
        "government_wd": totals[GOVERNMENT][keep],
        "utility_wd": totals[UTILITY][keep],
        "handling_wd": handling[keep],
    }
    procedures = np.array([bin(b).count("1") for b in part.procedures[keep].tolist()], dtype=np.int64)
    index = np.cumsum(keep) - 1  # a kept case's index among the kept
    rows, times, parties, order = [], [], [], []
    for seq, (cases, t, party) in enumerate(part.marks):
        kept = keep[cases]
        rows.append(index[cases[kept]])
        times.append(t[kept])
        parties.append(np.full(int(kept.sum()), party, dtype=np.int8))
        order.append(np.full(int(kept.sum()), seq))
    rows_a, order_a = np.concatenate(rows), np.concatenate(order)
    by_case = np.lexsort((order_a, rows_a))
    marks = (rows_a[by_case], np.concatenate(times)[by_case], np.concatenate(parties)[by_case])
    attrs = {name: [v for v, k in zip(values, keep.tolist()) if k] for name, values in part.columns.items()}
    unit.records.add_connected(key, part.numbers[keep], part.arrival[keep], clocks, procedures, attrs, marks)
    for pool, visits in part.pool_times.items():  # each visit's members, of the cases kept
        pool.served(
            np.concatenate([taken[keep[cases]] for cases, taken, _ in visits]),
            np.concatenate([let_go[keep[cases]] for cases, _, let_go in visits]),
        )
