"""Scenario and sweep files: YAML read with ``yaml.safe_load`` only, and the line of every key.

Errors must point at the line that wrote a value, but ``yaml.safe_load`` returns plain data
without lines. So a file is also composed into YAML nodes, whose marks give the line of every key
and list item by key path (the file's line map, see ``sim.scenario.errors``). Composing is also
where a duplicate key shows, which ``safe_load`` would silently let the last one win.

Before any of that, the file's parser events are counted (``bounded``): YAML aliases can make a
few hundred bytes stand for billions of values, and deep nesting exhausts Python's recursion, so
a file whose values, aliases expanded, exceed ``MAX_VALUES`` or whose nesting exceeds
``MAX_DEPTH`` is refused at the line where the limit is reached, in time and memory proportional
to the file's own size.

Files are shown to people relative to the working folder when inside it (``display_path``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml

from sim.scenario.errors import KeyPath, LineMap, ScenarioError, fail_at, suggest
from sim.scenario.relative import BARE_PLUS

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # what YAML refuses, but tab, LF and CR
MAX_VALUES = 200_000  # keys, values and list items, aliases expanded (the city scenarios: ~3,000)
MAX_DEPTH = 64  # nested mappings and lists (the scenarios: 8)


def bounded(text: str, shown: str) -> None:
    """Refuse YAML whose values, aliases expanded, exceed ``MAX_VALUES``, or whose nesting exceeds
    ``MAX_DEPTH``: one pass over the parser's events (which neither expands aliases nor recurses),
    counting each anchored node's size once."""
    sizes: dict[str, int] = {}  # anchor -> values it stands for
    open_: list[list] = [[None, 0]]  # per open collection: its anchor and its values so far
    total = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            line = event.start_mark.line + 1 if event.start_mark else None
            if isinstance(event, yaml.CollectionStartEvent):
                open_.append([event.anchor, 1])
                if len(open_) - 1 > MAX_DEPTH:
                    fail_at((shown, line), (), f"nested deeper than {MAX_DEPTH} levels: not a scenario")
                continue
            if isinstance(event, yaml.CollectionEndEvent):
                anchor, size = open_.pop()
            elif isinstance(event, yaml.ScalarEvent):
                anchor, size = event.anchor, 1
            elif isinstance(event, yaml.AliasEvent):
                anchor, size = None, sizes.get(event.anchor or "", 1)
            else:
                continue
            if anchor is not None:
                sizes[anchor] = size
            open_[-1][1] += size
            total += size if isinstance(event, yaml.AliasEvent) else 1
            if total > MAX_VALUES:
                fail_at(
                    (shown, line),
                    (),
                    f"more than {MAX_VALUES:,} values once its aliases are expanded: "
                    "not a scenario (an alias of an alias of ...?)",
                )
    except yaml.YAMLError:
        return  # malformed: the reader says where


def display_path(path: str | os.PathLike) -> str:
    """A file as messages show it: relative to the working folder when inside it, else absolute."""
    rel = os.path.relpath(path)
    return Path(path).as_posix() if rel.startswith("..") else rel


# The files this tool reads, by what only they hold at their top level, and the verb that reads
# each: a file given to the wrong verb is named for what it is.
KINDS: dict[str, tuple[frozenset[str], str]] = {
    "a scenario": (
        frozenset({"segments", "stages", "streams", "resources", "extends", "companies", "measures"}),
        "run",
    ),
    "a sweep file": (frozenset({"grid", "points"}), "sweep"),
    "a sensitivity file": (frozenset({"inputs", "kpis", "trajectories", "method"}), "sensitivity"),
    "a staffing file": (frozenset({"pools", "targets", "confidence"}), "optimise"),
    "a calibration file": (frozenset({"figures", "unpublished"}), "check --calibration"),
}
_FAMILY = {"a measure file": "a scenario"}  # a measure file is an overlay of a scenario


def check_kind(data: dict, kind: str, shown: str) -> None:
    """Refuse a file of another kind than ``kind`` (a sweep file given to ``run``, ...): one with
    none of the keys only ``kind`` has and some only another kind has, with the verb to use."""
    own = KINDS.get(_FAMILY.get(kind, kind))
    if own is None or own[0] & data.keys():
        return
    for other, (keys, verb) in KINDS.items():
        if found := sorted(str(k) for k in keys & data.keys()):
            fail_at(
                (shown, None),
                (),
                f"this is {other} (it has `{found[0]}`), not {kind}: use `python run_sim.py {verb} {shown}`",
            )


def missing_file(ref: str, resolved: Path, what: str) -> str:
    """Why the file ``ref`` names is not there: the path it resolved to (relative to the folder of
    the file that names it), and the closest YAML file in that folder."""
    folder = resolved.parent
    near = sorted(p.name for p in folder.glob("*.y*ml")) if folder.is_dir() else []
    where = f"folder {display_path(folder)}/" if folder.is_dir() else f"no folder {display_path(folder)}"
    return (
        f"{what} '{ref}' resolves to {display_path(resolved)}, which does not exist"
        f"{suggest(resolved.name, near)}; a path is relative to the folder of the file that "
        f"names it ({where})"
    )


def read_yaml(path: Path, shown: str, kind: str = "a scenario") -> tuple[dict, LineMap]:
    """The mapping a YAML file holds and its line map; ``kind`` names the file in errors."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ScenarioError(f"{shown}: no such file") from None
    except OSError as exc:
        raise ScenarioError(f"{shown}: cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        fail_at(
            (shown, raw[: exc.start].count(b"\n") + 1),
            (),
            f"byte 0x{raw[exc.start]:02x} is not UTF-8 text; save the file as UTF-8 (Chinese text included)",
        )
    control = _CONTROL.search(text)
    if control is not None:  # YAML would name only its offset
        fail_at(
            (shown, text.count("\n", 0, control.start()) + 1),
            (),
            f"a control character (U+{ord(control.group()):04X}) in the text; remove it "
            "(inside double quotes, write \\t, \\n or \\u.... escapes instead)",
        )
    bounded(text, shown)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or exc.context
        if exc.problem and exc.context and exc.context_mark and exc.context_mark.line + 1 != line:
            # e.g. an unclosed bracket: the parser fails on a later line than the one to fix
            problem += f" ({exc.context} that starts on line {exc.context_mark.line + 1})"
        fail_at((shown, line), (), f"malformed YAML: {problem}")
    except yaml.YAMLError as exc:
        fail_at((shown, None), (), f"malformed YAML: {exc}")
    except ValueError as exc:  # e.g. a date that does not exist, 2021-13-01
        if (bad := _bad_date(node, ())) is not None:
            line, where, text = bad
            fail_at(
                (shown, line), where, f"found {text}, a date that does not exist ({exc}); write YYYY-MM-DD"
            )
        fail_at((shown, None), (), f"malformed YAML value: {exc}")
    data = unshared(data)
    if _FAMILY.get(kind, kind) in ("a scenario", "a sweep file"):  # where values are scenario values
        _keep_bare_plus(node, data)
    lines: LineMap = {}
    if node is not None:
        _collect_lines(node, (), shown, lines)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        fail_at((shown, 1), (), f"{kind} is a mapping of keys, found {type(data).__name__}")
    check_kind(data, kind, shown)
    return data, lines


def unshared(value: Any) -> Any:
    """A copy in which no two places share a mapping or list. YAML aliases (``*lv_flow``) load as
    one shared object, which ``copy.deepcopy`` keeps shared: an override of one segment's flow
    would change every segment that aliases it."""
    if isinstance(value, dict):
        return {k: unshared(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unshared(v) for v in value]
    return value


def _keep_bare_plus(node: yaml.Node | None, data: Any) -> None:
    """Put back, as text, every bare ``+2`` that YAML read as the number 2: in a scenario (and the
    values of a sweep) it is a relative change (``sim.scenario.relative``), not the value 2."""
    if isinstance(node, yaml.MappingNode) and isinstance(data, dict):
        for key_node, value_node in node.value:
            key = _key_of(key_node)
            if key in data:
                if _is_bare_plus(value_node):
                    data[key] = value_node.value
                else:
                    _keep_bare_plus(value_node, data[key])
    elif isinstance(node, yaml.SequenceNode) and isinstance(data, list) and len(node.value) == len(data):
        for i, item in enumerate(node.value):
            if _is_bare_plus(item):
                data[i] = item.value
            else:
                _keep_bare_plus(item, data[i])


def _is_bare_plus(node: yaml.Node) -> bool:
    return (
        isinstance(node, yaml.ScalarNode)
        and node.style is None
        and node.tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
        and BARE_PLUS.match(node.value) is not None
    )


def _collect_lines(node: yaml.Node, path: KeyPath, shown: str, out: LineMap) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set = set()
        for key_node, value_node in node.value:
            key = _key_of(key_node)
            if key in seen:
                fail_at((shown, key_node.start_mark.line + 1), (*path, key), "duplicate key")
            seen.add(key)
            out[(*path, key)] = (shown, key_node.start_mark.line + 1)
            _collect_lines(value_node, (*path, key), shown, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out[(*path, i)] = (shown, item.start_mark.line + 1)
            _collect_lines(item, (*path, i), shown, out)


def _bad_date(node: yaml.Node | None, path: KeyPath) -> tuple[int, KeyPath, str] | None:
    """The line, key path and text of the first value that reads as a date but is none."""
    if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:timestamp":
        try:
            yaml.constructor.SafeConstructor().construct_yaml_timestamp(node)
        except ValueError:
            return node.start_mark.line + 1, path, node.value
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if (found := _bad_date(value_node, (*path, key_node.value))) is not None:
                return found
    if isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            if (found := _bad_date(item, (*path, i))) is not None:
                return found
    return None


def _key_of(node: yaml.Node) -> Any:
    """A mapping key as ``safe_load`` reads it: ``1:`` is the number 1, ``"1":`` the text."""
    if isinstance(node, yaml.ScalarNode) and node.tag != "tag:yaml.org,2002:str":
        return yaml.constructor.SafeConstructor().construct_object(node, deep=True)
    return node.value
