"""The answer a comparison gives a planner, before any method: which scenario meets which target.

``verdict_matrix`` puts every target (rows: segment and target, by their labels) against every
scenario (columns; a scenario whose targets are judged per year of application has a column per
year), each cell the statistic with its 95% interval and a mark: ✔ met, ✘ missed, ? undecided.
``answer_sentences`` says the same in the few sentences a planner forwards: per scenario how many
judged targets it meets and which it misses or cannot decide yet, and the closest call (the decided
target whose interval ends nearest its bound, relative to the bound: the verdict a small change of
the inputs would turn first).
"""

from __future__ import annotations

import math

import pandas as pd

from sim.experiments.compare import CompareResult
from sim.experiments.targets import ALL, MET, MISSED, REPORTED, UNDECIDED, value_text
from sim.outputs.wording import MARKS, TEXT, scenario_label, segment_label, target_label


def _column(result: CompareResult, scenario: str, period: str, lang: str) -> str:
    name = scenario_label(result.runs[scenario].scenario, lang)
    return name if period == ALL else f"{name} {period}"


def verdict_cells(result: CompareResult, lang: str = "en") -> tuple[list[str], list[dict]]:
    """The columns (scenarios, and years of application where judged per year) and one record
    per judged target and column: ``row`` (segment label, target label), ``column``,
    ``verdict``, ``value`` (the statistic with its interval) and ``short`` (the statistic
    alone)."""
    summary = result.targets
    reference = result.runs[result.reference].scenario
    columns: list[str] = []
    for name in result.scenarios:
        periods = summary.loc[summary["scenario"] == name, "period"].unique().tolist()
        columns += [_column(result, name, p, lang) for p in periods]
    cells = []
    for record in summary.to_dict("records"):
        value = value_text(record, lang)
        cells.append(
            {
                "row": (segment_label(reference, record["segment"], lang), target_label(record, lang)),
                "column": _column(result, record["scenario"], record["period"], lang),
                "verdict": record["verdict"],
                "value": value,
                "short": value.split(" (")[0].split(",")[0],
            }
        )
    return columns, cells


def verdict_matrix(result: CompareResult, lang: str = "en") -> pd.DataFrame:
    """Targets x scenarios (and years of application), each cell ``✔ 98.3% (96.1–99.4), required
    95.0%``; segments and targets in the reference's order, a target a scenario lacks empty."""
    t = TEXT[lang]
    columns, cells = verdict_cells(result, lang)
    rows: dict[tuple[str, str], dict[str, str]] = {}
    for c in cells:
        rows.setdefault(c["row"], {})[c["column"]] = f"{MARKS.get(c['verdict'], '')} {c['value']}".strip()
    table = pd.DataFrame(
        [{t["segment"]: seg, t["target"]: target, **row} for (seg, target), row in rows.items()],
        columns=[t["segment"], t["target"], *columns],
    )
    return table.fillna("")


def _margin(record: dict) -> float:
    """How far a decided target's interval ends from its bound, relative to the bound; infinite
    for what is not decided by an interval (undecided, reported, the longest case)."""
    kind, low, high = record["kind"], record.get("lo"), record.get("hi")
    if kind == "maximum" or record["verdict"] not in (MET, MISSED) or low is None or pd.isna(low):
        return math.inf
    bound = record["required_share"] if kind == "share" else record["bound_days"]
    if not bound or pd.isna(bound) or pd.isna(high):
        return math.inf
    return min(abs(low - bound), abs(high - bound)) / abs(bound)


def answer_sentences(result: CompareResult, lang: str = "en") -> list[str]:
    """Per scenario: the judged targets it meets, misses and cannot decide yet; then the
    closest call and the reminder that verdicts rest on the scenarios' inputs."""
    t = TEXT[lang]
    summary = result.targets
    out = []
    closest: tuple[float, dict] | None = None
    for name in result.scenarios:
        mine = summary[(summary["scenario"] == name) & (summary["verdict"] != REPORTED)]
        if mine.empty:
            continue
        label = scenario_label(result.runs[name].scenario, lang)
        records = mine.to_dict("records")

        def named(verdict: str, records: list[dict] = records) -> str:
            parts = []
            for r in records:
                if r["verdict"] == verdict:
                    year = "" if r["period"] == ALL else f" ({r['period']})"
                    parts.append(target_label(r, lang) + year)
            return "; ".join(parts)

        met = sum(r["verdict"] == MET for r in records)
        if met == len(records):
            out.append(t["meets_all"].format(name=label, n=len(records)))
        else:
            rest = []
            if named(MISSED):
                rest.append(t["misses"].format(what=named(MISSED)))
            if named(UNDECIDED):
                rest.append(t["undecided_list"].format(what=named(UNDECIDED)))
            out.append(t["meets_but"].format(name=label, met=met, n=len(records), rest="; ".join(rest)))
        for r in records:
            margin = _margin(r)
            if math.isfinite(margin) and (closest is None or margin < closest[0]):
                closest = (margin, {**r, "scenario_label": label})
    if closest is not None:
        r = closest[1]
        bound = f"{100 * r['required_share']:g}%" if r["kind"] == "share" else f"≤ {r['bound_days']:g}"
        out.append(
            t["closest"].format(
                target=target_label(r, lang),
                name=r["scenario_label"],
                value=value_text(r, lang),
                bound=bound,
            )
        )
    if out:
        out.append(t["restates"])
    return out
