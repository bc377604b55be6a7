"""What one replication produced, as tables: one row per counted case, per pool, per material.

``RunRecords`` collects a case's row when the case is connected (or, for cases still open at the
end, when the run stops), with its clocks read from ``sim.engine.clocks``. The clocks run in
working days; the records turn each case's marks (the instants its charged party changed) into
calendar days once per run, with one vectorised pass through the calendar, so that every clock is
reported in both units.
"""

from __future__ import annotations

from array import array

import numpy as np
import pandas as pd

from sim.engine.calendar import WorkingCalendar
from sim.engine.clocks import PARTIES


class RunRecords:
    """What one replication produced: the counted cases, the pools and the materials."""

    def __init__(
        self,
        scenario,
        replication: int,
        calendar: WorkingCalendar,
        events: bool = False,
        company: str | None = None,
    ):
        self.scenario = scenario
        self.company = company
        self.keeps_events = events
        self._events: list[tuple] = []  # rows of the event log, if it is kept
        self.events: pd.DataFrame | None = None
        self.replication = replication
        self.calendar = calendar
        self._cols: dict[str, list] = {
            k: []
            for k in (
                "segment",
                "case_number",
                "arrival_wd",
                "connected_wd",
                "finished",
                "utility_wd",
                "government_wd",
                "customer_wd",
                "handling_wd",
                "procedures",
                "reworks",
                "observed",
            )
        }
        self._attrs: dict[str, list] = {}
        self._mark_row = array("q")
        self._mark_time = array("d")
        self._mark_party = array("b")
        self._end_time = array("d")
        self.cases: pd.DataFrame | None = None
        self.pools: pd.DataFrame | None = None
        self.materials: pd.DataFrame | None = None
        self.end_wd: float | None = None

    def add(self, case, connected: float | None, now: float) -> None:
        row = len(self._cols["segment"])
        clock = case.clock.reading(now)
        c = self._cols
        c["segment"].append(case.segment)
        c["case_number"].append(case.number)
        c["arrival_wd"].append(case.arrival)
        c["connected_wd"].append(np.nan if connected is None else connected)
        c["finished"].append(connected is not None)
        c["customer_wd"].append(clock.customer)
        c["government_wd"].append(clock.government)
        c["utility_wd"].append(clock.utility)
        c["handling_wd"].append(clock.handling)
        c["procedures"].append(len(case.procedures))
        c["reworks"].append(case.reworks)
        c["observed"].append(case.observed)
        for name, value in case.attrs.items():
            column = self._attrs.get(name)
            if column is None:
                column = self._attrs[name] = [None] * row
            column.append(value)
        for column in self._attrs.values():
            if len(column) < row + 1:
                column.append(None)
        for t, party in case.clock.marks:
            self._mark_row.append(row)
            self._mark_time.append(t)
            self._mark_party.append(party)
        self._end_time.append(now)

    def log_event(self, case, stage: str, transition: str, now: float, pools, owner: str, attempt: int):
        """One row of the event log: a stage's queue entry (schedule), start or completion."""
        resource = "+".join(p.name for p in pools) if pools else owner
        origin = case.observed.origin if case.observed is not None else None
        self._events.append(
            (case.segment, case.number, stage, transition, now, resource, owner, attempt, origin)
        )

    def _event_table(self) -> pd.DataFrame:
        rows = self._events
        columns = [
            "segment",
            "case_number",
            "concept:name",
            "lifecycle:transition",
            "time_wd",
            "org:resource",
            "owner",
            "attempt",
            "origin",
        ]
        df = pd.DataFrame(rows, columns=columns)
        names = df["segment"] + ":" + df["case_number"].astype(str)
        origin = df.pop("origin")
        warm = origin.notna()
        if warm.any():  # a warm-started case keeps its id in the log it came from (as in ``cases``)
            names[warm] = "log/" + origin[warm].astype(str)
        df.insert(0, "case:concept:name", names.astype("string"))
        df.insert(0, "replication", self.replication)
        df.insert(0, "scenario", self.scenario.name)
        times = df["time_wd"].to_numpy(dtype=float)
        df["time:timestamp"] = _timestamps(
            self.calendar, self.calendar.calendar_time(times) if len(times) else times
        )
        return df

    def _in_order_of_ends(self) -> None:
        """Rows in the order cases ended (connected, or open at the end of the run), as the event
        loop adds them; a case computed at its application (``sim.engine.model``) was added
        ahead of its time and moves to its place. A stable sort: rows already in order stay as
        they are. Attribute columns then come in the order of their first row."""
        end = np.frombuffer(self._end_time, dtype=float)
        if len(end) < 2 or bool((end[1:] >= end[:-1]).all()):
            return
        order = np.argsort(end, kind="stable")
        self._cols = {k: [v[i] for i in order] for k, v in self._cols.items()}
        self._end_time = array("d", end[order].tolist())
        where = np.empty_like(order)
        where[order] = np.arange(len(order))  # a row's new place
        self._mark_row = array("q", where[np.frombuffer(self._mark_row, dtype=np.int64)].tolist())
        attrs = {k: [v[i] for i in order] for k, v in self._attrs.items()}
        first = {k: next(i for i, v in enumerate(col) if v is not None) for k, col in attrs.items()}
        self._attrs = {k: attrs[k] for k in sorted(attrs, key=first.__getitem__)}

    def finish(self, end: float, pools, materials) -> None:
        self.end_wd = end
        self._in_order_of_ends()
        c = self._cols
        n = len(c["segment"])
        prefix = f"{self.company}/" if self.company else ""  # case ids unique across the city
        observed = c["observed"]  # a warm-started case's past (sim.engine.backlog), else None
        warm = np.array([o is not None for o in observed], dtype=bool)
        ids = [f"{prefix}{s}:{k}" for s, k in zip(c["segment"], c["case_number"])]
        for j in np.flatnonzero(warm):
            ids[j] = f"{prefix}log/{observed[j].origin}"  # its id in the log it came from
        df = pd.DataFrame(
            {
                "scenario": pd.Series([self.scenario.name] * n, dtype="string"),
                "replication": np.full(n, self.replication, dtype=np.int64),
                "case_id": pd.Series(ids, dtype="string"),
                "segment": pd.Series(c["segment"], dtype="string"),
                "case_number": np.asarray(c["case_number"], dtype=np.int64),
            }
        )
        for name, values in self._attrs.items():
            if name != "segment":  # carried for conditions on it (sim.scenario.conditions): a column already
                df[name] = _attribute_column(values)
        arrival = np.asarray(c["arrival_wd"], dtype=float)
        connected = np.asarray(c["connected_wd"], dtype=float)
        cal = self.calendar
        arrival_cd = cal.calendar_time(arrival) if n and not warm.any() else np.zeros(n)
        if warm.any():  # applied before the calendar's start: the log gave its calendar time
            arrival_cd[~warm] = cal.calendar_time(arrival[~warm])
            arrival_cd[warm] = [observed[i].arrival_cd for i in np.flatnonzero(warm)]
        finished = np.asarray(c["finished"], dtype=bool)
        connected_cd = np.full(n, np.nan)
        connected_cd[finished] = cal.calendar_time(connected[finished]) if finished.any() else []
        df["arrival"] = _timestamps(cal, arrival_cd)
        df["connected"] = _timestamps(cal, connected_cd)
        df["arrival_wd"] = arrival
        df["connected_wd"] = connected
        df["finished"] = finished
        end_time = np.frombuffer(self._end_time, dtype=float) if n else np.zeros(0)
        df["elapsed_wd"] = end_time - arrival
        for party in ("utility", "government", "customer"):
            df[f"{party}_wd"] = np.asarray(c[f"{party}_wd"], dtype=float)
        df["full_process_wd"] = df["utility_wd"] + df["government_wd"]
        df["handling_wd"] = np.asarray(c["handling_wd"], dtype=float)
        party_cd = self._calendar_days_by_party(n, end_time)
        if warm.any():  # the calendar days before the cut-off, from the log
            party_cd[warm] += np.array([observed[i].party_cd for i in np.flatnonzero(warm)])
        df["elapsed_cd"] = party_cd.sum(axis=1)
        for i, party in enumerate(PARTIES):
            df[f"{party}_cd"] = party_cd[:, i]
        df["full_process_cd"] = df["utility_cd"] + df["government_cd"]
        df["procedures"] = np.asarray(c["procedures"], dtype=np.int64)
        df["reworks"] = np.asarray(c["reworks"], dtype=np.int64)
        df["warm_started"] = warm
        self.cases = df
        self.pools = pd.DataFrame([p.summary(end) for p in pools])
        self.materials = pd.DataFrame([m.summary() for m in materials])
        for frame in (self.pools, self.materials):
            if self.company is not None:
                frame.insert(0, "company", self.company)
            frame.insert(0, "replication", self.replication)
            frame.insert(0, "scenario", self.scenario.name)
        if self.keeps_events:
            self.events = self._event_table()
            self._events = []
        self._cols = {}
        self._attrs = {}

    def _calendar_days_by_party(self, n: int, end_time: np.ndarray) -> np.ndarray:
        """Sum, per case and party, the calendar length of the intervals between marks."""
        out = np.zeros((n, len(PARTIES)))
        if n == 0:
            return out
        rows = np.frombuffer(self._mark_row, dtype=np.int64)
        times = np.frombuffer(self._mark_time, dtype=float)
        party = np.frombuffer(self._mark_party, dtype=np.int8)
        # an interval ends at the next mark of the same case, or at the case's end time
        next_time = np.empty_like(times)
        next_time[:-1] = times[1:]
        last = np.ones(len(rows), dtype=bool)
        last[:-1] = rows[1:] != rows[:-1]
        next_time[last] = end_time[rows[last]]
        cal = self.calendar
        length = cal.calendar_time(next_time) - cal.calendar_time(times)
        np.add.at(out, (rows, party), length)
        return out


def _timestamps(cal: WorkingCalendar, t: np.ndarray) -> pd.Series:
    stamps = np.full(len(t), np.datetime64("NaT"), dtype="datetime64[s]")
    ok = ~np.isnan(t) & (t >= 0)
    if ok.any():
        stamps[ok] = cal.to_datetime(t[ok])
    before = t < 0  # a warm-started case's application, before the calendar's start
    if before.any():
        seconds = np.round(t[before] * 86400.0).astype(np.int64)
        stamps[before] = np.datetime64(cal.start, "s") + seconds.astype("timedelta64[s]")
    return pd.Series(stamps)


def _attribute_column(values: list) -> pd.Series:
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, (bool, np.bool_)) for v in present):
        return pd.Series(values, dtype="boolean")
    if present and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        return pd.Series([np.nan if v is None else v for v in values], dtype=float)
    return pd.Series(values, dtype="string")
