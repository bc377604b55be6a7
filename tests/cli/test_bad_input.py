"""Bad input through the real command line: every class of scenario or usage error exits with
status 2 and prints one line on stderr that names the file, the line, the key path and what was
expected, without a traceback."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from builders import baseline_dict

from sim.cli import main
from sim.scenario import ScenarioError, scenario_from_dict

ROOT = Path(__file__).resolve().parents[2]
# The complete scenario file: textual edits need every key written out, and baseline.yaml is an
# overlay of it.
BASELINE = ROOT / "scenarios" / "pre-reform.yaml"
BASELINE_TEXT = BASELINE.read_text(encoding="utf-8")


def cli(*args) -> subprocess.CompletedProcess:
    """The command line run in this process from the repository root: ``sim.cli.main``, which
    ``run_sim.py`` calls, with its exit status and what it printed. (Starting an interpreter per
    case would only time the imports; ``test_the_real_command_exits_2_with_one_line`` runs one
    case through ``python run_sim.py`` itself.)"""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.chdir(ROOT), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:  # argparse's own exit (e.g. --help)
            code = exc.code if isinstance(exc.code, int) else 2
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def fails(*args) -> str:
    """Run the command line and check the bad-input contract: exit status 2, nothing on stdout,
    exactly one line on stderr and no traceback. Returns that line without its ``error: ``."""
    proc = cli(*args)
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    assert proc.stderr.endswith("\n") and proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith("error: "), proc.stderr
    return proc.stderr.removeprefix("error: ").rstrip("\n")


@pytest.mark.slow
def test_the_real_command_exits_2_with_one_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(edit("    capacity: 6", "    capacty: 6"), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "run_sim.py", "validate", str(bad)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "capacty" in proc.stderr and "did you mean 'capacity'" in proc.stderr


def shown(path: Path) -> str:
    """A file as error messages show it: relative to the working directory (the repository root)
    when inside it, else absolute."""
    rel = os.path.relpath(path, ROOT)
    return path.as_posix() if rel.startswith("..") else rel


def edit(old: str, new: str, text: str = BASELINE_TEXT) -> str:
    assert text.count(old) == 1, f"{old!r} is not unique in the baseline"
    return text.replace(old, new)


def line_of(text: str, needle: str) -> int:
    """The 1-based number of the one line of ``text`` that contains ``needle``."""
    found = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert len(found) == 1, (needle, found)
    return found[0]


def write(folder: Path, name: str, text: str) -> Path:
    path = folder.resolve() / name
    path.write_text(text, encoding="utf-8")
    return path


def bad_baseline(tmp_path: Path, old: str, new: str, needle: str | None = None) -> tuple[Path, str]:
    """The baseline with one edit, and ``FILE:LINE`` of the line holding ``needle`` (default: the
    first line of ``new``)."""
    text = edit(old, new)
    path = write(tmp_path, "bad.yaml", text)
    needle = needle if needle is not None else new.strip().splitlines()[0]
    return path, f"{shown(path)}:{line_of(text, needle)}"


def overlay(tmp_path: Path, body: str) -> Path:
    """An overlay of the baseline holding ``body`` (dedented)."""
    return write(tmp_path, "overlay.yaml", f"extends: {BASELINE.as_posix()}\n" + textwrap.dedent(body))


INSPECTOR = "    label_zh: 检查人员\n    capacity: 3 "
CUSTOMER_DESIGN_DURATION = "{dist: triangular, min: 5, mode: 10, max: 20}"


# --------------------------------------------------------------------------- schema errors


def test_unknown_key_is_named_with_its_path_and_a_suggestion(tmp_path):
    path, where = bad_baseline(tmp_path, INSPECTOR, "    label_zh: 检查人员\n    capacty: 3 ", "capacty")
    assert fails("validate", path).startswith(
        f"{where}: resources.inspector.capacty: unknown key 'capacty' (did you mean 'capacity'?); "
        "expected one of capacity, dispatch, hours_per_day, label, label_zh, owner, shared"
    )


def test_unknown_key_in_an_overlay_names_the_overlay_file_and_line(tmp_path):
    text = f"extends: {BASELINE.as_posix()}\nname: overlay\nresources:\n  inspector:\n    capacty: 4\n"
    path = write(tmp_path, "overlay.yaml", text)
    assert fails("run", path, "--out", tmp_path / "out") == (
        f"{shown(path)}:5: resources.inspector.capacty: unknown key 'capacty' (did you mean 'capacity'?); "
        "expected one of capacity, dispatch, hours_per_day, label, label_zh, owner, shared"
    )


@pytest.mark.parametrize("verb", ["validate", "run"])
def test_value_of_the_wrong_type_is_quoted_with_what_was_expected(tmp_path, verb):
    path, where = bad_baseline(tmp_path, INSPECTOR, "    label_zh: 检查人员\n    capacity: many ", "many")
    message = fails(verb, path, *(["--out", tmp_path / "out"] if verb == "run" else []))
    assert message.startswith(f"{where}: resources.inspector.capacity: found 'many'; ")
    assert "valid integer" in message


@pytest.mark.parametrize(
    ("duration", "problem"),
    [
        (
            "{dist: triangular, min: 4, mode: 3, max: 5}",
            "stages.customer_design.duration: triangular needs min <= mode <= max, "
            "found min=4.0, mode=3.0, max=5.0",
        ),
        (
            "{dist: trianglar, min: 2, mode: 3, max: 5}",
            "stages.customer_design.duration: unknown distribution 'trianglar' "
            "(did you mean 'triangular'?); expected one of fixed, uniform, triangular, exponential, "
            "lognormal, gamma, empirical",
        ),
        (
            "{dist: triangular, min: 2, max: 5}",
            "stages.customer_design.duration.mode: missing required key 'mode'",
        ),
        (
            "{dist: triangular, min: 2, mod: 3, max: 5}",
            "stages.customer_design.duration.mod: unknown key 'mod' (did you mean 'mode'?); "
            "expected one of dist, max, min, mode (and 1 more problem)",
        ),
        (
            "{min: 2, mode: 3, max: 5}",
            "stages.customer_design.duration: a distribution needs 'dist: NAME', expected one of "
            "fixed, uniform, triangular, exponential, lognormal, gamma, empirical",
        ),
    ],
    ids=["min-above-mode", "unknown-name", "missing-parameter", "misspelt-parameter", "no-dist"],
)
def test_bad_distribution_is_explained_at_its_key_path(tmp_path, duration, problem):
    path, where = bad_baseline(tmp_path, CUSTOMER_DESIGN_DURATION, duration)
    assert fails("validate", path) == f"{where}: {problem}"


def test_probability_above_one_is_refused(tmp_path):
    path, where = bad_baseline(
        tmp_path, "probability: 0.20\n      fix: resubmit", "probability: 1.5\n      fix: resubmit"
    )
    assert fails("validate", path).startswith(
        f"{where}: stages.acceptance.rework.probability: found 1.5; input should be less than or equal to 1"
    )


@pytest.mark.parametrize(
    ("arrivals", "problem"),
    [
        (
            "{per_year: 4286, at: [1]}",
            "one of per_year, per_working_day, at, every and stream; found per_year, at",
        ),
        ("{at: [3, 1.5]}", "arrival times `at` must be in non-decreasing order"),
        ("{every: 0}", "arrivals.every: found 0; input should be greater than 0"),
    ],
    ids=["two-kinds", "out-of-order", "zero-interval"],
)
def test_arrivals_take_one_kind_in_order(tmp_path, arrivals, problem):
    path, where = bad_baseline(tmp_path, "arrivals: {per_year: 4286}", f"arrivals: {arrivals}")
    message = fails("validate", path)
    assert message.startswith(f"{where}: segments.lv_resident.arrivals") and problem in message, message


@pytest.mark.parametrize(
    ("body", "line", "problem"),
    [
        ("resources:\n  inspector: 5\n", 3, "resources.inspector: found 5; expected a mapping"),
        (  # the pool is a name or a list of names: one problem, not one per form it may take
            "stages:\n  mid_inspection:\n    pool: 5\n",
            4,
            "stages.mid_inspection.pool: found 5; input should be a valid string",
        ),
    ],
    ids=["mapping-expected", "union-counted-once"],
)
def test_value_of_the_wrong_kind_is_explained_in_the_terms_of_the_file(tmp_path, body, line, problem):
    path = overlay(tmp_path, body)
    assert fails("validate", path) == f"{shown(path)}:{line}: {problem}"


def test_duplicate_key_is_refused_at_its_second_occurrence(tmp_path):
    path, where = bad_baseline(
        tmp_path, INSPECTOR, "    label_zh: 检查人员\n    capacity: 3\n    capacity: 7 ", "capacity: 7"
    )
    assert fails("validate", path) == f"{where}: resources.inspector.capacity: duplicate key"


# ------------------------------------------------------------------- staff work in hours


@pytest.mark.parametrize(
    ("body", "line", "problem"),
    [
        (
            "resources:\n  inspector: {cases_per_unit: 6}\n",
            4,
            "resources.inspector.cases_per_unit: 'cases_per_unit' is no longer part of the format: a "
            "member works one case at a time: give the pool its `hours_per_day` and each stage that "
            "uses it its `effort` in hours (docs/scenario-format.md)",
        ),
        (
            "stages:\n  mid_inspection:\n    duration: {dist: fixed, value: 2}\n",
            5,
            "stages.mid_inspection.duration: a stage with staff takes `effort` (hours of a member's "
            "work) and `lead_time` (working days without staff), not `duration`",
        ),
        (
            "stages:\n  customer_fix:\n    lead_time: {dist: fixed, value: 2}\n",
            5,
            "stages.customer_fix.lead_time: `lead_time` needs staff: give the stage a `pool`, or use "
            "`duration`",
        ),
        (
            "stages:\n  completion_lv:\n    effort:\n      meter_crw: {dist: fixed, value: 2}\n",
            6,
            "stages.completion_lv.effort.meter_crw: effort for pool 'meter_crw', which this stage does "
            "not hold (did you mean 'meter_crew'?); its pools: inspector, meter_crew",
        ),
        (
            "stages:\n  customer_fix:\n    site_visit: true\n",
            5,
            "stages.customer_fix.site_visit: `site_visit` needs staff: give the stage a `pool`, or use "
            "`duration`",
        ),
        (  # the stage's effort names both its pools; a variant that keeps one must give its own
            "stages:\n  completion_lv:\n    variants:\n"
            "      - {name: solo, when: {online: true}, pool: inspector}\n",
            None,
            "stages.completion_lv.effort.meter_crew: effort for pool 'meter_crew', which this variant does "
            "not hold (the stage's effort: give this variant its own); its pools: inspector",
        ),
        (
            "travel:\n  attribute: online\n",
            4,
            "travel.attribute: travel is looked up by 'online', which must be a category or a constant",
        ),
        (
            "stages:\n  mid_inspection:\n    effort: 3\n",
            5,
            "stages.mid_inspection.effort: found 3; a distribution is a mapping: write {dist: fixed, "
            "value: 3} for a fixed value, or e.g. {dist: triangular, min: 1, mode: 2, max: 4}",
        ),
        (
            "resources:\n  inspector: {dispatch: urgent}\n",
            4,
            "resources.inspector.dispatch: found 'urgent'; input should be 'fifo', 'deadline' or 'priority'",
        ),
    ],
    ids=[
        "retired-key",
        "duration-with-staff",
        "lead-time-without-staff",
        "effort-of-a-pool-not-held",
        "site-visit-without-staff",
        "variant-inherits-an-effort-of-a-pool-it-drops",
        "travel-by-a-flag",
        "a-number-for-a-distribution",
        "unknown-dispatch",
    ],
)
def test_staff_work_errors_name_the_key_the_overlay_wrote(tmp_path, body, line, problem):
    path = write(tmp_path, "overlay.yaml", f"extends: {BASELINE.as_posix()}\nname: overlay\n{body}")
    if line is None:  # the key is the baseline's: its line there
        assert fails("validate", path).endswith(f": {problem}")
    else:
        assert fails("validate", path) == f"{shown(path)}:{line}: {problem}"


def test_a_region_without_travel_hours_is_refused():
    data = baseline_dict()
    del data["travel"]["hours"]["other"]
    with pytest.raises(ScenarioError, match=r"travel.hours: no travel hours for region 'other' \(drawn by"):
        scenario_from_dict(data)


# ---------------------------------------------------------------------------- cross-checks


def test_undefined_stage_in_a_flow_is_named_with_a_suggestion(tmp_path):
    path, where = bad_baseline(tmp_path, "      - plan_reply_lv\n", "      - plan_reply_lvv\n")
    assert fails("validate", path) == (
        f"{where}: segments.lv_smb.flow[2]: stage 'plan_reply_lvv' is not defined "
        "(did you mean 'plan_reply_lv'?)"
    )


def test_undefined_pool_of_a_stage_is_named_with_a_suggestion(tmp_path):
    path, where = bad_baseline(tmp_path, "    pool: inspector\n", "    pool: inspektor\n")
    assert fails("validate", path) == (
        f"{where}: stages.mid_inspection.pool: pool 'inspektor' is not defined (did you mean 'inspector'?)"
    )


def test_condition_of_a_flow_step_on_an_undefined_attribute_is_refused(tmp_path):
    path, where = bad_baseline(
        tmp_path,
        "{stage: grid_upgrade, when: {grid_constrained: true}}\n      - customer_works_lv",
        "{stage: grid_upgrade, when: {grid_constraned: true}}\n      - customer_works_lv",
    )
    assert fails("validate", path) == (
        f"{where}: segments.lv_smb.flow[6].when: condition reads attribute 'grid_constraned', which "
        "segment 'lv_smb' does not define (did you mean 'grid_constrained'?)"
    )


def test_condition_of_a_stage_on_an_attribute_a_segment_lacks_is_refused(tmp_path):
    text = (
        f"extends: {BASELINE.as_posix()}\nname: overlay\n"
        "stages:\n  plan_reply_lv:\n    when: {important: true}\n"
    )
    path = write(tmp_path, "overlay.yaml", text)
    assert fails("validate", path) == (
        f"{shown(path)}:5: stages.plan_reply_lv.when: condition reads attribute 'important', which "
        "segment 'lv_smb' does not define"
    )


def test_attribute_condition_on_an_attribute_not_drawn_before_is_refused(tmp_path):
    text = (
        f"extends: {BASELINE.as_posix()}\nname: overlay\n"
        "segments:\n  lv_resident:\n    attributes:\n"
        "      approval: {dist: bernoulli, p: 0.5, when: {kva: {max: 100}}}\n"
    )
    path = write(tmp_path, "overlay.yaml", text)
    assert fails("validate", path) == (
        f"{shown(path)}:6: segments.lv_resident.attributes.approval.when: condition reads attribute "
        "'kva', which is not drawn before 'approval' in this segment"
    )


# ------------------------------------------------------------------------ files and extends


def test_missing_scenario_file_is_reported(tmp_path):
    path = tmp_path.resolve() / "nowhere.yaml"
    assert fails("validate", path) == f"{shown(path)}: no such file"
    assert fails("run", path, "--out", tmp_path / "out") == f"{shown(path)}: no such file"


def test_missing_parent_of_extends_is_reported_at_the_extends_line(tmp_path):
    path = write(tmp_path, "orphan.yaml", "name: orphan\nextends: missing.yaml\n")
    parent = tmp_path.resolve() / "missing.yaml"
    assert fails("validate", path) == (
        f"{shown(path)}:2: extends: parent scenario 'missing.yaml' resolves to {shown(parent)}, which "
        "does not exist; a path is relative to the folder of the file that names it "
        f"(folder {shown(tmp_path.resolve())}/)"
    )


def test_extends_cycle_is_reported_with_the_chain(tmp_path):
    a = write(tmp_path, "a.yaml", "extends: b.yaml\nname: a\n")
    b = write(tmp_path, "b.yaml", "name: b\nextends: a.yaml\n")
    assert fails("validate", a) == (
        f"{shown(b)}:2: extends: extends cycle: {shown(a)} -> {shown(b)} -> {shown(a)}"
    )


def test_malformed_yaml_bad_indentation_points_at_the_line(tmp_path):
    path, where = bad_baseline(
        tmp_path, INSPECTOR, "    label_zh: 检查人员\n      capacity: 3 ", "capacity: 3"
    )
    assert fails("validate", path) == f"{where}: malformed YAML: mapping values are not allowed here"


def test_malformed_yaml_unclosed_bracket_names_the_line_where_it_opens(tmp_path):
    text = edit(CUSTOMER_DESIGN_DURATION, "{dist: triangular, min: 2, mode: 3, max: 5  # unclosed")
    path = write(tmp_path, "bad.yaml", text)
    opened = line_of(text, "# unclosed")
    message = fails("validate", path)
    assert message.startswith(f"{shown(path)}:{opened + 1}: malformed YAML: expected ',' or '}}'")
    assert message.endswith(f"(while parsing a flow mapping that starts on line {opened})")


# ------------------------------------------------------------------------------------ --set


def test_set_of_an_unknown_key_is_refused_with_a_suggestion():
    assert fails("validate", BASELINE, "--set", "resources.inspector.capacty=4") == (
        "--set resources.inspector.capacty: no key 'capacty' at resources.inspector "
        "(did you mean 'capacity'?); --set only replaces existing keys"
    )


@pytest.mark.parametrize("verb", ["validate", "run"])
def test_set_of_a_value_of_the_wrong_type_is_refused(tmp_path, verb):
    extra = ["--out", tmp_path / "out"] if verb == "run" else []
    message = fails(verb, BASELINE, "--set", "resources.inspector.capacity=abc", *extra)
    assert message == (
        "--set: resources.inspector.capacity: found 'abc'; input should be a valid integer, "
        "unable to parse string as an integer"
    )


def test_set_without_a_value_is_refused():
    assert fails("validate", BASELINE, "--set", "seed") == "--set seed: expected KEY.PATH=VALUE"


# ------------------------------------------------------------------------- command line


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        ([], "run_sim.py: the following arguments are required: VERB"),
        (["simulate"], "run_sim.py: argument VERB: invalid choice: 'simulate'"),
        (["run"], "run_sim.py run: the following arguments are required: scenario"),
        (["validate"], "run_sim.py validate: the following arguments are required: scenarios"),
        (
            ["run", BASELINE, "--reps", "0"],
            "run_sim.py run: argument --reps: expected a number of at least 1, found 0",
        ),
        (
            ["run", BASELINE, "--reps", "two"],
            "run_sim.py run: argument --reps: expected a whole number, found 'two'",
        ),
        (
            ["run", BASELINE, "--seed", "-1"],
            "run_sim.py run: argument --seed: expected a seed of 0 or more, found -1",
        ),
    ],
    ids=[
        "no-verb",
        "unknown-verb",
        "run-without-scenario",
        "validate-without-scenario",
        "reps-0",
        "reps-not-a-number",
        "negative-seed",
    ],
)
def test_bad_command_line_usage_is_one_line_with_exit_status_2(args, problem):
    message = fails(*args)
    assert message.startswith(problem)
    assert message.endswith("(see --help)")


# -------------------------------------------------------------------------------- valid


def test_valid_baseline_validates_with_exit_status_0():
    proc = cli("validate", "scenarios/baseline.yaml")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert proc.stdout.startswith("scenarios/baseline.yaml: ok (baseline: 6 segments, 27 stages, digest ")


def test_condition_value_an_attribute_never_takes_is_refused(tmp_path):
    path = overlay(
        tmp_path,
        """
        stages:
          approval_lv:
            when: {region: main-urban}
        """,
    )
    message = fails("validate", path)
    assert "stages.approval_lv.when: attribute 'region' has no category 'main-urban'" in message
    assert "did you mean 'main_urban'" in message


def test_attribute_named_like_a_cases_column_is_refused(tmp_path):
    path = overlay(
        tmp_path,
        """
        segments:
          lv_resident:
            attributes:
              segment: household
        """,
    )
    assert "segments.lv_resident.attributes.segment: 'segment' names a column of the cases table" in fails(
        "validate", path
    )


def test_a_date_that_does_not_exist_is_refused_at_its_line_and_key(tmp_path):
    path = overlay(tmp_path, "horizon: {start: 2021-13-01}\n")
    assert fails("validate", path) == (
        f"{shown(path)}:2: horizon.start: found 2021-13-01, a date that does not exist (month must be "
        "in 1..12); write YYYY-MM-DD"
    )
    path = overlay(tmp_path, "name: o\nmeasures:\n  - {changes: {}, from: 2021-02-30}\n")
    assert fails("validate", path).startswith(f"{shown(path)}:4: measures[0].from: found 2021-02-30")


def test_horizon_beyond_the_published_calendar_fails_at_validate(tmp_path):
    path = overlay(tmp_path, "horizon: {start: 2026-06-01}\n")
    message = fails("validate", path)
    assert "beyond_published" in message
    early = overlay(tmp_path, "horizon: {start: 1990-01-01}\n")
    assert fails("validate", early).endswith(
        "calendar starts in 1990 but adjusted working days are known only from 2001; "
        "start the horizon (horizon.start) in 2001 or later"
    )


def test_condition_values_must_suit_numeric_and_constant_attributes(tmp_path):
    path = overlay(
        tmp_path,
        """
        stages:
          approval_lv:
            when: {kva: [big]}
        """,
    )
    assert "attribute 'kva' is a number, found ['big']; expected a number or a range" in fails(
        "validate", path
    )
    path = overlay(
        tmp_path,
        """
        stages:
          plan_reply_lv:
            when: {zero_investment: {max: 100}}
        """,
    )
    assert "attribute 'zero_investment' is the constant True, a range" in fails("validate", path)


def test_priority_dispatch_needs_important_as_a_flag():
    data = baseline_dict()
    data["resources"]["inspector"]["dispatch"] = "priority"
    data["segments"]["hv_35kv"]["attributes"]["important"] = {
        "dist": "categorical",
        "values": {"yes": 0.3, "no": 0.7},
    }
    with pytest.raises(ScenarioError, match=r"segments.hv_35kv.attributes.important: a pool of this segment"):
        scenario_from_dict(data)


@pytest.mark.parametrize("verb", ["run", "compare", "sweep"])
def test_an_out_that_cannot_be_a_folder_is_refused_before_anything_runs(tmp_path, verb):
    taken = tmp_path / "taken.txt"
    taken.write_text("a file the user made\n", encoding="utf-8")
    target = {
        "run": [BASELINE],
        "compare": [BASELINE, BASELINE],
        "sweep": [ROOT / "scenarios" / "sweeps" / "managers-x-inspectors-2021.yaml"],
    }[verb]
    message = fails(verb, *target, "--out", taken)
    assert message == f"--out {taken}: is a file, not a folder; give a folder (it is created if missing)"
    below = fails(verb, *target, "--out", taken / "inside")
    assert (
        below
        == f"--out {taken / 'inside'}: {taken} is a file, so the folder cannot be made; give another folder"
    )
    assert taken.read_text(encoding="utf-8") == "a file the user made\n"  # nothing lost


@pytest.mark.parametrize("value", [".inf", ".nan", "-.inf"])
def test_non_finite_numbers_are_refused_with_their_key_path(tmp_path, value):
    path = overlay(tmp_path, f"name: o\nhorizon: {{arrival_days: {value}}}\n")
    message = fails("validate", path)
    assert message.startswith(f"{shown(path)}:3: horizon.arrival_days: found ")
    assert message.endswith("input should be a finite number")
    assert fails("validate", BASELINE, "--set", f"stages.acceptance.effort.max={value}").endswith(
        "stages.acceptance.effort.max: found "
        + {".inf": "inf", ".nan": "nan", "-.inf": "-inf"}[value]
        + "; input should be a finite number"
    )


def test_a_scenario_where_nothing_arrives_is_refused(tmp_path):
    body = "name: o\nstreams: {lv_nonresidential: {arrivals: {per_year: 0}}}\nsegments:\n" + "".join(
        f"  {s}: {{arrivals: {{per_year: 0}}}}\n" for s in ("lv_resident", "hv_single", "hv_dual", "hv_35kv")
    )
    message = fails("validate", overlay(tmp_path, body))
    assert message.endswith(
        "segments: no segment has any application (every rate is 0, no `at` times): the run would "
        "have nothing to count; give a segment arrivals"
    )


def test_a_rework_that_leads_back_to_its_stage_is_refused(tmp_path):
    itself = overlay(tmp_path, "name: o\nstages:\n  acceptance:\n    rework: {fix: acceptance}\n")
    assert fails("validate", itself).endswith(
        "stages.acceptance.rework.fix: the rework's fix leads back to 'acceptance' (acceptance -> "
        "acceptance): a fix cannot need the stage it fixes"
    )
    body = "name: o\nstages:\n  customer_fix:\n    rework: {probability: 0.1, fix: completion_lv}\n"
    message = fails("validate", overlay(tmp_path, body))
    assert (
        "the rework's fix leads back to" in message
        and "completion_lv -> customer_fix -> completion_lv" in message
    )


def _alias_bomb(levels: int) -> str:
    """Nine values, then each level a list of nine aliases of the one before: 9 ** levels values."""
    lines = ["l0: &l0 [" + ", ".join(['"lol"'] * 9) + "]"]
    lines += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("verb", ["run", "validate"])
def test_an_alias_bomb_is_refused_at_its_line_in_bounded_memory(tmp_path, verb):
    import tracemalloc

    from sim.scenario.files import read_yaml

    path = tmp_path / "bomb.yaml"
    path.write_text(_alias_bomb(40), encoding="utf-8")  # 9 ** 40 values: nothing could expand it
    result = cli(verb, path, *(["--out", tmp_path / "out"] if verb == "run" else []))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"error: {path.as_posix()}:6: more than 200,000 values once its aliases are expanded: "
        "not a scenario (an alias of an alias of ...?)"
    ]
    assert not (tmp_path / "out").exists()
    tracemalloc.start()
    with pytest.raises(ScenarioError, match=r"bomb\.yaml:6: more than 200,000 values"):
        read_yaml(path, str(path))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 100 * 2**20  # the refusal itself stays far below 100 MB (about 1 MB)


@pytest.mark.parametrize(
    "text, line",
    [
        ("a: " + "[" * 3000 + "]" * 3000 + "\n", 1),
        ("".join("  " * i + f"k{i}:\n" for i in range(200)) + "x\n", 65),
    ],
)
def test_deep_nesting_is_refused_at_its_line_without_a_recursion_error(tmp_path, text, line):
    path = tmp_path / "deep.yaml"
    path.write_text(text, encoding="utf-8")
    result = cli("validate", path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert (
        result.stderr.strip()
        == f"error: {path.as_posix()}:{line}: nested deeper than 64 levels: not a scenario"
    )


def test_deep_nesting_in_a_set_value_is_refused():
    deep = "[" * 100 + "]" * 100
    result = cli("validate", BASELINE, "--set", f"title={deep}")
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: --set title={deep}: nested deeper than 64 levels: not a scenario"


def _overlay(tmp_path, name: str, body: str, raw: bytes | None = None) -> Path:
    path = tmp_path / name
    head = f"extends: {BASELINE.as_posix()}\n"
    if raw is not None:
        path.write_bytes(head.encode() + raw)
    else:
        path.write_text(head + textwrap.dedent(body), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "raw, problem",
    [
        (b'name: bad\ntitle: "caf\xe9"\n', "3: byte 0xe9 is not UTF-8 text; save the file as UTF-8"),
        (b'name: bad\ntitle: "a\x07b"\n', "3: a control character (U+0007) in the text; remove it"),
    ],
)
def test_text_that_is_not_utf8_or_holds_control_bytes_is_refused_at_its_line(tmp_path, raw, problem):
    path = _overlay(tmp_path, "bad.yaml", "", raw)
    result = cli("validate", path)
    assert result.returncode == 2 and result.stderr.startswith(f"error: {path.as_posix()}:{problem}")


def test_a_file_without_its_own_name_is_named_after_the_file(tmp_path):
    path = _overlay(tmp_path, "more-inspectors.yaml", "resources: {inspector: {capacity: 4}}\n")
    result = cli("validate", path)
    assert result.returncode == 0 and "(more-inspectors: " in result.stdout


@pytest.mark.parametrize(
    "body, line, problem",
    [
        ("scale: 100000\n", 2, "scale: about 581,194,800 applications"),
        (
            "segments: {lv_resident: {arrivals: {per_year: 1.0e+9}}}\n",
            2,
            "segments.lv_resident.arrivals.per_year: about",
        ),
        (
            "resources: {inspector: {shared: 'yes'}}\n",
            2,
            "resources.inspector.shared: found 'yes'; write true or false",
        ),
    ],
)
def test_values_that_cannot_be_meant_are_refused(tmp_path, body, line, problem):
    path = _overlay(tmp_path, "odd.yaml", "name: odd\n" + body)
    result = cli("validate", path)
    assert result.returncode == 2 and result.stderr.startswith(
        f"error: {path.as_posix()}:{line + 1}: {problem}"
    )
    if "about" in problem:
        assert "applications a replication" in result.stderr and "more than 20,000,000" in result.stderr


def test_an_overlay_that_breaks_the_company_shares_is_named_at_its_own_line(tmp_path):
    path = tmp_path / "shares.yaml"
    city = (ROOT / "scenarios" / "city-2020.yaml").as_posix()
    path.write_text(f"extends: {city}\nname: shares\ncompanies:\n  west: {{share: 0.35}}\n", encoding="utf-8")
    result = cli("validate", path)
    assert result.returncode == 2
    assert result.stderr.startswith(
        f"error: {path.as_posix()}:4: companies.west.share: the companies' shares (main_urban 0.4, "
    )
    typo = cli("run", ROOT / "scenarios" / "city-2020.yaml", "--company", "wst")
    assert typo.returncode == 2 and "no company 'wst' in city-2020 (did you mean 'west'?)" in typo.stderr


def test_a_sweep_figure_of_an_unknown_kpi_is_refused(tmp_path):
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(
        textwrap.dedent(
            f"""\
            name: s
            base: {BASELINE.as_posix()}
            replications: 1
            grid:
              resources.inspector.capacity: [3, 4]
            figure: {{kpi: on_target_shar, segment: lv_smb}}
            """
        ),
        encoding="utf-8",
    )
    result = cli("validate", sweep)
    assert result.returncode == 2
    assert result.stderr.startswith(
        f"error: {sweep.as_posix()}:6: figure.kpi: no KPI 'on_target_shar' (did you mean 'on_target_share'?)"
    )


def test_output_cut_short_by_its_reader_ends_quietly(monkeypatch, capsys):
    """``run_sim.py fit LOG ... | head``: the reader goes away; no traceback, the pipe's status."""
    import sim.cli as cli

    def cut_short(args):
        raise BrokenPipeError

    monkeypatch.setitem(cli.COMMANDS, "validate", cut_short)
    redirected = []
    monkeypatch.setattr(cli.os, "dup2", lambda fd, to: redirected.append(to))
    monkeypatch.setattr(cli.sys.stdout, "fileno", lambda: 1, raising=False)
    assert cli.main(["validate", "scenarios/baseline.yaml"]) == 141
    assert redirected == [1]  # standard output now goes nowhere: Python's last flush cannot fail
    assert capsys.readouterr().err == ""
