"""Calibration targets as data: published figures against a scenario with known results, the
verdict of each, and the command's exit statuses."""

from __future__ import annotations

import yaml
from builders import fixed, tiny_scenario

from sim.cli import main
from sim.experiments.calibration import AGREES, CONTEXT, DIFFERS, UNDECIDED, calibrate, load_calibration


def write(folder, figures, unpublished=()):
    """A scenario whose every case takes exactly 3 working days, and a calibration file for it."""
    stages = {"serve": {"label": "Serve", "owner": "utility", "duration": fixed(3), "handling": True}}
    scenario = tiny_scenario(stages, ["serve"], per_day=1, days=20)
    (folder / "tiny.yaml").write_text(yaml.safe_dump(scenario), encoding="utf-8")
    body = {"scenario": "tiny.yaml", "replications": 3, "figures": figures, "unpublished": list(unpublished)}
    path = folder / "calibration.yaml"
    path.write_text(yaml.safe_dump(body, allow_unicode=True), encoding="utf-8")
    return path


FIGURES = [
    {"segment": "seg", "kpi": "handling_wd_mean", "value": 3.2, "tolerance": 0.5, "source": "a"},
    {"segment": "seg", "kpi": "handling_wd_mean", "at_most": 2, "source": "b"},
    {"segment": "seg", "kpi": "elapsed_wd_mean", "at_least": 1, "source": "c"},
    {"segment": "seg", "kpi": "elapsed_wd_mean", "value": 9, "tolerance": 1, "source": "d", "context": True},
]


def test_each_figure_is_judged_on_the_interval_of_the_scenarios_mean(tmp_path):
    rows, _ = calibrate(load_calibration(write(tmp_path, FIGURES)))
    assert rows["simulated"].tolist() == [3.0, 3.0, 3.0, 3.0]  # fixed durations: no spread
    assert rows["verdict"].tolist() == [AGREES, DIFFERS, AGREES, CONTEXT]
    assert rows["published"].tolist() == ["3.2 ± 0.5", "≤ 2", "≥ 1", "9 ± 1"]


def test_an_interval_across_the_published_figure_is_undecided(tmp_path):
    figures = [{"segment": "seg", "kpi": "n_cases", "value": 20, "tolerance": 0.01, "source": "e"}]
    rows, _ = calibrate(load_calibration(write(tmp_path, figures)))
    assert rows["verdict"].tolist() == [UNDECIDED]  # Poisson counts vary around 20


def test_the_command_exits_1_when_a_figure_differs_and_names_what_is_not_published(tmp_path, capsys):
    path = write(tmp_path, FIGURES, ["the times of 2020"])
    assert main(["check", "--calibration", str(path), "--jobs", "1"]) == 1
    out = capsys.readouterr().out
    assert "1 of 4 figures differ" in out and "not published: the times of 2020" in out
    assert main(["check", "--calibration", str(write(tmp_path, FIGURES[:1])), "--jobs", "1"]) == 0


def test_a_known_difference_is_shown_and_does_not_fail_the_check(tmp_path, capsys):
    known = [FIGURES[0], {**FIGURES[1], "known": "explained in the file's header"}]
    assert main(["check", "--calibration", str(write(tmp_path, known)), "--jobs", "1"]) == 0
    out = capsys.readouterr().out
    assert "differs (known)" in out and "explained in the file's header" in out
    assert "no published figure differs but the 1 the file explains" in out
    both = [*known, FIGURES[1]]
    assert main(["check", "--calibration", str(write(tmp_path, both)), "--jobs", "1"]) == 1
    assert "1 of 3 figures differ (1 more known)" in capsys.readouterr().out


def test_a_bad_calibration_file_is_one_line_and_exit_2(tmp_path, capsys):
    figures = [{"segment": "seg", "kpi": "handling_mean", "at_most": 3, "source": "f"}]
    assert main(["check", "--calibration", str(write(tmp_path, figures))]) == 2
    assert (
        "figures[0].kpi: 'handling_mean' is not a kpi of the scenario (did you mean"
        in capsys.readouterr().err
    )
    figures = [{"segment": "seg", "kpi": "handling_wd_mean", "value": 3, "source": "g"}]
    assert main(["check", "--calibration", str(write(tmp_path, figures))]) == 2
    assert "a value needs its `tolerance`" in capsys.readouterr().err


def test_validate_reads_a_calibration_file(tmp_path, capsys):
    assert main(["validate", str(write(tmp_path, FIGURES, ["x"]))]) == 0
    assert "ok (calibration: 4 figures against tiny, 1 item not published)" in capsys.readouterr().out
