"""A condition on the case's segment (``segment: [a]``): a stage several segments' flows share is
taken only by the named segments' cases; the name is checked against the scenario's segments."""

from __future__ import annotations

import numpy as np
import pytest
from builders import fixed, tiny_scenario

import sim
from sim.engine.model import simulate
from sim.scenario import ScenarioError


def two_segments(when: dict | None) -> dict:
    stages = {
        "accept": {"label": "accept", "owner": "utility", "duration": fixed(2.0)},
        "extra": {"label": "extra", "owner": "utility", "duration": fixed(5.0)},
    }
    if when is not None:
        stages["extra"]["when"] = when
    data = tiny_scenario(stages, ["accept", "extra"], per_day=1.0, days=20)
    data["segments"]["other"] = {**data["segments"]["seg"], "label": "other"}
    return data


def test_a_stage_for_one_segment_is_skipped_by_the_others():
    cases = simulate(sim.scenario_from_dict(two_segments({"segment": ["seg"]})), 0).cases
    took = (cases["connected_wd"] - cases["arrival_wd"]).groupby(cases["segment"]).unique()
    assert {k: sorted({float(x) for x in np.round(v, 9)}) for k, v in took.items()} == {
        "other": [2.0],
        "seg": [7.0],
    }
    assert list(cases.columns).count("segment") == 1


def test_without_a_segment_condition_every_segment_takes_the_stage_and_no_column_is_added():
    plain = simulate(sim.scenario_from_dict(two_segments(None)), 0).cases
    took = (plain["connected_wd"] - plain["arrival_wd"]).round(9).unique()
    assert list(took) == [7.0]
    assert list(plain.columns).count("segment") == 1


def test_a_misspelt_segment_in_a_condition_suggests_the_right_one():
    with pytest.raises(ScenarioError) as err:
        sim.scenario_from_dict(two_segments({"segment": ["othr"]}))
    assert str(err.value) == (
        "<memory>: stages.extra.when: attribute 'segment' has no category 'othr' (did you mean "
        "'other'?); categories: seg, other (in segment 'seg')"
    )


def test_company_in_a_scenario_without_companies_says_what_gives_it():
    with pytest.raises(ScenarioError) as err:
        sim.scenario_from_dict(two_segments({"company": ["a"]}))
    assert str(err.value) == (
        "<memory>: stages.extra.when: condition reads attribute 'company', which segment 'seg' does not "
        "define; only a scenario with `companies:` gives its cases a company and a region"
    )
