"""Errors for people: bad input stops with one line that names the file, the line, the key path,
what was found and what was expected, with "did you mean 'capacity'?" where a close name exists.

A ``Location`` is a file as the user sees it and a line. A line map (``LineMap``) gives the
location of every key and list item by key path; it is built when a file is read
(``sim.scenario.files``) and follows the values through overlays and overrides, so that a problem
found only after merging still points at the line that wrote the value.

``validated`` turns pydantic's validation errors into such a line. Pydantic locates an error by
its own path through the schema, which holds union tags (``triangular``, ``constrained-str``)
that are not keys of the data; ``explain`` keeps the parts that are keys or indices of the data,
lists the keys the schema accepts where one is unknown, and says what was expected: a field's
``description`` when the schema gives one, else pydantic's own words.
"""

from __future__ import annotations

import difflib
import typing
from collections.abc import Iterable, Mapping
from typing import Annotated, Any, NoReturn, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from sim.scenario.schema import step_kind

KeyPath = tuple[str | int, ...]  # ('segments', 'lv_smb', 'flow', 2)
Location = tuple[str, int | None]  # (file as shown to the user, line)
LineMap = dict[KeyPath, Location]
Model = TypeVar("Model", bound=BaseModel)


class ScenarioError(ValueError):
    """Bad scenario input; the message is one line for people. An error raised by ``fail_at``
    also keeps its key path and its problem apart (``path``, ``problem``), for a caller that places
    it elsewhere (a sensitivity file's range that made the value)."""

    path: KeyPath | None = None
    problem: str | None = None


def format_path(path: KeyPath) -> str:
    """A key path as written in files and ``--set``: ``segments.lv_smb.flow[2]``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def fail_at(where: Location | None, path: KeyPath, problem: str) -> NoReturn:
    """Raise ``ScenarioError("FILE:LINE: KEY.PATH: problem")``."""
    file, line = where if where else ("<scenario>", None)
    head = f"{file}:{line}" if line else file
    error = ScenarioError(f"{head}: {format_path(path)}: {problem}" if path else f"{head}: {problem}")
    error.path, error.problem = path, problem
    raise error


def locate(path: KeyPath, lines: LineMap, default_file: str) -> Location:
    """Where ``path`` was written: its own line, else its closest ancestor's, else the file."""
    for n in range(len(path), 0, -1):
        if path[:n] in lines:
            return lines[path[:n]]
    return (default_file, None)


def suggest(word: str, options: Iterable[object]) -> str:
    """`` (did you mean 'NAME'?)`` for the option closest to ``word``, or nothing. Case does not
    count for closeness (``kVA`` is ``kva`` mistyped), but an option spelt exactly as ``word`` is
    never suggested for it."""
    names = [str(o) for o in options if str(o) != word]
    by_lower = {name.lower(): name for name in reversed(names)}
    close = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=0.6)
    return f" (did you mean '{by_lower[close[0]]}'?)" if close else ""


def validated(model: type[Model], data: Mapping, lines: LineMap, default_file: str) -> Model:
    """``data`` validated as ``model``, or a ``ScenarioError`` on the first problem, at its line."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
    # a misspelt key also makes the right one missing: report the misspelling
    first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    path, problem = explain(first, data, model)
    # the members of a union each report the same value: count places, not errors
    n = len({_data_path(e["loc"], data, e["type"]) for e in errors} - {path})
    more = f" (and {n} more problem{'s' if n > 1 else ''})" if n else ""
    fail_at(locate(path, lines, default_file), path, problem + more)


def explain(error: ErrorDetails, data: Any, model: type[BaseModel]) -> tuple[KeyPath, str]:
    """The key path of a pydantic error in ``data`` and the problem in words."""
    kind = error["type"]
    path = _data_path(error["loc"], data, kind)
    found = error.get("input")
    if kind == "extra_forbidden":
        for holder in models_in(type_at(path[:-1], model)):
            if instead := getattr(holder, "retired", {}).get(path[-1]):
                return path, f"'{path[-1]}' is no longer part of the format: {instead}"
            if instead := getattr(holder, "elsewhere", {}).get(path[-1]):
                return path, f"'{path[-1]}' does not belong here: {instead}"
        allowed = allowed_keys(path, data, model)
        expected = f"; expected one of {', '.join(allowed)}" if allowed else ""
        return path, f"unknown key '{path[-1]}'{suggest(str(path[-1]), allowed)}{expected}"
    if kind == "missing":
        misspelt = _misspelt_name(path, data)
        if misspelt is not None:
            return misspelt
        return path, f"missing required key '{path[-1]}'" if path else "missing required key"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        expected = error.get("ctx", {}).get("expected_tags", "")
        tag = found.get("dist") if isinstance(found, dict) else found
        # union_tag_not_found carries no expected tags: take them from the schema
        names = _dist_names(models_in(type_at(path, model))) or [
            t.strip(" '") for t in str(expected).split(",")
        ]
        if kind == "union_tag_not_found":
            return path, f"a distribution needs 'dist: NAME', expected one of {', '.join(names)}"
        return (
            path,
            f"unknown distribution '{tag}'{suggest(str(tag), names)}; expected one of {', '.join(names)}",
        )
    if kind == "bool_type":  # strict: 'yes', 1 or "off" in quotes could mean either
        return path, f"found {found!r}; write true or false"
    message = error["msg"].removeprefix("Value error, ")
    number = isinstance(found, (int, float)) and not isinstance(found, bool)
    if number and kind.endswith("_type") and _dist_names(models_in(type_at(path, model))):
        return path, (  # a number where a distribution goes
            f"found {found!r}; a distribution is a mapping: write {{dist: fixed, value: {found!r}}} "
            "for a fixed value, or e.g. {dist: triangular, min: 1, mode: 2, max: 4}"
        )
    if kind in ("value_error", "assertion_error"):
        return path, message
    if error["loc"][-1:] == ("[key]",):  # a key of a mapping, not its value
        key_kind = _description(_key_type(type_at(path[:-1], model))) or "text"
        return path, f"found the key {found!r}; expected {key_kind}"
    if described := _described_at(path, model):
        return path, f"found {found!r}; expected {described}"
    if kind == "model_type":  # pydantic would name the model's class, which means nothing in a file
        return path, f"found {found!r}; expected a mapping"
    text = f"found {found!r}; {message[0].lower() + message[1:]}"
    if number and found < 0 and kind in ("greater_than_equal", "greater_than"):
        text += f'; to take {-found} away from the value a file extends, write "{found}" (in quotes)'
    return path, text


# the named collections of a scenario: a new name there is a new item, so a misspelt name shows
# as an item that lacks its required keys
ITEMS = {"resources": "pool", "segments": "segment", "stages": "stage", "materials": "material"}


def _misspelt_name(path: KeyPath, data: Any) -> tuple[KeyPath, str] | None:
    """``resources.inspecter`` lacking ``hours_per_day``: most likely a misspelt pool, when a pool
    of a close name exists. None otherwise."""
    if len(path) != 3 or path[0] not in ITEMS or not isinstance(data, Mapping):
        return None
    items = data.get(path[0])
    if not isinstance(items, Mapping):
        return None
    hint = suggest(str(path[1]), [str(n) for n in items if n != path[1]])
    if not hint:
        return None
    what = ITEMS[str(path[0])]
    return path[:2], f"no {what} '{path[1]}'{hint}; a new {what} needs '{path[2]}' and the other keys of one"


def allowed_keys(path: KeyPath, data: Any, model: type[BaseModel]) -> list[str]:
    """The keys the schema accepts in the mapping that holds ``path[-1]``."""
    models = models_in(type_at(path[:-1], model))
    node = data
    for part in path[:-1]:
        node = node[part]
    if isinstance(node, dict) and isinstance(node.get("dist"), str):
        # a distribution: the keys of the one its ``dist`` names, not of every distribution
        models = [m for m in models if node["dist"] in _dist_names([m])] or models
    keys = {field.alias or name for m in models for name, field in m.model_fields.items()}
    return sorted(keys)


# ----------------------------------------------------------------- pydantic's view of the data


def _data_path(loc: tuple[int | str, ...], data: Any, kind: str) -> KeyPath:
    """Pydantic's error location with union tags removed: only the parts that are keys or indices
    of the data stay, and, for a ``missing`` error, the absent key at the end."""
    path: list[str | int] = []
    node = data
    tag = None
    for i, part in enumerate(loc):
        in_data = (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        )
        if tag is not None and part == tag:
            tag = None  # the union member pydantic tried, not a key (a key of that name may follow)
        elif in_data:
            path.append(part)
            node = node[part]
            tag = _union_tag(node, tuple(path))
        elif kind == "missing" and i == len(loc) - 1:
            path.append(part)
    return tuple(path)


def _union_tag(node: Any, path: KeyPath) -> str | None:
    """The tag pydantic puts in an error location after a value of a tagged union that may also
    be a key of that value: the ``dist`` of a distribution, the kind of a flow step (``name``,
    ``stage``, ``parallel``)."""
    if isinstance(node, dict) and isinstance(node.get("dist"), str):
        return node["dist"]
    in_flow = path[:1] == ("segments",) and len(path) >= 3 and isinstance(path[-1], int)
    if in_flow and (path[-2] == "flow" or path[-3] == "parallel"):
        return step_kind(node)
    return None


def type_at(path: KeyPath, model: type[BaseModel]) -> Any:
    """The type the schema gives the value at ``path`` (None when it cannot tell)."""
    target: Any = model
    for part in path:
        target = _step(target, part)[0]
        if target is None:
            return None
    return target


def _described_at(path: KeyPath, model: type[BaseModel]) -> str | None:
    """What the schema says the value at ``path`` should be (a field's ``description``)."""
    target: Any = model
    description = None
    for part in path:
        target, description = _step(target, part)
        if target is None:
            return None
    return description


def _step(tp: Any, part: str | int) -> tuple[Any, str | None]:
    """The type one key or index below a value of type ``tp``, and its description if any."""
    if typing.get_origin(tp) is Annotated:
        return _step(typing.get_args(tp)[0], part)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        for name, field in tp.model_fields.items():
            if part in (name, field.alias):
                return field.annotation, field.description
        return None, None
    if typing.get_origin(tp) is dict:
        value = typing.get_args(tp)[1]
        return value, _description(value)
    if typing.get_origin(tp) is list:
        item = typing.get_args(tp)[0]
        # a key below a list: one mapping written where a list of them is accepted
        return (item, _description(item)) if isinstance(part, int) else _step(item, part)
    for member in typing.get_args(tp):  # a union: the first member that has the key
        found = _step(member, part)
        if found[0] is not None:
            return found
    return None, None


def _key_type(tp: Any) -> Any:
    """The type of the keys of a mapping type (None when ``tp`` is no mapping)."""
    if typing.get_origin(tp) is dict:
        return typing.get_args(tp)[0]
    for member in typing.get_args(tp):  # Annotated or a union: the mapping inside
        if (found := _key_type(member)) is not None:
            return found
    return None


def _description(tp: Any) -> str | None:
    if typing.get_origin(tp) is Annotated:
        infos = [m for m in typing.get_args(tp)[1:] if isinstance(m, FieldInfo)]
        return next((i.description for i in infos if i.description), None)
    return None


def models_in(tp: Any) -> list[type[BaseModel]]:
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [tp]
    return [model for arg in typing.get_args(tp) for model in models_in(arg)]


def _dist_names(models: list[type[BaseModel]]) -> list[str]:
    """The ``dist`` tags of the distribution models among ``models``, each once (a union that
    holds the distributions twice, such as a stage's effort, names them once)."""
    names = (
        name
        for model in models
        if "dist" in model.model_fields
        for name in typing.get_args(model.model_fields["dist"].annotation)
    )
    return list(dict.fromkeys(names))
