"""Measures in force from a date: a scenario's ``measures:`` list, read and composed at load time.

A dated measure is an overlay file (or inline ``changes``) with the date ``from`` which it applies
and, optionally, the cases it applies to (``where``, a condition on their attributes, e.g. a
region). A case follows the rules in force on its application date: the scenario itself with the
*own* content of every measure whose date has come and whose ``where`` holds for the case, merged
in the list's order, as ``extends: [base, m1, m2]`` merges them. A case keeps those rules until it
is connected, whatever comes into force meanwhile.

Every combination of measures a case can meet is composed and validated here, when the scenario is
loaded, so a measure that does not fit its base fails at once with its file and line, not in the
middle of a run. What a dated measure may change:

- ``stages`` and the segments' ``flow`` and ``targets``: per case, by the rules above;
- attributes (segments' and streams') and stream routing: only a measure without ``where``,
  because a case's attributes decide its scope (it would be circular); not when applications
  arrive (a rate, given times, a gap: the run's arrival processes are the scenario's own);
- ``resources`` (a pool's ``capacity`` and ``hours_per_day``) and ``materials`` (all but
  ``initial``): only a measure without ``where``; staff and stock are shared, so they change at the
  date for every case, cases in progress included (new members take waiting cases at once; members
  who leave finish their task first). A dated measure cannot add or remove a pool or an item,
  change a pool's owner or dispatch rule, or make it unlimited.

A measure may change a number relatively (``capacity: +2``, ``sim.scenario.relative``): the change
applies to the value before it, and measures that change the same value compose in the list's
order, which must then be their date order (``check_relative_order``).
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import combinations
from pathlib import Path
from typing import Any

from sim.scenario.errors import KeyPath, LineMap, fail_at, format_path
from sim.scenario.files import display_path, missing_file, read_yaml, unshared
from sim.scenario.overlays import merge_patch
from sim.scenario.relative import is_relative

MAX_COMBINATIONS = 256
"""The most combinations of measures one scenario may compose (each is validated at load)."""

_IGNORED = {"name", "title", "title_zh", "description", "assumptions"}
_ANY_CASE = {"stages", "segments"}  # with a `where`: stages, flows and targets only
_WITHOUT_WHERE = {"streams", "resources", "materials"}


def read_measures(data: dict, lines: LineMap, shown: str) -> None:
    """Replace each ``measures[i].file`` by the file's own content (``changes``), in place; a file
    is read relative to the file that names it. The measures' ``assumptions`` join the
    scenario's, as an overlay's do."""
    for i, item in enumerate(data.get("measures") or []):
        if isinstance(item, dict) and "file" in item:
            _read_file(item, i, lines, shown)
        changes = item.get("changes") if isinstance(item, dict) else None
        if isinstance(changes, dict) and isinstance(changes.get("assumptions"), list):
            known = data.setdefault("assumptions", [])
            if isinstance(known, list):
                known.extend(a for a in changes["assumptions"] if a not in known)


def _read_file(item: dict, i: int, lines: LineMap, shown: str) -> None:
    """The own content of the measure file ``item`` names, and its lines."""
    ref = item["file"]
    where = lines.get(("measures", i, "file"), (shown, None))
    if not isinstance(ref, str) or not ref:
        fail_at(where, ("measures", i, "file"), f"found {ref!r}, expected the path of a measure file")
    path = (Path(where[0]).parent / ref).resolve()
    if not path.is_file():
        fail_at(where, ("measures", i, "file"), missing_file(ref, path, "measure file"))
    own, own_lines = read_yaml(path, display_path(path), kind="a measure file")
    own.pop("extends", None)
    item["changes"] = {k: v for k, v in own.items() if not (isinstance(k, str) and k.startswith("x-"))}
    lines.update({("measures", i, "changes", *k): v for k, v in own_lines.items() if k[:1] != ("extends",)})


def check_changes(measures: list, lines: LineMap, shown: str) -> None:
    """Each measure changes only what a dated measure may change (see the module's docstring)."""
    for i, m in enumerate(measures):
        for key in m.changes:
            at = lines.get(("measures", i, "changes", key), lines.get(("measures", i), (shown, None)))
            path = ("measures", i, "changes", key)
            if key in _IGNORED or key in _ANY_CASE:
                continue
            if key in _WITHOUT_WHERE and m.where is None:
                continue
            if key in _WITHOUT_WHERE:
                fail_at(
                    at,
                    path,
                    f"a measure with `where` cannot change `{key}` (shared by every case, or "
                    "deciding its scope); drop `where` or the change",
                )
            fail_at(at, path, f"a dated measure cannot change `{key}`: it belongs to the scenario itself")
        _check_arrival_times(m.changes, i, lines, shown)
        if m.where is not None:
            for name, segment in (m.changes.get("segments") or {}).items():
                for key in segment or {}:
                    if key not in ("flow", "targets"):
                        at = lines.get(("measures", i, "changes", "segments", name, key), (shown, None))
                        fail_at(
                            at,
                            ("measures", i, "changes", "segments", name, key),
                            "a measure with `where` changes only the flow and the targets of a segment "
                            "(a case's attributes decide its scope); drop `where` or the change",
                        )


def _check_arrival_times(changes: dict, i: int, lines: LineMap, shown: str) -> None:
    """A measure does not change when applications arrive (a rate, given times, a gap, a
    segment's stream): a run's arrival processes are the scenario's own, so such a change would
    be ignored. It may change a stream's routing (``arrivals.when``)."""
    for kind in ("segments", "streams"):
        for name, item in (changes.get(kind) or {}).items():
            for key in (item or {}).get("arrivals") or {}:
                if kind == "segments" and key == "when":
                    continue
                path = ("measures", i, "changes", kind, name, "arrivals", key)
                fail_at(
                    lines.get(path, lines.get(("measures", i), (shown, None))),
                    path,
                    "a dated measure cannot change when applications arrive (the run's arrivals are "
                    "the scenario's own); vary the rate over the year with `seasonality`, or run the "
                    "periods as scenarios of their own",
                )


def check_relative_order(measures: list, lines: LineMap, shown: str) -> None:
    """Measures apply in the list's order; where one changes a value by a relative change
    (``+2``, ``"*1.5"``) that another also changes, the list must be in their date order, so that
    the changes compose as they come into force (``*2`` then ``+1`` is not ``+1`` then ``*2``)."""
    leaves = [dict(_leaves(m.changes, ())) for m in measures]
    for j, later_listed in enumerate(measures):
        for i in range(j):
            if measures[i].from_ <= later_listed.from_:
                continue
            both = sorted(
                (
                    k
                    for k in leaves[i].keys() & leaves[j].keys()
                    if is_relative(leaves[i][k]) or is_relative(leaves[j][k])
                ),
                key=str,
            )
            if both:
                path = ("measures", j, "changes", *both[0])
                fail_at(
                    lines.get(path) or lines.get(("measures", j), (shown, None)),
                    path,
                    f"measures {i} and {j} both change {format_path(both[0])}, by a relative change, "
                    f"and apply in the list's order, but {i} comes into force later "
                    f"({measures[i].from_} after {later_listed.from_}): list the measures in date order",
                )


def _leaves(value: Any, path: KeyPath) -> Iterator[tuple[KeyPath, Any]]:
    """The values of a patch by key path, mappings looked through (a list is one value)."""
    if isinstance(value, dict) and "dist" not in value and path[-1:] != ("when",):
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    else:
        yield path, value


def combinations_of(measures: list) -> list[tuple[int, ...]]:
    """Every set of measures (indices, in list order) some case can be under: at each date, the
    measures without ``where`` whose date has come, with any subset of those with ``where``."""
    keys: set[tuple[int, ...]] = set()
    dates = sorted({m.from_ for m in measures})
    for day in [None, *dates]:
        due = [i for i, m in enumerate(measures) if day is not None and m.from_ <= day]
        plain = [i for i in due if measures[i].where is None]
        scoped = [i for i in due if measures[i].where is not None]
        for k in range(len(scoped) + 1):
            for chosen in combinations(scoped, k):
                keys.add(tuple(sorted((*plain, *chosen))))
                if len(keys) > MAX_COMBINATIONS:
                    raise ValueError(
                        f"more than {MAX_COMBINATIONS} combinations of dated measures: give fewer "
                        "measures a `where`, or split the scenario"
                    )
    return sorted(keys, key=lambda k: (len(k), k))


def compose(
    base: dict, base_lines: LineMap, measures: list, key: tuple[int, ...], lines: LineMap
) -> tuple[dict, LineMap]:
    """The data of the base scenario with the changes of the measures ``key``, and its line map
    (a changed key's line is in the measure's file)."""
    data, merged_lines = unshared(base), dict(base_lines)
    for i in key:
        patch = {k: v for k, v in measures[i].changes.items() if k not in _IGNORED}
        n = ("measures", i, "changes")
        patch_lines = {k[len(n) :]: v for k, v in lines.items() if k[: len(n)] == n}
        data = merge_patch(data, patch, merged_lines, patch_lines)
    return data, merged_lines


def plain_data(data: dict) -> dict[str, Any]:
    """The scenario's data without its measures: the rules before any of them."""
    return {k: v for k, v in data.items() if k != "measures"}


def check_shared(
    base: Any, variant: Any, measures: list, key: tuple[int, ...], lines: LineMap, shown: str
) -> None:
    """The pools and items of a composition are the base's, changed only where a dated measure may
    change them (see the module's docstring)."""

    def blame(kind: str, name: str, field: str | None = None) -> None:
        i = next((i for i in reversed(key) if name in (measures[i].changes.get(kind) or {})), key[-1])
        path: KeyPath = ("measures", i, "changes", kind, name, *([field] if field else []))
        at = lines.get(path) or lines.get(path[:-1]) or lines.get(("measures", i), (shown, None))
        what = f"`{field}` of {name}" if field else name
        fail_at(at, path, f"a dated measure cannot change {what}: declare it in the scenario itself")

    for kind, fields in (("resources", ("owner", "dispatch")), ("materials", ("initial",))):
        before, after = getattr(base, kind), getattr(variant, kind)
        for name in sorted(set(before) ^ set(after)):
            blame(kind, name)
        for name in before:
            for field in fields:
                if getattr(before[name], field) != getattr(after[name], field):
                    blame(kind, name, field)
            if kind == "resources" and (before[name].capacity is None) != (after[name].capacity is None):
                blame(kind, name, "capacity")
