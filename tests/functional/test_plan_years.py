"""The plan's three years run continuously (scenarios/district-2021-2023.yaml, and the city's
plan-2021-2023.yaml): its rules end as
plan-2023's, each year's cases are judged against that year's targets, the monthly results show
the Spring Festival dips, and the run is the same on one or two workers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from sim.cli import main
from sim.experiments.monthly import first_met

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
OWN = {"name", "title", "title_zh", "description", "assumptions", "horizon"}


def test_the_continuous_scenario_ends_with_plan_2023s_rules_and_passes_through_each_year():
    continuous = sim.load_scenario(SCENARIOS / "district-2021-2023.yaml")
    for year, day in [(2021, "2021-12-31"), (2022, "2022-12-31"), (2023, "2023-12-31")]:
        package = sim.load_scenario(SCENARIOS / f"plan-{year}.yaml").to_dict()
        in_force = continuous.in_force(pd.Timestamp(day).date()).to_dict()
        differ = {k for k in set(package) | set(in_force) if package.get(k) != in_force.get(k)}
        assert differ <= OWN, (year, differ - OWN)
    before = continuous.in_force(pd.Timestamp("2020-12-31").date()).to_dict()
    baseline = sim.load_scenario(SCENARIOS / "baseline.yaml").to_dict()
    assert {k for k in set(before) | set(baseline) if before.get(k) != baseline.get(k)} <= OWN | {"measures"}


def test_first_met_is_the_first_month_of_an_unbroken_run_met_with_the_whole_interval():
    summary = pd.DataFrame(
        {
            "segment": "s",
            "month": ["2021-01", "2021-02", "2021-03", "2021-04", "2021-05"],
            "on_target_share": [0.99, 0.90, 0.99, 0.97, 0.99],
            "on_target_share_lo": [0.98, 0.89, 0.98, 0.96, np.nan],
        }
    )
    assert first_met(summary, 0.95)["first_met"].tolist() == [None]  # May has no interval
    summary.loc[4, "on_target_share_lo"] = 0.97
    assert first_met(summary, 0.95)["first_met"].tolist() == ["2021-03"]  # February broke the run


@pytest.mark.slow
def test_a_continuous_run_by_year_and_month_the_same_on_one_or_two_workers(tmp_path, capsys):
    out = tmp_path / "plans"
    args = [
        "run",
        str(SCENARIOS / "district-2021-2023.yaml"),
        "--reps",
        "2",
        "--jobs",
        "2",
        "--out",
        str(out),
    ]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "per month of application" in printed and "2023-12" in printed
    assert (out / "trajectory.png").stat().st_size > 10_000
    targets = pd.read_parquet(out / "targets.parquet")
    assert set(targets["period"]) == {"2021", "2022", "2023"}
    longest = targets[(targets["segment"] == "lv_smb") & (targets["kind"] == "maximum")]
    assert longest.groupby("period")["bound_days"].first().to_dict() == {"2021": 20, "2022": 15, "2023": 15}
    monthly = pd.read_parquet(out / "monthly.parquet")
    arrivals = monthly.groupby("month")["n_cases"].sum()
    for festival, after in [("2021-02", "2021-03"), ("2022-02", "2022-03"), ("2023-01", "2023-03")]:
        assert arrivals[festival] < 0.75 * arrivals[after], (festival, arrivals[festival], arrivals[after])
    one = sim.run(sim.load_scenario(SCENARIOS / "district-2021-2023.yaml"), reps=2, jobs=1)
    two = pd.read_parquet(out / "cases.parquet")
    pd.testing.assert_frame_equal(one.cases.reset_index(drop=True), two, check_dtype=False)


def test_quarters_group_the_months_and_each_is_judged_against_the_targets_of_its_end():
    from sim.experiments.monthly import month_of

    cases = pd.DataFrame(
        {"arrival": pd.to_datetime(["2021-01-04", "2021-03-31", "2021-04-01", "2022-12-30"])}
    )
    assert month_of(cases).tolist() == ["2021-01", "2021-03", "2021-04", "2022-12"]
    assert month_of(cases, "quarter").tolist() == ["2021-Q1", "2021-Q1", "2021-Q2", "2022-Q4"]
    with pytest.raises(ValueError, match="expected 'month' or 'quarter'"):
        month_of(cases, "week")


@pytest.mark.slow
def test_the_city_plan_prints_the_city_each_company_and_each_month(tmp_path, capsys):
    """``run scenarios/plan-2021-2023.yaml``: the city in its supply companies (at a thirty-fifth
    of its size here, ``scale`` 35 -> 1, to keep the test short)."""
    out = tmp_path / "city"
    args = ["run", str(SCENARIOS / "plan-2021-2023.yaml"), "--reps", "1", "--jobs", "1", "--set", "scale=1"]
    assert main([*args, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "plan-2021-2023: 2021-2023 for the whole city" in printed
    assert "per supply company (its cases only):" in printed and "per month of application" in printed
    companies = pd.read_parquet(out / "companies.parquet")
    assert set(companies["company"]) == {"main_urban", "liangjiang", "west", "northeast", "southeast"}
    monthly = pd.read_parquet(out / "monthly.parquet")
    assert monthly["month"].min() == "2021-01" and monthly["month"].max() == "2023-12"
    assert (out / "trajectory.png").stat().st_size > 10_000
    by_company = pd.read_parquet(out / "monthly_companies.parquet")
    assert set(by_company["company"]) == set(companies["company"])
    assert all((out / f"trajectory-{name}.png").stat().st_size > 10_000 for name in set(companies["company"]))
    assert by_company.groupby("month")["n_cases"].sum().equals(monthly.groupby("month")["n_cases"].sum())
