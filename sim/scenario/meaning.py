"""Cross-checks of what a scenario cannot mean although each value is valid alone: a condition
value its attribute never takes, a rework that loops, a scenario where nothing arrives, a company
in a region the scenario does not know, a dated measure's scope that reads a missing attribute.
Called by ``sim.scenario.checks.cross_check``; each raises through ``fail`` (the one-line error at
the key's line)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NoReturn

from sim.scenario.city import SHARED
from sim.scenario.conditions import SEGMENT, attributes_used
from sim.scenario.distributions import Bernoulli, Categorical, Constant
from sim.scenario.errors import KeyPath, suggest
from sim.scenario.schema import Scenario


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _same_kind(a: Any, b: Any) -> bool:
    """Whether two condition values are of one kind: flags, numbers or text."""

    def kind(v):
        return "flag" if isinstance(v, bool) else "number" if isinstance(v, (int, float)) else "text"

    return kind(a) == kind(b)


def readable(sc: Scenario, segment: str) -> dict[str, Any]:
    """What a condition applied to a case of ``segment`` can read: the attributes its cases carry
    and its ``segment``, one of the scenario's segments."""
    segments = Categorical(dist="categorical", values=dict.fromkeys(sc.segments, 1.0))
    return {**sc.attributes_of(segment), SEGMENT: segments}


def not_read(sc: Scenario, name: str, segment: str, known: Mapping[str, Any]) -> str:
    """Why a condition cannot read ``name`` in ``segment``, with the name meant or what to add."""
    problem = f"reads attribute '{name}', which segment '{segment}' does not define{suggest(name, known)}"
    if name in ("company", "region") and not sc.companies:
        problem += "; only a scenario with `companies:` gives its cases a company and a region"
    return problem


def value_problem(cond: Mapping, attributes: dict) -> str | None:
    """A value in a condition that its attribute can never take (a typo that would never match)."""
    for key, want in cond.items():
        if key in ("any", "all"):
            for item in want:
                if problem := value_problem(item, attributes):
                    return problem
            continue
        if key == "not":
            if problem := value_problem(want, attributes):
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


def check_fix_cycles(sc: Scenario, fail: Callable[[KeyPath, str], NoReturn]) -> None:
    """A rework's fix must not lead back to the stage it fixes (a fix that needs itself, or two
    stages fixing each other, would loop)."""
    for name, stage in sc.stages.items():
        chain, current = [name], stage
        while current.rework is not None and current.rework.fix is not None:
            fix = current.rework.fix
            if fix == name:
                cycle = " -> ".join([*chain, fix])
                fail(
                    ("stages", name, "rework", "fix"),
                    f"the rework's fix leads back to '{name}' ({cycle}): a fix cannot need the "
                    "stage it fixes",
                )
            if fix in chain or fix not in sc.stages:
                break
            chain.append(fix)
            current = sc.stages[fix]


def arrives(sc: Scenario, arrivals: Any) -> bool:
    if arrivals.stream is not None:
        stream = sc.streams.get(arrivals.stream)
        return stream is not None and arrives(sc, stream.arrivals)
    return bool(arrivals.at) or arrivals.every is not None or arrivals.rate_per_wd > 0


MAX_APPLICATIONS = 20_000_000  # the city's three years: about 1.3 million a replication


def check_size(sc: Scenario, fail: Callable[[KeyPath, str], NoReturn]) -> None:
    """A replication that would simulate more applications than a machine can hold is refused
    before it starts (a typo in a rate or in ``scale``)."""
    h = sc.horizon
    days = h.warmup_days + h.arrival_days
    sources = {("segments", n): s.arrivals for n, s in sc.segments.items()}
    sources.update({("streams", n): s.arrivals for n, s in sc.streams.items()})
    counts: dict[KeyPath, float] = {}
    for where, arrivals in sources.items():
        if arrivals.at is not None:
            counts[(*where, "arrivals", "at")] = len(arrivals.at)
        elif arrivals.every is not None:
            counts[(*where, "arrivals", "every")] = days / arrivals.every
        elif arrivals.stream is None:
            key = "per_year" if arrivals.per_year is not None else "per_working_day"
            counts[(*where, "arrivals", key)] = arrivals.rate_per_wd * sc.scale * days
    total = sum(counts.values())
    if total > MAX_APPLICATIONS:
        blame = ("scale",) if sc.scale > 100 else max(counts, key=counts.__getitem__)
        fail(
            blame,
            f"about {total:,.0f} applications a replication (warm-up and counted days), more than "
            f"{MAX_APPLICATIONS:,}: beyond the memory and hours of a run (the whole city for three "
            "years is about 1.3 million); check the rate or scale",
        )


def check_companies(
    sc: Scenario,
    need: Callable,
    fail: Callable[[KeyPath, str], NoReturn],
    written_here: Callable[[KeyPath], bool],
) -> None:
    """A company staffs pools that exist, and its region is one the segments know."""
    regions: set[str] = set()
    for name in sc.segments:
        spec = sc.segments[name].attributes.get("region")
        if isinstance(spec, Categorical):
            regions |= set(spec.values)
    if sc.travel is not None and sc.travel.attribute == "region":
        regions |= set(sc.travel.hours)
    total = sum(c.share for c in sc.companies.values())
    if sc.companies and abs(total - 1) > 1e-6:
        shares = ", ".join(f"{n} {c.share:g}" for n, c in sc.companies.items())
        # blame a share the file itself wrote (an overlay changing one), else the companies
        own = [("companies", n, "share") for n in sc.companies if written_here(("companies", n, "share"))]
        fail(
            own[0] if own else ("companies",),
            f"the companies' shares ({shares}) add up to {total:g}; they must add up to 1",
        )
    for cname, company in sc.companies.items():
        if cname == SHARED:
            fail(
                ("companies", cname),
                f"'{SHARED}' names the shared pools' rows in the results: call the company otherwise",
            )
        for pool in company.resources:
            need(pool, sc.resources, ("companies", cname, "resources", pool), "pool")
            if sc.resources[pool].shared:
                fail(
                    ("companies", cname, "resources", pool),
                    f"pool '{pool}' is shared by the whole city: its members are set in "
                    f"resources.{pool}.capacity, not per company (or remove its shared: true)",
                )
        if regions and company.region not in regions:
            fail(
                ("companies", cname, "region"),
                f"region {company.region!r} is none of the scenario's regions"
                f"{suggest(company.region, sorted(regions))}; regions: {', '.join(sorted(regions))}",
            )


def check_scopes(sc: Scenario, fail: Callable[[KeyPath, str], NoReturn]) -> None:
    """A dated measure's ``where`` reads attributes every segment's cases carry, with values
    they can take."""
    for i, measure in enumerate(sc.measures):
        if measure.where is None:
            continue
        for segment in sc.segments:
            attributes = readable(sc, segment)
            for used in attributes_used(measure.where):
                if used not in attributes:
                    fail(("measures", i, "where"), not_read(sc, used, segment, attributes))
            if problem := value_problem(measure.where, attributes):
                fail(("measures", i, "where"), f"{problem} (in segment '{segment}')")
