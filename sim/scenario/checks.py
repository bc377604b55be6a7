"""Checks across a validated scenario: what the schema cannot see one value at a time.

Every stage a flow names, every pool a stage holds, every material it takes and every stage a
rework sends a case to must be defined; a condition may only read attributes its segment draws
(and, in an attribute's own condition, draws before it), with values the attribute can take, so
that a typo never becomes a condition that silently never holds. An attribute may not take the
name of a column of the cases table (``RESERVED_ATTRIBUTES``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, NoReturn

from sim.scenario.conditions import attributes_used
from sim.scenario.distributions import Bernoulli, Categorical, Constant
from sim.scenario.errors import KeyPath, LineMap, fail_at, locate, suggest
from sim.scenario.meaning import (
    arrives,
    check_companies,
    check_fix_cycles,
    check_scopes,
    check_size,
    not_read,
    readable,
    value_problem,
)
from sim.scenario.schema import MEASURES, FlowStep, Scenario, Stage, StageStep, pool_names


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


def _check_work(stage: Stage, base: KeyPath, fail: Callable[[KeyPath, str], NoReturn]) -> None:
    """A stage with staff takes effort (for exactly its pools) and a lead time, one without staff
    a duration; and so does each of its variants, with what it does not give taken from the
    stage."""
    if stage.pools:
        if stage.duration is not None:
            fail(
                (*base, "duration"),
                "a stage with staff takes `effort` (hours of a member's work) and `lead_time` "
                "(working days without staff), not `duration`",
            )
        if stage.effort is None:
            fail(
                (*base, "pool"),
                "a stage with staff needs `effort`: the hours of hands-on work of one member, "
                "e.g. {dist: triangular, min: 1, mode: 2, max: 4}",
            )
        if stage.calendar == "calendar":
            fail((*base, "calendar"), "`calendar: calendar` is for stages without staff (their `duration`)")
        _check_effort_pools(stage.effort, stage.pools, (*base, "effort"), "stage", "", fail)
    else:
        for key in ("effort", "lead_time", "site_visit"):
            if getattr(stage, key):
                fail((*base, key), f"`{key}` needs staff: give the stage a `pool`, or use `duration`")
        if stage.duration is None:
            fail(base, "a stage without staff (no `pool`) needs a `duration` in working days")
    for v, variant in enumerate(stage.variants):
        path = (*base, "variants", v)
        way = stage.way(variant)
        if not way.pools:
            for key in ("effort", "lead_time", "site_visit"):
                if getattr(variant, key):
                    fail((*path, key), f"`{key}` needs staff, and this variant has none (`pool: []`)")
            if way.duration is None:
                fail(path, "this variant has no staff (`pool: []`): give it a `duration` in working days")
            continue
        if variant.duration is not None:
            fail((*path, "duration"), "a variant with staff takes `effort` and `lead_time`, not `duration`")
        if way.effort is None:
            fail(path, "this variant has staff but no `effort` in hours (nor does its stage)")
        where = (*base, "effort") if way.effort_inherited else (*path, "effort")
        stage_own = " (the stage's effort: give this variant its own)" if way.effort_inherited else ""
        _check_effort_pools(way.effort, way.pools, where, "variant", stage_own, fail)


def _check_effort_pools(
    effort: Any,
    pools: list[str],
    where: KeyPath,
    what: str,
    note: str,
    fail: Callable[[KeyPath, str], NoReturn],
) -> None:
    """An effort given per pool names exactly the pools the stage (or variant) holds."""
    if not isinstance(effort, dict):
        return
    for pool in effort:
        if pool not in pools:
            fail(
                (*where, pool),
                f"effort for pool '{pool}', which this {what} does not hold{note}"
                f"{suggest(pool, pools)}; its pools: {', '.join(pools)}",
            )
    for pool in pools:
        if pool not in effort:
            fail(where, f"no effort for pool '{pool}', which this {what} holds{note}")


def _read_before_drawn(attributes: Mapping[str, Any], drawn: list[str]) -> tuple[str, str] | None:
    """The first attribute (and the name it reads) whose own condition reads an attribute not
    drawn before it: neither in ``drawn`` (those drawn first, e.g. by the case's stream) nor
    earlier in ``attributes``, which are drawn in their order."""
    drawn = list(drawn)
    for aname, spec in attributes.items():
        if isinstance(spec, Bernoulli):
            for used in attributes_used(spec.when):
                if used not in drawn:
                    return aname, used
        drawn.append(aname)
    return None


def _check_streams(sc: Scenario, fail: Callable[[KeyPath, str], NoReturn]) -> None:
    """Every stream a segment names exists and is not named like a segment (their random numbers
    would be shared); a stream's attributes and routing conditions read only its own attributes,
    with values they can take; exactly one of its segments takes the rest (no ``when``)."""
    members: dict[str, list[str]] = {name: [] for name in sc.streams}
    for name, stream in sc.streams.items():
        if name in sc.segments:
            fail(
                ("streams", name),
                f"stream '{name}' is named like a segment; streams and segments need distinct names",
            )
        if bad := _read_before_drawn(stream.attributes, []):
            aname, used = bad
            fail(
                ("streams", name, "attributes", aname, "when"),
                f"condition reads attribute '{used}', which stream '{name}' does not draw before '{aname}'",
            )
    for gname, seg in sc.segments.items():
        joined = seg.arrivals.stream
        if joined is None:
            continue
        path = ("segments", gname, "arrivals", "stream")
        if joined not in sc.streams:
            fail(path, f"stream '{joined}' is not defined{suggest(joined, sc.streams)}")
        members[joined].append(gname)
        for used in attributes_used(seg.arrivals.when):
            if used not in sc.streams[joined].attributes:
                fail(
                    ("segments", gname, "arrivals", "when"),
                    f"condition reads attribute '{used}', which stream '{joined}' does not draw"
                    f"{suggest(used, sc.streams[joined].attributes)} (a case joins its segment before "
                    "it draws the segment's own attributes)",
                )
        if seg.arrivals.when is not None and (
            problem := value_problem(seg.arrivals.when, sc.streams[joined].attributes)
        ):
            fail(("segments", gname, "arrivals", "when"), f"{problem} (in stream '{joined}')")
    for name, stream in sc.streams.items():
        if stream.arrivals.stream is not None:
            fail(
                ("streams", name, "arrivals", "stream"),
                "a stream's arrivals are its own, not another stream's",
            )
        if not members[name]:
            fail(("streams", name), f"no segment takes the cases of stream '{name}'")
        catch_all = [g for g in members[name] if sc.segments[g].arrivals.when is None]
        if len(catch_all) != 1:
            fail(
                ("segments", (catch_all or members[name])[-1], "arrivals"),
                f"exactly one segment of stream '{name}' takes the cases no other takes (no `when`); "
                f"found {len(catch_all)}: {', '.join(catch_all) or 'none'}",
            )


def _check_priority(
    sc: Scenario, segment: str, stages: set[str], fail: Callable[[KeyPath, str], NoReturn]
) -> None:
    """A segment whose stages use a ``priority`` pool draws ``important`` as a flag, if at all (a
    segment without it has no important customers)."""
    spec = sc.attributes_of(segment).get("important")
    if spec is None:
        return
    ways = [sc.stages[n].way(v) for n in stages for v in (None, *sc.stages[n].variants)]
    if not any(sc.resources[p].dispatch == "priority" for w in ways for p in w.pools):
        return
    if isinstance(spec, Bernoulli) or (isinstance(spec, Constant) and isinstance(spec.value, bool)):
        return
    fail(
        ("segments", segment, "attributes", "important"),
        "a pool of this segment's stages dispatches by `priority`, which reads `important` as true or "
        "false: draw it as {dist: bernoulli, p: ...} or set it to true or false",
    )


def _check_travel(sc: Scenario, segment: str, fail: Callable[[KeyPath, str], NoReturn]) -> None:
    """A segment with site visits draws the travel attribute, and each of its values has hours."""
    assert sc.travel is not None
    attr = sc.travel.attribute
    spec = sc.attributes_of(segment).get(attr)
    if spec is None:
        fail(
            ("segments", segment, "attributes"),
            f"segment '{segment}' has site visits but no attribute '{attr}' to look travel hours up by",
        )
    values = (
        list(spec.values)
        if isinstance(spec, Categorical)
        else [spec.value]
        if isinstance(spec, Constant)
        else None
    )
    if values is None:
        fail(
            ("travel", "attribute"),
            f"travel is looked up by '{attr}', which must be a category or a constant",
        )
    for value in values:
        if value not in sc.travel.hours:
            fail(
                ("travel", "hours"),
                f"no travel hours for {attr} {value!r} (drawn by segment '{segment}')"
                f"{suggest(str(value), sc.travel.hours)}",
            )


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
        _check_work(stage, base, fail)
        if stage.rework and stage.rework.fix is not None:
            need(stage.rework.fix, sc.stages, base + ("rework", "fix"), "stage")
        if stage.materials:
            need(stage.materials.item, sc.materials, base + ("materials", "item"), "material")

    if not sc.companies:
        for pool_name, spec in sc.resources.items():
            if spec.shared:
                fail(
                    ("resources", pool_name, "shared"),
                    "found shared: true in a scenario without companies: a pool is shared by the "
                    "supply companies of a city; remove the key, or give the scenario its companies "
                    "(companies:, see city-2020.yaml)",
                )
    check_fix_cycles(sc, fail)
    check_size(sc, fail)
    check_companies(sc, need, fail, lambda path: path in lines and lines[path][0] == default_file)
    check_scopes(sc, fail)
    _check_streams(sc, fail)
    if not any(arrives(sc, seg.arrivals) for seg in sc.segments.values()):
        fail(
            ("segments",),
            "no segment has any application (every rate is 0, no `at` times): the run would have "
            "nothing to count; give a segment arrivals",
        )
    for gname, seg in sc.segments.items():
        base = ("segments", gname)
        stream = sc.streams.get(seg.arrivals.stream) if seg.arrivals.stream else None
        declared: list[str] = list(stream.attributes) if stream is not None else []
        for aname in seg.attributes:
            if aname in declared:
                fail(
                    (*base, "attributes", aname),
                    f"'{aname}' is drawn by the segment's stream '{seg.arrivals.stream}' already",
                )
        if bad := _read_before_drawn(seg.attributes, declared):
            aname, used = bad
            fail(
                base + ("attributes", aname, "when"),
                f"condition reads attribute '{used}', which is not drawn before '{aname}' in this segment",
            )
        attributes = sc.attributes_of(gname)
        for aname in attributes:
            if aname in RESERVED_ATTRIBUTES:
                fail((*base, "attributes", aname), f"'{aname}' names a column of the cases table; rename it")
        conds: list[tuple[KeyPath, Any]] = [
            ((*base, "targets", i, "when"), t.when) for i, t in enumerate(seg.targets)
        ]
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
        visits = (sc.stages[n].site_visit or any(v.site_visit for v in sc.stages[n].variants) for n in seen)
        if sc.travel is not None and any(visits):
            _check_travel(sc, gname, fail)
        _check_priority(sc, gname, seen, fail)
        known = readable(sc, gname)
        for cpath, cond in conds:
            for used in attributes_used(cond):
                if used not in known:
                    fail(cpath, f"condition {not_read(sc, used, gname, known)}")
            if cond is not None and (problem := value_problem(cond, known)):
                fail(cpath, f"{problem} (in segment '{gname}')")
