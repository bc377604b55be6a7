"""Checks across a validated scenario: what the schema cannot see one value at a time.

Every stage a flow names, every pool a stage holds, every material it takes and every stage a
rework sends a case to must be defined; a condition may only read attributes its segment draws
(and, in an attribute's own condition, draws before it), with values the attribute can take, so
that a typo never becomes a condition that silently never holds. An attribute may not take the
name of a column of the cases table (``RESERVED_ATTRIBUTES``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, NoReturn

from sim.scenario.conditions import attributes_used
from sim.scenario.distributions import Bernoulli, Categorical, Constant
from sim.scenario.errors import KeyPath, LineMap, fail_at, locate, suggest
from sim.scenario.schema import MEASURES, FlowStep, Scenario, StageStep, pool_names


def _walk_flow(steps: list[FlowStep], path: KeyPath) -> Iterator[tuple[KeyPath, str | None, dict | None]]:
    """(path of the step, stage name or None for a parallel step, the step's condition) for every
    step of a flow, branches included."""
    for i, step in enumerate(steps):
        if isinstance(step, str):
            yield (*path, i), step, None
        elif isinstance(step, StageStep):
            yield (*path, i), step.stage, step.when
        else:
            yield (*path, i), None, step.when
            for b, branch in enumerate(step.parallel):
                yield from _walk_flow(branch, (*path, i, "parallel", b))


# names of the per-case table's own columns: an attribute may not take one of them
RESERVED_ATTRIBUTES = frozenset(
    {
        "scenario",
        "replication",
        "case_id",
        "segment",
        "case_number",
        "arrival",
        "connected",
        "finished",
        "procedures",
        "reworks",
    }
    | {f"{m}_{u}" for m in (*MEASURES, "arrival", "connected") for u in ("wd", "cd")}
)


def _value_problem(cond: Mapping, attributes: dict) -> str | None:
    """A value in a condition that its attribute can never take (a typo that would never match)."""
    for key, want in cond.items():
        if key in ("any", "all"):
            for item in want:
                if problem := _value_problem(item, attributes):
                    return problem
            continue
        if key == "not":
            if problem := _value_problem(want, attributes):
                return problem
            continue
        spec = attributes[key]
        wanted = want if isinstance(want, list) else [want]
        if isinstance(spec, Bernoulli) and not all(isinstance(w, bool) for w in wanted):
            return f"attribute '{key}' is true or false, found {want!r}"
        if isinstance(spec, Categorical):
            if isinstance(want, Mapping):
                return f"attribute '{key}' is a category, a range {want!r} cannot match it"
            for w in wanted:
                if w not in spec.values:
                    hint = suggest(str(w), spec.values)
                    return (
                        f"attribute '{key}' has no category {w!r}{hint}; categories: {', '.join(spec.values)}"
                    )
        elif isinstance(spec, Constant):
            have = spec.value
            if isinstance(want, Mapping) and not _is_number(have):
                return f"attribute '{key}' is the constant {have!r}, a range {want!r} cannot match it"
            if not isinstance(want, Mapping) and not all(_same_kind(w, have) for w in wanted):
                return f"attribute '{key}' is the constant {have!r}, found {want!r} of another kind"
        elif (
            not isinstance(spec, Bernoulli)
            and not isinstance(want, Mapping)
            and not all(_is_number(w) for w in wanted)
        ):
            return f"attribute '{key}' is a number, found {want!r}; expected a number or a range"
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _same_kind(a: Any, b: Any) -> bool:
    """Whether two condition values are of one kind: flags, numbers or text."""

    def kind(v):
        return "flag" if isinstance(v, bool) else "number" if isinstance(v, (int, float)) else "text"

    return kind(a) == kind(b)


def cross_check(sc: Scenario, lines: LineMap, default_file: str) -> None:
    """Raise ``ScenarioError`` at the line of the first name that does not resolve or condition
    that cannot hold."""

    def fail(path: KeyPath, problem: str) -> NoReturn:
        fail_at(locate(path, lines, default_file), path, problem)

    def need(name, pool_of_names, path, what):
        if name not in pool_of_names:
            hint = suggest(name, pool_of_names)
            fail(path, f"{what} '{name}' is not defined{hint}")

    for sname, stage in sc.stages.items():
        base = ("stages", sname)
        for pool in stage.pools:
            need(pool, sc.resources, base + ("pool",), "pool")
        for v, variant in enumerate(stage.variants):
            for pool in pool_names(variant.pool) if variant.pool is not None else []:
                need(pool, sc.resources, base + ("variants", v, "pool"), "pool")
        if stage.rework and stage.rework.fix is not None:
            need(stage.rework.fix, sc.stages, base + ("rework", "fix"), "stage")
        if stage.materials:
            need(stage.materials.item, sc.materials, base + ("materials", "item"), "material")

    for gname, seg in sc.segments.items():
        base = ("segments", gname)
        declared: list[str] = []
        for aname, spec in seg.attributes.items():
            if isinstance(spec, Bernoulli):
                for used in attributes_used(spec.when):
                    if used not in declared:
                        fail(
                            base + ("attributes", aname, "when"),
                            f"condition reads attribute '{used}', which is not drawn before "
                            f"'{aname}' in this segment",
                        )
            declared.append(aname)
        for aname in seg.attributes:
            if aname in RESERVED_ATTRIBUTES:
                fail((*base, "attributes", aname), f"'{aname}' names a column of the cases table; rename it")
        conds: list[tuple[KeyPath, Any]] = []
        stages_used: list[str] = []
        for path, name, when in _walk_flow(seg.flow, (*base, "flow")):
            conds.append(((*path, "when"), when))
            if name is not None:
                need(name, sc.stages, path, "stage")
                stages_used.append(name)
        seen: set[str] = set()
        while stages_used:  # the flow's stages and, through rework, their fix stages
            name = stages_used.pop()
            if name in seen:
                continue
            seen.add(name)
            stage = sc.stages[name]
            conds.append((("stages", name, "when"), stage.when))
            conds += [(("stages", name, "variants", v, "when"), x.when) for v, x in enumerate(stage.variants)]
            if stage.rework and stage.rework.fix is not None:
                stages_used.append(stage.rework.fix)
        for cpath, cond in conds:
            for used in attributes_used(cond):
                if used not in seg.attributes:
                    fail(
                        cpath,
                        f"condition reads attribute '{used}', which segment '{gname}' does "
                        f"not define{suggest(used, seg.attributes)}",
                    )
            if cond is not None and (problem := _value_problem(cond, seg.attributes)):
                fail(cpath, f"{problem} (in segment '{gname}')")
