"""A package's measures one at a time: its steps, their paired contributions, and the report."""

from __future__ import annotations

import pandas as pd
import pytest
from builders import BASELINE

from sim.cli import main
from sim.experiments.compare import by_measure, consecutive_differences
from sim.scenario import ScenarioError, load_scenario
from sim.scenario.steps import measure_steps


@pytest.fixture
def package(tmp_path):
    (tmp_path / "base.yaml").write_text(
        f"extends: {BASELINE}\nname: base\nhorizon: {{warmup_days: 5, arrival_days: 15}}\n", encoding="utf-8"
    )
    (tmp_path / "m1.yaml").write_text(
        "extends: base.yaml\nname: m1\ntitle: 'M1: more inspectors'\nresources: {inspector: {capacity: 6}}\n",
        encoding="utf-8",
    )
    (tmp_path / "m2.yaml").write_text(
        "extends: base.yaml\nname: m2\ntitle: 'M2: more plan engineers'\n"
        "resources: {plan_engineer: {capacity: 9}}\n",
        encoding="utf-8",
    )
    path = tmp_path / "pkg.yaml"
    path.write_text("extends: [base.yaml, m1.yaml, m2.yaml]\nname: pkg\ntitle: both\n", encoding="utf-8")
    return path


def test_the_steps_are_the_base_then_each_measure_added_in_order_then_the_package(package):
    steps = measure_steps(package)
    assert [s.name for s in steps] == ["base", "m1", "m2", "pkg"]
    capacities = [(s.resources["inspector"].capacity, s.resources["plan_engineer"].capacity) for s in steps]
    base = load_scenario(package.parent / "base.yaml").resources
    assert capacities == [
        (base["inspector"].capacity, base["plan_engineer"].capacity),
        (6, base["plan_engineer"].capacity),
        (6, 9),
        (6, 9),
    ]
    assert steps[-1].digest() == load_scenario(package).digest()


def test_a_file_that_bundles_no_measures_has_no_steps(package):
    with pytest.raises(ScenarioError, match=r"base\.yaml: bundles no measures to step through"):
        measure_steps(package.parent / "base.yaml")


@pytest.mark.slow
def test_the_measures_contributions_add_up_to_the_package_change(package):
    result = by_measure(package, reps=2, seed=5)
    steps = consecutive_differences(result)
    assert list(dict.fromkeys(steps["scenario"])) == ["m1", "m2", "pkg"]
    means = result.table[result.table["kpi"] == "target_wd_mean"].set_index(["segment", "scenario"])["mean"]
    for segment in ["lv_smb", "hv_single"]:
        mine = steps[(steps["segment"] == segment) & (steps["kpi"] == "target_wd_mean")]
        total = mine["difference"].sum()
        assert total == pytest.approx(means[(segment, "pkg")] - means[(segment, "base")], abs=1e-9)
        # the package adds no rule of its own (a title): its step changes nothing
        assert mine.loc[mine["scenario"] == "pkg", "difference"].item() == 0


@pytest.mark.slow
def test_compare_by_measure_writes_the_table_the_figure_and_the_report_section(package, tmp_path):
    out = tmp_path / "out"
    base = package.parent / "base.yaml"
    code = main(
        ["compare", str(base), str(package), "--by-measure", "--reps", "2", "--jobs", "1", "--out", str(out)]
    )
    assert code == 0
    table = pd.read_parquet(out / "by_measure.parquet")
    assert set(table["scenario"]) == {"m1", "m2", "pkg"}
    assert (out / "waterfall_by_measure.png").stat().st_size > 0
    report = (out / "report.md").read_text(encoding="utf-8")
    section = report.split("## Measure by measure")[1].split("\n## ")[0]
    assert "| M1: more inspectors |" in section and "| M2: more plan engineers |" in section


def test_compare_by_measure_on_a_file_without_measures_exits_2(package, capsys):
    base = package.parent / "base.yaml"
    assert main(["compare", str(base), str(base), "--by-measure", "--reps", "2"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bundles no measures" in err[0]


@pytest.mark.slow
def test_the_table_by_measure_ends_with_the_package_against_its_base(package):
    from sim.outputs.by_measure import by_measure_table

    result = by_measure(package, reps=2, seed=5)
    table = by_measure_table(result)
    # the package's own keys (a title) change nothing: no row of their own; the total last
    assert table["Measure"].tolist() == [
        "M1: more inspectors",
        "M2: more plan engineers",
        "Total: the package against its base",
    ]
    steps = consecutive_differences(result).query("segment == 'lv_smb' and kpi == 'target_wd_mean'")
    total = table.set_index("Measure").loc[
        "Total: the package against its base", "LV small/micro (three-zero)"
    ]
    assert total.startswith(f"{steps['difference'].sum():+.1f}".replace("+0.0", "0.0").replace("-0.0", "0.0"))
