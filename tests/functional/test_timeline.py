"""The per-case view: ``sim.timeline`` gives exact stage intervals for fixed durations, and
``sim.timeline_figure`` draws one bar per stage visit, coloured by party."""

from __future__ import annotations

import numpy as np
import pytest
from builders import fixed, staff, tiny_scenario, work

import sim
from sim.outputs.timeline import PARTY_COLOURS
from sim.scenario import scenario_from_dict

STAGES = {
    "accept": {"label": "Acceptance", "owner": "utility", "duration": fixed(1), "handling": True},
    "works": {"label": "Customer works", "owner": "customer", "duration": fixed(5)},
    "permit": {"label": "Permit", "owner": "government", "duration": fixed(3)},
    "grid": {"label": "Grid works", "owner": "utility", "duration": fixed(4)},
    "connect": {
        "label": "Connection",
        "owner": "utility",
        "duration": fixed(2),
        "handling": True,
        "rework": {"probability": 1.0, "fix": "fix", "max_attempts": 2},
    },
    "fix": {"label": "Customer fixes", "owner": "customer", "duration": fixed(1.5)},
}
FLOW = ["accept", {"parallel": [["works"], ["permit", "grid"]]}, "connect"]

# (stage, party, attempt, entered, start, end) in working days since the application
EXPECTED = [
    ("accept", "utility", 0, 0, 0, 1),
    ("works", "customer", 0, 1, 1, 6),
    ("permit", "government", 0, 1, 1, 4),
    ("grid", "utility", 0, 4, 4, 8),
    ("connect", "utility", 0, 8, 8, 10),
    ("fix", "customer", 0, 10, 10, 11.5),
    ("connect", "utility", 1, 11.5, 11.5, 13.5),
]


@pytest.fixture(scope="module")
def result():
    return sim.run(scenario_from_dict(tiny_scenario(STAGES, FLOW, per_day=1, days=10)), reps=1, events=True)


def test_fixed_durations_give_exact_intervals(result):
    case_id = result.cases["case_id"].iloc[3]
    table = sim.timeline(result, case_id)
    assert list(table["stage"]) == [e[0] for e in EXPECTED]
    assert list(table["party"]) == [e[1] for e in EXPECTED]
    assert list(table["attempt"]) == [e[2] for e in EXPECTED]
    for column, i in (("entered_wd", 3), ("start_wd", 4), ("end_wd", 5)):
        assert table[column].to_numpy() == pytest.approx([e[i] for e in EXPECTED], abs=1e-9), column
    assert table["wait_wd"].to_numpy() == pytest.approx(0, abs=1e-9)
    assert table["duration_wd"].to_numpy() == pytest.approx([1, 5, 3, 4, 2, 1.5, 2], abs=1e-9)
    assert list(table["label"][:2]) == ["Acceptance", "Customer works"]
    case = result.cases.set_index("case_id").loc[case_id]
    # timestamps: the first entry is the application, the last end the connection
    assert table["entered"].iloc[0] == case["arrival"]
    assert table["end"].iloc[-1] == case["connected"]
    assert table.attrs["segment"] == "seg"
    assert table.attrs["elapsed_wd"] == pytest.approx(13.5)


def test_waits_are_those_of_first_come_first_served_at_known_arrival_times():
    # one desk, 2 days of service each, applications at 0, 0.5 and 1: by hand, the second waits
    # from 0.5 to 2 and the third from 1 to 4 (the first finishes at 2, the second at 4)
    stages = {"serve": {"label": "Serve", "owner": "utility", "pool": "desk", "effort": work(2)}}
    data = tiny_scenario(
        stages, ["serve"], resources={"desk": staff(1)}, days=5, arrivals={"at": [0, 0.5, 1]}
    )
    result = sim.run(scenario_from_dict(data), reps=1, events=True)
    waits = {c: sim.timeline(result, c)["wait_wd"].tolist() for c in ("seg:0", "seg:1", "seg:2")}
    assert waits == {"seg:0": [0.0], "seg:1": [1.5], "seg:2": [3.0]}
    second = sim.timeline(result, "seg:1")  # in working days since its application at 0.5
    visit = second.iloc[0]
    assert (visit["entered_wd"], visit["start_wd"], visit["end_wd"]) == (0, 1.5, 3.5)
    assert (second["resource"] == "desk").all()


def test_timeline_needs_the_event_log_and_a_known_case(result):
    plain = sim.run(scenario_from_dict(tiny_scenario(STAGES, FLOW, per_day=1, days=3)), reps=1)
    with pytest.raises(ValueError, match="events=True"):
        sim.timeline(plain, "seg:0")
    with pytest.raises(ValueError, match="no counted case 'seg:9999'"):
        sim.timeline(result, "seg:9999")
    with pytest.raises(ValueError, match="no replication 4"):
        sim.timeline(result, "seg:0", replication=4)


def test_figure_has_one_bar_per_stage_visit_and_the_three_parties(result):
    case_id = result.cases["case_id"].iloc[3]
    fig = sim.timeline_figure(result, case_id)
    ax = fig.axes[0]
    stage_bars = [p for p in ax.patches if p.get_gid() == "stage"]
    assert len(stage_bars) == len(EXPECTED)
    # bars sit at the stage intervals and are coloured by the owner
    for bar, (_, party, _, _, start, end) in zip(stage_bars, EXPECTED):
        assert bar.get_x() == pytest.approx(start, abs=1e-9)
        assert bar.get_width() == pytest.approx(end - start, abs=1e-9)
        assert np.allclose(bar.get_facecolor()[:3], _rgb(PARTY_COLOURS[party]))
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert {"utility", "government", "customer"} <= set(labels)
    title = ax.get_title()
    assert case_id in title and "segment" in title and "elapsed 13.5" in title
    assert "full process" in title
    assert "working days" in ax.get_xlabel()
    assert [t.get_text() for t in ax.get_yticklabels()][-1] == "Connection (attempt 2)"
    fig.savefig(_buffer(), format="png")  # renders without a display


def test_figure_draws_waits_lighter():
    stages = {"serve": {"label": "Serve", "owner": "utility", "pool": "desk", "effort": work(1)}}
    data = tiny_scenario(stages, ["serve"], resources={"desk": staff(1)}, per_day=3, days=5)
    result = sim.run(scenario_from_dict(data), reps=1, events=True)
    case_id = next(c for c in result.cases["case_id"] if sim.timeline(result, c)["wait_wd"].iloc[0] > 0)
    ax = sim.timeline_figure(result, case_id).axes[0]
    wait = [p for p in ax.patches if p.get_gid() == "wait"]
    stage = [p for p in ax.patches if p.get_gid() == "stage"]
    assert len(wait) == len(stage) == 1
    assert wait[0].get_alpha() < 1 and wait[0].get_x() + wait[0].get_width() == pytest.approx(
        stage[0].get_x()
    )


def _rgb(hex_colour: str):
    from matplotlib.colors import to_rgb

    return to_rgb(hex_colour)


def _buffer():
    import io

    return io.BytesIO()
