"""Arrival streams shared by segments: three-zero membership by rule (capacity within a threshold),
a threshold that moves cases between segments without changing their luck, a sweep over it, and
the loader's checks of streams."""

from __future__ import annotations

import copy

import pytest
from builders import BASELINE, baseline_dict

import sim
from sim.scenario import ScenarioError, scenario_from_dict

SHORT = {"horizon.warmup_days": 0, "horizon.arrival_days": 60}
THRESHOLD = "segments.lv_smb.arrivals.when.kva.max"


def lv_cases(threshold: float):
    scenario = sim.load_scenario(BASELINE, {**SHORT, THRESHOLD: threshold})
    cases = sim.run(scenario, reps=1).cases
    lv = cases[cases["segment"].isin(["lv_smb", "lv_standard"])].copy()
    lv["number"] = lv["case_id"].str.split(":").str[1].astype(int)  # the stream's case number
    return lv.set_index("number").sort_index()


def test_a_case_is_three_zero_when_its_capacity_is_within_the_threshold():
    lv = lv_cases(160)
    assert (lv.loc[lv["segment"] == "lv_smb", "kva"] <= 160).all()
    assert (lv.loc[lv["segment"] == "lv_standard", "kva"] > 160).all()
    assert 0.85 < (lv["segment"] == "lv_smb").mean() < 0.95  # ASSUMPTION: 90.9% within 160 kVA
    assert lv.index.is_unique  # the stream numbers its cases once, whichever segment they join


def test_moving_the_threshold_moves_cases_but_keeps_their_luck():
    low, high = lv_cases(100), lv_cases(200)
    assert list(low.index) == list(high.index)  # the same applications
    for column in ("arrival_wd", "kva", "online", "region", "external_works"):
        assert low[column].equals(high[column]), column
    moved = (low["kva"] > 100) & (low["kva"] <= 200)
    assert moved.any()
    assert (low.loc[moved, "segment"] == "lv_standard").all() and (
        high.loc[moved, "segment"] == "lv_smb"
    ).all()
    assert (low.loc[~moved, "segment"] == high.loc[~moved, "segment"]).all()


def test_a_sweep_over_the_threshold_runs():
    table = sim.sweep(
        {"base": str(BASELINE), "replications": 1, "set": SHORT, "grid": {THRESHOLD: [100, 160, 200]}}, jobs=1
    )
    smb = table[table["segment"] == "lv_smb"].set_index(THRESHOLD)["n_cases"]
    assert list(smb.index) == [100, 160, 200]
    assert smb[100] < smb[160] < smb[200]  # the higher the threshold, the more three-zero cases


def _with(change) -> dict:
    data = copy.deepcopy(baseline_dict())
    change(data)
    return data


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            lambda d: d["segments"]["lv_smb"]["arrivals"].update(stream="lv_nonres"),
            r"arrivals.stream: stream 'lv_nonres' is not defined \(did you mean 'lv_nonresidential'\?\)",
        ),
        (
            lambda d: d["segments"]["lv_standard"]["arrivals"].update(when={"kva": {"min": 160}}),
            r"lv_standard.arrivals: exactly one segment of stream 'lv_nonresidential' takes the cases",
        ),
        (
            lambda d: d["segments"]["lv_smb"]["arrivals"].update(when={"online": True}),
            r"arrivals.when: condition reads attribute 'online', which stream 'lv_nonresidential' does not",
        ),
        (
            lambda d: d["segments"]["lv_smb"]["attributes"].update(kva={"dist": "fixed", "value": 3}),
            r"attributes.kva: 'kva' is drawn by the segment's stream 'lv_nonresidential' already",
        ),
        (
            lambda d: d["segments"]["lv_resident"]["arrivals"].update(when={"kva": {"max": 1}}),
            r"`when` selects cases of a `stream`: give the stream too",
        ),
        (
            lambda d: d["segments"]["lv_smb"]["arrivals"].update(when={"kva": "small"}),
            r"arrivals.when: attribute 'kva' is a number, found 'small'",
        ),
        (
            lambda d: d["streams"]["lv_nonresidential"]["attributes"].update(
                big={"dist": "bernoulli", "p": 0.5, "when": {"online": True}}
            ),
            r"streams.lv_nonresidential.attributes.big.when: condition reads attribute 'online'",
        ),
        (
            lambda d: d["streams"].update(hv_single=d["streams"].pop("lv_nonresidential"))
            or [d["segments"][n]["arrivals"].update(stream="hv_single") for n in ("lv_smb", "lv_standard")],
            r"streams.hv_single: stream 'hv_single' is named like a segment",
        ),
    ],
    ids=[
        "unknown-stream",
        "no-catch-all",
        "routes-on-a-segment-attribute",
        "drawn-twice",
        "when-alone",
        "routing-value",
        "stream-attribute-when",
        "stream-named-like-a-segment",
    ],
)  # fmt: skip
def test_streams_are_checked_on_load(change, problem):
    with pytest.raises(ScenarioError, match=problem):
        scenario_from_dict(_with(change))


def test_the_segment_that_takes_the_rest_may_be_listed_anywhere(tmp_path):
    # an overlay can only append segments: a new one with a condition comes after the one that
    # takes the rest, and is still tried before it (after the others with a condition, in order)
    overlay = tmp_path / "large.yaml"
    overlay.write_text(
        f"extends: {BASELINE.as_posix()}\nname: large\n"
        "segments:\n  lv_large:\n    label: LV 160-250 kVA\n"
        "    arrivals: {stream: lv_nonresidential, when: {kva: {min: 160, max: 250}}}\n"
        "    attributes: {zero_investment: false}\n    flow: [acceptance]\n",
        encoding="utf-8",
    )
    cases = sim.run(sim.load_scenario(overlay, SHORT), reps=1).cases
    kva = cases.groupby("segment")["kva"].agg(["min", "max", "size"])
    assert kva.loc["lv_smb", "max"] <= 160 < kva.loc["lv_large", "min"]
    assert kva.loc["lv_large", "max"] <= 250 < kva.loc["lv_standard", "min"]
