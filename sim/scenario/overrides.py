"""Overrides: ``--set key.path=value`` replaces one value of a scenario before it is validated.

A key path names a value by its keys and list indices, ``segments.hv_single.flow[2]`` or
``stages.plan_reply_hv_single.variants[0].when.any[0].kva.max``. An override may only replace a
key that exists (in the file, or in the schema with its default left in place): a misspelt key
would otherwise add a key that nothing reads, and the run would quietly ignore the change. The
value is YAML, and the schema checks its type like any other value; ``+2``, ``*1.5`` and ``"-1"``
(in YAML quotes: a bare ``-1`` is the number) change the value the key has by that amount (a
relative change, ``sim.scenario.relative``).
Sweeps use the same key paths for their parameters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from sim.scenario.errors import (
    KeyPath,
    LineMap,
    ScenarioError,
    allowed_keys,
    format_path,
    models_in,
    suggest,
    type_at,
)
from sim.scenario.files import bounded, unshared
from sim.scenario.relative import apply_change, is_relative
from sim.scenario.schema import Scenario

_INDEX = re.compile(r"^(?P<key>[^\[\]]*)((?:\[\d+\])*)$")


class OverrideError(ScenarioError):
    """An override that cannot apply: ``key`` as written and the ``problem`` in words."""

    problem: str

    def __init__(self, key: str, problem: str, origin: str = "--set") -> None:
        super().__init__(f"{origin} {key}: {problem}")
        self.key = key
        self.problem = problem


def parse_key_path(text: str) -> KeyPath:
    """``segments.hv_single.flow[2]`` -> ('segments', 'hv_single', 'flow', 2)."""
    parts: list[str | int] = []
    for piece in text.split("."):
        match = _INDEX.match(piece)
        if not piece or not match or not match.group("key"):
            raise OverrideError(text, f"cannot read the key path at '{piece}'")
        parts.append(match.group("key"))
        parts.extend(int(i) for i in re.findall(r"\[(\d+)\]", piece))
    return tuple(parts)


def parse_assignments(items: Iterable[str]) -> dict[str, Any]:
    """``["resources.inspector.capacity=4"]`` as given on the command line -> ``{path: 4}``."""
    pairs = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep:
            raise OverrideError(item, "expected KEY.PATH=VALUE")
        try:
            bounded(raw, "--set")
        except ScenarioError as exc:
            raise OverrideError(item, str(exc).split(": ", 1)[-1]) from None
        if is_relative(raw) and raw.strip()[0] in "+*":  # YAML: the number 2, an alias
            pairs[key.strip()] = raw.strip()
            continue
        try:
            pairs[key.strip()] = yaml.safe_load(raw)
        except (yaml.YAMLError, ValueError):
            raise OverrideError(item, "the value is not valid YAML") from None
    return pairs


def apply_overrides(
    data: dict, overrides: Mapping[str, Any] | list[str], lines: LineMap, origin: str = "--set"
) -> dict:
    """A copy of scenario ``data`` with existing keys replaced. ``overrides`` maps key paths to
    values, or is a list of ``path=yaml_value`` strings as given on the command line. The line
    map now places each replaced key at ``origin`` (who set it, as errors name it)."""
    if not isinstance(overrides, Mapping):
        overrides = parse_assignments(overrides)
    data = unshared(data)
    for text, value in overrides.items():
        path = parse_key_path(text) if isinstance(text, str) else tuple(text)
        _replace(data, path, value, origin)
        n = len(path)
        for key in [k for k in lines if k[:n] == path]:
            del lines[key]
        lines[path] = (origin, None)
    return data


def _replace(data: dict, path: KeyPath, value: Any, origin: str) -> None:
    node: Any = data
    for depth, part in enumerate(path):
        here = format_path(path[:depth]) if depth else "the top level"
        last = depth == len(path) - 1
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        in_dict = isinstance(node, dict) and part in node
        if not (in_list or in_dict):
            known = allowed_keys(path[: depth + 1], data, Scenario) if isinstance(node, dict) else []
            if last and part in known:
                pass  # a key the schema has, left at its default in the file
            elif part in known and models_in(type_at(path[: depth + 1], Scenario)):
                node[part] = {}  # a section the file leaves at its defaults: write the one key
            elif isinstance(node, dict):
                hint = suggest(str(part), list(node) + known)
                problem = f"no key '{part}' at {here}{hint}; {origin} only replaces existing keys"
                raise OverrideError(format_path(path), problem, origin)
            else:
                problem = f"'{part}' does not name an existing item at {here}"
                raise OverrideError(format_path(path), problem, origin)
        if last and is_relative(value):
            if not (in_list or in_dict):
                problem = f"'{value}' is a relative change, but the scenario has no value here to change"
                raise OverrideError(format_path(path), f"{problem}; write the value itself", origin)
            try:
                node[part] = apply_change(value, node[part], path)
            except ValueError as exc:
                raise OverrideError(format_path(path), str(exc), origin) from None
        elif last:
            node[part] = value
        else:
            node = node[part]
