"""Calibration targets as data: the published figures a scenario must reproduce, and the check.

A calibration file (YAML, ``scenarios/calibration/``) names a scenario and lists published figures,
each with its source: a KPI of one segment (a column of the kpis table) and either a value with a
tolerance (``value: 4, tolerance: 0.5``) or a bound (``at_most: 20`` / ``at_least``). A figure
marked ``context: true`` (another city, the whole country) is shown, not judged. Where no figure
is published, the file says so in ``unpublished:`` rather than inventing one. A figure the scenario
is known to miss, for a reason the file explains, says so in ``known:``: its verdict is still
shown, and a difference there does not fail the check.

``calibrate`` runs the scenario and judges every figure on the 95% t-interval of the KPI's mean
over replications: **agrees** when the whole interval is within the tolerance (or on the right
side of the bound), **differs** when it is all outside, **undecided** otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

from sim import kpi_catalogue
from sim.experiments.replications import Progress, RunResult, run
from sim.experiments.stats import summarise
from sim.scenario.errors import fail_at, locate, suggest, validated
from sim.scenario.files import display_path, read_yaml
from sim.scenario.load import load_scenario
from sim.scenario.schema import Scenario

AGREES, DIFFERS, UNDECIDED, CONTEXT = "agrees", "differs", "undecided", "context"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Figure(_Strict):
    """One published figure: a KPI of a segment, its value (with a tolerance) or a bound, and
    where it comes from."""

    segment: str
    kpi: str
    value: float | None = None
    tolerance: Annotated[float, Field(ge=0)] | None = None
    at_most: float | None = None
    at_least: float | None = None
    source: Annotated[str, Field(min_length=1)]
    note: str | None = None
    context: StrictBool = False
    known: Annotated[str, Field(min_length=1)] | None = None

    @model_validator(mode="after")
    def _one(self) -> Figure:
        given = [k for k in ("value", "at_most", "at_least") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                f"a figure takes exactly one of value, at_most and at_least; found {given or 'none'}"
            )
        if self.value is not None and self.tolerance is None:
            raise ValueError("a value needs its `tolerance`: how far the scenario may be from it")
        return self


class CalibrationFile(_Strict):
    scenario: Annotated[str, Field(min_length=1)]
    replications: Annotated[int, Field(ge=2)] | None = None
    figures: list[Figure] = Field(default_factory=list)
    unpublished: list[str] = Field(default_factory=list)


@dataclass
class Calibration:
    """A checked calibration file: its scenario, the figures and what is not published."""

    source: str
    scenario: Scenario
    replications: int
    figures: list[Figure]
    unpublished: list[str]


def load_calibration(path: str | Path) -> Calibration:
    """Read and check a calibration file; its scenario path is relative to it."""
    path = Path(path)
    shown = display_path(path)
    data, lines = read_yaml(path, shown, kind="a calibration file")
    file = validated(CalibrationFile, data, lines, shown)
    scenario_path = path.parent / file.scenario
    if not scenario_path.is_file():
        fail_at(
            locate(("scenario",), lines, shown),
            ("scenario",),
            f"{display_path(scenario_path)} does not exist",
        )
    scenario = load_scenario(scenario_path)
    kpis = kpi_catalogue.kpi_names("kpis")
    for i, figure in enumerate(file.figures):
        for key, known in (("segment", list(scenario.segments)), ("kpi", kpis)):
            name = getattr(figure, key)
            if name not in known:
                where = locate(("figures", i, key), lines, shown)
                fail_at(
                    where,
                    ("figures", i, key),
                    f"'{name}' is not a {key} of the scenario{suggest(name, known)}",
                )
    return Calibration(
        shown, scenario, file.replications or scenario.replications, file.figures, file.unpublished
    )


def calibrate(
    calibration: Calibration, jobs: int | None = 1, progress: Progress | None = None
) -> tuple[pd.DataFrame, RunResult]:
    """Run the calibration's scenario and judge every figure: one row per figure with the
    published figure, the scenario's mean and its 95% interval, and the verdict."""
    result = run(calibration.scenario, reps=calibration.replications, jobs=jobs or 1, progress=progress)
    kpis = sorted({f.kpi for f in calibration.figures})
    summary = summarise(result.kpis, ["segment"], kpis).set_index("segment") if kpis else pd.DataFrame()
    rows = []
    for f in calibration.figures:
        mean, hw = summary.at[f.segment, f.kpi], summary.at[f.segment, f"{f.kpi}_hw"]
        rows.append(
            {
                "segment": f.segment,
                "kpi": f.kpi,
                "published": _published(f),
                "simulated": mean,
                "hw": hw,
                "verdict": CONTEXT if f.context else _verdict(f, mean, hw),
                "known": f.known or "",
                "source": f.source,
                "note": f.note or "",
            }
        )
    return pd.DataFrame(rows), result


def _published(f: Figure) -> str:
    if f.value is not None:
        return f"{f.value:g} ± {f.tolerance:g}"
    return f"≤ {f.at_most:g}" if f.at_most is not None else f"≥ {f.at_least:g}"


def _verdict(f: Figure, mean: float, hw: float) -> str:
    if mean is None or math.isnan(mean):
        return UNDECIDED
    spread = 0.0 if hw is None or math.isnan(hw) else hw
    low, high = mean - spread, mean + spread
    if f.value is not None:
        lo, hi = f.value - f.tolerance, f.value + f.tolerance  # type: ignore[operator]
    elif f.at_most is not None:
        lo, hi = -math.inf, f.at_most
    else:
        lo, hi = f.at_least, math.inf  # type: ignore[assignment]
    if lo <= low and high <= hi:
        return AGREES
    if high < lo or low > hi:
        return DIFFERS
    return UNDECIDED


def as_text(rows: pd.DataFrame) -> str:
    """The calibration table for the console."""
    shown = rows.assign(
        simulated=[f"{m:.2f} ±{h:.2f}" for m, h in zip(rows["simulated"], rows["hw"])],
        verdict=[f"{v} (known)" if k else v for v, k in zip(rows["verdict"], rows["known"])],
        note=[f"{n}; {k}" if n and k else n or k for n, k in zip(rows["note"], rows["known"])],
    )
    return shown.drop(columns=["hw", "known"]).to_string(index=False)
