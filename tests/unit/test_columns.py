"""The typed columns of a run's records (``sim.engine.columns``) give the column a plain list of
the same values gives (``attribute_series``), whatever the kinds, gaps, mixes and row order."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.engine.columns import AttributeColumn, Codes, attribute_series

VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.floats(-1e6, 1e6, allow_nan=False),
    st.sampled_from(["mountain", "urban", "plain"]),
)


def _column(values: list) -> AttributeColumn:
    """The column as the records build it: a row without the attribute is skipped (missing)."""
    column: AttributeColumn | None = None
    for row, value in enumerate(values):
        if value is None:
            continue
        if column is None:
            column = AttributeColumn(row)
        column.add(value, row)
    assert column is not None
    column.pad(len(values))
    return column


ROWS = st.lists(VALUES, min_size=1, max_size=30).filter(lambda v: any(x is not None for x in v))


@settings(max_examples=150, deadline=None)
@given(ROWS)
def test_a_typed_column_is_the_column_of_its_values(values):
    pd.testing.assert_series_equal(_column(values).series(), attribute_series(values))


@settings(max_examples=100, deadline=None)
@given(ROWS, st.randoms())
def test_reordered_rows_and_the_first_present_row(values, rnd):
    order = list(range(len(values)))
    rnd.shuffle(order)
    column = _column(values)
    column.reorder(np.array(order))
    moved = [values[i] for i in order]
    pd.testing.assert_series_equal(column.series(), attribute_series(moved))
    assert column.first_present() == next(i for i, v in enumerate(moved) if v is not None)


def test_one_kind_stays_typed_and_a_mix_turns_to_text():
    flags = _column([True, None, False])
    assert flags.flags.tobytes() == bytes([1, 255, 0])  # a byte a row, -1 where missing
    assert list(flags.series()) == [True, pd.NA, False]
    mixed = _column([True, 2.5, None])
    assert list(mixed.series()) == ["True", "2.5", pd.NA]


def test_codes_keep_distinct_values_once():
    codes = Codes()
    for value in ["a", "b", "a", None, "b"]:
        codes.append(value)
    assert codes.values == ["a", "b"]
    assert list(codes.codes) == [0, 1, 0, -1, 1]
    assert list(codes.objects()) == ["a", "b", "a", None, "b"]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.lists(VALUES, max_size=8)), min_size=1, max_size=6))
def test_values_added_at_once_are_those_added_one_by_one(blocks):
    """``extend`` (a chunk's attribute) gives the column ``add`` gives, value by value: runs of
    one kind at once, a mix, gaps between the runs."""
    at_once, one_by_one = AttributeColumn(), AttributeColumn()
    row = 0
    for gap, values in blocks:
        row += gap
        at_once.extend(values, row)
        for i, value in enumerate(values, row):
            one_by_one.add(value, i)
        row += len(values)
    at_once.pad(row)
    one_by_one.pad(row)
    assert at_once.values() == one_by_one.values() and at_once.whole == one_by_one.whole
    if at_once.kind:  # some value came: the column it gives
        pd.testing.assert_series_equal(at_once.series(), one_by_one.series())
