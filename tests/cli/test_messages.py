"""Messages that say what to write instead: each through the real command line (in this
process), with the bad-input contract of ``test_bad_input.fails`` (exit status 2, one line on
stderr, no traceback)."""

from __future__ import annotations

import textwrap

import pytest
import yaml
from builders import staff, tiny_scenario, work
from test_bad_input import BASELINE, ROOT, cli, fails, shown, write

from sim.cli.common import ProgressLines


def _tiny() -> dict:
    accept = {"label": "a", "owner": "utility", "pool": "clerk", "effort": work(1.0)}
    return tiny_scenario({"accept": accept}, ["accept"], resources={"clerk": staff(1)}, days=5)


def test_a_condition_on_an_attribute_spelt_in_another_case_suggests_the_right_one(tmp_path):
    path = write(
        tmp_path,
        "overlay.yaml",
        f"extends: {BASELINE.as_posix()}\nsegments:\n  lv_smb:\n"
        "    arrivals: {stream: lv_nonresidential, when: {kVA: {max: 160}}}\n",
    )
    message = fails("validate", path)
    where = f"{shown(path)}:4: segments.lv_smb.arrivals.when"
    assert message.startswith(f"{where}: condition reads attribute 'kVA'")
    assert "(did you mean 'kva'?)" in message


def test_a_missing_parent_shows_the_path_it_resolved_to_and_the_closest_file(tmp_path):
    (tmp_path / "baseline.yaml").write_text("name: x\n", encoding="utf-8")
    path = write(tmp_path, "overlay.yaml", "extends: basline.yaml\n")
    assert fails("validate", path) == (
        f"{shown(path)}:1: extends: parent scenario 'basline.yaml' resolves to "
        f"{shown(tmp_path.resolve() / 'basline.yaml')}, which does not exist (did you mean "
        f"'baseline.yaml'?); a path is relative to the folder of the file that names it "
        f"(folder {shown(tmp_path.resolve())}/)"
    )


CALIBRATE = "check --calibration"


@pytest.mark.parametrize(
    ("verb", "file", "kind", "key", "use"),
    [
        ("run", "scenarios/sweeps/managers-x-onsite-cap.yaml", "a sweep file", "grid", "sweep"),
        ("run", "scenarios/staffing/plan-2021-three-zero.yaml", "a staffing file", "confidence", "optimise"),
        ("compare", "scenarios/calibration/2020.yaml", "a calibration file", "figures", CALIBRATE),
        ("sweep", "scenarios/baseline.yaml", "a scenario", "extends", "run"),
        ("optimise", "scenarios/sweeps/managers-x-onsite-cap.yaml", "a sweep file", "grid", "sweep"),
        ("check --calibration", "scenarios/baseline.yaml", "a scenario", "extends", "run"),
        ("run", "scenarios/sensitivity/plan-2021.yaml", "a sensitivity file", "inputs", "sensitivity"),
        ("sensitivity", "scenarios/sweeps/managers-x-onsite-cap.yaml", "a sweep file", "grid", "sweep"),
    ],
)
def test_a_file_given_to_the_wrong_verb_says_what_it_is_and_which_verb_reads_it(
    tmp_path, verb, file, kind, key, use
):
    args = [*verb.split(), file]
    if verb == "compare":
        args = ["compare", "scenarios/baseline.yaml", file, "--reps", "1"]
    elif verb in ("run", "sweep", "optimise", "sensitivity"):
        args += ["--out", tmp_path / "out"]
    expected = {
        "run": "a scenario",
        "compare": "a scenario",
        "sweep": "a sweep file",
        "sensitivity": "a sensitivity file",
    }.get(verb)
    expected = expected or ("a staffing file" if verb == "optimise" else "a calibration file")
    assert fails(*args) == (
        f"{file}: this is {kind} (it has `{key}`), not {expected}: use `python run_sim.py {use} {file}`"
    )
    assert not (tmp_path / "out").exists()


def test_set_on_a_section_the_file_leaves_at_its_defaults_writes_that_key(tmp_path):
    data = _tiny()
    assert "calendar" not in data
    path = write(tmp_path, "tiny.yaml", yaml.safe_dump(data, sort_keys=False))
    ok = cli("validate", path, "--set", "calendar.beyond_published=statutory_only")
    assert ok.returncode == 0 and ok.stderr == "", ok.stderr
    # and a bad value in that key is the schema's usual message, not "no key 'calendar'"
    message = fails("validate", path, "--set", "calendar.beyond_published=repeat")
    assert message.startswith("--set: calendar.beyond_published: found 'repeat'; ")
    assert "'error' or 'statutory_only'" in message
    # a misspelt key below it is still refused, with the right name
    message = fails("validate", path, "--set", "calendar.beyond_publishd=error")
    assert "no key 'beyond_publishd' at calendar (did you mean 'beyond_published'?)" in message


def test_a_suggestion_never_repeats_the_word_it_is_for():
    from sim.scenario.errors import suggest

    assert suggest("calendar", ["calendar", "companies"]) == ""
    assert suggest("kVA", ["kva", "voltage_kv"]) == " (did you mean 'kva'?)"


def test_an_interrupted_sweep_says_interrupted_once_with_what_was_kept(tmp_path, monkeypatch):
    import sim.cli.sweep as sweep_verb

    def stop(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(sweep_verb, "run_sweep", stop)
    spec = write(
        tmp_path,
        "sweep.yaml",
        textwrap.dedent(
            f"""\
            name: s
            base: {(ROOT / "scenarios" / "baseline.yaml").as_posix()}
            replications: 1
            grid: {{resources.inspector.capacity: [3, 4]}}
            """
        ),
    )
    proc = cli("sweep", spec, "--jobs", "1", "--out", tmp_path / "out")
    assert proc.returncode == 130
    assert proc.stderr.count("\n") == 1, proc.stderr  # once, not also a bare "interrupted"
    assert proc.stderr.startswith("interrupted: 0 of 2 points are saved in ")
    assert proc.stderr.endswith("run again with --resume to compute the others\n")


def test_progress_off_a_terminal_is_a_line_per_step_with_count_and_elapsed_time(capsys):
    times = iter([100.0, 101.5, 104.25])
    lines = ProgressLines(3, "compare", "rep", clock=lambda: next(times))
    lines.update(1)
    lines.update(0)  # nothing finished: no line
    lines.set_postfix(failed=1)
    lines.update(2)
    lines.close()
    assert capsys.readouterr().err == (
        "compare: 1/3 reps done, 1.5 s\ncompare: 3/3 reps done, 4.2 s, failed 1\n"
    )


def test_a_run_off_a_terminal_prints_a_line_per_replication(tmp_path):
    data = _tiny()
    path = write(tmp_path, "tiny.yaml", yaml.safe_dump(data, sort_keys=False))
    proc = cli("run", path, "--reps", "2", "--jobs", "1", "--out", tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    assert [line.split(",")[0] for line in lines] == ["tiny: 1/2 reps done", "tiny: 2/2 reps done"]


def test_a_relative_change_that_cannot_apply_is_one_line_that_says_what_to_write(tmp_path):
    path = write(
        tmp_path,
        "overlay.yaml",
        f"extends: {BASELINE.as_posix()}\nresources:\n  inspector:\n    capacity: '*1.5'\n",
    )
    assert fails("validate", path) == (
        f"{shown(path)}:4: resources.inspector.capacity: '*1.5' of 3 gives 4.5, but "
        "resources.inspector.capacity is a whole number: write a change that gives one, or the value "
        "itself (it is not rounded)"
    )
    message = fails("validate", BASELINE, "--set", "resources.inspector.label=+1")
    assert message == (
        "--set resources.inspector.label: '+1' changes a number, but the inherited value is 'Inspectors'; "
        "write the value itself"
    )


def test_capacity_plus_two_adds_two_inspectors(tmp_path):
    path = write(
        tmp_path,
        "overlay.yaml",
        f"extends: {BASELINE.as_posix()}\nresources:\n  inspector:\n    capacity: +2\n",
    )
    proc = cli("validate", path, "--set", "resources.customer_manager.capacity=*2")
    assert proc.returncode == 0, proc.stderr
    from sim.scenario import load_scenario

    sc = load_scenario(path, ["resources.customer_manager.capacity=*2"])
    base = load_scenario(BASELINE)
    assert sc.resources["inspector"].capacity == base.resources["inspector"].capacity + 2 == 5
    assert sc.resources["customer_manager"].capacity == 2 * base.resources["customer_manager"].capacity


@pytest.mark.parametrize(
    ("where", "name", "meant", "what", "needs"),
    [
        ("resources", "inspecter", "inspector", "pool", "capacity"),
        ("stages", "acceptanse", "acceptance", "stage", "label"),
    ],
)
def test_a_misspelt_name_in_an_overlay_is_named_with_the_one_meant(tmp_path, where, name, meant, what, needs):
    baseline = (ROOT / "scenarios" / "baseline.yaml").as_posix()
    path = write(
        tmp_path, "m.yaml", f"extends: {baseline}\nname: m\n{where}:\n  {name}: {{owner: utility}}\n"
    )
    line = fails("validate", path)
    assert line.startswith(
        f"{shown(path)}:4: {where}.{name}: no {what} '{name}' (did you mean '{meant}'?); a new {what} "
        f"needs '{needs}'"
    )


def test_a_negative_capacity_says_how_to_take_staff_away(tmp_path):
    baseline = (ROOT / "scenarios" / "baseline.yaml").as_posix()
    path = write(
        tmp_path, "m.yaml", f"extends: {baseline}\nname: m\nresources: {{inspector: {{capacity: -1}}}}\n"
    )
    assert fails("validate", path).endswith(
        'to take 1 away from the value a file extends, write "-1" (in quotes)'
    )
