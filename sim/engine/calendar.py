"""Working-day calendar for mainland China: calendar time <-> working time.

Calendar time ``t`` is a float number of days since 00:00 of ``start``; day ``i``
covers ``[i, i + 1)``. Simplification: a working day is worked uniformly over its
whole 24 h, so working time

    W(t) = cum_end[i - 1] + frac * is_working[i]        for t = i + frac

counts the working days elapsed since ``start``; it is flat over weekends and
holidays. Its inverse ``W_inv(w)`` is the EARLIEST calendar time with W(t) = w: a
working time reached at the close of a working day maps to that close (``i + 1``),
not to the opening of the next working day. A task of ``d`` working days started
at ``t`` thus ends at ``W_inv(W(t) + d)``.

The flags are built once per run from ``holidays.China``, which knows the adjusted
working days (调休, e.g. Sunday 2021-02-07 was worked); queries then only use
``np.searchsorted`` and indexing on numpy arrays.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, overload

import holidays
import numpy as np

if TYPE_CHECKING:
    from sim.scenario.schema import Scenario

BEYOND_PUBLISHED_CHOICES = ("error", "statutory_only")


class CalendarError(ValueError):
    """A calendar that cannot be built or a query outside it (one-line message)."""


@lru_cache(maxsize=1)
def last_published_year() -> int:
    """Last year whose adjusted working days (调休) ``holidays.China`` knows."""
    years = range(holidays.China.start_year, holidays.China.end_year + 1)
    return max(d.year for d in holidays.China(years=years).weekend_workdays)


@lru_cache(maxsize=1)
def first_published_year() -> int:
    """First year whose adjusted working days (调休) ``holidays.China`` knows."""
    years = range(holidays.China.start_year, holidays.China.end_year + 1)
    return min(d.year for d in holidays.China(years=years).weekend_workdays)


def _as_float(x: np.ndarray) -> float | np.ndarray:
    return float(x) if x.ndim == 0 else x


@dataclass(frozen=True, eq=False)
class WorkingCalendar:
    start: date
    is_working: np.ndarray  # bool per calendar day from start
    cum_end: np.ndarray  # float working days elapsed at the close of each day
    _cum_start: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        flags = np.array(self.is_working, dtype=bool)  # private read-only copies
        cum_end = np.array(self.cum_end, dtype=float)
        if flags.ndim != 1 or flags.size == 0 or cum_end.shape != flags.shape:
            raise CalendarError("is_working and cum_end must be non-empty 1-D arrays of equal length")
        if not np.array_equal(cum_end, np.cumsum(flags, dtype=float)):
            raise CalendarError("cum_end must be the running count of working days")
        cum_start = cum_end - flags
        for arr in (flags, cum_end, cum_start):
            arr.flags.writeable = False
        object.__setattr__(self, "is_working", flags)
        object.__setattr__(self, "cum_end", cum_end)
        object.__setattr__(self, "_cum_start", cum_start)

    @classmethod
    def from_flags(cls, start: date, is_working: Sequence[bool] | np.ndarray) -> WorkingCalendar:
        flags = np.array(is_working, dtype=bool)
        return cls(start, flags, np.cumsum(flags, dtype=float))

    @classmethod
    def china(cls, start: date, end: date, *, beyond_published: str = "error") -> WorkingCalendar:
        """Mainland China calendar covering ``start`` to ``end`` inclusive."""
        if beyond_published not in BEYOND_PUBLISHED_CHOICES:
            raise CalendarError(
                "calendar.beyond_published must be one of "
                f"{', '.join(BEYOND_PUBLISHED_CHOICES)}, got {beyond_published!r}"
            )
        if end < start:
            raise CalendarError(f"calendar end {end} is before its start {start}")
        first, last = first_published_year(), last_published_year()
        if start.year < first:
            raise CalendarError(
                f"calendar starts in {start.year} but adjusted working days are known only from "
                f"{first}; start the horizon (horizon.start) in {first} or later"
            )
        if end.year > last and beyond_published == "error":
            raise CalendarError(
                f"calendar runs to {end.year} but adjusted working days are published "
                f"only up to {last}; set `calendar.beyond_published: statutory_only` "
                "in the scenario to use statutory holidays only (weekends off, "
                "no adjusted working days)"
            )
        years = range(start.year, end.year + 1)
        published = holidays.China(years=[y for y in years if y <= last])
        # Beyond the published years: statutory days only, no guessed in-lieu days.
        statutory = holidays.China(years=[y for y in years if y > last], observed=False)
        days = np.arange(np.datetime64(start, "D"), np.datetime64(end, "D") + 1)
        off = np.array(sorted({*published, *statutory}), dtype="datetime64[D]")
        worked_weekend = np.array(sorted(published.weekend_workdays), dtype="datetime64[D]")
        # 1970-01-01 was a Thursday (weekday 3).
        weekday = (days.astype(np.int64) + 3) % 7
        flags = ((weekday < 5) & ~np.isin(days, off)) | np.isin(days, worked_weekend)
        return cls.from_flags(start, flags)

    @property
    def end(self) -> date:
        """Last calendar day covered."""
        return self.start + timedelta(days=len(self.is_working) - 1)

    @property
    def total_working_days(self) -> float:
        return float(self.cum_end[-1])

    def _checked(self, x: float | np.ndarray, hi: float, what: str) -> np.ndarray:
        arr = np.asarray(x, dtype=float)
        inside = (arr >= 0.0) & (arr <= hi)  # False for NaN too
        if not np.all(inside):
            bad = float(arr[~inside].flat[0] if arr.ndim else arr)
            raise CalendarError(
                f"{what} {bad} is outside [0, {hi:g}]: the calendar covers {self.start} to {self.end}"
            )
        return arr

    def _check_t(self, t: float | np.ndarray) -> np.ndarray:
        return self._checked(t, len(self.is_working), "calendar time (days)")

    @overload
    def working_time(self, t: float) -> float: ...
    @overload
    def working_time(self, t: np.ndarray) -> np.ndarray: ...
    def working_time(self, t: float | np.ndarray) -> float | np.ndarray:
        """W(t): working days elapsed from the opening of ``start`` to time t."""
        arr = self._check_t(t)
        i = np.minimum(np.floor(arr).astype(np.int64), len(self.is_working) - 1)
        return _as_float(self._cum_start[i] + (arr - i) * self.is_working[i])

    @overload
    def calendar_time(self, w: float) -> float: ...
    @overload
    def calendar_time(self, w: np.ndarray) -> np.ndarray: ...
    def calendar_time(self, w: float | np.ndarray) -> float | np.ndarray:
        """W_inv(w): earliest calendar time t with W(t) = w."""
        arr = self._checked(w, self.total_working_days, "working time (working days)")
        # k: first day whose close reaches w; it is a working day whenever w > 0.
        k = np.searchsorted(self.cum_end, arr, side="left")
        return _as_float(k + (arr - self._cum_start[k]))

    def add_working_days(self, t: float | np.ndarray, d: float | np.ndarray) -> float | np.ndarray:
        """Calendar time at which d working days started at calendar time t are done."""
        return self.calendar_time(np.asarray(self.working_time(t)) + d)

    def add_calendar_days_in_working_time(
        self, w: float | np.ndarray, d: float | np.ndarray
    ) -> float | np.ndarray:
        """Working time reached after running d calendar days from working time w."""
        return self.working_time(np.asarray(self.calendar_time(w)) + d)

    def delay(self, days: float, now: float, beyond: float) -> float:
        """Working time that ``days`` calendar days from working time ``now`` take (a stage on
        the customer's calendar); ``beyond`` if they end past the calendar."""
        t_end = self.calendar_time(now) + days
        if t_end >= len(self.is_working):
            return beyond
        # W(W⁻¹(now) + days) - now can come out a rounding error below zero for a very short
        # stage (found by the property test): a stage never ends before it starts
        return max(self.working_time(t_end) - now, 0.0)

    def to_datetime(self, t: float | np.ndarray) -> np.datetime64 | np.ndarray:
        """Calendar time as numpy datetime64[s] (rounded to the second)."""
        seconds = np.round(self._check_t(t) * 86400.0).astype(np.int64)
        return np.datetime64(self.start, "s") + seconds.astype("timedelta64[s]")

    def date_of(self, t: float) -> date:
        """Date of the instant t (the close of day i is 00:00 of day i + 1)."""
        return self.to_datetime(t).astype("datetime64[D]").item()

    def working_days_in_year(self, year: int) -> int:
        first, last = date(year, 1, 1), date(year, 12, 31)
        if first < self.start or last > self.end:
            raise CalendarError(
                f"year {year} is not fully covered: the calendar covers {self.start} to {self.end}"
            )
        lo = (first - self.start).days
        return int(np.count_nonzero(self.is_working[lo : lo + (last - first).days + 1]))


@lru_cache(maxsize=8)
def _china(start, end, beyond_published: str) -> WorkingCalendar:
    return WorkingCalendar.china(start, end, beyond_published=beyond_published)


def calendar_for(scenario: Scenario) -> WorkingCalendar:
    """A scenario's calendar, long enough for its whole horizon (warm-up, arrivals and the drain
    cap); one per horizon and process (cached)."""
    h = scenario.horizon
    needed = h.warmup_days + h.arrival_days + h.drain_days
    days = math.ceil(needed * 7 / 5 * 1.1) + 45  # ample: 5 working days a week plus holidays
    cal = _china(h.start, h.start + timedelta(days=days), scenario.calendar.beyond_published)
    if cal.total_working_days < needed:  # pragma: no cover - the margin above is generous
        raise AssertionError("calendar margin too small")
    return cal
