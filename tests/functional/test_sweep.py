"""Sweeps: the same tables serially, on processes and on a Dask cluster; point-by-point files,
resume without recomputation, failed points recorded, Ctrl-C keeps finished points; sweep-file
errors; figures."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

import sim
from sim.cli import main
from sim.experiments import replications
from sim.experiments.executors import Executor, SerialExecutor
from sim.experiments.sweep import load_sweep, point_files, run_sweep, summarise_sweep
from sim.outputs.sweep_figures import write_sweep_figures
from sim.outputs.tables import read_table

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "scenarios" / "baseline.yaml"

# a short horizon: a replication takes ~0.1 s
SHORT = {"horizon.warmup_days": 10, "horizon.arrival_days": 30, "horizon.drain_days": 40}
MANAGERS = "resources.customer_manager.capacity"
ENGINEERS = "resources.plan_engineer.capacity"


def write_sweep(folder: Path, **changes) -> Path:
    """A 2 x 3 grid with 4 replications on the baseline with a short horizon."""
    body = {
        "name": "test-sweep",
        "base": os.path.relpath(BASELINE, folder),
        "replications": 4,
        "seed": 11,
        "set": dict(SHORT),
        "grid": {MANAGERS: [2, 6], ENGINEERS: [2, 3, 4]},
        "labels": {MANAGERS: "Customer managers (people)"},
    }
    body.update(changes)
    path = folder / "sweep.yaml"
    path.write_text(yaml.safe_dump(body, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=False,
        protocol="tcp://",
        host="127.0.0.1",
        dashboard_address=None,
    ) as local:
        yield local


@pytest.fixture(scope="module")
def serial_table(tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    folder = tmp_path_factory.mktemp("serial")
    figures = [  # the same KPI twice: two files
        {"kpi": "handling_wd_mean", "segment": "lv_smb"},
        {"kpi": "handling_wd_mean", "segment": "lv_smb", "x": MANAGERS, "kind": "lines"},
    ]
    path = write_sweep(folder, figure=figures)
    return path, sim.sweep(path, jobs=1, out=folder / "out", figures=write_sweep_figures)


@pytest.mark.slow
def test_table_is_tidy_with_parameter_columns_and_manifest(serial_table):
    path, table = serial_table
    out = path.parent / "out"
    segments = list(sim.load_scenario(BASELINE).segments)
    assert len(table) == 6 * 4 * len(segments)  # points x replications x segments
    assert list(table.columns[:5]) == ["sweep", "point", "point_id", MANAGERS, ENGINEERS]
    assert table.groupby("point").size().eq(4 * len(segments)).all()
    first = table[table["point"] == 0]
    assert (first[MANAGERS] == 2).all() and (first[ENGINEERS] == 2).all()
    assert list(first["replication"].unique()) == [0, 1, 2, 3]
    assert table[MANAGERS].dtype == "int64"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert manifest["replications"] == 4 and manifest["seed"] == 11
    assert [p["overrides"] for p in manifest["points"]][:2] == [
        {MANAGERS: 2, ENGINEERS: 2},
        {MANAGERS: 2, ENGINEERS: 3},
    ]
    pd.testing.assert_frame_equal(read_table(out / "kpis.parquet"), table)
    assert len(list((out / "points").glob("*.kpis.parquet"))) == 6
    assert (out / "handling_wd_mean-lv_smb.png").stat().st_size > 10_000
    assert (out / "handling_wd_mean-lv_smb-lines.png").stat().st_size > 10_000
    assert manifest["files"][3:5] == ["handling_wd_mean-lv_smb.png", "handling_wd_mean-lv_smb-lines.png"]
    points = read_table(out / "points.parquet")
    assert list(points["status"]) == ["done"] * 6
    summary = summarise_sweep(table, "handling_wd_mean", "lv_smb")
    assert len(summary) == 6 and (summary["replications"] == 4).all()


@pytest.mark.slow
def test_same_seed_same_table_serial_processes_and_dask_cluster(serial_table, cluster, tmp_path):
    path, serial = serial_table
    on_processes = sim.sweep(path, jobs=2, out=tmp_path / "processes")
    on_cluster = sim.sweep(path, scheduler=cluster.scheduler_address, out=tmp_path / "dask")
    pd.testing.assert_frame_equal(serial, on_processes)
    pd.testing.assert_frame_equal(serial, on_cluster)
    # without files (tables assembled in memory): the same values
    in_memory = sim.sweep(path, jobs=1)
    pd.testing.assert_frame_equal(serial, in_memory)
    # and each point is what sim.run gives for that scenario
    one = sim.run(
        sim.load_scenario(BASELINE, {**SHORT, MANAGERS: 6, ENGINEERS: 3}), reps=4, seed=11
    ).kpis.reset_index(drop=True)
    from_sweep = serial[serial["point"] == 4].iloc[:, 5:].reset_index(drop=True)
    pd.testing.assert_frame_equal(from_sweep, one)


@pytest.mark.slow
def test_run_on_dask_cluster_matches_serial(cluster):
    scenario = sim.load_scenario(BASELINE, SHORT)
    serial = sim.run(scenario, reps=3, seed=4)
    on_cluster = sim.run(scenario, reps=3, seed=4, scheduler=cluster.scheduler_address)
    pd.testing.assert_frame_equal(serial.cases, on_cluster.cases)
    pd.testing.assert_frame_equal(serial.kpis, on_cluster.kpis)


@pytest.mark.slow
def test_resume_recomputes_nothing_done(tmp_path, monkeypatch):
    path = write_sweep(tmp_path, replications=2, grid={MANAGERS: [2, 6], ENGINEERS: [2, 4]})
    out = tmp_path / "out"
    calls = []
    original = replications.run_task

    def counting(task):
        calls.append(task.replication)
        return original(task)

    monkeypatch.setattr(replications, "run_task", counting)
    first = sim.sweep(path, jobs=1, out=out)
    assert len(calls) == 4 * 2
    files = sorted((out / "points").glob("*.kpis.parquet"))
    mtimes = {f: f.stat().st_mtime_ns for f in files}

    calls.clear()
    again = sim.sweep(path, jobs=1, out=out, resume=True)
    assert calls == []
    assert {f: f.stat().st_mtime_ns for f in files} == mtimes
    pd.testing.assert_frame_equal(first, again)

    # a point whose file is gone is the only one computed
    files[1].unlink()
    again = sim.sweep(path, jobs=1, out=out, resume=True)
    assert calls == [0, 1]
    pd.testing.assert_frame_equal(first, again)
    assert list(again.attrs["points"].values()) == ["resumed", "done", "resumed", "resumed"]
    pd.concat([again, again])  # attrs hold plain data: pandas can compare them when combining

    # more replications: a different point (its digest changes), so everything runs again
    calls.clear()
    sim.sweep(path, jobs=1, out=out, resume=True, reps=3)
    assert len(calls) == 4 * 3


@pytest.mark.slow
def test_failed_point_is_recorded_and_the_sweep_goes_on(tmp_path, capsys):
    # a horizon in 2031 is beyond the published calendar: the model raises for that point only
    path = write_sweep(
        tmp_path,
        replications=2,
        grid={MANAGERS: [2, 6]},
        points=[{"horizon.start": "2031-03-03"}],
    )
    out = tmp_path / "out"
    code = main(["sweep", str(path), "--jobs", "2", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 1
    assert "1 of 3 points failed: p0002-" in captured.err
    assert "horizon.start=2031-03-03" in captured.err and "CalendarError" in captured.err
    table = read_table(out / "kpis.parquet")
    assert sorted(table["point"].unique()) == [0, 1]
    errors = list((out / "points").glob("*.error.json"))
    assert len(errors) == 1
    record = json.loads(errors[0].read_text())
    assert record["point"] == 2 and "CalendarError" in record["error"] and record["traceback"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "failed" and list(manifest["failures"]) == [record["point_id"]]
    points = read_table(out / "points.parquet")
    assert list(points["status"]) == ["done", "done", "failed"]
    # the API: the table without the failed point, the failure in attrs, a warning
    with pytest.warns(RuntimeWarning, match="1 of 3 sweep points failed"):
        api = sim.sweep(path, jobs=1)
    assert list(api.attrs["failures"]) == [record["point_id"]]


@pytest.mark.slow
def test_ctrl_c_keeps_finished_points_and_resume_completes_each_once(tmp_path, serial_table):
    path = write_sweep(tmp_path, grid={MANAGERS: [2, 6], ENGINEERS: [2, 3, 4]})
    out = tmp_path / "out"
    command = [sys.executable, str(ROOT / "run_sim.py"), "sweep", str(path), "--jobs", "2", "--out", str(out)]
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    points = out / "points"
    deadline = time.monotonic() + 90
    while not list(points.glob("*.kpis.parquet")):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no point finished in time"
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, (stdout, stderr)
    assert "run again with --resume" in stderr and "Traceback" not in stderr
    kept = sorted(points.glob("*.kpis.parquet"))
    assert 1 <= len(kept) < 6, "the sweep was not interrupted halfway"
    for f in kept:  # every finished point is complete and readable
        assert read_table(f)["replication"].nunique() == 4
    assert not list(points.glob(".*.tmp"))
    assert json.loads((out / "manifest.json").read_text())["status"] == "interrupted"

    resumed = subprocess.run([*command, "--resume"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{len(kept)} already done" in resumed.stdout
    table = read_table(out / "kpis.parquet")
    per_point = table.groupby("point")["replication"].agg(["size", "nunique"])
    assert list(per_point.index) == list(range(6))
    assert (per_point["nunique"] == 4).all()
    assert (per_point["size"] == 4 * table["segment"].nunique()).all()  # each point exactly once
    pd.testing.assert_frame_equal(table, serial_table[1])  # the same as an uninterrupted sweep


class LastFirst(Executor):
    """Runs the tasks in this process from the last to the first, as a pool may finish them, and
    gets Ctrl-C after ``stop_after`` of them (never with None)."""

    def __init__(self, stop_after: int | None = None) -> None:
        self.stop_after = stop_after

    def run(self, fn, tasks):
        for done, index in enumerate(reversed(range(len(tasks)))):
            if done == self.stop_after:
                raise KeyboardInterrupt
            yield index, fn(tasks[index])

    def describe(self) -> dict:
        return {"executor": "last-first", "workers": 1}


def test_a_point_that_finishes_before_earlier_ones_is_written_at_once_and_kept_on_ctrl_c(tmp_path):
    path = write_sweep(tmp_path, replications=2, grid={MANAGERS: [2, 4, 6]})
    spec = load_sweep(path)
    out = tmp_path / "out"
    # tasks 5, 4 (point 2), 3, 2 (point 1) finish; Ctrl-C comes before any of point 0's
    with pytest.raises(KeyboardInterrupt):
        run_sweep(spec, out=out, executor=LastFirst(stop_after=4))
    written = [point_files(out, p)["kpis"].exists() for p in spec.points]
    assert written == [False, True, True]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "interrupted" and manifest["points_finished"] == 2

    resumed = run_sweep(spec, out=out, resume=True, executor=LastFirst())
    assert (resumed.computed, resumed.skipped) == (1, 2)
    # in point order and bit-identical to a sweep whose points finished in order
    in_order = run_sweep(spec, executor=SerialExecutor())
    pd.testing.assert_frame_equal(resumed.table, in_order.table)
    pd.testing.assert_frame_equal(resumed.pools, in_order.pools)
    last_first = run_sweep(spec, executor=LastFirst())
    pd.testing.assert_frame_equal(last_first.table, in_order.table)
    assert list(last_first.table["point"].unique()) == [0, 1, 2]


def line_of(path: Path, text: str, nth: int = 1) -> int:
    """The number of the ``nth`` line of the file that contains ``text``."""
    hits = [i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line]
    return hits[nth - 1]


@pytest.mark.parametrize(
    ("changes", "where", "expected"),
    [
        (
            {"grid": {"resources.custmer_manager.capacity": [1, 2]}},
            ("custmer_manager", 1),
            "grid.resources.custmer_manager.capacity: no key 'custmer_manager' at resources "
            "(did you mean 'customer_manager'?)",
        ),
        (
            {"grid": {MANAGERS: [2, 0]}},
            ("- 0", 1),
            "resources.customer_manager.capacity: found 0; input should be greater than or equal to 1 "
            "(sweep point 1: resources.customer_manager.capacity=0)",
        ),
        ({"gird": {MANAGERS: [2]}}, ("gird:", 1), "gird: unknown key 'gird' (did you mean 'grid'?)"),
        (
            {"grid": {MANAGERS: 3}},
            (MANAGERS, 1),
            "grid.resources.customer_manager.capacity: found 3; expected a non-empty list of values",
        ),
        (
            {"grid": {}, "points": [{MANAGERS: 3}, {MANAGERS: 3}]},
            (MANAGERS, 3),  # labels, point 0, point 1
            "point 1 (resources.customer_manager.capacity=3) repeats point 0",
        ),
        (
            {"figure": {"kpi": "on_target_share", "segment": "lv_sbm"}},
            ("segment: lv_sbm", 1),
            "figure.segment: no segment 'lv_sbm' (did you mean 'lv_smb'?)",
        ),
        ({"base": "missing.yaml"}, ("base:", 1), "base: base scenario"),
        (
            {"replications": "four"},
            ("replications:", 1),
            "replications: found 'four'; expected a whole number",
        ),
        (
            {"grid": {MANAGERS: [2, 2]}},
            (MANAGERS, 1),
            "grid.resources.customer_manager.capacity: the list repeats a value",
        ),
        ({"grid": {1: [2]}}, ("1:", 1), "grid[1]: found the key 1; expected a key path"),
        (
            {"grid": {"resources..capacity": [1]}},
            ("resources..capacity", 1),
            "grid.resources..capacity: cannot read the key path at ''",
        ),
        (
            {"set": {"horizon.arival_days": 30}},
            ("arival_days", 1),
            "set.horizon.arival_days: no key 'arival_days' at horizon (did you mean 'arrival_days'?); "
            "a sweep only replaces existing keys",
        ),
        (
            {"grid": {}, "points": [3]},
            ("- 3", 1),
            "points[0]: found 3; expected a mapping of key paths to values",
        ),
        (
            {"labels": {"resources.inspector.capacity": "Inspectors"}},
            ("resources.inspector.capacity", 1),
            "labels.resources.inspector.capacity: 'resources.inspector.capacity' is not a parameter of "
            "this sweep",
        ),
        (
            {"figure": {"kpi": "on_target_share", "segmnt": "lv_smb"}},
            ("segmnt", 1),
            "figure.segmnt: unknown key 'segmnt' (did you mean 'segment'?); "
            "expected one of file, kind, kpi, segment, title, x, y",
        ),
        (
            {"figure": [{"kpi": "on_target_share", "segment": "lv_smb", "x": "seed"}]},
            ("x: seed", 1),
            "figure[0].x: 'seed' is not a parameter of this sweep",
        ),
        (
            {"figure": {"kpi": "on_target_share", "kind": "bars"}},
            ("kind: bars", 1),
            "figure.kind: found 'bars'; input should be 'auto', 'heatmap' or 'lines'",
        ),
        ({"figure": {"segment": "lv_smb"}}, ("figure:", 1), "figure.kpi: missing required key 'kpi'"),
    ],
)
def test_sweep_file_errors_name_file_line_and_key(tmp_path, capsys, changes, where, expected):
    path = write_sweep(tmp_path, **changes)
    code = main(["sweep", str(path), "--jobs", "1", "--out", str(tmp_path / "out")])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and captured.err.startswith("error: ")
    assert f"sweep.yaml:{line_of(path, *where)}: {expected}" in captured.err, captured.err
    assert not (tmp_path / "out").exists()


def test_sweep_file_without_points_or_not_a_mapping_is_refused(tmp_path):
    path = write_sweep(tmp_path, grid={})
    with pytest.raises(sim.ScenarioError, match=r"sweep\.yaml: a sweep needs 'grid' .* or 'points' or both$"):
        load_sweep(path)
    path.write_text("- 1\n- 2\n", encoding="utf-8")
    with pytest.raises(
        sim.ScenarioError, match=r"sweep\.yaml:1: a sweep file is a mapping of keys, found list$"
    ):
        load_sweep(path)


def test_points_and_grid_together_fill_missing_parameters_from_the_base(tmp_path):
    path = write_sweep(tmp_path, grid={MANAGERS: [2, 6]}, points=[{ENGINEERS: 5}])
    spec = load_sweep(path, reps=1)
    assert spec.parameters == [MANAGERS, ENGINEERS]
    assert spec.values[MANAGERS].tolist() == [2, 6, 6]  # the base scenario's 6 for the listed point
    assert spec.values[ENGINEERS].tolist() == [4, 4, 5]
    assert [p.scenario.replications for p in spec.points] == [1, 1, 1]


def test_sweep_from_a_mapping_with_a_loaded_scenario():
    base = sim.load_scenario(BASELINE, SHORT)
    spec = load_sweep({"base": base, "grid": {MANAGERS: [3, 4]}, "replications": 1, "seed": 3})
    outcome = run_sweep(spec, jobs=1)
    assert outcome.table["point"].nunique() == 2 and not outcome.failures
    assert outcome.table["scenario"].eq(base.name).all()


def test_plot_sweep_heatmap_and_lines(serial_table):
    from sim.outputs.sweep_figures import plot_sweep

    _, table = serial_table
    fig = plot_sweep(table, "on_target_share", segment="lv_smb", labels={MANAGERS: "Managers (people)"})
    ax = fig.axes[0]
    assert ax.get_xlabel() == "Managers (people)" and ax.get_ylabel() == ENGINEERS
    assert "Share of cases on target" in ax.get_title()
    assert fig.axes[1].get_ylabel() == "Share of cases on target (% of counted cases)"  # colour bar
    fig = plot_sweep(table, "handling_wd_mean", segment="lv_smb", kind="lines")
    assert fig.axes[0].get_ylabel() == "Handling time, mean (working days)"
    assert len(fig.axes[0].get_legend().get_texts()) == 3
    with pytest.raises(ValueError, match="name a segment"):
        plot_sweep(table, "on_target_share")
