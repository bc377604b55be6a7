"""Relative changes: an overlay, a dated measure or ``--set`` may change an inherited number by an
amount instead of replacing it, as planners say it ("two more inspectors", "half as much again").

``capacity: +2`` adds 2, ``capacity: "-1"`` takes 1 away, ``mode: "*1.5"`` multiplies by 1.5. The
rule, precisely:

- A relative change is a number with a leading ``+``, ``-`` or ``*`` written as text (``"+2"``,
  ``"-1"``, ``"*1.5"``), or a number with a leading ``+`` written bare (``+2``). YAML reads a bare
  ``+2`` as the number 2, which would silently set the value to 2, so the reader keeps its text
  (``sim.scenario.files``). A bare ``-1`` stays the number -1, and a bare ``*1.5`` is no YAML (a
  ``*`` starts an alias): write both in quotes.
- It applies to the value the key has in the parent (the file ``extends`` names, the scenario a
  dated measure changes, the file ``--set`` changes), which must be a number. A relative change in
  a file without a parent, at a key the parent does not have, or inside a list, a distribution or
  a condition written whole (they replace the parent's whole) has nothing to change: an error.
- The result keeps a whole number whole: on a whole-number key (a pool's ``capacity``), ``+`` and
  ``-`` take whole amounts and ``*`` must give a whole number (``*1.5`` of 4 is 6; of 3 it is
  refused, not rounded). It is then validated like any value (a capacity below 1 is refused).
- Several relative changes compose in the order the values are merged: along the ``extends``
  chain, then the dated measures in force, in the list's order (which must then be their date
  order, see ``sim.scenario.dated``), then ``--set``.

Arithmetic is decimal, so ``*1.1`` of 3 is 3.3, not 3.3000000000000003.
"""

from __future__ import annotations

import re
import typing
from decimal import Decimal
from typing import Annotated, Any

from sim.scenario.errors import KeyPath, format_path, type_at
from sim.scenario.schema import Scenario

_RELATIVE = re.compile(r"^\s*(?P<op>[+\-*])\s*(?P<amount>\d+(?:\.\d*)?|\.\d+)\s*$")
BARE_PLUS = re.compile(r"^\+(?:\d+(?:\.\d*)?|\.\d+)$")
"""A bare YAML scalar that reads as a number but is a relative change (``+2``, ``+0.5``)."""


def is_relative(value: Any) -> bool:
    """Whether ``value`` is written as a relative change (``"+2"``, ``"-1"``, ``"*1.5"``)."""
    return isinstance(value, str) and _RELATIVE.match(value) is not None


def relative_in(value: Any, path: KeyPath = ()) -> KeyPath | None:
    """The key path (below ``path``) of the first relative change inside ``value``, if any."""
    if is_relative(value):
        return path
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        if (found := relative_in(item, (*path, key))) is not None:
            return found
    return None


def apply_change(change: str, inherited: Any, path: KeyPath) -> int | float:
    """The value ``change`` makes of the ``inherited`` value at ``path``; ``ValueError`` with
    the reason in words (and what to write instead) when it cannot apply."""
    match = _RELATIVE.match(change)
    if match is None:
        raise ValueError(f"'{change}' is not a relative change; write +N, -N or *N")
    if inherited is None or isinstance(inherited, bool) or not isinstance(inherited, (int, float)):
        raise ValueError(
            f"'{change}' changes a number, but the inherited value is {inherited!r}; write the value itself"
        )
    op, amount = match.group("op"), Decimal(match.group("amount"))
    before = Decimal(str(inherited))
    after = before * amount if op == "*" else before + amount if op == "+" else before - amount
    if after == after.to_integral_value() and (isinstance(inherited, int) or _whole(path)):
        return int(after)
    if _whole(path):
        raise ValueError(
            f"'{change}' of {inherited} gives {after.normalize():f}, but {format_path(path)} is a whole "
            "number: write a change that gives one, or the value itself (it is not rounded)"
        )
    return float(after)


def _whole(path: KeyPath) -> bool:
    """Whether the schema takes only whole numbers at ``path`` (a pool's capacity, a seed)."""
    return _only_int(type_at(path, Scenario))


def _only_int(tp: Any) -> bool:
    if typing.get_origin(tp) is Annotated:
        return _only_int(typing.get_args(tp)[0])
    if tp is int:
        return True
    members = [m for m in typing.get_args(tp) if m is not type(None)]
    return typing.get_origin(tp) is not None and bool(members) and all(_only_int(m) for m in members)
