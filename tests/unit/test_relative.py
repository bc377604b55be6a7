"""Relative changes (``sim.scenario.relative``): ``+2``, ``"-1"``, ``"*1.5"`` change the inherited
number in an overlay, a dated measure and ``--set``, and are refused, with what to write, where
there is no number to change or the result would not be whole on a whole-number key."""

from __future__ import annotations

import datetime as dt
import textwrap

import pytest
from builders import BASELINE

import sim
from sim.scenario import ScenarioError
from sim.scenario.relative import apply_change


def overlay(tmp_path, body: str, name: str = "overlay.yaml"):
    path = tmp_path / name
    path.write_text(f"extends: {BASELINE}\n" + textwrap.dedent(body), encoding="utf-8")
    return path


BASE = sim.load_scenario(BASELINE)
INSPECTORS = BASE.resources["inspector"].capacity  # 3 in the baseline
DESIGN = BASE.stages["customer_design"].duration  # triangular 5, 10, 20


def test_the_baseline_numbers_these_tests_change():
    assert INSPECTORS == 3
    assert (DESIGN.min, DESIGN.mode, DESIGN.max) == (5.0, 10.0, 20.0)


@pytest.mark.parametrize(
    ("written", "capacity"),
    [("+2", 5), ('"+2"', 5), ('"-1"', 2), ('"*2"', 6), ("'*1'", 3), ("2", 2), ("+0", 3)],
)
def test_an_overlay_changes_the_inherited_capacity(tmp_path, written, capacity):
    path = overlay(tmp_path, f"resources:\n  inspector:\n    capacity: {written}\n")
    sc = sim.load_scenario(path)
    assert sc.resources["inspector"].capacity == capacity
    assert type(sc.resources["inspector"].capacity) is int


def test_a_relative_change_of_a_real_number_is_decimal(tmp_path):
    path = overlay(tmp_path, 'stages:\n  customer_design:\n    duration: {mode: "*1.1", max: +0.5}\n')
    duration = sim.load_scenario(path).stages["customer_design"].duration
    assert (duration.min, duration.mode, duration.max) == (5.0, 11.0, 20.5)
    assert apply_change("*1.1", 3, ("stages", "s", "duration", "mode")) == 3.3


def test_relative_changes_compose_along_the_extends_chain(tmp_path):
    first = overlay(tmp_path, "resources:\n  inspector:\n    capacity: +1\n", "first.yaml")
    second = tmp_path / "second.yaml"
    second.write_text(f"extends: {first.name}\nresources:\n  inspector:\n    capacity: '*2'\n")
    assert sim.load_scenario(second).resources["inspector"].capacity == (3 + 1) * 2


@pytest.mark.parametrize(
    ("body", "line", "problem"),
    [
        (
            "resources:\n  inspector:\n    capacity: '*1.5'\n",
            4,
            "resources.inspector.capacity: '*1.5' of 3 gives 4.5, but resources.inspector.capacity is a "
            "whole number: write a change that gives one, or the value itself (it is not rounded)",
        ),
        (
            "resources:\n  inspector:\n    capacty: +2\n",
            4,
            "resources.inspector.capacty: '+2' is a relative change, but the parent has no value here to "
            "change (did you mean 'capacity'?); write the value itself",
        ),
        (
            "stages:\n  customer_design:\n    duration: {dist: triangular, min: 1, mode: +1, max: 30}\n",
            4,
            "stages.customer_design.duration.mode: '+1' is a relative change, inside a value that replaces "
            "the parent's whole (a list, a distribution or a condition); write the value itself",
        ),
        (
            "resources:\n  inspector:\n    label: '+1'\n",
            4,
            "resources.inspector.label: '+1' changes a number, but the inherited value is 'Inspectors'; "
            "write the value itself",
        ),
    ],
)
def test_a_relative_change_with_nothing_to_change_says_what_to_write(tmp_path, body, line, problem):
    path = overlay(tmp_path, body)
    with pytest.raises(ScenarioError) as err:
        sim.load_scenario(path)
    assert str(err.value) == f"{path.as_posix()}:{line}: {problem}"


def test_a_relative_change_in_a_file_without_a_parent_is_refused(tmp_path):
    path = tmp_path / "alone.yaml"
    text = BASELINE.with_name("pre-reform.yaml").read_text(encoding="utf-8")
    path.write_text(text.replace("    capacity: 3 ", "    capacity: +3 ", 1), encoding="utf-8")
    line = next(n for n, t in enumerate(path.read_text().splitlines(), 1) if "capacity: +3" in t)
    with pytest.raises(ScenarioError) as err:
        sim.load_scenario(path)
    assert str(err.value) == (
        f"{path.as_posix()}:{line}: resources.inspector.capacity: '+3' is a relative change, but this "
        "file extends no scenario whose value it could change; write the value itself"
    )


def test_a_result_that_fails_the_schema_is_refused_like_any_value(tmp_path):
    path = overlay(tmp_path, "resources:\n  inspector:\n    capacity: '-3'\n")
    with pytest.raises(
        ScenarioError, match=r":4: resources.inspector.capacity: found 0; .*greater than or equal to 1"
    ):
        sim.load_scenario(path)


@pytest.mark.parametrize(
    ("assignment", "capacity"),
    [("+2", 5), ("*2", 6), ('"-1"', 2), ("-1", None), ("4", 4)],
)
def test_set_changes_the_value_relatively_but_a_bare_minus_is_the_number(assignment, capacity):
    key = "resources.inspector.capacity"
    if capacity is None:  # -1 is the number -1, which no pool can have
        with pytest.raises(ScenarioError, match="found -1"):
            sim.load_scenario(BASELINE, [f"{key}={assignment}"])
        return
    assert sim.load_scenario(BASELINE, [f"{key}={assignment}"]).resources["inspector"].capacity == capacity


def test_set_refuses_a_relative_change_where_there_is_no_value():
    with pytest.raises(ScenarioError) as err:
        sim.load_scenario(BASELINE, ["resources.inspector.capacity=*1.5"])
    assert str(err.value).startswith("--set resources.inspector.capacity: '*1.5' of 3 gives 4.5, but ")
    with pytest.raises(ScenarioError) as err:
        sim.load_scenario(BASELINE, ["calendar.beyond_published=+1"])
    assert "'+1' changes a number, but the inherited value is " in str(err.value)


def _dated(tmp_path, first: tuple[str, str], second: tuple[str, str]):
    path = tmp_path / "dated.yaml"
    items = "".join(
        f"  - {{from: {day}, changes: {{resources: {{inspector: {{capacity: '{change}'}}}}}}}}\n"
        for day, change in (first, second)
    )
    path.write_text(f"extends: {BASELINE}\nmeasures:\n{items}", encoding="utf-8")
    return path


def test_dated_relative_changes_compose_in_date_order(tmp_path):
    sc = sim.load_scenario(_dated(tmp_path, ("2021-03-01", "+1"), ("2021-06-01", "*2")))
    at = [sc.in_force(dt.date(2021, m, 1)).resources["inspector"].capacity for m in (1, 3, 6)]
    assert at == [3, 4, 8]


def test_dated_relative_changes_listed_out_of_date_order_are_refused(tmp_path):
    path = _dated(tmp_path, ("2021-06-01", "*2"), ("2021-03-01", "+1"))
    with pytest.raises(ScenarioError) as err:
        sim.load_scenario(path)
    assert str(err.value) == (
        f"{path.as_posix()}:4: measures[1].changes.resources.inspector.capacity: measures 0 and 1 both "
        "change resources.inspector.capacity, by a relative change, and apply in the list's order, but 0 "
        "comes into force later (2021-06-01 after 2021-03-01): list the measures in date order"
    )


def test_a_sweep_value_in_quotes_is_a_relative_change_of_the_base():
    from sim.experiments.sweep import load_sweep

    grid = {"resources.inspector.capacity": ["+1", "*2", 4]}
    spec = load_sweep({"name": "s", "base": str(BASELINE), "replications": 1, "grid": grid})
    assert [p.scenario.resources["inspector"].capacity for p in spec.points] == [4, 6, 4]
    assert [p.label for p in spec.points][:2] == [
        "resources.inspector.capacity=+1",
        "resources.inspector.capacity=*2",
    ]


def test_a_bare_plus_in_a_sweep_file_adds_to_the_base(tmp_path):
    from sim.experiments.sweep import load_sweep

    path = tmp_path / "sweep.yaml"
    path.write_text(
        f"name: s\nbase: {BASELINE}\nreplications: 1\ngrid: {{resources.inspector.capacity: [+1, 2]}}\n",
        encoding="utf-8",
    )
    assert [p.scenario.resources["inspector"].capacity for p in load_sweep(path).points] == [4, 2]
