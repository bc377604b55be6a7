"""Conditions on case attributes, written as data and never evaluated as code.

A condition is a mapping; every entry must hold (they are joined by AND):

- ``important: false``: the attribute equals the value;
- ``region: [main_urban, west]``: the attribute is one of the values;
- ``kva: {max: 1250}`` or ``{min: 160, max: 1250}``: a closed numeric range;
- ``any: [cond, ...]`` holds when one of the conditions holds (e.g. the region-dependent on-site
  cap), ``all: [cond, ...]`` when all do, ``not: cond`` when the condition does not.

Besides the attributes a case draws, a condition can read ``segment`` (the case's segment, e.g.
``segment: [hv_single, hv_dual]`` on a stage several segments' flows share) and, in a scenario with
``companies``, ``company`` and ``region`` (its supply company's). A case carries ``segment`` among
its attributes only when some condition of the scenario reads it (``reads_segment``), so the
cases table and the runs of other scenarios are as they were.

``check_condition`` validates the shape on load (pydantic calls it); ``holds`` evaluates it for a
case's attribute mapping; ``attributes_used`` lists the attribute names a condition reads, so that
a scenario can be checked for conditions on attributes a segment never draws.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

COMBINATORS = ("any", "all", "not")
SEGMENT = "segment"  # the case's segment, readable by any condition applied once it has one
_SCALAR = (bool, int, float, str)


def check_condition(cond: Any) -> dict:
    """Raise ``ValueError`` with a readable message when ``cond`` is not a valid condition."""
    if not isinstance(cond, Mapping) or not cond:
        raise ValueError(f"a condition is a non-empty mapping, found {cond!r}")
    for key, value in cond.items():
        if key in ("any", "all"):
            if not isinstance(value, list) or not value:
                raise ValueError(f"'{key}' takes a non-empty list of conditions, found {value!r}")
            for item in value:
                check_condition(item)
        elif key == "not":
            check_condition(value)
        elif not isinstance(key, str):
            raise ValueError(f"condition keys are attribute names, found {key!r}")
        elif isinstance(value, Mapping):
            extra = set(value) - {"min", "max"}
            if extra or not value:
                raise ValueError(
                    f"a range on '{key}' takes min and/or max, found keys {sorted(map(str, value))}"
                )
            for bound in value.values():
                if isinstance(bound, bool) or not isinstance(bound, (int, float)):
                    raise ValueError(f"a range bound on '{key}' is a number, found {bound!r}")
        elif isinstance(value, list):
            if not value or not all(isinstance(v, _SCALAR) for v in value):
                raise ValueError(f"'{key}' takes a non-empty list of plain values, found {value!r}")
        elif not isinstance(value, _SCALAR):
            raise ValueError(f"'{key}' takes a value, a list or a range, found {value!r}")
    return dict(cond)


def holds(cond: Mapping | None, attributes: Mapping[str, Any]) -> bool:
    """Whether a (validated) condition holds for a case; an absent condition always holds."""
    if cond is None:
        return True
    for key, want in cond.items():
        if key == "any":
            if not any(holds(c, attributes) for c in want):
                return False
        elif key == "all":
            if not all(holds(c, attributes) for c in want):
                return False
        elif key == "not":
            if holds(want, attributes):
                return False
        else:
            have = attributes[key]
            if isinstance(want, Mapping):
                if "min" in want and not have >= want["min"]:
                    return False
                if "max" in want and not have <= want["max"]:
                    return False
            elif isinstance(want, list):
                if have not in want:
                    return False
            elif have != want:
                return False
    return True


def attributes_used(cond: Mapping | None) -> Iterator[str]:
    """The attribute names a condition reads, combinators looked through."""
    if cond is None:
        return
    for key, value in cond.items():
        if key in ("any", "all"):
            for item in value:
                yield from attributes_used(item)
        elif key == "not":
            yield from attributes_used(value)
        else:
            yield key


def reads_segment(data: Any) -> bool:
    """Whether some condition (the value of a ``when`` or ``where`` key) in scenario ``data`` (a
    scenario's plain data, dated measures' changes included) reads the case's ``segment``."""
    if isinstance(data, Mapping):
        for key, value in data.items():
            if key in ("when", "where") and isinstance(value, Mapping):
                if SEGMENT in attributes_used(value):
                    return True
            elif reads_segment(value):
                return True
    elif isinstance(data, list):
        return any(reads_segment(item) for item in data)
    return False
