"""Results per month of application: the plan's trajectory as its supervisors follow it.

``monthly_kpis`` gives, per replication, segment and calendar month of application (and per value
of further case columns, e.g. ``region``), the KPIs of the ``kpis`` table over that month's cases,
each month against the targets in force at its end (a scenario's dated measures:
``Scenario.in_force``). ``monthly_summary`` averages them over replications with 95% half-widths,
and ``first_met`` finds, per group, the first month from which the headline target's share is met
with its whole interval and stays met. Pure functions of the cases table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

import numpy as np
import pandas as pd

from sim.experiments.kpis import kpis_of
from sim.experiments.stats import summarise
from sim.scenario.schema import Scenario

MONTHLY_KPIS = (
    "n_cases",
    "n_open",
    "full_process_wd_mean",
    "full_process_wd_p95",
    "handling_wd_mean",
    "handling_wd_p95",
    "target_wd_mean",
    "target_days",
    "on_target_share",
)
"""The columns ``monthly_summary`` averages (every column of the kpis table is in the frame)."""


def headline_segments(scenario: Scenario) -> list[str]:
    """The segments with a headline target (their first share target), in the scenario's order."""
    return [name for name, segment in scenario.segments.items() if segment.target is not None]


def month_of(cases: pd.DataFrame, every: str = "month") -> pd.Series:
    """The calendar month of each case's application, as ``YYYY-MM`` (``every="quarter"``: its
    quarter, ``YYYY-Qn``)."""
    if every not in ("month", "quarter"):
        raise ValueError(f"every: expected 'month' or 'quarter', found {every!r}")
    arrival = cases["arrival"].dt
    quarter = every == "quarter"
    codes = (arrival.year * 12 + ((arrival.quarter - 1) * 3 if quarter else arrival.month - 1)).to_numpy()
    unique, where = np.unique(codes, return_inverse=True)  # a label per period, not per case
    labels = [f"{c // 12}-Q{c % 12 // 3 + 1}" if quarter else f"{c // 12}-{c % 12 + 1:02d}" for c in unique]
    return pd.Series(np.asarray(labels, dtype=object)[where], index=cases.index, dtype=object)


def _last_day(period: str) -> date:
    """The last day of a ``YYYY-MM`` month or a ``YYYY-Qn`` quarter."""
    year = int(period[:4])
    month = 3 * int(period[6:]) if period[5] == "Q" else int(period[5:])
    after = date(year + month // 12, month % 12 + 1, 1)
    return date.fromordinal(after.toordinal() - 1)


def monthly_kpis(
    cases: pd.DataFrame,
    scenario: Scenario,
    replications: Iterable[int],
    by: Sequence[str] = (),
    every: str = "month",
) -> pd.DataFrame:
    """One row per replication, segment, month of application (and value of each ``by`` column)
    with the KPIs of the ``kpis`` table and ``target_wd_mean`` (the mean of the measure of the
    segment's headline target), a month with no case of a segment included (zero cases).
    ``every="quarter"``: per quarter (column ``month`` then holds ``YYYY-Qn``), for segments with
    few cases a month."""
    months = sorted(month_of(cases, every).unique()) if len(cases) else []
    cases = cases.assign(month=month_of(cases, every)) if len(cases) else cases.assign(month=[])
    groups = [()] if not by else sorted(cases[list(by)].drop_duplicates().itertuples(index=False, name=None))
    keys = ["month", "replication", *by, "segment"]
    parts = {k: part for k, part in cases.groupby(keys, sort=False, observed=True)} if len(cases) else {}
    none = cases.iloc[:0]
    rows = []
    for month in months:
        rules = scenario.in_force(_last_day(month))
        for replication in replications:
            for group in groups:
                values = group if isinstance(group, tuple) else (group,)
                for name, segment in rules.segments.items():
                    sub = parts.get((month, replication, *values, name), none)
                    row = kpis_of(sub, scenario.name, replication, name, segment)
                    measure = segment.target.measure if segment.target is not None else None
                    row["target_wd_mean"] = row.get(f"{measure}_wd_mean", np.nan)  # the headline measure
                    rows.append({"month": month, **dict(zip(by, values)), **row})
    return pd.DataFrame(rows)


def monthly_summary(frame: pd.DataFrame, by: Sequence[str] = ()) -> pd.DataFrame:
    """Per segment, month (and ``by`` value): the mean over replications of ``MONTHLY_KPIS`` with
    95% half-widths (``_hw``; the share's bounded interval ``_lo`` / ``_hi``)."""
    return summarise(frame, ["segment", "month", *by], list(MONTHLY_KPIS))


def first_met(summary: pd.DataFrame, required: float, by: Sequence[str] = ()) -> pd.DataFrame:
    """Per segment (and ``by`` value): the first month from which the share on the headline target
    is at least ``required`` with its whole 95% interval, in that month and every later one (NaN:
    never). A month with no case breaks the run."""
    out = []
    for key, group in summary.groupby(["segment", *by], sort=False):
        group = group.sort_values("month")
        low = group["on_target_share_lo"].to_numpy(dtype=float)
        ok = np.nan_to_num(low, nan=-np.inf) >= required
        since = None
        for month, good in zip(group["month"], ok):
            since = (since or month) if good else None
        values = key if isinstance(key, tuple) else (key,)
        out.append({**dict(zip(["segment", *by], values)), "first_met": since})
    return pd.DataFrame(out)


def company_shares(table: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Per supply company (``RunResult.company_summary()``): its region, its cases, and for each
    segment with a headline target the share of its cases within that target (column named after
    the segment) with its bounded 95% interval (``<segment>_lo``, ``<segment>_hi``)."""
    rows = []
    for name, company in scenario.companies.items():
        own = table[table["company"] == name].set_index("segment")
        row: dict = {"company": name, "region": company.region, "n_cases": own["n_cases"].sum()}
        for segment in headline_segments(scenario):
            row[segment] = own.at[segment, "on_target_share"] if segment in own.index else np.nan
            for end in ("lo", "hi"):
                row[f"{segment}_{end}"] = (
                    own.at[segment, f"on_target_share_{end}"] if segment in own.index else np.nan
                )
        rows.append(row)
    return pd.DataFrame(rows)
