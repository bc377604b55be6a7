"""A discrete-event simulator of the electricity-connection process (获得电力) of a power utility.

The public API returns pandas DataFrames and is what the command line and the notebooks call:

    >>> import sim
    >>> scenario = sim.load_scenario("scenarios/baseline.yaml", overrides={"replications": 2})
    >>> result = sim.run(scenario, reps=2, seed=7)
    >>> result.summary()       # one row per customer segment
"""

from sim.experiments.check import check_baseline, record_baseline
from sim.experiments.compare import CompareResult, compare
from sim.experiments.replications import RunResult, run
from sim.experiments.sweep import sweep
from sim.outputs.timeline import timeline, timeline_figure
from sim.scenario import Scenario, ScenarioError, load_scenario, scenario_from_dict

__all__ = [
    "CompareResult",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "check_baseline",
    "compare",
    "load_scenario",
    "record_baseline",
    "run",
    "scenario_from_dict",
    "sweep",
    "timeline",
    "timeline_figure",
]
__version__ = "0.1.0"
