"""Stage plans and flows: a scenario's stages and flows as the model walks them.

The scenario names things (a stage's pools, its fix stage, its owner); the model needs objects.
A ``StagePlan`` is a stage with every name resolved once per run, when the model is built: its
pools (always in one global order, by name, so that two stages holding the same pools can never
wait for each other), its material stock, its fix stage's plan, its owner's party index for the
clocks, its stream purposes. A flow becomes a tuple of ``Step``: a stage with the condition of its
place in the flow, or parallel branches that are flows themselves. Nothing here runs a case.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sim.engine.clocks import party_index
from sim.scenario.conditions import holds
from sim.scenario.distributions import Distribution
from sim.scenario.resources import WaySpec
from sim.scenario.schema import ParallelStep, Stage, StageStep


@dataclass(frozen=True, slots=True)
class Way:
    """One way through a stage: with staff, the ``pools`` whose members work it (in the global
    order), their ``efforts`` in hours (one distribution per pool, in the same order, or a single
    one drawn once and worked by every member together: ``shared``) and the ``lead`` time after the
    work; without staff, its ``duration``."""

    pools: tuple
    efforts: tuple[Distribution, ...]
    purposes: tuple[str, ...]  # the stream purpose of each effort: one draw each
    shared: bool
    lead: Distribution | None
    duration: Distribution | None
    site_visit: bool  # travel hours are added to the effort


def _way(name: str, pools: Mapping[str, Any], spec: WaySpec) -> Way:
    ordered = _in_order(pools, spec.pools)
    effort, lead, visit = spec.effort, spec.lead_time, spec.site_visit
    if not ordered:
        return Way((), (), (), True, None, spec.duration, False)
    if isinstance(effort, dict):
        efforts = tuple(effort[p.name] for p in ordered)
        purposes = tuple(f"effort:{name}:{p.name}" for p in ordered)
        return Way(ordered, efforts, purposes, False, lead, None, visit)
    return Way(ordered, (effort,), ("effort:" + name,), True, lead, None, visit)


@dataclass(frozen=True, slots=True)
class VariantPlan:
    """Another way of doing a stage, for the cases its condition holds for (e.g. on-site reply)."""

    when: dict
    way: Way


class StagePlan:
    """A stage as the model walks it: names resolved to pool, stock and plan objects."""

    __slots__ = (
        "attempts",
        "calendar_days",
        "duration_purpose",
        "fix",
        "handling",
        "lead_purpose",
        "material",
        "name",
        "owner",
        "party",
        "pools",
        "procedure",
        "quantity",
        "rework_probability",
        "rework_purpose",
        "travel_purpose",
        "variants",
        "way",
        "when",
    )

    def __init__(self, name: str, stage: Stage, pools: Mapping[str, Any], materials: Mapping[str, Any]):
        self.name = name
        self.owner = stage.owner
        self.party = party_index(stage.owner)
        self.handling = stage.handling
        self.procedure = stage.procedure
        self.when = stage.when
        self.way = _way(name, pools, stage.way())
        self.variants = [VariantPlan(v.when, _way(name, pools, stage.way(v))) for v in stage.variants]
        self.calendar_days = stage.calendar == "calendar"
        self.attempts = stage.rework.max_attempts if stage.rework else 1
        self.rework_probability = stage.rework.probability if stage.rework else 0.0
        self.fix: StagePlan | None = None  # the fix stage's plan, set by compile_plans
        self.material = materials[stage.materials.item] if stage.materials else None
        self.quantity = stage.materials.quantity if stage.materials else 0
        self.duration_purpose = "duration:" + name
        self.rework_purpose = "rework:" + name
        self.lead_purpose = "lead:" + name
        self.travel_purpose = "travel:" + name

    def way_for(self, attrs: dict[str, Any]) -> Way:
        """The way a case with ``attrs`` takes through the stage: its first variant whose condition
        holds, else the stage's own."""
        for variant in self.variants:
            if holds(variant.when, attrs):
                return variant.way
        return self.way


def _in_order(pools: Mapping[str, Any], names: Sequence[str]) -> tuple:
    return tuple(pools[p] for p in sorted(names))


def compile_plans(
    stages: Mapping[str, Stage], pools: Mapping[str, Any], materials: Mapping[str, Any]
) -> dict[str, StagePlan | None]:
    """Every stage's plan; ``None`` for a disabled stage (``enabled: false``), which is skipped."""
    plans: dict[str, StagePlan | None] = {
        name: StagePlan(name, stage, pools, materials) if stage.enabled else None
        for name, stage in stages.items()
    }
    for name, stage in stages.items():
        plan = plans[name]
        if plan is not None and stage.rework is not None and stage.rework.fix is not None:
            plan.fix = plans[stage.rework.fix]
    return plans


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a flow, taken when ``when`` holds for the case (None: always): a stage, or
    (``stage`` None) parallel branches, each a flow of its own.

    (A class with slots rather than a named tuple: the model reads every step of every case,
    and a slot is read several times faster than a named tuple is unpacked.)"""

    stage: StagePlan | None
    when: dict | None
    branches: tuple[tuple[Step, ...], ...] = ()


def compile_flow(steps: Sequence[Any], plans: Mapping[str, StagePlan | None]) -> tuple[Step, ...]:
    """A segment's flow with stage names resolved; disabled stages left out."""
    out = []
    for step in steps:
        if isinstance(step, str):
            if plans[step] is not None:
                out.append(Step(plans[step], None))
        elif isinstance(step, StageStep):
            if plans[step.stage] is not None:
                out.append(Step(plans[step.stage], step.when))
        elif isinstance(step, ParallelStep):
            out.append(Step(None, step.when, tuple(compile_flow(b, plans) for b in step.parallel)))
    return tuple(out)


def independent(steps: Sequence[Step], changing: Collection[str] = ()) -> bool:
    """Whether a flow's case can never wait for another case: no parallel branches, and no stage
    it may visit (its variants and rework fixes included) takes stock or a member of a pool with a
    capacity. Such a case's times follow from its own draws alone (``sim.engine.model`` computes
    it at its application), unless it visits a pool in ``changing`` (whose members or hours a
    dated measure changes: the visit's time decides them)."""
    seen: set[int] = set()

    def alone(plan: StagePlan | None) -> bool:
        if plan is None or id(plan) in seen:
            return True
        seen.add(id(plan))
        ways = [plan.way, *(v.way for v in plan.variants)]
        unlimited = all(
            pool.units is None and pool.name not in changing for way in ways for pool in way.pools
        )
        return unlimited and plan.material is None and alone(plan.fix)

    return all(step.stage is not None and alone(step.stage) for step in steps)
