"""Sweep, sensitivity and staffing files share one head (``sim.experiments.spec_files.SpecFile``):
the same keys with the same errors, and ``base`` relative to the kind of file that names it."""

from __future__ import annotations

import pytest

from sim.experiments.sensitivity_file import SensitivityFile
from sim.experiments.spec_files import PointsFile, SpecFile
from sim.experiments.staffing_file import StaffingFile
from sim.experiments.sweep_file import SweepFile
from sim.scenario import ScenarioError
from sim.scenario.errors import validated

HEAD = ["name", "title", "description", "base", "seed", "set"]


@pytest.mark.parametrize(
    ("model", "kind"),
    [(SweepFile, "sweep file"), (SensitivityFile, "sensitivity file"), (StaffingFile, "staffing file")],
)
def test_every_spec_file_has_the_head_and_its_base_is_relative_to_it(model, kind):
    assert issubclass(model, SpecFile) and model.kind == f"a {kind}"
    keys = [f.alias or name for name, f in model.model_fields.items()]
    assert keys[: len(HEAD)] == HEAD
    assert issubclass(model, PointsFile) == (model is not StaffingFile)  # a number of replications
    with pytest.raises(ScenarioError) as info:
        validated(model, {"base": 5}, {}, "f.yaml")
    expected = f"f.yaml: base: found 5; expected the path of the base scenario, relative to the {kind}"
    assert str(info.value).startswith(expected), str(info.value)  # (and the required keys missing)


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("name", 5, "found 5; expected a name"),
        ("seed", -1, "found -1; expected a whole number of at least 0"),
        ("set", 3, "found 3; expected a mapping of key paths to values"),
    ],
)
def test_a_staffing_files_head_has_the_errors_of_a_sweep_file(key, value, expected):
    for model in (SweepFile, StaffingFile):
        with pytest.raises(ScenarioError) as info:
            validated(model, {"base": "b.yaml", key: value}, {}, "f.yaml")
        assert str(info.value).startswith(f"f.yaml: {key}: {expected}"), str(info.value)


def test_sweep_and_sensitivity_manifests_share_one_shape():
    from types import SimpleNamespace

    from sim.experiments.spec_files import points_manifest

    spec = SimpleNamespace(
        name="n", title="t", source="f.yaml", base="b.yaml", replications=2, seed=3, common={}, data={"a": 1}
    )
    assert points_manifest("sensitivity", spec, False, ["run_sim.py"], method="morris") == {
        "result": ["sensitivity", "n"],
        "kind": "sensitivity",
        "sensitivity_file": "f.yaml",
        "title": "t",
        "base_scenario": "b.yaml",
        "replications": 2,
        "seed": 3,
        "set": {},
        "method": "morris",
        "resume": False,
        "sensitivity": {"a": 1},
        "command": ["run_sim.py"],
    }
    assert "command" not in points_manifest("sweep", spec, True, None)
