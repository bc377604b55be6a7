"""Sensitivity files: which inputs of a base scenario are uncertain, over which ranges, and against
which KPIs to screen them; loaded and checked like a sweep file before anything runs.

A sensitivity file (YAML, see ``docs/sensitivity.md`` and ``scenarios/sensitivity/``)::

    name: plan-2021-assumptions
    base: ../plan-2021.yaml                 # relative to the sensitivity file
    replications: 2                         # default: the base scenario's
    seed: 20210304                          # default: the base scenario's; also seeds the design
    set: {horizon.arrival_days: 120}        # optional: applied to every design point
    method: morris                          # or sobol
    trajectories: 10                        # Morris: r trajectories of k + 1 points each
    levels: 4                               # Morris: the grid of each input's range
    samples: 64                             # Sobol: the base sample N (N (k + 2) points)
    inputs:                                 # key paths of --set, each with its [low, high]
      segments.lv_smb.attributes.grid_constrained.p: {range: [0.0, 0.10], label: "Grid-constrained share"}
      stages.grid_upgrade.duration.mode: {range: [30, 90], label: "Grid upgrade, most likely days"}
    kpis:
      - {kpi: on_target_share, segment: lv_smb}

An input is any number of the base scenario (a share, a count, a distribution's parameter such as
``stages.X.duration.high``), named by its key path; the file's own shape is the pydantic model
``SensitivityFile``, checked with the errors of a scenario (file, line, key path, what was found,
"did you mean"). A key path must name an existing number of the base scenario (``set`` applied),
checked at its own line; a whole-number value (a head count) takes a range of whole numbers; every
range's ends and corners are values the scenario takes (``sim.experiments.sensitivity_ranges``).
The design points themselves are made and validated by ``sim.experiments.sensitivity.design``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, Field, model_validator

from sim.experiments.sensitivity_ranges import SENSITIVITY, Input, Ranges, check_ranges
from sim.experiments.spec_files import (
    KeyPathText,
    Places,
    PointsFile,
    PointsSpec,
    WholeNumber,
    read_base,
    read_spec,
)
from sim.experiments.sweep_file import Written, check_keys, common_base, value_at
from sim.kpi_catalogue import kpi_names
from sim.scenario.errors import LineMap, suggest, validated
from sim.scenario.load import validate_scenario
from sim.scenario.resources import Strict
from sim.scenario.schema import Scenario

METHODS = ("morris", "sobol")


Number = Annotated[float, Field(allow_inf_nan=False, description="a number")]


def _even(levels: int) -> int:
    if levels % 2:
        raise ValueError(
            f"expected an even number of levels (a Morris step is half the grid), found {levels}"
        )
    return levels


class InputRange(Strict):
    """One uncertain input: the range it is screened over and what people call it."""

    range: Annotated[tuple[Number, Number], Field(description="a list of two numbers [low, high]")] = Field(
        description="a list of two numbers [low, high]"
    )
    label: str | None = Field(None, description="a line of text")

    @model_validator(mode="after")
    def _ordered(self) -> InputRange:
        if not self.range[0] < self.range[1]:
            raise ValueError(f"the range [{self.range[0]}, {self.range[1]}] must have low < high")
        return self


class KpiRequest(Strict):
    """A KPI of one segment whose inputs are ranked (mean over replications)."""

    kpi: str = Field(description="the name of a KPI column")
    segment: str = Field(description="the name of a segment")


class SensitivityFile(PointsFile):
    """What a sensitivity file may hold; its inputs are checked against the base scenario later."""

    kind: ClassVar[str] = SENSITIVITY

    method: Literal["morris", "sobol"] = Field("morris", description="morris or sobol")
    trajectories: Annotated[WholeNumber, Field(ge=2)] = Field(10, description="a whole number of at least 2")
    levels: Annotated[WholeNumber, Field(ge=2), AfterValidator(_even)] = Field(
        4, description="an even whole number of at least 2"
    )
    samples: Annotated[WholeNumber, Field(ge=2)] = Field(64, description="a whole number of at least 2")
    inputs: Annotated[dict[KeyPathText, InputRange], Field(min_length=2)] = Field(
        description="a mapping of at least two key paths to {range: [low, high], label: text}"
    )
    kpis: Annotated[list[KpiRequest], Field(min_length=1)] = Field(
        description="a list of {kpi: NAME, segment: NAME}"
    )


@dataclass
class SensitivitySpec(PointsSpec):
    """A loaded, checked sensitivity file with its base scenario (``set`` applied)."""

    method: str
    trajectories: int
    levels: int
    samples: int
    inputs: list[Input]
    kpis: list[tuple[str, str]]  # (kpi, segment)
    base_data: dict
    base_lines: LineMap
    at: Places
    base_scenario: Scenario


def load_sensitivity(
    spec: str | Path | Mapping, reps: int | None = None, seed: int | None = None
) -> SensitivitySpec:
    """Read and check a sensitivity file (or a mapping with the same keys whose ``base`` is a path
    relative to the working folder or a ``Scenario``). ``reps`` and ``seed`` replace the file's.
    Raises ``ScenarioError`` on bad input."""
    data, lines, shown, folder = read_spec(spec, kind=SensitivityFile.kind, unnamed="<sensitivity>")
    at = Places(lines, shown)
    file = validated(SensitivityFile, data, lines, shown)
    base_data, base_lines, base_shown = read_base(file.base, folder, at)
    if reps is None:
        reps = file.replications or base_data.get("replications", 1)
    if seed is None:
        seed = file.seed if file.seed is not None else base_data.get("seed", 1)
    common = file.common or {}
    base_data = common_base(base_data, base_lines, int(seed), int(reps), common, at)
    written: list[Written] = [(("inputs", key), key, value_at(base_data, key)) for key in file.inputs]
    check_keys(base_data, base_lines, written, at, origin=SENSITIVITY)
    scenario = validate_scenario(base_data, dict(base_lines), source=base_shown)
    resolved = scenario.model_dump(mode="json", by_alias=True)
    inputs = [_input(key, entry, value_at(resolved, key), at) for key, entry in file.inputs.items()]
    check_ranges(Ranges(scenario, base_data, base_lines, base_shown, at), inputs)
    _check_kpis(file, list(scenario.segments), at)
    return SensitivitySpec(
        name=file.name or (Path(shown).stem if shown != "<sensitivity>" else "sensitivity"),
        title=file.title,
        source=shown,
        base=base_shown,
        replications=int(reps),
        seed=int(seed),
        common=dict(common),
        method=file.method,
        trajectories=file.trajectories,
        levels=file.levels,
        samples=file.samples,
        inputs=inputs,
        kpis=[(k.kpi, k.segment) for k in file.kpis],
        base_data=base_data,
        base_lines=base_lines,
        at=at,
        base_scenario=scenario,
        data={k: (v if k != "base" or isinstance(v, str) else base_shown) for k, v in data.items()},
    )


def _input(key: str, entry: InputRange, value: Any, at: Places) -> Input:
    """An input whose base value is a number; a whole-number value takes whole-number bounds."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        at.fail(
            ("inputs", key),
            f"the base scenario's value here is {value!r}, not a number; an input must be a number "
            "of the scenario (a share, a count, a distribution's parameter such as duration.mode)",
        )
    low, high = entry.range
    whole = isinstance(value, int)
    if whole and not (float(low).is_integer() and float(high).is_integer()):
        at.fail(
            ("inputs", key, "range"),
            f"the base scenario's value is a whole number ({value}), found the range [{low}, {high}]; "
            "write whole numbers, e.g. [" + f"{int(low)}, {int(high) + 1}]",
        )
    if whole:
        low, high = int(low), int(high)
    return Input(key, entry.label or key, low, high, whole, value)


def _check_kpis(file: SensitivityFile, segments: list[str], at: Places) -> None:
    """The KPIs and segments the file names exist."""
    kpis = kpi_names("kpis")
    for i, request in enumerate(file.kpis):
        if request.kpi not in kpis:
            at.fail(
                ("kpis", i, "kpi"),
                f"no KPI '{request.kpi}'{suggest(request.kpi, kpis)}; the KPIs are the columns of the "
                "kpis table (docs/model.md, e.g. on_target_share, handling_wd_mean)",
            )
        if request.segment not in segments:
            at.fail(
                ("kpis", i, "segment"),
                f"no segment '{request.segment}'{suggest(request.segment, segments)}; "
                f"expected one of {', '.join(segments)}",
            )
