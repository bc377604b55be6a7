"""Warm start from a backlog (docs/warm-start.md): a run that begins at a cut-off date with the open
cases of an event log in their stages.

Exact tests build a small log by hand (times at midnight, so working times are whole numbers) and
check a case's times and clocks to the digit; the statistical test cuts a simulated log in the
middle, warm-starts from its open cases and checks that the cut run reproduces the uncut run's
KPIs within their intervals."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from builders import fixed, staff, tiny_scenario, work
from scipy import stats

import sim
from sim.engine.backlog import remaining
from sim.engine.model import calendar_for
from sim.evidence.log_reading import LogError, log_from_frame, read_log
from sim.experiments.warm_start import warm_start
from sim.outputs.event_log import write_events
from sim.scenario import scenario_from_dict
from sim.scenario.distributions import Exponential, Fixed

CUT = dt.date(2021, 3, 8)  # a Monday; 2021-03-01 is the Monday before (no holiday in between)


def log_of(rows: list[tuple], **case_attributes: dict) -> pd.DataFrame:
    """An event table from (case, stage, transition, 'YYYY-MM-DD[ HH:MM]'); ``case_attributes`` gives
    ``case:NAME`` columns by case (XES trace attributes as pm4py tables them)."""
    frame = pd.DataFrame(rows, columns=["case:concept:name", "concept:name", "lifecycle:transition", "day"])
    frame["time:timestamp"] = pd.to_datetime(frame.pop("day"), format="ISO8601")
    frame["segment"] = "seg"
    for name, by_case in case_attributes.items():
        frame[f"case:{name}"] = frame["case:concept:name"].map(by_case)
    return frame


SEQUENCE = {
    "review": {"label": "Review", "owner": "utility", "duration": fixed(2), "handling": True},
    "works": {"label": "Works", "owner": "customer", "duration": fixed(10)},
    "connect": {"label": "Connect", "owner": "utility", "duration": fixed(3), "handling": True},
}


def sequence_scenario():
    data = tiny_scenario(
        SEQUENCE,
        ["review", "works", "connect"],
        attributes={"important": {"dist": "bernoulli", "p": 0.5}},
        arrivals={"at": [25.0]},
    )
    return scenario_from_dict(data)


def test_a_case_open_in_a_fixed_stage_finishes_on_time_with_its_observed_clocks_kept():
    log = log_of(
        [
            ("A", "review", "schedule", "2021-03-01"),
            ("A", "review", "start", "2021-03-01"),
            ("A", "review", "complete", "2021-03-03"),  # 2 working days of the utility
            ("A", "works", "schedule", "2021-03-03"),
            ("A", "works", "start", "2021-03-03"),  # 3 working days run at the cut-off: 7 to go
            ("F", "review", "start", "2021-03-01"),
            ("F", "review", "complete", "2021-03-02"),
            ("F", "works", "start", "2021-03-02"),
            ("F", "works", "complete", "2021-03-03"),
            ("F", "connect", "start", "2021-03-03"),
            ("F", "connect", "complete", "2021-03-04"),  # finished before the cut-off
            ("A", "connect", "start", "2021-03-20"),  # after the cut-off: not seen
        ],
        important={"A": True, "F": False},
    )
    run = warm_start(sequence_scenario(), log_from_frame(log), CUT, reps=1, events=True)
    assert run.reading.placed == 1 and run.reading.finished == 1 and run.reading.unplaced.empty
    assert run.reading.drawn == {}
    case = run.result.cases.set_index("case_id").loc["log/A"]
    assert case["warm_started"] and case["finished"] and case["important"]
    # works ends 7 working days after the cut-off (Tue 16 March), connect 3 later (Fri 19 March)
    assert case["connected_wd"] == 10.0
    assert case["arrival_wd"] == -5.0  # Mon 1 to Mon 8 March: 5 working days before the cut-off
    assert case["elapsed_wd"] == 15.0
    assert (case["utility_wd"], case["customer_wd"], case["government_wd"]) == (5.0, 10.0, 0.0)
    assert case["handling_wd"] == 5.0 and case["full_process_wd"] == 5.0
    # calendar days: review 1-3 March (2) + connect 17-20 March (3); works 3-17 March (14)
    assert (case["utility_cd"], case["customer_cd"], case["elapsed_cd"]) == (5.0, 14.0, 19.0)
    assert case["arrival"] == pd.Timestamp("2021-03-01") and case["connected"] == pd.Timestamp("2021-03-20")
    events = run.result.events
    mine = events[events["case:concept:name"] == "log/A"]
    assert list(zip(mine["concept:name"], mine["lifecycle:transition"], mine["time_wd"])) == [
        ("works", "complete", 7.0),
        ("connect", "schedule", 7.0),
        ("connect", "start", 7.0),
        ("connect", "complete", 10.0),
    ]
    new = run.result.cases[~run.result.cases["warm_started"]]
    assert list(new["arrival_wd"]) == [25.0]  # the new applications keep their own numbers


def test_a_member_at_work_goes_on_and_cases_waiting_ask_again_in_the_order_they_came():
    stages = {"visit": {"label": "Visit", "owner": "utility", "pool": "clerk", "effort": work(1)}}
    data = tiny_scenario(stages, ["visit"], resources={"clerk": staff(1)}, arrivals={"at": [25.0]})
    log = log_of(
        [
            ("C", "visit", "schedule", "2021-03-03"),
            ("C", "visit", "start", "2021-03-05 12:00"),  # half its day of work done at the cut-off
            ("B", "visit", "schedule", "2021-03-04"),
            ("A", "visit", "schedule", "2021-03-05"),
        ]
    )
    run = warm_start(scenario_from_dict(data), log_from_frame(log), CUT, reps=1, events=True)
    cases = run.result.cases.set_index("case_id")
    assert cases.loc[["log/C", "log/B", "log/A"], "connected_wd"].tolist() == [0.5, 1.5, 2.5]
    # B waited Thursday and Friday before the cut-off, then half a day, then worked one
    assert cases.loc["log/B", "utility_wd"] == 3.5
    starts = run.result.events.query("`lifecycle:transition` == 'start'")
    # C had started already; the new application of day 25 starts as usual
    assert starts["case:concept:name"].tolist() == ["log/B", "log/A", "seg:0"]


def test_a_started_visit_draws_its_rest_given_the_time_it_has_been_served():
    """An effort of one day on average (exponential) then a lead time of 2 days: a visit that started
    2.5 working days before the cut-off is drawn given work + 2 > 2.5, i.e. work W > 0.5 day. Its
    rest after the cut-off is W - 0.5 whether the member is still at work (W > 2.5: the rest of the
    work, then the 2 days) or the lead time is running; memoryless, it is a fresh exponential of
    mean 1 day (restarting the whole service would give 3)."""
    stages = {
        "visit": {
            "label": "Visit",
            "owner": "utility",
            "pool": "clerk",
            "effort": {"dist": "exponential", "mean": 8.0},
            "lead_time": fixed(2),
        }
    }
    data = tiny_scenario(stages, ["visit"], resources={"clerk": staff(None)}, arrivals={"at": [25.0]})
    rows = [(f"V{i}", "visit", "start", "2021-03-01 12:00") for i in range(200)]
    rows.append(("Z", "visit", "schedule", "2021-03-03"))  # the log goes on to the day before the cut-off
    run = warm_start(scenario_from_dict(data), log_from_frame(log_of(rows)), dt.date(2021, 3, 4), reps=1)
    cases = run.result.cases
    rest = cases[cases["case_id"].str.startswith("log/V")]["connected_wd"]
    assert len(rest) == 200 and (rest > 0).all()
    assert 1.0 - 0.2 < rest.mean() < 1.0 + 0.2  # its standard error: 1 / sqrt(200) = 0.07
    still_at_work = (rest > 2.0).mean()  # W > 2.5 given W > 0.5: exp(-2) = 0.135
    assert 0.135 - 0.075 < still_at_work < 0.135 + 0.075  # 3 standard errors (0.024)


def test_a_case_inside_a_parallel_step_resumes_each_open_branch_under_the_clock_stop_rule():
    stages = {
        **SEQUENCE,
        "approval": {"label": "Approval", "owner": "government", "duration": fixed(4)},
    }
    flow = ["review", {"parallel": [["works"], ["approval"]]}, "connect"]
    data = tiny_scenario(stages, flow, arrivals={"at": [25.0]})
    log = log_of(
        [
            ("P", "review", "start", "2021-03-01"),
            ("P", "review", "complete", "2021-03-03"),
            ("P", "works", "start", "2021-03-03"),  # 7 days to go
            ("P", "approval", "start", "2021-03-03"),  # 1 day to go
            ("G", "review", "start", "2021-03-01"),
            ("G", "review", "complete", "2021-03-03"),
            ("G", "works", "start", "2021-03-03"),
            ("G", "works", "complete", "2021-03-04"),  # the customer is done: government's clock
            ("G", "approval", "start", "2021-03-03"),  # 1 day to go
            ("X", "review", "start", "2021-03-01"),  # its complete is lost: it went on
            ("X", "works", "start", "2021-03-03"),
            ("X", "approval", "start", "2021-03-05"),  # the log's last day: Friday
        ]
    )
    run = warm_start(scenario_from_dict(data), log_from_frame(log), CUT, reps=1)
    assert run.reading.unplaced[["case", "reason"]].values.tolist() == [
        ["log/X", "likely lost record: a stage lacks its complete, yet the case went on"]
    ]
    cases = run.result.cases.set_index("case_id")
    columns = ["connected_wd", "elapsed_wd", "utility_wd", "government_wd", "customer_wd"]
    # P: the customer's works hold the clock until they end, 7 days after the cut-off
    assert cases.loc["log/P", columns].tolist() == [10.0, 15.0, 5.0, 0.0, 10.0]
    # G: approval's clock from Thursday (2 days) and 1 after the cut-off, then connect
    assert cases.loc["log/G", columns].tolist() == [4.0, 9.0, 5.0, 3.0, 1.0]
    assert "log/X" not in cases.index


def test_a_case_in_a_rework_fix_finishes_it_then_repeats_the_stage_it_fixes():
    stages = {
        "inspect": {
            "label": "Inspect",
            "owner": "utility",
            "duration": fixed(1),
            "rework": {"probability": 1.0, "fix": "repair", "max_attempts": 2},
        },
        "repair": {"label": "Repair", "owner": "customer", "duration": fixed(4)},
    }
    data = tiny_scenario(stages, ["inspect"], arrivals={"at": [25.0]})
    log = log_of(
        [
            ("K", "inspect", "start", "2021-03-02"),
            ("K", "inspect", "complete", "2021-03-03"),  # failed: the customer repairs
            ("K", "repair", "start", "2021-03-03"),  # 3 of its 4 days run at the cut-off
            ("L", "inspect", "start", "2021-03-05"),
        ]
    )
    run = warm_start(scenario_from_dict(data), log_from_frame(log), CUT, reps=1, events=True)
    cases = run.result.cases.set_index("case_id")
    columns = ["connected_wd", "elapsed_wd", "utility_wd", "customer_wd", "reworks"]
    # repair ends 1 day after the cut-off, then inspect's second (and last) attempt: 1 day
    assert cases.loc["log/K", columns].tolist() == [2.0, 6.0, 2.0, 4.0, 1]
    events = run.result.events
    mine = events[events["case:concept:name"] == "log/K"]
    assert list(zip(mine["concept:name"], mine["lifecycle:transition"], mine["attempt"])) == [
        ("repair", "complete", 0),
        ("inspect", "schedule", 1),
        ("inspect", "start", 1),
        ("inspect", "complete", 1),
    ]


def test_a_cut_off_outside_the_log_is_refused_in_one_line():
    log = log_from_frame(log_of([("A", "review", "start", "2021-03-01")]))
    for day in (dt.date(2021, 3, 1), dt.date(2021, 3, 3)):
        with pytest.raises(
            LogError, match=r"outside the log's span \(2021-03-01 to 2021-03-01\); give a date"
        ):
            warm_start(sequence_scenario(), log, day, reps=1)


def test_the_rest_of_a_duration_is_drawn_conditioned_on_the_time_it_has_run():
    exponential = Exponential(dist="exponential", mean_=2.0)
    for u in (0.1, 0.5, 0.9):  # memoryless: the rest is a fresh exponential
        fresh = float(exponential.ppf(np.array([u]))[0])
        assert remaining(exponential, 5.0, u) == pytest.approx(fresh, abs=1e-9)
    ten = Fixed(dist="fixed", value=10.0)
    assert remaining(ten, 3.0, 0.4) == 7.0
    assert remaining(ten, 12.0, 0.4) == 0.0  # already over: it ends at the cut-off


@pytest.mark.slow
def test_a_run_warm_started_from_its_own_log_cut_in_the_middle_reproduces_its_kpis(tmp_path):
    """Cut a simulated log (XES, with the cases' attributes) at 1 June 2021 (working day 64 of the
    run), warm-start from its open cases (many inside a parallel step) and run to the end of the
    same arrivals. The backlog's
    cases are the uncut run's cases open at the cut-off, with their logged attributes: their KPIs
    are compared by replication (paired); the cases applying after the cut-off by Welch's test.
    Twelve intervals, each at 1 - 0.05/12 (Bonferroni: 95% jointly)."""
    stages = {
        "accept": {
            "label": "Accept",
            "owner": "utility",
            "pool": "clerk",
            "effort": {"dist": "exponential", "mean": 4.0},
            "handling": True,
        },
        "works": {
            "label": "Works",
            "owner": "customer",
            "duration": {"dist": "lognormal", "mean": 10, "cv": 0.8},
        },
        "approval": {
            "label": "Approval",
            "owner": "government",
            "duration": {"dist": "gamma", "mean": 6, "cv": 0.5},
        },
        "connect": {
            "label": "Connect",
            "owner": "utility",
            "pool": "crew",
            "effort": {"dist": "exponential", "mean": 6.0},
            "lead_time": fixed(1),
            "handling": True,
        },
    }
    flow = ["accept", {"parallel": [["works"], [{"stage": "approval", "when": {"route": True}}]]}, "connect"]
    resources = {"clerk": staff(2), "crew": staff(2)}
    route = {"route": {"dist": "bernoulli", "p": 0.4}}
    data = tiny_scenario(stages, flow, attributes=route, resources=resources, per_day=2.5, days=120)
    scenario = scenario_from_dict(data)
    reps = 10
    uncut = sim.run(scenario, reps=reps, events=True)
    path = write_events(uncut.events, tmp_path, "xes", cases=uncut.cases)
    cut = dt.date(2021, 6, 1)
    c = calendar_for(scenario).working_time(float((cut - scenario.horizon.start).days))
    rest = scenario.horizon.model_copy(update={"arrival_days": scenario.horizon.arrival_days - c})
    warm = warm_start(scenario.model_copy(update={"horizon": rest}), read_log(path), cut, reps=reps)
    assert warm.reading.drawn == {} and warm.reading.unplaced.empty
    u, w = uncut.cases, warm.result.cases
    u_backlog = u[(u["arrival_wd"] < c) & (~u["finished"] | (u["connected_wd"] > c))]
    w_backlog = w[w["warm_started"]]
    assert len(u_backlog) == len(w_backlog) == warm.reading.placed > 200
    same = w_backlog.assign(case_id=w_backlog["case_id"].str.replace(r"^log/r\d+/", "", regex=True))
    paired = u_backlog.merge(same, on=["replication", "case_id"], suffixes=("", "_warm"))
    assert len(paired) == len(u_backlog)  # the same cases, with the attributes they had
    assert (paired["route"] == paired["route_warm"]).all()
    # applied when the log says (its timestamps are to the second)
    assert np.allclose(paired["arrival_wd"] - c, paired["arrival_wd_warm"], atol=2e-5)
    assert w["finished"].all()
    u_new, w_new = u[u["arrival_wd"] >= c], w[~w["warm_started"]]
    alpha = 0.05 / 12
    t_paired = stats.t.ppf(1 - alpha / 2, reps - 1)
    for measure in ("elapsed_wd", "utility_wd", "customer_wd", "government_wd", "handling_wd", "elapsed_cd"):
        before = u_backlog.groupby("replication")[measure].mean()
        after = w_backlog.groupby("replication")[measure].mean()
        diff = after - before
        half = t_paired * diff.std(ddof=1) / np.sqrt(reps)
        assert abs(diff.mean()) <= half, (measure, "backlog", diff.mean(), half)
        a = u_new.groupby("replication")[measure].mean()
        b = w_new.groupby("replication")[measure].mean()
        assert stats.ttest_ind(a, b, equal_var=False).pvalue > alpha, (measure, "new", a.mean(), b.mean())


def test_a_warm_start_gives_the_same_tables_on_any_number_of_workers():
    stages = {
        "visit": {
            "label": "Visit",
            "owner": "utility",
            "pool": "clerk",
            "effort": {"dist": "exponential", "mean": 6},
        },
        "works": {"label": "Works", "owner": "customer", "duration": {"dist": "gamma", "mean": 5, "cv": 0.5}},
    }
    data = tiny_scenario(stages, ["visit", "works"], resources={"clerk": staff(2)}, per_day=2.0, days=40)
    scenario = scenario_from_dict(data)
    log = log_from_frame(sim.run(scenario, reps=1, events=True).events)
    one, two = (warm_start(scenario, log, dt.date(2021, 3, 22), reps=3, jobs=jobs) for jobs in (1, 2))
    assert one.result.cases["warm_started"].sum() == 3 * one.reading.placed > 0
    pd.testing.assert_frame_equal(one.result.cases, two.result.cases)
    pd.testing.assert_frame_equal(one.result.kpis, two.result.kpis)
