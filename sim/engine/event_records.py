"""The stage event log of a replication (``run --events``), kept in typed columns.

One row per stage event: a case's entry into a stage's queue (``schedule``), its start and its
completion, in the order they happen. Names (segment, stage, transition, resource, owner) are
kept as codes and numbers in ``array`` buffers (``sim.engine.columns``), so the log held during
a run takes about 40 bytes a row; the table is built from them once, at the end, each buffer
let go as soon as its column is made.
"""

from __future__ import annotations

from array import array

import numpy as np
import pandas as pd

from sim.engine.calendar import WorkingCalendar
from sim.engine.columns import Codes, arrow_text, case_ids, timestamps, view

_TEXT = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas' default text column


class EventRecords:
    """The rows of the event log, added as things happen."""

    def __init__(self) -> None:
        self._segment = Codes()
        self._number = array("q")
        self._stage = Codes()
        self._transition = Codes()
        self._time = array("d")
        self._resource = Codes()
        self._owner = Codes()
        self._attempt = array("q")
        self._origin: dict[int, object] = {}  # row -> a warm-started case's id in its log
        self._resources: dict[tuple, str] = {}  # a visit's pools -> their name in the log

    def __len__(self) -> int:
        return len(self._number)

    def add(self, case, stage: str, transition: str, now: float, pools, owner: str, attempt: int) -> None:
        """One row: a stage's queue entry (schedule), start or completion."""
        if pools:
            resource = self._resources.get(pools)
            if resource is None:
                resource = self._resources[pools] = "+".join(p.name for p in pools)
        else:
            resource = owner
        if case.observed is not None:
            self._origin[len(self._number)] = case.observed.origin
        self._segment.append(case.segment)
        self._number.append(case.number)
        self._stage.append(stage)
        self._transition.append(transition)
        self._time.append(now)
        self._resource.append(resource)
        self._owner.append(owner)
        self._attempt.append(attempt)

    def table(self, scenario: str, replication: int, calendar: WorkingCalendar) -> pd.DataFrame:
        """The event log as a table (its buffers are emptied on the way)."""
        n = len(self._number)
        # number columns are the buffers themselves (no copy); text ones are made from their
        # codes, each buffer let go as soon as its column is made: the peak is about the table
        numbers, times = view(self._number), view(self._time)
        columns = {
            "scenario": pd.array(arrow_text([scenario], np.zeros(n, dtype=np.int32)), dtype=_TEXT),
            "replication": np.full(n, replication, dtype=np.int64),
            # a warm-started case keeps its id in the log it came from (as in ``cases``)
            "case:concept:name": case_ids(self._segment, numbers, self._origin),
            "segment": pd.array(self._segment.arrow(), dtype=_TEXT),
            "case_number": numbers,
        }
        self._segment, self._number = Codes(), array("q")
        columns["concept:name"] = pd.array(self._stage.arrow(), dtype=_TEXT)
        columns["lifecycle:transition"] = pd.array(self._transition.arrow(), dtype=_TEXT)
        self._stage, self._transition = Codes(), Codes()
        columns["time_wd"] = times
        columns["org:resource"] = pd.array(self._resource.arrow(), dtype=_TEXT)
        columns["owner"] = pd.array(self._owner.arrow(), dtype=_TEXT)
        self._resource, self._owner = Codes(), Codes()
        columns["attempt"] = view(self._attempt)
        self._time, self._attempt = array("d"), array("q")
        columns["time:timestamp"] = timestamps(calendar, times, working=True)
        df = pd.DataFrame(columns, copy=False)
        return df
