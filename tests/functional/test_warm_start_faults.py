"""Warm start from an untidy log (docs/warm-start.md, "Faults of the log"): likely lost records
are left out and counted, finished cases are ignored whatever their faults, unknown activities are
skipped, the count says which replications were run, attributes are inferred from the path, the
backlog has KPIs of its own and a date by which it is cleared, and the cut-off is checked per
replication. Small hand-made logs (times at midnight: whole working days), exact values."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from builders import fixed, staff, tiny_scenario, work
from test_warm_start import CUT, SEQUENCE, log_of, sequence_scenario

from sim.engine.calendar import CalendarError
from sim.evidence.backlog import read_backlog
from sim.evidence.log_reading import LogError, log_from_frame
from sim.experiments.warm_start import cleared_by, warm_start
from sim.outputs.run_text import cleared_text, format_backlog, format_backlog_kpis
from sim.scenario import scenario_from_dict


def test_a_case_whose_complete_was_lost_is_left_out_as_a_likely_lost_record():
    """Defect 1: a lost complete made a case finished long ago a backlog case whose stage, older
    than it can last, ended at the cut-off (months of handling charged to it)."""
    log = log_of(
        [
            ("M", "review", "start", "2021-02-01"),
            ("M", "review", "complete", "2021-02-03"),
            ("M", "works", "start", "2021-02-03"),
            ("M", "works", "complete", "2021-02-22"),
            ("M", "connect", "start", "2021-02-22"),  # its complete lost: connected in February
            ("Y", "works", "start", "2021-02-20"),  # a working Saturday: 11 days of a fixed 10 run
            ("T", "works", "start", "2021-02-22"),  # exactly 10: it ends at the cut-off
            ("W", "review", "start", "2021-03-01"),  # its complete lost: it went on
            ("W", "works", "start", "2021-03-03"),
            ("A", "review", "start", "2021-03-05"),
        ]
    )
    run = warm_start(sequence_scenario(), log_from_frame(log), CUT, reps=1)
    reading = run.reading
    assert reading.unplaced[["case", "reason", "detail"]].values.tolist() == [
        [
            "log/M",
            "likely lost record: a stage open longer than the scenario lets it last",
            "'connect' open 10.0 wd, at most 3.0 by the scenario",
        ],
        [
            "log/W",
            "likely lost record: a stage lacks its complete, yet the case went on",
            "'review' attempt 0",
        ],
        [
            "log/Y",
            "likely lost record: a stage open longer than the scenario lets it last",
            "'works' open 11.0 wd, at most 10.0 by the scenario",
        ],
    ]
    assert (reading.placed, reading.lost, reading.finished) == (2, 3, 0)
    cases = run.result.cases.set_index("case_id")
    assert sorted(cases.index[cases["warm_started"]]) == ["log/A", "log/T"]
    assert cases.loc["log/T", "handling_wd"] == 3.0  # its works end at the cut-off; connect 3
    text = format_backlog(reading, "log.csv", 1).splitlines()
    assert text[0] == (
        "warm start from log.csv at 2021-03-08: 2 cases warm-started, 0 finished before the cut-off, "
        "3 could not be placed (3 likely lost records)"
    )
    assert "  not placed (2): likely lost record: a stage open longer than the scenario lets it last" in text


def test_finished_cases_are_ignored_whatever_their_faults_and_unknown_activities_are_skipped():
    """Defect 2: cases finished months before were reported 'could not be placed' for a lost
    record or an unknown activity."""
    log = log_of(
        [
            ("F1", "review", "complete", "2021-02-03"),  # its start lost
            ("F1", "works", "start", "2021-02-03"),
            ("F1", "works", "complete", "2021-02-17"),
            ("F1", "connect", "start", "2021-02-17"),
            ("F1", "connect", "complete", "2021-02-22"),
            ("F2", "review", "start", "2021-02-01"),
            ("F2", "phone_call", "complete", "2021-02-02"),  # not a stage
            ("F2", "review", "complete", "2021-02-03"),
            ("F2", "works", "start", "2021-02-03"),  # its complete lost: it went on
            ("F2", "connect", "start", "2021-02-17"),
            ("F2", "connect", "complete", "2021-02-22"),
            ("U", "review", "start", "2021-03-01"),
            ("U", "phone_call", "start", "2021-03-05"),  # skipped: U is placed
            ("U", "review", "complete", "2021-03-03"),
            ("U", "works", "start", "2021-03-03"),
        ]
    )
    run = warm_start(sequence_scenario(), log_from_frame(log), CUT, reps=1)
    reading = run.reading
    assert (reading.placed, reading.finished, len(reading.unplaced)) == (1, 2, 0)
    assert reading.skipped == {"unknown activity 'phone_call' (not a stage of tiny)": 2}
    case = run.result.cases.set_index("case_id").loc["log/U"]
    assert (case["connected_wd"], case["elapsed_wd"]) == (10.0, 15.0)  # as without the phone call
    assert "  skipped 2 events: unknown activity 'phone_call' (not a stage of tiny)" in format_backlog(
        reading, "log.csv", 1
    )


def two_replications(last_of_0: str = "2021-03-05") -> pd.DataFrame:
    """A simulated log of two replications: replication 0 has two cases open, replication 1 one
    (and one finished)."""
    zero = log_of(
        [
            ("A", "review", "start", "2021-03-01"),
            ("A", "review", "complete", "2021-03-03"),
            ("A", "works", "start", "2021-03-03"),
            ("B", "review", "start", last_of_0),
        ]
    )
    one = log_of(
        [
            ("C", "review", "start", "2021-03-01"),
            ("C", "review", "complete", "2021-03-03"),
            ("C", "works", "start", "2021-03-03"),
            ("D", "review", "start", "2021-03-01"),
            ("D", "review", "complete", "2021-03-03"),
            ("D", "works", "start", "2021-03-03"),
            ("D", "works", "complete", "2021-03-04"),
            ("D", "connect", "start", "2021-03-04"),
            ("D", "connect", "complete", "2021-03-05"),
        ]
    )
    return pd.concat([zero.assign(replication=0), one.assign(replication=1)], ignore_index=True)


def test_the_count_is_that_of_the_replications_run():
    """Defect 3: one replication run from a log of two said '3 cases warm-started over 2
    replications' while its cases table had 2."""
    log = log_from_frame(two_replications())
    run = warm_start(sequence_scenario(), log, CUT, reps=1)
    assert run.reading.periods == (0,) and run.reading.placed == 2
    assert run.result.cases["warm_started"].sum() == 2
    assert format_backlog(run.reading, "log.csv", 1).splitlines()[0] == (
        "warm start from log.csv at 2021-03-08: 2 cases warm-started in 1 replication, from the log's "
        "replication 0 (of its 2), 0 finished before the cut-off, 0 could not be placed "
        "(0 likely lost records)"
    )
    both = warm_start(sequence_scenario(), log, CUT, reps=2)
    assert both.reading.placed == both.result.cases["warm_started"].sum() == 3
    assert both.reading.warm_started == 3 and both.reading.per_replication() == [2, 1]
    # a log without replications: its one backlog in each replication, counted as the table's rows
    one = log_from_frame(two_replications().query("replication == 1").drop(columns="replication"))
    each = warm_start(sequence_scenario(), one, CUT, reps=3)
    assert each.reading.placed == 1 and each.reading.per_replication() == [1, 1, 1]
    assert each.reading.warm_started == each.result.cases["warm_started"].sum() == 3
    assert each.reading.by_segment().to_dict() == {"seg": 3}


INFER_STAGES = {
    "review": {"label": "Review", "owner": "utility", "duration": fixed(2)},
    "design": {  # kept for important customers and 35 kV+ (voltage_kv is a constant 10 here)
        "label": "Design review",
        "owner": "utility",
        "duration": fixed(2),
        "when": {"any": [{"important": True}, {"voltage_kv": {"min": 35}}]},
    },
    "ext": {"label": "External works", "owner": "utility", "duration": fixed(5)},
    "route": {"label": "Route approval", "owner": "government", "duration": fixed(5)},
    "connect": {"label": "Connect", "owner": "utility", "duration": fixed(3)},
}
INFER_FLOW = [
    "review",
    "design",
    {"stage": "ext", "when": {"external_works": True}},
    {"stage": "route", "when": {"route_approval": True}},
    "connect",
]
INFER_ATTRIBUTES = {
    "important": {"dist": "bernoulli", "p": 0.5},
    "voltage_kv": 10,
    "external_works": {"dist": "bernoulli", "p": 0.5},
    "route_approval": {"dist": "bernoulli", "p": 0.5, "when": {"external_works": True}},
}


def test_attributes_are_inferred_from_the_stages_taken_and_logged_ones_kept():
    """Defect 4: a CSV log carries no attributes, and the scenario's draws contradicted the path
    (external works visited, external_works false; the 10 kV target's `important` drawn)."""
    data = tiny_scenario(INFER_STAGES, INFER_FLOW, attributes=INFER_ATTRIBUTES, arrivals={"at": [25.0]})
    rows = [
        ("T", "review", "start", "2021-03-01"),  # took design and external works, in the approval
        ("T", "review", "complete", "2021-03-02"),
        ("T", "design", "start", "2021-03-02"),
        ("T", "design", "complete", "2021-03-03"),
        ("T", "ext", "start", "2021-03-03"),
        ("T", "ext", "complete", "2021-03-04"),
        ("T", "route", "start", "2021-03-04"),
        ("S", "review", "start", "2021-03-03"),  # went straight to connect: none of them
        ("S", "review", "complete", "2021-03-04"),
        ("S", "connect", "start", "2021-03-04"),
        ("E", "review", "start", "2021-03-03"),  # external works open, route not reached yet
        ("E", "review", "complete", "2021-03-04"),
        ("E", "ext", "start", "2021-03-04"),
        ("Q", "review", "start", "2021-03-05"),  # nothing known yet
        ("L", "review", "start", "2021-03-03"),  # in design; the log says no external works
        ("L", "review", "complete", "2021-03-04"),
        ("L", "design", "start", "2021-03-04"),
    ]
    frame = log_of(rows, external_works={"L": "false"})
    reading = read_backlog(log_from_frame(frame), scenario_from_dict(data), CUT)
    attrs = {c.origin: dict(c.attrs) for c in reading.backlogs[0].cases}
    assert attrs == {
        "T": {"voltage_kv": 10, "important": True, "external_works": True, "route_approval": True},
        "L": {"voltage_kv": 10, "external_works": False, "important": True},
        "E": {"voltage_kv": 10, "important": False, "external_works": True},
        "S": {"voltage_kv": 10, "important": False, "external_works": False, "route_approval": False},
        "Q": {"voltage_kv": 10},
    }
    assert reading.inferred == {"important": 4, "external_works": 3, "route_approval": 2}
    assert reading.drawn == {"important": 1, "external_works": 1, "route_approval": 3}
    assert reading.logged == {"external_works": 1}  # L's, from its case:external_works
    assert "  external_works: read from the log for 1 cases" in format_backlog(reading, "log.csv", 1)
    run = warm_start(scenario_from_dict(data), log_from_frame(frame), CUT, reps=1)
    cases = run.result.cases.set_index("case_id")
    assert cases.loc["log/S", ["important", "external_works", "route_approval"]].tolist() == [False] * 3
    assert cases.loc["log/T", ["important", "external_works", "route_approval"]].tolist() == [True] * 3


def test_the_backlog_has_kpis_of_its_own_and_a_date_by_which_it_is_cleared():
    """Defect 5: one KPI table mixed the backlog with the new applications."""
    log = log_of(
        [
            ("A", "review", "start", "2021-03-01"),
            ("A", "review", "complete", "2021-03-03"),
            ("A", "works", "start", "2021-03-03"),  # connected at the end of Friday 19 March
            ("B", "review", "start", "2021-03-05"),  # review 1 more day, works 10, connect 3
        ]
    )
    run = warm_start(sequence_scenario(), log_from_frame(log), CUT, reps=2)
    backlog = run.backlog()
    assert backlog[["segment", "n_cases", "elapsed_wd_max", "handling_wd_mean"]].values.tolist() == [
        ["seg", 2.0, 15.0, 5.0]
    ]
    assert run.result.summary()["n_cases"].tolist() == [3.0]  # with the new application
    cleared = run.cleared()
    assert cleared["cleared"] == pd.Timestamp("2021-03-26")  # B: 14 working days after the cut-off
    assert (cleared["cleared_lo"], cleared["cleared_hi"], cleared["open_at_end"]) == (
        pd.Timestamp("2021-03-26"),
        pd.Timestamp("2021-03-26"),
        0,
    )
    assert backlog["cleared"].tolist() == [pd.Timestamp("2021-03-26")]
    assert format_backlog_kpis(run.result, backlog, cleared).splitlines()[-1] == (
        "backlog cleared (its last case connected) by 2021-03-26 (95% interval 2021-03-26 to "
        "2021-03-26; per replication 2021-03-26 to 2021-03-26), over 2 replications"
    )
    assert "segment   2.0  0.0 " in format_backlog_kpis(run.result, backlog, cleared)  # one decimal


def test_a_clearance_interval_reaching_before_the_cut_off_is_said_to_be_truncated():
    """Polish of walk 15: the interval's lower end, cut at the cut-off, read as "cleared on day
    one". Two replications clearing 1 and 31 days after it: mean 16, t-interval ±190 days."""
    warm = pd.DataFrame(
        {
            "replication": [0, 0, 1],
            "finished": [True] * 3,
            "connected": pd.to_datetime(["2021-03-02", "2021-03-09", "2021-04-08"]),
        }
    )
    cleared = cleared_by(warm, dt.date(2021, 3, 8))
    assert cleared["interval_truncated"] and cleared["cleared_lo"] == pd.Timestamp("2021-03-08")
    assert cleared_text(cleared) == (
        "by 2021-03-24 (95% interval up to 2021-09-30, truncated at the cut-off; "
        "per replication 2021-03-09 to 2021-04-08)"
    )


def test_the_cut_off_is_checked_against_each_replication_read():
    """Defect 6: a cut-off after one replication's last event was accepted (the union's span)."""
    log = log_from_frame(two_replications(last_of_0="2021-03-03"))
    with pytest.raises(LogError) as error:
        warm_start(sequence_scenario(), log, dt.date(2021, 3, 8), reps=2)
    assert str(error.value) == (
        "<events>: --cut-off 2021-03-08 is outside the span of the log's replication 0 (2021-03-01 to "
        "2021-03-03, its last event); give a date from 2021-03-02 to 2021-03-04"
    )
    assert warm_start(sequence_scenario(), log, dt.date(2021, 3, 4), reps=2).reading.periods == (0, 1)


def test_a_visit_that_cannot_wait_is_timed_from_its_schedule_and_a_wait_has_a_generous_bound():
    """Defect 1 of walk 15: a resident whose connection lost its start and complete (only its
    schedule left) was taken as waiting at a pool without a capacity limit, never judged by its
    age, and charged months. Nothing is waited for there: it is timed from its schedule. A visit
    waiting at a pool with a capacity is a lost record past 10 times the stage's longest visit."""
    one_day = {"owner": "utility", "effort": work(1), "handling": True}
    stages = {
        "desk": {"label": "Desk", "pool": "office", **one_day},
        "connect": {"label": "Connect", "pool": "crew", **one_day},
    }
    resources = {"office": staff(1), "crew": staff(None)}
    data = tiny_scenario(stages, ["desk", "connect"], resources=resources, arrivals={"at": [25.0]})
    log = log_of(
        [
            ("OLD", "desk", "start", "2021-02-01"),
            ("OLD", "desk", "complete", "2021-02-02"),
            ("OLD", "connect", "schedule", "2021-02-02"),  # its start and complete lost (21 wd ago)
            ("NEW", "desk", "start", "2021-03-04"),
            ("NEW", "desk", "complete", "2021-03-05"),
            ("NEW", "connect", "schedule", "2021-03-05 12:00"),  # half a day of its one run
            ("Q", "desk", "schedule", "2021-02-20"),  # a working Saturday: 11 days waited, over 10 x 1
            ("R", "desk", "schedule", "2021-02-23"),  # waiting 9: plausible
        ]
    )
    run = warm_start(scenario_from_dict(data), log_from_frame(log), CUT, reps=1)
    assert run.reading.unplaced[["case", "reason", "detail"]].values.tolist() == [
        [
            "log/OLD",
            "likely lost record: a stage open longer than the scenario lets it last",
            "'connect' open 21.0 wd, at most 1.0 by the scenario",
        ],
        [
            "log/Q",
            "likely lost record: a stage waited for longer than the scenario plausibly lets it wait",
            "'desk' waiting 11.0 wd, at most 10.0 taken as plausible",
        ],
    ]
    cases = run.result.cases.set_index("case_id")
    assert cases.loc["log/NEW", "connected_wd"] == 0.5  # the rest of its one day, from its schedule
    assert cases.loc["log/R", "connected_wd"] == 2.0  # waited, then served: desk 1, connect 1


def test_attributes_drawn_for_a_case_agree_with_its_segment_and_its_path():
    """Defect 2 of walk 15: a warm-started case of a stream's segment drew the stream's attributes
    freely (LV standard cases with kva <= 160). They are drawn again (the case's further tries)
    until the stream routes them to its segment and the conditions its path showed hold."""
    stages = {
        "review": {"label": "Review", "owner": "utility", "duration": fixed(2)},
        "big_check": {"label": "Check", "owner": "utility", "duration": fixed(1)},
        "connect": {"label": "Connect", "owner": "utility", "duration": fixed(3)},
    }
    data = tiny_scenario(stages, ["review", "connect"], arrivals={"at": [25.0]})
    kva = {"dist": "lognormal", "median": 45, "sigma": 0.95}
    data["streams"] = {"lv": {"label": "LV", "arrivals": {"at": [25.0]}, "attributes": {"kva": kva}}}
    small = {
        "label": "small",
        "arrivals": {"stream": "lv", "when": {"kva": {"max": 160}}},
        "flow": ["review", "connect"],
    }
    flow = ["review", {"stage": "big_check", "when": {"kva": {"min": 300}}}, "connect"]
    data["segments"] = {
        "small": small,
        "large": {"label": "large", "arrivals": {"stream": "lv"}, "flow": flow},
    }
    rows = []
    for i in range(20):
        segment = ["small", "large", "large"][i % 3]
        rows.append((f"C{i}", "review", "start", "2021-03-04"))
        rows.append((f"C{i}", "review", "complete", "2021-03-05"))
        if i % 6 == 1:  # a large case that took the check: kva >= 300
            rows.append((f"C{i}", "big_check", "start", "2021-03-05"))
        elif i % 6 == 2:  # one past it without it (in its connection): kva < 300
            rows.append((f"C{i}", "connect", "start", "2021-03-05"))
        rows[-1] = (*rows[-1], segment)
    frame = log_of([r[:4] for r in rows])
    segments = {r[0]: r[4] for r in rows if len(r) == 5}
    frame["segment"] = frame["case:concept:name"].map(segments)
    run = warm_start(scenario_from_dict(data), log_from_frame(frame), CUT, reps=1)
    cases = run.result.cases[run.result.cases["warm_started"]].copy()
    cases["number"] = cases["case_id"].str.extract(r"C(\d+)")[0].astype(int)
    assert len(cases) == 20
    assert (cases.loc[cases["segment"] == "small", "kva"] <= 160).all()
    assert (cases.loc[cases["segment"] == "large", "kva"] > 160).all()
    assert (cases.loc[cases["number"] % 6 == 1, "kva"] >= 300).all()
    assert (cases.loc[cases["number"] % 6 == 2, "kva"] < 300).all()
    again = warm_start(scenario_from_dict(data), log_from_frame(frame), CUT, reps=1)
    assert again.result.cases["kva"].equals(run.result.cases["kva"])  # deterministic


def test_rows_the_reading_of_the_log_dropped_are_reported_as_fit_reports_them():
    """Defect 3 of walk 15: duplicated rows and rows without a valid time were dropped silently
    (the manifest said ``events_skipped: {}``) while ``fit`` reported them."""
    log = log_of([("A", "review", "start", "2021-03-01"), ("A", "review", "complete", "2021-03-03")])
    log = pd.concat([log, log.iloc[[0]]], ignore_index=True)  # a duplicated row
    log["time:timestamp"] = log["time:timestamp"].astype(str)
    log.loc[len(log)] = ["A", "works", "start", "03/04/2021", "seg"]  # not ISO 8601
    log.loc[len(log)] = ["A", "works", "start", "2021-03-05", "seg"]
    reading = warm_start(sequence_scenario(), log_from_frame(log), CUT, reps=1).reading
    assert reading.skipped == {
        "duplicated row (over the whole log, as read)": 1,
        "row whose time is not a time (expected ISO 8601) (over the whole log, as read)": 1,
    }
    assert "  skipped 1 event: duplicated row (over the whole log, as read)" in format_backlog(
        reading, "log.csv", 1
    )


def test_a_case_with_a_branch_still_open_in_its_last_parallel_step_is_not_finished():
    """A review finding: a case whose last step is parallel, one branch completed and the other
    still open, was counted as finished (nothing began after the last completion) and left out."""
    stages = {
        "review": {"label": "Review", "owner": "utility", "duration": fixed(2)},
        "works": {"label": "Works", "owner": "customer", "duration": fixed(10)},
        "approval": {"label": "Approval", "owner": "government", "duration": fixed(4)},
    }
    data = tiny_scenario(stages, ["review", {"parallel": [["works"], ["approval"]]}], arrivals={"at": [25.0]})
    log = log_of(
        [
            ("G", "review", "start", "2021-03-01"),
            ("G", "review", "complete", "2021-03-03"),
            ("G", "works", "start", "2021-03-03"),
            ("G", "works", "complete", "2021-03-04"),
            ("G", "approval", "start", "2021-03-03"),  # 1 day to go at the cut-off
            ("D", "review", "start", "2021-03-01"),
            ("D", "review", "complete", "2021-03-02"),
            ("D", "works", "start", "2021-03-02"),
            ("D", "approval", "start", "2021-03-02"),
            ("D", "approval", "complete", "2021-03-04"),
            ("D", "works", "complete", "2021-03-05"),  # both branches done: finished
        ]
    )
    run = warm_start(scenario_from_dict(data), log_from_frame(log), CUT, reps=1)
    assert (run.reading.placed, run.reading.finished) == (1, 1)
    cases = run.result.cases.set_index("case_id")
    assert cases.loc["log/G", "warm_started"] and cases.loc["log/G", "connected_wd"] == 1.0


def test_replications_that_do_not_overlap_get_no_empty_range_of_dates():
    """A review finding: replications read that do not overlap in time made the error advise a
    range of dates whose start is after its end."""
    zero = log_of([("A", "review", "start", "2021-03-01"), ("A", "review", "complete", "2021-03-03")])
    one = log_of([("B", "review", "start", "2021-06-01"), ("B", "review", "complete", "2021-06-03")])
    log = pd.concat([zero.assign(replication=0), one.assign(replication=1)], ignore_index=True)
    with pytest.raises(LogError) as error:
        warm_start(sequence_scenario(), log_from_frame(log), CUT, reps=2)
    assert str(error.value).endswith("no one cut-off lies in every replication read; read fewer with --reps")


def test_a_replication_still_open_at_the_end_leaves_no_mean_clearing_day():
    """A review finding: replications whose backlog was still open at the end were left out of the
    mean and its interval, which were then early, yet said to be over every replication."""
    warm = pd.DataFrame(
        {
            "replication": [0, 0, 1, 2],
            "finished": [True, True, False, True],
            "connected": pd.to_datetime(["2021-03-09", "2021-03-12", None, "2021-03-20"]),
        }
    )
    cleared = cleared_by(warm, dt.date(2021, 3, 8))
    assert pd.isna(cleared["cleared"]) and pd.isna(cleared["cleared_hi"]) and pd.isna(cleared["cleared_last"])
    assert (cleared["open_at_end"], cleared["replications"]) == (1, 3)
    assert cleared_text(cleared) == (
        "later than the run's end in 1 of 3 replications (so no mean day); the first replication to "
        "clear it, by 2021-03-12"
    )


def test_a_case_stalled_between_stages_long_before_the_cut_off_is_a_likely_lost_record():
    """The second walk-through: a resident whose whole last stage was missing from the log sat
    between two stages since April and was warm-started with 100 working days of full process."""
    log = log_of(
        [
            ("S", "review", "start", "2021-02-01"),
            ("S", "review", "complete", "2021-02-03"),  # then nothing: works' records lost
            ("N", "review", "start", "2021-03-03"),
            ("N", "review", "complete", "2021-03-05 18:00"),  # the log cut the next day: no gap
        ]
    )
    run = warm_start(sequence_scenario(), log_from_frame(log), CUT, reps=1)
    assert run.reading.unplaced[["case", "reason", "detail"]].values.tolist() == [
        [
            "log/S",
            "likely lost record: nothing logged since a stage completed, though its flow goes on",
            "'review' completed 20.0 wd before the cut-off",  # the Spring Festival's days off between
        ]
    ]
    assert run.result.cases.set_index("case_id").loc["log/N", "warm_started"]


@pytest.mark.parametrize("dated", [False, True])
def test_attributes_a_case_lacks_are_drawn_under_the_measures_in_force_at_the_cut_off(dated):
    """A review noticed that a warm-started case's missing attributes were drawn under the
    scenario's own rules, not under the measures without ``where`` in force at the cut-off (as a
    case applying then draws them). Here a measure dated before the cut-off makes every case
    important."""
    data = tiny_scenario(
        SEQUENCE, ["review", "works", "connect"], attributes={"important": {"dist": "bernoulli", "p": 0.0}}
    )
    if dated:
        changes = {"segments": {"seg": {"attributes": {"important": {"dist": "bernoulli", "p": 1.0}}}}}
        data["measures"] = [{"from": "2021-01-04", "changes": changes}]
    rows = []
    for i in range(6):
        rows += [(f"C{i}", "review", "start", "2021-03-01"), (f"C{i}", "review", "complete", "2021-03-03")]
        rows += [(f"C{i}", "works", "start", "2021-03-03")]
    rows.append(("C0", "connect", "start", "2021-03-20"))  # after the cut-off: the log goes on
    run = warm_start(scenario_from_dict(data), log_from_frame(log_of(rows)), CUT, reps=1)
    warm = run.result.cases[run.result.cases["warm_started"]]
    assert len(warm) == 6
    assert warm["important"].eq(dated).all()


def test_a_warm_start_places_its_cases_in_the_flows_of_the_measures_in_force_at_the_cut_off():
    """A review found that a warm start under a dated measure that changes a flow crashed
    (district-2021-2023, cut in 2022): the cases were placed in the scenario's own flows and
    walked in the measure's. They are now placed in the flows they walk."""
    data = tiny_scenario(SEQUENCE, ["review", "works", "connect"], arrivals={"at": [25.0]})
    shorter = {"segments": {"seg": {"flow": ["review", "connect"]}}}
    data["measures"] = [{"from": "2021-03-02", "changes": shorter}]
    log = log_of(
        [
            ("A", "review", "start", "2021-03-01"),
            ("A", "review", "complete", "2021-03-03"),
            ("A", "connect", "start", "2021-03-05"),  # 1 of its 3 working days run at the cut-off
            ("B", "review", "start", "2021-03-20"),  # after the cut-off: not seen
        ]
    )
    run = warm_start(scenario_from_dict(data), log_from_frame(log), CUT, reps=1)
    assert run.reading.placed == 1
    case = run.result.cases.set_index("case_id").loc["log/A"]
    assert case["finished"] and case["connected_wd"] == 2.0


def test_a_warm_start_under_a_scoped_measure_that_changes_a_flow_is_refused_in_one_line():
    data = tiny_scenario(
        SEQUENCE, ["review", "works", "connect"], attributes={"important": {"dist": "bernoulli", "p": 0.5}}
    )
    changes = {"segments": {"seg": {"flow": ["review", "connect"]}}}
    data["measures"] = [{"from": "2021-03-02", "where": {"important": True}, "changes": changes}]
    log = log_of([("A", "review", "start", "2021-03-01"), ("B", "review", "start", "2021-03-20")])
    refused = r"changes the flow of seg before the cut-off 2021-03-08; .* not supported"
    with pytest.raises(LogError, match=refused):
        warm_start(scenario_from_dict(data), log_from_frame(log), CUT, reps=1)


def test_a_warm_run_whose_horizon_from_the_cut_off_passes_the_calendar_says_why_in_one_line():
    data = tiny_scenario(SEQUENCE, ["review", "works", "connect"], days=1100)  # to 2025 from 2021-03-01
    log = log_of([("A", "review", "start", "2021-03-01"), ("A", "review", "start", "2022-06-01")])
    with pytest.raises(CalendarError, match=r"--cut-off 2022-03-01: a warm run counts the scenario's 1100"):
        warm_start(scenario_from_dict(data), log_from_frame(log), dt.date(2022, 3, 1), reps=1)
