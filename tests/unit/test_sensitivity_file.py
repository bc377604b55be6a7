"""Sensitivity files are checked before anything runs: every problem is one line naming the file,
the line, the key path, what was found and what to write instead (with "did you mean"), and the
command line exits with status 2."""

from __future__ import annotations

import contextlib
import dataclasses
import io
from pathlib import Path

import pytest

from sim.cli import main
from sim.experiments.sensitivity_file import load_sensitivity
from sim.scenario import ScenarioError

ROOT = Path(__file__).resolve().parents[2]
GOOD = f"""\
name: checks
base: {(ROOT / "scenarios" / "plan-2021.yaml").as_posix()}
replications: 1
inputs:
  segments.lv_smb.attributes.grid_constrained.p: {{range: [0.0, 0.1], label: "Grid-constrained share"}}
  stages.grid_upgrade.duration.mode: {{range: [30, 90]}}
  resources.customer_manager.capacity: {{range: [6, 10]}}
kpis:
  - {{kpi: on_target_share, segment: lv_smb}}
"""


def write(tmp_path: Path, old: str = "", new: str = "") -> Path:
    path = tmp_path / "sens.yaml"
    assert old in GOOD
    path.write_text(GOOD.replace(old, new, 1), encoding="utf-8")
    return path


def test_a_good_file_gives_its_inputs_with_their_types(tmp_path):
    spec = load_sensitivity(write(tmp_path))
    assert [(i.key, i.low, i.high, i.whole) for i in spec.inputs] == [
        ("segments.lv_smb.attributes.grid_constrained.p", 0.0, 0.1, False),
        ("stages.grid_upgrade.duration.mode", 30.0, 90.0, False),
        ("resources.customer_manager.capacity", 6, 10, True),
    ]
    assert [i.base_value for i in spec.inputs] == [0.05, 60.0, 8]
    assert spec.inputs[0].label == "Grid-constrained share" and spec.inputs[1].label == spec.inputs[1].key
    assert spec.kpis == [("on_target_share", "lv_smb")] and spec.method == "morris"


@pytest.mark.parametrize(
    ("old", "new", "line", "expected"),
    [
        (
            "grid_constrained.p",
            "grid_constraned.p",
            5,
            "inputs.segments.lv_smb.attributes.grid_constraned.p: no key 'grid_constraned' at "
            "segments.lv_smb.attributes (did you mean 'grid_constrained'?)",
        ),
        (
            "[6, 10]",
            "[6, 10.5]",
            7,
            "inputs.resources.customer_manager.capacity.range: the base scenario's value is a whole "
            "number (8), found the range [6.0, 10.5]; write whole numbers",
        ),
        ("[30, 90]", "[90, 30]", 6, "inputs.stages.grid_upgrade.duration.mode: the range [90.0, 30.0] must"),
        (
            "stages.grid_upgrade.duration.mode",
            "stages.grid_upgrade.label",
            6,
            "inputs.stages.grid_upgrade.label: the base scenario's value here is 'Grid upgrade before "
            "connection (constrained grid)', not a number",
        ),
        (
            "kpi: on_target_share",
            "kpi: on_target_shar",
            9,
            "kpis[0].kpi: no KPI 'on_target_shar' (did you mean 'on_target_share'?)",
        ),
        (
            "segment: lv_smb",
            "segment: lv_sbm",
            9,
            "kpis[0].segment: no segment 'lv_sbm' (did you mean 'lv_smb'?); expected one of lv_resident",
        ),
        ("replications: 1", "replications: 1\nlevels: 3", 4, "levels: expected an even number of levels"),
        ("replications: 1", "replications: 1\nmethod: sobel", 4, "method: "),
    ],
)
def test_errors_name_the_file_line_and_key(tmp_path, old, new, line, expected):
    path = write(tmp_path, old, new)
    with pytest.raises(ScenarioError) as info:
        load_sensitivity(path)
    message = str(info.value)
    assert message.startswith(f"{path.as_posix()}:{line}: {expected}"), message
    assert "\n" not in message


GRID_UPGRADE = "stages.grid_upgrade.duration.mode: {range: [30, 90]}"  # triangular (30, 60, 120)
TWO_OF_ONE_TRIANGULAR = (
    "stages.grid_upgrade.duration.min: {range: [5, 50]}\n"
    "  stages.grid_upgrade.duration.mode: {range: [40, 90]}"
)


@pytest.mark.parametrize(
    ("old", "new", "line", "expected"),
    [
        (  # a share's range beyond its field's bounds (le=1), though no design point need reach 1.5
            "[0.0, 0.1]",
            "[0, 1.5]",
            5,
            "inputs.segments.lv_smb.attributes.grid_constrained.p.range: found [0, 1.5], but the scenario "
            "takes only values from 0 to 1 here (1.5 is outside the schema's bounds for this key); "
            "write a range within [0, 1]",
        ),
        (  # a head count below its field's bound (ge=1): one side only
            "[6, 10]",
            "[0, 10]",
            7,
            "inputs.resources.customer_manager.capacity.range: found [0, 10], but the scenario takes only "
            "values of at least 1 here (0 is outside the schema's bounds for this key); write a range "
            "of values of at least 1",
        ),
        (  # a model's rule (min <= mode <= max): the most likely upgrade wait above its maximum
            "[30, 90]",
            "[30, 150]",
            6,
            "inputs.stages.grid_upgrade.duration.mode.range: found [30, 150], but the scenario takes only "
            "values from 30 to 120 here (at 150, stages.grid_upgrade.duration: triangular needs min <= "
            "mode <= max, found min=30.0, mode=150.0, max=120.0); write a range within [30, 120]",
        ),
        (  # each end alone is taken, their corner is not: min 50 above mode 40
            GRID_UPGRADE,
            TWO_OF_ONE_TRIANGULAR,
            7,
            "inputs.stages.grid_upgrade.duration.mode.range: found [40, 90], but the scenario takes only "
            "values from 50 to 120 here with stages.grid_upgrade.duration.min=50 (at the corner of the "
            "ranges, at 40, stages.grid_upgrade.duration: triangular needs min <= mode <= max, found "
            "min=50.0, mode=40.0, max=120.0); write a range within [50, 120], or narrow the range of "
            "stages.grid_upgrade.duration.min",
        ),
    ],
)
def test_a_range_the_scenario_refuses_is_reported_at_its_line_with_the_allowed_range(
    tmp_path, old, new, line, expected
):
    path = write(tmp_path, old, new)
    with pytest.raises(ScenarioError) as info:
        load_sensitivity(path)  # when the file is loaded: before any design point is made
    assert str(info.value) == f"{path.as_posix()}:{line}: {expected}"


def test_a_design_point_the_checks_did_not_foresee_is_placed_at_the_input_line(tmp_path):
    from sim.experiments.sensitivity import design

    # the checks of the ranges when the file is loaded are bypassed: a point is refused when the
    # design is made, and explained at the line of the input's range, not in the base scenario
    path = write(tmp_path)
    spec = load_sensitivity(path)
    spec.inputs[1] = dataclasses.replace(spec.inputs[1], low=30.0, high=150.0)
    with pytest.raises(ScenarioError) as info:
        design(spec)
    message = str(info.value)
    assert message.startswith(
        f"{path.as_posix()}:6: inputs.stages.grid_upgrade.duration.mode.range: found [30, 150], but the "
        "scenario takes only values from 30 to 120 here (design point "
    ), message
    assert message.endswith(
        ", at 150, stages.grid_upgrade.duration: triangular needs min <= mode <= max, found min=30.0, "
        "mode=150.0, max=120.0); write a range within [30, 120]"
    ), message


@pytest.mark.parametrize(
    ("old", "new", "head"),
    [
        ("grid_constrained.p", "grid_constraned.p", "5: inputs.segments.lv_smb"),
        ("[0.0, 0.1]", "[0, 1.5]", "5: inputs.segments.lv_smb.attributes.grid_constrained.p.range: found"),
    ],
)
def test_the_command_line_exits_2_with_one_line(tmp_path, old, new, head):
    path = write(tmp_path, old, new)
    for verb in ("sensitivity", "validate"):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(
                [verb, str(path), *(["--out", str(tmp_path / "out")] if verb == "sensitivity" else [])]
            )
        assert code == 2 and out.getvalue() == ""
        assert err.getvalue().count("\n") == 1 and "Traceback" not in err.getvalue()
        assert err.getvalue().startswith(f"error: {path.as_posix()}:{head}"), err.getvalue()


def test_validate_recognises_a_sensitivity_file_and_makes_its_design(tmp_path):
    from sim.experiments.sensitivity import design

    path = write(tmp_path, "replications: 1", "replications: 1\ntrajectories: 3")
    plan = design(load_sensitivity(path))
    assert len(plan.rows) == 3 * (3 + 1)  # r trajectories of k + 1 rows
    distinct = {tuple(sorted(p.overrides.items())) for p in plan.sweep.points}
    assert len(distinct) == len(plan.sweep.points) <= len(plan.rows)  # a point visited twice runs once
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["validate", str(path)]) == 0
    n = len(plan.sweep.points)
    assert (
        out.getvalue() == f"{path}: ok (sensitivity checks: morris, 3 inputs, {n} points x 1 replication)\n"
    )
