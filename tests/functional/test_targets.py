"""Targets of the three kinds (share, mean, maximum), for all of a segment's cases or those a
condition selects, and their verdicts: exact values on a hand-made queue, the selection against a
direct count, and the verdict rule on its interval."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from builders import staff, tiny_scenario, work
from scipy import stats

import sim
from sim.experiments.targets import MET, MISSED, REPORTED, UNDECIDED, judge
from sim.scenario import ScenarioError, scenario_from_dict

SERVE = {"serve": {"label": "Serve", "owner": "utility", "pool": "desk", "effort": work(2), "handling": True}}


def queue(targets: list[dict], attributes=None) -> dict:
    """One member, two days of work per case, cases at 0, 0.5 and 1: elapsed 2, 3.5 and 5."""
    data = tiny_scenario(SERVE, ["serve"], resources={"desk": staff(1)}, days=5, arrivals={"at": [0, 0.5, 1]})
    data["segments"]["seg"]["targets"] = targets
    if attributes:
        data["segments"]["seg"]["attributes"] = attributes
    return data


def test_the_three_kinds_on_a_queue_with_known_times():
    targets = [
        {"measure": "elapsed", "days": 3.5, "share": 0.6},  # 2 of 3 within: 66.7% >= 60%
        {"measure": "elapsed", "days": 3.5, "kind": "mean"},  # mean 3.5 <= 3.5
        {"measure": "elapsed", "days": 4.9, "kind": "maximum"},  # longest 5 > 4.9
        {"measure": "elapsed", "days": 2},  # no required share: reported
    ]
    result = sim.run(scenario_from_dict(queue(targets)), reps=2)  # both alike: no spread
    rows = result.targets[result.targets["replication"] == 0].set_index("target")
    assert rows["share_within"].tolist() == pytest.approx([2 / 3, 2 / 3, 2 / 3, 1 / 3])
    assert rows["mean_days"].tolist() == pytest.approx([3.5] * 4)
    assert rows["max_days"].tolist() == pytest.approx([5] * 4)
    assert (rows["n_subject"] == 3).all() and (rows["applies_to"] == "all").all()
    summary = result.target_summary().set_index("target")
    # 2 of 3 cases in both replications: no spread, but 6 cases cannot tell 66.7% from 60% (the
    # share's interval is the Wilson interval of 4 in 6 cases, 30.0-90.3%)
    assert summary["verdict"].tolist() == [UNDECIDED, MET, MISSED, REPORTED]
    assert (summary.at[0, "lo"], summary.at[0, "hi"]) == pytest.approx((0.3000, 0.9032), abs=1e-4)
    assert summary["value"].tolist() == pytest.approx([2 / 3, 3.5, 5, 1 / 3])
    # the headline target: the first share target for all cases
    assert result.kpis.loc[0, "target_days"] == 3.5 and result.kpis.loc[
        0, "on_target_share"
    ] == pytest.approx(2 / 3)


def test_a_condition_selects_the_cases_a_target_applies_to():
    targets = [
        {"measure": "elapsed", "days": 3.5, "share": 0.5, "when": {"remote": True}},
        {"measure": "elapsed", "days": 30, "kind": "mean", "when": {"remote": False}},
    ]
    attributes = {"remote": {"dist": "bernoulli", "p": 0.5}}
    data = queue(targets, attributes)
    data["segments"]["seg"]["arrivals"] = {"per_working_day": 3}
    data["horizon"]["arrival_days"] = 20
    result = sim.run(scenario_from_dict(data), reps=3)
    for _, row in result.targets.iterrows():
        cases = result.cases[result.cases["replication"] == row["replication"]]
        sub = cases[cases["remote"] == (row["target"] == 0)]
        within = sub["finished"] & (sub["elapsed_wd"] <= row["bound_days"] + 1e-9)
        assert row["n_subject"] == len(sub) and row["share_within"] == pytest.approx(within.mean())
        assert row["mean_days"] == pytest.approx(sub.loc[sub["finished"], "elapsed_wd"].mean())
    assert list(result.target_summary()["applies_to"]) == ["remote = true", "remote = false"]
    with pytest.raises(
        ScenarioError, match=r"segments.seg.targets\[0\].when: condition reads attribute 'remote'"
    ):
        scenario_from_dict(queue(targets))  # the segment does not draw it


def test_verdicts_follow_the_95_percent_interval():
    def rows(kind, values, bound, required=np.nan):
        return pd.DataFrame(
            {
                "scenario": "s", "replication": range(len(values)), "segment": "seg", "target": 0,
                "label": "t", "kind": kind, "measure": "elapsed", "clock": "working", "bound_days": bound,
                "required_share": required, "report_only": False, "applies_to": "all",
                "n_subject": 1000, "open_subject": 0,
                "share_within": values, "mean_days": values, "max_days": values,
            }
        )  # fmt: skip

    values = np.array([6.0, 7.0, 8.0, 7.5, 6.5])
    half = stats.t.ppf(0.975, 4) * values.std(ddof=1) / np.sqrt(5)  # 0.98
    mean = values.mean()  # 7.0
    for bound, verdict in [(mean + half + 0.01, MET), (mean - half - 0.01, MISSED), (7.0, UNDECIDED)]:
        judged = judge(rows("mean", values, bound)).iloc[0]
        assert judged["verdict"] == verdict and judged["hw"] == pytest.approx(half)
    shares = np.array([0.90, 0.92, 0.94, 0.96, 0.93])
    assert judge(rows("share", shares, 8, 0.95)).iloc[0]["verdict"] == UNDECIDED
    judged = judge(rows("share", shares, 8, 0.80)).iloc[0]
    assert judged["verdict"] == MET
    # away from 0 and 1 the share's bounded interval is its t-interval (within 2%)
    hw = stats.t.ppf(0.975, 4) * shares.std(ddof=1) / np.sqrt(5)
    assert judged["hi"] - judged["lo"] == pytest.approx(2 * hw, rel=0.02)
    assert judge(rows("share", shares, 8, 0.99)).iloc[0]["verdict"] == MISSED
    assert judge(rows("mean", values[:1], 100)).iloc[0]["verdict"] == UNDECIDED  # one value: no interval
    longest = judge(rows("maximum", values, 8)).iloc[0]
    assert (longest["value"], longest["verdict"]) == (8.0, MET)  # the longest of all, exactly
    assert judge(rows("maximum", values, 7.9)).iloc[0]["verdict"] == MISSED


def test_share_goes_with_the_share_kind_only():
    with pytest.raises(ScenarioError, match=r"`share` .* goes with kind: share, not mean"):
        scenario_from_dict(queue([{"measure": "elapsed", "days": 3, "kind": "mean", "share": 0.9}]))


def test_a_calendar_day_target_reads_the_calendar_clock_and_a_report_only_target_has_no_verdict():
    targets = [{"measure": "elapsed", "days": 5, "kind": "mean", "clock": "calendar", "report_only": True}]
    result = sim.run(scenario_from_dict(queue(targets)), reps=2)
    row = result.target_summary().iloc[0]
    assert row["clock"] == "calendar" and row["verdict"] == REPORTED
    assert row["value"] == pytest.approx(result.cases["elapsed_cd"].mean())
    with pytest.raises(ScenarioError, match="handling is kept in working days only"):
        scenario_from_dict(queue([{"measure": "handling", "days": 3, "clock": "calendar"}]))
