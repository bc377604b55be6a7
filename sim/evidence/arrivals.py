"""Arrival intensity from an event log: applications per working day, per segment and per month.

A case applies at its first event. The scenario's Poisson arrivals have intensity
``rate x scale x s(d)`` on working day d, where ``s`` is the base scenario's seasonal profile
(``sim.engine.seasons``; 1 without ``seasonality``). Over the window the log covers (from its first
to its last application, per replication), the expected count is ``rate x scale x E`` with the
*exposure* E the profile's sum over the window, so the maximum-likelihood rate is
``n / (scale x E)``, with the exact (Garwood) Poisson interval of n. Segments that share an arrival
stream (``streams``) are counted together as the stream, whose rate is what the scenario writes.
The month-by-month table compares each month's count with what the fitted rate and the profile
expect: a check of the seasonal profile, not a fit of it (one month of one year is one count).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.engine.calendar import WorkingCalendar
from sim.engine.seasons import Intensity
from sim.experiments.stats import poisson_interval
from sim.scenario.schema import Scenario

YEAR_WD = 250.0  # ``per_year`` is divided by 250 working days (docs/scenario-format.md)


def _cumulative(calendar: WorkingCalendar, base: Scenario):
    """t (working days) -> the profile's integral from 0 to t (t itself without seasonality)."""
    if base.seasonality is None:
        return lambda t: np.asarray(t, dtype=float), None
    intensity = Intensity(base.seasonality, calendar)
    factors, cumulative = intensity.factors, intensity.cumulative

    def integral(t):
        t = np.asarray(t, dtype=float)
        k = np.clip(np.floor(t).astype(int), 0, len(factors) - 1)
        return cumulative[k] + (t - k) * factors[k]

    return integral, intensity


def arrival_key(base: Scenario, segment: str) -> tuple[str, str] | None:
    """Where a segment's rate is written: ("segments"|"streams", name), or None when its arrivals
    are given times or a fixed interval (nothing to fit)."""
    arrivals = base.segments[segment].arrivals
    if arrivals.stream is not None:
        return "streams", arrivals.stream
    if arrivals.at is not None or arrivals.every is not None:
        return None
    return "segments", segment


def arrival_rates(cases: pd.DataFrame, base: Scenario, calendar: WorkingCalendar) -> pd.DataFrame:
    """One row per segment or stream the log has cases of: ``key`` (the overlay's key path of the
    rate), ``n``, ``exposure_wd``, ``rate_wd`` (per working day at scale 1) with ``ci_low``,
    ``ci_high``, ``base_rate_wd``, ``field`` (per_year or per_working_day) and ``value`` (the rate
    as the field writes it)."""
    integral, _ = _cumulative(calendar, base)
    windows = cases.groupby("period")["arrival_wd"].agg(["min", "max"])
    exposure = float(sum(integral(hi) - integral(lo) for lo, hi in windows.itertuples(index=False)))
    groups: dict[tuple[str, str], int] = {}
    for segment, n in cases.groupby("segment").size().items():
        key = arrival_key(base, str(segment))
        if key is not None:
            groups[key] = groups.get(key, 0) + int(n)
    rows = []
    for (where, name), n in sorted(groups.items()):
        arrivals = (base.streams[name] if where == "streams" else base.segments[name]).arrivals
        field = "per_working_day" if arrivals.per_working_day is not None else "per_year"
        unit = base.scale * exposure
        low, high = poisson_interval(n)
        rate = n / unit if unit > 0 else np.nan
        rows.append(
            {
                "key": f"{where}.{name}.arrivals.{field}",
                "n": n,
                "exposure_wd": exposure,
                "rate_wd": rate,
                "ci_low": low / unit if unit > 0 else np.nan,
                "ci_high": high / unit if unit > 0 else np.nan,
                "base_rate_wd": arrivals.rate_per_wd,
                "field": field,
                "value": rate * (YEAR_WD if field == "per_year" else 1.0),
            }
        )
    return pd.DataFrame(rows)


def monthly_arrivals(
    cases: pd.DataFrame, base: Scenario, calendar: WorkingCalendar, rates: pd.DataFrame
) -> pd.DataFrame:
    """Per segment (or stream) and calendar month of application: ``n``, ``periods`` (replications)
    whose window covers part of the month, ``working_days_over_periods`` of those windows in the
    month (summed over the periods, as ``n`` is), ``rate_wd`` observed, and ``expected`` under the
    fitted rate and the base scenario's profile."""
    integral, _ = _cumulative(calendar, base)
    windows = cases.groupby("period")["arrival_wd"].agg(["min", "max"])
    rate_of = dict(zip(rates["key"].str.rsplit(".", n=2).str[0], rates["rate_wd"])) if len(rates) else {}
    start = pd.Timestamp(calendar.start)
    keyed = cases.assign(
        where=[".".join(arrival_key(base, s) or ("", "")) for s in cases["segment"]],
        month=cases["arrival"].dt.to_period("M"),
    )
    keyed = keyed[keyed["where"] != ""]
    counts = keyed.groupby(["where", "month"]).size()
    months = pd.period_range(keyed["month"].min(), keyed["month"].max(), freq="M") if len(keyed) else []
    rows = []
    for where in sorted(keyed["where"].unique()):
        for month in months:
            first = pd.Timestamp(month.start_time)
            after = first + pd.offsets.MonthBegin(1)
            lo_m = float(calendar.working_time(max((first - start).days, 0)))
            hi_m = float(calendar.working_time(min((after - start).days, len(calendar.is_working))))
            spans = [(max(lo, lo_m), min(hi, hi_m)) for lo, hi in windows.itertuples(index=False)]
            working = sum(max(hi - lo, 0.0) for lo, hi in spans)
            exposure = sum(max(float(integral(hi) - integral(lo)), 0.0) for lo, hi in spans if hi > lo)
            n = int(counts.get((where, month), 0))
            rows.append(
                {
                    "arrivals": where,
                    "month": str(month),
                    "n": n,
                    "periods": sum(1 for lo, hi in spans if hi > lo),
                    "working_days_over_periods": working,
                    "rate_wd": n / working if working > 0 else np.nan,
                    "expected": rate_of.get(where, np.nan) * base.scale * exposure,
                }
            )
    return pd.DataFrame(rows)
