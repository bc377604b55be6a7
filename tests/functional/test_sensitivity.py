"""Sensitivity runs on a tiny scenario of two segments that share nothing: under common random
numbers an input that cannot reach a KPI moves it by exactly nothing (mu_star 0), and the input
that does ranks first with the effect theory gives; the design and the indices are reproducible,
whatever the executor; resume computes only the missing points."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from builders import two_waits

from sim.experiments.executors import SerialExecutor
from sim.experiments.sensitivity import design, load_sensitivity, run_sensitivity
from sim.experiments.sweep import point_files
from sim.scenario import scenario_from_dict

LOW, HIGH = 2.0, 8.0  # the range of each wait's most likely duration (working days)


def spec_data(**changes) -> dict:
    return {
        "name": "two-waits",
        "base": scenario_from_dict(two_waits()),
        "seed": 5,
        "trajectories": 4,
        "inputs": {
            "stages.wait_b.duration.mode": {"range": [LOW, HIGH], "label": "wait of b"},
            "stages.wait_a.duration.mode": {"range": [LOW, HIGH], "label": "wait of a"},
            "stages.unused.duration.value": {"range": [1, 3], "label": "unused stage"},
        },
        "kpis": [{"kpi": "elapsed_wd_mean", "segment": "a"}, {"kpi": "elapsed_wd_mean", "segment": "b"}],
        **changes,
    }


@pytest.fixture(scope="module")
def outcome():
    return run_sensitivity(load_sensitivity(spec_data()), executor=SerialExecutor())


def rows(indices: pd.DataFrame, segment: str) -> pd.DataFrame:
    return indices[indices["segment"] == segment].set_index("input")


def test_an_input_that_cannot_reach_a_kpi_has_no_effect_at_all(outcome):
    a, b = rows(outcome.indices, "a"), rows(outcome.indices, "b")
    assert a.loc["stages.wait_b.duration.mode", "mu_star"] == 0.0
    assert a.loc["stages.wait_b.duration.mode", "sigma"] == 0.0
    assert b.loc["stages.wait_a.duration.mode", "mu_star"] == 0.0
    for segment in (a, b):  # a stage in no flow moves nothing
        assert segment.loc["stages.unused.duration.value", "mu_star"] == 0.0
    # the 95% interval of mu_star (bootstrap percentiles) is [0, 0] then, and never below 0
    nothing = b.loc["stages.wait_a.duration.mode"]
    assert nothing["mu_star_low"] == nothing["mu_star_high"] == 0.0
    indices = outcome.indices
    assert (indices["mu_star_low"] >= 0).all() and (indices["mu_star_low"] <= indices["mu_star_high"]).all()


def test_the_input_that_decides_a_kpi_ranks_first_with_the_effect_theory_gives(outcome):
    a, b = rows(outcome.indices, "a"), rows(outcome.indices, "b")
    assert a.loc["stages.wait_a.duration.mode", "rank"] == 1
    assert b.loc["stages.wait_b.duration.mode", "rank"] == 1
    # the mean of triangular (1, c, 9) is (10 + c) / 3: moving c over its range moves the mean wait
    # by (HIGH - LOW) / 3 = 2 working days, which mu_star measures per range. The sample (~120
    # cases x 2 replications per point, paired by common random numbers) estimates the mean slope
    # of each case's wait with a standard error of about 4%: within 15% is ~4 standard errors
    theory = (HIGH - LOW) / 3
    for segment, key in ((a, "stages.wait_a.duration.mode"), (b, "stages.wait_b.duration.mode")):
        assert segment.loc[key, "mu"] > 0
        assert segment.loc[key, "mu_star"] == pytest.approx(theory, rel=0.15)


def test_the_design_is_the_same_for_the_same_seed_and_differs_for_another():
    first, again = design(load_sensitivity(spec_data())), design(load_sensitivity(spec_data()))
    np.testing.assert_array_equal(first.matrix, again.matrix)
    assert [p.overrides for p in first.sweep.points] == [p.overrides for p in again.sweep.points]
    other = design(load_sensitivity(spec_data(seed=6)))
    assert not np.array_equal(first.matrix, other.matrix)
    # Morris: r trajectories of k + 1 rows, each row moving one input from the row before
    assert first.matrix.shape == (4 * (3 + 1), 3)
    steps = np.diff(first.matrix.reshape(4, 4, 3), axis=1)
    assert ((steps != 0).sum(axis=2) == 1).all()


@pytest.mark.slow
def test_resume_computes_only_the_missing_points(tmp_path, outcome):
    spec = load_sensitivity(spec_data())
    plan = design(spec)
    first = run_sensitivity(spec, out=tmp_path, executor=SerialExecutor(), plan=plan)
    assert first.runs.computed == len(plan.sweep.points) and first.runs.skipped == 0
    lost = plan.sweep.points[1:3]
    for point in lost:
        point_files(tmp_path / "runs", point)["kpis"].unlink()
    again = run_sensitivity(spec, out=tmp_path, executor=SerialExecutor(), plan=plan, resume=True)
    assert again.runs.computed == len(lost)
    assert again.runs.skipped == len(plan.sweep.points) - len(lost)
    pd.testing.assert_frame_equal(again.indices, outcome.indices, check_exact=True)
    pd.testing.assert_frame_equal(again.indices, first.indices, check_exact=True)


@pytest.mark.slow
def test_indices_are_bit_identical_on_one_and_two_processes(outcome):
    spec = load_sensitivity(spec_data())
    two = run_sensitivity(spec, jobs=2)
    pd.testing.assert_frame_equal(two.indices, outcome.indices, check_exact=True)
    pd.testing.assert_frame_equal(two.table, outcome.table, check_exact=True)


@pytest.mark.slow
def test_sobol_indices_give_nothing_to_an_input_that_cannot_reach_the_kpi():
    spec = load_sensitivity(spec_data(method="sobol", samples=4))
    got = run_sensitivity(spec, executor=SerialExecutor())
    assert len(got.design.rows) == 4 * (3 + 2)  # Saltelli: N (k + 2) rows
    a, b = rows(got.indices, "a"), rows(got.indices, "b")
    for segment, key, others in (
        (a, "stages.wait_a.duration.mode", ["stages.wait_b.duration.mode", "stages.unused.duration.value"]),
        (b, "stages.wait_b.duration.mode", ["stages.wait_a.duration.mode", "stages.unused.duration.value"]),
    ):
        assert (segment.loc[others, ["ST", "S1"]] == 0.0).all().all()
        assert segment.loc[key, "rank"] == 1
        # the one input that moves the KPI accounts for all its variance: ST = 1, within the
        # bootstrap 95% interval of so small a sample
        assert abs(segment.loc[key, "ST"] - 1.0) <= segment.loc[key, "ST_conf"]
