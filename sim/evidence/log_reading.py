"""Reading an event log: XES, CSV or Parquet in the process-mining convention, with what was skipped.

A log has one row per event of a case: its case id (``case:concept:name``), its activity (the
stage, ``concept:name``), its lifecycle transition (``schedule`` on entering the stage, ``start``
when the staff begin, ``complete`` at its end: ``lifecycle:transition``), its time
(``time:timestamp``) and optionally its resource (``org:resource``), plus case attributes: the
segment (``segment`` or, from XES traces, ``case:segment``), and in logs this tool writes the
``replication``, the ``attempt`` of a stage and ``time_wd``. A log whose columns have other names is
read with a *column mapping*: ``{"case": "application_no", "timestamp": "event_time"}``.

Real logs are untidy, so reading is tolerant where the log is a log and strict where it is not:

* rows without a case id, without an activity, without a time or with one that is not a time,
  rows with another lifecycle transition and duplicated rows are dropped and *counted*, each
  reason on its own (``Log.skipped``); rows out of time order are sorted
  and counted (``Log.notes``); events of unknown activities are counted when the log is fitted;
* a file that is not a log (missing, empty, not UTF-8, not CSV/Parquet/XES, lacking required
  columns: all named at once, with a guess of each from ``sim.evidence.columns``) raises
  ``LogError`` with one line that says what was found and what to write instead;
* a case id is one case: ids shared by segments or replications are taken apart and said so, ids
  reused in a way the log does not tell are refused (``_cases_apart``).

Timestamps are local time (Chongqing, China Standard Time): times with a zone are converted to it
and the zone dropped, as the simulator's own tables keep them.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree.ElementTree import ParseError

import pandas as pd

from sim.evidence.columns import MAX_EVENTS_PER_CASE, REQUIRED, STANDARD, guesses, is_label
from sim.evidence.xes import read_xes

__all__ = ["REQUIRED", "STANDARD", "Log", "LogError", "log_from_frame", "parse_mapping", "read_log"]
LIFECYCLES = ("schedule", "start", "complete")
LOCAL_ZONE = "Asia/Shanghai"  # China Standard Time, UTC+08:00, no daylight saving
_ALSO = {"segment": ("case:segment",), "replication": ("case:replication",)}  # pm4py's trace prefix


class LogError(ValueError):
    """A file that is not an event log; the message is one line for people."""


@dataclass
class Log:
    """An event log, cleaned: one row per event with the columns ``period`` (the replication, 0 for
    a utility's log), ``case`` (unique over periods), ``segment``, ``activity``, ``lifecycle``,
    ``timestamp`` (naive local time), ``attempt`` (when the log gives it), in time order per case."""

    events: pd.DataFrame
    source: str
    rows_read: int
    skipped: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    attributes: pd.DataFrame = field(default_factory=pd.DataFrame)
    """Case attributes, one row per case (index: ``case``): the log's ``case:NAME`` columns (the
    trace attributes of XES, pm4py's convention in tables) as ``NAME``, each case's first value."""


def parse_mapping(items: Sequence[str]) -> dict[str, str]:
    """``["case=application_no", ...]`` (``--map``) as a mapping; the name on the left is a
    short name of ``STANDARD`` or its process-mining name."""
    out: dict[str, str] = {}
    by_long = {long: short for short, long in STANDARD.items()}
    for item in items:
        name, sep, column = item.partition("=")
        name = by_long.get(name.strip(), name.strip())
        if not sep or not column.strip():
            raise LogError(f"--map {item}: expected NAME=COLUMN, e.g. --map case=application_no")
        if name not in STANDARD:
            hint = difflib.get_close_matches(name, STANDARD, n=1)
            extra = f" (did you mean '{hint[0]}'?)" if hint else ""
            raise LogError(
                f"--map {item}: unknown name '{name}'{extra}; expected one of {', '.join(STANDARD)}"
            )
        out[name] = column.strip()
    return out


def read_log(
    path: str | os.PathLike,
    mapping: Mapping[str, str] | None = None,
    *,
    stages: Collection[str] | None = None,
    scenario: str = "the scenario",
) -> Log:
    """Read and clean the event log at ``path`` (.csv, .parquet, .xes; .csv.gz, .xes.gz). Given the
    ``stages`` of a ``scenario``, other activities are skipped first, before case ids are checked (a
    phone call twice in a case is no reused id), and implausibly few cases are refused."""
    path = Path(path)
    shown = str(path)
    if not path.is_file():
        raise LogError(f"{shown}: no such file; give the path of an event log (.csv, .parquet or .xes)")
    frame = _read_frame(path, shown)
    if frame.empty:
        raise LogError(f"{shown}: holds no events; expected one row per event with {_expected()}")
    return log_from_frame(frame, mapping, shown, stages=stages, scenario=scenario)


def log_from_frame(
    frame: pd.DataFrame,
    mapping: Mapping[str, str] | None = None,
    source: str = "<events>",
    *,
    stages: Collection[str] | None = None,
    scenario: str = "the scenario",
) -> Log:
    """A log from a table already in memory (``sim.run(..., events=True).events``); ``stages`` and
    ``scenario`` as for ``read_log``."""
    if frame.empty:
        raise LogError(f"{source}: holds no events; expected one row per event with {_expected()}")
    columns = _columns(frame, dict(mapping or {}), source)
    log = _clean(frame, columns, source, None if stages is None else (set(stages), scenario))
    return log if stages is None else _plausible_cases(frame, columns, log, len(set(stages)))


def _plausible_cases(frame: pd.DataFrame, columns: dict[str, str], log: Log, stages: int) -> Log:
    """Refuse a log of implausibly few cases for its events (over ``MAX_EVENTS_PER_CASE`` a case, or
    fewer cases than stages): its case column is not the id; name the one that looks like it."""
    events, cases = len(log.events), int(log.events["case"].nunique())
    if not cases or (events <= MAX_EVENTS_PER_CASE * cases and (cases >= stages or events <= 100)):
        return log
    others = {c for name, c in columns.items() if name != "case"}
    guess = guesses(frame, ["case"], others | {columns["case"]}).get("case")
    hint = f"the column '{guess}' looks like it: --map case={guess}" if guess else "--map case=COLUMN"
    raise LogError(
        f"{log.source}: {events} events of only {cases} cases ({events / cases:.0f} per case) in the "
        f"column '{columns['case']}', which does not look like the case id; {hint}"
    )


def _expected() -> str:
    return ", ".join(STANDARD[name] for name in REQUIRED)


def _read_frame(path: Path, shown: str) -> pd.DataFrame:
    suffixes = [s.lower() for s in path.suffixes[-2:]]
    kind = (suffixes[-1:] or [""])[0]
    if kind == ".gz" and len(suffixes) == 2 and suffixes[0] in (".csv", ".xes"):
        kind = suffixes[0]
    try:
        if kind == ".csv":
            return pd.read_csv(path, encoding="utf-8-sig", dtype={"case:concept:name": str})  # BOM or not
        if kind == ".parquet":
            return pd.read_parquet(path)
        if kind == ".xes":
            return read_xes(path)
    except UnicodeDecodeError as exc:
        raise LogError(
            f"{shown}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start}); "
            "save the log as UTF-8"
        ) from None
    except pd.errors.EmptyDataError:
        raise LogError(
            f"{shown}: empty file; expected a header with {_expected()} and one row per event"
        ) from None
    except ParseError as exc:
        raise LogError(f"{shown}: not well-formed XES (line {exc.position[0]}): {exc.msg}") from None
    except (pd.errors.ParserError, OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise LogError(f"{shown}: cannot be read as {kind[1:].upper()}: {first}") from None
    raise LogError(
        f"{shown}: unknown log format '{path.suffix}'; expected .csv, .parquet or .xes (.csv.gz, .xes.gz)"
    )


def _columns(frame: pd.DataFrame, mapping: dict[str, str], shown: str) -> dict[str, str]:
    """Standard short name -> the log's column, for every standard column the log has. Every
    ``--map`` to a column the log lacks, and every required column it lacks (the segment too, unless
    the case ids are ``segment:number``), are named at once, in one line, with a guess of each
    (``sim.evidence.columns``)."""
    found: dict[str, str] = {}
    absent = {name: column for name, column in mapping.items() if column not in frame.columns}
    if absent:
        maps = ", ".join(f"--map {name}={column}" for name, column in absent.items())
        columns = ", ".join(f"'{column}'" for column in absent.values())
        what = "column" if len(absent) == 1 else "columns"
        raise LogError(f"{shown}: {maps}: no {what} {columns}; the log has {_listed(frame.columns)}")
    for name, standard in STANDARD.items():
        candidates = (mapping[name],) if name in mapping else (standard, *_ALSO.get(name, ()))
        present = [c for c in candidates if c in frame.columns]
        if present:
            found[name] = present[0]
    missing = [name for name in REQUIRED if name not in found]
    guessed = guesses(frame, [*missing, *([] if "segment" in found else ["segment"])], set(found.values()))
    ids = frame[found["case"]] if "case" in found else frame.get(guessed.get("case", ""))
    if "segment" not in found and (ids is None or not _segment_ids(ids)):
        missing.append("segment")
    if missing:
        named = ", ".join(f"'{STANDARD[name]}' ({name})" for name in missing)
        maps = " ".join(f"--map {name}={guessed.get(name, 'COLUMN')}" for name in missing)
        guessing = set(missing) & set(guessed)
        guess = " (guessed from the columns' names and values: check them)" if guessing else ""
        what = "column" if len(missing) == 1 else "columns"
        has = _listed(frame.columns)
        raise LogError(f"{shown}: no {what} {named}; the log has {has}; name the {what} with {maps}{guess}")
    return found


def _segment_ids(cases: pd.Series) -> bool:
    """Case ids of the form ``segment:number`` (the ids this tool writes), which give the segment."""
    present = cases.dropna().astype("string")
    return bool(len(present)) and bool(present.str.contains(":", regex=False).all())


def _listed(columns) -> str:
    names = [str(c) for c in columns]
    return ", ".join(names[:12]) + (f" and {len(names) - 12} more" if len(names) > 12 else "")


def local_times(values: pd.Series, shown: str, column: str) -> pd.Series:
    """Timestamps as naive local time: zoned times converted to China Standard Time."""
    if pd.api.types.is_datetime64_any_dtype(values):
        stamps = values
    else:
        text = values.astype("string")
        try:
            stamps = pd.to_datetime(text, errors="coerce", format="ISO8601")
        except (ValueError, TypeError):  # mixed offsets
            stamps = pd.to_datetime(text, errors="coerce", format="ISO8601", utc=True)
        if stamps.isna().all() and text.notna().any():
            example = text.dropna().iloc[0]
            raise LogError(
                f"{shown}: column '{column}' holds no timestamps (found '{example}'); "
                "expected ISO 8601 times such as 2021-03-04T09:00:00+08:00"
            )
    if getattr(stamps.dt, "tz", None) is not None:
        stamps = stamps.dt.tz_convert(LOCAL_ZONE).dt.tz_localize(None)
    return stamps.astype("datetime64[ns]")


def _clean(
    frame: pd.DataFrame, columns: dict[str, str], shown: str, known: tuple[set[str], str] | None = None
) -> Log:
    skipped: dict[str, int] = {}
    notes: list[str] = []
    rows_read = len(frame)
    ev = pd.DataFrame(index=frame.index)
    ev["file_row"] = range(len(frame))
    for name in ("case", "activity"):
        ev[name] = frame[columns[name]].astype("string").str.strip()
    ev["lifecycle"] = frame[columns["lifecycle"]].astype("string").str.strip().str.lower()
    ev["timestamp"] = local_times(frame[columns["timestamp"]], shown, columns["timestamp"])
    ev["period"] = (
        pd.to_numeric(frame[columns["replication"]], errors="coerce") if "replication" in columns else 0
    )
    if "attempt" in columns:
        ev["attempt"] = pd.to_numeric(frame[columns["attempt"]], errors="coerce")
    ev["segment"] = _segments(frame, columns, ev["case"], shown)

    def drop(mask: pd.Series, reason: str) -> None:
        nonlocal ev
        count = int(mask.sum())
        if count:
            skipped[reason] = skipped.get(reason, 0) + count
            ev = ev[~mask]

    def blank(values: pd.Series) -> pd.Series:
        return values.astype("string").str.strip().fillna("").eq("")

    drop(blank(ev["case"]), "row without a case id")
    drop(blank(ev["activity"]), "row without an activity")
    if known is not None:  # first (before the reused-id check: a phone call twice is no reuse)
        unknown, scenario = ~ev["activity"].isin(known[0]), known[1]
        for activity, count in ev.loc[unknown, "activity"].value_counts().items():
            skipped[f"unknown activity '{activity}' (not a stage of {scenario})"] = int(count)
        if (ev := ev[~unknown]).empty and unknown.any():
            raise LogError(
                f"{shown}: no event of a stage and segment of {scenario} ({_reasons(skipped, 3)}); check the "
                "log's activities and segments against the scenario"
            )
    drop(blank(frame.loc[ev.index, columns["timestamp"]]), "row without a time")
    drop(ev["timestamp"].isna(), "row whose time is not a time (expected ISO 8601)")
    drop(ev["period"].isna(), "row whose replication is not a number")
    drop(ev["segment"].isna(), "row of a case without a segment")
    if "attempt" in ev:
        drop(ev["attempt"].isna(), "row without a valid attempt number")
    for value, count in (
        ev.loc[~ev["lifecycle"].isin(LIFECYCLES), "lifecycle"].value_counts(dropna=False).items()
    ):
        skipped[f"lifecycle '{value}' (expected schedule, start or complete)"] = int(count)
    ev = ev[ev["lifecycle"].isin(LIFECYCLES)]
    ev = _cases_apart(frame, ev, columns, shown, notes, skipped)
    key = ["case", "activity", "lifecycle", "timestamp", *(["attempt"] if "attempt" in ev else [])]
    drop(ev.duplicated(subset=key), "duplicated row")
    if ev.empty:
        raise LogError(f"{shown}: no usable event in {rows_read} rows ({_reasons(skipped)})")
    before = ev.groupby("case", sort=False)["timestamp"].shift()
    disordered = int((ev["timestamp"] < before).sum())
    if disordered:
        notes.append(f"{disordered} rows out of time order within their case: sorted by time")
    rank = ev["lifecycle"].map({name: i for i, name in enumerate(LIFECYCLES)}).astype(int)
    attributes = _case_attributes(frame, ev, set(columns.values()))
    ev = ev.assign(rank=rank).sort_values(["period", "case", "timestamp", "rank", "file_row"], kind="stable")
    ev = ev.drop(columns=["rank", "file_row"]).reset_index(drop=True)
    return Log(ev, shown, rows_read, skipped, notes, attributes)


def _cases_apart(
    frame: pd.DataFrame, ev: pd.DataFrame, columns: dict[str, str], shown: str, notes: list, skipped: dict
) -> pd.DataFrame:
    """A case id used for several cases is never merged silently. Ids that hold events of several
    segments (numbered per segment) or replications (numbered per replication) are taken apart, as
    ``SEGMENT:ID`` and ``rN/ID``, and said so. Ids whose same event (stage, lifecycle, attempt) comes
    twice at different times are reused in a way the log does not tell: refused, naming the column
    that tells them apart, when they are many (1% of the cases or more), else skipped and counted."""
    if not len(ev):
        return ev
    if "segment" in columns and (shared := int((ev.groupby("case")["segment"].nunique() > 1).sum())):
        notes.append(
            f"{shared} case ids hold events of more than one segment (ids numbered per segment?): "
            "each segment's case taken apart, as SEGMENT:ID"
        )
        ev = ev.assign(case=ev["segment"] + ":" + ev["case"])
    if shared := int((ev.groupby("case")["period"].nunique() > 1).sum()):
        notes.append(
            f"{shared} case ids recur in several replications: each replication's case taken apart, as rN/ID"
        )
        ev = ev.assign(case="r" + ev["period"].astype(int).astype(str) + "/" + ev["case"])
    if "attempt" not in ev:
        return ev
    event = ["case", "activity", "lifecycle", "attempt"]
    twice = ev.groupby(event)["timestamp"].transform("nunique") > 1
    reused = ev.loc[twice, "case"].unique()
    if len(reused) and len(reused) >= 0.01 * ev["case"].nunique():
        sub = ev.loc[twice]
        by = {c: frame.loc[sub.index, c] for c in frame.columns if c not in columns.values()}
        apart = [
            c for c, values in by.items()
            if is_label(values) and values.nunique() <= 1000
            and sub.assign(by=values).groupby([*event, "by"])["timestamp"].nunique().max() == 1
        ]  # fmt: skip
        hint = f" (the column '{apart[0]}' tells them apart)" if apart else ""
        raise LogError(
            f"{shown}: {len(reused)} case ids have the same event twice at different times (same stage, "
            "lifecycle and attempt): each id is used for several cases, across replications or periods; "
            f"name the column that tells them apart with --map replication=COLUMN{hint}"
        )
    if len(reused):
        dropped = ev["case"].isin(reused)
        skipped["row of a case id with the same event twice at different times"] = int(dropped.sum())
        ev = ev[~dropped]
    return ev


def _case_attributes(frame: pd.DataFrame, ev: pd.DataFrame, used: set[str]) -> pd.DataFrame:
    """The ``case:NAME`` columns of the rows kept, as ``NAME``, one row per case."""
    names = [c for c in frame.columns if isinstance(c, str) and c.startswith("case:") and c not in used]
    names = [c for c in names if c not in ("case:concept:name", "case:segment", "case:replication")]
    table = frame.loc[ev.index, names].groupby(ev["case"].to_numpy()).first()
    return table.rename(columns=lambda c: c.removeprefix("case:"))


def _segments(frame: pd.DataFrame, columns: dict[str, str], cases: pd.Series, shown: str) -> pd.Series:
    """Each row's segment: the segment column (filled over the case's rows), or the case id's part
    before ':' when every id has that form (the ids this tool writes: ``segment:number``)."""
    if "segment" in columns:
        seg = frame[columns["segment"]].astype("string").str.strip()
        return seg.groupby(cases.to_numpy()).transform("first") if seg.isna().any() else seg
    return cases.str.rsplit(":", n=1).str[0].str.rsplit("/", n=1).str[-1]  # ids are segment:number


def _reasons(skipped: Mapping[str, int], most: int | None = None) -> str:
    shown = [f"{reason}: {count}" for reason, count in list(skipped.items())[:most]]
    return "; ".join(shown + (["..."] if most is not None and len(skipped) > most else [])) or "none"
