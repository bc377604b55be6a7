"""Arrivals that vary in time (``sim.engine.seasons``): the festival dates, the normalisation, the
exact inversion of the cumulative intensity, counts per month against the intensity, and cases that
keep their luck whatever the profile."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest
from builders import fixed, tiny_scenario

import sim
from sim.engine.model import calendar_for
from sim.engine.seasons import Intensity, spring_festival
from sim.scenario.schema import Seasonality

PROFILE = {
    "months": {8: 0.5, 12: 2.0},
    "spring_festival": [
        {"from_day": -14, "to_day": 0, "factor": 0.5},
        {"from_day": 15, "to_day": 45, "factor": 1.5},
    ],
}


def scenario(profile=PROFILE, per_day=20.0, days=500, start="2021-01-04"):
    data = tiny_scenario(
        {"work": {"label": "work", "owner": "utility", "duration": fixed(1)}},
        ["work"],
        per_day=per_day,
        days=days,
    )
    data["horizon"]["start"] = start
    data["segments"]["seg"]["attributes"] = {"size": {"dist": "uniform", "min": 0, "max": 1}}
    if profile is not None:
        data["seasonality"] = profile
    return sim.scenario_from_dict(data)


def test_spring_festival_is_lunar_new_years_day():
    assert [spring_festival(y) for y in (2021, 2022, 2023)] == [
        date(2021, 2, 12),
        date(2022, 2, 1),
        date(2023, 1, 22),
    ]


def test_factors_average_one_over_each_full_year_and_follow_the_windows():
    intensity = Intensity(Seasonality(**PROFILE), calendar_for(scenario()))
    years = intensity.days.astype("datetime64[Y]")
    for year in ("2022", "2023"):  # fully covered calendar years
        assert intensity.factors[years == np.datetime64(year)].mean() == pytest.approx(1.0, abs=1e-12)
    by_day = dict(zip(intensity.days.astype("datetime64[D]").tolist(), intensity.factors))
    assert by_day[date(2022, 12, 1)] / by_day[date(2022, 6, 1)] == pytest.approx(2.0)  # December
    assert by_day[date(2022, 8, 1)] / by_day[date(2022, 6, 1)] == pytest.approx(0.5)  # August
    assert by_day[date(2022, 1, 25)] / by_day[date(2022, 6, 1)] == pytest.approx(0.5)  # festival run-up
    assert by_day[date(2022, 2, 21)] / by_day[date(2022, 6, 1)] == pytest.approx(1.5)  # after day 15
    assert intensity.factors.min() > 0


def test_inversion_is_exact():
    intensity = Intensity(Seasonality(**PROFILE), calendar_for(scenario()))
    cumulative = intensity.cumulative
    for k in (0, 1, 17, 30, 200, len(intensity.factors) - 1):
        assert intensity.invert(cumulative[k]) == pytest.approx(k, abs=1e-9)
        half = cumulative[k] + intensity.factors[k] / 2
        assert intensity.invert(half) == pytest.approx(k + 0.5, abs=1e-9)
    beyond = cumulative[-1] + 3.0
    assert intensity.invert(beyond) == pytest.approx(len(intensity.factors) + 3.0)


def test_arrivals_per_month_follow_the_intensity():
    """Counted arrivals in a month are Poisson with mean rate x the month's summed factors: each
    month's count lies within 4.5 standard deviations of it (all months together, one run)."""
    sc = scenario()
    cases = sim.run(sc, reps=1).cases
    intensity = Intensity(sc.seasonality, calendar_for(sc))
    months = intensity.days.astype("datetime64[M]")
    arrived = cases["arrival"].to_numpy().astype("datetime64[M]")
    last = np.datetime64(cases["arrival"].max(), "M")
    checked = 0
    for month in np.unique(months):
        if month >= last:  # the cohort ends inside this month
            break
        expected = 20.0 * intensity.factors[months == month].sum()
        observed = int((arrived == month).sum())
        assert abs(observed - expected) <= 4.5 * math.sqrt(expected), (str(month), observed, expected)
        checked += 1
    assert checked >= 20
    feb, mar = np.datetime64("2021-02"), np.datetime64("2021-03")
    assert (arrived == feb).sum() < 0.8 * (arrived == mar).sum()  # the Spring Festival dip of 2021


def test_a_case_keeps_its_attributes_and_a_flat_profile_changes_no_time():
    flat = sim.run(scenario(profile=None, days=100), reps=1).cases.set_index("case_id")
    ones = sim.run(scenario(profile={"months": {1: 1.0}}, days=100), reps=1).cases.set_index("case_id")
    seasonal = sim.run(scenario(days=100), reps=1).cases.set_index("case_id")
    assert np.allclose(flat["arrival_wd"], ones.loc[flat.index, "arrival_wd"], rtol=0, atol=1e-9)
    both = flat.index.intersection(seasonal.index)
    assert len(both) > 0.8 * len(flat)
    assert (flat.loc[both, "size"] == seasonal.loc[both, "size"]).all()  # the same luck
    assert not np.allclose(flat.loc[both, "arrival_wd"], seasonal.loc[both, "arrival_wd"])
