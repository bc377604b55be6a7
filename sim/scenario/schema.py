"""The schema of a scenario: what a scenario is, as immutable pydantic models.

A scenario names its resource pools, materials and stages (what stages use, staff and stock, is
in ``sim.scenario.resources``), and its segments: how cases arrive,
the attributes they draw, the flow of stages they walk (with parallel branches) and the targets
they are judged by. Every model forbids unknown keys (``extra="forbid"``) and is frozen: nothing
changes a scenario after it is loaded. Distributions and conditions are data too
(``sim.scenario.distributions``, ``sim.scenario.conditions``). What the schema cannot say alone
(every stage, pool, material and attribute a scenario names exists) is checked after validation
in ``sim.scenario.checks``. The format is documented for users in ``docs/scenario-format.md``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import date
from difflib import get_close_matches
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    Discriminator,
    Field,
    PrivateAttr,
    StrictBool,
    Tag,
    model_validator,
)

from sim.kpi_catalogue import MEASURE_NAMES
from sim.scenario.city import Company, DatedMeasure, Seasonality
from sim.scenario.conditions import check_condition
from sim.scenario.distributions import AttributeDistribution, Categorical, NumericDistribution
from sim.scenario.resources import (
    Effort,
    Material,
    MaterialUse,
    Owner,
    Pool,
    Probability,
    Strict,
    Travel,
    WaySpec,
    pool_names,
)

# the KPI catalogue names the measures of a case; a target may name exactly those
Measure = Literal[MEASURE_NAMES]  # type: ignore[valid-type]
MEASURES: tuple[str, ...] = MEASURE_NAMES
Condition = Annotated[dict[str, Any], AfterValidator(check_condition)]
_Model = Strict


class Rework(_Model):
    """After the stage, the case fails with ``probability``; it then goes through ``fix`` (if any)
    and repeats the stage, at most ``max_attempts`` times in all (the last attempt passes)."""

    probability: Probability
    fix: str | None = None
    max_attempts: Annotated[int, Field(ge=1)] = 3


class Variant(_Model):
    """A different way through a stage for cases where ``when`` holds (first match wins); what it
    does not give (duration, pools, effort, lead time) is the stage's."""

    name: str
    when: Condition
    duration: NumericDistribution | None = None
    pool: str | list[str] | None = None
    effort: Effort | None = None
    lead_time: NumericDistribution | None = None
    site_visit: StrictBool | None = None
    label: str | None = None
    label_zh: str | None = None


class Stage(_Model):
    """A step of the process. A stage with staff (``pool``) takes the ``effort`` of a member of
    each pool (hours of hands-on work, plus travel if it is a ``site_visit``) and then its
    ``lead_time`` (working days that need no staff); a stage without staff takes its
    ``duration`` (working days, or calendar days with ``calendar: calendar``). Which of these a
    stage (and each of its variants) must give is checked in ``sim.scenario.checks``."""

    label: str
    label_zh: str | None = None
    owner: Owner
    pool: str | list[str] = Field(default_factory=list)
    effort: Effort | None = None
    lead_time: NumericDistribution | None = None
    site_visit: StrictBool = False
    duration: NumericDistribution | None = None
    calendar: Literal["working", "calendar"] = "working"
    when: Condition | None = None
    variants: list[Variant] = Field(default_factory=list)
    rework: Rework | None = None
    handling: StrictBool = False
    procedure: str | None = None
    materials: MaterialUse | None = None
    enabled: StrictBool = True

    @property
    def pools(self) -> list[str]:
        return pool_names(self.pool)

    def way(self, variant: Variant | None = None) -> WaySpec:
        """What a case does in the stage, or in one of its variants: the variant's own keys, the
        rest from the stage. A way with staff inherits the stage's effort (if the variant keeps the
        stage's pools or gives no effort of its own), lead time and site visit, never a duration; a
        way without staff inherits only the duration."""
        if variant is None:
            return WaySpec(self.pools, self.effort, self.lead_time, self.duration, self.site_visit, False)
        pools = self.pools if variant.pool is None else pool_names(variant.pool)
        if not pools:
            duration = variant.duration if variant.duration is not None else self.duration
            return WaySpec([], variant.effort, variant.lead_time, duration, False, False)
        inherited = variant.effort is None
        return WaySpec(
            pools,
            self.effort if inherited else variant.effort,
            variant.lead_time if variant.lead_time is not None else self.lead_time,
            variant.duration,
            self.site_visit if variant.site_visit is None else variant.site_visit,
            inherited and self.effort is not None,
        )


class StageStep(_Model):
    stage: str
    when: Condition | None = None


class ParallelStep(_Model):
    parallel: Annotated[list[list[FlowStep]], Field(min_length=2)]
    when: Condition | None = None


def step_kind(value: Any) -> str:
    """Which kind of flow step a value is: a stage ``name``, a ``stage`` step with a condition, or
    a ``parallel`` step; pydantic validates it as that kind."""
    if isinstance(value, str):
        return "name"
    if isinstance(value, (StageStep, ParallelStep)):
        return "stage" if isinstance(value, StageStep) else "parallel"
    if isinstance(value, Mapping) and "parallel" in value:
        return "parallel"
    if isinstance(value, Mapping):
        return "stage"
    return "name"


FlowStep = Annotated[
    Annotated[str, Tag("name")]
    | Annotated[StageStep, Tag("stage")]
    | Annotated[ParallelStep, Tag("parallel")],
    Discriminator(step_kind),
]
ParallelStep.model_rebuild()


class Arrivals(_Model):
    """How a segment's applications arrive: exactly one of

    * ``per_year`` (divided by 250 working days) or ``per_working_day``: a Poisson process, the
      rate multiplied by the scenario's ``scale``; the gaps are drawn from the case-keyed streams;
    * ``at``: the arrival times themselves, in working days since ``horizon.start``
      (non-decreasing), e.g. to replay known applications or to pin a test to exact times;
    * ``every``: one arrival each ``every`` working days, the first at ``every``;
    * ``stream``: the cases of an arrival stream (``streams:``) that ``when`` selects (by the
      attributes the stream draws), e.g. the LV non-residential applications up to 160 kVA.

    Times given by ``at`` and ``every`` are not multiplied by ``scale``."""

    per_year: Annotated[float, Field(ge=0)] | None = None
    per_working_day: Annotated[float, Field(ge=0)] | None = None
    at: list[Annotated[float, Field(ge=0, allow_inf_nan=False)]] | None = None
    every: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None
    stream: str | None = None
    when: Condition | None = None

    @model_validator(mode="after")
    def _one(self):
        kinds = ("per_year", "per_working_day", "at", "every", "stream")
        given = [k for k in kinds if getattr(self, k) is not None]
        if len(given) != 1:
            found = f"found {', '.join(given)}" if given else "found none"
            raise ValueError(
                f"arrivals take exactly one of per_year, per_working_day, at, every and stream; {found}"
            )
        if self.when is not None and self.stream is None:
            raise ValueError("`when` selects cases of a `stream`: give the stream too")
        if self.at is not None and any(b < a for a, b in zip(self.at, self.at[1:])):
            raise ValueError("arrival times `at` must be in non-decreasing order")
        return self

    @property
    def rate_per_wd(self) -> float:
        """The mean number of arrivals per working day (Poisson; for ``every``, its inverse; for
        ``at``, 0: a list has no rate)."""
        if self.per_working_day is not None:
            return float(self.per_working_day)
        if self.every is not None:
            return 1.0 / self.every
        return float(self.per_year or 0.0) / WORKING_DAYS_PER_YEAR


WORKING_DAYS_PER_YEAR = 250


class Target(_Model):
    """A bound on one of a case's measures, in working days, for all of a segment's cases or for
    those ``when`` selects (e.g. important customers). ``kind``: ``share`` (the share of the cases
    within ``days`` is at least ``share``, e.g. 0.95; without ``share`` it is reported, not
    judged), ``mean`` (their mean is at most ``days``) or ``maximum`` (the longest is at most
    ``days``). ``days`` are working days, or calendar days with ``clock: calendar``;
    ``report_only`` shows the statistic without a verdict (an aim the plan states as context).
    The first ``share`` target is the segment's headline target; verdicts are in
    ``sim.experiments.targets``."""

    measure: Measure
    days: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    kind: Literal["share", "mean", "maximum"] = "share"
    share: Probability | None = None
    when: Condition | None = None
    clock: Literal["working", "calendar"] = "working"
    report_only: StrictBool = False
    label: str | None = None
    label_zh: str | None = None

    @model_validator(mode="after")
    def _share_of_a_share(self):
        if self.share is not None and self.kind != "share":
            raise ValueError(f"`share` (the share of cases required) goes with kind: share, not {self.kind}")
        if self.clock == "calendar" and self.measure == "handling":
            raise ValueError("handling is kept in working days only: `clock: calendar` takes another measure")
        return self


class Segment(_Model):
    label: str
    label_zh: str | None = None
    arrivals: Arrivals
    attributes: dict[str, AttributeDistribution] = Field(default_factory=dict)
    flow: Annotated[list[FlowStep], Field(min_length=1)]
    targets: list[Target] = Field(default_factory=list)

    @property
    def target(self) -> Target | None:
        """The headline target: the first ``share`` target (for the cases its ``when`` selects)."""
        return next((t for t in self.targets if t.kind == "share"), None)

    @property
    def maximum(self) -> Target | None:
        """The first ``maximum`` target for all the segment's cases."""
        return next((t for t in self.targets if t.kind == "maximum" and t.when is None), None)


class Stream(_Model):
    """An arrival stream shared by several segments: its cases arrive as ``arrivals`` says, draw
    the stream's ``attributes``, and each joins the first segment (in file order) whose
    ``arrivals.when`` holds; the last segment of the stream takes the rest. A case keeps its
    random numbers whichever segment it joins."""

    label: str | None = None
    label_zh: str | None = None
    arrivals: Arrivals
    attributes: dict[str, AttributeDistribution] = Field(default_factory=dict)


class Horizon(_Model):
    """Arrivals start at ``start``; those of the first ``warmup_days`` working days load the pools
    but are not counted; the next ``arrival_days`` are the cohort. The run then goes on until every
    counted case is connected, or ``drain_days`` more working days have passed."""

    start: date
    warmup_days: Annotated[float, Field(ge=0)] = 20
    arrival_days: Annotated[float, Field(gt=0)] = 250
    drain_days: Annotated[float, Field(ge=0)] = 500


class CalendarSpec(_Model):
    country: Literal["CN"] = "CN"
    beyond_published: Literal["error", "statutory_only"] = "error"


class Scenario(_Model):
    name: str
    title: str = ""
    title_zh: str | None = None
    description: str | None = None
    assumptions: list[str] = Field(default_factory=list)
    seed: Annotated[int, Field(ge=0)] = 1
    replications: Annotated[int, Field(ge=1)] = 1
    scale: Annotated[float, Field(gt=0)] = 1.0
    horizon: Horizon
    calendar: CalendarSpec = CalendarSpec()
    resources: dict[str, Pool] = Field(default_factory=dict)
    materials: dict[str, Material] = Field(default_factory=dict)
    travel: Travel | None = None
    seasonality: Seasonality | None = None
    measures: list[DatedMeasure] = Field(default_factory=list)
    companies: dict[str, Company] = Field(default_factory=dict)
    streams: dict[str, Stream] = Field(default_factory=dict)
    stages: dict[str, Stage]
    segments: Annotated[dict[str, Segment], Field(min_length=1)]

    _source: str = PrivateAttr(default="<memory>")
    _variants: dict[tuple[int, ...], Scenario] = PrivateAttr(default_factory=dict)

    def attributes_of(self, segment: str) -> dict[str, Any]:
        """The attributes a segment's cases carry: those of its arrival stream, then its own, and
        with ``companies`` their ``company`` and ``region`` (fixed per company: shown here as the
        categories they can take)."""
        seg = self.segments[segment]
        stream = self.streams.get(seg.arrivals.stream) if seg.arrivals.stream else None
        attributes = {**(stream.attributes if stream is not None else {}), **seg.attributes}
        if self.companies:  # fixed per company: the region a case has is its company's
            regions = {c.region: 1.0 for c in self.companies.values()}
            attributes["company"] = Categorical(dist="categorical", values=dict.fromkeys(self.companies, 1.0))
            attributes["region"] = Categorical(dist="categorical", values=regions)
        return attributes

    @property
    def shared_pools(self) -> list[str]:
        """The pools one set of members serves for every company (``shared``; with ``companies``)."""
        return [n for n, p in self.resources.items() if p.shared] if self.companies else []

    @property
    def source(self) -> str:
        """The file the scenario was loaded from, as error messages show it."""
        return self._source

    def with_source(self, source: str) -> Scenario:
        """The same scenario, remembering the file it was loaded from."""
        located = self.model_copy()
        located._source = source
        return located

    def under(self, measures: tuple[int, ...]) -> Scenario:
        """The scenario with the dated measures ``measures`` (indices into ``measures``, in list
        order) in force: composed and checked when the scenario was loaded."""
        return self._variants[measures] if measures else self

    def only(self, companies: list[str]) -> Scenario:
        """The scenario of some of its companies (``run --company``): their applications, staff
        and stock, as in the city."""
        unknown = [c for c in companies if c not in self.companies]
        if unknown:
            if not self.companies:
                raise ValueError(
                    f"{self.name} has no companies: a city scenario lists them under `companies:` "
                    "(e.g. scenarios/city-2020.yaml, scenarios/plan-2021-2023.yaml)"
                )
            raise ValueError(
                f"no company {', '.join(map(repr, unknown))} in {self.name}"
                + "".join(
                    f" (did you mean '{m}'?)" for m in get_close_matches(unknown[0], self.companies, 1, 0.6)
                )
                + f"; its companies: {', '.join(self.companies)}"
            )
        if self.shared_pools:
            raise ValueError(
                f"pool {self.shared_pools[0]!r} is shared by every company of {self.name}: run the whole "
                "city (some of its companies alone would have the city's members to themselves)"
            )
        title = f"{self.title or self.name} (only {', '.join(companies)})"
        return self.model_copy(
            update={"companies": {c: self.companies[c] for c in companies}, "title": title}
        )

    def in_force(self, day: date) -> Scenario:
        """The scenario with the dated measures without ``where`` whose date has come by ``day``
        (those with ``where`` change only flows, stages and targets of some cases)."""
        key = tuple(i for i, m in enumerate(self.measures) if m.where is None and m.from_ <= day)
        return self.under(key)

    def with_variants(self, variants: dict[tuple[int, ...], Scenario]) -> Scenario:
        """The same scenario, holding its compositions with dated measures (see ``under``)."""
        held = self.model_copy()
        held._variants = dict(variants)
        return held

    def to_dict(self) -> dict:
        """The resolved scenario as plain JSON-compatible data (what the manifest stores); it
        loads back as the same scenario (``scenario_from_dict``: an unlimited pool keeps its
        ``capacity: null``)."""
        return self.model_dump(mode="json", by_alias=True)

    def digest(self) -> str:
        """SHA-256 of the resolved scenario: two runs with equal digests ran the same model
        (keys at their default left out, so a key added to the format leaves digests valid)."""
        data = self.model_dump(mode="json", by_alias=True, exclude_defaults=True)
        text = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()
