"""The measures of a package one by one: the scenarios a package's ``extends`` list passes through.

``plan-2021.yaml`` extends ``[baseline.yaml, m01.yaml, m02.yaml, ...]``. Its steps are the
baseline, the baseline with M1, with M1 and M2, ... every measure, and the package itself (its own
keys: its targets, title). Run on common random numbers, two consecutive steps differ by one
measure, so their paired difference is that measure's contribution in roll-out order (an
interaction of two measures counts for the later one).
"""

from __future__ import annotations

import os
from pathlib import Path

from sim.scenario.dated import read_measures
from sim.scenario.errors import ScenarioError
from sim.scenario.files import display_path
from sim.scenario.load import load_scenario, validate_scenario
from sim.scenario.overlays import bundle_steps
from sim.scenario.schema import Scenario


def measure_steps(path: str | os.PathLike) -> list[Scenario]:
    """The scenarios from a package's base to the package, one measure at a time (each step is
    named after the measure it adds); ``ScenarioError`` when the file bundles no measures."""
    path = Path(path)
    shown = display_path(path)
    steps = bundle_steps(path)
    if not steps:
        raise ScenarioError(
            f"{shown}: bundles no measures to step through: a package extends a list, its base and "
            "the measure files in roll-out order (e.g. extends: [baseline.yaml, measures/m01-....yaml])"
        )
    scenarios = []
    for data, lines in steps:
        read_measures(data, lines, shown)
        scenarios.append(validate_scenario(data, lines, source=shown))
    package = load_scenario(path)
    names = [s.name for s in scenarios]
    if package.name in names or len(set(names)) != len(names):
        raise ScenarioError(
            f"{shown}: the package and its measures need names of their own to be stepped through, "
            f"found {', '.join([*names, package.name])}"
        )
    return [*scenarios, package]
