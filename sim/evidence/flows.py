"""What comes after a stage in a segment's flow: the stages whose visit shows that a case went on.

In a sequence, everything after a step follows it; a step inside a parallel branch is followed by
the rest of its branch and by all that comes after the block, but not by the stages of the other
branches, which run beside it. A stage with rework is also followed by its fix stage (and the fix
by the stage it fixes, which is repeated). The fit uses this to tell a visit still open (nothing
that follows it has happened: censored) from a lost record (a stage that follows it was visited),
and to tell which cases are past a conditional step. A warm start places a case by its flow as
the model compiles it (``top_level``, ``locate``, ``may_apply``).
"""

from __future__ import annotations

from typing import Any

from sim.scenario.conditions import holds
from sim.scenario.schema import ParallelStep, Scenario, StageStep


def step_stage(step) -> str | None:
    """The stage of a flow step (a name or a conditional step), None for a parallel block."""
    return step if isinstance(step, str) else (step.stage if isinstance(step, StageStep) else None)


def stages_in(steps) -> set[str]:
    """Every stage a list of steps names, parallel branches included."""
    out: set[str] = set()
    for step in steps:
        if isinstance(step, ParallelStep):
            for branch in step.parallel:
                out |= stages_in(branch)
        elif (name := step_stage(step)) is not None:
            out.add(name)
    return out


def conditional_steps(steps, after: frozenset[str] = frozenset()) -> list[tuple[str, dict, frozenset[str]]]:
    """(stage, condition, the stages that come after it) for every conditional step of a flow."""
    out = []
    for i, step in enumerate(steps):
        later = frozenset(stages_in(steps[i + 1 :])) | after
        if isinstance(step, StageStep) and step.when is not None:
            out.append((step.stage, step.when, later))
        elif isinstance(step, ParallelStep):
            for branch in step.parallel:
                out += conditional_steps(branch, later)
    return out


def _followers_of(steps, after: frozenset[str], out: dict[str, set[str]]) -> None:
    for i, step in enumerate(steps):
        later = frozenset(stages_in(steps[i + 1 :])) | after
        if isinstance(step, ParallelStep):
            for branch in step.parallel:
                _followers_of(branch, later, out)
        elif (name := step_stage(step)) is not None:
            out.setdefault(name, set()).update(later)


def followers(base: Scenario) -> dict[tuple[str, str], set[str]]:
    """(segment, stage) -> the stages that follow the stage in the segment's flow (see above)."""
    out: dict[tuple[str, str], set[str]] = {}
    for segment_name, segment in base.segments.items():
        mine: dict[str, set[str]] = {}
        _followers_of(segment.flow, frozenset(), mine)
        for stage in list(mine):
            rework = base.stages[stage].rework if stage in base.stages else None
            if rework is not None and rework.fix is not None:
                mine[stage].add(rework.fix)
                mine.setdefault(rework.fix, set()).update({stage, *mine[stage]})
        out |= {(segment_name, stage): later for stage, later in mine.items()}
    return out


FlowStep = tuple[
    str | None, dict | None, list[list[str | None]]
]  # a step: stage (None: parallel), when, branches


def top_level(scenario: Scenario, steps: list[Any]) -> list[FlowStep]:
    """A flow as the model compiles it (disabled stages left out): per step, its stage (None for a
    parallel step), its condition, and a parallel step's branches, each a list of its stages
    (None for a parallel step nested in it)."""
    out: list[FlowStep] = []
    for step in steps:
        if isinstance(step, ParallelStep):
            branches = [[name for name, _, _ in top_level(scenario, b)] for b in step.parallel]
            out.append((None, step.when, branches))
        elif (name := step_stage(step)) is not None and scenario.stages[name].enabled:
            out.append((name, getattr(step, "when", None), []))
    return out


def may_apply(scenario: Scenario, steps: list[FlowStep], attrs: dict[str, Any]) -> bool:
    """Whether any of ``steps`` may still be taken by a case with ``attrs`` (an attribute the log
    does not give: it may)."""
    for name, when, _ in steps:
        try:
            stage_when = scenario.stages[name].when if name is not None else None
            if holds(when, attrs) and holds(stage_when, attrs):
                return True
        except KeyError:
            return True
    return False


def locate(steps: list[FlowStep], stage: str) -> tuple[int, int | None, int] | None:
    """Where a stage stands in a compiled flow, its first place: (top-level step, branch of a
    parallel step or None, its index in the branch, or the step again); None if nowhere (a fix
    stage, a nested parallel step)."""
    for k, (name, _, branches) in enumerate(steps):
        if name == stage:
            return k, None, k
        for b, branch in enumerate(branches):
            if stage in branch:
                return k, b, branch.index(stage)
    return None
