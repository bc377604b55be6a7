"""The KPI catalogue names every column of the result tables, once."""

import json
from pathlib import Path

import pytest

from sim import kpi_catalogue as cat

BASELINE = Path(__file__).resolve().parents[1] / "regression" / "baseline_kpis.json"


def test_every_recorded_kpi_of_the_baseline_is_a_catalogued_kpi():
    recorded = json.loads(BASELINE.read_text())["kpis"]
    for group, kpis in recorded.items():
        prefix = group.split(":")[0] if ":" in group else ""
        table = {"pool": "pools", "material": "materials", "target": "targets"}.get(prefix, "kpis")
        for name in kpis:
            entry = cat.kpi(name)
            assert entry.table == table, name
            assert entry.is_kpi or name in cat.TARGET_BOUNDS, name


def test_measure_statistics_are_named_measure_clock_statistic():
    names = cat.kpi_names("kpis")
    for measure in cat.MEASURE_NAMES:
        for stat in cat.STATISTICS:
            assert f"{measure}_wd_{stat}" in names
    assert cat.kpi("full_process_wd_p95").label == "Full process time, 95th percentile"
    assert cat.kpi("full_process_wd_p95").label_zh == "全过程时长95%分位数"
    assert cat.unit_label("handling_wd_mean") == "working days"
    assert cat.unit_label("handling_wd_mean", "zh") == "工作日"


def test_identifiers_and_settings_are_not_kpis_and_unknown_columns_are_not_either():
    for name in ("scenario", "replication", "segment", "target_days", "units", "capacity", "pool"):
        assert not cat.is_kpi(name)
    assert not cat.is_kpi("kva")  # a scenario attribute
    assert cat.is_kpi("on_target_share") and cat.kpi("on_target_share").is_share
    with pytest.raises(KeyError, match="no KPI 'on_target'"):
        cat.kpi("on_target")


def test_every_entry_has_both_labels_and_names_are_unique():
    names = [k.name for table in ("kpis", "pools", "materials", "targets") for k in cat.entries(table)]
    assert len(names) == len(set(names)) == len(cat.CATALOGUE)
    for entry in cat.CATALOGUE.values():
        assert entry.label and entry.label_zh


SHORT = {"horizon.warmup_days": 5, "horizon.arrival_days": 20, "horizon.drain_days": 40}
SHARED = ("scenario", "replication", "segment")  # identifiers shared by tables, catalogued once


def test_every_column_of_a_runs_tables_is_catalogued_in_its_table_and_the_check_records_its_kpis():
    from builders import BASELINE

    import sim
    from sim.experiments.check import kpi_intervals, recorded

    result = sim.run(sim.load_scenario(BASELINE, SHORT), reps=2)
    for table in ("kpis", "pools", "materials", "targets"):
        columns = [c for c in getattr(result, table).columns if table == "kpis" or c not in SHARED]
        assert [c for c in columns if cat.kpi(c).table != table] == [], table
    kpis = {c for t in ("kpis", "pools", "materials", "targets") for c in cat.kpi_names(t)}
    compared_only = {"target_wd_mean", "target_wd_p95", "target_wd_max"}  # the comparison's columns
    assert set(kpi_intervals(result)["kpi"]) == (kpis - compared_only) | set(cat.TARGET_BOUNDS)
    assert not any(recorded(name) for name in ("replication", "units", "capacity", "segment", "pool"))


def test_headings_and_axis_labels_say_the_unit_once():
    assert cat.axis_label("on_target_share") == "Share of cases on target (% of counted cases)"
    assert cat.axis_label("utilisation") == "Utilisation (%)"
    assert cat.axis_label("elapsed_cd_mean") == "Elapsed time, mean (calendar days)"
    assert cat.axis_label("n_cases") == "Counted cases"
    assert cat.axis_label("handling_wd_mean", "zh") == "办电环节时长平均值（工作日）"
    assert cat.heading("on_target_share") == "on target"  # its cells carry the % sign
    assert cat.heading("wait_wd_mean") == "mean wait (wd)"
    assert cat.heading("elapsed_cd_mean") == "elapsed mean (cd)"
    assert cat.heading("n_open") == "open"
    assert cat.heading("kva") == cat.short_label("kva") == cat.label("kva") == "kva"
