"""The scenario format: schema, YAML files with line locations, overlays, overrides, errors and
cross-checks. ``load_scenario`` reads a file (and its ``extends`` chain) into a validated,
immutable ``Scenario``; a bad file stops with one ``ScenarioError`` line that names the file,
the line, the key path, what was found and what was expected."""

from sim.scenario.errors import Location, ScenarioError, format_path
from sim.scenario.files import display_path
from sim.scenario.load import load_scenario, scenario_from_dict, validate_scenario
from sim.scenario.overrides import apply_overrides, parse_key_path
from sim.scenario.schema import Scenario

__all__ = [
    "Location",
    "Scenario",
    "ScenarioError",
    "apply_overrides",
    "display_path",
    "format_path",
    "load_scenario",
    "parse_key_path",
    "scenario_from_dict",
    "validate_scenario",
]
