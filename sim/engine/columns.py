"""Typed columns for the records of a run: numbers in ``array`` buffers, text as codes.

A replication keeps one row per counted case (and, with ``events``, one per stage event) until
it ends. Held as Python lists, every float of a row is an object of its own (32 bytes with its
pointer); held here, it is 8 bytes, a flag 1, and a text one small code into the column's list of
distinct values. The tables are built from the buffers once, at the end, without a copy per value
(``numpy.frombuffer``).

``Codes`` holds text (segment, stage and pool names); ``AttributeColumn`` holds an attribute of
any kind, and gives the column ``sim.engine.records`` has always given: booleans as pandas'
``boolean``, numbers as floats, anything else as text, missing values where a case has no such
attribute.
"""

from __future__ import annotations

from array import array
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


class Codes:
    """Text values as codes (``array('i')``, -1 for None) into the list of distinct values."""

    __slots__ = ("_index", "codes", "values")

    def __init__(self) -> None:
        self.codes = array("i")
        self.values: list[Any] = []
        self._index: dict[Any, int] = {}

    def code(self, value: Any) -> int:
        """The code of ``value`` (a new one the first time it is seen); -1 for None."""
        if value is None:
            return -1
        code = self._index.get(value)
        if code is None:
            code = self._index[value] = len(self.values)
            self.values.append(value)
        return code

    def append(self, value: Any) -> None:
        code = self._index.get(value)
        self.codes.append(code if code is not None else self.code(value))

    def __len__(self) -> int:
        return len(self.codes)

    def reorder(self, order: np.ndarray) -> None:
        self.codes = taken(self.codes, order)

    def arrow(self) -> pa.Array:
        """The values, one per row, as an Arrow text array (null where missing)."""
        return arrow_text(self.values, self.codes)

    def objects(self) -> np.ndarray:
        """The values, one per row, as an object array (None where missing)."""
        table = np.empty(len(self.values) + 1, dtype=object)
        table[:-1] = self.values  # code -1 reads the last entry: None
        return table[np.frombuffer(self.codes, dtype=np.int32)]


_MISSING, _BOOL, _NUMBER, _TEXT, _OBJECT = range(5)
_CLASS = {_BOOL: bool, _NUMBER: float, _TEXT: str}  # the one class a kind's fast path takes


class AttributeColumn:
    """One attribute over the rows: its kind is set by its first value, and a value of another
    kind turns the column into a plain list (so every mix gives the column a list would)."""

    __slots__ = ("flags", "kind", "n", "numbers", "objects", "text", "whole")

    def __init__(self, missing: int = 0) -> None:
        self.kind = _MISSING
        self.n = missing  # rows so far (the first ones missing)
        self.flags = array("b")  # booleans: 1, 0, -1 for missing
        self.numbers = array("d")  # numbers: NaN for missing, with ``flags`` 1 where present
        self.text: Codes | None = None
        self.objects: list[Any] | None = None
        self.whole: dict[int, Any] = {}  # rows of numbers that were not floats (ints), as given

    def add(self, value: Any, row: int) -> None:
        """``value`` in row ``row`` (rows skipped before it are missing)."""
        if self.n < row:
            self.pad(row)
        kind = self.kind
        if kind == _BOOL and value.__class__ is bool:
            self.flags.append(1 if value else 0)
        elif kind == _NUMBER and value.__class__ is float:
            self.numbers.append(value)
            self.flags.append(1)
        elif kind == _TEXT and value.__class__ is str:
            self.text.append(value)  # type: ignore[union-attr]
        else:
            self._add_slowly(value)
            return
        self.n += 1

    def extend(self, values: list, row: int) -> None:
        """``values`` in the rows from ``row`` on: what ``add`` gives each, at once where they
        are all of the column's kind (a chunk's attribute, ``sim.engine.batch``)."""
        if not values:
            return
        if self.kind == _MISSING or self.n < row:  # the first value sets the kind, or pads
            self.add(values[0], row)
            values, row = values[1:], row + 1
        kind, count = self.kind, len(values)
        of_kind = _CLASS.get(kind)
        if of_kind is None or any(v.__class__ is not of_kind for v in values):
            for i, value in enumerate(values, row):
                self.add(value, i)
            return
        if kind == _BOOL:
            self.flags.frombytes(np.array(values, dtype=np.int8).tobytes())
        elif kind == _NUMBER:
            self.numbers.frombytes(np.array(values, dtype=np.float64).tobytes())
            self.flags.extend(array("b", [1]) * count)
        else:
            append = self.text.append  # type: ignore[union-attr]
            for value in values:
                append(value)
        self.n += count

    def _add_slowly(self, value: Any) -> None:
        kind = self.kind
        if kind == _MISSING:  # the first value: the column takes its kind, and its missing rows
            self.kind = kind = _kind_of(value)
            if kind == _TEXT:
                self.text = Codes()
            elif kind == _OBJECT:
                self.objects = []
            self._fill(self.n)
        elif kind != _OBJECT and _kind_of(value) != kind:  # a mix: a plain list from now on
            self.objects = self.values()
            self.kind = kind = _OBJECT
        if kind == _BOOL:
            self.flags.append(1 if value else 0)
        elif kind == _NUMBER:
            self.numbers.append(value)
            self.flags.append(1)
            if value.__class__ is not float:  # kept as given, should the column turn into a list
                self.whole[self.n] = value
        elif kind == _TEXT:
            self.text.append(value)  # type: ignore[union-attr]
        else:
            self.objects.append(value)  # type: ignore[union-attr]
        self.n += 1

    def pad(self, rows: int) -> None:
        """Missing values up to ``rows`` rows."""
        self._fill(rows - self.n)
        self.n = rows

    def _fill(self, count: int) -> None:
        kind = self.kind
        if count <= 0 or kind == _MISSING:  # a column without a value yet only counts its rows
            return
        if kind == _BOOL:
            self.flags.extend(array("b", [-1]) * count)
        elif kind == _NUMBER:
            self.numbers.extend(array("d", [np.nan]) * count)
            self.flags.extend(array("b", [0]) * count)
        elif kind == _TEXT:
            self.text.codes.extend(array("i", [-1]) * count)  # type: ignore[union-attr]
        else:
            self.objects.extend([None] * count)  # type: ignore[union-attr]

    def __len__(self) -> int:
        return self.n

    def first_present(self) -> int:
        """The first row with a value (the columns of a table come in this order)."""
        kind = self.kind
        if kind == _OBJECT:
            return next(i for i, v in enumerate(self.objects) if v is not None)  # type: ignore[arg-type]
        if kind == _TEXT:
            present = np.frombuffer(self.text.codes, dtype=np.int32) >= 0  # type: ignore[union-attr]
        else:
            present = np.frombuffer(self.flags, dtype=np.int8) >= (0 if kind == _BOOL else 1)
        return int(np.argmax(present))

    def reorder(self, order: np.ndarray) -> None:
        """The rows in ``order`` (every row padded first)."""
        kind = self.kind
        if kind in (_BOOL, _NUMBER):
            self.flags = taken(self.flags, order)
            if kind == _NUMBER:
                self.numbers = taken(self.numbers, order)
                where = positions(order)
                self.whole = {int(where[row]): value for row, value in self.whole.items()}
        elif kind == _TEXT:
            self.text.reorder(order)  # type: ignore[union-attr]
        elif kind == _OBJECT:
            self.objects = [self.objects[i] for i in order]  # type: ignore[index]

    def values(self) -> list[Any]:
        """The values as a list (None where missing)."""
        kind = self.kind
        if kind == _BOOL:
            return [None if f < 0 else bool(f) for f in self.flags]
        if kind == _NUMBER:
            values = [v if f else None for v, f in zip(self.numbers, self.flags)]
            for row, value in self.whole.items():
                values[row] = value
            return values
        if kind == _TEXT:
            return list(self.text.objects())  # type: ignore[union-attr]
        if kind == _OBJECT:
            return list(self.objects)  # type: ignore[arg-type]
        return [None] * self.n

    def series(self) -> pd.Series:
        """The column of the cases table."""
        kind = self.kind
        if kind == _BOOL:
            flags = np.frombuffer(self.flags, dtype=np.int8)
            return pd.Series(pd.arrays.BooleanArray(flags == 1, flags < 0))
        if kind == _NUMBER:
            return pd.Series(np.frombuffer(self.numbers, dtype=float).copy())
        if kind == _TEXT:
            return pd.Series(self.text.objects(), dtype="string")  # type: ignore[union-attr]
        return attribute_series(self.values())


def _kind_of(value: Any) -> int:
    if isinstance(value, (bool, np.bool_)):
        return _BOOL
    if isinstance(value, (int, float)):
        return _NUMBER
    if isinstance(value, str):
        return _TEXT
    return _OBJECT


def view(values: array) -> np.ndarray:
    """A typed buffer as a numpy array of its type, without a copy."""
    return np.frombuffer(values, dtype=np.dtype(values.typecode))


def taken(values: array, order: np.ndarray) -> array:
    """The entries of a typed buffer put in ``order``, in place (a copy of them in that order is
    the scratch, let go at once; no second buffer is kept); the buffer."""
    entries = view(values)
    entries[:] = entries[order]
    del entries  # (a buffer seen by numpy cannot grow)
    return values


def positions(order: np.ndarray) -> np.ndarray:
    """Where each row goes when the rows are taken in ``order`` (its inverse permutation)."""
    where = np.empty_like(order)
    where[order] = np.arange(len(order))
    return where


def arrow_text(values: list, codes) -> pa.Array:
    """Text from codes (-1: missing) into ``values``, made by Arrow (no Python string per row)."""
    codes = np.asarray(codes, dtype=np.int32)
    missing = codes < 0
    pool = pa.system_memory_pool()  # (the run's buffers, let go, are in its memory)
    return pc.take(
        pa.array(values, type=pa.string(), memory_pool=pool),
        # without missing values, Arrow reads the codes where they are
        pa.array(codes, mask=missing if missing.any() else None, memory_pool=pool),
        memory_pool=pool,
    )


def case_ids(segments: Codes, numbers: np.ndarray, logged: dict[int, Any], prefix: str = "") -> pd.Series:
    """A case's id per row: ``PREFIX SEGMENT:NUMBER``, or ``PREFIX log/ID`` for a row in ``logged``
    (a warm-started case keeps the id ``ID`` of the log it came from)."""
    heads = [f"{prefix}{segment}:" for segment in segments.values]
    pool = pa.system_memory_pool()
    ids = pc.binary_join_element_wise(
        arrow_text(heads, segments.codes),
        pc.cast(pa.array(numbers, memory_pool=pool), pa.string(), memory_pool=pool),
        "",
        memory_pool=pool,
    )
    if logged:
        rows = np.zeros(len(numbers), dtype=bool)
        rows[list(logged)] = True
        names = [f"{prefix}log/{logged[row]}" for row in sorted(logged)]
        ids = pc.replace_with_mask(ids, pa.array(rows), pa.array(names, type=pa.string()))
    return pd.Series(pd.arrays.ArrowStringArray(ids))


def attribute_series(values: list) -> pd.Series:
    """A column of values of any kind: booleans as ``boolean``, numbers as floats, else text."""
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, (bool, np.bool_)) for v in present):
        return pd.Series(values, dtype="boolean")
    if present and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        return pd.Series([np.nan if v is None else v for v in values], dtype=float)
    return pd.Series(values, dtype="string")


def timestamps(cal, t: np.ndarray, working: bool = False) -> pd.Series:
    """Times of a ``WorkingCalendar`` (calendar days since its start; ``working``: working days,
    turned into calendar days on the way) as timestamps to the second: NaN gives NaT, a time
    before the start (a warm-started case's application) counts back. Made a slice at a time
    into the column, so that the arrays of a step stay small beside a long table."""
    stamps = np.full(len(t), np.datetime64("NaT"), dtype="datetime64[s]")
    for a in range(0, len(t), _ROWS_AT_ONCE):
        part, out = t[a : a + _ROWS_AT_ONCE], stamps[a : a + _ROWS_AT_ONCE]
        if working:
            part = cal.calendar_time(part)
        ok = ~np.isnan(part) & (part >= 0)
        if ok.any():
            out[ok] = cal.to_datetime(part[ok])
        before = part < 0  # a warm-started case's application, before the calendar's start
        if before.any():
            seconds = np.round(part[before] * 86400.0).astype(np.int64)
            out[before] = np.datetime64(cal.start, "s") + seconds.astype("timedelta64[s]")
    return pd.Series(stamps)


_ROWS_AT_ONCE = 1 << 16
