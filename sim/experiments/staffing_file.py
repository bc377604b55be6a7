"""Staffing files: which pools to staff, within which bounds, at what cost, to meet which targets;
loaded and checked before anything runs (the search itself is ``sim.experiments.staffing``).

A staffing file (YAML, see ``docs/staffing.md`` and ``scenarios/staffing/``)::

    name: plan-2021-three-zero
    base: ../plan-2021.yaml                 # relative to this file
    seed: 20210304                          # default: the base scenario's
    set: {horizon.arrival_days: 120}        # optional: applied to every staffing
    pools:                                  # the members to choose, with bounds and a cost each
      customer_manager: {min: 1, max: 8, cost: 1}
      inspector: {min: 1, max: 5, cost: 1.2}
    targets:                                # every one must be met
      - {segment: lv_smb, kpi: on_target_share, at_least: 0.7}
      - {segment: hv_single, kpi: handling_wd_mean, at_most: 17}
    confidence: 0.95                        # of each staffing's verdict
    replications: {start: 5, step: 5, max: 40}

Errors are those of scenarios and sweep files: file, line, key path, what was found, what was
expected, "did you mean". A pool must exist in the base scenario and have a capacity; a target
names a segment of it and a KPI of the kpis table (``sim.kpi_catalogue``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, ClassVar

from pydantic import Field, StrictBool, model_validator

from sim import kpi_catalogue
from sim.experiments.spec_files import Places, SpecFile, read_base, read_spec
from sim.scenario.errors import LineMap, ScenarioError, suggest, validated
from sim.scenario.load import validate_scenario
from sim.scenario.overrides import OverrideError, apply_overrides, parse_key_path
from sim.scenario.resources import Strict
from sim.scenario.schema import Scenario

STAFFING = "a staffing file"  # who sets the keys, as override errors name it
MAX_STAFFINGS = 20_000  # bounds holding more staffings than this are refused


Members = Annotated[int, Field(strict=True, ge=1, description="a whole number of members, at least 1")]


class PoolChoice(Strict):
    """The members of one pool the search may choose, and the cost of one member (e.g. yuan a year;
    any unit, the same for every pool)."""

    min: Members
    max: Members
    cost: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 1.0

    @model_validator(mode="after")
    def _ordered(self) -> PoolChoice:
        if self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class StaffTarget(Strict):
    """A bound on the mean over replications of one KPI of one segment: ``at_least`` (shares on
    target) or ``at_most`` (times), exactly one."""

    segment: str
    kpi: str
    at_least: Annotated[float, Field(allow_inf_nan=False)] | None = None
    at_most: Annotated[float, Field(allow_inf_nan=False)] | None = None
    label: str | None = None

    @model_validator(mode="after")
    def _one_bound(self) -> StaffTarget:
        if (self.at_least is None) == (self.at_most is None):
            raise ValueError(
                "a target takes exactly one of at_least and at_most (for a range, write two targets)"
            )
        if kpi_catalogue.is_share(self.kpi) and not 0 <= self.bound <= 1:
            raise ValueError(
                f"'{self.kpi}' is a share, a fraction of the cases: found {self.bound:g}; "
                f"write {self.bound / 100:g} for {self.bound:g}%"
            )
        return self

    @property
    def bound(self) -> float:
        return self.at_least if self.at_least is not None else self.at_most  # type: ignore[return-value]

    @property
    def sense(self) -> str:
        """``>=`` or ``<=``."""
        return ">=" if self.at_least is not None else "<="

    def describe(self) -> str:
        """The target in words, its share in percent: ``lv_smb on_target_share >= 70%``."""
        if self.label:
            return self.label
        shown = f"{100 * self.bound:g}%" if kpi_catalogue.is_share(self.kpi) else f"{self.bound:g}"
        return f"{self.segment} {self.kpi} {self.sense} {shown}"


class Replications(Strict):
    """Replications per staffing: ``start`` at once, then ``step`` more at each look until every
    target is decided or ``max`` is reached."""

    start: Annotated[int, Field(strict=True, ge=2)] = 5
    step: Annotated[int, Field(strict=True, ge=1)] = 5
    max: Annotated[int, Field(strict=True, ge=2)] = 40

    @model_validator(mode="after")
    def _ordered(self) -> Replications:
        if self.start > self.max:
            raise ValueError(f"start {self.start} is above max {self.max}")
        return self

    @property
    def looks(self) -> int:
        """The most looks at one staffing's results: at start, then after each step."""
        return 1 + math.ceil((self.max - self.start) / self.step)


class StaffingFile(SpecFile):
    """What a staffing file may hold; its names are checked against the base scenario later. Its
    ``replications`` are a plan of looks (``Replications``), not a number."""

    kind: ClassVar[str] = STAFFING

    pools: Annotated[dict[str, PoolChoice], Field(min_length=1)]
    targets: Annotated[list[StaffTarget], Field(min_length=1)]
    confidence: Annotated[float, Field(gt=0.5, lt=1, description="a fraction such as 0.95")] = 0.95
    replications: Replications = Replications()
    assume_monotone: StrictBool = True


@dataclass
class StaffingSpec:
    """A checked staffing file: the base scenario's data, the pools and their bounds and costs,
    the targets, the confidence and the replication plan."""

    name: str
    title: str
    description: str | None
    source: str
    base: str
    seed: int
    pools: list[str]
    bounds: dict[str, tuple[int, int]]
    costs: dict[str, float]
    targets: list[StaffTarget]
    confidence: float
    replications: Replications
    assume_monotone: bool
    base_data: dict = field(repr=False)
    base_lines: LineMap = field(repr=False)
    data: dict = field(repr=False)

    def cost(self, staffing: tuple[int, ...]) -> float:
        return sum(self.costs[p] * n for p, n in zip(self.pools, staffing))

    def scenario(self, staffing: tuple[int, ...]) -> Scenario:
        """The base scenario with these members in the chosen pools (in ``pools`` order)."""
        overrides = {f"resources.{p}.capacity": n for p, n in zip(self.pools, staffing)}
        lines = dict(self.base_lines)
        data = apply_overrides(self.base_data, overrides, lines, origin=STAFFING)
        return validate_scenario(data, lines, source=self.base)

    def describe(self, staffing: tuple[int, ...]) -> str:
        """``customer_manager 3, inspector 2``."""
        return ", ".join(f"{p} {n}" for p, n in zip(self.pools, staffing))


def load_staffing(spec: str | Path | Mapping, seed: int | None = None) -> StaffingSpec:
    """Read and check a staffing file (or a mapping with the same keys, whose ``base`` is a path
    relative to the working folder or a ``Scenario``). ``seed`` replaces the file's. Raises
    ``ScenarioError`` on bad input."""
    data, lines, shown, folder = read_spec(spec, kind=StaffingFile.kind, unnamed="<staffing>")
    at = Places(lines, shown)
    file = validated(StaffingFile, data, lines, shown)
    base_data, base_lines, base_shown = read_base(file.base, folder, at)
    if seed is None:
        seed = file.seed if file.seed is not None else base_data.get("seed", 1)
    base_data = {**base_data, "seed": int(seed)}
    common = file.common or {}
    for key, value in common.items():
        try:
            base_data = apply_overrides(base_data, {key: value}, base_lines, origin=STAFFING)
        except OverrideError as exc:
            at.fail(("set", key), exc.problem)
        base_lines[parse_key_path(key)] = at(("set", key))
    try:
        base = validate_scenario(base_data, base_lines, source=base_shown)
    except ScenarioError as exc:
        raise ScenarioError(f"{exc} (the base of {shown})") from None
    if base.scale != 1:
        at.fail(
            ("base",),
            f"the base scenario's scale is {base.scale:g}: members of a staffing are people, so the "
            "base must have scale 1 (run the staffing of one company, or of the city at scale 1)",
        )
    size = math.prod(c.max - c.min + 1 for c in file.pools.values())
    if size > MAX_STAFFINGS:
        at.fail(("pools",), f"the bounds hold {size} staffings; narrow them to at most {MAX_STAFFINGS}")
    for name in file.pools:
        if name not in base.resources:
            at.fail(
                ("pools", name), f"pool '{name}' is not in the base scenario{suggest(name, base.resources)}"
            )
        if base.resources[name].capacity is None:
            at.fail(
                ("pools", name),
                f"pool '{name}' is unlimited in the base scenario: there is nothing to choose",
            )
    kpis = kpi_catalogue.kpi_names("kpis")
    for i, target in enumerate(file.targets):
        if target.segment not in base.segments:
            hint = suggest(target.segment, base.segments)
            at.fail(
                ("targets", i, "segment"), f"segment '{target.segment}' is not in the base scenario{hint}"
            )
        if target.kpi not in kpis:
            at.fail(
                ("targets", i, "kpi"),
                f"'{target.kpi}' is not a KPI of the kpis table{suggest(target.kpi, kpis)}",
            )
        segment = base.segments[target.segment]
        needs = {"on_target_share": "share", "within_maximum_share": "maximum"}.get(target.kpi)
        has = segment.target if needs == "share" else segment.maximum
        if needs is not None and has is None:
            at.fail(
                ("targets", i, "kpi"),
                f"segment '{target.segment}' has no `kind: {needs}` target in the base scenario, so "
                f"'{target.kpi}' is undefined; give the segment one, or choose another KPI",
            )
    return StaffingSpec(
        name=file.name or (Path(shown).stem if shown != "<staffing>" else "staffing"),
        title=file.title,
        description=file.description,
        source=shown,
        base=base_shown,
        seed=int(seed),
        pools=list(file.pools),
        bounds={p: (c.min, c.max) for p, c in file.pools.items()},
        costs={p: c.cost for p, c in file.pools.items()},
        targets=list(file.targets),
        confidence=file.confidence,
        replications=file.replications,
        assume_monotone=file.assume_monotone,
        base_data=base_data,
        base_lines=base_lines,
        data={k: (v if k != "base" or isinstance(v, str) else base_shown) for k, v in data.items()},
    )
