"""``run SCENARIO --warm-start LOG --cut-off DATE`` through the command line: what it prints, and
its bad input (exit status 2, one line, no traceback)."""

from __future__ import annotations

import json

import pandas as pd
import yaml
from builders import fixed, tiny_scenario
from test_bad_input import cli, fails

STAGES = {
    "review": {"label": "Review", "owner": "utility", "duration": fixed(2)},
    "works": {"label": "Works", "owner": "customer", "duration": fixed(10)},
}
LOG = (
    "case:concept:name,segment,concept:name,lifecycle:transition,time:timestamp\n"
    "A,seg,review,start,2021-03-01T00:00:00+08:00\n"
    "A,seg,review,complete,2021-03-03T00:00:00+08:00\n"
    "A,seg,works,start,2021-03-03T00:00:00+08:00\n"
    "B,seg,review,start,2021-03-04T00:00:00+08:00\n"
    "C,elsewhere,review,start,2021-03-04T00:00:00+08:00\n"
)


def files(tmp_path):
    scenario = tmp_path / "tiny.yaml"
    data = tiny_scenario(STAGES, ["review", "works"], arrivals={"at": [5.0]}, days=10)
    scenario.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    log = tmp_path / "log.csv"
    log.write_text(LOG, encoding="utf-8")
    return scenario, log


def test_the_run_says_how_many_cases_were_warm_started_and_which_could_not_be_placed(tmp_path):
    scenario, log = files(tmp_path)
    out = tmp_path / "out"
    done = cli("run", scenario, "--warm-start", log, "--cut-off", "2021-03-05", "--reps", "2", "--out", out)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == (
        f"warm start from {log} at 2021-03-05: 2 cases warm-started in each of 2 replications (4 in all), "
        "0 finished before the cut-off, 1 could not be placed (0 likely lost records)"
    )
    assert lines[1:4] == [
        "  the log has no replications: each of the 2 starts from its one backlog (the same cases and "
        "times before the cut-off), with random numbers of its own after it",
        "  warm-started per segment (in each replication): seg 2",
        "  not placed (1): segment 'elsewhere' is not in the scenario",
    ]
    # the backlog's own KPIs, and when it is cleared: A connects on 17 March, B at the end of the 19th
    assert (
        "backlog cleared (its last case connected) by 2021-03-20 (95% interval 2021-03-20 to " in done.stdout
    )
    backlog = pd.read_parquet(out / "backlog.parquet")
    assert backlog[["segment", "n_cases", "elapsed_wd_max"]].values.tolist() == [["seg", 2.0, 12.0]]
    cases = pd.read_parquet(out / "cases.parquet")
    assert sorted(cases.loc[cases["warm_started"], "case_id"]) == ["log/A", "log/A", "log/B", "log/B"]
    assert pd.read_parquet(out / "not_placed.parquet")[["case", "reason"]].values.tolist() == [
        ["log/C", "segment 'elsewhere' is not in the scenario"]
    ]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["warm_start"] == {
        "log": str(log),
        "cut_off": "2021-03-05",
        "log_replications_read": None,  # the log has none: its one backlog in each replication
        "warm_started": 4,  # the cases table's rows: 2 in each of 2 replications
        "warm_started_per_replication": [2, 2],
        "warm_started_per_segment": {"seg": 4},
        "not_placed": 1,
        "likely_lost_records": 0,
        "finished_before": 0,
        "events_skipped": {},
        "attributes_logged": {},
        "attributes_inferred": {},
        "attributes_drawn": {},
        "backlog_cleared": "2021-03-20",
        "backlog_cleared_lo": "2021-03-20",
        "backlog_cleared_hi": "2021-03-20",
        "backlog_cleared_first": "2021-03-20",
        "backlog_cleared_last": "2021-03-20",
        "backlog_interval_truncated": False,
        "backlog_open_at_end": 0,
        "backlog_replications": 2,
    }
    assert manifest["scenario"]["horizon"]["start"] == "2021-03-05"


def test_bad_warm_start_input_is_one_line(tmp_path):
    scenario, log = files(tmp_path)
    out = str(tmp_path / "out")
    assert fails("run", scenario, "--warm-start", log, "--cut-off", "2021-04-01", "--out", out) == (
        f"{log}: --cut-off 2021-04-01 is outside the log's span (2021-03-01 to 2021-03-04); "
        "give a date from 2021-03-02 to 2021-03-05"
    )
    assert fails("run", scenario, "--warm-start", scenario, "--cut-off", "2021-03-03", "--out", out) == (
        f"{scenario}: unknown log format '.yaml'; expected .csv, .parquet or .xes (.csv.gz, .xes.gz)"
    )
    assert fails("run", scenario, "--warm-start", log, "--out", out) == (
        "--warm-start needs --cut-off YYYY-MM-DD: the date its open cases are taken at"
    )
    assert fails("run", scenario, "--cut-off", "2021-03-03", "--out", out) == (
        "--cut-off and --map go with --warm-start LOG; add it, or leave them out"
    )
    assert fails("run", scenario, "--warm-start", log, "--cut-off", "3 March", "--out", out) == (
        "run_sim.py run: argument --cut-off: expected a date YYYY-MM-DD, found '3 March' (see --help)"
    )


def test_a_cut_off_after_one_replications_last_event_is_one_line_naming_it(tmp_path):
    scenario, _ = files(tmp_path)
    log = tmp_path / "two.csv"
    log.write_text(
        "case:concept:name,segment,replication,concept:name,lifecycle:transition,time:timestamp\n"
        "A,seg,0,review,start,2021-03-01T00:00:00+08:00\n"
        "A,seg,1,review,start,2021-03-01T00:00:00+08:00\n"
        "B,seg,1,review,start,2021-03-09T00:00:00+08:00\n",
        encoding="utf-8",
    )
    out = str(tmp_path / "out")
    assert fails(
        "run", scenario, "--warm-start", log, "--cut-off", "2021-03-05", "--reps", "2", "--out", out
    ) == (
        f"{log}: --cut-off 2021-03-05 is outside the span of the log's replication 0 (2021-03-01 to "
        "2021-03-01, its last event); give a date from 2021-03-02 to 2021-03-02"
    )
