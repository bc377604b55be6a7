"""The ranges of a sensitivity file checked against the scenario before anything runs.

A range is an assumption about a number of the base scenario; every value in it must be one the
scenario takes. ``check_ranges`` validates the scenario at both ends of every range (the other
inputs at their base values), then at every corner of the ranges that write the same part of the
scenario (a stage, a segment, a pool: ``min`` and ``mode`` of one triangular), so that a range
outside a field's bounds (a share above 1) or a combination a model refuses (a triangular's
``mode`` above its ``max``) is reported at the sensitivity file's line of the range, with the
values the scenario takes there. Those are found from the schema's bounds for the key path
(pydantic's ``ge``/``gt``/``le``/``lt``) and, where a model's rule is narrower, by bisection
between a value it takes and one it refuses. A design point the checks did not foresee (a rule
across parts of the scenario) is explained the same way by ``explain_refusal``.
"""

from __future__ import annotations

import itertools
import math
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, NoReturn

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from sim.experiments.spec_files import Places
from sim.scenario.errors import KeyPath, LineMap, ScenarioError, format_path
from sim.scenario.load import validate_scenario
from sim.scenario.overrides import apply_overrides, parse_key_path
from sim.scenario.schema import Scenario

SENSITIVITY = "a sensitivity file"  # who sets the keys, as override errors name it
MAX_CORNERS = 64  # corners checked per part of the scenario (2^6: six inputs of one stage)
Bound = tuple[float, bool]  # a limit and whether the limit itself is taken (ge, le) or not (gt, lt)


@dataclass(frozen=True)
class Input:
    """One uncertain input: its key path, label, range and whether it takes whole numbers."""

    key: str
    label: str
    low: float
    high: float
    whole: bool
    base_value: float


def _show(x: float) -> str:
    return f"{x:g}"


@dataclass(frozen=True)
class Allowed:
    """The values an input may take (None: no limit on that side)."""

    low: Bound | None
    high: Bound | None

    def __contains__(self, x: float) -> bool:
        above = self.low is None or (x >= self.low[0] if self.low[1] else x > self.low[0])
        return above and (self.high is None or (x <= self.high[0] if self.high[1] else x < self.high[0]))

    def text(self) -> str:
        if self.low and self.high and self.low[1] and self.high[1]:
            return f"values from {_show(self.low[0])} to {_show(self.high[0])}"
        words = [f"{'at least' if self.low[1] else 'more than'} {_show(self.low[0])}"] if self.low else []
        words += [f"{'at most' if self.high[1] else 'less than'} {_show(self.high[0])}"] if self.high else []
        return "values of " + " and ".join(words)

    def advice(self) -> str:
        if self.low and self.high and self.low[1] and self.high[1]:
            return f"write a range within [{_show(self.low[0])}, {_show(self.high[0])}]"
        return f"write a range of {self.text()}"


# ------------------------------------------------------------------ the schema's bounds of a key


def _constraints(tp: Any) -> list[Any]:
    """The annotated constraints (``Ge``, ``Le``, ...) a type carries, through ``Annotated``,
    ``FieldInfo`` and unions (``Annotated[float, Field(ge=0)] | None``)."""
    if typing.get_origin(tp) is Annotated:
        head, *extras = typing.get_args(tp)
        found = [m for e in extras for m in (e.metadata if isinstance(e, FieldInfo) else [e])]
        return found + _constraints(head)
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return [c for member in typing.get_args(tp) for c in _constraints(member)]
    return []


def _item_type(tp: Any) -> Any:
    """The type of the items of a mapping or list type (None when ``tp`` holds neither)."""
    if typing.get_origin(tp) in (dict, list):
        return typing.get_args(tp)[-1] if typing.get_origin(tp) is dict else typing.get_args(tp)[0]
    for member in typing.get_args(tp):
        if (found := _item_type(member)) is not None:
            return found
    return None


def field_bounds(scenario: Scenario, path: KeyPath) -> Allowed:
    """The bounds the schema puts on the number at ``path`` of ``scenario``: its field's ``ge``,
    ``gt``, ``le`` and ``lt`` (the model holding it is the one the scenario has there, e.g. the
    triangular of a duration)."""
    node: Any = scenario
    tp: Any = None
    constraints: list[Any] = []
    for part in path:
        if isinstance(node, BaseModel):
            fields = type(node).model_fields.items()
            name, info = next(((n, f) for n, f in fields if part in (n, f.alias)), (None, None))
            if name is None or info is None:
                return Allowed(None, None)
            tp, constraints, node = info.annotation, list(info.metadata), getattr(node, name)
        else:
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                return Allowed(None, None)
            tp, constraints = _item_type(tp), []
    low: Bound | None = None
    high: Bound | None = None
    for c in [*constraints, *_constraints(tp)]:
        for attr, inclusive, is_low in (
            ("ge", True, True),
            ("gt", False, True),
            ("le", True, False),
            ("lt", False, False),
        ):
            limit = getattr(c, attr, None)
            if limit is None or not isinstance(c, (annotated_types.BaseMetadata, annotated_types.Interval)):
                continue
            if is_low and (low is None or limit > low[0] or (limit == low[0] and not inclusive)):
                low = (float(limit), inclusive)
            if not is_low and (high is None or limit < high[0] or (limit == high[0] and not inclusive)):
                high = (float(limit), inclusive)
    return Allowed(low, high)


# --------------------------------------------------------------------- the scenario at a value


@dataclass
class Ranges:
    """The base scenario (``set`` applied) against which ranges are checked, and the file's places."""

    scenario: Scenario
    data: dict
    lines: LineMap
    shown: str
    at: Places

    def refusal(self, overrides: Mapping[str, Any]) -> ScenarioError | None:
        """Why the scenario refuses the base with ``overrides``; None when it takes it."""
        lines = dict(self.lines)
        try:
            validate_scenario(
                apply_overrides(self.data, dict(overrides), lines, origin=SENSITIVITY), lines, self.shown
            )
        except ScenarioError as exc:
            return exc
        return None

    def allowed(self, item: Input, others: Mapping[str, Any]) -> Allowed | None:
        """The values ``item`` may take with the ``others`` at their values: the schema's bounds,
        narrowed by bisection where a model's rule refuses more; None when it may take none."""

        def valid(x: float) -> bool:
            whole = item.whole and float(x).is_integer()
            return self.refusal({**others, item.key: int(x) if whole else x}) is None

        bounds = field_bounds(self.scenario, parse_key_path(item.key))
        middle = (item.low + item.high) / 2
        start = next(
            (x for x in (item.base_value, item.low, item.high, middle) if x in bounds and valid(x)), None
        )
        if start is None:
            return None
        return Allowed(
            self._edge(valid, start, bounds.low, -1.0, item.whole),
            self._edge(valid, start, bounds.high, 1.0, item.whole),
        )

    @staticmethod
    def _edge(
        valid: Callable[[float], bool], start: float, bound: Bound | None, way: float, whole: bool
    ) -> Bound | None:
        """The limit on one side (``way`` -1: below ``start``, 1: above) of the values taken."""
        if bound is not None and bound[1] and valid(bound[0]):
            return bound
        if bound is not None:
            bad = bound[0]
        else:  # no bound in the schema: far enough, a model's rule may still set one
            bad = start + way * max(1e6, 1e6 * abs(start))
            if valid(bad):
                return None
        if whole:
            first = math.floor(start) if way > 0 else math.ceil(start)
            last = math.ceil(bad) if way > 0 else math.floor(bad)
            while abs(last - first) > 1:
                step = (first + last) // 2
                first, last = (step, last) if valid(step) else (first, step)
            return (float(first), True)
        good = float(start)
        while abs(bad - good) > 1e-9 * max(1.0, abs(good)):
            mid = (good + bad) / 2
            good, bad = (mid, bad) if valid(mid) else (good, mid)
        limit = _round_between(good, bad)
        return (limit, valid(limit))


def _round_between(good: float, bad: float) -> float:
    """The number of fewest significant digits between ``good`` and ``bad`` (0 when it is)."""
    lo, hi = sorted((good, bad))
    slack = 1e-9 * max(1.0, abs(good))
    if lo - slack <= 0 <= hi + slack:
        return 0.0
    for digits in range(1, 13):
        for x in (good, bad):
            rounded = float(f"{x:.{digits}g}")
            if lo - slack <= rounded <= hi + slack:
                return rounded
    return good


# ------------------------------------------------------------------------------- the checks


def _part(key: str) -> KeyPath:
    """The part of the scenario a key path writes: a stage, segment, pool or stream (its first two
    keys), or a top-level section."""
    path = parse_key_path(key)
    return (
        path[:2]
        if path[0] in ("stages", "segments", "resources", "streams", "materials", "companies")
        else path[:1]
    )


def check_ranges(ranges: Ranges, inputs: list[Input]) -> None:
    """Every range's ends, then the corners of the ranges that write one part of the scenario, are
    values the scenario takes; else a ``ScenarioError`` at the line of the range to blame."""
    for item in inputs:
        for end in (item.low, item.high):
            if (exc := ranges.refusal({item.key: end})) is not None:
                explain_refusal(ranges, inputs, {item.key: end}, exc)
    groups: dict[KeyPath, list[Input]] = {}
    for item in inputs:
        groups.setdefault(_part(item.key), []).append(item)
    for group in groups.values():
        if len(group) < 2 or 2 ** len(group) > MAX_CORNERS:
            continue
        for corner in itertools.product(*[(i.low, i.high) for i in group]):
            overrides = {i.key: v for i, v in zip(group, corner)}
            if (exc := ranges.refusal(overrides)) is not None:
                explain_refusal(ranges, inputs, overrides, exc, "at the corner of the ranges")


def explain_refusal(
    ranges: Ranges, inputs: list[Input], overrides: Mapping[str, Any], exc: ScenarioError, where: str = ""
) -> NoReturn:
    """Raise the refusal of the scenario with ``overrides`` at the sensitivity file's line of the
    range to blame, with the values it may take. The inputs that make the refusal are narrowed to
    a smallest set (each reset to its base value while the scenario still refuses); of those, the
    one whose key path holds or is held by the refused key (else the last) is blamed, the others
    are named as the values it was refused with."""
    by_key = {i.key: i for i in inputs}
    culprits = dict(overrides)
    for key in list(culprits)[::-1]:
        if len(culprits) > 1:
            fewer = {k: v for k, v in culprits.items() if k != key}
            if ranges.refusal(fewer) is not None:
                culprits = fewer
    refused = exc.path or ()
    related = [k for k in culprits if parse_key_path(k)[: len(refused)] == refused[: len(parse_key_path(k))]]
    blamed = by_key[(related or list(culprits))[-1]]
    value = culprits.pop(blamed.key)
    final = ranges.refusal({**culprits, blamed.key: value}) or exc
    found = f"found [{_show(blamed.low)}, {_show(blamed.high)}]"
    others = " with " + ", ".join(f"{k}={_show(v)}" for k, v in culprits.items()) if culprits else ""
    narrow = f", or narrow the range of {', '.join(culprits)}" if culprits else ""
    bounds = field_bounds(ranges.scenario, parse_key_path(blamed.key))
    if value not in bounds:
        reason = f"{_show(value)} is outside the schema's bounds for this key"
    else:
        said = (
            f"{format_path(final.path)}: " if final.path and final.path != parse_key_path(blamed.key) else ""
        )
        reason = f"{where + ', ' if where else ''}at {_show(value)}, {said}{final.problem or final}"
    allowed = ranges.allowed(blamed, culprits)
    if allowed is None:
        problem = f"{found}, but the scenario takes no value here{others} ({reason}){narrow}"
    else:
        takes = f"the scenario takes only {allowed.text()} here{others}"
        problem = f"{found}, but {takes} ({reason}); {allowed.advice()}{narrow}"
    ranges.at.fail(("inputs", blamed.key, "range"), problem)
