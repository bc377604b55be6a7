"""Overlays (``extends``) and ``--set`` overrides on the way to a validated scenario."""

from __future__ import annotations

import textwrap

import pytest
from builders import BASELINE

import sim
from sim.scenario import ScenarioError


def write(path, text: str):
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_overlay_merges_mappings_and_replaces_lists(tmp_path):
    write(
        tmp_path / "m.yaml",
        f"""
        extends: {BASELINE}
        name: measure
        resources:
          inspector: {{capacity: 5}}
        segments:
          lv_resident:
            flow: [resident_acceptance, resident_connection]
        """,
    )
    base = sim.load_scenario(BASELINE)
    sc = sim.load_scenario(tmp_path / "m.yaml")
    assert sc.name == "measure"
    assert sc.resources["inspector"].capacity == 5
    assert sc.resources["inspector"].hours_per_day == base.resources["inspector"].hours_per_day
    assert sc.resources["inspector"].label == base.resources["inspector"].label
    assert sc.segments["lv_resident"].flow == ["resident_acceptance", "resident_connection"]
    assert sc.segments["lv_smb"] == base.segments["lv_smb"]


def test_overlays_chain_and_the_child_wins(tmp_path):
    write(tmp_path / "a.yaml", f"extends: {BASELINE}\nname: a\nseed: 1\nreplications: 2\n")
    write(tmp_path / "b.yaml", "extends: a.yaml\nname: b\nseed: 2\n")
    sc = sim.load_scenario(tmp_path / "b.yaml")
    assert (sc.name, sc.seed, sc.replications) == ("b", 2, 2)


def test_set_overrides_replace_existing_keys_with_typed_values():
    sc = sim.load_scenario(
        BASELINE,
        ["resources.inspector.capacity=7", "segments.hv_single.flow[1]=plan_reply_hv_dual", "scale=2.5"],
    )
    assert sc.resources["inspector"].capacity == 7
    assert sc.segments["hv_single"].flow[1] == "plan_reply_hv_dual"
    assert sc.scale == 2.5
    mapping = sim.load_scenario(BASELINE, {"stages.acceptance.effort": {"dist": "fixed", "value": 1}})
    assert mapping.stages["acceptance"].effort.mean() == 1


def test_set_refuses_a_key_that_does_not_exist():
    with pytest.raises(ScenarioError, match=r"no key 'capacty'.*did you mean 'capacity'"):
        sim.load_scenario(BASELINE, ["resources.inspector.capacty=3"])


def test_digest_changes_with_the_scenario_and_only_then():
    a = sim.load_scenario(BASELINE)
    b = sim.load_scenario(BASELINE)
    c = sim.load_scenario(BASELINE, ["resources.inspector.capacity=4"])
    assert a.digest() == b.digest() != c.digest()


def test_a_list_of_parents_applies_each_measure_patch_in_order(tmp_path):
    write(tmp_path / "m1.yaml", f"extends: {BASELINE}\nname: m1\nresources: {{inspector: {{capacity: 5}}}}\n")
    write(
        tmp_path / "m2.yaml",
        f"extends: {BASELINE}\nname: m2\nresources: {{plan_engineer: {{capacity: 9}}}}\n",
    )
    write(tmp_path / "bundle.yaml", f"extends: [{BASELINE}, m1.yaml, m2.yaml]\nname: bundle\n")
    sc = sim.load_scenario(tmp_path / "bundle.yaml")
    assert sc.name == "bundle"
    assert sc.resources["inspector"].capacity == 5  # m1's patch survives m2's
    assert sc.resources["plan_engineer"].capacity == 9


def test_a_patch_whose_base_is_not_merged_before_it_is_refused(tmp_path):
    write(tmp_path / "other.yaml", f"extends: {BASELINE}\nname: other\n")
    write(tmp_path / "m1.yaml", "extends: other.yaml\nname: m1\n")
    write(tmp_path / "bundle.yaml", f"extends: [{BASELINE}, m1.yaml]\nname: bundle\n")
    with pytest.raises(ScenarioError, match=r"m1.yaml extends .*other.yaml, which is not merged before it"):
        sim.load_scenario(tmp_path / "bundle.yaml")


def test_set_may_replace_a_key_the_file_leaves_at_its_default():
    sc = sim.load_scenario(BASELINE, ["stages.acceptance.enabled=false"])
    assert sc.stages["acceptance"].enabled is False


def test_an_overlay_distribution_or_condition_replaces_the_parents_whole(tmp_path):
    write(
        tmp_path / "m.yaml",
        f"""
        extends: {BASELINE}
        name: m
        stages:
          customer_works_lv:
            duration: {{dist: lognormal, median: 3, sigma: 0.4}}
          approval_lv:
            when: {{region: main_urban}}
          plan_reply_lv:
            lead_time: {{mode: 3}}
        """,
    )
    sc = sim.load_scenario(tmp_path / "m.yaml")
    assert sc.stages["customer_works_lv"].duration.dist == "lognormal"
    assert sc.stages["approval_lv"].when == {"region": "main_urban"}
    plan = sc.stages["plan_reply_lv"].lead_time  # without dist: merged key by key
    assert (plan.dist, plan.min, plan.mode, plan.max) == ("triangular", 2, 3, 8)


def test_set_on_an_aliased_flow_changes_only_that_segment():
    # lv_smb and lv_standard share one YAML anchor (&lv_flow) in the baseline file
    sc = sim.load_scenario(BASELINE, ["segments.lv_smb.flow[2]=plan_reply_hv_single"])
    assert sc.segments["lv_smb"].flow[2] == "plan_reply_hv_single"
    assert sc.segments["lv_standard"].flow[2] == "plan_reply_lv"


def test_assumptions_accumulate_along_the_extends_chain(tmp_path):
    write(tmp_path / "a.yaml", f"extends: {BASELINE}\nname: a\nassumptions: [from a]\n")
    write(tmp_path / "b.yaml", "extends: a.yaml\nname: b\nassumptions: [from b, from a]\n")
    sc = sim.load_scenario(tmp_path / "b.yaml")
    base = sim.load_scenario(BASELINE).assumptions
    assert sc.assumptions == [*base, "from a", "from b"]


@pytest.mark.parametrize("name", ["baseline.yaml", "plan-2021-2023.yaml"])
def test_a_resolved_scenario_loads_back_as_itself(name):
    """What a run's manifest stores (``to_dict``) loads back as the same scenario, unlimited
    pools (``capacity: null``) and dated measures included."""
    scenario = sim.load_scenario(BASELINE.parent / name)
    again = sim.scenario_from_dict(scenario.to_dict())
    assert again.to_dict() == scenario.to_dict() and again.digest() == scenario.digest()
