"""Property-based tests: random valid scenarios never crash, and the invariants hold."""

from __future__ import annotations

import numpy as np
from builders import tiny_scenario
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim
from sim.scenario import scenario_from_dict

OWNERS = ("utility", "customer", "government")


def _triangular(draw, scale: float = 1.0) -> dict:
    lo = draw(st.floats(0, 2)) * scale
    mode = lo + draw(st.floats(0, 2)) * scale
    hi = mode + draw(st.floats(0, 3)) * scale
    return {"dist": "triangular", "min": lo, "mode": mode, "max": hi}


@st.composite
def scenarios(draw):
    n_stages = draw(st.integers(2, 5))
    n_pools = draw(st.integers(1, 3))
    resources = {
        f"pool{i}": {
            "capacity": draw(st.one_of(st.none(), st.integers(1, 3))),
            "hours_per_day": draw(st.floats(1, 10)),
            "dispatch": draw(st.sampled_from(["fifo", "deadline", "priority"])),
        }
        for i in range(n_pools)
    }
    stages = {}
    for i in range(n_stages):
        stage = {
            "label": f"stage {i}",
            "owner": draw(st.sampled_from(OWNERS)),
            "handling": draw(st.booleans()),
            "procedure": draw(st.sampled_from([None, "a", "b"])),
        }
        if draw(st.booleans()):  # staffed: one pool or two, one effort or one per pool
            pools = draw(st.lists(st.sampled_from(sorted(resources)), min_size=1, max_size=2, unique=True))
            stage["pool"] = pools
            if draw(st.booleans()):
                stage["effort"] = {p: _triangular(draw, 4.0) for p in pools}
            else:
                stage["effort"] = _triangular(draw, 4.0)
            if draw(st.booleans()):
                stage["lead_time"] = _triangular(draw)
            stage["site_visit"] = draw(st.booleans())
        else:
            stage["duration"] = _triangular(draw)
            stage["calendar"] = draw(st.sampled_from(["working", "calendar"]))
        if draw(st.booleans()):
            stage["when"] = {"flag": draw(st.booleans())}
        if draw(st.booleans()):
            stage["rework"] = {"probability": draw(st.floats(0, 1)), "max_attempts": draw(st.integers(1, 3))}
        stages[f"s{i}"] = stage
    names = sorted(stages)
    flow = [names[0]]
    if draw(st.booleans()) and n_stages >= 3:
        flow.append({"parallel": [[names[1]], [names[2]]]})
        flow += names[3:]
    else:
        flow += names[1:]
    attributes = {
        "flag": {"dist": "bernoulli", "p": draw(st.floats(0, 1))},
        "important": {"dist": "bernoulli", "p": draw(st.floats(0, 1))},
        "region": {"dist": "categorical", "values": {"near": 0.5, "far": 0.5}},
    }
    per_day = draw(st.floats(0.2, 2.0))
    data = tiny_scenario(stages, flow, attributes=attributes, resources=resources, per_day=per_day, days=15)
    data["travel"] = {"hours": {"near": _triangular(draw), "far": _triangular(draw, 2.0)}}
    if draw(st.booleans()):
        data["segments"]["seg"]["targets"] = [{"measure": "elapsed", "days": draw(st.floats(1, 20))}]
    return data


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.integers(0, 2**31))
def test_random_valid_scenarios_run_and_keep_the_invariants(data, seed):
    result = sim.run(scenario_from_dict(data), reps=1, seed=seed)
    kpis = result.kpis
    assert (kpis["n_finished"] <= kpis["n_cases"]).all()
    assert (kpis["n_open"] == kpis["n_cases"] - kpis["n_finished"]).all()
    cases = result.cases
    parts = cases["utility_wd"] + cases["government_wd"] + cases["customer_wd"]
    np.testing.assert_allclose(parts, cases["elapsed_wd"], atol=1e-9)
    np.testing.assert_allclose(
        cases["full_process_wd"], cases["utility_wd"] + cases["government_wd"], atol=1e-12
    )
    assert (cases["handling_wd"] <= cases["elapsed_wd"] + 1e-9).all()
    assert (cases["elapsed_wd"] >= -1e-12).all()
    util = result.pools["utilisation"].dropna()
    assert ((util >= 0) & (util <= 1 + 1e-9)).all()
    share = kpis["on_target_share"].dropna()
    assert ((share >= 0) & (share <= 1)).all()
