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
from sim.scenario.errors import LineMap, validated
from sim.scenario.files import display_path, unshared
from sim.scenario.overlays import resolve_extends
from sim.scenario.overrides import apply_overrides
from sim.scenario.schema import Scenario


def load_scenario(
    path: str | os.PathLike, overrides: Mapping[str, Any] | list[str] | None = None
) -> Scenario:
    """Load, merge, override and validate a scenario file; raise ``ScenarioError`` when it is bad."""
    path = Path(path)
    shown = display_path(path)
    data, lines = resolve_extends(path, shown)
    if overrides:
        data = apply_overrides(data, overrides, lines)
    return validate_scenario(data, lines, source=shown)


def scenario_from_dict(data: Mapping[str, Any], source: str = "<memory>") -> Scenario:
    """Validate a scenario given as a mapping (notebooks, tests); errors name key paths."""
    return validate_scenario(unshared(dict(data)), {}, source=source)


def validate_scenario(data: Mapping[str, Any], lines: LineMap, source: str) -> Scenario:
    """The scenario ``data`` stands for, validated and cross-checked; errors are placed by the line
    map, or in ``source`` (the file the scenario comes from) for keys the map does not hold."""
    scenario = validated(Scenario, data, lines, source)
    cross_check(scenario, lines, source)
    return scenario.with_source(source)
