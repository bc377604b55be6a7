"""Which column of an event log is which: the process-mining names, the ``--map`` that names others,
and, for the columns a log lacks, a guess of the column meant, from its name *and* its content.

A guess by name alone points at wrong columns (``concept:name``, the activity, looks like
``case:concept:name``; ``replication`` like ``lifecycle:transition``), and following it fits a wrong
log without a word. So a column is proposed for a role only when its values fit the role, and never
when another role already has it:

* ``timestamp``: text whose values read as times (a number of working days is not a time);
* ``lifecycle``: values that are lifecycle transitions (``schedule``, ``start``, ``complete``, ...);
* ``case``, ``activity``, ``segment``, ``replication``, ``attempt``: text or whole numbers, ranked by
  how close the column's name is to the role's usual names (``application_no``, ``step``,
  ``category``, ``rep``), and a case id by its many distinct values when no name is close; a case
  id only where its values fit (``is_case_ids``: many values of a few rows each; ``owner``, with
  three values, is not one however close its name is to ``order``).
"""

from __future__ import annotations

import difflib
import re

import pandas as pd

STANDARD = {
    "case": "case:concept:name",
    "activity": "concept:name",
    "lifecycle": "lifecycle:transition",
    "timestamp": "time:timestamp",
    "resource": "org:resource",
    "segment": "segment",
    "replication": "replication",
    "attempt": "attempt",
}
"""The columns a log is read into (short name -> the name in the process-mining convention)."""
REQUIRED = ("case", "activity", "lifecycle", "timestamp")
XES_LIFECYCLES = {
    "schedule", "assign", "reassign", "start", "suspend", "resume", "complete", "autoskip",
    "manualskip", "withdraw", "ate_abort", "pi_abort",
}  # fmt: skip
USUAL_NAMES = {
    "case": ("case", "case id", "application", "application no", "trace", "order", "ticket"),
    "activity": ("activity", "step", "stage", "task", "event", "node", "procedure"),
    "lifecycle": ("lifecycle", "transition", "status", "state", "event type"),
    "timestamp": ("timestamp", "time", "date", "datetime", "event time", "when"),
    "segment": ("segment", "category", "customer type", "customer class", "class"),
    "replication": ("replication", "rep", "run", "period"),
    "attempt": ("attempt", "try", "round"),
    "resource": ("resource", "staff", "employee", "user", "handler"),
}
"""Names a utility's export may give each column (compared without case, separators or prefixes)."""
_SAMPLE = 200
MAX_EVENTS_PER_CASE = 100
"""More events than this per case on average: the case column is not the case id."""
_ORDER = ("timestamp", "lifecycle", "case", "activity", "segment", "replication", "attempt", "resource")
"""Roles guessed in this order: those the content tells first, so the others do not take them."""


def _plain(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", name.lower().removeprefix("case:")).strip()


def name_score(column: str, role: str) -> float:
    """How close a column's name is to the role's usual names, 0 to 1."""
    plain = _plain(column)
    names = (*USUAL_NAMES[role], _plain(STANDARD[role]))
    words = set(plain.split())
    best = max(difflib.SequenceMatcher(None, plain, name).ratio() for name in names)
    return max(best, 0.9 if any(name in words or name == plain for name in names) else 0.0)


def _sample(values: pd.Series) -> pd.Series:
    present = values.dropna()
    return present.iloc[:: max(1, len(present) // _SAMPLE)].head(_SAMPLE)


def _is_times(values: pd.Series) -> bool:
    if pd.api.types.is_datetime64_any_dtype(values):
        return True
    sample = _sample(values)
    if pd.api.types.is_numeric_dtype(values) or sample.empty:
        return False
    parsed = pd.to_datetime(sample.astype(str), errors="coerce", format="ISO8601", utc=True)
    return bool(parsed.notna().mean() >= 0.9)


def _is_lifecycle(values: pd.Series) -> bool:
    sample = _sample(values).astype(str).str.strip().str.lower()
    return bool(len(sample)) and bool(sample.isin(XES_LIFECYCLES).mean() >= 0.9)


def is_label(values: pd.Series) -> bool:
    """Text or whole numbers (ids, names, counts), not times and not fractions."""
    if pd.api.types.is_datetime64_any_dtype(values) or pd.api.types.is_bool_dtype(values):
        return False
    if pd.api.types.is_float_dtype(values):
        sample = _sample(values)
        return bool(len(sample)) and bool((sample == sample.round()).all())
    return True


def is_case_ids(values: pd.Series) -> bool:
    """Values that can be case ids: a few events each (at most 100 rows per value on average), and
    in a log of some size many values, not each on one row (an event id) nor a handful (an owner, a
    segment, a team)."""
    rows = int(values.notna().sum())
    distinct = int(values.nunique())
    if not distinct or rows / distinct > MAX_EVENTS_PER_CASE:
        return False
    return rows < 200 or (distinct >= 20 and distinct < rows)


def guesses(frame: pd.DataFrame, missing: list[str], taken: set[str]) -> dict[str, str]:
    """For each role in ``missing``, the column of ``frame`` it most likely is (not in ``taken``, and
    each column guessed once), or nothing where no column fits."""
    free = [c for c in frame.columns if isinstance(c, str) and c not in taken]
    kinds = {c: "time" if _is_times(frame[c]) else "" for c in free}
    kinds |= {c: "lifecycle" for c in free if not kinds[c] and _is_lifecycle(frame[c])}
    out: dict[str, str] = {}
    for role in sorted(missing, key=_ORDER.index):
        fits = [c for c in free if c not in out.values()]
        if role == "timestamp":
            fits = [c for c in fits if kinds[c] == "time"]
        elif role == "lifecycle":
            fits = [c for c in fits if kinds[c] == "lifecycle"]
        else:
            fits = [c for c in fits if kinds[c] == "" and is_label(frame[c])]
            if role == "case":  # by its values too: a few events per case, many cases
                fits = [c for c in fits if is_case_ids(frame[c])]
        scored = sorted(fits, key=lambda c: -name_score(c, role))
        if scored and (role in ("timestamp", "lifecycle") or name_score(scored[0], role) >= 0.6):
            out[role] = scored[0]
        elif role == "case" and fits:  # the most distinct values, where they repeat (events of a case)
            distinct = {c: frame[c].nunique() for c in fits}
            best = max(fits, key=lambda c: distinct[c])
            if 1 < distinct[best] < len(frame):
                out[role] = best
    return out
