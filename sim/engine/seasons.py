"""Arrivals that vary in time: the intensity of applications day by day, and its inversion.

A scenario's ``seasonality`` gives factors by calendar month and by calendar days around the Spring
Festival (lunar new year's day, which moves between 21 January and 20 February). The factor of a
working day is the product of its month's factor and of the festival window it falls in (1 where
none is given). Factors are normalised over the working days of each calendar year (of the part the
calendar covers), so a segment's ``per_year`` stays its expected count of a year and the profile
only moves applications within the year.

The arrivals are a non-homogeneous Poisson process sampled by inverting the cumulative intensity:
case n applies at ``Λ⁻¹(E_n)``, where ``E_n`` is the sum of n + 1 unit exponential gaps drawn from
the case-keyed streams. The intensity is constant within a working day, so Λ is piecewise linear
and its inverse exact. Case n keeps its gaps whatever the profile, so two scenarios that differ
only in their profile still meet each case with the same luck (common random numbers).
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import date
from functools import lru_cache

import holidays
import numpy as np

from sim.engine.calendar import WorkingCalendar
from sim.scenario.schema import Seasonality


@lru_cache(maxsize=64)
def spring_festival(year: int) -> date:
    """Lunar new year's day (春节) of ``year``, from the holidays package's Chinese calendar."""
    days = holidays.China(years=year, language="en_US")
    return min(d for d, name in days.items() if "(Spring Festival)" in name)


def day_factors(seasonality: Seasonality, days: np.ndarray) -> np.ndarray:
    """The un-normalised factor of each date (numpy ``datetime64[D]``)."""
    months = days.astype("datetime64[M]").astype(np.int64) % 12 + 1
    factors = np.ones(days.shape, dtype=float)
    for month, factor in seasonality.months.items():
        factors[months == month] *= factor
    if seasonality.spring_festival:
        years = days.astype("datetime64[Y]").astype(np.int64) + 1970
        for year in np.unique(years):
            # a window may reach into the next or the previous year: look at three festivals
            for festival_year in (year - 1, year, year + 1):
                festival = np.datetime64(spring_festival(int(festival_year)), "D")
                offset = (days - festival).astype(np.int64)
                for window in seasonality.spring_festival:
                    inside = (years == year) & (offset >= window.from_day) & (offset < window.to_day)
                    factors[inside] *= window.factor
    return factors


class Intensity:
    """The relative intensity of applications per working day of a calendar, normalised per
    calendar year, and the inverse of its cumulative sum."""

    def __init__(self, seasonality: Seasonality, calendar: WorkingCalendar):
        n = int(calendar.total_working_days)
        middle = np.asarray(calendar.calendar_time(np.arange(n) + 0.5))
        days = np.datetime64(calendar.start, "D") + np.floor(middle).astype(np.int64)
        factors = day_factors(seasonality, days)
        years = days.astype("datetime64[Y]")
        for year in np.unique(years):
            this = years == year
            mean = factors[this].mean()
            if mean > 0:
                factors[this] /= mean
        self.days = days
        self.factors = factors
        self.cumulative = np.concatenate([[0.0], np.cumsum(factors)])
        # the same numbers as Python floats: ``invert`` runs once per application, and a bisection
        # of a list is several times quicker than numpy's on one value (the same arithmetic)
        self._cumulative = self.cumulative.tolist()
        self._factors = factors.tolist()

    def invert(self, x: float) -> float:
        """The working time t at which the cumulative relative intensity reaches ``x`` (beyond the
        calendar's last working day, the intensity is taken as 1)."""
        cumulative, n = self._cumulative, len(self._factors)
        if x >= cumulative[-1]:
            return n + (x - cumulative[-1])
        k = bisect_right(cumulative, x) - 1  # skips days of factor 0
        return k + (x - cumulative[k]) / self._factors[k]
