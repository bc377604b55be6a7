"""Event logs: ``run --events`` as Parquet, CSV and XES; the XES reads back in pm4py with every case
and every stage transition, and is well-formed IEEE 1849 XML."""

from __future__ import annotations

import warnings
import xml.etree.ElementTree as ET

import pandas as pd
import pytest
from builders import fixed, tiny_scenario

import sim
from sim.cli import main
from sim.outputs.event_log import EVENT_FORMATS, write_events, write_xes
from sim.scenario import scenario_from_dict

NS = {"x": "http://www.xes-standard.org/"}
SHORT = ["--set", "horizon.warmup_days=5", "--set", "horizon.arrival_days=12", "--reps", "1"]


@pytest.fixture(scope="module")
def xes_run(tmp_path_factory):
    """The baseline, a short cohort, run through the CLI with ``--events-format xes``."""
    out = tmp_path_factory.mktemp("xes")
    assert main(["run", "scenarios/baseline.yaml", *SHORT, "--events-format", "xes", "--out", str(out)]) == 0
    scenario = sim.load_scenario(
        "scenarios/baseline.yaml", ["horizon.warmup_days=5", "horizon.arrival_days=12"]
    )
    reference = sim.run(scenario, reps=1, events=True)
    return out, reference


@pytest.mark.slow
def test_xes_reads_back_in_pm4py_with_every_case_and_stage(xes_run):
    import pm4py  # the test extra installs it

    out, reference = xes_run
    cases = pd.read_parquet(out / "cases.parquet")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        log = pm4py.read_xes(str(out / "events.xes"))
    assert log["case:concept:name"].nunique() == len(cases)
    assert set(log["case:concept:name"]) == set(cases["case_id"])
    assert len(log) == len(reference.events)
    got = log.groupby(["concept:name", "lifecycle:transition"]).size().sort_index()
    want = reference.events.groupby(["concept:name", "lifecycle:transition"]).size().sort_index()
    pd.testing.assert_series_equal(got, want, check_names=False)
    # every stage that a case visited, with the same counts per segment
    got = log.groupby(["case:segment", "concept:name"]).size().sort_index()
    want = reference.events.groupby(["segment", "concept:name"]).size().sort_index()
    pd.testing.assert_series_equal(got, want, check_names=False)
    # case attributes from the per-case table
    assert {"case:segment", "case:region", "case:kva", "case:important", "case:full_process_wd"} <= set(
        log.columns
    )
    first = log.iloc[0]
    row = cases[cases["case_id"] == first["case:concept:name"]].iloc[0]
    assert first["case:region"] == row["region"]
    assert first["case:elapsed_wd"] == pytest.approx(row["elapsed_wd"])
    # +08:00 local time: the same instant as the table's naive Chongqing timestamp
    events = reference.events
    mine = events[events["case:concept:name"] == first["case:concept:name"]].iloc[0]
    local = pd.Timestamp(mine["time:timestamp"]).tz_localize("Asia/Shanghai")
    assert pd.Timestamp(first["time:timestamp"]) == local.tz_convert("UTC").floor("ms")


def test_xes_header_extensions_globals_and_events(xes_run):
    out, reference = xes_run
    root = ET.parse(out / "events.xes").getroot()
    assert root.tag == "{http://www.xes-standard.org/}log"
    assert root.get("xes.version") == "1849-2016"
    prefixes = {e.get("prefix"): e.get("name") for e in root.findall("x:extension", NS)}
    assert prefixes == {
        "concept": "Concept",
        "lifecycle": "Lifecycle",
        "time": "Time",
        "org": "Organizational",
    }
    scopes = {g.get("scope"): {a.get("key") for a in g} for g in root.findall("x:global", NS)}
    assert {"concept:name"} <= scopes["trace"]
    assert {"concept:name", "lifecycle:transition", "time:timestamp", "org:resource"} <= scopes["event"]
    traces = root.findall("x:trace", NS)
    assert len(traces) == len(reference.cases)
    n_events = 0
    for trace in traces:
        for event in trace.findall("x:event", NS):
            keys = {a.get("key"): a for a in event}
            assert {"concept:name", "lifecycle:transition", "time:timestamp", "org:resource"} <= set(keys)
            assert keys["time:timestamp"].tag.endswith("date")
            assert keys["time:timestamp"].get("value").endswith("+08:00")
            assert keys["lifecycle:transition"].get("value") in ("schedule", "start", "complete")
            n_events += 1
    assert n_events == len(reference.events)


@pytest.mark.slow
def test_events_format_choices(tmp_path, capsys):
    base = ["run", "scenarios/baseline.yaml", *SHORT]
    assert main([*base, "--events", "--out", str(tmp_path / "a")]) == 0
    assert (tmp_path / "a" / "events.parquet").exists()
    assert main([*base, "--format", "csv", "--events", "--out", str(tmp_path / "b")]) == 0
    assert (tmp_path / "b" / "events.csv").exists()
    assert main([*base, "--events-format", "csv", "--out", str(tmp_path / "c")]) == 0  # implies --events
    assert (tmp_path / "c" / "events.csv").exists() and (tmp_path / "c" / "kpis.parquet").exists()
    assert main([*base, "--out", str(tmp_path / "d")]) == 0
    assert not list((tmp_path / "d").glob("events.*"))
    assert main([*base, "--events-format", "json"]) == 2
    assert "invalid choice" in capsys.readouterr().err
    assert EVENT_FORMATS == ("parquet", "csv", "xes")
    with pytest.raises(ValueError, match="unknown event-log format"):
        write_events(pd.DataFrame(), tmp_path, "json")


def _two_replications():
    stages = {
        "accept": {"label": "a", "owner": "utility", "duration": fixed(1)},
        "works": {"label": "w", "owner": "customer", "duration": fixed(2)},
    }
    scenario = scenario_from_dict(tiny_scenario(stages, ["accept", "works"], per_day=1, days=5))
    return sim.run(scenario, reps=2, events=True)


def test_several_replications_get_unique_trace_names(tmp_path):
    result = _two_replications()
    path = write_xes(result.events, tmp_path / "log.xes", cases=result.cases)
    root = ET.parse(path).getroot()
    names = [t.find("x:string[@key='concept:name']", NS).get("value") for t in root.findall("x:trace", NS)]
    assert len(names) == len(set(names)) == len(result.cases)
    assert all(n.startswith(("r0/seg:", "r1/seg:")) for n in names)
    first = root.find("x:trace", NS)
    assert first.find("x:int[@key='replication']", NS).get("value") == "0"
    assert first.find("x:string[@key='case_id']", NS).get("value").startswith("seg:")


def test_xes_escapes_text_and_compresses(tmp_path):
    result = _two_replications()
    events = result.events.copy()
    events["org:resource"] = 'desk <A> & "B"'
    cases = result.cases.assign(region="east & <west>")
    path = write_xes(events, tmp_path / "log.xes.gz", cases=cases, log_name="a&b")
    import gzip

    with gzip.open(path, "rt", encoding="utf-8") as fh:
        root = ET.parse(fh).getroot()
    assert root.find("x:string[@key='concept:name']", NS).get("value") == "a&b"
    trace = root.find("x:trace", NS)
    assert trace.find("x:string[@key='region']", NS).get("value") == "east & <west>"
    event = trace.find("x:event", NS)
    assert event.find("x:string[@key='org:resource']", NS).get("value") == 'desk <A> & "B"'
