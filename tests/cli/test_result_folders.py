"""Result folders are written as one: a folder holds the earlier complete results or the new
complete ones, never a mix; one run at a time writes it; nothing but this tool's results of the
same run is ever replaced without --force, and other files never."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from test_bad_input import BASELINE, ROOT, cli

QUICK = ["--set", "horizon.arrival_days=60", "--set", "horizon.warmup_days=10"]


def _files(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def _complete(folder: Path) -> dict:
    """The manifest of a complete result folder: it lists exactly the folder's other files."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert _files(folder) == {*manifest["files"], "manifest.json"}
    return manifest


def _start(out: Path, *more: str) -> subprocess.Popen:
    args = [
        sys.executable,
        "run_sim.py",
        "run",
        str(BASELINE),
        *QUICK,
        "--jobs",
        "1",
        "--out",
        str(out),
        *more,
    ]
    return subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_second_run_into_a_folder_being_written_is_refused(tmp_path):
    out = tmp_path / "out"
    first = _start(out, "--reps", "6")
    deadline = time.monotonic() + 30
    while not (tmp_path / ".out.lock").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    second = cli("run", BASELINE, *QUICK, "--reps", "1", "--out", out)
    assert second.returncode == 2
    assert second.stderr.strip() == (
        f"error: --out {out}: another run (pid {first.pid}) is writing it; "
        "wait for it to end or give another --out"
    )
    assert first.wait(timeout=120) == 0, first.stderr
    assert _complete(out)["replications"] == 6
    assert not (tmp_path / ".out.lock").exists()


def test_a_run_killed_at_any_moment_leaves_the_earlier_complete_folder(tmp_path):
    out = tmp_path / "out"
    assert cli("run", BASELINE, *QUICK, "--reps", "1", "--seed", "1", "--out", out).returncode == 0
    before = _complete(out)
    rng = random.Random(7)
    for _ in range(2):
        run = _start(out, "--reps", "3", "--seed", "2")
        time.sleep(rng.uniform(0.5, 5.0))
        run.send_signal(signal.SIGKILL)
        run.wait()
        after = _complete(out)  # never a mix: exactly the files of one complete run
        assert after["seed"] in (1, 2)
        if after["seed"] == 1:
            assert after == before
    # the next run clears what a killed one left beside the folder
    assert cli("run", BASELINE, *QUICK, "--reps", "1", "--seed", "3", "--out", out).returncode == 0
    assert _complete(out)["seed"] == 3
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_new_run_replaces_the_earlier_files_whole(tmp_path):
    out = tmp_path / "out"
    assert cli("run", BASELINE, *QUICK, "--reps", "1", "--out", out).returncode == 0
    result = cli("run", BASELINE, *QUICK, "--reps", "1", "--format", "csv", "--out", out)
    assert result.returncode == 0 and "(replacing the earlier results there)" in result.stdout
    assert not any(name.endswith(".parquet") for name in _files(out))  # no Parquet beside the CSV
    _complete(out)


def test_other_files_and_another_runs_results_are_not_replaced(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me", encoding="utf-8")
    result = cli("run", BASELINE, *QUICK, "--reps", "1", "--out", mine, "--force")
    assert result.returncode == 2 and (mine / "notes.txt").read_text(encoding="utf-8") == "keep me"
    assert result.stderr.strip() == (
        f"error: --out {mine}: holds files that are not results of this tool (no manifest.json); "
        "give a new or empty folder, so that nothing in it is replaced"
    )
    out = tmp_path / "out"
    assert cli("run", BASELINE, *QUICK, "--reps", "1", "--out", out).returncode == 0
    other = ROOT / "scenarios" / "plan-2021.yaml"
    refused = cli("run", other, *QUICK, "--reps", "1", "--out", out)
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        f"error: --out {out}: holds the results of 'run pre-reform'; give another folder, "
        "or add --force to replace them"
    )
    assert _complete(out)["scenario_name"] == "pre-reform"
    assert cli("run", other, *QUICK, "--reps", "1", "--out", out, "--force").returncode == 0
    assert _complete(out)["scenario_name"] == "plan-2021"
    assert os.access(out, os.W_OK)
