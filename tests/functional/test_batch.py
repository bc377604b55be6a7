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
