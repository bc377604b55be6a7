"""``validate FILE...``: load and check scenario files, the calendar of their horizon included;
nothing runs."""

from __future__ import annotations

import argparse
from typing import Any

from sim.cli.common import add_debug, add_set
from sim.engine.model import calendar_for
from sim.scenario import load_scenario


def add_parser(verbs: Any) -> None:
    p = verbs.add_parser("validate", help="load and check scenario files; nothing runs")
    p.add_argument("scenarios", nargs="+", help="scenario YAML files")
    add_set(p, "replace an existing scenario key before validating")
    add_debug(p)


def command(args: argparse.Namespace) -> int:
    for path in args.scenarios:
        scenario = load_scenario(path, args.overrides)
        calendar_for(scenario)  # a horizon beyond the published calendar fails here, not at run
        print(
            f"{path}: ok ({scenario.name}: {len(scenario.segments)} segments, "
            f"{len(scenario.stages)} stages, digest {scenario.digest()[:12]})"
        )
    return 0
