"""Measures in force from a date, for some cases (``measures:``; ``sim.scenario.dated``,
``sim.engine.rules``): a measure dated D changes exactly the cases that apply on or after D in its
scope, and no draw of any other case; what a dated measure may not change is refused at load."""

from __future__ import annotations

import textwrap
from datetime import date

import pytest
from builders import fixed, staff, tiny_scenario, work

import sim
from sim.scenario.errors import ScenarioError

FROM = date(2021, 4, 1)


def scenario(measures=None, per_day=4.0):
    data = tiny_scenario(
        {
            "intake": {"label": "intake", "owner": "utility", "duration": fixed(1.0)},
            "check": {"label": "check", "owner": "utility", "duration": fixed(2.0)},
        },
        ["intake", "check"],
        attributes={
            "region": {"dist": "categorical", "values": {"main_urban": 0.5, "other": 0.5}},
            "size": {"dist": "uniform", "min": 0, "max": 1},
        },
        per_day=per_day,
        days=120,
    )
    data["horizon"]["start"] = "2021-01-04"
    if measures is not None:
        data["measures"] = measures
    return sim.scenario_from_dict(data)


FASTER_CHECK = {
    "from": FROM.isoformat(),
    "where": {"region": "main_urban"},
    "changes": {"stages": {"check": {"duration": fixed(0.5)}}},
}


def test_a_dated_scoped_measure_changes_exactly_its_cases_and_no_draw_of_any_other():
    before = sim.run(scenario(), reps=1).cases.set_index("case_id")
    after = sim.run(scenario([FASTER_CHECK]), reps=1).cases.set_index("case_id")
    assert sorted(before.index) == sorted(after.index)
    after = after.loc[before.index]
    same = ["arrival", "arrival_wd", "region", "size"]
    assert before[same].equals(after[same])  # every case keeps its arrival and its draws
    in_scope = (before["arrival"].dt.date >= FROM) & (before["region"] == "main_urban")
    assert in_scope.any() and (~in_scope).any()
    assert (before.loc[in_scope, "elapsed_wd"] - after.loc[in_scope, "elapsed_wd"]).round(9).eq(1.5).all()
    untouched = before.columns.drop(["connected", "finished"], errors="ignore")
    assert before.loc[~in_scope, untouched].equals(after.loc[~in_scope, untouched])


def test_an_unscoped_measure_applies_from_its_date_to_every_case():
    everyone = {**FASTER_CHECK, "where": None}
    del everyone["where"]
    before = sim.run(scenario(), reps=1).cases.set_index("case_id")
    after = sim.run(scenario([everyone]), reps=1).cases.set_index("case_id").loc[before.index]
    due = before["arrival"].dt.date >= FROM
    saved = (before["elapsed_wd"] - after["elapsed_wd"]).round(9)
    assert saved[due].eq(1.5).all() and saved[~due].eq(0).all()


def test_every_combination_is_composed_and_checked_at_load():
    both = [FASTER_CHECK, {"from": "2021-06-01", "changes": {"segments": {"seg": {"flow": ["intake"]}}}}]
    sc = scenario(both)
    assert sc.under((0,)).stages["check"].duration.value == 0.5
    assert sc.under((1,)).segments["seg"].flow == ["intake"]
    assert sc.under((0, 1)).stages["check"].duration.value == 0.5
    bad = [{"from": "2021-06-01", "changes": {"segments": {"seg": {"flow": ["intake", "chek"]}}}}]
    with pytest.raises(ScenarioError, match="chek"):
        scenario(bad)


@pytest.mark.parametrize(
    ("measure", "message"),
    [
        (
            {"from": "2021-06-01", "changes": {"resources": {"desk": {"capacity": 2, "hours_per_day": 6}}}},
            "a dated measure cannot change desk: declare it in the scenario itself",
        ),
        (
            {"from": "2021-06-01", "where": {"region": "other"}, "changes": {"materials": {}}},
            "a measure with `where` cannot change `materials`",
        ),
        (
            {
                "from": "2021-06-01",
                "where": {"region": "other"},
                "changes": {"segments": {"seg": {"attributes": {"size": {"max": 2}}}}},
            },
            "a measure with `where` changes only the flow and the targets of a segment",
        ),
        (
            {"from": "2021-06-01", "changes": {"horizon": {"arrival_days": 10}}},
            "a dated measure cannot change `horizon`: it belongs to the scenario itself",
        ),
    ],
)
def test_what_a_dated_measure_may_not_change_is_refused(measure, message):
    with pytest.raises(ScenarioError, match=message.replace("`", ".").replace("(", ".").replace(")", ".")):
        scenario([measure])


def test_a_measure_file_is_read_relative_to_the_scenario_and_errors_point_into_it(tmp_path):
    (tmp_path / "measures").mkdir()
    (tmp_path / "measures" / "faster.yaml").write_text(
        textwrap.dedent(
            """\
            name: faster
            stages:
              check:
                duration: {dist: fixed, value: 0.5}
            """
        )
    )
    base = tmp_path / "base.yaml"
    data = scenario().to_dict()
    import yaml

    data["measures"] = [{"file": "measures/faster.yaml", "from": "2021-04-01"}]
    base.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    loaded = sim.load_scenario(base)
    assert loaded.measures[0].changes == {"name": "faster", "stages": {"check": {"duration": fixed(0.5)}}}
    assert loaded.under((0,)).stages["check"].duration.value == 0.5
    (tmp_path / "measures" / "faster.yaml").write_text(
        "name: faster\nstages:\n  check:\n    duration: fast\n"
    )
    with pytest.raises(ScenarioError, match=r"measures/faster.yaml:4: .*duration"):
        sim.load_scenario(base)


def test_staff_added_at_a_date_take_the_waiting_cases_and_count_in_the_hours_available():
    """One member and two cases a day of one day's work: the queue grows until two more members
    join on 1 April; utilisation is hours held over the hours available as they were."""
    data = tiny_scenario(
        {"serve": {"label": "serve", "owner": "utility", "pool": "desk", "effort": work(1.0)}},
        ["serve"],
        resources={"desk": staff(1)},
        arrivals={"every": 0.5},
        days=160,
    )
    data["horizon"]["start"] = "2021-01-04"
    data["measures"] = [{"from": "2021-04-01", "changes": {"resources": {"desk": {"capacity": 3}}}}]
    result = sim.run(sim.scenario_from_dict(data), reps=1)
    pool = result.pools.set_index("pool").loc["desk"]
    assert pool["capacity"] == 3
    cases = result.cases
    early = cases[cases["arrival"].dt.date < date(2021, 2, 1)]["elapsed_wd"]
    late = cases[cases["arrival"].dt.date >= date(2021, 7, 15)]["elapsed_wd"]  # backlog gone
    assert late.max() < early.max()
    assert late.max() == pytest.approx(1.0)  # no wait once the backlog is gone
    # until the date 1 of 1 member busy, then 3 of 3 while the backlog lasts, then 2 of 3
    assert 2 / 3 < pool["utilisation"] <= 1.0
    assert pool["n_served"] == len(cases)


def test_targets_are_judged_per_year_only_when_dated_measures_change_them():
    tighter = {
        "from": "2021-03-01",
        "changes": {"segments": {"seg": {"targets": [{"measure": "elapsed", "days": 2, "share": 0.9}]}}},
    }
    data = scenario().to_dict()
    data["segments"]["seg"]["targets"] = [{"measure": "elapsed", "days": 3, "share": 0.9}]
    data["measures"] = [FASTER_CHECK]  # changes a stage, not the targets
    same = sim.run(sim.scenario_from_dict(data), reps=2).targets
    assert set(same["period"]) == {"all"} and len(same) == 2
    data = scenario().to_dict()
    data["horizon"]["arrival_days"] = 300  # into 2022
    data["segments"]["seg"]["targets"] = [{"measure": "elapsed", "days": 3, "share": 0.9}]
    data["measures"] = [{**tighter, "from": "2022-01-04"}]
    yearly = sim.run(sim.scenario_from_dict(data), reps=2).targets
    assert set(yearly["period"]) == {"2021", "2022"}
    assert yearly.groupby("period")["bound_days"].first().to_dict() == {"2021": 3, "2022": 2}
