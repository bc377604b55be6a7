"""Cases computed a chunk at a time (``sim.engine.batch``) or at their application against the
event loop, at the edges: times that no single SimPy delay reaches exactly, a connection at the
drain cap, and cases that end at the same instant (the rows' order is the table's own: end,
application, segment, number)."""

from __future__ import annotations

import copy

import pandas as pd
import pytest
from builders import fixed, tiny_scenario

from sim.engine.cases import delay_until, toward
from sim.engine.model import ConnectionModel
from sim.scenario import scenario_from_dict
from sim.scenario.errors import ScenarioError

# from 8.047..., no delay makes SimPy's clock read 29.236... (the sums round past it)
FROM, UNREACHABLE = 8.047076010655585, 29.23612070935543


def _same_tables(data: dict) -> None:
    """One replication with cases computed ahead and one in the event loop alone give the same
    tables and end."""
    scenario = scenario_from_dict(data)
    ahead, looped = ConnectionModel(scenario, 0).run(), ConnectionModel(scenario, 0, events=True).run()
    for table in ("cases", "pools"):
        pd.testing.assert_frame_equal(getattr(ahead, table), getattr(looped, table), check_exact=True)
    assert ahead.end_wd == looped.end_wd


def _one_stage(duration: dict, **more) -> dict:
    return {"only": {"label": "only", "owner": "customer", "duration": duration, **more}}


def test_toward_reaches_a_time_no_single_delay_reaches():
    assert FROM + delay_until(FROM, UNREACHABLE) != UNREACHABLE
    now = FROM + toward(FROM, UNREACHABLE)
    assert now < UNREACHABLE and now + toward(now, UNREACHABLE) == UNREACHABLE


def test_a_case_applying_at_a_time_no_delay_reaches_starts_then_in_the_loop_as_in_a_chunk():
    data = tiny_scenario(
        _one_stage({"dist": "uniform", "min": 1, "max": 3}), ["only"], arrivals={"at": [FROM, UNREACHABLE]}
    )
    _same_tables(data)


def test_a_case_walked_at_its_application_after_a_chunk_starts_at_its_application():
    # cases 0 and 3 skip the stage (connected as they apply: walked one at a time), 1 and 2 are
    # computed in a chunk; the arrivals then go from case 0's time straight to case 3's
    data = tiny_scenario(
        _one_stage(fixed(1), when={"skip": False}),
        ["only"],
        arrivals={"at": [FROM, 15.0, 22.0, UNREACHABLE]},
        attributes={"skip": {"dist": "bernoulli", "p": 0.5}},
    )
    data["seed"] = 24  # skip: True, False, False, True
    _same_tables(data)


def test_the_run_ends_at_the_last_connection_computed_ahead_where_no_delay_reaches_it():
    data = tiny_scenario(_one_stage(fixed(23.89817238923509)), ["only"], arrivals={"at": [1]}, days=FROM)
    _same_tables(data)  # the last connection, 24.898..., is out of one delay's reach from 8.047...


def test_a_case_connected_exactly_at_the_drain_cap_is_connected_as_in_the_event_loop():
    data = tiny_scenario(_one_stage(fixed(20)), ["only"], arrivals={"at": [0, 1]}, days=10)
    data["horizon"]["drain_days"] = 10  # case 0 connects at 20, the cap; case 1 is cut
    _same_tables(data)


def test_cases_of_two_segments_that_end_at_the_same_instant_come_in_order_of_application_then_segment():
    stages = {"short": _one_stage(fixed(1))["only"], "long": _one_stage(fixed(2))["only"]}
    data = tiny_scenario(stages, ["short"], arrivals={"every": 1}, days=10)
    data["segments"]["b"] = {**copy.deepcopy(data["segments"]["seg"]), "label": "B", "flow": ["long"]}
    _same_tables(data)  # seg:n+1 and b:n both end at n+3
    cases = ConnectionModel(scenario_from_dict(data), 0).run().cases
    key = list(zip(cases["connected_wd"], cases["arrival_wd"], cases["segment"], cases["case_number"]))
    assert key == sorted(key) and len(set(cases["connected_wd"])) < len(cases)  # ties, in order


@pytest.mark.parametrize("zero", [False, True])
def test_cases_of_one_segment_that_end_at_the_same_instant_come_in_one_order_either_way(zero):
    """Cases that end at one instant after different waits (or as they apply, ``zero``): the event
    loop adds their rows in the order their last waits began, a case computed ahead as it
    applies; the table's order is theirs either way (end, application, segment, number)."""
    stages = {
        "a": {
            "label": "a",
            "owner": "utility",
            "duration": fixed(1.5 if not zero else 4.5),
            "when": {"k": "x"},
        },
        "b": {"label": "b", "owner": "customer", "duration": fixed(0.5), "when": {"k": "x"}},
    }
    if not zero:  # the other way, shorter first
        stages["a2"] = {"label": "a2", "owner": "utility", "duration": fixed(0.25), "when": {"k": "y"}}
        stages["b2"] = {"label": "b2", "owner": "customer", "duration": fixed(0.75), "when": {"k": "y"}}
    data = tiny_scenario(
        stages,
        list(stages),
        arrivals={"at": [float(i) for i in range(11)]},
        attributes={"k": {"dist": "categorical", "values": {"x": 0.5, "y": 0.5}}},
    )
    data["seed"] = 11 if not zero else 1
    _same_tables(data)


def _staffed_desk(measures: list) -> dict:
    """Cases through one unlimited pool (6 hours a day, effort 3: half a day a visit), with
    ``measures`` dated on its hours."""
    stages = {"desk": {"label": "desk", "owner": "utility", "pool": "office", "effort": fixed(3)}}
    resources = {"office": {"capacity": None, "hours_per_day": 6}}
    data = tiny_scenario(stages, ["desk"], resources=resources, per_day=3, days=20)
    data["measures"] = measures
    return data


@pytest.mark.parametrize("day", ["2021-02-01", "2021-03-01"])
def test_a_measure_dated_on_or_before_the_start_staffs_the_pools_from_the_start(day):
    """Staff and stock follow the measures in force at the start (its ``from`` on or before
    ``horizon.start``: in force from time 0), as a case's rules do. They were left as the
    scenario has them: ``_dated_staff_and_stock`` adjusts at the dates after the start only."""
    data = _staffed_desk([{"from": day, "changes": {"resources": {"office": {"hours_per_day": 3}}}}])
    _same_tables(data)
    run = ConnectionModel(scenario_from_dict(data), 0).run()
    assert run.pools.set_index("pool").loc["office", "hours_per_day"] == 3.0
    spent = run.cases["connected_wd"] - run.cases["arrival_wd"]
    assert len(spent) > 20 and (spent - 1.0).abs().max() < 1e-9  # 3 hours of 3 a day


def test_a_pools_hours_changed_back_by_a_later_measure_keep_its_cases_in_the_loop():
    """Hours set at the start (3) and back to the scenario's (6) on 15 March: the pool changes,
    though its hours then equal the scenario's own (``Rules.changing`` compares with the start)."""
    hours = [("2021-03-01", 3), ("2021-03-15", 6)]
    measures = [{"from": d, "changes": {"resources": {"office": {"hours_per_day": h}}}} for d, h in hours]
    data = _staffed_desk(measures)
    _same_tables(data)
    spent = ConnectionModel(scenario_from_dict(data), 0).run().cases
    spent = spent["connected_wd"] - spent["arrival_wd"]
    assert ((spent - 1.0).abs() < 1e-9).any() and ((spent - 0.5).abs() < 1e-9).any()


def test_cases_of_a_segment_without_attributes_under_dated_measures_are_computed():
    """A chunk's cases take their scopes from their attributes: a segment without any has a scope
    for each case all the same (zipping no columns gave none, and every counted case was lost)."""
    measure = {"from": "2021-03-15", "changes": {"stages": {"only": {"duration": fixed(1)}}}}
    data = tiny_scenario(_one_stage(fixed(2)), ["only"], per_day=3, days=20)
    data["measures"] = [measure]
    _same_tables(data)
    cases = ConnectionModel(scenario_from_dict(data), 0).run().cases
    assert len(cases) > 40 and set((cases["connected_wd"] - cases["arrival_wd"]).round(9)) == {1.0, 2.0}


def test_a_measure_that_changes_when_applications_arrive_is_refused_at_load():
    """A run's arrival processes are the scenario's own: a dated measure that changed a rate was
    ignored, both ways (chunks and event loop). It is refused, in one line; routing may change."""
    measure = {
        "from": "2021-03-15",
        "changes": {"segments": {"seg": {"arrivals": {"per_working_day": 0.01}}}},
    }
    data = tiny_scenario(_one_stage(fixed(2)), ["only"], per_day=3, days=20)
    data["measures"] = [measure]
    with pytest.raises(
        ScenarioError,
        match=r"measures\[0\]\.changes\.segments\.seg\.arrivals\.per_working_day: "
        r"a dated measure cannot change when applications arrive",
    ):
        scenario_from_dict(data)
