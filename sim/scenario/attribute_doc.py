"""The attributes each segment's cases carry, as the Markdown table docs/scenario-format.md shows.

A condition (``when``, a dated measure's ``where``) may read only attributes its segment's cases
carry, so a planner writing "only for 10 kV customers" needs the list: which attributes, drawn by
whom (the segment's arrival stream, the segment itself, its supply company), with which values.
The table is generated from a scenario (the project's baseline) and kept in the document between
``BEGIN`` and ``END``; a test regenerates it and fails when the document is stale.
"""

from __future__ import annotations

from typing import Any

from sim.scenario.conditions import SEGMENT
from sim.scenario.distributions import Bernoulli, Categorical, Constant
from sim.scenario.schema import Scenario

BEGIN = "<!-- segment attributes: generated from scenarios/baseline.yaml, do not edit -->"
END = "<!-- end of segment attributes -->"


def attributes_table(sc: Scenario) -> str:
    """One row per segment and attribute its cases carry, in the order they are drawn."""
    rows = [
        "| segment | attribute | drawn by | values |",
        "|---|---|---|---|",
        f"| every segment | `{SEGMENT}` | the case's segment | one of {_names(sc.segments)} |",
    ]
    for name, segment in sc.segments.items():
        stream = segment.arrivals.stream
        own = set(segment.attributes)
        for attribute, spec in sc.attributes_of(name).items():
            if sc.companies and attribute in ("company", "region"):
                by = "its supply company"
            elif attribute in own:
                by = "the segment"
            else:
                by = f"stream `{stream}`"
            rows.append(f"| `{name}` | `{attribute}` | {by} | {_values(spec)} |")
    return "\n".join(rows)


def replace_section(document: str, table: str) -> str:
    """``document`` with the text between ``BEGIN`` and ``END`` replaced by ``table``."""
    head, begin, rest = document.partition(BEGIN)
    _, end, tail = rest.partition(END)
    if not begin or not end:
        raise ValueError(f"the document has no section between {BEGIN!r} and {END!r}")
    return f"{head}{BEGIN}\n{table}\n{END}{tail}"


def section_of(document: str) -> str:
    """The text between ``BEGIN`` and ``END`` (without the newlines next to them)."""
    return document.partition(BEGIN)[2].partition(END)[0].strip("\n")


def _values(spec: Any) -> str:
    if isinstance(spec, Bernoulli):
        text = f"`true` / `false` (p = {spec.p:g}"
        return text + (f", only when {_condition(spec.when)})" if spec.when else ")")
    if isinstance(spec, Categorical):
        return f"one of {_names(spec.values)}"
    if isinstance(spec, Constant):
        return f"always `{_plain(spec.value)}`"
    params = {k: v for k, v in spec.model_dump(exclude={"dist"}).items() if v is not None}
    shown = ", ".join(f"{k} {_plain(v)}" for k, v in params.items())
    return f"a number: {spec.dist} ({shown})" if shown else f"a number: {spec.dist}"


def _names(names: Any) -> str:
    return ", ".join(f"`{n}`" for n in names)


def _condition(cond: Any) -> str:
    return ", ".join(f"`{k}: {_plain(v)}`" for k, v in cond.items())


def _plain(value: Any) -> str:
    """A value as YAML writes it: ``true``, ``45``, ``0.95``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
