"""Scenario files: the schema, loading with ``extends`` overlays and ``--set`` overrides, and errors
that name the file, the line, the key path, what was found and what was expected.

A scenario is one YAML file read with ``yaml.safe_load``. ``extends: parent.yaml`` makes it an
overlay: the parent (itself possibly an overlay) is loaded first and the child deep-merged onto it
(mappings merge, lists and scalars replace). ``--set key.path=value`` then replaces an existing key
with a YAML value. The merged mapping is validated by the pydantic models below
(``extra="forbid"``) and then cross-checked (every stage, pool, material and attribute a scenario
names exists). The result is an immutable ``Scenario``. The format is documented for users in
``docs/scenario-format.md``.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import typing
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    ValidationError,
    model_validator,
)

from sim.scenario.conditions import attributes_used, check_condition
from sim.scenario.distributions import AttributeDistribution, Bernoulli, Categorical, Constant, Distribution

Owner = Literal["utility", "customer", "government"]
Measure = Literal["elapsed", "utility", "government", "customer", "full_process", "handling"]
MEASURES: tuple[str, ...] = typing.get_args(Measure)
Condition = Annotated[dict[str, Any], AfterValidator(check_condition)]
Probability = Annotated[float, Field(ge=0, le=1)]


class ScenarioError(ValueError):
    """Bad scenario input; the message is one line for people."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _as_list(value):
    return [value] if isinstance(value, str) else value


class Pool(_Model):
    """Staff or offices that a stage holds while it works; ``capacity: null`` means unlimited.

    ``capacity`` counts units (people, crews, offices); each unit works on up to
    ``cases_per_unit`` cases at a time, so the pool has capacity x cases_per_unit slots."""

    capacity: Annotated[int, Field(ge=1)] | None
    cases_per_unit: Annotated[int, Field(ge=1)] = 1
    owner: Owner = "utility"
    label: str | None = None
    label_zh: str | None = None


class MaterialRoute(_Model):
    probability: Probability
    delay: Distribution


class Material(_Model):
    """A stock item (e.g. a distribution kit) with a reorder rule and two other sources: a share of
    cases gets it by cross-unit transfer or by procurement, with their delays, instead of stock."""

    initial: Annotated[int, Field(ge=0)]
    reorder_point: Annotated[int, Field(ge=0)]
    reorder_quantity: Annotated[int, Field(ge=1)]
    lead_time: Distribution
    transfer: MaterialRoute | None = None
    procurement: MaterialRoute | None = None
    label: str | None = None
    label_zh: str | None = None

    @model_validator(mode="after")
    def _shares(self):
        total = sum(r.probability for r in (self.transfer, self.procurement) if r is not None)
        if total > 1:
            raise ValueError(f"transfer and procurement probabilities add up to {total:g}, above 1")
        return self


class MaterialUse(_Model):
    item: str
    quantity: Annotated[int, Field(ge=1)] = 1


class Rework(_Model):
    """After the stage, the case fails with ``probability``; it then goes through ``fix`` (if any)
    and repeats the stage, at most ``max_attempts`` times in all (the last attempt passes)."""

    probability: Probability
    fix: str | None = None
    max_attempts: Annotated[int, Field(ge=1)] = 3


class Variant(_Model):
    """A different way through a stage for cases where ``when`` holds (first match wins)."""

    name: str
    when: Condition
    duration: Distribution | None = None
    pool: str | list[str] | None = None
    label: str | None = None
    label_zh: str | None = None


class Stage(_Model):
    label: str
    label_zh: str | None = None
    owner: Owner
    pool: str | list[str] = Field(default_factory=list)
    duration: Distribution
    calendar: Literal["working", "calendar"] = "working"
    when: Condition | None = None
    variants: list[Variant] = Field(default_factory=list)
    rework: Rework | None = None
    handling: bool = False
    procedure: str | None = None
    materials: MaterialUse | None = None
    enabled: bool = True

    @property
    def pools(self) -> list[str]:
        return _as_list(self.pool)


class StageStep(_Model):
    stage: str
    when: Condition | None = None


class ParallelStep(_Model):
    parallel: Annotated[list[list[FlowStep]], Field(min_length=2)]
    when: Condition | None = None


def _step_kind(value: Any) -> str:
    if isinstance(value, str):
        return "name"
    if isinstance(value, (StageStep, ParallelStep)):
        return "stage" if isinstance(value, StageStep) else "parallel"
    if isinstance(value, Mapping) and "parallel" in value:
        return "parallel"
    if isinstance(value, Mapping):
        return "stage"
    return "name"


FlowStep = Annotated[
    Annotated[str, Tag("name")]
    | Annotated[StageStep, Tag("stage")]
    | Annotated[ParallelStep, Tag("parallel")],
    Discriminator(_step_kind),
]
ParallelStep.model_rebuild()


class Arrivals(_Model):
    """Poisson arrivals: give ``per_year`` (divided by 250 working days) or ``per_working_day``."""

    per_year: Annotated[float, Field(ge=0)] | None = None
    per_working_day: Annotated[float, Field(ge=0)] | None = None

    @model_validator(mode="after")
    def _one(self):
        if (self.per_year is None) == (self.per_working_day is None):
            raise ValueError("arrivals take exactly one of per_year and per_working_day")
        return self

    @property
    def rate_per_wd(self) -> float:
        if self.per_working_day is not None:
            return float(self.per_working_day)
        return float(self.per_year) / WORKING_DAYS_PER_YEAR


WORKING_DAYS_PER_YEAR = 250


class Target(_Model):
    """A bound on one of the case's measures, in working days. The first ``kind: target`` of a
    segment is its headline target; ``kind: maximum`` states a ceiling (three-zero 25/20/15)."""

    measure: Measure
    days: Annotated[float, Field(gt=0)]
    kind: Literal["target", "maximum"] = "target"
    label: str | None = None


class Segment(_Model):
    label: str
    label_zh: str | None = None
    arrivals: Arrivals
    attributes: dict[str, AttributeDistribution] = Field(default_factory=dict)
    flow: Annotated[list[FlowStep], Field(min_length=1)]
    targets: list[Target] = Field(default_factory=list)

    @property
    def target(self) -> Target | None:
        return next((t for t in self.targets if t.kind == "target"), None)


class Horizon(_Model):
    """Arrivals start at ``start``; those of the first ``warmup_days`` working days load the pools
    but are not counted; the next ``arrival_days`` are the cohort. The run then goes on until every
    counted case is connected, or ``drain_days`` more working days have passed."""

    start: date
    warmup_days: Annotated[float, Field(ge=0)] = 20
    arrival_days: Annotated[float, Field(gt=0)] = 250
    drain_days: Annotated[float, Field(ge=0)] = 500


class CalendarSpec(_Model):
    country: Literal["CN"] = "CN"
    beyond_published: Literal["error", "statutory_only"] = "error"


class Scenario(_Model):
    name: str
    title: str = ""
    title_zh: str | None = None
    description: str | None = None
    assumptions: list[str] = Field(default_factory=list)
    seed: Annotated[int, Field(ge=0)] = 1
    replications: Annotated[int, Field(ge=1)] = 1
    scale: Annotated[float, Field(gt=0)] = 1.0
    horizon: Horizon
    calendar: CalendarSpec = CalendarSpec()
    resources: dict[str, Pool] = Field(default_factory=dict)
    materials: dict[str, Material] = Field(default_factory=dict)
    stages: dict[str, Stage]
    segments: Annotated[dict[str, Segment], Field(min_length=1)]

    _source: str = PrivateAttr(default="<memory>")

    @property
    def source(self) -> str:
        return self._source

    def to_dict(self) -> dict:
        """The resolved scenario as plain JSON-compatible data (what the manifest stores)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

    def digest(self) -> str:
        """SHA-256 of the resolved scenario: two runs with equal digests ran the same model."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


# ----------------------------------------------------------------------------------- loading

Location = tuple[str, int | None]  # (file as shown to the user, line)
KeyPath = tuple[str | int, ...]


def format_path(path: KeyPath) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _display(path: Path) -> str:
    rel = os.path.relpath(path)
    return path.as_posix() if rel.startswith("..") else rel


def _fail(where: Location | None, path: KeyPath, problem: str) -> typing.NoReturn:
    file, line = where if where else ("<scenario>", None)
    head = f"{file}:{line}" if line else file
    raise ScenarioError(f"{head}: {format_path(path)}: {problem}" if path else f"{head}: {problem}")


def _read_yaml(path: Path, shown: str) -> tuple[Any, dict[KeyPath, Location]]:
    """The file's data and the line of every key and list item, by key path."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(f"{shown}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{shown}: cannot read: {exc}") from None
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
        _fail((shown, line), (), f"malformed YAML: {problem}")
    except yaml.YAMLError as exc:
        _fail((shown, None), (), f"malformed YAML: {exc}")
    except ValueError as exc:  # e.g. a date that does not exist, 2021-13-01
        _fail((shown, None), (), f"malformed YAML value: {exc}")
    data = _unshared(data)
    lines: dict[KeyPath, Location] = {}
    if node is not None:
        _collect_lines(node, (), shown, lines)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        _fail((shown, 1), (), f"a scenario is a mapping of keys, found {type(data).__name__}")
    return data, lines


def _unshared(value: Any) -> Any:
    """A copy in which no two places share a mapping or list. YAML aliases (``*lv_flow``) load as
    one shared object, which ``copy.deepcopy`` keeps shared: an override of one segment's flow
    would change every segment that aliases it."""
    if isinstance(value, dict):
        return {k: _unshared(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unshared(v) for v in value]
    return value


def _collect_lines(node: yaml.Node, path: KeyPath, shown: str, out: dict) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set = set()
        for key_node, value_node in node.value:
            key = key_node.value
            if key in seen:
                _fail((shown, key_node.start_mark.line + 1), path + (key,), "duplicate key")
            seen.add(key)
            out[path + (key,)] = (shown, key_node.start_mark.line + 1)
            _collect_lines(value_node, path + (key,), shown, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out[path + (i,)] = (shown, item.start_mark.line + 1)
            _collect_lines(item, path + (i,), shown, out)


def _merge(base: Any, over: Any, base_lines: dict, over_lines: dict, path: KeyPath = ()) -> Any:
    """Deep merge of ``over`` onto ``base``; the line map follows the value that wins.

    Mappings merge, except two kinds that are one value each and replace whole: a distribution
    (a mapping with ``dist``) and a condition (the value of a ``when`` key)."""
    if path == ("assumptions",) and isinstance(base, list) and isinstance(over, list):
        # assumptions accumulate along the chain: a bundle declares those of all its measures
        return _unshared(base + [a for a in over if a not in base])
    atomic = path[-1:] == ("when",) or (isinstance(over, dict) and "dist" in over)
    if isinstance(base, dict) and isinstance(over, dict) and not atomic:
        merged = dict(base)
        for key, value in over.items():
            sub = path + (key,)
            if key in base:
                merged[key] = _merge(base[key], value, base_lines, over_lines, sub)
            else:
                merged[key] = value
        return merged
    n = len(path)
    for key in [k for k in base_lines if k[:n] == path and len(k) > n]:
        del base_lines[key]
    base_lines.update({k: v for k, v in over_lines.items() if k[:n] == path})
    return _unshared(over)


def _parents(path: Path, data: dict, lines: dict, chain: tuple[Path, ...]) -> list[Path]:
    """The files named by ``extends`` (one path or a list), checked to exist and not to cycle."""
    refs = data.pop("extends", None)
    if refs is None:
        return []
    where = lines.get(("extends",))
    refs = [refs] if isinstance(refs, str) else refs
    if not isinstance(refs, list) or not refs or not all(isinstance(r, str) and r for r in refs):
        _fail(where, ("extends",), f"found {refs!r}, expected the path of a scenario file or a list of them")
    parents = []
    for i, ref in enumerate(refs):
        parent = (path.parent / ref).resolve()
        at = lines.get(("extends", i), where)
        if parent in chain or parent == path.resolve():
            cycle = " -> ".join(_display(p) for p in (*chain, path.resolve(), parent))
            _fail(at, ("extends",), f"extends cycle: {cycle}")
        if not parent.is_file():
            _fail(at, ("extends",), f"parent scenario {_display(parent)} does not exist")
        parents.append(parent)
    return parents


def _resolve(path: Path, shown: str, chain: tuple[Path, ...]) -> tuple[dict, dict, set[Path]]:
    """The merged data of a file and its parents, the line map, and every file merged in.

    ``extends: [base.yaml, m1.yaml, m2.yaml]`` resolves ``base.yaml`` fully, then applies the
    *own* content of each further file in order: a measure file is a patch on the base it
    extends, so a bundle of measures is the base with their patches. Each further file's own
    ``extends`` must already be part of what was merged before it."""
    data, lines = _read_yaml(path, shown)
    parents = _parents(path, data, lines, chain)
    lines = {k: v for k, v in lines.items() if k[:1] != ("extends",)}
    if not parents:
        return data, lines, {path.resolve()}
    inner = (*chain, path.resolve())
    base, base_lines, merged_files = _resolve(parents[0], _display(parents[0]), inner)
    for i, patch_path in enumerate(parents[1:], start=1):
        patch, patch_lines = _read_yaml(patch_path, _display(patch_path))
        for needed in _parents(patch_path, patch, patch_lines, inner):
            if needed not in merged_files:
                _fail(
                    lines.get(("extends", i)) or (shown, None),
                    ("extends",),
                    f"{_display(patch_path)} extends {_display(needed)}, which is not merged before it "
                    "in this list",
                )
        patch_lines = {k: v for k, v in patch_lines.items() if k[:1] != ("extends",)}
        base = _merge(base, patch, base_lines, patch_lines)
        base_lines.update({k: v for k, v in patch_lines.items() if k not in base_lines})
        merged_files.add(patch_path)
    merged = _merge(base, data, base_lines, lines)
    base_lines.update({k: v for k, v in lines.items() if k not in base_lines})
    merged_files.add(path.resolve())
    return merged, base_lines, merged_files


_INDEX = re.compile(r"^(?P<key>[^\[\]]*)((?:\[\d+\])*)$")


def parse_key_path(text: str) -> KeyPath:
    """``segments.hv_single.flow[2]`` -> ('segments', 'hv_single', 'flow', 2)."""
    parts: list[str | int] = []
    for piece in text.split("."):
        match = _INDEX.match(piece)
        if not piece or not match or not match.group("key"):
            raise ScenarioError(f"--set {text}: cannot read the key path at '{piece}'")
        parts.append(match.group("key"))
        parts.extend(int(i) for i in re.findall(r"\[(\d+)\]", piece))
    return tuple(parts)


def apply_overrides(data: dict, overrides: Mapping[str, Any] | list[str], lines: dict) -> dict:
    """Replace existing keys. ``overrides`` is a mapping of dotted paths to values, or a list of
    ``path=yaml_value`` strings as given on the command line."""
    if not isinstance(overrides, Mapping):
        pairs = {}
        for item in overrides:
            key, sep, raw = item.partition("=")
            if not sep:
                raise ScenarioError(f"--set {item}: expected KEY.PATH=VALUE")
            try:
                pairs[key.strip()] = yaml.safe_load(raw)
            except (yaml.YAMLError, ValueError):
                raise ScenarioError(f"--set {item}: the value is not valid YAML") from None
        overrides = pairs
    data = _unshared(data)
    for text, value in overrides.items():
        path = parse_key_path(text) if isinstance(text, str) else tuple(text)
        node = data
        for depth, part in enumerate(path):
            here = format_path(path[:depth]) if depth else "the top level"
            last = depth == len(path) - 1
            in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
            in_dict = isinstance(node, dict) and part in node
            if not (in_list or in_dict):
                known = _allowed_keys(path[: depth + 1], data) if isinstance(node, dict) else []
                if last and part in known:
                    pass  # a key the schema has, left at its default in the file
                elif isinstance(node, dict):
                    hint = _suggest(str(part), list(node) + known)
                    problem = f"no key '{part}' at {here}{hint}; --set only replaces existing keys"
                    raise ScenarioError(f"--set {format_path(path)}: {problem}")
                else:
                    problem = f"'{part}' does not name an existing item at {here}"
                    raise ScenarioError(f"--set {format_path(path)}: {problem}")
            if last:
                node[part] = value
            else:
                node = node[part]
        n = len(path)
        for key in [k for k in lines if k[:n] == path]:
            del lines[key]
        lines[path] = ("--set", None)
    return data


def _suggest(word: str, options) -> str:
    close = difflib.get_close_matches(word, [str(o) for o in options], n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def load_scenario(
    path: str | os.PathLike, overrides: Mapping[str, Any] | list[str] | None = None
) -> Scenario:
    """Load, merge, override and validate a scenario file; raise ``ScenarioError`` when it is bad."""
    path = Path(path)
    shown = _display(path)
    data, lines, _ = _resolve(path, shown, ())
    data = {k: v for k, v in data.items() if not (isinstance(k, str) and k.startswith("x-"))}
    if overrides:
        data = apply_overrides(data, overrides, lines)
    scenario = validate(data, lines, default_file=shown)
    scenario._source = shown
    return scenario


def scenario_from_dict(data: dict, source: str = "<memory>") -> Scenario:
    """Validate a scenario given as a mapping (notebooks, tests); errors name key paths."""
    scenario = validate(_unshared(data), {}, default_file=source)
    scenario._source = source
    return scenario


def validate(data: dict, lines: dict[KeyPath, Location], default_file: str) -> Scenario:
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        # a misspelt key also makes the right one missing: report the misspelling
        first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        path, problem = _explain(first, data)
        n = len(errors) - 1
        more = f" (and {n} more problem{'s' if n > 1 else ''})" if n else ""
        _fail(_locate(path, lines, default_file), path, problem + more)
    _cross_check(scenario, lines, default_file)
    return scenario


def _locate(path: KeyPath, lines: dict, default_file: str) -> Location:
    for n in range(len(path), 0, -1):
        if path[:n] in lines:
            return lines[path[:n]]
    return (default_file, None)


def _data_path(loc: tuple, data: Any, kind: str) -> KeyPath:
    """Pydantic's error location with union tags (``triangular``, ``stage``, ``function-after``...)
    removed: only the parts that are keys or indices of the data stay, and, for a ``missing``
    error, the absent key at the end."""
    path: list = []
    node = data
    tag = None
    for i, part in enumerate(loc):
        if tag is not None and part == tag:
            tag = None  # the union member pydantic tried, not a key (a key of that name may follow)
        elif (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        ):
            path.append(part)
            node = node[part]
            tag = _union_tag(node, tuple(path))
        elif kind == "missing" and i == len(loc) - 1:
            path.append(part)
    return tuple(path)


def _union_tag(node: Any, path: KeyPath) -> str | None:
    """The tag pydantic puts in an error location after a value of a tagged union: the ``dist`` of
    a distribution, the kind of a flow step (``name``, ``stage``, ``parallel``)."""
    if isinstance(node, dict) and isinstance(node.get("dist"), str):
        return node["dist"]
    in_flow = path[:1] == ("segments",) and len(path) >= 3 and isinstance(path[-1], int)
    if in_flow and (path[-2] == "flow" or path[-3] == "parallel"):
        return _step_kind(node)
    return None


def _schema_at(path: KeyPath) -> Any:
    """The type the schema gives the value at ``path`` (None when it cannot tell)."""
    target: Any = Scenario
    for part in path:
        target = _descend(target, part)
        if target is None:
            return None
    return target


def _dist_names(models: list[type[BaseModel]]) -> list[str]:
    """The ``dist`` tags of the distribution models among ``models``."""
    return [
        name
        for model in models
        if "dist" in model.model_fields
        for name in typing.get_args(model.model_fields["dist"].annotation)
    ]


def _allowed_keys(path: KeyPath, data: Any) -> list[str]:
    """The keys the schema accepts at the mapping that holds ``path[-1]``."""
    models = _models_in(_schema_at(path[:-1]))
    node = data
    for part in path[:-1]:
        node = node[part]
    if isinstance(node, dict) and isinstance(node.get("dist"), str):
        # a distribution: the keys of the one its ``dist`` names, not of every distribution
        models = [m for m in models if node["dist"] in _dist_names([m])] or models
    keys: list[str] = []
    for model in models:
        for name, field in model.model_fields.items():
            keys.append(field.alias or name)
    return sorted(set(keys))


def _models_in(tp) -> list[type[BaseModel]]:
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [tp]
    out = []
    for arg in typing.get_args(tp):
        out.extend(_models_in(arg))
    return out


def _descend(tp, part):
    for model in _models_in(tp):
        for name, field in model.model_fields.items():
            if part in (name, field.alias):
                return field.annotation
    origin = typing.get_origin(tp)
    if origin is Annotated:
        return _descend(typing.get_args(tp)[0], part)
    if origin in (dict, list):
        return typing.get_args(tp)[-1]
    for arg in typing.get_args(tp):
        if typing.get_origin(arg) in (dict, list) or typing.get_origin(arg) is Annotated:
            found = _descend(arg, part)
            if found is not None:
                return found
    return None


def _explain(error: dict, data: dict) -> tuple[KeyPath, str]:
    kind = error["type"]
    path = _data_path(error["loc"], data, kind)
    found = error.get("input")
    if kind == "extra_forbidden":
        allowed = _allowed_keys(path, data)
        hint = _suggest(str(path[-1]), allowed)
        expected = f"; expected one of {', '.join(allowed)}" if allowed else ""
        return path, f"unknown key '{path[-1]}'{hint}{expected}"
    if kind == "missing":
        return path, f"missing required key '{path[-1]}'" if path else "missing required key"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        expected = error.get("ctx", {}).get("expected_tags", "")
        tag = found.get("dist") if isinstance(found, dict) else found
        # union_tag_not_found carries no expected tags: take them from the schema
        names = _dist_names(_models_in(_schema_at(path))) or [t.strip(" '") for t in str(expected).split(",")]
        if kind == "union_tag_not_found":
            return path, f"a distribution needs 'dist: NAME', expected one of {', '.join(names)}"
        return (
            path,
            f"unknown distribution '{tag}'{_suggest(str(tag), names)}; expected one of {', '.join(names)}",
        )
    message = error["msg"].removeprefix("Value error, ")
    if kind == "value_error" or kind == "assertion_error":
        return path, message
    return path, f"found {found!r}; {message[0].lower() + message[1:]}"


# ------------------------------------------------------------------------------ cross-checks


def _walk_flow(steps, path: KeyPath):
    """(path of the step, stage name or None for a parallel step, the step's condition) for every
    step of a flow, branches included."""
    for i, step in enumerate(steps):
        if isinstance(step, str):
            yield (*path, i), step, None
        elif isinstance(step, StageStep):
            yield (*path, i), step.stage, step.when
        else:
            yield (*path, i), None, step.when
            for b, branch in enumerate(step.parallel):
                yield from _walk_flow(branch, (*path, i, "parallel", b))


# names of the per-case table's own columns: an attribute may not take one of them
RESERVED_ATTRIBUTES = frozenset(
    {
        "scenario",
        "replication",
        "case_id",
        "segment",
        "case_number",
        "arrival",
        "connected",
        "finished",
        "procedures",
        "reworks",
    }
    | {f"{m}_{u}" for m in (*MEASURES, "arrival", "connected") for u in ("wd", "cd")}
)


def _value_problem(cond: Mapping, attributes: dict) -> str | None:
    """A value in a condition that its attribute can never take (a typo that would never match)."""
    for key, want in cond.items():
        if key in ("any", "all"):
            for item in want:
                if problem := _value_problem(item, attributes):
                    return problem
            continue
        if key == "not":
            if problem := _value_problem(want, attributes):
                return problem
            continue
        spec = attributes[key]
        wanted = want if isinstance(want, list) else [want]
        if isinstance(spec, Bernoulli) and not all(isinstance(w, bool) for w in wanted):
            return f"attribute '{key}' is true or false, found {want!r}"
        if isinstance(spec, Categorical):
            if isinstance(want, Mapping):
                return f"attribute '{key}' is a category, a range {want!r} cannot match it"
            for w in wanted:
                if w not in spec.values:
                    hint = _suggest(str(w), spec.values)
                    return (
                        f"attribute '{key}' has no category {w!r}{hint}; categories: {', '.join(spec.values)}"
                    )
        elif isinstance(spec, Constant):
            have = spec.value
            if isinstance(want, Mapping) and not _is_number(have):
                return f"attribute '{key}' is the constant {have!r}, a range {want!r} cannot match it"
            if not isinstance(want, Mapping) and not all(_same_kind(w, have) for w in wanted):
                return f"attribute '{key}' is the constant {have!r}, found {want!r} of another kind"
        elif (
            not isinstance(spec, Bernoulli)
            and not isinstance(want, Mapping)
            and not all(_is_number(w) for w in wanted)
        ):
            return f"attribute '{key}' is a number, found {want!r}; expected a number or a range"
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _same_kind(a: Any, b: Any) -> bool:
    """Whether two condition values are of one kind: flags, numbers or text."""

    def kind(v):
        return "flag" if isinstance(v, bool) else "number" if isinstance(v, (int, float)) else "text"

    return kind(a) == kind(b)


def _cross_check(sc: Scenario, lines: dict, default_file: str) -> None:
    def fail(path: KeyPath, problem: str):
        _fail(_locate(path, lines, default_file), path, problem)

    def need(name, pool_of_names, path, what):
        if name not in pool_of_names:
            hint = _suggest(name, pool_of_names)
            fail(path, f"{what} '{name}' is not defined{hint}")

    for sname, stage in sc.stages.items():
        base = ("stages", sname)
        for pool in stage.pools:
            need(pool, sc.resources, base + ("pool",), "pool")
        for v, variant in enumerate(stage.variants):
            for pool in _as_list(variant.pool) or []:
                need(pool, sc.resources, base + ("variants", v, "pool"), "pool")
        if stage.rework and stage.rework.fix is not None:
            need(stage.rework.fix, sc.stages, base + ("rework", "fix"), "stage")
        if stage.materials:
            need(stage.materials.item, sc.materials, base + ("materials", "item"), "material")

    for gname, seg in sc.segments.items():
        base = ("segments", gname)
        declared: list[str] = []
        for aname, spec in seg.attributes.items():
            if isinstance(spec, Bernoulli):
                for used in attributes_used(spec.when):
                    if used not in declared:
                        fail(
                            base + ("attributes", aname, "when"),
                            f"condition reads attribute '{used}', which is not drawn before "
                            f"'{aname}' in this segment",
                        )
            declared.append(aname)
        for aname in seg.attributes:
            if aname in RESERVED_ATTRIBUTES:
                fail((*base, "attributes", aname), f"'{aname}' names a column of the cases table; rename it")
        conds: list[tuple[KeyPath, Any]] = []
        stages_used: list[str] = []
        for path, name, when in _walk_flow(seg.flow, (*base, "flow")):
            conds.append(((*path, "when"), when))
            if name is not None:
                need(name, sc.stages, path, "stage")
                stages_used.append(name)
        seen: set[str] = set()
        while stages_used:  # the flow's stages and, through rework, their fix stages
            name = stages_used.pop()
            if name in seen:
                continue
            seen.add(name)
            stage = sc.stages[name]
            conds.append((("stages", name, "when"), stage.when))
            conds += [(("stages", name, "variants", v, "when"), x.when) for v, x in enumerate(stage.variants)]
            if stage.rework and stage.rework.fix is not None:
                stages_used.append(stage.rework.fix)
        for cpath, cond in conds:
            for used in attributes_used(cond):
                if used not in seg.attributes:
                    fail(
                        cpath,
                        f"condition reads attribute '{used}', which segment '{gname}' does "
                        f"not define{_suggest(used, seg.attributes)}",
                    )
            if cond is not None and (problem := _value_problem(cond, seg.attributes)):
                fail(cpath, f"{problem} (in segment '{gname}')")
