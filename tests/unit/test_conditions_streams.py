"""Conditions as data, and the case-keyed random streams."""

from __future__ import annotations

import numpy as np
import pytest

from sim.engine.streams import CHUNK, CaseStreams
from sim.scenario.conditions import attributes_used, check_condition, holds
from sim.scenario.distributions import Triangular

CASE = {"region": "west", "kva": 400, "important": False}


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"important": False}, True),
        ({"important": True}, False),
        ({"region": ["main_urban", "west"]}, True),
        ({"region": ["main_urban"]}, False),
        ({"kva": {"max": 400}}, True),
        ({"kva": {"min": 401}}, False),
        ({"kva": {"min": 160, "max": 1250}, "region": "west"}, True),
        (
            {
                "any": [
                    {"region": "main_urban", "kva": {"max": 1250}},
                    {"region": "west", "kva": {"max": 400}},
                ]
            },
            True,
        ),
        (
            {
                "any": [
                    {"region": "main_urban", "kva": {"max": 1250}},
                    {"region": "west", "kva": {"max": 399}},
                ]
            },
            False,
        ),
        ({"all": [{"region": "west"}, {"important": False}]}, True),
        ({"not": {"region": "west"}}, False),
        (None, True),
    ],
)
def test_condition_holds(condition, expected):
    if condition is not None:
        check_condition(condition)
    assert holds(condition, CASE) is expected


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ({}, "non-empty mapping"),
        ({"any": []}, "non-empty list"),
        ({"kva": {"max": "big"}}, "is a number"),
        ({"kva": {"below": 3}}, "takes min and/or max"),
        ({"region": [["a"]]}, "plain values"),
    ],
)
def test_malformed_conditions_are_refused(condition, message):
    with pytest.raises(ValueError, match=message):
        check_condition(condition)


def test_attributes_used_looks_through_combinators():
    cond = {"any": [{"region": "west"}, {"not": {"kva": {"max": 3}}}], "important": True}
    assert sorted(attributes_used(cond)) == ["important", "kva", "region"]


def test_a_case_reads_the_same_number_whatever_was_drawn_before():
    a = CaseStreams(seed=7, replication=0)
    b = CaseStreams(seed=7, replication=0)
    # b touches other cases, purposes and segments first, in another order
    for case in (CHUNK + 5, 3, 0):
        b.uniform("hv_single", "duration:plan_reply", case)
        b.uniform("lv_smb", "duration:acceptance", case)
    for case in (0, 3, CHUNK + 5):
        assert a.uniform("lv_smb", "duration:acceptance", case) == b.uniform(
            "lv_smb", "duration:acceptance", case
        )


def test_streams_differ_by_seed_replication_segment_purpose_and_draw():
    base = CaseStreams(1, 0).uniform("s", "p", 10)
    assert CaseStreams(2, 0).uniform("s", "p", 10) != base
    assert CaseStreams(1, 1).uniform("s", "p", 10) != base
    assert CaseStreams(1, 0).uniform("t", "p", 10) != base
    assert CaseStreams(1, 0).uniform("s", "q", 10) != base
    assert CaseStreams(1, 0).uniform("s", "p", 10, draw=1) != base


def test_sample_is_the_quantile_of_the_case_uniform():
    streams = CaseStreams(5, 2)
    spec = Triangular(dist="triangular", min=1, mode=2, max=6)
    for case in (0, 17, 5000):
        u = streams.uniform("seg", "duration:x", case)
        assert streams.sample("seg", "duration:x", case, spec) == pytest.approx(float(spec.ppf(np.array(u))))


def test_uniform_blocks_look_uniform():
    streams = CaseStreams(3, 0)
    u = np.array([streams.uniform("seg", "p", i) for i in range(20_000)])
    assert u.min() >= 0 and u.max() < 1
    # mean of 20,000 uniforms: standard error 0.002; 4.5 standard errors is a generous interval
    assert abs(u.mean() - 0.5) < 4.5 * (1 / np.sqrt(12 * len(u)))


def test_a_chunks_numbers_go_when_its_cases_have_ended_and_come_back_the_same():
    from sim.engine.streams import CHUNK, CaseStreams
    from sim.scenario.distributions import Exponential

    streams = CaseStreams(seed=3, replication=1)
    spec = Exponential(dist="exponential", mean_=2.0)
    first = (streams.uniform("seg", "rework:x", 5), streams.sample("seg", "effort:x", 5, spec))
    streams.began("seg", 5)
    streams.passed("seg", CHUNK)  # the arrivals moved on, but case 5 is still in progress
    assert streams.blocks == 3  # two uniform blocks and one of values
    streams.ended("seg", 5)
    assert streams.blocks == 0
    again = (streams.uniform("seg", "rework:x", 5), streams.sample("seg", "effort:x", 5, spec))
    assert again == first
    streams.began("seg", CHUNK + 1)
    streams.uniform("seg", "rework:x", CHUNK + 1)
    streams.passed("seg", 2 * CHUNK - 1)  # not the first case of a chunk: nothing passes
    streams.ended("seg", CHUNK + 1)
    assert streams.blocks == 4  # chunk 0 came back (3) and chunk 1 stays until the arrivals pass it
