"""What a worker process imports: ``import sim.engine.model`` (the model) and
``import sim.experiments.replications`` (the replication engine a worker unpickles) load neither
matplotlib, scipy.stats, SALib nor the sweep, check, comparison and sensitivity modules; the
command line loads SALib only for a sensitivity design; the public API of ``sim`` is imported on
first use. Each import runs in a fresh interpreter, as a worker would."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from builders import ROOT

HEAVY = (
    "matplotlib",
    "scipy.stats",
    "sim.experiments.sweep",
    "sim.experiments.check",
    "sim.experiments.compare",
    "sim.experiments.sensitivity",
    "SALib",
)


def modules_after(statement: str) -> list[str]:
    """The modules loaded by ``statement`` in a fresh interpreter."""
    code = f"{statement}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(proc.stdout)


def heavy(modules: list[str]) -> list[str]:
    return [m for m in modules if m.startswith(HEAVY)]


@pytest.mark.slow
@pytest.mark.parametrize("module", ["sim", "sim.engine.model", "sim.experiments.replications"])
def test_a_worker_imports_no_plotting_no_statistics_no_sweep_check_or_compare(module):
    assert heavy(modules_after(f"import {module}")) == []


@pytest.mark.slow
def test_the_sweep_library_imports_no_plotting():
    assert not [m for m in modules_after("import sim.experiments.sweep") if m.startswith("matplotlib")]


@pytest.mark.slow
def test_the_command_line_loads_salib_only_when_a_sensitivity_design_is_made():
    assert "SALib" not in {m.split(".")[0] for m in modules_after("import sim.cli")}


@pytest.mark.slow
def test_the_public_api_is_there_on_first_use():
    loaded = modules_after("import sim\nsim.run\nsim.write_run\nsim.check_baseline")
    assert {"sim.experiments.replications", "sim.outputs.folders", "sim.experiments.check"} <= set(loaded)
    assert "matplotlib" not in loaded  # a run folder is tables and a manifest
