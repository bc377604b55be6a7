"""The ``sensitivity`` verb end to end on a tiny scenario: exit status 0, the ranked inputs on the
console, the indices, the design, the figures, ``report.md`` naming the input that decides each
KPI, the manifest; and ``--resume`` runs nothing that is done."""

from __future__ import annotations

import contextlib
import io
import json

import yaml
from builders import two_waits

from sim.cli import main
from sim.outputs.tables import read_table


def cli(*args) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


def test_the_verb_writes_ranked_indices_and_a_report_and_resumes(tmp_path):
    (tmp_path / "two.yaml").write_text(yaml.safe_dump(two_waits()), encoding="utf-8")
    spec = {
        "name": "two-waits",
        "base": "two.yaml",
        "seed": 3,
        "trajectories": 3,
        "inputs": {
            "stages.wait_b.duration.mode": {"range": [2, 8], "label": "wait of b"},
            "stages.wait_a.duration.mode": {"range": [2, 8], "label": "wait of a"},
        },
        "kpis": [{"kpi": "elapsed_wd_mean", "segment": "a"}],
    }
    file = tmp_path / "sens.yaml"
    file.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    out = tmp_path / "out"
    code, stdout, stderr = cli("sensitivity", file, "--jobs", "1", "--out", out)
    assert code == 0, stderr
    assert "Elapsed time, mean (a), inputs ranked:" in stdout
    indices = read_table(out / "indices.parquet")
    assert list(indices["label"]) == ["wait of a", "wait of b"] and list(indices["rank"]) == [1, 2]
    assert indices["mu_star"].iloc[1] == 0.0 < indices["mu_star"].iloc[0]
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "Decided by: 1. wait of a (`stages.wait_a.duration.mode`" in report
    assert "ASSUMPTIONs" in report and "not findings" in report
    assert (out / "sensitivity_elapsed_wd_mean_a.png").stat().st_size > 0
    design = read_table(out / "design.parquet")
    assert len(design) == 3 * (2 + 1)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["result"] == ["sensitivity", "two-waits"] and manifest["points_resumed"] == 0

    code, stdout, _ = cli("sensitivity", file, "--jobs", "1", "--out", out, "--resume")
    assert code == 0
    points = manifest["points"]
    assert f"0 points run (0 failed), {points} already done" in stdout
    assert read_table(out / "indices.parquet").equals(indices)
