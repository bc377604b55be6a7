"""Overlays: a scenario file that ``extends`` another holds only what it changes.

``extends: ../baseline.yaml`` loads the parent (itself possibly an overlay: 2023 extends 2022
extends 2021 ...) and deep-merges the child onto it: mappings merge key by key, lists and scalars
replace. Two kinds of mapping are one value each and replace whole: a distribution (a mapping with
``dist``) and a condition (the value of a ``when`` key), since half of the parent's triangular
under the child's gamma would be neither. ``assumptions`` accumulate along the chain, so that a
bundle of measures declares the assumptions of all of them.

``extends: [base.yaml, m1.yaml, m2.yaml]`` bundles measures: each measure file is a patch on the
base it extends. The line map follows the value that wins, so an error points into the file that
wrote the value. Keys that start with ``x-`` hold YAML anchors for reuse and are dropped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim.scenario.errors import KeyPath, LineMap, fail_at, locate, suggest
from sim.scenario.files import display_path, missing_file, read_yaml, unshared
from sim.scenario.relative import apply_change, is_relative, relative_in


def resolve_extends(path: Path, shown: str) -> tuple[dict, LineMap]:
    """The data a scenario file stands for, its ``extends`` chain merged, and its line map."""
    data, lines, _ = _resolve(path, shown, ())
    return _without_anchors(data), lines


def _resolve(path: Path, shown: str, chain: tuple[Path, ...]) -> tuple[dict, LineMap, set[Path]]:
    """The merged data of a file and its parents, the line map, and every file merged in.

    ``extends: [base.yaml, m1.yaml, m2.yaml]`` resolves ``base.yaml`` fully, then applies the
    *own* content of each further file in order. Each further file's own ``extends`` must already
    be part of what was merged before it."""
    data, lines = read_yaml(path, shown)
    parents = _parents(path, data, lines, chain)
    lines = {k: v for k, v in lines.items() if k[:1] != ("extends",)}
    if not parents:
        _refuse_relative(data, (), lines, "but this file extends no scenario whose value it could change")
        return data, lines, {path.resolve()}
    inner = (*chain, path.resolve())
    base, base_lines, merged_files = _resolve(parents[0], display_path(parents[0]), inner)
    for i, patch_path in enumerate(parents[1:], start=1):
        patch, patch_lines = read_yaml(patch_path, display_path(patch_path))
        for needed in _parents(patch_path, patch, patch_lines, inner):
            if needed not in merged_files:
                fail_at(
                    lines.get(("extends", i)) or (shown, None),
                    ("extends",),
                    f"{display_path(patch_path)} extends {display_path(needed)}, which is not merged "
                    "before it in this list",
                )
        patch_lines = {k: v for k, v in patch_lines.items() if k[:1] != ("extends",)}
        base = _merge(base, patch, base_lines, patch_lines)
        base_lines.update({k: v for k, v in patch_lines.items() if k not in base_lines})
        merged_files.add(patch_path)
    merged = _merge(base, data, base_lines, lines)
    base_lines.update({k: v for k, v in lines.items() if k not in base_lines})
    merged_files.add(path.resolve())
    return merged, base_lines, merged_files


def _parents(path: Path, data: dict, lines: LineMap, chain: tuple[Path, ...]) -> list[Path]:
    """The files named by ``extends`` (one path or a list), checked to exist and not to cycle."""
    refs = data.pop("extends", None)
    if refs is None:
        return []
    where = lines.get(("extends",))
    refs = [refs] if isinstance(refs, str) else refs
    if not isinstance(refs, list) or not refs or not all(isinstance(r, str) and r for r in refs):
        fail_at(
            where, ("extends",), f"found {refs!r}, expected the path of a scenario file or a list of them"
        )
    parents = []
    for i, ref in enumerate(refs):
        parent = (path.parent / ref).resolve()
        at = lines.get(("extends", i), where)
        if parent in chain or parent == path.resolve():
            cycle = " -> ".join(display_path(p) for p in (*chain, path.resolve(), parent))
            fail_at(at, ("extends",), f"extends cycle: {cycle}")
        if not parent.is_file():
            fail_at(at, ("extends",), missing_file(ref, parent, "parent scenario"))
        parents.append(parent)
    return parents


def bundle_steps(path: Path) -> list[tuple[dict, LineMap]]:
    """The steps of a bundle of measures, ``extends: [base.yaml, m1.yaml, m2.yaml]``, in its
    order: the base resolved, then the base with the first measure, with the first two, ... up to
    every measure (without the bundle's own keys: the bundle itself is the next step). Each step
    carries the ``name`` and ``title`` of the measure it adds. A file that does not extend a list
    of two or more files has no steps (an empty list)."""
    shown = display_path(path)
    data, lines = read_yaml(path, shown)
    parents = _parents(path, data, lines, ())
    if len(parents) < 2:
        return []
    inner = (path.resolve(),)
    base, base_lines, _ = _resolve(parents[0], display_path(parents[0]), inner)
    steps = [(_without_anchors(base), dict(base_lines))]
    for patch_path in parents[1:]:
        patch, patch_lines = read_yaml(patch_path, display_path(patch_path))
        _parents(patch_path, patch, patch_lines, inner)  # its own extends: what the bundle merged
        patch_lines = {k: v for k, v in patch_lines.items() if k[:1] != ("extends",)}
        base = merge_patch(base, patch, base_lines, patch_lines)
        steps.append((_without_anchors(base), dict(base_lines)))
    return steps


def _without_anchors(data: dict) -> dict:
    return {k: v for k, v in data.items() if not (isinstance(k, str) and k.startswith("x-"))}


def merge_patch(base: dict, patch: dict, base_lines: LineMap, patch_lines: LineMap) -> dict:
    """``patch`` merged onto ``base`` as an overlay is (mappings merge, lists and scalars replace);
    ``base_lines`` becomes the line map of the result."""
    merged = _merge(base, patch, base_lines, patch_lines)
    base_lines.update({k: v for k, v in patch_lines.items() if k not in base_lines})
    return merged


def _merge(base: Any, over: Any, base_lines: LineMap, over_lines: LineMap, path: KeyPath = ()) -> Any:
    """Deep merge of ``over`` onto ``base``; the line map follows the value that wins."""
    if path == ("assumptions",) and isinstance(base, list) and isinstance(over, list):
        return unshared(base + [a for a in over if a not in base])
    atomic = path[-1:] == ("when",) or (isinstance(over, dict) and "dist" in over)
    if isinstance(base, dict) and isinstance(over, dict) and not atomic:
        merged = dict(base)
        for key, value in over.items():
            if key in base:
                merged[key] = _merge(base[key], value, base_lines, over_lines, (*path, key))
            else:
                why = f"but the parent has no value here to change{suggest(str(key), base)}"
                _refuse_relative(value, (*path, key), over_lines, why)
                merged[key] = value
        return merged
    if is_relative(over):
        try:
            value = apply_change(over, base, path)
        except ValueError as exc:
            fail_at(locate(path, over_lines, "<scenario>"), path, str(exc))
    else:
        why = "inside a value that replaces the parent's whole (a list, a distribution or a condition)"
        _refuse_relative(over, path, over_lines, why)
        value = unshared(over)
    n = len(path)
    for key in [k for k in base_lines if k[:n] == path and len(k) > n]:
        del base_lines[key]
    base_lines.update({k: v for k, v in over_lines.items() if k[:n] == path})
    return value


def _refuse_relative(value: Any, path: KeyPath, lines: LineMap, why: str) -> None:
    """Stop at a relative change (``sim.scenario.relative``) inside ``value``, which has no
    inherited number to change (``why``); a dated measure's are applied later, to the scenario."""
    found = relative_in(value, path)
    if found is not None and found[:1] != ("measures",):
        change = value
        for part in found[len(path) :]:
            change = change[part]
        fail_at(
            locate(found, lines, "<scenario>"),
            found,
            f"'{change}' is a relative change, {why}; write the value itself",
        )
