from datetime import date, timedelta

import holidays
import numpy as np
import pytest

from sim.engine.calendar import CalendarError, WorkingCalendar, last_published_year


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    return WorkingCalendar.china(date(2021, 1, 1), date(2023, 12, 31))


def t_of(cal: WorkingCalendar, d: date) -> float:
    """Calendar time of the opening (00:00) of day d."""
    return float((d - cal.start).days)


def is_working(cal: WorkingCalendar, d: date) -> bool:
    return bool(cal.is_working[(d - cal.start).days])


def test_adjusted_weekend_days_around_spring_festival_2021_are_working_days(cal):
    assert date(2021, 2, 7).weekday() == 6 and is_working(cal, date(2021, 2, 7))
    assert date(2021, 2, 20).weekday() == 5 and is_working(cal, date(2021, 2, 20))


def test_spring_festival_2021_holidays_are_not_working_days(cal):
    for day in range(11, 18):
        assert not is_working(cal, date(2021, 2, day))
    assert is_working(cal, date(2021, 2, 10)) and is_working(cal, date(2021, 2, 18))


def test_two_working_days_from_opening_of_feb_10_finish_at_close_of_feb_18(cal):
    end = cal.add_working_days(t_of(cal, date(2021, 2, 10)), 2)
    assert end == t_of(cal, date(2021, 2, 19))  # close of the 18th
    assert cal.to_datetime(end) == np.datetime64("2021-02-19T00:00:00")
    assert cal.date_of(end - 0.5) == date(2021, 2, 18)


def test_working_days_per_year_2021_to_2023(cal):
    assert [cal.working_days_in_year(y) for y in (2021, 2022, 2023)] == [250, 249, 249]
    assert cal.total_working_days == 748.0
    assert cal.end == date(2023, 12, 31)


def test_calendar_time_and_working_time_round_trip_vectorised(cal):
    w = np.linspace(0.0, cal.total_working_days, 2001)
    t = cal.calendar_time(w)
    assert isinstance(t, np.ndarray) and t.shape == w.shape
    assert np.all(np.diff(t) >= 0)
    np.testing.assert_allclose(cal.working_time(t), w, rtol=0, atol=1e-9)


def test_working_time_is_flat_over_a_weekend(cal):
    sat, mon = t_of(cal, date(2021, 3, 6)), t_of(cal, date(2021, 3, 8))
    ws = cal.working_time(np.array([sat, sat + 0.3, sat + 1.0, sat + 1.7, mon]))
    assert np.all(ws == ws[0])
    assert cal.working_time(mon + 0.25) == ws[0] + 0.25


def test_calendar_time_returns_close_of_friday_not_opening_of_monday(cal):
    fri_close = t_of(cal, date(2021, 3, 6))
    w = cal.working_time(fri_close)
    assert isinstance(w, float) and w == int(w)
    assert cal.calendar_time(w) == fri_close
    assert cal.calendar_time(w + 0.5) == t_of(cal, date(2021, 3, 8)) + 0.5


def test_working_time_zero_maps_to_time_zero_even_if_start_is_a_holiday(cal):
    assert not is_working(cal, date(2021, 1, 1))
    assert cal.calendar_time(0.0) == 0.0
    assert cal.working_time(1.0) == 0.0


def test_add_calendar_days_in_working_time_skips_the_weekend(cal):
    fri_open_w = cal.working_time(t_of(cal, date(2021, 3, 5)))
    assert cal.add_calendar_days_in_working_time(fri_open_w, 3.0) == fri_open_w + 1.0
    assert cal.add_calendar_days_in_working_time(fri_open_w, 3.5) == fri_open_w + 1.5


def test_last_published_year_is_the_last_year_with_adjusted_working_days_and_covers_the_plan():
    # behaviour, not a release of ``holidays``: the year returned has published adjusted working
    # days (调休), the next one has none yet, and the plan's years 2021-2023 are always covered
    last = last_published_year()
    assert last >= 2023
    adjusted = holidays.China(years=range(2021, last + 2)).weekend_workdays
    assert any(d.year == last for d in adjusted)
    assert not any(d.year == last + 1 for d in adjusted)


def test_end_beyond_published_year_raises_and_mentions_beyond_published():
    last = last_published_year()
    with pytest.raises(CalendarError, match="beyond_published") as info:
        WorkingCalendar.china(date(2025, 1, 1), date(last + 4, 12, 31))
    assert str(last + 4) in str(info.value) and str(last) in str(info.value)
    assert "\n" not in str(info.value)


def test_unknown_beyond_published_value_raises():
    with pytest.raises(CalendarError, match="beyond_published"):
        WorkingCalendar.china(date(2021, 1, 1), date(2021, 12, 31), beyond_published="guess")


def test_statutory_only_builds_with_holidays_and_weekends_off_beyond_published_year():
    last = last_published_year()
    year = last + 4  # never published: statutory holidays and weekends only
    cal = WorkingCalendar.china(date(last, 1, 1), date(year, 12, 31), beyond_published="statutory_only")
    assert not is_working(cal, date(year, 10, 1))  # National Day is statutory
    saturday = next(date(year, 11, d) for d in range(1, 8) if date(year, 11, d).weekday() == 5)
    assert not is_working(cal, saturday)  # no guessed in-lieu working weekend
    assert is_working(cal, saturday + timedelta(days=3))  # a Tuesday in November: no holiday
    adjusted = [d for d in holidays.China(years=last).weekend_workdays if d.year == last]
    assert all(is_working(cal, d) for d in adjusted)  # published adjusted weekends still honoured


def test_queries_outside_the_covered_range_raise(cal):
    n = len(cal.is_working)
    for bad in (-0.5, n + 0.5, np.array([1.0, n + 1.0]), float("nan")):
        with pytest.raises(CalendarError, match="2021-01-01 to 2023-12-31"):
            cal.working_time(bad)
    for bad in (-1.0, cal.total_working_days + 0.5):
        with pytest.raises(CalendarError, match="2021-01-01 to 2023-12-31"):
            cal.calendar_time(bad)
    with pytest.raises(CalendarError):
        cal.add_working_days(t_of(cal, date(2023, 12, 29)), 5)
    with pytest.raises(CalendarError):
        cal.working_days_in_year(2024)
    assert cal.working_time(float(n)) == cal.total_working_days  # close of the last day


def test_from_flags_hand_made_pattern_gives_exact_values():
    # day:        0      1     2     3      4      5
    flags = [False, True, True, False, False, True]
    cal = WorkingCalendar.from_flags(date(2024, 1, 1), flags)
    np.testing.assert_array_equal(cal.cum_end, [0, 1, 2, 2, 2, 3])
    assert cal.end == date(2024, 1, 6) and cal.total_working_days == 3.0
    t = np.array([0.0, 0.5, 1.0, 1.25, 2.0, 3.0, 3.5, 5.0, 5.5, 6.0])
    np.testing.assert_array_equal(cal.working_time(t), [0.0, 0.0, 0.0, 0.25, 1.0, 2.0, 2.0, 2.0, 2.5, 3.0])
    w = np.array([0.0, 0.25, 1.0, 1.5, 2.0, 2.5, 3.0])
    np.testing.assert_array_equal(cal.calendar_time(w), [0.0, 1.25, 2.0, 2.5, 3.0, 5.5, 6.0])
    assert cal.add_working_days(0.0, 2.0) == 3.0
    assert cal.add_working_days(2.5, 1.0) == 5.5
    assert cal.add_calendar_days_in_working_time(1.0, 3.0) == 2.0
    assert cal.date_of(1.25) == date(2024, 1, 2)
    assert cal.to_datetime(1.25) == np.datetime64("2024-01-02T06:00:00")


def test_calendar_arrays_are_read_only():
    cal = WorkingCalendar.from_flags(date(2024, 1, 1), [True, False])
    with pytest.raises(ValueError):
        cal.is_working[0] = False
