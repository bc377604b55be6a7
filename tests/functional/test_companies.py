"""The city as its supply companies (``companies:``): each company's cases carry its name and
region and come in its share; its staff are its own; companies share nothing, so the city is their
independent runs together, the same as one task, as a task per company on processes or on a Dask
cluster, and a company alone is exactly its part of the city."""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import pytest
from builders import BASELINE, fixed, staff, tiny_scenario, work

import sim
from sim.scenario.errors import ScenarioError


def city(companies=None, measures=None):
    data = tiny_scenario(
        {
            "serve": {"label": "serve", "owner": "utility", "pool": "desk", "effort": work(0.5)},
            "wait": {"label": "wait", "owner": "customer", "duration": fixed(1.0)},
        },
        ["serve", "wait"],
        resources={"desk": staff(2)},
        attributes={
            "region": {"dist": "categorical", "values": {"main_urban": 0.5, "west": 0.5}},
            "size": {"dist": "uniform", "min": 0, "max": 1},
        },
        per_day=4.0,
        days=60,
    )
    data["horizon"]["start"] = "2021-03-01"
    data["scale"] = 2.0
    data["companies"] = companies or {
        "a": {"label": "A", "region": "main_urban", "share": 0.6},
        "b": {"label": "B", "region": "west", "share": 0.4, "resources": {"desk": {"capacity": 3}}},
    }
    if measures:
        data["measures"] = measures
    return sim.scenario_from_dict(data)


@pytest.fixture(scope="module")
def whole():
    return sim.run(city(), reps=2, jobs=1)


def test_cases_carry_their_company_and_region_and_come_in_its_share(whole):
    cases = whole.cases
    assert dict(cases.groupby("company")["region"].unique().map(list)) == {"a": ["main_urban"], "b": ["west"]}
    assert not cases.duplicated(["replication", "case_id"]).any()
    assert cases["case_id"].str.startswith(("a/", "b/")).all()
    for name, share in [("a", 0.6), ("b", 0.4)]:
        count = (cases["company"] == name).sum()
        expected = 2 * 60 * 4.0 * 2.0 * share  # replications x days x rate x scale x share
        assert abs(count - expected) <= 4.5 * math.sqrt(expected), (name, count, expected)


def test_a_company_has_its_own_staff(whole):
    pools = whole.pools[whole.pools["replication"] == 0].set_index("company")
    assert pools.at["a", "capacity"] == round(2 * 2.0 * 0.6)  # in proportion: 2 members x scale x share
    assert pools.at["b", "capacity"] == 3  # its own members, as it names them
    table = whole.company_summary()
    assert set(table["company"]) == {"a", "b"} and (table["n_cases"] > 0).all()


def test_the_city_is_the_same_as_one_task_per_company_on_processes_and_on_dask(whole):
    split = sim.run(city(), reps=2, jobs=2, split_companies=True)
    for table in ("cases", "kpis", "pools", "materials", "targets"):
        pd.testing.assert_frame_equal(getattr(whole, table), getattr(split, table), obj=table)
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        on_dask = sim.run(city(), reps=2, scheduler=client, split_companies=True)
    pd.testing.assert_frame_equal(whole.cases, on_dask.cases)
    pd.testing.assert_frame_equal(whole.kpis, on_dask.kpis)


def test_a_company_alone_is_exactly_its_part_of_the_city(whole):
    alone = sim.run(city().only(["b"]), reps=2, jobs=1)
    part = whole.cases[whole.cases["company"] == "b"].reset_index(drop=True)
    pd.testing.assert_frame_equal(alone.cases, part)


def test_a_dated_measure_can_select_a_company():
    faster = {
        "from": "2021-04-01",
        "where": {"company": "a"},
        "changes": {"stages": {"wait": {"duration": fixed(0.5)}}},
    }
    before = sim.run(city(), reps=1).cases.set_index("case_id")
    after = sim.run(city(measures=[faster]), reps=1).cases.set_index("case_id").loc[before.index]
    changed = (before["customer_wd"] - after["customer_wd"]).round(9) != 0
    expected = (before["company"] == "a") & (before["arrival"].dt.date >= date(2021, 4, 1))
    assert changed.astype(bool).equals(expected.astype(bool)) and expected.any()


def test_shares_must_add_up_to_one_and_company_options_are_checked():
    with pytest.raises(
        ScenarioError, match=r"shares \(a 0\.5, b 0\.4\) add up to 0\.9; they must add up to 1"
    ):
        city(
            {
                "a": {"label": "A", "region": "west", "share": 0.5},
                "b": {"label": "B", "region": "west", "share": 0.4},
            }
        )
    with pytest.raises(ValueError, match="no company 'c'"):
        city().only(["c"])


def test_run_prints_and_writes_per_company_and_runs_a_subset(tmp_path, capsys):
    import yaml

    from sim.cli import main

    path = tmp_path / "city.yaml"
    data = city().to_dict()
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["run", str(path), "--reps", "2", "--jobs", "1", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "per supply company (its cases only):" in printed
    companies = pd.read_parquet(out / "companies.parquet")
    assert set(companies["company"]) == {"a", "b"}
    assert main(["run", str(path), "--reps", "1", "--company", "b", "--out", str(out / "b")]) == 0
    assert set(pd.read_parquet(out / "b" / "cases.parquet")["company"]) == {"b"}
    assert main(["run", str(path), "--company", "c", "--out", str(out / "c")]) == 2
    assert "--company: no company 'c' in tiny; its companies: a, b" in capsys.readouterr().err


def test_conditions_can_read_the_company_and_a_company_that_does_not_exist_is_refused():
    data = city().to_dict()
    data["stages"]["wait"]["variants"] = [
        {"name": "quick", "when": {"company": "b"}, "duration": fixed(0.25)},
    ]
    cases = sim.run(sim.scenario_from_dict(data), reps=1).cases
    waited = cases.groupby("company")["customer_wd"].max().round(9).to_dict()
    assert waited == {"a": 1.0, "b": 0.25}
    data["stages"]["wait"]["variants"][0]["when"] = {"company": "c"}
    with pytest.raises(ScenarioError, match="'c'"):
        sim.scenario_from_dict(data)


def test_a_company_region_and_pools_are_checked_and_a_scope_must_name_real_attributes():
    data = city().to_dict()
    data["companies"]["b"]["region"] = "wset"
    with pytest.raises(
        ScenarioError, match=r"companies\.b\.region: region 'wset' is none of the scenario's regions"
    ):
        sim.scenario_from_dict(data)
    data = city().to_dict()
    data["companies"]["b"]["resources"] = {"dsk": {"capacity": 2}}
    with pytest.raises(ScenarioError, match=r"companies\.b\.resources\.dsk: pool 'dsk' is not defined"):
        sim.scenario_from_dict(data)
    typo = {"from": "2021-04-01", "where": {"regoin": "west"}, "changes": {"stages": {}}}
    with pytest.raises(
        ScenarioError, match=r"measures\[0\]\.where: reads attribute 'regoin'.*did you mean 'region'"
    ):
        city(measures=[typo])
    unknown = {"from": "2021-04-01", "where": {"company": "west"}, "changes": {"stages": {}}}
    with pytest.raises(
        ScenarioError, match=r"measures\[0\]\.where: attribute 'company' has no category 'west'"
    ):
        city(measures=[unknown])


# ------------------------------------------------------------------ shared pools


def shared_city(capacity=3):
    data = city().to_dict()
    data["resources"]["office"] = staff(capacity, shared=True)
    data["stages"]["approve"] = {
        "label": "approve",
        "owner": "government",
        "pool": "office",
        "effort": work(0.2),
    }
    data["segments"]["seg"]["flow"] = ["serve", "approve", "wait"]
    return sim.scenario_from_dict(data)


def test_companies_in_one_simulation_are_exactly_their_independent_runs():
    from sim.engine.model import ConnectionModel, simulate

    together = ConnectionModel(city(), 0).run_all()
    for name, records in zip(["a", "b"], together):
        pd.testing.assert_frame_equal(records.cases, simulate(city(), 0, company=name).cases)


def test_a_shared_pool_serves_every_company_and_keeps_the_city_in_one_simulation():
    scenario = shared_city()
    result = sim.run(scenario, reps=2, jobs=1)
    split = sim.run(scenario, reps=2, jobs=2, split_companies=True)  # not split: one task per replication
    pd.testing.assert_frame_equal(result.cases, split.cases)
    pools = result.pools[result.pools["replication"] == 0]
    office = pools[pools["pool"] == "office"]
    assert office["company"].tolist() == ["shared"] and office["capacity"].tolist() == [round(3 * 2.0)]
    assert set(pools.loc[pools["pool"] == "desk", "company"]) == {"a", "b"}  # each its own desk
    counted = result.cases[result.cases["replication"] == 0]
    assert office["n_served"].item() == len(counted)  # every company's counted cases, one queue
    summary = result.pool_summary().set_index(["company", "pool"])
    assert summary.at[("shared", "office"), "replications"] == 2
    with pytest.raises(
        ValueError, match="pool 'office' is shared by every company of tiny: run the whole city"
    ):
        scenario.only(["a"])


def test_a_shared_pool_is_set_for_the_city_not_per_company():
    data = shared_city().to_dict()
    data["companies"]["b"]["resources"]["office"] = {"capacity": 1}
    with pytest.raises(
        ScenarioError, match=r"companies\.b\.resources\.office: pool 'office' is shared by the whole"
    ):
        sim.scenario_from_dict(data)
    data = shared_city().to_dict()
    data["companies"]["shared"] = data["companies"].pop("b")
    with pytest.raises(ScenarioError, match=r"companies\.shared: 'shared' names the shared pools' rows"):
        sim.scenario_from_dict(data)


def test_a_comparison_report_gives_the_months_and_the_companies(tmp_path):
    from sim.experiments.compare import compare

    faster = {
        "from": "2021-04-01",
        "where": {"company": "a"},
        "changes": {"stages": {"wait": {"duration": fixed(0.5)}}},
    }
    data = city().to_dict()
    data["segments"]["seg"]["targets"] = [{"measure": "elapsed", "days": 2, "kind": "share"}]
    now = sim.scenario_from_dict({**data, "name": "now"})
    dated = sim.scenario_from_dict({**data, "name": "dated", "measures": [faster]})
    result = compare(now, [dated], reps=2)
    written = [p.name for p in sim.write_comparison(result, tmp_path)]
    assert "trajectory-dated.png" in written and "trajectory-now.png" not in written
    monthly = pd.read_parquet(tmp_path / "monthly.parquet")
    assert set(monthly["scenario"]) == {"dated"} and monthly["month"].min() == "2021-03"
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    months = report.split("## Month by month")[1].split("##")[0]
    assert "| dated | segment |" in months  # the segment by its label
    companies = report.split("## Per supply company")[1].split("## Pools")[0]
    assert "**now**" in companies and "**dated**" in companies
    assert "| a | main_urban |" in companies and "| b | west |" in companies


def test_shared_is_said_where_the_pool_is_defined_not_in_a_company():
    data = city().to_dict()
    data["companies"]["b"]["resources"]["desk"]["shared"] = True
    with pytest.raises(
        ScenarioError,
        match=r"companies\.b\.resources\.desk\.shared: 'shared' does not belong here: a pool shared by "
        r"the whole city says so where it is defined \(resources\.NAME\.shared: true\)",
    ):
        sim.scenario_from_dict(data)


def test_a_shared_pool_without_companies_is_refused_at_its_line(tmp_path):
    path = tmp_path / "district.yaml"
    path.write_text(
        f"extends: {BASELINE}\nname: district\nresources:\n  inspector: {{shared: true}}\n", encoding="utf-8"
    )
    with pytest.raises(
        ScenarioError,
        match=r"district\.yaml:4: resources\.inspector\.shared: found shared: true in a scenario "
        r"without companies",
    ):
        sim.load_scenario(path)
