"""What a scenario's stages use: staff pools (members, hours a day, dispatch), the travel of site
visits, the effort a stage's work takes, and stock items; and the base of every scenario model
(``Strict``: unknown keys refused, frozen). Part of the schema (``sim.scenario.schema``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Discriminator, Field, StrictBool, Tag, model_validator

from sim.scenario.distributions import NumericDistribution

Owner = Literal["utility", "customer", "government"]
Probability = Annotated[float, Field(ge=0, le=1)]


class Strict(BaseModel):
    """The base of every scenario model: unknown keys are refused, nothing changes once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


_Model = Strict


def pool_names(pool: str | list[str]) -> list[str]:
    """A stage's or variant's ``pool`` (one name or a list of names) as a list of names."""
    return [pool] if isinstance(pool, str) else pool


class Pool(_Model):
    """Staff or offices whose members work the stages that name them.

    ``capacity`` counts members (people, crews, teams, officers); ``capacity: null`` means
    unlimited: a case never waits. A member works one task at a time, ``hours_per_day`` productive
    hours per working day (net of other duties, leave and training), so a task of ``effort`` hours
    keeps the member for effort / hours_per_day working days. ``dispatch`` chooses which waiting
    case a member takes next: ``fifo`` (first come), ``deadline`` (the case closest to its due
    date: its application plus the first ``share`` target of its segment that applies to it) or
    ``priority`` (important customers first); ties go to the case that asked first. In a scenario
    with ``companies``, each company has its own members (capacity x scale x its share, or its
    own ``resources``) unless the pool is ``shared``: one set of members for the whole city (a
    city-level office) at capacity x scale, serving every company's cases."""

    capacity: Annotated[int, Field(ge=1)] | None
    hours_per_day: Annotated[float, Field(gt=0, le=24, allow_inf_nan=False)]
    dispatch: Literal["fifo", "deadline", "priority"] = "fifo"
    shared: StrictBool = False
    owner: Owner = "utility"
    label: str | None = None
    label_zh: str | None = None

    # keys of earlier versions of the format, and what to write instead (in error messages)
    retired: ClassVar[dict[str, str]] = {
        "cases_per_unit": "a member works one case at a time: give the pool its `hours_per_day` "
        "and each stage that uses it its `effort` in hours (docs/scenario-format.md)",
    }


class Travel(_Model):
    """Travel hours of a site visit (round trip), by the value of a case attribute (``region``):
    added to the effort of every member on a stage with ``site_visit: true``."""

    attribute: str = "region"
    hours: Annotated[dict[str, NumericDistribution], Field(min_length=1)]


def effort_kind(value: Any) -> str:
    """Whether a stage's ``effort`` is one distribution (each member of each of the stage's pools
    works it, together) or a mapping from pool name to distribution: a non-empty mapping whose
    values are all mappings (or distributions) is per pool."""
    per_pool = isinstance(value, Mapping) and "dist" not in value and value
    if per_pool and all(isinstance(v, (Mapping, BaseModel)) for v in value.values()):
        return "per_pool"
    return "one"


Effort = Annotated[
    Annotated[NumericDistribution, Tag("one")] | Annotated[dict[str, NumericDistribution], Tag("per_pool")],
    Discriminator(effort_kind),
]


class WaySpec(NamedTuple):
    """One way through a stage as ``Stage.way`` resolves it (``effort_inherited``: the effort is
    the stage's, not written in the variant)."""

    pools: list[str]
    effort: Any
    lead_time: Any
    duration: Any
    site_visit: bool
    effort_inherited: bool


class MaterialRoute(_Model):
    probability: Probability
    delay: NumericDistribution


class Material(_Model):
    """A stock item (e.g. a distribution kit) with a reorder rule and two other sources: a share of
    cases gets it by cross-unit transfer or by procurement, with their delays, instead of stock."""

    initial: Annotated[int, Field(ge=0)]
    reorder_point: Annotated[int, Field(ge=0)]
    reorder_quantity: Annotated[int, Field(ge=1)]
    lead_time: NumericDistribution
    transfer: MaterialRoute | None = None
    procurement: MaterialRoute | None = None
    label: str | None = None
    label_zh: str | None = None

    @model_validator(mode="after")
    def _shares(self):
        total = sum(r.probability for r in (self.transfer, self.procurement) if r is not None)
        if total > 1:
            raise ValueError(f"transfer and procurement probabilities add up to {total:g}, above 1")
        return self


class MaterialUse(_Model):
    item: str
    quantity: Annotated[int, Field(ge=1)] = 1
