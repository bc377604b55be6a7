"""Event logs for process mining: the ``events`` table as Parquet, CSV or XES (IEEE 1849-2016).

The table (``sim.run(..., events=True).events``) has one row per stage transition of a counted
case: ``schedule`` when the case enters the stage (before materials and queues), ``start`` when it
holds the stage's pools, ``complete`` when the stage ends. Its columns follow the process-mining
convention (``case:concept:name``, ``concept:name``, ``lifecycle:transition``, ``time:timestamp``,
``org:resource``) so that pm4py and similar tools read the Parquet or CSV file directly.

XES
---
``write_xes`` streams the log as XES 1849-2016 XML with the Concept, Lifecycle, Time and
Organizational extensions, global declarations for trace and event attributes, and two
classifiers (activity; activity and transition). One trace per case, in replication, segment and
case-number order, with the case's events in simulation order:

* trace attributes: ``concept:name`` (the case id ``segment:number``; with several replications
  in one log ``r{replication}/segment:number``, so that trace names stay unique), ``case_id``,
  ``replication``, ``segment``, and when the per-case table is given, every other column of it:
  the case's attributes (region, kva, important, ...), arrival and connection dates, the clocks
  in working and calendar days, procedures, reworks, finished. Missing values are left out.
* event attributes: ``concept:name`` (the stage key), ``lifecycle:transition`` (schedule / start
  / complete, from the standard lifecycle model), ``time:timestamp``, ``org:resource`` (the
  stage's pools joined by ``+``, or its owner when it holds none), ``owner`` (the party),
  ``attempt`` (0 for the first visit of the stage) and ``time_wd`` (working days since the
  calendar's start).

Timestamps: the simulation's dates are local time in Chongqing, China Standard Time, UTC+08:00
all year (China has no daylight saving). The tables keep them as naive timestamps; XES requires
ISO 8601 with a zone, so they are written with ``+08:00`` (e.g. ``2021-03-04T09:09:41.000+08:00``).
Times of day are an artefact of the model's 24-hour working day (see docs/model.md).

The writer formats whole columns with numpy and writes line by line, so a district year
(~40,000 events per replication) takes well under a second per replication.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd

from sim.outputs.tables import FORMATS as TABLE_FORMATS
from sim.outputs.tables import atomic_write, write_table

EVENT_FORMATS = (*TABLE_FORMATS, "xes")
TIMEZONE = "+08:00"  # China Standard Time (Chongqing), no daylight saving
XES_NAMESPACE = "http://www.xes-standard.org/"
EXTENSIONS = (
    ("Concept", "concept", "http://www.xes-standard.org/concept.xesext"),
    ("Lifecycle", "lifecycle", "http://www.xes-standard.org/lifecycle.xesext"),
    ("Time", "time", "http://www.xes-standard.org/time.xesext"),
    ("Organizational", "org", "http://www.xes-standard.org/org.xesext"),
)
CASE_COLUMN = "case:concept:name"
_EVENT_EXTRA = (("owner", "string"), ("attempt", "int"), ("time_wd", "float"))
_SKIP_CASE_COLUMNS = {"scenario", "replication", "case_id", "segment", "case_number"}


def write_events(
    events: pd.DataFrame,
    folder: str | os.PathLike,
    fmt: str = "parquet",
    cases: pd.DataFrame | None = None,
    name: str = "events",
) -> Path:
    """Write the event log as ``folder/events.parquet``, ``.csv`` or ``.xes``; returns the path.

    ``cases`` (the per-case table of the same run) adds the case attributes to the XES traces."""
    if fmt not in EVENT_FORMATS:
        raise ValueError(f"unknown event-log format {fmt!r}; expected one of {', '.join(EVENT_FORMATS)}")
    if fmt == "xes":
        return write_xes(events, Path(folder) / f"{name}.xes", cases=cases)
    return write_table(events, Path(folder), name, fmt)


def _attr(text: str) -> str:
    """``text`` escaped for a double-quoted XML attribute value."""
    return escape(text, {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})


def _iso(stamps) -> np.ndarray:
    """Naive local timestamps as ISO 8601 with milliseconds and the +08:00 zone (None for NaT)."""
    values = np.asarray(pd.Series(stamps).to_numpy(dtype="datetime64[ms]"))
    text = np.datetime_as_string(values, unit="ms").astype(object) + TIMEZONE
    text[np.isnat(values)] = None
    return text


def _or_none(missing: pd.Series, text: pd.Series) -> np.ndarray:
    """``text`` as an object array, None where ``missing``."""
    out = np.full(len(text), None, dtype=object)
    present = ~np.asarray(missing, dtype=bool)
    out[present] = np.asarray(text, dtype=object)[present]
    return out


def _typed_column(series: pd.Series) -> tuple[str, np.ndarray]:
    """(XES type, escaped value strings or None where missing) for a column of the case table."""
    if pd.api.types.is_bool_dtype(series):
        values = series.astype("boolean")
        return "boolean", _or_none(values.isna(), values.map({True: "true", False: "false"}))
    if pd.api.types.is_datetime64_any_dtype(series):
        return "date", _iso(series)
    if pd.api.types.is_integer_dtype(series):
        return "int", _or_none(series.isna(), series.astype(str))
    if pd.api.types.is_float_dtype(series):
        x = series.to_numpy(dtype=float)
        ok = np.isfinite(x)
        out = np.full(len(x), None, dtype=object)
        out[ok] = [repr(float(v)) for v in x[ok]]
        return "float", out
    out = np.full(len(series), None, dtype=object)
    present = series.notna().to_numpy()
    out[present] = [_attr(str(v)) for v in series[present]]
    return "string", out


def _trace_names(events: pd.DataFrame) -> pd.Series:
    case = events[CASE_COLUMN].astype(str)
    if events["replication"].nunique() > 1:
        return "r" + events["replication"].astype(str) + "/" + case
    return case


def write_xes(
    events: pd.DataFrame,
    path: str | os.PathLike,
    cases: pd.DataFrame | None = None,
    log_name: str | None = None,
) -> Path:
    """Write the event log as XES (IEEE 1849-2016); ``.xes.gz`` compresses. See the module doc."""
    path = Path(path)
    required = {CASE_COLUMN, "concept:name", "lifecycle:transition", "time:timestamp", "org:resource"}
    missing = required - set(events.columns)
    if missing:
        raise ValueError(f"event log lacks the column(s) {', '.join(sorted(missing))}")
    ev = events
    if "replication" not in ev.columns:
        ev = ev.assign(replication=0)
    if "segment" not in ev.columns:
        ev = ev.assign(segment=ev[CASE_COLUMN].astype(str).str.split(":").str[0])
    if "case_number" not in ev.columns:
        ev = ev.assign(case_number=ev[CASE_COLUMN].astype(str).str.split(":").str[-1].astype(int))
    order = np.lexsort(
        (
            np.arange(len(ev)),
            ev["case_number"].to_numpy(),
            ev["segment"].astype(str).to_numpy(),
            ev["replication"].to_numpy(),
        )
    )
    ev = ev.iloc[order].reset_index(drop=True)
    name = log_name or (str(ev["scenario"].iloc[0]) if "scenario" in ev.columns and len(ev) else "log")

    # event lines, formatted column-wise
    def cat(column: str) -> np.ndarray:
        codes, uniques = pd.factorize(ev[column].astype(str), sort=False)
        escaped = np.array([_attr(u) for u in uniques] + [""], dtype=object)
        return escaped[codes]

    activity, transition, resource = cat("concept:name"), cat("lifecycle:transition"), cat("org:resource")
    stamps = _iso(ev["time:timestamp"])
    lines = (
        '\t\t<event>\n\t\t\t<string key="concept:name" value="'
        + activity
        + '"/>\n\t\t\t<string key="lifecycle:transition" value="'
        + transition
        + '"/>\n\t\t\t<date key="time:timestamp" value="'
        + stamps
        + '"/>\n\t\t\t<string key="org:resource" value="'
        + resource
        + '"/>\n'
    )
    for column, kind in _EVENT_EXTRA:
        if column in ev.columns:
            if kind == "string":
                values = cat(column)
            elif kind == "int":
                values = ev[column].astype(int).astype(str).to_numpy(dtype=object)
            else:
                values = np.array([repr(float(v)) for v in ev[column]], dtype=object)
            lines = lines + f'\t\t\t<{kind} key="{column}" value="' + values + '"/>\n'
    lines = lines + "\t\t</event>\n"

    # traces: boundaries of (replication, case) runs
    trace_name = _trace_names(ev).to_numpy(dtype=object)
    bounds = np.flatnonzero(trace_name[1:] != trace_name[:-1]) + 1
    starts = np.concatenate(([0], bounds)) if len(ev) else np.zeros(0, dtype=int)
    ends = np.concatenate((bounds, [len(ev)])) if len(ev) else np.zeros(0, dtype=int)
    heads = _trace_heads(ev, starts, trace_name, cases)

    def write(tmp):
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(tmp, "wt", encoding="utf-8", newline="\n") as fh:
            fh.write(_header(name))
            for head, a, b in zip(heads, starts, ends):
                fh.write(head)
                fh.writelines(lines[a:b])
                fh.write("\t</trace>\n")
            fh.write("</log>\n")

    atomic_write(path, write)
    return path


def _case_columns(cases: pd.DataFrame | None) -> list[tuple[str, str, pd.Series]]:
    if cases is None:
        return []
    out = []
    for column in cases.columns:
        if column in _SKIP_CASE_COLUMNS:
            continue
        kind, values = _typed_column(cases[column])
        out.append((column, kind, values))
    return out


def _trace_heads(ev: pd.DataFrame, starts, trace_name, cases: pd.DataFrame | None) -> list[str]:
    first = ev.iloc[starts]
    reps = first["replication"].to_numpy()
    segments = first["segment"].astype(str).to_numpy()
    case_ids = first[CASE_COLUMN].astype(str).to_numpy()
    numbers = first["case_number"].to_numpy()
    columns = _case_columns(cases)
    row_of: dict = {}
    if columns and cases is not None:
        keys = zip(cases["replication"].to_numpy(), cases["case_id"].astype(str).to_numpy())
        row_of = {k: i for i, k in enumerate(keys)}
    heads = []
    for i in range(len(starts)):
        parts = [
            "\t<trace>\n",
            f'\t\t<string key="concept:name" value="{_attr(trace_name[starts[i]])}"/>\n',
            f'\t\t<string key="case_id" value="{_attr(case_ids[i])}"/>\n',
            f'\t\t<int key="replication" value="{int(reps[i])}"/>\n',
            f'\t\t<string key="segment" value="{_attr(segments[i])}"/>\n',
            f'\t\t<int key="case_number" value="{int(numbers[i])}"/>\n',
        ]
        row = row_of.get((reps[i], case_ids[i]))
        if row is not None:
            for column, kind, values in columns:
                value = values[row]
                if value is not None:
                    parts.append(f'\t\t<{kind} key="{_attr(column)}" value="{value}"/>\n')
        heads.append("".join(parts))
    return heads


def _header(name: str) -> str:
    ext = "".join(f'\t<extension name="{n}" prefix="{p}" uri="{u}"/>\n' for n, p, u in EXTENSIONS)
    return (
        '<?xml version="1.0" encoding="UTF-8" ?>\n'
        "<!-- Connection simulator event log: one trace per case; timestamps are local time in "
        f"Chongqing (UTC{TIMEZONE}) -->\n"
        f'<log xes.version="1849-2016" xes.features="nested-attributes" xmlns="{XES_NAMESPACE}">\n'
        + ext
        + '\t<global scope="trace">\n'
        '\t\t<string key="concept:name" value="__INVALID__"/>\n'
        '\t\t<string key="case_id" value="__INVALID__"/>\n'
        '\t\t<int key="replication" value="0"/>\n'
        '\t\t<string key="segment" value="__INVALID__"/>\n'
        '\t\t<int key="case_number" value="0"/>\n'
        "\t</global>\n"
        '\t<global scope="event">\n'
        '\t\t<string key="concept:name" value="__INVALID__"/>\n'
        '\t\t<string key="lifecycle:transition" value="complete"/>\n'
        '\t\t<date key="time:timestamp" value="1970-01-01T00:00:00.000+00:00"/>\n'
        '\t\t<string key="org:resource" value="__INVALID__"/>\n'
        "\t</global>\n"
        '\t<classifier name="Activity" keys="concept:name"/>\n'
        '\t<classifier name="Activity and transition" keys="concept:name lifecycle:transition"/>\n'
        f'\t<string key="concept:name" value="{_attr(name)}"/>\n'
        '\t<string key="lifecycle:model" value="standard"/>\n'
    )
