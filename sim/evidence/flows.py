"""What comes after a stage in a segment's flow: the stages whose visit shows that a case went on.

In a sequence, everything after a step follows it; a step inside a parallel branch is followed by
the rest of its branch and by all that comes after the block, but not by the stages of the other
branches, which run beside it. A stage with rework is also followed by its fix stage (and the fix
by the stage it fixes, which is repeated). The fit uses this to tell a visit still open (nothing
that follows it has happened: censored) from a lost record (a stage that follows it was visited),
and to tell which cases are past a conditional step.
"""

from __future__ import annotations

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
