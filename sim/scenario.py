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

import copy
import difflib
import hashlib
import json
import os
import re
import typing
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal, Union

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

from sim.conditions import attributes_used, check_condition
from sim.distributions import AttributeDistribution, Bernoulli, Distribution

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

    @property
    def pools(self) -> list[str]:
        return _as_list(self.pool)


class StageStep(_Model):
    stage: str
    when: Condition | None = None


class ParallelStep(_Model):
    parallel: Annotated[list[list[FlowStep]], Field(min_length=2)]


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
    Union[
        Annotated[str, Tag("name")],
        Annotated[StageStep, Tag("stage")],
        Annotated[ParallelStep, Tag("parallel")],
    ],
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
        _fail((shown, line), (), f"malformed YAML: {exc.problem or exc.context}")
    except yaml.YAMLError as exc:
        _fail((shown, None), (), f"malformed YAML: {exc}")
    lines: dict[KeyPath, Location] = {}
    if node is not None:
        _collect_lines(node, (), shown, lines)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        _fail((shown, 1), (), f"a scenario is a mapping of keys, found {type(data).__name__}")
    return data, lines


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
    """Deep merge of ``over`` onto ``base``; the line map follows the value that wins."""
    if isinstance(base, dict) and isinstance(over, dict):
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
    return copy.deepcopy(over)


def _resolve(path: Path, shown: str, chain: tuple[Path, ...]) -> tuple[dict, dict]:
    data, lines = _read_yaml(path, shown)
    parent_ref = data.pop("extends", None)
    if parent_ref is None:
        return data, lines
    where = lines.get(("extends",))
    if not isinstance(parent_ref, str) or not parent_ref:
        _fail(where, ("extends",), f"found {parent_ref!r}, expected the path of a scenario file")
    parent = (path.parent / parent_ref).resolve()
    if parent in chain or parent == path.resolve():
        cycle = " -> ".join(_display(p) for p in (*chain, path.resolve(), parent))
        _fail(where, ("extends",), f"extends cycle: {cycle}")
    if not parent.is_file():
        _fail(where, ("extends",), f"parent scenario {_display(parent)} does not exist")
    base, base_lines = _resolve(parent, _display(parent), (*chain, path.resolve()))
    lines = {k: v for k, v in lines.items() if k != ("extends",)}
    merged = _merge(base, data, base_lines, lines)
    base_lines.update({k: v for k, v in lines.items() if k not in base_lines})
    return merged, base_lines


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
            except yaml.YAMLError:
                raise ScenarioError(f"--set {item}: the value is not valid YAML") from None
        overrides = pairs
    data = copy.deepcopy(data)
    for text, value in overrides.items():
        path = parse_key_path(text) if isinstance(text, str) else tuple(text)
        node = data
        for depth, part in enumerate(path):
            here = format_path(path[:depth]) if depth else "the top level"
            last = depth == len(path) - 1
            if isinstance(node, dict) and part in node:
                pass
            elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
                pass
            else:
                if isinstance(node, dict):
                    hint = _suggest(str(part), node)
                    problem = f"no key '{part}' at {here}{hint}; --set only replaces existing keys"
                else:
                    problem = f"'{part}' does not name an existing item at {here}"
                raise ScenarioError(f"--set {format_path(path)}: {problem}")
            if last:
                node[part] = value
            else:
                node = node[part]
        n = len(path)
        for key in [k for k in lines if k[: n] == path]:
            del lines[key]
        lines[path] = (f"--set {format_path(path)}", None)
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
    data, lines = _resolve(path, shown, ())
    data = {k: v for k, v in data.items() if not (isinstance(k, str) and k.startswith("x-"))}
    if overrides:
        data = apply_overrides(data, overrides, lines)
    scenario = validate(data, lines, default_file=shown)
    scenario._source = shown
    return scenario


def scenario_from_dict(data: dict, source: str = "<memory>") -> Scenario:
    """Validate a scenario given as a mapping (notebooks, tests); errors name key paths."""
    scenario = validate(copy.deepcopy(data), {}, default_file=source)
    scenario._source = source
    return scenario


def validate(data: dict, lines: dict[KeyPath, Location], default_file: str) -> Scenario:
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        path, problem = _explain(errors[0], data)
        more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
        _fail(_locate(path, lines, default_file), path, problem + more)
    _cross_check(scenario, lines, default_file)
    return scenario


def _locate(path: KeyPath, lines: dict, default_file: str) -> Location:
    for n in range(len(path), 0, -1):
        if path[:n] in lines:
            return lines[path[:n]]
    return (default_file, None)


def _data_path(loc: tuple, data: Any) -> KeyPath:
    """Pydantic's error location with union tags (``triangular``, ``function-after``...) removed:
    only the parts that are keys or indices of the data stay."""
    path: list = []
    node = data
    for part in loc:
        if isinstance(node, dict) and part in node:
            path.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            path.append(part)
            node = node[part]
        elif isinstance(node, dict) and isinstance(part, str) and part not in node:
            # a missing or unknown key is the last meaningful part
            if not isinstance(node.get(part), dict):
                path.append(part)
                break
    return tuple(path)


def _allowed_keys(path: KeyPath) -> list[str]:
    """The keys the schema accepts at the mapping that holds ``path[-1]``."""
    target: Any = Scenario
    for part in path[:-1]:
        target = _descend(target, part)
        if target is None:
            return []
    models = _models_in(target)
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
    path = _data_path(error["loc"], data)
    kind = error["type"]
    found = error.get("input")
    if kind == "extra_forbidden":
        allowed = _allowed_keys(path)
        hint = _suggest(str(path[-1]), allowed)
        expected = f"; expected one of {', '.join(allowed)}" if allowed else ""
        return path, f"unknown key '{path[-1]}'{hint}{expected}"
    if kind == "missing":
        return path, f"missing required key '{path[-1]}'" if path else "missing required key"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        expected = error.get("ctx", {}).get("expected_tags", "")
        tag = found.get("dist") if isinstance(found, dict) else found
        names = [t.strip(" '") for t in str(expected).split(",")]
        if kind == "union_tag_not_found":
            return path, f"a distribution needs 'dist: NAME', expected one of {', '.join(names)}"
        return path, f"unknown distribution '{tag}'{_suggest(str(tag), names)}; expected one of {', '.join(names)}"
    message = error["msg"].removeprefix("Value error, ")
    if kind == "value_error" or kind == "assertion_error":
        return path, message
    return path, f"found {found!r}; {message[0].lower() + message[1:]}"


# ------------------------------------------------------------------------------ cross-checks


def _walk_flow(steps, path: KeyPath):
    """(path, stage name, step condition) for every stage named in a flow, branches included."""
    for i, step in enumerate(steps):
        if isinstance(step, str):
            yield path + (i,), step, None
        elif isinstance(step, StageStep):
            yield path + (i, "stage"), step.stage, step.when
        else:
            for b, branch in enumerate(step.parallel):
                yield from _walk_flow(branch, path + (i, "parallel", b))


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
        for path, name, when in _walk_flow(seg.flow, base + ("flow",)):
            need(name, sc.stages, path, "stage")
            stage = sc.stages[name]
            conds = [(path, when), (("stages", name, "when"), stage.when)]
            conds += [(("stages", name, "variants", v, "when"), x.when) for v, x in enumerate(stage.variants)]
            fix = stage.rework.fix if stage.rework else None
            if fix is not None:
                conds.append((("stages", fix, "when"), sc.stages[fix].when))
            for cpath, cond in conds:
                for used in attributes_used(cond):
                    if used not in seg.attributes:
                        fail(
                            cpath,
                            f"condition reads attribute '{used}', which segment '{gname}' does "
                            f"not define{_suggest(used, seg.attributes)}",
                        )
