"""Baseline regression: ``run_sim.py check`` passes on the committed model, catches a deliberate
change of a duration, and its tolerance rule has the false-alarm rate it claims."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml
from builders import ROOT, staff, tiny_scenario, work
from scipy import stats as st

from sim.cli import main
from sim.experiments import check
from sim.experiments.baseline_file import Baseline
from sim.outputs.check_report import format_report

BASELINE_FILE = ROOT / "tests" / "regression" / "baseline_kpis.json"


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run(
        [sys.executable, str(ROOT / "run_sim.py"), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


# ---------------------------------------------------------------- the real check, through the CLI


def test_recorded_baseline_describes_the_baseline_scenario():
    recorded = Baseline.read(BASELINE_FILE)
    assert recorded.scenario_file == (ROOT / "scenarios" / "baseline.yaml").resolve()
    assert recorded.replications >= 10
    body = json.loads(BASELINE_FILE.read_text(encoding="utf-8"))
    for key in ("scenario_digest", "seed", "replications", "versions", "kpis"):
        assert key in body
    assert {"lv_resident", "lv_smb", "hv_single", "pool:inspector"} <= set(body["kpis"])
    assert {"mean", "half_width", "n"} == set(body["kpis"]["lv_smb"]["full_process_wd_mean"])


@pytest.mark.slow
def test_check_passes_on_the_committed_model():
    proc = _cli("check", "--all")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "ok: no KPI drifted" in proc.stdout
    for column in ("recorded", "now", "difference", "tolerance", "verdict"):
        assert column in proc.stdout
    assert "DRIFT" not in proc.stdout


@pytest.mark.slow
def test_check_catches_a_longer_completion_inspection_and_names_the_kpi():
    proc = _cli("check", "--set", "stages.completion_lv.lead_time.max=8", "--changed")
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    drift_line = next(line for line in proc.stdout.splitlines() if line.startswith("DRIFT in"))
    assert "lv_smb.handling_wd_mean" in drift_line
    rows = [line.split() for line in proc.stdout.splitlines()]
    assert any(r[:2] == ["lv_smb", "handling_wd_mean"] and r[-1] == "DRIFT" for r in rows if len(r) > 2)
    # segments whose flows do not use the stage are untouched
    assert not any(r[0] == "lv_resident" and r[-1] == "DRIFT" for r in rows if r)


# ---------------------------------------------------------------- the tolerance rule


def _table(rows):
    return pd.DataFrame(rows, columns=["group", "kpi", "mean", "half_width", "n"])


def test_tolerance_is_the_bonferroni_t_bound_on_the_recorded_interval():
    n, hw, m = 20, 0.5, 100
    s = hw * math.sqrt(n) / st.t.ppf(0.975, n - 1)
    expected = st.t.ppf(1 - 0.05 / (2 * m), n - 1) * s * math.sqrt(2 / n)
    assert check.tolerance(hw, n, n, m) == pytest.approx(expected)
    assert check.tolerance(hw, n, n, m) == pytest.approx(2.83 * hw, rel=0.01)  # ≈ 2.8 half-widths
    assert math.isnan(check.tolerance(0.0, n, n, m))  # no spread: exact comparison
    assert math.isnan(check.tolerance(float("nan"), 1, 1, m))


def test_verdicts():
    recorded = _table(
        [
            ("a", "same", 1.0, 0.1, 20),
            ("a", "within", 1.0, 0.1, 20),
            ("a", "drift", 1.0, 0.1, 20),
            ("a", "exact", 4.0, 0.0, 20),
            ("a", "exact_same", 4.0, 0.0, 20),
            ("a", "both_nan", math.nan, math.nan, 0),
            ("a", "lost_value", 2.0, 0.1, 20),
            ("a", "gone", 1.0, 0.1, 20),
        ]
    )
    now = _table(
        [
            ("a", "same", 1.0 + 1e-13, 0.1, 20),
            ("a", "within", 1.1, 0.1, 20),
            ("a", "drift", 1.5, 0.1, 20),
            ("a", "exact", 4.01, 0.0, 20),
            ("a", "exact_same", 4.0, 0.0, 20),
            ("a", "both_nan", math.nan, math.nan, 0),
            ("a", "lost_value", math.nan, math.nan, 0),
            ("a", "added", 3.0, 0.1, 20),
        ]
    )
    report = check.compare(recorded, now)
    verdict = dict(zip(report["kpi"], report["verdict"]))
    assert verdict == {
        "same": "same",
        "within": "within",
        "drift": "DRIFT",
        "exact": "DRIFT",
        "exact_same": "same",
        "both_nan": "same",
        "lost_value": "DRIFT",
        "gone": "missing",
        "added": "new",
    }
    assert list(report["kpi"][:8]) == list(recorded["kpi"])  # recorded order, new ones last
    assert set(check.drifted(report)["kpi"]) == {"drift", "exact", "lost_value", "gone"}
    assert report.attrs["tested"] == 4  # KPIs with a positive half-width in both tables
    text = format_report(report)
    assert "DRIFT" in text and "exact" in text


def _intervals(samples: np.ndarray) -> pd.DataFrame:
    """KPI table of ``samples`` (m KPIs × n replications)."""
    n = samples.shape[1]
    hw = st.t.ppf(0.975, n - 1) * samples.std(axis=1, ddof=1) / math.sqrt(n)
    return _table(
        [("g", f"k{i}", float(x), float(h), n) for i, (x, h) in enumerate(zip(samples.mean(1), hw))]
    )


@pytest.mark.slow
def test_a_statistically_unchanged_model_rarely_fails_and_a_real_shift_is_caught():
    """Re-drawn random numbers (the worst case for false alarms): the whole check fails at most
    about 5% of the time over 200 KPIs; a shift of one KPI by 5 standard errors of the difference
    of two means is caught most of the time."""
    rng = np.random.default_rng(12345)
    m, n, trials = 200, 20, 200
    false_alarms = caught = 0
    for _ in range(trials):
        scale = rng.uniform(0.1, 10, size=(m, 1))
        recorded = _intervals(rng.normal(5, 1, size=(m, n)) * scale)
        now_samples = rng.normal(5, 1, size=(m, n)) * scale
        false_alarms += not check.drifted(check.compare(recorded, _intervals(now_samples))).empty
        now_samples[0] += 5 * scale[0, 0] / math.sqrt(n) * math.sqrt(2)
        caught += "k0" in set(check.drifted(check.compare(recorded, _intervals(now_samples)))["kpi"])
    assert false_alarms / trials <= 0.08  # nominal 5%; 200 trials, fixed seed
    assert caught / trials >= 0.5


# ---------------------------------------------------------------- the file and --update


def _write_tiny(path, duration: float) -> None:
    stages = {
        "accept": {"label": "a", "owner": "utility", "pool": "clerk", "effort": work(duration)},
        "works": {
            "label": "w",
            "owner": "customer",
            "duration": {"dist": "triangular", "min": 1, "mode": 2, "max": 6},
            "handling": True,
        },
    }
    data = tiny_scenario(stages, ["accept", "works"], resources={"clerk": staff(1)}, per_day=0.6)
    data["replications"] = 3
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def test_update_records_then_check_passes_and_a_change_is_reported(tmp_path, capsys):
    scenario = tmp_path / "tiny.yaml"
    baseline = tmp_path / "kpis.json"
    _write_tiny(scenario, 1)
    argv = ["check", "--baseline", str(baseline), "--jobs", "1"]
    assert main([*argv, "--update", "--scenario", str(scenario), "--reps", "4"]) == 0
    assert "recorded" in capsys.readouterr().out
    body = json.loads(baseline.read_text(encoding="utf-8"))
    assert body["replications"] == 4 and body["seed"] == 11
    assert (baseline.parent / body["scenario_file"]).resolve() == scenario.resolve()
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "ok: no KPI drifted" in out
    # by default the summary and the drifted KPIs only (none here); --all prints every KPI
    assert "verdict" not in out and " same\n" not in out
    assert "KPIs: " in out and "same; --all prints every KPI" in out
    assert main([*argv, "--all"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert ["group", "kpi", "recorded", "now", "difference", "tolerance", "verdict"] in rows
    assert ["seg", "elapsed_wd_mean"] in [r[:2] for r in rows if r[-1:] == ["same"]]
    # a deliberate change through --set is drift, naming the KPI
    assert main([*argv, "--set", "stages.accept.effort.value=24"]) == 1
    out = capsys.readouterr().out
    assert "seg.elapsed_wd_mean" in out.splitlines()[-1]
    # --update on the changed scenario says what changed
    _write_tiny(scenario, 2)
    assert main([*argv, "--update"]) == 0
    out = capsys.readouterr().out
    assert "changed: scenario digest" in out
    assert "elapsed_wd_mean" in out
    assert main(argv) == 0
    assert "no KPI drifted" in capsys.readouterr().out


def test_baseline_file_round_trip_keeps_missing_values(tmp_path):
    kpis = _table([("seg", "x", 1.5, 0.25, 20), ("seg", "open_age_wd_max", math.nan, math.nan, 0)])
    b = Baseline(tmp_path / "s.yaml", "s", "abc", 7, 20, kpis, {"numpy": "2"}, "now")
    path = b.write(tmp_path / "sub" / "b.json")
    text = path.read_text(encoding="utf-8")
    assert "NaN" not in text and "null" in text
    again = Baseline.read(path)
    assert again.scenario_file == (tmp_path / "s.yaml").resolve()
    pd.testing.assert_frame_equal(again.kpis, kpis, check_dtype=False)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--baseline", "no/such/file.json"], "no such baseline file"),
        (["--update", "--set", "seed=3"], "--set is for trying a change"),
        (["--reps", "3"], "use it with --update"),
    ],
)
def test_bad_check_input_exits_2(args, message, capsys):
    assert main(["check", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_not_a_baseline_file_exits_2(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"kpis": {}}', encoding="utf-8")
    assert main(["check", "--baseline", str(bad)]) == 2
    assert "not a baseline file" in capsys.readouterr().err
