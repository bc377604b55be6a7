"""The city and its time in a scenario: applications through the year (``seasonality``),
measures in force from a date (``measures``) and supply companies (``companies``). Their rules
live in ``sim.engine.seasons``, ``sim.scenario.dated`` / ``sim.engine.rules`` and
``sim.engine.model``."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, ConfigDict, Field, model_validator

from sim.scenario.conditions import check_condition
from sim.scenario.resources import Strict as _Model

Condition = Annotated[dict[str, Any], AfterValidator(check_condition)]

SHARED = "shared"  # the ``company`` of a shared pool's rows in the pools table: no company's name


class FestivalWindow(_Model):
    """Calendar days ``from_day`` (inclusive) to ``to_day`` (exclusive) counted from the Spring
    Festival (lunar new year's day, day 0), and the factor of the applications in them."""

    from_day: int
    to_day: int
    factor: Annotated[float, Field(ge=0, allow_inf_nan=False)]

    @model_validator(mode="after")
    def _ordered(self):
        if self.to_day <= self.from_day:
            raise ValueError(f"to_day ({self.to_day}) must be after from_day ({self.from_day})")
        return self


class Seasonality(_Model):
    """How the intensity of Poisson arrivals varies over the year (``sim.engine.seasons``):
    factors by calendar month (1-12; a month not named keeps 1) and by windows of calendar days
    around the Spring Festival; normalised per calendar year, so ``per_year`` keeps its meaning."""

    months: dict[Annotated[int, Field(ge=1, le=12)], Annotated[float, Field(ge=0, allow_inf_nan=False)]] = (
        Field(default_factory=dict)
    )
    spring_festival: list[FestivalWindow] = Field(default_factory=list)

    @model_validator(mode="after")
    def _not_all_zero(self):
        if self.months and len(self.months) == 12 and not any(self.months.values()):
            raise ValueError("every month has factor 0: no application would ever arrive")
        return self


class DatedMeasure(_Model):
    """A measure in force ``from`` a date, for every case or for those ``where`` selects: the own
    content of an overlay ``file`` (read at load into ``changes``) or ``changes`` given inline
    (``sim.scenario.dated``)."""

    file: str | None = None
    changes: dict[str, Any]
    from_: date = Field(alias="from")
    where: Condition | None = None
    label: str | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False)


class CompanyPool(_Model):
    """A company's own members of a pool (not multiplied by ``scale``), and their hours."""

    capacity: Annotated[int, Field(ge=1)]
    hours_per_day: Annotated[float, Field(gt=0, le=24)] | None = None

    # keys that belong elsewhere, and where (in error messages)
    elsewhere: ClassVar[dict[str, str]] = {
        "shared": "a pool shared by the whole city says so where it is defined "
        "(resources.NAME.shared: true), not in a company",
    }


class Company(_Model):
    """A supply company of the city: its region, its share of every segment's (and stream's)
    applications, and the members of the pools it staffs itself (other pools: their capacity x
    ``scale`` x ``share``, staff in proportion to volume). Its cases carry ``company`` and
    ``region`` as attributes, fixed rather than drawn."""

    label: str
    label_zh: str | None = None
    region: str
    share: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)]
    resources: dict[str, CompanyPool] = Field(default_factory=dict)
