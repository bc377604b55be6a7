"""``validate FILE...``: load and check scenario files (the calendar of their horizon included),
sweep, sensitivity, staffing and calibration files, each with every scenario it makes; nothing runs."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

import yaml

from sim.cli.common import UsageError, add_debug, add_set, plural
from sim.engine.calendar import calendar_for
from sim.scenario import load_scenario
from sim.scenario.files import bounded


def add_parser(verbs: Any) -> None:
    p = verbs.add_parser(
        "validate",
        help="load and check scenario, sweep, sensitivity, staffing and calibration files; nothing runs",
    )
    p.add_argument(
        "scenarios", nargs="+", help="scenario, sweep, sensitivity, staffing or calibration YAML files"
    )
    add_set(p, "replace an existing scenario key before validating (scenario files only)")
    add_debug(p)


def file_kind(path: str) -> str:
    """``scenario``, ``sweep``, ``sensitivity``, ``staffing`` or ``calibration``, from the keys at
    the top of the file (a file that cannot be read is left to the scenario loader, which says why)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
        bounded(text, path)  # an alias bomb or deep nesting: the scenario loader says where
        data = yaml.safe_load(text)
    except Exception:
        return "scenario"
    if isinstance(data, dict) and "figures" in data and "scenario" in data:
        return "calibration"
    if isinstance(data, dict) and "base" in data:
        if "pools" in data or "targets" in data:
            return "staffing"
        if "grid" in data or "points" in data:
            return "sweep"
        if "inputs" in data or "kpis" in data:
            return "sensitivity"
    return "scenario"


def command(args: argparse.Namespace) -> int:
    for path in args.scenarios:
        kind = file_kind(path)
        if kind != "scenario" and args.overrides:
            raise UsageError(f"validate: --set applies to scenario files, and {path} is a {kind} file")
        if kind == "sweep":
            from sim.experiments.sweep_file import load_sweep

            spec = load_sweep(path)
            for point in spec.points:
                calendar_for(point.scenario)
            shown = f"{plural(len(spec.points), 'point')} x {plural(spec.replications, 'replication')}"
            print(f"{path}: ok (sweep {spec.name}: {shown})")
            continue
        if kind == "sensitivity":
            from sim.experiments.sensitivity import design, load_sensitivity

            plan = design(load_sensitivity(path))
            calendar_for(plan.sweep.points[0].scenario)
            inputs = plural(len(plan.spec.inputs), "input")
            shown = (
                f"{plural(len(plan.sweep.points), 'point')} x {plural(plan.spec.replications, 'replication')}"
            )
            print(f"{path}: ok (sensitivity {plan.spec.name}: {plan.spec.method}, {inputs}, {shown})")
            continue
        if kind == "calibration":
            from sim.experiments.calibration import load_calibration

            calibration = load_calibration(path)
            calendar_for(calibration.scenario)
            print(
                f"{path}: ok (calibration: {plural(len(calibration.figures), 'figure')} against "
                f"{calibration.scenario.name}, {plural(len(calibration.unpublished), 'item')} not published)"
            )
            continue
        if kind == "staffing":
            from sim.experiments.staffing_file import load_staffing

            staffing = load_staffing(path)
            top = tuple(staffing.bounds[p][1] for p in staffing.pools)
            calendar_for(staffing.scenario(top))
            size = math.prod(hi - lo + 1 for lo, hi in staffing.bounds.values())
            print(
                f"{path}: ok (staffing {staffing.name}: {plural(len(staffing.pools), 'pool')}, "
                f"{plural(len(staffing.targets), 'target')}, {plural(size, 'staffing')} in the bounds; "
                f"base {staffing.base})"
            )
            continue
        scenario = load_scenario(path, args.overrides)
        calendar_for(scenario)  # a horizon beyond the published calendar fails here, not at run
        print(
            f"{path}: ok ({scenario.name}: {len(scenario.segments)} segments, "
            f"{len(scenario.stages)} stages, digest {scenario.digest()[:12]})"
        )
    return 0
