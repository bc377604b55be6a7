"""Reading an event log in XES (IEEE 1849), the process-mining exchange format, as a table.

One row per event, its attributes as columns and its trace's attributes as ``case:NAME``
(pm4py's convention), so that ``sim.evidence.log_reading`` reads it as it reads a CSV or Parquet
log. The file is streamed with ``iterparse`` (a log of a city-year is large), gzipped or not.
"""

from __future__ import annotations

import gzip
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd


def read_xes(path: Path) -> pd.DataFrame:
    """An XES file as a table: one row per event, its attributes as columns and its trace's
    attributes as ``case:NAME`` (pm4py's convention), streamed with ``iterparse``."""
    opener = gzip.open if path.suffix == ".gz" else open
    rows: list[dict] = []
    trace: dict = {}
    event: dict | None = None
    depth = 0
    with opener(path, "rb") as fh:
        for what, elem in ET.iterparse(fh, events=("start", "end")):
            tag = elem.tag.rsplit("}", 1)[-1]
            if what == "start":
                depth += 1
                if tag == "trace":
                    trace = {}
                elif tag == "event":
                    event = {}
                continue
            depth -= 1
            if tag == "event" and event is not None:
                rows.append({**trace, **event})
                event = None
            elif tag in _XES_TYPES and "key" in elem.attrib:
                value = _xes_value(tag, elem.attrib.get("value"))
                if event is not None:
                    event[elem.attrib["key"]] = value
                elif depth == 2:  # an attribute of the trace (the log's own are at depth 1)
                    trace[f"case:{elem.attrib['key']}"] = value
            if tag in ("event", "trace"):
                elem.clear()
    return pd.DataFrame(rows)


_XES_TYPES = {"string", "date", "int", "float", "boolean", "id"}


def _xes_value(kind: str, text: str | None):
    if text is None:
        return None
    if kind == "int":
        return int(text)
    if kind == "float":
        return float(text)
    if kind == "boolean":
        return text.lower() == "true"
    return text
