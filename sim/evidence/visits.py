"""Stage visits from an event log: each case's schedule, start and complete of a stage paired up,
on the working-day clock.

A visit of a stage is its ``schedule`` (the case enters the stage and joins its queue), ``start``
(the staff are there, or at once for a stage without staff) and ``complete`` (the stage is over,
lead time included). So ``start - schedule`` is the *wait* (for staff, or materials) and
``complete - start`` the *service*: for a stage without staff its duration, for a stage with staff
its effort over the pool's hours per day, plus travel and lead time. Both are in working days,
through the calendar map of ``sim.engine.calendar`` (never calendar days, except for stages that
count calendar days), so a visit over a weekend is as long as the model would make it.

Pairing walks each case's events of a stage in time order: a ``schedule`` opens a visit, a
``start`` or ``complete`` fills the last visit that lacks it (or opens one that lacks what came
before). A visit without its ``complete`` is either *open* (the case did not go on past it: it was
still in the stage when the log was taken, so its service is right-censored at the end of the
log) or *missing its complete* (the case went on: a record was lost; skipped and counted). "Went
on" means a later visit of a stage that follows this one in the case's flow
(``sim.evidence.flows``), or of the same stage again: in parallel branches the other branch may go
on while this visit is still open. The n-th visit of a stage in a case is its attempt n - 1 (or
the log's ``attempt``).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from sim.engine.calendar import CalendarError, WorkingCalendar, calendar_for
from sim.scenario.schema import Scenario

STATUSES = ("done", "open", "missing complete", "missing start")


def log_calendar(base: Scenario, first: pd.Timestamp, last: pd.Timestamp) -> WorkingCalendar:
    """The calendar to read the log's times with: the base scenario's own (so that working times
    and the seasonal intensity are the model's) when it covers the log, else whole calendar years
    around the log."""
    calendar = calendar_for(base)
    start = pd.Timestamp(calendar.start)
    if first >= start and (last - start).days + 1 < len(calendar.is_working):
        return calendar
    try:
        return WorkingCalendar.china(
            date(first.year, 1, 1), date(last.year, 12, 31), beyond_published=base.calendar.beyond_published
        )
    except CalendarError as exc:
        raise CalendarError(f"the log's times ({first.date()} to {last.date()}): {exc}") from None


def working_times(calendar: WorkingCalendar, stamps: pd.Series) -> np.ndarray:
    """W(t) of naive local timestamps: working days since the calendar's start."""
    days = (stamps - pd.Timestamp(calendar.start)).dt.total_seconds().to_numpy() / 86400.0
    return np.asarray(calendar.working_time(days), dtype=float)


def visits(events: pd.DataFrame, calendar: WorkingCalendar, after=None) -> pd.DataFrame:
    """One row per stage visit: ``period, case, segment, activity, attempt``, ``scheduled_wd,
    start_wd, complete_wd`` (NaN where the log has no such event), ``scheduled_cd, start_cd, complete_cd``
    (calendar days since the calendar's start) and ``status`` (``STATUSES``).

    ``events`` is ``Log.events`` (sorted by case and time); ``after`` maps (segment, stage) to the
    stages that follow it in the flow (``sim.evidence.flows.followers``), which tells an open visit
    from a lost complete."""
    w = working_times(calendar, events["timestamp"])
    cd = (events["timestamp"] - pd.Timestamp(calendar.start)).dt.total_seconds().to_numpy() / 86400.0
    key_columns = ["case", "activity", *(["attempt"] if "attempt" in events else [])]
    keys = events.groupby(key_columns, sort=False).ngroup().to_numpy()
    order = np.lexsort((np.arange(len(events)), keys))
    lifecycle = events["lifecycle"].map({"schedule": 0, "start": 1, "complete": 2}).to_numpy()
    rows: list[list] = []  # [first event, scheduled, start, complete, scheduled_cd, start_cd, complete_cd]
    previous = None
    for i in order:
        new_key = keys[i] != previous
        previous = keys[i]
        last = None if new_key else rows[-1]
        kind = lifecycle[i]
        if kind == 0:
            rows.append([i, w[i], np.nan, np.nan, cd[i], np.nan, np.nan])
        elif kind == 1:
            if last is not None and np.isnan(last[2]) and np.isnan(last[3]):
                last[2], last[5] = w[i], cd[i]
            else:
                rows.append([i, np.nan, w[i], np.nan, np.nan, cd[i], np.nan])
        elif last is not None and np.isnan(last[3]):
            last[3], last[6] = w[i], cd[i]
        else:
            rows.append([i, np.nan, np.nan, w[i], np.nan, np.nan, cd[i]])
    table = np.array(rows, dtype=float).reshape(-1, 7)
    first = table[:, 0].astype(int)
    out = events.iloc[first][["period", "case", "segment", "activity"]].reset_index(drop=True)
    for j, column in enumerate(
        ["scheduled_wd", "start_wd", "complete_wd", "scheduled_cd", "start_cd", "complete_cd"], start=1
    ):
        out[column] = table[:, j]
    begun = out[["scheduled_wd", "start_wd"]].min(axis=1)
    if "attempt" in events:
        out["attempt"] = events["attempt"].to_numpy()[first].astype(int)
    else:
        in_order = out.assign(begun=begun).sort_values(["case", "activity", "begun"], kind="stable")
        out["attempt"] = in_order.groupby(["case", "activity"]).cumcount()
    out["status"] = np.where(out["start_wd"].isna() & out["complete_wd"].notna(), "missing start", "done")
    untimed = out.index[out["complete_wd"].isna()]
    out.loc[untimed, "status"] = [
        "missing complete" if went_on else "open"
        for went_on in _went_on(out, begun.fillna(out["complete_wd"]), untimed, after)
    ]
    return out


def _went_on(out: pd.DataFrame, begun: pd.Series, untimed: pd.Index, after) -> list[bool]:
    """For each visit without its complete: did the case go on past it? It did when it visited a
    stage that follows this one in its flow later (``after``: (segment, stage) -> followers), or
    the same stage again; for a stage outside the flows, when anything of the case came later."""
    by_case = {case: rows for case, rows in out.groupby("case").groups.items()} if len(untimed) else {}
    result = []
    for i in untimed:
        case, activity, segment = out.at[i, "case"], out.at[i, "activity"], out.at[i, "segment"]
        others = by_case[case].drop(i)
        following = after.get((segment, activity)) if after is not None else None
        if following is None:
            result.append(bool((begun[others] > begun[i]).any()))
        else:
            later = others[(begun[others] >= begun[i]).to_numpy()]
            result.append(bool(out.loc[later, "activity"].isin([*following, activity]).any()))
    return result


def case_table(events: pd.DataFrame, visit_table: pd.DataFrame, calendar: WorkingCalendar) -> pd.DataFrame:
    """One row per case: ``period, case, segment, arrival_wd`` (its first event), ``arrival``
    (timestamp), ``open`` (a visit still open at the end of the log)."""
    w = working_times(calendar, events["timestamp"])
    first = (
        events.assign(w=w)
        .groupby("case", sort=False)
        .agg(
            period=("period", "first"),
            segment=("segment", "first"),
            arrival_wd=("w", "min"),
            arrival=("timestamp", "min"),
        )
    )
    open_cases = set(visit_table.loc[visit_table["status"] == "open", "case"])
    first["open"] = first.index.isin(open_cases)
    return first.reset_index(names="case")


def period_ends(events: pd.DataFrame, calendar: WorkingCalendar) -> pd.DataFrame:
    """The end of the log per period (replication): its last event, in working days (``wd``) and
    calendar days (``cd``) since the calendar's start; open visits are censored there."""
    w = working_times(calendar, events["timestamp"])
    cd = (events["timestamp"] - pd.Timestamp(calendar.start)).dt.total_seconds().to_numpy() / 86400.0
    return pd.DataFrame({"wd": w, "cd": cd}).groupby(events["period"].to_numpy()).max()
