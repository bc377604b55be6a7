"""Validation against queueing theory: a single pool of c members with Poisson arrivals and
exponential effort (no lead time, no travel) is an M/M/c queue, whose mean wait in queue is given
by the Erlang C formula."""

from __future__ import annotations

import math

import numpy as np
import pytest
from builders import staff, tiny_scenario
from scipy import stats

import sim
from sim.scenario import scenario_from_dict


def erlang_c_wait(arrival_rate: float, mean_service: float, servers: int) -> float:
    """Mean wait in queue of M/M/c."""
    load = arrival_rate * mean_service
    rho = load / servers
    top = load**servers / math.factorial(servers) / (1 - rho)
    bottom = sum(load**k / math.factorial(k) for k in range(servers)) + top
    prob_wait = top / bottom
    return prob_wait * mean_service / (servers * (1 - rho))


def _serve(mean_hours: float) -> dict:
    """One stage on the pool ``desk`` whose effort is exponential with ``mean_hours``."""
    effort = {"dist": "exponential", "mean": mean_hours}
    return {"serve": {"label": "serve", "owner": "utility", "pool": "desk", "effort": effort}}


@pytest.mark.slow
def test_single_pool_mean_wait_matches_erlang_c_within_its_interval():
    rate, mean_service, servers = 2.1, 1.0, 3  # rho = 0.7; service in working days
    hours_per_day = 6.0  # a member's effort of 6 hours on average is one working day of service
    stages = _serve(mean_service * hours_per_day)
    desk = {"desk": staff(servers, hours_per_day)}
    data = tiny_scenario(stages, ["serve"], resources=desk, per_day=rate, days=1500)
    data["horizon"].update(warmup_days=100, drain_days=50)
    data["calendar"] = {"beyond_published": "statutory_only"}  # working time is all that matters here
    result = sim.run(scenario_from_dict(data), reps=40, seed=2021, jobs=2)
    per_rep = result.pools["wait_wd_mean"].to_numpy()
    mean = per_rep.mean()
    half = stats.t.ppf(0.995, len(per_rep) - 1) * per_rep.std(ddof=1) / np.sqrt(len(per_rep))
    theory = erlang_c_wait(rate, mean_service, servers)  # 0.5470 working days
    assert abs(mean - theory) <= half, (mean, half, theory)
    # and the interval is tight enough to mean something (under 10% of the value)
    assert half < 0.1 * theory
    utilisation = result.pools["utilisation"].mean()
    assert abs(utilisation - 0.7) < 0.02


@pytest.mark.slow
def test_a_pool_shared_by_companies_is_one_m_m_c_queue_of_their_applications():
    """Two supply companies (shares 0.6 and 0.4) apply to one ``shared`` pool of 3 members: its
    mean wait is that of M/M/3 at their total rate, not of two smaller queues."""
    rate, mean_service, servers, hours_per_day = 2.1, 1.0, 3, 6.0
    stages = _serve(mean_service * hours_per_day)
    desk = {"desk": staff(servers, hours_per_day, shared=True)}
    data = tiny_scenario(stages, ["serve"], resources=desk, per_day=rate, days=1500)
    data["horizon"].update(warmup_days=100, drain_days=50)
    data["calendar"] = {"beyond_published": "statutory_only"}
    data["companies"] = {
        "a": {"label": "A", "region": "north", "share": 0.6},
        "b": {"label": "B", "region": "south", "share": 0.4},
    }
    result = sim.run(scenario_from_dict(data), reps=30, seed=2021, jobs=2)
    per_rep = result.pools["wait_wd_mean"].to_numpy()
    assert (result.pools["company"] == "shared").all() and len(per_rep) == 30
    half = stats.t.ppf(0.995, len(per_rep) - 1) * per_rep.std(ddof=1) / np.sqrt(len(per_rep))
    theory = erlang_c_wait(rate, mean_service, servers)  # 0.5470 working days
    assert abs(per_rep.mean() - theory) <= half, (per_rep.mean(), half, theory)
    assert half < 0.1 * theory
    # two separate pools of the same 3 members (2 + 1) would wait far longer
    apart = 0.6 * erlang_c_wait(0.6 * rate, mean_service, 2) + 0.4 * erlang_c_wait(
        0.4 * rate, mean_service, 1
    )
    assert apart > theory + 3 * half
