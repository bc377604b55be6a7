"""Comparisons on common random numbers, their figures and the report."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from builders import BASELINE, ROOT, baseline_dict

import sim
from sim.experiments.compare import compare, consecutive_differences
from sim.outputs.figures import (
    on_target_figure,
    target_distribution_figure,
    utilisation_figure,
    waterfall_figure,
)
from sim.scenario import scenario_from_dict


def short(data: dict, name: str) -> sim.Scenario:
    data = {**data, "name": name}
    data["horizon"] = {**data["horizon"], "warmup_days": 10, "arrival_days": 60}
    return scenario_from_dict(data)


def scenarios() -> list[sim.Scenario]:
    base = baseline_dict()
    faster = baseline_dict()
    faster["resources"]["plan_engineer"]["capacity"] = 6
    faster["stages"]["plan_reply_lv"]["lead_time"] = {"dist": "triangular", "min": 0.5, "mode": 1, "max": 2}
    return [short(base, "baseline"), short(base, "same"), short(faster, "faster")]


@pytest.fixture(scope="module")
def result():
    reference, *others = scenarios()
    return compare(reference, others, reps=3, seed=9)


@pytest.mark.slow
def test_one_executor_for_every_scenario_gives_the_tables_of_separate_runs(result):
    reference, *others = scenarios()
    on_processes = compare(reference, others, reps=3, seed=9, jobs=2)
    pd.testing.assert_frame_equal(on_processes.table, result.table)
    pd.testing.assert_frame_equal(on_processes.pools, result.pools)
    alone = sim.run(others[1], reps=3, seed=9)
    pd.testing.assert_frame_equal(result.runs["faster"].kpis, alone.kpis)
    pd.testing.assert_frame_equal(result.runs["faster"].cases, alone.cases)


@pytest.mark.slow
def test_write_comparison_writes_tables_figures_report_and_manifest(result, tmp_path):
    written = sim.write_comparison(result, tmp_path / "out", fmt="csv")
    names = [p.name for p in written]
    assert names[:4] == ["comparison.csv", "pools.csv", "kpis.csv", "targets.csv"]
    assert names[-1] == "manifest.json"
    assert sorted(names) == sorted(p.name for p in (tmp_path / "out").iterdir())
    assert sum(name.endswith(".png") for name in names) == 5
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["files"] == names[:-1] and manifest["seed"] == 9 and manifest["replications"] == 3


def test_a_scenario_compared_with_itself_differs_by_exactly_zero(result):
    same = result.table[result.table["scenario"] == "same"]
    finite = same[np.isfinite(same["diff"])]
    assert len(finite) > 0
    assert (finite["diff"] == 0).all()
    assert (finite["diff_hw"] == 0).all()


def test_paired_interval_is_narrower_than_the_unpaired_one(result):
    row = result.table.query("segment == 'lv_smb' and scenario == 'faster' and kpi == 'target_wd_mean'").iloc[
        0
    ]
    assert row["diff"] < 0  # a faster plan reply shortens the three-zero full process
    base = result.table.query(
        "segment == 'lv_smb' and scenario == 'baseline' and kpi == 'target_wd_mean'"
    ).iloc[0]
    assert row["diff_hw"] < base["hw"]


def test_every_scenario_ran_the_same_cases(result):
    ids = {name: set(r.cases.query("segment == 'hv_single'")["case_id"]) for name, r in result.runs.items()}
    assert ids["baseline"] == ids["same"] == ids["faster"]


def test_distribution_figure_has_a_curve_per_scenario_and_the_target_lines(result):
    fig = target_distribution_figure(result, segments=["lv_smb", "hv_single"])
    ax_smb, ax_hv = fig.axes[:2]
    legend = [t.get_text() for t in ax_smb.get_legend().get_texts()]
    assert legend == ["baseline", "same (same as baseline)", "faster"]  # "same" hides under baseline
    assert ax_smb.get_xlim() == (0, 24)  # focused on the target (3 x 8), not the longest case
    smb = result.runs["baseline"].cases.query("segment == 'lv_smb' and finished")["full_process_wd"]
    beyond = [a.get_text() for a in ax_smb.texts if a.get_text().endswith("→")]
    assert f"{100 * (smb > 24).mean():.1f}% > 24 →" in beyond  # the tail is marked with its share
    assert ax_smb.get_xlabel() == "full process time (working days)"  # the KPI catalogue's words
    assert ax_smb.get_ylabel() == "share of cases"
    vertical = [line.get_xdata()[0] for line in ax_smb.get_lines() if line.get_linestyle() == "--"]
    assert vertical == [8]
    assert [line.get_xdata()[0] for line in ax_hv.get_lines() if line.get_linestyle() == "--"] == [17]
    assert fig._suptitle.get_text() == "Distribution of the target measure per segment"


def test_waterfall_steps_add_up_to_the_last_level(result):
    fig = waterfall_figure(result, segments=["lv_smb"])
    ax = fig.axes[0]
    bars = ax.patches
    assert len(bars) == 1 + 2 + 1  # reference level, two steps, final level
    means = result.table.query("segment == 'lv_smb' and kpi == 'target_wd_mean'").set_index("scenario")[
        "mean"
    ]
    assert bars[0].get_height() == pytest.approx(means["baseline"])
    assert sum(b.get_height() for b in bars[1:3]) == pytest.approx(means["faster"] - means["baseline"])
    assert bars[-1].get_height() == pytest.approx(means["faster"])
    assert [line.get_ydata()[0] for line in ax.get_lines() if line.get_linestyle() == "--"] == [8]
    # each step carries the 95% interval of its paired difference
    steps = consecutive_differences(result, ["target_wd_mean"]).query("segment == 'lv_smb'")
    spans = [c.lines[2][0].get_segments()[0] for c in ax.containers if hasattr(c, "has_yerr")]
    expected = [hw for hw in steps["difference_hw"] if hw > 0]
    assert [(top[1] - bottom[1]) / 2 for bottom, top in spans] == pytest.approx(expected)
    assert ax.get_ylabel() == "mean, working days"


def test_share_and_utilisation_figures_have_a_point_or_bar_per_scenario_and_group(result):
    fig = on_target_figure(result)
    ax = fig.axes[0]
    groups = len(ax.get_xticks())
    points = [c for c in ax.containers if len(c.lines[0].get_xdata()) == groups]
    assert len(points) == 3  # one series of points with error bars per scenario
    low, high = ax.get_ylim()
    assert high <= 101 and low >= 0  # zoomed, never past 100%
    for series in points:
        for segments in series.lines[2]:  # the error bars stay within 0-100%
            ys = segments.get_segments()
            assert all(0 <= y <= 100 + 1e-9 for seg in ys for _, y in seg)
    assert ax.get_ylabel() == "share on target (%; dashed: required)"
    util = utilisation_figure(result).axes[0]
    limited = sum(1 for p in result.runs["baseline"].scenario.resources.values() if p.capacity is not None)
    assert len(util.patches) == 3 * limited
    assert util.get_title() == "Pool utilisation"


@pytest.mark.filterwarnings("ignore:Glyph .* missing from font")
def test_chinese_labels_come_from_the_scenario(result):
    with pytest.warns(UserWarning, match="fonts-noto-cjk") if _no_cjk() else contextlib.nullcontext():
        fig = target_distribution_figure(result, segments=["lv_smb"], lang="zh")
    assert fig.axes[0].get_title().startswith("低压小微企业（三零）")


def _no_cjk() -> bool:
    from sim.outputs.fonts import cjk_font

    return cjk_font() is None


@pytest.mark.slow
def test_compare_command_writes_tables_figures_and_report(tmp_path):
    overlay = tmp_path / "more.yaml"
    overlay.write_text(
        f"extends: {BASELINE}\nname: more_inspectors\nassumptions: [two more inspectors]\n"
        "resources: {inspector: {capacity: 5}}\nhorizon: {arrival_days: 40}\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    proc = subprocess.run(
        [
            sys.executable,
            "run_sim.py",
            "compare",
            str(BASELINE),
            str(overlay),
            "--reps",
            "2",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "more_inspectors" in proc.stdout and "Δ on target" in proc.stdout
    assert "three-zero full process ≤8 wd (the 2021 aim)" in proc.stdout  # the verdicts
    for name in (
        "comparison.parquet",
        "targets.parquet",
        "pools.parquet",
        "kpis.parquet",
        "manifest.json",
        "report.md",
        "report.html",
    ):
        assert (out / name).is_file(), name
    for key in ("target_distribution", "waterfall", "on_target", "utilisation", "verdicts"):
        assert (out / f"{key}.png").stat().st_size > 10_000
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "seed **20210304**" in report and "**2** replications" in report
    assert "two more inspectors" in report and report.index("## The answer") < report.index("## Method")
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == 5


@pytest.mark.slow
def test_targets_that_differ_between_scenarios_are_named(result):
    from sim.outputs.report import target_changes

    assert target_changes(result) == []  # the three scenarios share their targets
    stricter = baseline_dict()
    stricter["segments"]["hv_single"]["targets"][0]["days"] = 15
    other = compare(short(baseline_dict(), "baseline"), [short(stricter, "stricter")], reps=1, seed=9)
    assert target_changes(other) == [
        "hv_single: the target differs (baseline handling ≤ 17, stricter handling ≤ 15)"
    ]


def test_the_report_answers_first_with_labels_and_speaks_chinese(result):
    from sim.outputs.report import report_markdown

    english = report_markdown(result, {})
    assert (
        english.index("## The answer") < english.index("## Method") < english.index("## Results per segment")
    )
    answer = english.split("## The answer")[1].split("\n## ")[0]
    assert "| LV small/micro (three-zero) |" in answer  # labels, not ids
    assert "| lv_smb |" not in answer
    assert "meets" in answer and "judged targets" in answer  # the sentences a planner forwards
    legend = english.split("## Legend: ids")[1]
    assert "| lv_smb | LV small/micro (three-zero) |" in legend  # ids only in the legend
    chinese = report_markdown(result, {}, "zh")
    assert chinese.startswith("# 方案比较") and chinese.index("## 结论") < chinese.index("## 方法")
    answer = chinese.split("## 结论")[1].split("\n## ")[0]
    assert "| 低压小微企业（三零） |" in answer and "LV small/micro" not in answer
    assert "附件2：“三零”服务办电环节≤3个工作日" in answer  # the targets' label_zh


def test_no_share_interval_of_a_comparison_leaves_0_to_100_percent(result):
    shares = result.table[result.table["kpi"] == "on_target_share"].dropna(subset=["mean"])
    assert ((shares["lo"] >= 0) & (shares["hi"] <= 1) & (shares["lo"] <= shares["mean"])).all()
    assert (shares["mean"] <= shares["hi"]).all()
    judged = result.targets[result.targets["kind"] == "share"].dropna(subset=["lo"])
    assert ((judged["lo"] >= 0) & (judged["hi"] <= 1)).all()
    pools = result.pools.dropna(subset=["utilisation_lo"])
    assert ((pools["utilisation_lo"] >= 0) & (pools["utilisation_hi"] <= 1)).all()


def test_run_prints_in_chinese_with_lang_zh(result):
    from sim.outputs.run_text import format_result

    text = format_result(result.runs["baseline"], lang="zh")
    assert "低压小微企业（三零）" in text and "客户类别" in text and "达标率" in text
    assert "LV small/micro" not in text and "未达标" in text


def test_a_segments_share_on_target_has_one_interval_in_every_table(result):
    """The share on the headline target is the share of the target's own cases (its ``when``):
    the per-segment table and the judged targets give it the same bounded interval."""
    shares = result.table[result.table["kpi"] == "on_target_share"].dropna(subset=["lo"])
    judged = result.targets[(result.targets["target"] == 0) & (result.targets["kind"] == "share")]
    merged = shares.merge(judged, on=["scenario", "segment"], suffixes=("", "_target"))
    assert len(merged) >= 6
    assert merged["mean"].to_numpy() == pytest.approx(merged["value"].to_numpy())
    assert merged["lo"].to_numpy() == pytest.approx(merged["lo_target"].to_numpy())
    assert merged["hi"].to_numpy() == pytest.approx(merged["hi_target"].to_numpy())


def test_a_difference_of_shares_stays_within_what_a_share_can_move(result):
    import re

    from sim.outputs.report import comparison_table

    table = comparison_table(result)
    reference = result.table.query("scenario == 'baseline' and kpi == 'on_target_share'").set_index("segment")
    for _, row in table[table["Scenario"] != "baseline"].iterrows():
        found = re.search(r"\((-?[\d.]+) to (-?[\d.]+)\)", row["Δ on target"])
        if not found:
            continue
        low, high = (float(v) for v in found.groups())
        segment = next(
            s for s, sc in result.runs["baseline"].scenario.segments.items() if sc.label == row["Segment"]
        )
        ref = 100 * reference.at[segment, "mean"]
        assert -ref - 0.05 <= low <= high <= 100 - ref + 0.05


def test_a_target_with_too_few_cases_is_said_so_and_not_counted_as_judged(result):
    import dataclasses

    from sim.experiments.targets import value_text
    from sim.outputs.answer import answer_sentences

    row = {"kind": "share", "value": 1.0, "lo": float("nan"), "hi": float("nan"), "hw": float("nan"),
           "required_share": 0.95, "n_subject": 0.6, "replications": 5, "clock": "working"}  # fmt: skip
    assert value_text(row) == "too few cases to judge (3 in 5 replications)"
    assert value_text(row, "zh") == "客户过少，无法判定（5次运行共3户）"
    targets = result.targets.copy()
    mine = (targets["scenario"] == "faster") & (targets["verdict"] != "reported")
    judged = int(mine.sum())
    first = targets.index[mine & (targets["kind"] == "share")][0]
    targets.loc[first, ["lo", "hi", "verdict"]] = [float("nan"), float("nan"), "undecided"]
    sentence = next(
        s for s in answer_sentences(dataclasses.replace(result, targets=targets)) if "faster" in s
    )
    assert f"of {judged - 1} judged targets" in sentence
    assert f"Too few cases to judge: {targets.at[first, 'label']}" in sentence
