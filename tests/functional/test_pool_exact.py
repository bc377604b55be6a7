"""Pools, exactly, in SimPy's style: a few cases at fixed times, fixed service, and the log of
what happened when. Every number below follows from first-come first-served by hand."""

from __future__ import annotations

import pytest
from builders import fixed, tiny_scenario

import sim
from sim.scenario import scenario_from_dict

SERVE = {"serve": {"label": "Serve", "owner": "utility", "pool": "desk", "duration": fixed(2)}}


def _run(arrivals: list[float], capacity: int, service: float):
    stages = {"serve": {**SERVE["serve"], "duration": fixed(service)}}
    data = tiny_scenario(
        stages, ["serve"], resources={"desk": {"capacity": capacity}}, days=5, arrivals={"at": arrivals}
    )
    return sim.run(scenario_from_dict(data), reps=1, events=True)


def _log(result) -> list[tuple[str, str, float]]:
    ev = result.events
    rows = zip(ev["case:concept:name"], ev["lifecycle:transition"], ev["time_wd"])
    return [(case, transition, round(t, 9)) for case, transition, t in rows]


def test_one_server_serves_three_cases_first_come_first_served():
    result = _run([0, 0.5, 1], capacity=1, service=2)
    # seg:0 is served at once; seg:1 (arrived 0.5) waits for it until 2; seg:2 (arrived 1) until 4
    assert sorted(_log(result), key=lambda r: (r[2], r[0])) == [
        ("seg:0", "schedule", 0.0),
        ("seg:0", "start", 0.0),
        ("seg:1", "schedule", 0.5),
        ("seg:2", "schedule", 1.0),
        ("seg:0", "complete", 2.0),
        ("seg:1", "start", 2.0),
        ("seg:1", "complete", 4.0),
        ("seg:2", "start", 4.0),
        ("seg:2", "complete", 6.0),
    ]
    cases = result.cases.set_index("case_id")
    assert list(cases["connected_wd"]) == [2.0, 4.0, 6.0]
    assert list(cases["elapsed_wd"]) == [2.0, 3.5, 5.0]
    pool = result.pools.set_index("pool").loc["desk"]
    assert pool["n_served"] == 3
    assert pool["wait_wd_mean"] == pytest.approx((0 + 1.5 + 3) / 3)
    assert pool["wait_wd_max"] == pytest.approx(3)
    assert pool["utilisation"] == pytest.approx(1.0)  # busy from 0 to the end at 6


def test_two_servers_take_the_queue_in_arrival_order():
    result = _run([0, 0, 0, 1], capacity=2, service=3)
    starts = {case: t for case, transition, t in _log(result) if transition == "start"}
    # two start at once; the third (arrived at 0) and the fourth (at 1) both get a unit at 3
    assert starts == {"seg:0": 0.0, "seg:1": 0.0, "seg:2": 3.0, "seg:3": 3.0}
    order = [case for case, transition, _ in _log(result) if transition == "start"]
    assert order.index("seg:2") < order.index("seg:3")  # first come, first served
    pool = result.pools.set_index("pool").loc["desk"]
    assert pool["wait_wd_mean"] == pytest.approx((0 + 0 + 3 + 2) / 4)
    # busy unit-days 4 x 3 = 12 over 2 units x 6 days
    assert pool["utilisation"] == pytest.approx(12 / (2 * 6))


def test_a_fixed_interval_gives_evenly_spaced_applications():
    stages = {"serve": {**SERVE["serve"], "duration": fixed(0.5)}}
    desk = {"desk": {"capacity": 1}}
    data = tiny_scenario(stages, ["serve"], resources=desk, days=5, arrivals={"every": 1.25})
    result = sim.run(scenario_from_dict(data), reps=1)
    # arrivals at 1.25, 2.5, 3.75 (5 is outside [0, 5)): no queue, each served at once
    assert list(result.cases["arrival_wd"]) == [1.25, 2.5, 3.75]
    assert list(result.cases["elapsed_wd"]) == [0.5, 0.5, 0.5]
