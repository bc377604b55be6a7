"""Pools, exactly, in SimPy's style: a few cases at fixed times, fixed service, and the log of
what happened when. Every number below follows from first-come first-served by hand."""

from __future__ import annotations

import pandas as pd
import pytest
from builders import fixed, staff, tiny_scenario, work

import sim
from sim.scenario import scenario_from_dict

SERVE = {"serve": {"label": "Serve", "owner": "utility", "pool": "desk", "effort": work(2)}}


def _run(arrivals: list[float], capacity: int, service: float):
    stages = {"serve": {**SERVE["serve"], "effort": work(service)}}
    data = tiny_scenario(
        stages, ["serve"], resources={"desk": staff(capacity)}, days=5, arrivals={"at": arrivals}
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
    # busy member-days 4 x 3 = 12 over 2 members x 6 days
    assert pool["utilisation"] == pytest.approx(12 / (2 * 6))


def test_a_fixed_interval_gives_evenly_spaced_applications():
    stages = {"serve": {**SERVE["serve"], "effort": work(0.5)}}
    desk = {"desk": staff(1)}
    data = tiny_scenario(stages, ["serve"], resources=desk, days=5, arrivals={"every": 1.25})
    result = sim.run(scenario_from_dict(data), reps=1)
    # arrivals at 1.25, 2.5, 3.75 (5 is outside [0, 5)): no queue, each served at once
    assert list(result.cases["arrival_wd"]) == [1.25, 2.5, 3.75]
    assert list(result.cases["elapsed_wd"]) == [0.5, 0.5, 0.5]


# ------------------------------------------------------------------------- dispatch rules


def _dispatch_run(rule: str):
    """One member, a day of work per case. a:0 arrives at 0 and is served at once; while it is
    served a:1 (0.1), b:0 (0.2, an important customer) and c:0 (0.3) queue. Their due dates
    (application + the segment's target): a:1 10.1, b:0 6.2, c:0 2.3."""
    stages = {"serve": {**SERVE["serve"], "effort": work(1)}}
    data = tiny_scenario(stages, ["serve"], resources={"desk": staff(1, dispatch=rule)}, days=5)
    segments = {}
    for name, at, target, important in [
        ("a", [0, 0.1], 10, False),
        ("b", [0.2], 6, True),
        ("c", [0.3], 2, False),
    ]:
        segments[name] = {
            "label": name,
            "arrivals": {"at": at},
            "attributes": {"important": important},
            "flow": ["serve"],
            "targets": [{"measure": "elapsed", "days": target}],
        }
    data["segments"] = segments
    result = sim.run(scenario_from_dict(data), reps=1, events=True)
    starts = [(case, t) for case, transition, t in _log(result) if transition == "start"]
    finished = result.cases.set_index("case_id")["connected_wd"].to_dict()
    return sorted(starts, key=lambda r: r[1]), finished


@pytest.mark.parametrize(
    ("rule", "order"),
    [
        ("fifo", ["a:0", "a:1", "b:0", "c:0"]),  # first come, first served
        ("deadline", ["a:0", "c:0", "b:0", "a:1"]),  # earliest due date: 2.3, 6.2, 10.1
        ("priority", ["a:0", "b:0", "a:1", "c:0"]),  # the important customer, then first come
    ],
)
def test_dispatch_rule_chooses_the_next_case_exactly(rule, order):
    starts, finished = _dispatch_run(rule)
    assert starts == [(case, float(n)) for n, case in enumerate(order)]  # one a day from 0
    assert finished == {case: float(n + 1) for n, case in enumerate(order)}


# ------------------------------------------------------------- work, lead time and travel


def test_two_pools_each_let_go_when_their_own_work_ends_then_the_lead_time_runs():
    """A joint visit: an inspector (4 h at 8 h a day: half a day) and a crew (12 h at 6 h a day:
    2 days), plus 2 hours of travel each (fixed for the case's region), then 1 day of lead time."""
    stages = {
        "visit": {
            "label": "Visit",
            "owner": "utility",
            "pool": ["inspector", "crew"],
            "site_visit": True,
            "effort": {"inspector": fixed(4), "crew": fixed(12)},
            "lead_time": fixed(1),
        }
    }
    resources = {"inspector": staff(1, 8), "crew": staff(1, 6)}
    data = tiny_scenario(stages, ["visit"], resources=resources, days=5, arrivals={"at": [0, 0.25]})
    data["segments"]["seg"]["attributes"] = {"region": "far"}
    data["travel"] = {"hours": {"far": fixed(2)}}
    result = sim.run(scenario_from_dict(data), reps=1)
    # case 0: inspector 0 to 0.75 ((4 + 2) / 8), crew 0 to 2.333 ((12 + 2) / 6), done at 3.333;
    # case 1 (0.25) asks for the crew first (pools are taken in name order) and waits for it until
    # 2.333, then gets the free inspector at once: its work ends at 4.667, it is done at 5.667
    connected = result.cases.set_index("case_id")["connected_wd"]
    assert connected["seg:0"] == pytest.approx(14 / 6 + 1)
    assert connected["seg:1"] == pytest.approx(2 * 14 / 6 + 1)
    pools = result.pools.set_index("pool")
    # the crew works 14 h per case: 2 x 14 h over 6 h a day and 1 member, the 14/3 + 1 = 5.667
    # days of the run (busy until the second case's work ends at 14/3)
    end = 2 * 14 / 6 + 1
    assert pools.loc["crew", "utilisation"] == pytest.approx((2 * 14 / 6) / end)
    assert pools.loc["crew", "wait_wd_mean"] == pytest.approx((0 + (14 / 6 - 0.25)) / 2)
    # the inspector: case 0 held it 0.75 days, case 1 from 2.333 to 3.083; it never had a queue
    assert pools.loc["inspector", "wait_wd_mean"] == 0
    assert pools.loc["inspector", "utilisation"] == pytest.approx((0.75 + 0.75) / end)


def test_pools_are_taken_in_name_order_whatever_order_they_are_written_in():
    """Two stages that both need an inspector and a crew, written in opposite orders: each takes
    the crew first (name order), so neither can hold one while waiting for the other's; the
    results are those of writing both in name order."""

    def run(first: list[str], second: list[str]) -> pd.DataFrame:
        stages = {
            "survey": {"label": "s", "owner": "utility", "pool": first, "effort": fixed(8)},
            "check": {"label": "c", "owner": "utility", "pool": second, "effort": fixed(8)},
        }
        resources = {"inspector": staff(1, 8), "crew": staff(1, 8)}
        data = tiny_scenario(
            stages, ["survey", "check"], resources=resources, days=5, arrivals={"at": [0, 0.5]}
        )
        return sim.run(scenario_from_dict(data), reps=1).cases

    named = run(["crew", "inspector"], ["crew", "inspector"])
    crossed = run(["inspector", "crew"], ["crew", "inspector"])
    pd.testing.assert_frame_equal(named, crossed)
    # case 0 surveys 0-1; case 1 (0.5) has waited for the crew since, so it gets both at 1 and
    # surveys 1-2 while case 0's check waits; case 0 checks 2-3, case 1 3-4
    assert named["connected_wd"].tolist() == pytest.approx([3, 4])


def test_a_variant_may_drop_the_staff_or_add_staff_to_a_stage_without():
    """A staffed stage whose variant has no staff (``pool: []``, a duration) and a stage without
    staff whose variant has some (a pool, an effort): each case takes its own way, exactly."""
    stages = {
        "visit": {
            "label": "Visit",
            "owner": "utility",
            "pool": "desk",
            "effort": work(2),
            "lead_time": fixed(1),
            "variants": [{"name": "remote", "when": {"remote": True}, "pool": [], "duration": fixed(0.5)}],
        },
        "works": {
            "label": "Works",
            "owner": "utility",
            "duration": fixed(4),
            "variants": [{"name": "ours", "when": {"remote": False}, "pool": "desk", "effort": work(1)}],
        },
    }
    data = tiny_scenario(
        stages, ["visit", "works"], resources={"desk": staff(2)}, days=5, arrivals={"at": [0]}
    )
    for remote, elapsed in [(True, 0.5 + 4), (False, 2 + 1 + 1)]:
        data["segments"]["seg"]["attributes"] = {"remote": remote}
        result = sim.run(scenario_from_dict(data), reps=1)
        assert result.cases["elapsed_wd"].tolist() == [pytest.approx(elapsed)], remote
