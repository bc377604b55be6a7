"""The staffing search (``sim.optimise``): a problem whose answer is known exactly, the search's
steps and outputs, resuming, bad staffing files; and the verdict rule against theory (the size of
its one-sided t-test)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml
from builders import staff, tiny_scenario, work
from scipy import stats

import sim
from sim.cli import main
from sim.experiments.staffing import MEETS, MISSES, RULED_OUT, judge
from sim.experiments.staffing_file import StaffTarget, load_staffing


def exact_problem(folder, **changes):
    """Two stages in a row: ``desk`` work of 1 day per case and ``field`` work of half a day, one
    application every quarter of a day (4 a day) for 40 days. A pool keeps up, and no case ever
    waits, exactly when its members can do 4 days of work a day: 4 desk members and 2 field
    members. With fewer, the queue grows all along and the mean elapsed time is far above 1.5.
    Elapsed time is then exactly 1.5 working days for every case in every replication (no
    randomness is left), so every verdict is decided at the first look."""
    stages = {
        "a": {"label": "a", "owner": "utility", "pool": "desk", "effort": work(1)},
        "b": {"label": "b", "owner": "utility", "pool": "field", "effort": work(0.5)},
    }
    data = tiny_scenario(
        stages, ["a", "b"], resources={"desk": staff(1), "field": staff(1)}, days=40, arrivals={"every": 0.25}
    )
    (folder / "tiny.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    body = {
        "name": "exact",
        "base": "tiny.yaml",
        "pools": {"desk": {"min": 1, "max": 6, "cost": 1}, "field": {"min": 1, "max": 4, "cost": 1}},
        "targets": [{"segment": "seg", "kpi": "elapsed_wd_mean", "at_most": 1.5}],
        "replications": {"start": 2, "step": 2, "max": 6},
    }
    body.update(changes)
    path = folder / "staffing.yaml"
    path.write_text(yaml.safe_dump(body, sort_keys=False), encoding="utf-8")
    return path


def test_the_exact_answer_its_neighbours_and_the_steps_of_the_search(tmp_path):
    result = sim.optimise(exact_problem(tmp_path), jobs=1)
    assert result.chosen is not None and result.chosen.staffing == (4, 2)
    assert result.chosen.verdict == MEETS and result.chosen.replications == 2  # decided at once
    check = result.chosen.checks[0]
    assert (check.mean, check.low, check.high) == (1.5, 1.5, 1.5)  # no spread: exact
    assert result.floors == {"desk": 4, "field": 2}  # bisection with the other pool at its max
    assert [(n.staffing, n.verdict) for n in result.neighbours] == [((3, 2), MISSES), ((4, 1), MISSES)]
    table = result.table.set_index(["desk", "field"])
    assert table.loc[(6, 4), "role"] == "corner" and table.loc[(6, 4), "verdict"] == MEETS
    assert table.loc[(4, 2), "chosen"] and table["chosen"].sum() == 1
    # every staffing looked at: cheaper ones than the chosen are all missing or ruled out
    cheaper = result.table[result.table["cost"] < 6]
    assert set(cheaper["verdict"]) <= {MISSES, RULED_OUT}
    assert table.loc[(4, 2), "seg.elapsed_wd_mean_verdict"] == "met"
    assert set(result.kpis.columns[:2]) == {"desk", "field"}


def test_staffings_below_a_floor_are_listed_as_ruled_out_with_the_reason(tmp_path):
    result = sim.optimise(exact_problem(tmp_path), jobs=1)
    table = result.table.set_index(["desk", "field"])
    assert (
        table.loc[(1, 4), "verdict"] == RULED_OUT and table.loc[(1, 4), "ruled_out_by"] == "fewer desk than 4"
    )
    assert table.loc[(5, 1), "ruled_out_by"] == "fewer field than 2"
    assert table.loc[(3, 2), "verdict"] == MISSES  # a neighbour of the chosen one: simulated after all
    cheaper = {(d, f) for d in range(1, 7) for f in range(1, 5) if d + f < 6}
    assert cheaper <= set(table.index)  # every cheaper staffing is accounted for


def test_a_staffing_that_leaves_cases_open_misses_a_target_on_finished_cases(tmp_path):
    # the drain ends 10 days after the last application: with fewer than 4 desk members cases are
    # still open then, and the mean elapsed time of the finished ones says nothing about them
    path = exact_problem(
        tmp_path,
        set={"horizon.drain_days": 10},
        targets=[{"segment": "seg", "kpi": "elapsed_wd_mean", "at_most": 1000}],
    )
    result = sim.optimise(path, jobs=1)
    assert result.chosen.staffing == (4, 2)
    fewer = next(n for n in result.neighbours if n.staffing == (3, 2))
    assert fewer.verdict == MISSES and fewer.checks[0].open_cases > 0
    assert fewer.checks[0].mean < 1000  # the finished cases alone would have met it


def test_costs_decide_between_staffings_that_both_meet(tmp_path):
    # the field pool may also be staffed generously: with field members 4x as dear, the search
    # still takes the fewest field members (2), and the cost is 4 + 2 x 4
    result = sim.optimise(
        exact_problem(
            tmp_path, pools={"desk": {"min": 1, "max": 6}, "field": {"min": 1, "max": 4, "cost": 4}}
        ),
        jobs=1,
    )
    assert result.chosen.staffing == (4, 2) and result.chosen.cost == 12


def test_no_staffing_in_the_bounds_meets_the_targets(tmp_path, capsys):
    pools = {"desk": {"min": 1, "max": 3}, "field": {"min": 1, "max": 4}}
    path = exact_problem(tmp_path, pools=pools, description="four desk members are needed")
    result = sim.optimise(path, jobs=1)
    assert result.chosen is None
    assert [(c.staffing, c.verdict) for c in result.candidates] == [((3, 4), MISSES)]  # the corner only
    assert main(["optimise", str(path), "--jobs", "1", "--out", str(tmp_path / "out")]) == 1
    out = capsys.readouterr().out
    assert "no staffing within the bounds meets every target; the most generous one, desk 3, field 4" in out
    assert "the staffing file says: four desk members are needed" in out
    assert main(["optimise", str(path), "--jobs", "0"]) == 2  # a usage error, not a traceback


def test_without_monotonicity_every_cheaper_staffing_is_simulated(tmp_path):
    result = sim.optimise(exact_problem(tmp_path, assume_monotone=False), jobs=1)
    assert result.chosen.staffing == (4, 2)
    cheaper = result.table[result.table["cost"] < 6]
    assert len(cheaper) == sum(1 for d in range(1, 7) for f in range(1, 5) if d + f < 6)
    assert (cheaper["verdict"] == MISSES).all() and not result.floors


def test_the_command_writes_its_folder_and_resumes_without_simulating_again(tmp_path, capsys):
    path = exact_problem(tmp_path)
    out = tmp_path / "out"
    assert main(["optimise", str(path), "--jobs", "1", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "cheapest staffing that meets every target: desk 4, field 2 (cost 6)" in printed
    assert "desk 3, field 2 (cost 5): misses" in printed
    for name in ("staffings.parquet", "kpis.parquet", "pools.parquet", "staffing.png", "manifest.json"):
        assert (out / name).is_file(), name
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["chosen"] == {"desk": 4, "field": 2} and manifest["replications_reused"] == 0
    computed = manifest["replications_computed"]
    assert main(["optimise", str(path), "--jobs", "1", "--out", str(out), "--resume"]) == 0
    again = json.loads((out / "manifest.json").read_text())
    assert again["replications_computed"] == 0 and again["replications_reused"] == computed
    assert again["chosen"] == manifest["chosen"]


BAD_FILES = {
    "unknown-pool": (
        {"pools": {"desks": {"min": 1, "max": 2}}},
        "pools.desks: pool 'desks' is not in the base scenario (did you mean 'desk'?)",
    ),
    "unknown-kpi": (
        {"targets": [{"segment": "seg", "kpi": "elapsed_mean", "at_most": 2}]},
        "targets[0].kpi: 'elapsed_mean' is not a KPI of the kpis table (did you mean 'elapsed_wd_mean'?)",
    ),
    "two-bounds": (
        {"targets": [{"segment": "seg", "kpi": "elapsed_wd_mean", "at_most": 2, "at_least": 1}]},
        "targets[0]: a target takes exactly one of at_least and at_most",
    ),
    "bounds-reversed": ({"pools": {"desk": {"min": 3, "max": 2}}}, "pools.desk: min 3 is above max 2"),
    "share-without-target": (
        {"targets": [{"segment": "seg", "kpi": "on_target_share", "at_least": 0.9}]},
        "targets[0].kpi: segment 'seg' has no `kind: share` target in the base scenario, so "
        "'on_target_share' is undefined",
    ),
    "scale": (
        {"set": {"scale": 0.5}},
        "base: the base scenario's scale is 0.5: members of a staffing are people",
    ),
    "share-as-percent": (
        {"targets": [{"segment": "seg", "kpi": "within_maximum_share", "at_least": 80}]},
        "targets[0]: 'within_maximum_share' is a share, a fraction of the cases: found 80; write 0.8 for 80%",
    ),
    "too-many": (
        {"pools": {"desk": {"min": 1, "max": 200}, "field": {"min": 1, "max": 200}}},
        "pools: the bounds hold 40000 staffings; narrow them to at most 20000",
    ),
}


@pytest.mark.parametrize(("change", "problem"), list(BAD_FILES.values()), ids=list(BAD_FILES))
def test_a_bad_staffing_file_is_one_line_and_exit_status_2(tmp_path, capsys, change, problem):
    path = exact_problem(tmp_path, **change)
    assert main(["optimise", str(path), "--jobs", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and problem in err, err


def test_an_unlimited_pool_cannot_be_chosen(tmp_path):
    path = exact_problem(tmp_path)
    base = yaml.safe_load((tmp_path / "tiny.yaml").read_text())
    base["resources"]["desk"]["capacity"] = None
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(base), encoding="utf-8")
    with pytest.raises(sim.ScenarioError, match="pool 'desk' is unlimited in the base scenario"):
        load_staffing(path)


# ------------------------------------------------------------------------- the verdict rule


def test_verdicts_follow_the_one_sided_t_bounds_exactly():
    values = np.array([0.70, 0.74, 0.72, 0.78, 0.76])
    target = StaffTarget(segment="s", kpi="on_target_share", at_least=0.70)
    check = judge(values, target, 0.95)
    half = stats.t.ppf(0.95, 4) * values.std(ddof=1) / np.sqrt(5)
    assert check.mean == pytest.approx(0.74) and check.low == pytest.approx(0.74 - half)
    assert check.verdict == "met"  # 0.74 - 0.0282 >= 0.70
    assert (
        judge(values, StaffTarget(segment="s", kpi="on_target_share", at_least=0.73), 0.95).verdict == "open"
    )
    assert (
        judge(values, StaffTarget(segment="s", kpi="on_target_share", at_least=0.80), 0.95).verdict
        == "missed"
    )
    assert (
        judge(values, StaffTarget(segment="s", kpi="handling_wd_mean", at_most=0.76), 0.95).verdict == "open"
    )
    assert judge(np.array([1.0, np.nan]), target, 0.95).verdict == "missed"  # no finished case


def test_a_staffing_just_short_of_its_target_is_declared_meeting_it_at_most_alpha_of_the_time():
    # theory: the one-sided t bound at level 1 - a is exceeded by a true mean below the bound with
    # probability at most a; here the true mean sits exactly on the bound (the worst case)
    rng = np.random.default_rng(2021)
    target = StaffTarget(segment="s", kpi="handling_wd_mean", at_most=10.0)
    trials, a = 4000, 0.05
    wrong = sum(judge(rng.normal(10.0, 2.0, size=5), target, 1 - a).verdict == "met" for _ in range(trials))
    rate = wrong / trials
    se = np.sqrt(a * (1 - a) / trials)
    assert abs(rate - a) < 4 * se, rate  # the test's size is a, within 4 standard errors


def test_optimise_refuses_a_scenario_file_and_validate_reads_staffing_and_sweep_files(tmp_path, capsys):
    path = exact_problem(tmp_path)
    assert main(["optimise", str(tmp_path / "tiny.yaml")]) == 2
    err = capsys.readouterr().err
    assert "tiny.yaml: this is a scenario (it has `resources`), not a staffing file: " in err
    assert "use `python run_sim.py run " in err
    assert main(["validate", str(path)]) == 0
    assert "ok (staffing exact: 2 pools, 1 target, 24 staffings in the bounds" in capsys.readouterr().out
    assert main(["validate", str(path), "--set", "seed=3"]) == 2
    assert "--set applies to scenario files" in capsys.readouterr().err
