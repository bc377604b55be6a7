"""The fitted values as a scenario overlay: ``extends: BASE`` plus the keys the log identified.

Each value is written on its own line with a comment that says it was fitted and on what: the n,
the family chosen by AIC and its KS distance, the 95% interval (``# fitted: n=..., AIC=...,
KS=...``), as the project asks of every figure in a scenario file (sourced, assumed or fitted).
Keys the log cannot identify are not written, so they stay the base's (with its sources and
ASSUMPTION comments); the fit report says which and why. A distribution is a mapping with ``dist``
and so replaces the base's whole (``docs/scenario-format.md``, "Overlays"); a rework probability
or an arrival rate is a single key merged into the base's mapping.
"""

from __future__ import annotations

import json
import re
from typing import Any

from sim.evidence.estimates import FitResult

_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")
_WORDS = {"true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"}


def render(value: Any) -> str:
    """A value in YAML flow style (mappings in their order, numbers to six significant digits)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{render(k)}: {render(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(render(v) for v in value) + "]"
    text = str(value)
    return text if _PLAIN.match(text) and text.lower() not in _WORDS else json.dumps(text, ensure_ascii=False)


def _tree(entries: dict[str, tuple[Any, str]]) -> dict:
    tree: dict = {}
    for key, leaf in entries.items():
        node = tree
        *parents, last = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = leaf
    return tree


def _lines(tree: dict, indent: int) -> list[str]:
    out = []
    for key, node in tree.items():
        pad = "  " * indent
        if isinstance(node, tuple):
            value, comment = node
            out.append(f"{pad}{key}: {render(value)}  # {comment}")
        else:
            out.append(f"{pad}{key}:")
            out += _lines(node, indent + 1)
    return out


def overlay_text(result: FitResult, extends: str, name: str | None = None) -> str:
    """The overlay YAML: a header saying what was fitted from what, ``extends`` (the base scenario
    as the overlay's folder sees it), ``name`` (default ``BASE-fitted``) and the fitted keys."""
    base, log = result.base, result.log
    name = name or f"{base.name}-fitted"
    cases = log.events["case"].nunique()
    header = [
        f"# {base.name} with the parameters fitted from the event log {log.source}",
        f"# ({len(log.events)} events of {cases} cases read; what was skipped and why, the fit of every",
        "# stage and what the log cannot identify are in report.md beside this file).",
        "# Every value below is estimated from the log: the comment beside it gives n, the family",
        "# chosen by AIC, its KS distance and the 95% interval. Everything else is the base's.",
        f"extends: {render(extends)}",
        f"name: {render(name)}",
        f"title: {render(f'{base.title or base.name}, fitted to {log.source}')}",
    ]
    order = ("stages", "segments", "streams")
    tree = _tree(result.overlay)
    body = _lines({k: tree[k] for k in order if k in tree}, 0)
    return "\n".join(header + body) + "\n"
