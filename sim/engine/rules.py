"""The rules a case follows: its segment's flow, attribute samplers, stream routing and due date,
compiled once for each set of dated measures in force (``sim.scenario.dated``).

A case applying at working time t follows the scenario with every dated measure whose date has
come by t (its ``from`` date's opening) and whose ``where`` holds for the case's attributes. Its
attributes are drawn under the measures without ``where`` (which alone may change attributes), then
its scope decides the rest. The case keeps those rules to its connection. Staff pools and stock are
shared by all rule sets: the same objects, whatever rules a case follows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sim.engine.attributes import attribute_samplers
from sim.engine.calendar import WorkingCalendar
from sim.engine.plans import Step, compile_flow, compile_plans, independent
from sim.scenario.conditions import holds
from sim.scenario.schema import Scenario


@dataclass(frozen=True)
class RuleSet:
    """One scenario's rules, compiled: per segment its flow, attribute samplers and due-date
    targets; per stream its own samplers and its routes to segments."""

    flows: dict[str, tuple[Step, ...]]
    samplers: dict[str, Any]
    stream_samplers: dict[str, Any]
    routes: dict[str, list[tuple[dict | None, str]]]
    due_in: dict[str, list[tuple[dict | None, float]]]
    independent: frozenset[str]  # segments whose cases never wait for another (``plans.independent``)

    def due(self, segment: str, attrs: dict[str, Any]) -> float:
        """Working days from a case's application to its due date (``deadline`` dispatch): the
        days of the first share target of its segment that applies to it (none: never due)."""
        return next((days for when, days in self.due_in[segment] if holds(when, attrs)), math.inf)


def compile_rules(
    scenario: Scenario,
    pools: Mapping[str, Any],
    materials: Mapping[str, Any],
    changing: frozenset[str] = frozenset(),
) -> RuleSet:
    """A scenario's rules; ``changing``: the pools a dated measure changes (a case that visits
    one is not computed at its application: its members' hours are those of the visit's time)."""
    plans = compile_plans(scenario.stages, pools, materials)
    routes: dict[str, list[tuple[dict | None, str]]] = {}
    for name in scenario.streams:
        members = [(s.arrivals.when, n) for n, s in scenario.segments.items() if s.arrivals.stream == name]
        # those with a condition in file order, then the one that takes the rest
        routes[name] = [m for m in members if m[0] is not None] + [m for m in members if m[0] is None]
    flows = {name: compile_flow(seg.flow, plans) for name, seg in scenario.segments.items()}
    return RuleSet(
        flows=flows,
        samplers={name: attribute_samplers(seg.attributes) for name, seg in scenario.segments.items()},
        stream_samplers={name: attribute_samplers(s.attributes) for name, s in scenario.streams.items()},
        routes=routes,
        due_in={
            name: [(t.when, t.days) for t in seg.targets if t.kind == "share"]
            for name, seg in scenario.segments.items()
        },
        independent=frozenset(name for name, flow in flows.items() if independent(flow, changing)),
    )


def opening(calendar: WorkingCalendar, day: date) -> float:
    """The working time at the opening of ``day`` (0 before the calendar, inf after it)."""
    offset = (day - calendar.start).days
    if offset <= 0:
        return 0.0
    if offset >= len(calendar.is_working):
        return math.inf
    return float(calendar.working_time(float(offset)))


def at_start(scenario: Scenario, calendar: WorkingCalendar) -> Scenario:
    """The scenario with the measures without ``where`` dated on or before its start (in force
    from time 0): the staff and stock a run starts with."""
    starts = [opening(calendar, m.from_) if m.where is None else math.inf for m in scenario.measures]
    return scenario.under(tuple(i for i, s in enumerate(starts) if s <= 0))


class Rules:
    """Which rules a case follows, by its application time and its attributes."""

    def __init__(
        self,
        scenario: Scenario,
        calendar: WorkingCalendar,
        pools: Mapping[str, Any],
        materials: Mapping[str, Any],
    ):
        self.scenario, self.pools, self.materials = scenario, pools, materials
        self.dated = bool(scenario.measures)
        self.starts = [opening(calendar, m.from_) for m in scenario.measures]
        self.scopes = [m.where for m in scenario.measures]
        first = at_start(scenario, calendar).resources
        self.changing = frozenset(
            name
            for start in {s for s in self.starts if 0 < s < math.inf}
            for name, spec in scenario.under(self.unscoped(start)).resources.items()
            if (spec.capacity, spec.hours_per_day) != (first[name].capacity, first[name].hours_per_day)
        )  # the pools whose members or hours a dated measure changes after the start (``independent``)
        self.base = compile_rules(scenario, pools, materials, self.changing)
        self._compiled: dict[tuple[int, ...], RuleSet] = {(): self.base}

    def get(self, key: tuple[int, ...]) -> RuleSet:
        rules = self._compiled.get(key)
        if rules is None:
            scenario = self.scenario.under(key)
            rules = self._compiled[key] = compile_rules(scenario, self.pools, self.materials, self.changing)
        return rules

    def unscoped(self, t: float) -> tuple[int, ...]:
        """The measures without ``where`` in force for a case applying at ``t``."""
        return tuple(i for i, (s, w) in enumerate(zip(self.starts, self.scopes)) if w is None and t >= s)

    def for_case(self, t: float, attrs: dict[str, Any]) -> tuple[int, ...]:
        """Every measure in force for a case applying at ``t`` with ``attrs``."""
        return tuple(
            i
            for i, (s, w) in enumerate(zip(self.starts, self.scopes))
            if t >= s and (w is None or holds(w, attrs))
        )
