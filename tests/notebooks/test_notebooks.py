"""The analysts' notebooks in notebooks/: committed without outputs, and each runs top to bottom.

Every notebook is executed with nbclient in a fresh ``python3`` kernel of this environment
(ipykernel, installed with the test extra, provides it and jupyter_client starts it with this
interpreter), with the working folder ``notebooks/`` and ``SIM_NOTEBOOK_QUICK=1`` in the
environment, which each notebook's parameters cell reads to run a short cohort with few
replications. An error in any cell fails the test; the executed copy is kept in memory only.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
EXPECTED = ["01-baseline.ipynb", "02-measures.ipynb", "03-staffing-sweep.ipynb"]
KERNEL = "python3"
CELL_TIMEOUT = 300  # seconds per cell; in quick mode a cell takes a few seconds
QUICK_BUDGET = 120  # seconds per notebook in quick mode, kernel start included

PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))


def test_the_three_notebooks_are_there():
    assert [p.name for p in PATHS] == EXPECTED


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_committed_without_outputs(path: Path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [
        i
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count") is not None)
    ]
    assert not dirty, f"{path.name}: cells {dirty} have outputs or execution counts; clear them first"


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_first_code_cell_is_the_parameters_cell(path: Path):
    nb = nbformat.read(path, as_version=4)
    first = next(cell for cell in nb.cells if cell.cell_type == "code")
    assert 'QUICK = os.environ.get("SIM_NOTEBOOK_QUICK") == "1"' in first.source


def test_kernel_is_this_environment():
    """The ``python3`` kernel starts this interpreter, not one from a user-level kernelspec."""
    spec = KernelSpecManager().get_kernel_spec(KERNEL)
    # jupyter_client replaces a bare "python" by sys.executable when it starts the kernel
    assert spec.argv[0] in ("python", "python3", sys.executable), spec.argv
    assert spec.language == "python"


@pytest.fixture
def quick_env(monkeypatch, tmp_path):
    """Quick mode for the kernel (it inherits this environment); IPython's and Jupyter's own files
    go to a temporary folder, the environment's kernelspec is preferred to any user-level one."""
    monkeypatch.setenv("SIM_NOTEBOOK_QUICK", "1")
    monkeypatch.setenv("JUPYTER_PREFER_ENV_PATH", "1")
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.delenv("PYTHONSTARTUP", raising=False)
    return tmp_path


@pytest.mark.slow
@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_notebook_runs(path: Path, quick_env):
    nb = nbformat.read(path, as_version=4)
    before = sorted(p.name for p in NOTEBOOKS.iterdir())
    client = NotebookClient(
        nb,
        kernel_name=KERNEL,
        timeout=CELL_TIMEOUT,
        resources={"metadata": {"path": str(NOTEBOOKS)}},  # the kernel's working folder
    )
    started = time.monotonic()
    try:
        client.execute()
    except CellExecutionError as error:  # names the cell and shows its traceback
        pytest.fail(f"{path.name} failed:\n{error}", pytrace=False)
    seconds = time.monotonic() - started
    errors = [
        (i, output.get("ename"))
        for i, cell in enumerate(nb.cells)
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    assert not errors, f"{path.name}: error outputs in cells {errors}"
    images = sum(
        "image/png" in output.get("data", {}) for cell in nb.cells for output in cell.get("outputs", [])
    )
    assert images >= 1, f"{path.name}: no figure was displayed"
    assert sorted(p.name for p in NOTEBOOKS.iterdir()) == before, "the notebook wrote files in notebooks/"
    assert seconds < QUICK_BUDGET, f"{path.name} took {seconds:.0f} s in quick mode (budget {QUICK_BUDGET} s)"
