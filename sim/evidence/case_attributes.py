"""A backlog case's attributes: the log's where it gives them, else inferred from the path it took.

A log's ``case:NAME`` columns (XES trace attributes) give a case's attributes, read as its segment's
distribution says (a flag: true/false/1/0; a category: one of its names; a number). A CSV or
Parquet log written by ``run --events`` carries none, but the stages a case took say much about
them, as ``fit`` reads the shares of conditional steps from them (``sim.evidence.branches``):

* a conditional step (a step's ``when``, or its stage's) that the case **took** has its condition
  true;
* one it **did not take** while it is past it (it visited a stage that follows it in its flow,
  ``sim.evidence.flows.followers``) has its condition false;
* one it has not reached yet says nothing.

The flags and categories these conditions read (and that the log does not give) are solved for:
every combination of their values that meets all the conditions (and the ``when`` of a flag drawn
only under a condition, which is false otherwise) is kept, and an attribute on which all the kept
combinations agree is *inferred*. The rest are left to the model, which draws them from the
scenario given the attributes already known (``sim.engine.backlog.WarmModel``); constants are
the scenario's. A path that no combination explains (the log contradicts the scenario) infers
nothing.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.scenario.conditions import attributes_used, holds
from sim.scenario.distributions import Bernoulli, Categorical, Constant
from sim.scenario.schema import Scenario

COMBINATIONS = 512
"""At most this many combinations of unknown values are tried; beyond, nothing is inferred."""


@dataclass(frozen=True)
class CaseAttributes:
    """``values``: the attributes known (logged, inferred, constant); ``inferred`` and ``drawn``:
    the names inferred from the path, and those left to the model to draw; ``logged``: those the
    log gave."""

    values: dict[str, Any]
    inferred: tuple[str, ...]
    drawn: tuple[str, ...]
    logged: tuple[str, ...] = ()
    """The names read from the log (its ``case:NAME`` columns, XES trace attributes)."""


def attribute_specs(scenario: Scenario, segment: str) -> dict[str, Any]:
    """The attributes a segment's cases get (its arrival stream's first), by name."""
    seg = scenario.segments[segment]
    specs = dict(scenario.streams[seg.arrivals.stream].attributes) if seg.arrivals.stream else {}
    specs.update(seg.attributes)
    return specs


def logged_value(spec: Any, value: Any) -> Any:
    """A logged attribute as the segment's distribution has it, or None when it cannot be read."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    if isinstance(spec, Bernoulli):
        text = str(value).strip().lower()
        return {"true": True, "1": True, "false": False, "0": False}.get(text)
    if isinstance(spec, Categorical):
        return str(value) if str(value) in spec.values else None
    if isinstance(spec, Constant):
        return spec.value
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _safe_holds(condition: dict | None, attrs: dict[str, Any]) -> bool | None:
    """Whether a condition holds, None when it reads an attribute not in ``attrs``."""
    try:
        return holds(condition, attrs)
    except KeyError:
        return None


def case_attributes(
    scenario: Scenario, segment: str, logged: dict[str, Any], evidence: list[tuple[dict, bool]]
) -> CaseAttributes:
    """A case's attributes from its ``logged`` ones and the ``evidence`` of its path: (condition,
    whether it held) per conditional step it took or went past (see the module doc)."""
    specs = attribute_specs(scenario, segment)
    values: dict[str, Any] = {}
    read_from_log = []
    for name, spec in specs.items():
        value = spec.value if isinstance(spec, Constant) else logged_value(spec, logged.get(name))
        if value is not None:
            values[name] = value
            if not isinstance(spec, Constant):
                read_from_log.append(name)
    read = {n for condition, _ in evidence for n in attributes_used(condition)}
    for name in list(read):  # a flag drawn under a condition: that condition's attributes too
        if isinstance(specs.get(name), Bernoulli):
            read |= set(_when_reads(specs[name]))
    free = [
        n
        for n, s in specs.items()
        if n in read and n not in values and isinstance(s, Bernoulli | Categorical)
    ]
    domains = [[True, False] if isinstance(specs[n], Bernoulli) else list(specs[n].values) for n in free]
    inferred: dict[str, Any] = {}
    if free and evidence and int(np.prod([len(d) for d in domains])) <= COMBINATIONS:
        kept = []
        for combination in itertools.product(*domains):
            attrs = {**values, **dict(zip(free, combination))}
            if _consistent(specs, attrs, evidence):
                kept.append(combination)
        for i, name in enumerate(free):
            seen = {c[i] for c in kept}
            if len(seen) == 1:
                inferred[name] = seen.pop()
    values.update(inferred)
    drawn = tuple(n for n in specs if n not in values)
    return CaseAttributes(values, tuple(inferred), drawn, tuple(read_from_log))


def _when_reads(spec: Bernoulli) -> list[str]:
    return list(attributes_used(spec.when)) if spec.when is not None else []


def _consistent(specs: dict[str, Any], attrs: dict[str, Any], evidence: list[tuple[dict, bool]]) -> bool:
    for name, spec in specs.items():  # a flag drawn under a condition is false when it fails
        drawn_under = isinstance(spec, Bernoulli) and spec.when is not None
        if drawn_under and attrs.get(name) is True and _safe_holds(spec.when, attrs) is False:
            return False
    for condition, held in evidence:
        result = _safe_holds(condition, attrs)
        if result is not None and result != held:
            return False
    return True
