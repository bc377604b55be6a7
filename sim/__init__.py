"""A discrete-event simulator of the electricity-connection process (获得电力) of a power utility.

The public API returns pandas DataFrames and is what the command line and the notebooks call:

    >>> import sim
    >>> scenario = sim.load_scenario("scenarios/baseline.yaml", overrides={"replications": 2})
    >>> result = sim.run(scenario, reps=2, seed=7)
    >>> result.summary()       # one row per customer segment
    >>> sim.write_run(result, "results/baseline")   # the folder `run_sim.py run` writes

The names below are imported on first use (PEP 562), not with the package: a worker process that
only runs replications (``sim.engine.model``) never loads the statistics, the sweeps, the
regression check or matplotlib.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# public name -> module that defines it
_HOMES = {
    "load_scenario": "sim.scenario",
    "scenario_from_dict": "sim.scenario",
    "Scenario": "sim.scenario",
    "ScenarioError": "sim.scenario",
    "run": "sim.experiments.replications",
    "RunResult": "sim.experiments.replications",
    "compare": "sim.experiments.compare",
    "CompareResult": "sim.experiments.compare",
    "by_measure": "sim.experiments.compare",
    "verdict_matrix": "sim.outputs.answer",
    "sweep": "sim.experiments.sweep",
    "sensitivity": "sim.experiments.sensitivity",
    "optimise": "sim.experiments.staffing",
    "StaffingResult": "sim.experiments.staffing",
    "write_staffing": "sim.outputs.staffing_figures",
    "check_baseline": "sim.experiments.check",
    "record_baseline": "sim.experiments.check",
    "timeline": "sim.outputs.timeline",
    "timeline_figure": "sim.outputs.timeline",
    "write_run": "sim.outputs.folders",
    "write_comparison": "sim.outputs.folders",
}

__all__ = [
    "CompareResult",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "StaffingResult",
    "by_measure",
    "check_baseline",
    "compare",
    "load_scenario",
    "optimise",
    "record_baseline",
    "run",
    "scenario_from_dict",
    "sensitivity",
    "sweep",
    "timeline",
    "timeline_figure",
    "verdict_matrix",
    "write_comparison",
    "write_run",
    "write_staffing",
]
__version__ = "0.1.0"

if TYPE_CHECKING:  # the same names, for type checkers and editors
    from sim.experiments.check import check_baseline, record_baseline
    from sim.experiments.compare import CompareResult, by_measure, compare
    from sim.experiments.replications import RunResult, run
    from sim.experiments.sensitivity import sensitivity
    from sim.experiments.staffing import StaffingResult, optimise
    from sim.experiments.sweep import sweep
    from sim.outputs.answer import verdict_matrix
    from sim.outputs.folders import write_comparison, write_run
    from sim.outputs.staffing_figures import write_staffing
    from sim.outputs.timeline import timeline, timeline_figure
    from sim.scenario import Scenario, ScenarioError, load_scenario, scenario_from_dict


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # looked up once
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES})
