"""The scenario format: schema, YAML files with line locations, overlays, overrides, errors and
cross-checks. ``load_scenario`` reads a file (and its ``extends`` chain) into a validated,
immutable ``Scenario``."""

from sim.scenario.schema import Scenario, ScenarioError, load_scenario, scenario_from_dict

__all__ = ["Scenario", "ScenarioError", "load_scenario", "scenario_from_dict"]
