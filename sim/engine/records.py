"""What one replication produced, as tables: one row per counted case, per pool, per material.

``RunRecords`` collects a case's row when the case is connected (or, for cases still open at the
end, when the run stops), with its clocks read from ``sim.engine.clocks``. The clocks run in
working days; the records turn each case's marks (the instants its charged party changed) into
calendar days once per run, with one vectorised pass through the calendar, so that every clock is
reported in both units.
"""

from __future__ import annotations

from array import array
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from sim.engine.calendar import WorkingCalendar
from sim.engine.clocks import PARTIES
from sim.engine.columns import (
    AttributeColumn,
    Codes,
    arrow_text,
    case_ids,
    positions,
    taken,
    timestamps,
    view,
)
from sim.engine.event_records import EventRecords
from sim.scenario.conditions import SEGMENT

_TIMES = ("arrival_wd", "connected_wd", "customer_wd", "government_wd", "utility_wd", "handling_wd")


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
        self.log = EventRecords() if events else None  # the event log, if it is kept
        self.events: pd.DataFrame | None = None
        self.replication = replication
        self.calendar = calendar
        # one entry per counted case, typed (``sim.engine.columns``): 8 bytes a number, not an object
        self._segment = Codes()
        self._number = array("q")
        self._times = {k: array("d") for k in _TIMES}  # NaN: not connected
        self._finished = array("b")
        self._counts = {k: array("q") for k in ("procedures", "reworks")}
        self._observed: dict[int, Any] = {}  # row -> a warm-started case's past
        self._attrs: dict[str, AttributeColumn] = {}
        self._mark_row = array("q")
        self._mark_time = array("d")
        self._mark_party = array("b")
        self._end_time = array("d")
        self.cases: pd.DataFrame | None = None
        self.pools: pd.DataFrame | None = None
        self.materials: pd.DataFrame | None = None
        self.end_wd: float | None = None

    def add(self, case, connected: float | None, now: float) -> None:
        row = len(self._number)
        clock = case.clock.reading(now)
        self._segment.append(case.segment)
        self._number.append(case.number)
        times = self._times
        times["arrival_wd"].append(case.arrival)
        times["connected_wd"].append(np.nan if connected is None else connected)
        times["customer_wd"].append(clock.customer)
        times["government_wd"].append(clock.government)
        times["utility_wd"].append(clock.utility)
        times["handling_wd"].append(clock.handling)
        self._finished.append(connected is not None)
        self._counts["procedures"].append(len(case.procedures))
        self._counts["reworks"].append(case.reworks)
        if case.observed is not None:
            self._observed[row] = case.observed
        columns = self._attrs
        for name, value in case.attrs.items():
            column = columns.get(name)
            if column is None:
                if name == SEGMENT:  # carried for conditions on it: the table has a column already
                    continue
                column = columns[name] = AttributeColumn(row)
            column.add(value, row)
        for t, party in case.clock.marks:
            self._mark_row.append(row)
            self._mark_time.append(t)
            self._mark_party.append(party)
        self._end_time.append(now)

    def add_connected(
        self,
        segment: str,
        numbers: np.ndarray,
        arrival: np.ndarray,
        clocks: dict[str, np.ndarray],
        procedures: np.ndarray,
        attrs: dict[str, list],
        marks: tuple[np.ndarray, np.ndarray, np.ndarray],
    ) -> None:
        """Rows of connected cases at once (``sim.engine.batch``): what ``add`` gives each, with
        ``clocks`` their clocks at connection (``connected_wd`` and the parties' ``_wd``, as
        ``CaseClock.reading``), ``attrs`` their attributes by name (a list of values each, in
        the order of a case's own) and ``marks`` (case index, time, party) in case order."""
        first, n = len(self._number), len(numbers)
        self._segment.codes.extend(array("i", [self._segment.code(segment)]) * n)
        _extend(self._number, numbers)
        for name, times in clocks.items():
            _extend(self._times[name], times)
        _extend(self._times["arrival_wd"], arrival)
        _extend(self._end_time, clocks["connected_wd"])
        self._finished.extend(array("b", [1]) * n)
        _extend(self._counts["procedures"], procedures)
        self._counts["reworks"].extend(array("q", [0]) * n)
        columns = self._attrs
        for name, values in attrs.items():
            if name == SEGMENT:  # carried for conditions on it: the table has a column already
                continue
            column = columns.get(name)
            if column is None:
                column = columns[name] = AttributeColumn(first)
            column.extend(values, first)
        rows, times, parties = marks
        _extend(self._mark_row, rows + first)
        _extend(self._mark_time, times)
        _extend(self._mark_party, parties)

    def _in_order_of_ends(self) -> None:
        """Rows in the order cases ended: connected, or open at the end of the run; those that
        ended at one instant in the order they applied, then by segment (its name) and number.
        The order is the rows' own, however they were added (the event loop adds a row as its
        case ends; a case computed ahead, ``sim.engine.batch`` or ``sim.engine.model``, adds it
        when it applies). Attribute columns then come in the order of their first row."""
        n = len(self._number)
        for column in self._attrs.values():
            column.pad(n)
        if n < 2:
            return
        names = self._segment.values  # a segment's place among the names, for its code
        rank = np.empty(len(names), dtype=np.int64)
        rank[sorted(range(len(names)), key=names.__getitem__)] = np.arange(len(names))
        order = np.lexsort(
            (
                view(self._number),
                rank[view(self._segment.codes)],
                view(self._times["arrival_wd"]),
                view(self._end_time),
            )
        )
        if bool((order[1:] > order[:-1]).all()):  # in order already
            return
        self._segment.reorder(order)
        buffers: list[array] = [self._number, self._finished, self._end_time]
        for buffer in buffers + list(self._times.values()) + list(self._counts.values()):
            taken(buffer, order)
        where = positions(order)  # a row's new place
        self._observed = {int(where[row]): past for row, past in self._observed.items()}
        rows = view(self._mark_row)
        rows[:] = where[rows]
        del rows
        for column in self._attrs.values():
            column.reorder(order)
        first = {k: column.first_present() for k, column in self._attrs.items()}
        self._attrs = {k: self._attrs[k] for k in sorted(self._attrs, key=first.__getitem__)}

    def finish(self, end: float, pools, materials) -> None:
        self.end_wd = end
        self.pools = pd.DataFrame([p.summary(end) for p in pools])
        self.materials = pd.DataFrame([m.summary() for m in materials])
        for frame in (self.pools, self.materials):
            if self.company is not None:
                frame.insert(0, "company", self.company)
            frame.insert(0, "replication", self.replication)
            frame.insert(0, "scenario", self.scenario.name)
        self._in_order_of_ends()
        n = len(self._number)
        observed = self._observed  # a warm-started case's past (sim.engine.backlog), by row
        warm = np.zeros(n, dtype=bool)
        warm[list(observed)] = True
        end_time = view(self._end_time)
        party_cd = self._calendar_days_by_party(n, end_time)
        self._mark_row, self._mark_time, self._mark_party = array("q"), array("d"), array("b")
        if warm.any():  # the calendar days before the cut-off, from the log
            for row, past in observed.items():
                party_cd[:, row] += past.party_cd
        # the table's number columns are the buffers themselves (no copy); each other buffer is
        # let go as soon as its column is made: the peak is about the table, not twice it
        numbers = view(self._number)
        origins = {row: past.origin for row, past in observed.items()}
        prefix = f"{self.company}/" if self.company else ""  # case ids unique across the city
        columns: dict[str, Any] = {
            "scenario": _series(arrow_text([self.scenario.name], np.zeros(n, dtype=np.int32))),
            "replication": np.full(n, self.replication, dtype=np.int64),
            # case ids unique across the city: its company before them
            "case_id": case_ids(self._segment, numbers, origins, prefix),
            "segment": _series(self._segment.arrow()),
            "case_number": numbers,
        }
        self._number, self._segment = array("q"), Codes()
        for name, column in self._attrs.items():
            columns[name] = column.series()
        self._attrs = {}
        arrival, connected = view(self._times.pop("arrival_wd")), view(self._times.pop("connected_wd"))
        cal = self.calendar
        arrival_cd = cal.calendar_time(arrival) if n and not warm.any() else np.zeros(n)
        if warm.any():  # applied before the calendar's start: the log gave its calendar time
            arrival_cd[~warm] = cal.calendar_time(arrival[~warm])
            arrival_cd[list(observed)] = [past.arrival_cd for past in observed.values()]
        finished = view(self._finished).view(bool)  # (its entries are 0 and 1)
        self._finished = array("b")
        connected_cd = np.full(n, np.nan)
        connected_cd[finished] = cal.calendar_time(connected[finished]) if finished.any() else []
        columns["arrival"] = timestamps(cal, arrival_cd)
        columns["connected"] = timestamps(cal, connected_cd)
        del arrival_cd, connected_cd
        columns["arrival_wd"] = arrival
        columns["connected_wd"] = connected
        columns["finished"] = finished
        columns["elapsed_wd"] = end_time - arrival
        del end_time
        self._end_time = array("d")
        for party in ("utility", "government", "customer"):
            columns[f"{party}_wd"] = view(self._times.pop(f"{party}_wd"))
        columns["full_process_wd"] = columns["utility_wd"] + columns["government_wd"]
        columns["handling_wd"] = view(self._times.pop("handling_wd"))
        columns["elapsed_cd"] = party_cd.sum(axis=0)
        for i, party in enumerate(PARTIES):
            columns[f"{party}_cd"] = party_cd[i]  # a row of its own in memory
        del party_cd
        columns["full_process_cd"] = columns["utility_cd"] + columns["government_cd"]
        for name in ("procedures", "reworks"):
            columns[name] = view(self._counts.pop(name))
        columns["warm_started"] = warm
        df = pd.DataFrame(columns, copy=False)
        self.cases = df
        if self.log is not None:
            self.events = self.log.table(self.scenario.name, self.replication, self.calendar)

    def _calendar_days_by_party(self, n: int, end_time: np.ndarray) -> np.ndarray:
        """Sum, per case and party, the calendar length of the intervals between marks."""
        out = np.zeros((len(PARTIES), n))  # a party's days in a row of their own: the column
        if n == 0:
            return out
        rows, times, party = view(self._mark_row), view(self._mark_time), view(self._mark_party)
        cal = self.calendar
        # an interval ends at the next mark of the same case, or at the case's end time; taken
        # in slices of marks, so that the arrays of a pass stay small (the sums are the same)
        for a in range(0, len(rows), _MARKS_AT_ONCE):
            b = min(a + _MARKS_AT_ONCE, len(rows))
            r, t = rows[a : b + 1], times[a : b + 1]  # with the next slice's first mark
            next_time = np.empty(b - a)
            next_time[: len(t) - 1] = t[1:]
            last = np.ones(b - a, dtype=bool)
            last[: len(r) - 1] = r[1:] != r[:-1]
            next_time[last] = end_time[r[: b - a][last]]
            length = cal.calendar_time(next_time) - cal.calendar_time(t[: b - a])
            np.add.at(out, (party[a:b], r[: b - a]), length)
        return out


_MARKS_AT_ONCE = 1 << 16


def _series(text: pa.Array) -> pd.Series:
    return pd.Series(pd.arrays.ArrowStringArray(text))


def _extend(buffer: array, values: np.ndarray) -> None:
    """Values appended to a typed buffer, converted to its type."""
    buffer.frombytes(np.asarray(values, dtype=np.dtype(buffer.typecode)).tobytes())
