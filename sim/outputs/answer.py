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
from sim.experiments.targets import ALL, MET, MISSED, REPORTED, UNDECIDED, too_few, value_text
from sim.outputs.wording import MARKS, TEXT, compared_label, segment_label, target_label


def _column(result: CompareResult, scenario: str, period: str, lang: str) -> str:
    name = compared_label(result, scenario, lang)
    return name if period == ALL else f"{name} {period}"


def _target_text(record: dict, lang: str) -> str:
    """A target's label with the share of cases it requires (said once, not in every cell)."""
    text = target_label(record, lang)
    required = record.get("required_share")
    if record["kind"] != "share" or required is None or pd.isna(required):
        return text
    return f"{text}{TEXT[lang]['share_required'].format(share=f'{100 * required:g}')}"


def verdict_cells(result: CompareResult, lang: str = "en") -> tuple[list[str], list[dict]]:
    """The columns (scenarios, and years of application where judged per year) and one record
    per judged target and column: ``row`` (segment label, target label with the share it
    requires), ``column``, ``verdict``, ``value`` (the statistic with its interval) and ``short``
    (the statistic alone)."""
    summary = result.targets
    reference = result.runs[result.reference].scenario
    columns: list[str] = []
    for name in result.scenarios:
        periods = summary.loc[summary["scenario"] == name, "period"].unique().tolist()
        columns += [_column(result, name, p, lang) for p in periods]
    cells = []
    for record in summary.to_dict("records"):
        value = value_text(record, lang, required=False)
        cells.append(
            {
                "row": (segment_label(reference, record["segment"], lang), _target_text(record, lang)),
                "column": _column(result, record["scenario"], record["period"], lang),
                "verdict": record["verdict"],
                "value": value,
                "short": value.split(" (")[0].split("（")[0],
            }
        )
    return columns, cells


def verdict_matrix(result: CompareResult, lang: str = "en") -> pd.DataFrame:
    """Targets x scenarios (and years of application), each cell ``✔ 98.3% (96.1–99.4)``;
    segments and targets in the reference's order, a target a scenario lacks empty."""
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


def _listed(names: list[str], lang: str, most: int = 4) -> str:
    """Up to ``most`` names, then how many more."""
    sep = "；" if lang == "zh" else "; "
    if len(names) <= most:
        return sep.join(names)
    return sep.join(names[:most]) + TEXT[lang]["and_more"].format(n=len(names) - most)


def answer_sentences(result: CompareResult, lang: str = "en") -> list[str]:
    """Per scenario: how many of its judged targets it meets, which it misses, which it cannot
    decide yet and which have too few cases to judge; then the closest call among the decided
    verdicts and the reminder that verdicts rest on the scenarios' inputs."""
    t = TEXT[lang]
    out = []
    closest: tuple[float, dict] | None = None
    for name in result.scenarios:
        mine = result.targets[(result.targets["scenario"] == name) & (result.targets["verdict"] != REPORTED)]
        records = mine.to_dict("records")
        if not records:
            continue
        label = compared_label(result, name, lang)

        def named(keep, records: list[dict] = records) -> list[str]:
            return [
                target_label(r, lang) + ("" if r["period"] == ALL else f" ({r['period']})")
                for r in records
                if keep(r)
            ]

        few = named(too_few)
        judged = [r for r in records if not too_few(r)]
        met = sum(r["verdict"] == MET for r in judged)
        missed = named(lambda r: r["verdict"] == MISSED)
        open_ = named(lambda r: r["verdict"] == UNDECIDED and not too_few(r))
        rest = []
        if missed:
            rest.append(t["misses"].format(what=_listed(missed, lang)))
        if open_:
            rest.append(t["undecided_list"].format(what=_listed(open_, lang)))
        if few:
            rest.append(t["few_list"].format(what=_listed(few, lang)))
        if met == len(judged) and not rest:
            out.append(t["meets_all"].format(name=label, n=len(judged)))
        else:
            out.append(t["meets_but"].format(name=label, met=met, n=len(judged), rest=t["then"].join(rest)))
        for r in judged:
            margin = _margin(r)
            if math.isfinite(margin) and (closest is None or margin < closest[0]):
                closest = (margin, {**r, "scenario_label": label})
    if closest is not None:
        r = closest[1]
        verdict = t["verdict_met"] if r["verdict"] == MET else t["verdict_missed"]
        out.append(
            t["closest"].format(
                target=_target_text(r, lang),
                name=r["scenario_label"],
                value=value_text(r, lang, required=False),
                verdict=verdict,
            )
        )
    if out:
        out.append(t["restates"])
    return out
