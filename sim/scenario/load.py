"""Loading a scenario: a file, its ``extends`` chain, ``--set`` overrides, validation, checks.

The steps, each in its own module: read the YAML with the line of every key (``files``), merge
the ``extends`` chain (``overlays``), replace the ``--set`` keys (``overrides``), validate against
the schema (``schema``, with errors explained by ``errors``) and check names and conditions
across the scenario (``checks``). The result is an immutable ``Scenario``; any bad input stops
with one ``ScenarioError`` line that names the file, the line and the key path.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sim.scenario.checks import cross_check
from sim.scenario.dated import (
    check_changes,
    check_relative_order,
    check_shared,
    combinations_of,
    compose,
    plain_data,
    read_measures,
)
from sim.scenario.errors import LineMap, fail_at, validated
from sim.scenario.files import display_path, unshared
from sim.scenario.overlays import resolve_extends
from sim.scenario.overrides import apply_overrides
from sim.scenario.schema import Scenario


def load_scenario(
    path: str | os.PathLike, overrides: Mapping[str, Any] | list[str] | None = None
) -> Scenario:
    """Load, merge, override and validate a scenario file; raise ``ScenarioError`` when it is bad.
    A file that does not write its own ``name`` is named after the file (not its parent)."""
    path = Path(path)
    shown = display_path(path)
    data, lines = resolve_extends(path, shown)
    if lines.get(("name",), (None,))[0] != shown:  # not its own: a file takes its own name
        data["name"] = path.stem
    if overrides:
        data = apply_overrides(data, overrides, lines)
    read_measures(data, lines, shown)
    return validate_scenario(data, lines, source=shown)


def scenario_from_dict(data: Mapping[str, Any], source: str = "<memory>") -> Scenario:
    """Validate a scenario given as a mapping (notebooks, tests); errors name key paths."""
    return validate_scenario(unshared(dict(data)), {}, source=source)


def validate_scenario(data: Mapping[str, Any], lines: LineMap, source: str) -> Scenario:
    """The scenario ``data`` stands for, validated and cross-checked; errors are placed by the line
    map, or in ``source`` (the file the scenario comes from) for keys the map does not hold."""
    scenario = validated(Scenario, data, lines, source)
    cross_check(scenario, lines, source)
    if scenario.measures:
        scenario = scenario.with_variants(_variants(scenario, data, lines, source))
    return scenario.with_source(source)


def _variants(scenario: Scenario, data: Mapping[str, Any], lines: LineMap, source: str) -> dict:
    """Every composition of the scenario with its dated measures that a case can meet, each
    validated and cross-checked (``sim.scenario.dated``)."""
    check_changes(scenario.measures, lines, source)
    check_relative_order(scenario.measures, lines, source)
    try:
        keys = combinations_of(scenario.measures)
    except ValueError as e:
        fail_at(lines.get(("measures",), (source, None)), ("measures",), str(e))
    base, base_lines = plain_data(dict(data)), {k: v for k, v in lines.items() if k[:1] != ("measures",)}
    variants = {}
    for key in keys:
        if key:
            composed, composed_lines = compose(base, base_lines, scenario.measures, key, lines)
            variant = validated(Scenario, composed, composed_lines, source)
            cross_check(variant, composed_lines, source)
            check_shared(scenario, variant, scenario.measures, key, lines, source)
            variants[key] = variant.with_source(source)
    return variants
