"""A file that is not an event log, given to ``fit``: exit status 2 and one line that says what was
found and what to write instead, never a traceback."""

from __future__ import annotations

from test_bad_input import fails

BASE = "scenarios/baseline.yaml"


def test_an_empty_file_is_not_a_log(tmp_path):
    log = tmp_path / "empty.csv"
    log.write_bytes(b"")
    assert fails("fit", log, "--base", BASE) == (
        f"{log}: empty file; expected a header with case:concept:name, concept:name, "
        "lifecycle:transition, time:timestamp and one row per event"
    )


def test_a_header_without_rows_holds_no_events(tmp_path):
    log = tmp_path / "header.csv"
    log.write_text("case:concept:name,concept:name,lifecycle:transition,time:timestamp\n", encoding="utf-8")
    assert fails("fit", log, "--base", BASE).startswith(f"{log}: holds no events")


def test_wrong_columns_name_every_missing_one_and_a_map_guessed_from_names_and_values(tmp_path):
    log = tmp_path / "wrong.csv"
    log.write_text("application,step,when\nA1,acceptance,2021-03-01\n", encoding="utf-8")
    # all five at once; 'when' holds times, 'application' and 'step' have the usual names; nothing
    # holds lifecycle transitions or says which segment
    assert fails("fit", log, "--base", BASE) == (
        f"{log}: no columns 'case:concept:name' (case), 'concept:name' (activity), 'lifecycle:transition' "
        "(lifecycle), 'time:timestamp' (timestamp), 'segment' (segment); the log has application, step, "
        "when; name the columns with --map case=application --map activity=step --map lifecycle=COLUMN "
        "--map timestamp=when --map segment=COLUMN (guessed from the columns' names and values: check them)"
    )


def test_a_mapped_column_that_does_not_exist_is_named(tmp_path):
    log = tmp_path / "wrong.csv"
    log.write_text("application,step,when\nA1,acceptance,2021-03-01\n", encoding="utf-8")
    assert fails("fit", log, "--base", BASE, "--map", "case=application_no") == (
        f"{log}: --map case=application_no: no column 'application_no'; the log has application, step, when"
    )


def test_an_unknown_name_in_the_mapping_gets_a_hint(tmp_path):
    assert fails("fit", tmp_path / "x.csv", "--base", BASE, "--map", "activty=step") == (
        "--map activty=step: unknown name 'activty' (did you mean 'activity'?); expected one of case, "
        "activity, lifecycle, timestamp, resource, segment, replication, attempt"
    )


def test_a_csv_that_is_not_utf8_says_so(tmp_path):
    log = tmp_path / "gbk.csv"
    log.write_bytes("case:concept:name,concept:name\n申请,受理\n".encode("gbk"))
    line = fails("fit", log, "--base", BASE)
    assert line.startswith(f"{log}: not UTF-8 text (byte 0x") and line.endswith("); save the log as UTF-8")


def test_an_xes_that_is_not_xml_says_where(tmp_path):
    log = tmp_path / "broken.xes"
    log.write_text('<?xml version="1.0"?>\n<log>\n<trace>\n</log>\n', encoding="utf-8")
    assert fails("fit", log, "--base", BASE).startswith(f"{log}: not well-formed XES (line 4)")


def test_an_unknown_format_and_a_missing_file(tmp_path):
    other = tmp_path / "log.json"
    other.write_text("{}", encoding="utf-8")
    assert fails("fit", other, "--base", BASE) == (
        f"{other}: unknown log format '.json'; expected .csv, .parquet or .xes (.csv.gz, .xes.gz)"
    )
    missing = tmp_path / "none.csv"
    assert fails("fit", missing, "--base", BASE) == (
        f"{missing}: no such file; give the path of an event log (.csv, .parquet or .xes)"
    )


def test_timestamps_that_are_not_times(tmp_path):
    log = tmp_path / "times.csv"
    log.write_text(
        "case:concept:name,concept:name,lifecycle:transition,time:timestamp\nlv_smb:1,acceptance,start,soon\n",
        encoding="utf-8",
    )
    assert fails("fit", log, "--base", BASE) == (
        f"{log}: column 'time:timestamp' holds no timestamps (found 'soon'); "
        "expected ISO 8601 times such as 2021-03-04T09:00:00+08:00"
    )


def test_a_log_of_another_process_has_no_stage_of_the_scenario(tmp_path):
    log = tmp_path / "other.csv"
    log.write_text(
        "case:concept:name,concept:name,lifecycle:transition,time:timestamp\n"
        "lv_smb:1,order pizza,start,2021-03-01T10:00:00\nlv_smb:1,order pizza,complete,2021-03-01T11:00:00\n",
        encoding="utf-8",
    )
    assert fails("fit", log, "--base", BASE) == (
        f"{log}: no event of a stage and segment of baseline (unknown activity 'order pizza' (not a stage "
        "of baseline): 2); check the log's activities and segments against the scenario"
    )


def test_round_trip_options_without_the_round_trip_are_refused(tmp_path):
    # --reps would be ignored silently: it applies to the round trip only
    assert fails("fit", tmp_path / "x.csv", "--base", BASE, "--reps", "3") == (
        "fit: --reps applies to --round-trip only; add it, or leave it out"
    )
