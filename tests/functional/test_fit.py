"""The fit of an event log, end to end: a small scenario simulated with its event log, the log
fitted, the fitted scenario run again (``sim.evidence.round_trip``); the written overlay loads to
the scenario the round trip ran; a log with injected faults fits with a report of what was skipped.

The scenario is known, so every estimate is judged against the truth with its interval. With k
intervals of 95% each, the chance that at least one misses by luck alone is up to 1 - 0.95^k, so
the round trip checks them at a family-wise 95% level: each half-width widened by
z(1 - 0.025 / k) / z(0.975) (Bonferroni), around the estimate."""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from builders import ROOT, staff, tiny_scenario, two_waits
from scipy.stats import norm

import sim
from sim.cli import main
from sim.evidence.estimates import base_distribution, fit_log
from sim.evidence.log_reading import LogError, log_from_frame, read_log
from sim.evidence.round_trip import fitted_scenario, round_trip
from sim.outputs.event_log import write_events
from sim.outputs.fit_report import fit_figure, report_text
from sim.scenario import load_scenario
from sim.scenario.load import scenario_from_dict

STAGES = {
    "intake": {  # staff, no lead time: the logged service is the effort over 8 hours a day
        "label": "Intake",
        "owner": "utility",
        "pool": "clerk",
        "effort": {"dist": "gamma", "mean": 4.0, "cv": 0.5},
    },
    "customer_works": {
        "label": "Customer's works",
        "owner": "customer",
        "duration": {"dist": "lognormal", "mean": 6.0, "cv": 0.6},
    },
    "approval": {
        "label": "Route approval",
        "owner": "government",
        "duration": {"dist": "gamma", "mean": 8.0, "cv": 0.4},
    },
    "inspection": {  # effort and lead time: only their sum is logged, so neither is fitted
        "label": "Inspection",
        "owner": "utility",
        "pool": "inspector",
        "effort": {"dist": "triangular", "min": 2, "mode": 3, "max": 5},
        "lead_time": {"dist": "exponential", "mean": 1.0},
        "rework": {"probability": 0.25, "fix": "fix_defects", "max_attempts": 3},
    },
    "fix_defects": {
        "label": "Fix defects",
        "owner": "customer",
        "duration": {"dist": "exponential", "mean": 2.0},
    },
}
FLOW = ["intake", "customer_works", {"stage": "approval", "when": {"route": True}}, "inspection"]


def small_scenario(folder: Path) -> Path:
    data = tiny_scenario(
        STAGES,
        FLOW,
        attributes={"route": {"dist": "bernoulli", "p": 0.35}},
        resources={"clerk": staff(2), "inspector": staff(3, 6.0)},
        per_day=3.0,
        days=120,
    )
    data["name"] = "fit-small"
    data["horizon"]["start"] = "2021-03-01"
    data["segments"]["seg"]["targets"] = [{"measure": "elapsed", "days": 20, "share": 0.8}]
    path = folder / "small.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def trip(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fit")
    path = small_scenario(folder)
    return path, round_trip(path, reps=5, seed=3, check_seed=4)


@pytest.mark.slow
def test_every_fitted_parameter_covers_the_truth_at_a_family_wise_95_percent(trip):
    _, result = trip
    table = result.parameters
    # what the log identifies here: 4 durations or efforts, 1 share, 1 rework, 1 arrival rate
    assert sorted(table["key"]) == [
        "segments.seg.arrivals.per_working_day",
        "segments.seg.attributes.route.p",
        "stages.approval.duration",
        "stages.customer_works.duration",
        "stages.fix_defects.duration",
        "stages.inspection.rework.probability",
        "stages.intake.effort",
    ]
    intervals = [(r.estimate, r.ci_low, r.ci_high, r.base) for r in table.itertuples()]
    intervals += [(r.cv, r.cv_low, r.cv_high, r.base_cv) for r in table.itertuples() if np.isfinite(r.cv_low)]
    widen = norm.ppf(1 - 0.025 / len(intervals)) / norm.ppf(0.975)
    for estimate, low, high, truth in intervals:
        assert estimate - (estimate - low) * widen <= truth <= estimate + (high - estimate) * widen


@pytest.mark.slow
def test_the_fitted_scenario_meets_the_headline_target_as_often_as_the_original(trip):
    _, result = trip
    headline = result.kpis.set_index("kpi").loc["on_target_share"]
    assert headline["bound"] > 0  # an interval, not two identical numbers
    assert abs(headline["difference"]) <= headline["bound"]


@pytest.mark.slow
def test_the_report_says_why_the_inspection_is_not_fitted(trip):
    _, result = trip
    stages = result.fit.stages.set_index("stage")["fitted"]
    assert stages["inspection"].startswith("not identified: the service (start to complete) is effort")
    assert "lead time" in stages["inspection"]
    assert stages["intake"] == "effort (hours): " + result.fit.durations["stages.intake.effort"].family


def cli(*args) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.chdir(ROOT), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


@pytest.mark.slow
def test_the_written_overlay_loads_to_the_scenario_the_round_trip_ran(trip, tmp_path):
    path, _ = trip
    log = tmp_path / "events.parquet"
    sim.run(load_scenario(path), reps=1, seed=3, events=True).events.to_parquet(log)
    code, _, err = cli("fit", log, "--base", path, "--out", tmp_path / "fit")
    assert (code, err) == (0, "")
    written = load_scenario(tmp_path / "fit" / "fitted.yaml")
    fit = fit_log(read_log(log), load_scenario(path))
    in_memory = fitted_scenario(path, fit)
    strip = lambda s: {k: v for k, v in s.to_dict().items() if k not in ("name", "title")}  # noqa: E731
    assert strip(written) == strip(in_memory)
    assert sorted(p.name for p in (tmp_path / "fit").glob("fit-*.png")) == [
        "fit-approval.png", "fit-customer_works.png", "fit-fix_defects.png", "fit-intake.png",
    ]  # fmt: skip


@pytest.mark.slow
def test_a_log_with_injected_faults_fits_and_reports_what_was_skipped(tmp_path):
    path = small_scenario(tmp_path)
    events = sim.run(load_scenario(path), reps=1, seed=5, events=True).events
    rng = np.random.default_rng(0)
    # completes after which the case goes on: without them the visit cannot be timed
    last = events.groupby("case:concept:name")["time_wd"].transform("max")
    went_on = events.index[(events["lifecycle:transition"] == "complete") & (events["time_wd"] < last)]
    lost_completes = rng.choice(went_on, 20, replace=False)
    visit = ["case:concept:name", "concept:name", "attempt"]
    touched = pd.MultiIndex.from_frame(events[visit]).isin(
        pd.MultiIndex.from_frame(events.loc[lost_completes, visit])
    )
    starts = events[(events["lifecycle:transition"] == "start") & ~touched]
    lost_starts = rng.choice(starts.index, 10, replace=False)  # of other visits: each still ends
    faulty = events.drop(index=[*lost_completes, *lost_starts])
    duplicated = faulty.sample(30, random_state=1)
    unknown = faulty.sample(7, random_state=2).assign(**{"concept:name": "phone_call"})
    faulty = pd.concat([faulty, duplicated, unknown]).sample(frac=1, random_state=3)  # shuffled
    log = tmp_path / "faulty.csv"
    faulty.to_csv(log, index=False)
    code, out, err = cli("fit", log, "--base", path, "--out", tmp_path / "fit")
    assert (code, err) == (0, "")
    report = (tmp_path / "fit" / "report.md").read_text(encoding="utf-8")
    assert "| duplicated row | 30 |" in report
    assert "| unknown activity 'phone_call' (not a stage of fit-small) | 7 |" in report
    assert "| stage visit without its complete while the case went on (not timed) | 20 |" in report
    assert "| stage visit without its start (not timed) | 10 |" in report
    assert "rows out of time order within their case: sorted by time" in report
    assert "skipped 30: duplicated row" in out
    assert load_scenario(tmp_path / "fit" / "fitted.yaml").name == "fit-small-fitted"


def test_xes_csv_and_parquet_logs_read_alike(tmp_path):
    path = small_scenario(tmp_path)
    result = sim.run(load_scenario(path, overrides={"horizon.arrival_days": 20}), reps=2, seed=5, events=True)
    logs = [
        read_log(write_events(result.events, tmp_path, fmt, cases=result.cases))
        for fmt in ("parquet", "csv", "xes")
    ]
    columns = ["period", "case", "segment", "activity", "lifecycle", "timestamp", "attempt"]
    first = logs[0].events[columns]
    assert len(first) == len(result.events) and first["case"].str.startswith(("r0/", "r1/")).all()
    for other in logs[1:]:
        pd.testing.assert_frame_equal(other.events[columns], first, check_dtype=False)
        assert other.skipped == {}
    # a table's ids recur per replication (taken apart, and said so); XES traces are named r0/ID
    assert logs[1].notes == logs[0].notes and logs[0].notes[0].endswith("taken apart, as rN/ID")
    assert logs[2].notes == []


def test_a_log_cut_while_cases_are_open_censors_their_visits_instead_of_dropping_them(tmp_path):
    path = small_scenario(tmp_path)
    events = sim.run(load_scenario(path), reps=1, seed=6, events=True).events
    cut = events[events["time_wd"] <= 60.0]  # the log as it stood on working day 60
    fit = fit_log(log_from_frame(cut), load_scenario(path))
    works = fit.durations["stages.customer_works.duration"]
    assert works.n_censored == int(
        ((cut["concept:name"] == "customer_works") & (cut["lifecycle:transition"] == "start")).sum()
        - ((cut["concept:name"] == "customer_works") & (cut["lifecycle:transition"] == "complete")).sum()
    )
    assert works.n_censored > 0
    table = fit.parameters.set_index("key")
    for key in ("stages.customer_works.duration", "segments.seg.attributes.route.p"):
        assert table.at[key, "ci_low"] <= table.at[key, "base"] <= table.at[key, "ci_high"], key


@pytest.mark.slow
def test_a_log_with_its_own_column_names_and_no_attempts_fits_as_the_full_log(tmp_path):
    path = small_scenario(tmp_path)
    base = load_scenario(path, overrides={"horizon.arrival_days": 40})
    events = sim.run(base, reps=1, seed=7, events=True).events
    names = {
        "case:concept:name": "application_no",
        "concept:name": "step",
        "lifecycle:transition": "status",
        "time:timestamp": "event_time",
        "segment": "category",
    }
    theirs = (
        events[list(names)].rename(columns=names).assign(application_no=lambda t: "A" + t["application_no"])
    )
    log = tmp_path / "utility.csv"
    theirs.to_csv(log, index=False)
    mapping = {"case": "application_no", "activity": "step", "lifecycle": "status", "timestamp": "event_time"}
    fitted = fit_log(read_log(log, mapping | {"segment": "category"}), base).parameters
    expected = fit_log(log_from_frame(events), base).parameters
    pd.testing.assert_frame_equal(fitted, expected)


def test_durations_are_read_on_the_clock_the_stage_counts(tmp_path):
    # the same gamma (mean 10, cv 0.5) in working days and in calendar days: read through the
    # calendar map, each gives back 10 of its own days (calendar days would make the first ~14,
    # working days the second ~7)
    stages = {
        "works_wd": {
            "label": "in working days",
            "owner": "customer",
            "duration": {"dist": "gamma", "mean": 10, "cv": 0.5},
        },
        "works_cd": {
            "label": "in calendar days",
            "owner": "customer",
            "duration": {"dist": "gamma", "mean": 10, "cv": 0.5},
            "calendar": "calendar",
        },
    }
    data = tiny_scenario(stages, ["works_wd", "works_cd"], per_day=4.0, days=60)
    path = tmp_path / "clocks.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    base = load_scenario(path)
    table = fit_log(log_from_frame(sim.run(base, reps=1, seed=2, events=True).events), base).parameters
    for key in ("stages.works_wd.duration", "stages.works_cd.duration"):
        row = table.set_index("key").loc[key]
        assert row["n"] > 200
        assert row["ci_low"] <= 10 <= row["ci_high"], (key, row["estimate"])


def test_an_open_visit_in_one_parallel_branch_is_censored_while_the_other_branch_goes_on(tmp_path):
    flow = ["intake", {"parallel": [["customer_works"], ["approval"]]}, "inspection"]
    data = tiny_scenario(
        STAGES, flow, resources={"clerk": staff(2), "inspector": staff(3, 6.0)}, per_day=3.0, days=80
    )
    path = tmp_path / "parallel.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    events = sim.run(load_scenario(path), reps=1, seed=8, events=True).events
    cut = events[events["time_wd"] <= 50.0]  # the log as it stood on working day 50

    def cases(stage: str, transition: str) -> set[str]:
        rows = (cut["concept:name"] == stage) & (cut["lifecycle:transition"] == transition)
        return set(cut.loc[rows, "case:concept:name"])

    works_open = cases("customer_works", "start") - cases("customer_works", "complete")
    assert works_open & cases("approval", "complete")  # the other branch went on meanwhile
    fit = fit_log(log_from_frame(cut), load_scenario(path))
    assert fit.durations["stages.customer_works.duration"].n_censored == len(works_open)
    assert not [what for what in fit.untimed if "without its complete" in what]


def test_an_arrival_rate_per_year_is_shown_per_year_everywhere(tmp_path):
    # the base writes per_year: 750 (3 a working day); the table, the console and the overlay
    # give the fitted rate in that unit, and the base's value is the file's 750
    data = tiny_scenario({"works": STAGES["customer_works"]}, ["works"], arrivals={"per_year": 750}, days=30)
    path = tmp_path / "per-year.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    log = tmp_path / "events.parquet"
    sim.run(load_scenario(path), reps=1, seed=3, events=True).events.to_parquet(log)
    fit = fit_log(read_log(log), load_scenario(path))
    row = fit.parameters.set_index("key").loc["segments.seg.arrivals.per_year"]
    assert (row["unit"], row["base"]) == ("per year (scale 1)", 750.0)
    assert row["ci_low"] < row["estimate"] < row["ci_high"]
    assert 600 < row["estimate"] < 900  # per year, not 3 a day
    written, comment = fit.overlay["segments.seg.arrivals.per_year"]
    assert written == round(row["estimate"], 3)
    code, out, _ = cli("fit", log, "--base", path, "--out", tmp_path / "fit")
    assert code == 0
    interval = f"[{row['ci_low']:.4g}, {row['ci_high']:.4g}]"
    line = f"  segments.seg.arrivals.per_year: {row['estimate']:.4g} {interval}, base 750 per year (scale 1)"
    assert f"{line} (n={row['n']})" in out.splitlines()
    table = pd.read_csv(tmp_path / "fit" / "parameters.csv").set_index("key")
    assert table.at["segments.seg.arrivals.per_year", "estimate"] == pytest.approx(row["estimate"])
    assert f"{row['estimate']:.4g} per year at scale 1" in comment


def test_rows_without_a_case_and_rows_with_bad_times_are_skipped_and_counted_apart(tmp_path):
    path = small_scenario(tmp_path)
    base = load_scenario(path, overrides={"horizon.arrival_days": 20})
    events = sim.run(base, reps=1, seed=5, events=True).events.astype({"time:timestamp": str})
    events.loc[events.index[:3], "case:concept:name"] = None
    events.loc[events.index[3:5], "time:timestamp"] = ["2021-13-45T10:00:00", "soon"]
    events.loc[events.index[5], "time:timestamp"] = None
    events.loc[events.index[6], "concept:name"] = " "
    log = tmp_path / "faulty.csv"
    events.to_csv(log, index=False)
    read = read_log(log)
    assert read.skipped == {
        "row without a case id": 3,
        "row without an activity": 1,
        "row without a time": 1,
        "row whose time is not a time (expected ISO 8601)": 2,
    }
    report = report_text(fit_log(read, base), [])
    assert "| row without a case id | 3 |" in report
    assert "| row whose time is not a time (expected ISO 8601) | 2 |" in report


@pytest.fixture(scope="module")
def two_segment_log() -> pd.DataFrame:
    """Two replications of two segments whose case numbers (``case_number``) restart per segment
    and per replication: the trap of a log whose case column is a number."""
    events = sim.run(scenario_from_dict(two_waits()), reps=2, seed=4, events=True).events
    assert "case_number" in events and events["replication"].nunique() == 2
    return events


def test_a_log_without_case_ids_gets_the_right_guess_and_following_it_keeps_every_case(two_segment_log):
    events = two_segment_log
    full = log_from_frame(events)
    numbered = events.drop(columns=["case:concept:name"])
    with pytest.raises(LogError) as error:
        log_from_frame(numbered)
    assert str(error.value).endswith(
        "name the column with --map case=case_number (guessed from the columns' names and values: check them)"
    )  # not concept:name, the activity, which looks like case:concept:name by name alone
    followed = log_from_frame(numbered, {"case": "case_number"})
    assert followed.events["case"].nunique() == full.events["case"].nunique()
    shared = numbered.groupby("case_number")["segment"].nunique().gt(1).sum()
    assert followed.notes[0] == (
        f"{shared} case ids hold events of more than one segment (ids numbered per segment?): "
        "each segment's case taken apart, as SEGMENT:ID"
    )
    assert followed.notes[1].endswith(
        "recur in several replications: each replication's case taken apart, as rN/ID"
    )
    assert sorted(followed.events["case"].unique()) == sorted(full.events["case"].unique())


def test_case_ids_reused_across_replications_without_a_replication_column_are_refused(two_segment_log):
    reused = (two_segment_log.groupby("case:concept:name")["replication"].nunique() > 1).sum()
    events = two_segment_log.drop(columns=["replication"])
    message = (
        f"<events>: {reused} case ids have the same event twice at different times (same stage, lifecycle "
        "and attempt): each id is used for several cases, across replications or periods; name the column "
        "that tells them apart with --map replication=COLUMN"
    )
    with pytest.raises(LogError, match="^" + re.escape(message) + "$"):
        log_from_frame(events)
    with pytest.raises(LogError, match=re.escape(message + " (the column 'run' tells them apart)")):
        log_from_frame(events.assign(run=two_segment_log["replication"]))


def test_the_fit_says_where_the_log_disagrees_with_the_base(tmp_path):
    # the log of the small scenario, judged against a base that doubles the customer's works
    # (lognormal mean 6 -> 12) and triples the inspection's lead time (mean 1 -> 3 working days)
    path = small_scenario(tmp_path)
    events = sim.run(
        load_scenario(path, overrides={"horizon.arrival_days": 30}), reps=1, seed=9, events=True
    ).events
    wrong = load_scenario(
        path,
        overrides={
            "stages.customer_works.duration": {"dist": "lognormal", "mean": 12.0, "cv": 0.6},
            "stages.inspection.lead_time": {"dist": "exponential", "mean": 3.0},
        },
    )
    fit = fit_log(log_from_frame(events), wrong)
    table = fit.parameters
    assert table.set_index("key").at["stages.customer_works.duration", "base_inside"] == False  # noqa: E712
    inside = int((table["base_inside"] == True).sum())  # noqa: E712
    assert inside == len(table) - 1 and table["base_inside"].notna().all()
    stages = fit.stages.set_index("stage")
    # the inspection's service is effort / hours per day + lead time: triangular (2, 3, 5) hours
    # at 6 hours a day, + 3 days
    assert stages.at["inspection", "base_service_mean"] == pytest.approx(10 / 3 / 6 + 3.0)
    assert stages.at["inspection", "base_service"] == "effort / hours_per_day + lead time"
    assert fit.agreement() == [
        f"{inside} of {len(table)} base values inside the log's 95% intervals (chance alone puts about "
        f"{0.05 * len(table):.1f} outside, 5%); outside: stages.customer_works.duration",
        "stages not fitted: 1; of the 1 compared by mean service, the base's implied mean inside the log's "
        "95% interval for 0 (chance alone puts about 0.1 outside); outside: inspection",
    ]
    figure = fit_figure("stages.customer_works.duration", fit.durations["stages.customer_works.duration"],
                        base_distribution(wrong, "stages.customer_works.duration"))  # fmt: skip
    labels = figure.axes[0].get_legend_handles_labels()[1]
    assert labels[0] == "log (Kaplan-Meier)" and labels[2] == "base lognormal"
    assert figure.axes[1].get_legend_handles_labels()[1] == ["fitted", "base", "equal"]
    assert figure.axes[0].get_xlabel() == "working days"


def test_the_round_trip_runs_from_the_command_line_on_the_base_or_the_fitted_scenario(tmp_path):
    data = tiny_scenario({"works": STAGES["customer_works"]}, ["works"], per_day=3.0, days=30)
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    code, out, err = cli("fit", "--base", path, "--round-trip", "--reps", 2, "--out", tmp_path / "trip")
    assert (code, err) == (0, "")
    report = (tmp_path / "trip" / "round-trip.md").read_text(encoding="utf-8")
    summary = [line.removeprefix("- ") for line in report.splitlines() if line.startswith("- ")]
    assert out.splitlines()[1:4] == [f"  {line}" for line in summary]
    assert summary[0].startswith("2 of 2 95% intervals cover the true value")  # the duration and the rate
    assert "; widest bound ±" in summary[1] and summary[1].endswith(
        "; with 2 replications the bounds are wide and agreement weak evidence: use --reps 5+"
    )
    table = pd.read_csv(tmp_path / "trip" / "round-trip-parameters.csv")
    assert sorted(table["key"]) == ["segments.seg.arrivals.per_working_day", "stages.works.duration"]
    # with a log: the fit, then the round trip of the fitted scenario beside it
    log = tmp_path / "events.parquet"
    sim.run(load_scenario(path), reps=1, seed=3, events=True).events.to_parquet(log)
    code, out, err = cli("fit", log, "--base", path, "--round-trip", "--reps", 2, "--out", tmp_path / "fit")
    assert (code, err) == (0, "")
    assert "round trip of tiny-fitted (2 replications, seeds 7 and 8):" in out
    assert {"fitted.yaml", "report.md", "round-trip.md", "round-trip-kpis.csv"} <= {
        p.name for p in (tmp_path / "fit").iterdir()
    }
    manifest = json.loads((tmp_path / "fit" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["round_trip"]["reps"] == 2 and manifest["round_trip"]["seeds"] == [7, 8]
    assert {"fitted.yaml", "round-trip.md", "round-trip-kpis.csv"} <= set(manifest["files"])
    assert "round-trip.md" in out.splitlines()[-1] and out.splitlines()[-1].startswith("wrote ")
    code, _, err = cli("fit", "--base", path)
    assert code == 2
    assert (
        err == "error: fit: give the event log to fit (LOG), or --round-trip to check the fit on the base\n"
    )


def test_a_few_reused_case_ids_are_skipped_and_counted_not_merged(two_segment_log):
    # one replication, and one case's events copied 30 days later under the same id: an id used
    # twice among more than 100 cases is a glitch, not a numbering; both copies are skipped
    events = two_segment_log[two_segment_log["replication"] == 0]
    case = events["case:concept:name"].iloc[0]
    copy = events[events["case:concept:name"] == case].assign(
        **{"time:timestamp": lambda t: t["time:timestamp"] + pd.Timedelta(days=30)}
    )
    log = log_from_frame(pd.concat([events, copy], ignore_index=True))
    assert events["case:concept:name"].nunique() > 100
    assert log.skipped == {"row of a case id with the same event twice at different times": 2 * len(copy)}
    assert case not in set(log.events["case"])


def test_missing_columns_are_named_at_once_with_guesses_by_their_values(two_segment_log):
    # by name alone 'replication' looked like the lifecycle and 'concept:name' like the case; by
    # their values the lifecycle is 'status', the time 'stamp' (not 'time_wd', a number of days)
    names = {"lifecycle:transition": "status", "time:timestamp": "stamp"}
    events = two_segment_log.drop(columns=["case:concept:name"]).rename(columns=names)
    with pytest.raises(LogError) as error:
        log_from_frame(events)
    assert str(error.value) == (
        "<events>: no columns 'case:concept:name' (case), 'lifecycle:transition' (lifecycle), "
        "'time:timestamp' (timestamp); the log has scenario, replication, segment, case_number, "
        "concept:name, status, time_wd, org:resource, owner, attempt, stamp; name the columns with "
        "--map case=case_number --map lifecycle=status --map timestamp=stamp (guessed from the columns' "
        "names and values: check them)"
    )


def with_phone_calls(events: pd.DataFrame, every: int) -> pd.DataFrame:
    """Every ``every``-th case gets two ``phone_call`` events (not a stage), attempt 0, a day apart."""
    firsts = events.groupby(["replication", "case:concept:name"], sort=False).head(1).iloc[::every]
    calls = [firsts.assign(**{"concept:name": "phone_call", "lifecycle:transition": "complete"})]
    calls.append(calls[0].assign(**{"time:timestamp": lambda t: t["time:timestamp"] + pd.Timedelta(days=1)}))
    return pd.concat([events, *calls], ignore_index=True)


def test_a_repeated_activity_that_is_not_a_stage_is_skipped_before_case_ids_are_checked(two_segment_log):
    # a phone call twice in 10% of the cases is not a case id used for two cases: read against the
    # base's stages, the calls are skipped first and every case is kept (read blind, it is refused)
    base = scenario_from_dict(two_waits())
    events = with_phone_calls(two_segment_log, every=10)
    with pytest.raises(LogError, match="the same event twice at different times"):
        log_from_frame(events)
    log = log_from_frame(events, stages=base.stages, scenario=base.name)
    calls = int((events["concept:name"] == "phone_call").sum())
    assert log.skipped == {f"unknown activity 'phone_call' (not a stage of {base.name})": calls}
    assert log.events["case"].nunique() == log_from_frame(two_segment_log).events["case"].nunique()
    # calls logged without an attempt number are unknown activities too, not rows without an attempt
    blank = events.assign(attempt=events["attempt"].where(events["concept:name"] != "phone_call"))
    assert log_from_frame(blank, stages=base.stages, scenario=base.name).skipped == log.skipped


def test_events_used_and_rows_skipped_add_up_to_the_rows_read(two_segment_log):
    base = scenario_from_dict(two_waits())
    events = with_phone_calls(two_segment_log, every=150)  # below 1% of cases: once skipped quietly
    events = pd.concat([events, events.iloc[:7]], ignore_index=True)  # 7 duplicated rows
    events.loc[events.index[10:13], "lifecycle:transition"] = "suspend"
    fit = fit_log(log_from_frame(events, stages=base.stages, scenario=base.name), base)
    assert fit.skipped["duplicated row"] == 7 and "unknown activity" in " ".join(fit.skipped)
    assert len(fit.used) + sum(fit.skipped.values()) == fit.log.rows_read == len(events)


def test_a_case_column_of_a_few_values_is_neither_guessed_nor_fitted(two_segment_log):
    # 'owner' (3 values) is close to 'order' by name; the case id is 'app', by its values: many
    # values of a few events each. Following a wrong --map is refused in one line naming 'app'
    base = scenario_from_dict(two_waits())
    events = two_segment_log.drop(columns=["case_number", "attempt"])
    events = events.rename(columns={"case:concept:name": "app"})
    events = events.assign(owner=np.arange(len(events)) % 3)
    with pytest.raises(LogError, match="--map case=app "):
        log_from_frame(events)
    with pytest.raises(LogError) as error:
        log_from_frame(events, {"case": "owner"}, stages=base.stages, scenario=base.name)
    rows = len(events)  # owners taken apart per segment and replication: 12 "cases"
    assert str(error.value) == (
        f"<events>: {rows} events of only 12 cases ({rows / 12:.0f} per case) in the column 'owner', "
        "which does not look like the case id; the column 'app' looks like it: --map case=app"
    )
    assert log_from_frame(events, {"case": "app"}, stages=base.stages).events["case"].nunique() > 100


def test_one_minimum_for_every_estimate_and_small_samples_flagged(two_segment_log):
    # 3 cases of segment a, 12 of b: a's wait and a's arrival rate are both too few to write (one
    # minimum, 5); b's are written, flagged as small samples in the overlay and the notes
    base = scenario_from_dict(two_waits())
    events = two_segment_log[two_segment_log["replication"] == 0]
    keep = [
        events.loc[events["segment"] == s, "case:concept:name"].unique()[:k] for s, k in (("a", 3), ("b", 12))
    ]
    fit = fit_log(log_from_frame(events[events["case:concept:name"].isin(np.concatenate(keep))]), base)
    keys = set(fit.parameters["key"])
    assert "stages.wait_a.duration" not in keys and not any("segments.a.arrivals" in k for k in keys)
    assert {"stages.wait_b.duration"} <= keys and not set(fit.overlay) - keys
    assert all(comment.startswith("SMALL SAMPLE (n=12 < 30)") for _, comment in fit.overlay.values())
    assert any(note.startswith("too few observations (< 5) to fit") for note in fit.notes)
    assert any(note.startswith("small samples (n < 30)") for note in fit.notes)
    report = report_text(fit, [])
    assert "Notes:\n\n- too few observations" in report and "Nothing." not in report
