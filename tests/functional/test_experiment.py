"""Replications: t-intervals, paired differences, the replications a precision needs (sequential
procedure), and the variance reduction of synchronised common random numbers."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import yaml
from builders import BASELINE, fixed, staff, tiny_scenario
from scipy import stats as st

import sim
from sim.cli import main
from sim.engine.calendar import CalendarError
from sim.experiments.replications import (
    Replication,
    Task,
    collect,
    paired,
    replicate,
    replications_needed,
    run_to_precision,
)
from sim.experiments.stats import (
    PrecisionError,
    paired_differences,
    parse_precision,
    precision_report,
    t_half_width,
)
from sim.experiments.stats import replications_needed as needed_for

# lv_smb and lv_standard only, a short cohort: ~0.1 s a replication
LV_ONLY = {
    "horizon.warmup_days": 10,
    "horizon.arrival_days": 60,
    "horizon.drain_days": 200,
    "segments.lv_resident.arrivals.per_year": 0,
    "segments.hv_single.arrivals.per_year": 0,
    "segments.hv_dual.arrivals.per_year": 0,
    "segments.hv_35kv.arrivals.per_year": 0,
}


def test_t_half_width_matches_the_textbook_formula():
    x = [3.0, 5.0, 4.0, 6.0, 7.0]
    expected = st.t.ppf(0.975, 4) * np.std(x, ddof=1) / math.sqrt(5)
    assert t_half_width(x) == pytest.approx(expected)
    assert math.isnan(t_half_width([1.0]))
    assert t_half_width([1.0, np.nan, 3.0]) == pytest.approx(st.t.ppf(0.975, 1) * math.sqrt(2) / math.sqrt(2))


def test_replications_needed_is_the_smallest_n_reaching_the_half_width():
    rng = np.random.default_rng(3)
    x = rng.normal(10, 2, size=8)
    s = x.std(ddof=1)
    for h in (2.0, 0.5, 0.2):
        n = needed_for(x, h)
        assert st.t.ppf(0.975, n - 1) * s / math.sqrt(n) <= h
        if n > 2:
            assert st.t.ppf(0.975, n - 2) * s / math.sqrt(n - 1) > h
    assert needed_for([4.0, 4.0, 4.0], 0.1) == 2
    with pytest.raises(ValueError):
        needed_for([1.0], 0.1)


def test_paired_differences_pair_by_replication_and_group():
    ref = pd.DataFrame(
        {
            "segment": ["a"] * 4 + ["b"] * 4,
            "replication": [0, 1, 2, 3] * 2,
            "k": [1.0, 2, 3, 4, 10, 20, 30, 40],
        }
    )
    other = ref.sample(frac=1, random_state=1).copy()  # row order must not matter
    other["k"] = other["k"] + np.where(other["segment"] == "a", 0.5, other["replication"])
    table = paired_differences(ref, other, ["k"]).set_index("segment")
    assert table.loc["a", "difference"] == pytest.approx(0.5)
    assert table.loc["a", "difference_hw"] == pytest.approx(0.0)
    d = np.array([0, 1, 2, 3.0])
    assert table.loc["b", "difference"] == pytest.approx(d.mean())
    assert table.loc["b", "difference_hw"] == pytest.approx(t_half_width(d))
    assert table.loc["b", "difference_lo"] == pytest.approx(d.mean() - t_half_width(d))
    assert table.loc["b", "reference"] == pytest.approx(25.0)
    assert (table["replications"] == 4).all()


def test_parse_precision_requests():
    assert parse_precision(["on_target_share=0.02", "lv_smb.handling_wd_mean=5%"]) == [
        (None, "on_target_share", 0.02, False),
        ("lv_smb", "handling_wd_mean", 0.05, True),
    ]
    assert parse_precision({"elapsed_wd_mean": 1}) == [(None, "elapsed_wd_mean", 1.0, False)]
    for bad in ("on_target_share", "x=abc", "x=-1", "=2"):
        with pytest.raises(PrecisionError):
            parse_precision([bad])


def test_precision_report_relative_and_absolute():
    kpis = pd.DataFrame(
        {
            "segment": ["a"] * 5 + ["b"] * 5,
            "replication": list(range(5)) * 2,
            "k": [10.0, 11, 9, 10, 10, 5, 5, 5, 5, 5],
            "none": [np.nan] * 10,
        }
    )
    report = precision_report(kpis, parse_precision(["k=10%", "none=1"]))
    a = report[report["segment"] == "a"].iloc[0]
    assert a["requested"] == pytest.approx(1.0) and a["met"]
    assert a["half_width"] == pytest.approx(t_half_width([10.0, 11, 9, 10, 10]))
    b = report[report["segment"] == "b"].iloc[0]
    assert b["needed"] == 2 and b["met"]
    assert "none" not in set(report["kpi"])  # no finite values anywhere: nothing to report
    with pytest.raises(PrecisionError, match="no KPI 'nope'"):
        precision_report(kpis, parse_precision(["nope=1"]))


@pytest.mark.slow
def test_run_to_precision_adds_replications_and_keeps_the_first_ones():
    scenario = sim.load_scenario(BASELINE, LV_ONLY)
    first = sim.run(scenario, reps=3, seed=2)
    target = 0.4 * t_half_width(first.kpis.query("segment == 'lv_smb'")["handling_wd_mean"])
    result, report = run_to_precision(
        scenario, {"lv_smb.handling_wd_mean": target}, reps=3, seed=2, jobs=2, max_reps=40
    )
    row = report.iloc[0]
    assert row["met"] and row["half_width"] <= target
    assert result.replications == row["replications"] > 3
    # replications 0..2 are those of the plain run: nothing was rerun with other numbers
    pd.testing.assert_frame_equal(result.kpis[result.kpis["replication"] < 3], first.kpis)
    again = replications_needed(result, {"lv_smb.handling_wd_mean": target})
    assert bool(again.iloc[0]["met"])
    with pytest.raises(PrecisionError, match="no segment 'lv_sbm'"):
        run_to_precision(scenario, {"lv_sbm.handling_wd_mean": 1.0}, reps=2)


def test_run_to_precision_stops_at_max_reps():
    scenario = sim.load_scenario(BASELINE, LV_ONLY)
    result, report = run_to_precision(scenario, ["lv_smb.handling_wd_mean=0.0001"], reps=2, max_reps=4)
    assert result.replications == 4
    assert not report.iloc[0]["met"] and report.iloc[0]["needed"] > 4


@pytest.mark.slow
def test_common_random_numbers_shrink_the_variance_of_paired_differences():
    """Baseline vs more inspectors: with the same seed (case-keyed streams) the per-replication
    difference in lv_smb's mean full-process time varies far less than with independent seeds."""
    base = sim.load_scenario(BASELINE, LV_ONLY)
    measure = sim.load_scenario(BASELINE, {**LV_ONLY, "resources.inspector.capacity": 2})
    reps = 6
    b = sim.run(base, reps=reps, seed=7, jobs=2)
    same = sim.run(measure, reps=reps, seed=7, jobs=2)
    independent = sim.run(measure, reps=reps, seed=8, jobs=2)
    kpis = ["full_process_wd_mean", "handling_wd_mean"]
    crn = paired(b, same, kpis).set_index(["segment", "kpi"])
    ind = paired(b, independent, kpis).set_index(["segment", "kpi"])
    for kpi, at_least in (("full_process_wd_mean", 50), ("handling_wd_mean", 5)):
        ratio = (ind.loc[("lv_smb", kpi), "difference_sd"] / crn.loc[("lv_smb", kpi), "difference_sd"]) ** 2
        assert ratio > at_least, (kpi, ratio)
    # fewer inspectors lengthen the process, and the paired interval says so
    assert crn.loc[("lv_smb", "full_process_wd_mean"), "difference_lo"] > 0


def test_a_scenario_compared_with_itself_differs_by_exactly_zero():
    stages = {"s": {"label": "s", "owner": "utility", "duration": {"dist": "exponential", "mean": 2}}}
    scenario = sim.scenario_from_dict(tiny_scenario(stages, ["s"]))
    a = sim.run(scenario, reps=2)
    table = paired(a, sim.run(scenario, reps=2))
    assert (table["difference"].fillna(0) == 0).all()
    assert (table["difference_hw"].fillna(0) == 0).all()


def test_run_precision_option_on_the_command_line(tmp_path, capsys):
    stages = {
        "s": {"label": "s", "owner": "utility", "pool": "p", "effort": {"dist": "exponential", "mean": 16}},
        "t": {"label": "t", "owner": "utility", "duration": fixed(1), "handling": True},
    }
    data = tiny_scenario(stages, ["s", "t"], resources={"p": staff(8)})
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    code = main(
        ["run", str(path), "--reps", "3", "--precision", "elapsed_wd_mean=0.3", "--out", str(tmp_path / "o")]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "precision (95% half-width)" in out and "elapsed_wd_mean" in out
    kpis = pd.read_parquet(tmp_path / "o" / "kpis.parquet")
    assert t_half_width(kpis["elapsed_wd_mean"]) <= 0.3
    assert main(["run", str(path), "--precision", "elapsed=0.3"]) == 2
    assert "no KPI 'elapsed'" in capsys.readouterr().err


@pytest.mark.slow
def test_replicate_gives_outcomes_in_task_order_and_an_error_per_task():
    """Tasks of two scenarios on two processes: the outcomes come back in task order, the task
    that raised (a horizon beyond the published calendar) as its exception, the others as on
    one process."""
    ok = sim.load_scenario(BASELINE, LV_ONLY)
    beyond = sim.load_scenario(BASELINE, {**LV_ONLY, "horizon.start": "2031-03-03"})
    tasks = [Task(ok, 0, cases=False), Task(beyond, 0, cases=False), Task(ok, 1, cases=False)]
    ticks = []
    on_processes = list(replicate(tasks, jobs=2, progress=ticks.append))
    serial = list(replicate(tasks, jobs=1))
    assert ticks == [1, 1, 1]
    assert isinstance(on_processes[1], CalendarError) and isinstance(serial[1], CalendarError)
    for i in (0, 2):
        assert isinstance(on_processes[i], Replication) and isinstance(serial[i], Replication)
        assert on_processes[i].replication == tasks[i].replication and on_processes[i].cases is None
        pd.testing.assert_frame_equal(on_processes[i].kpis, serial[i].kpis)
    with pytest.raises(CalendarError):
        collect(replicate(tasks, jobs=1))
    with pytest.raises(CalendarError):
        sim.run(beyond, reps=1)


def test_write_run_writes_the_folder_of_the_run_command(tmp_path):
    stages = {"s": {"label": "s", "owner": "utility", "duration": {"dist": "exponential", "mean": 2}}}
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(tiny_scenario(stages, ["s"])), encoding="utf-8")
    assert (
        main(["run", str(path), "--reps", "2", "--jobs", "1", "--events", "--out", str(tmp_path / "cli")])
        == 0
    )
    result = sim.run(sim.load_scenario(path), reps=2, events=True)
    written = sim.write_run(result, tmp_path / "api", overrides=[], jobs=1)
    names = [p.name for p in written]
    assert names == [
        *(f"{t}.parquet" for t in ("kpis", "cases", "pools", "materials", "targets", "events")),
        "manifest.json",
    ]
    assert sorted(names) == sorted(p.name for p in (tmp_path / "cli").iterdir())
    for name in names[:-1]:
        pd.testing.assert_frame_equal(
            pd.read_parquet(tmp_path / "api" / name), pd.read_parquet(tmp_path / "cli" / name)
        )
    cli, api = (json.loads((tmp_path / d / "manifest.json").read_text()) for d in ("cli", "api"))
    assert {k: v for k, v in api.items() if k != "command"} == {
        k: v for k, v in cli.items() if k != "command"
    }
