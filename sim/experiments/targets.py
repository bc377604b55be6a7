"""Targets as the plan defines them, and their verdicts (pure functions of the per-case table).

A segment's target (``sim.scenario.schema.Target``) bounds one measure of a case, in working days,
for all the segment's cases or those its ``when`` selects, in one of three ways:

* ``share``: the share of its cases within the bound (open cases off target) is at least the
  required share (``share: 0.95``); without a required share it is reported, not judged;
* ``mean``: the mean over its finished cases is at most the bound (Appendix 2's 全过程平均);
* ``maximum``: its longest case is at most the bound (Appendix 2's 全过程最长); an open case counts
  with its age at the end of the run.

Per replication, ``target_rows`` gives for every target the three statistics of its cases
(``share_within``, ``mean_days``, ``max_days``). Over replications, ``judge`` gives the statistic the
kind names, its 95% interval and a verdict: **met** when the whole interval is on the right side
of the bound, **missed** when it is all on the wrong side, **undecided** when it straddles the
bound. For ``maximum`` the verdict is exact for the cases simulated: met when no case of any
replication is longer than the bound (the statistic is the longest over all replications; the
mean of the replications' longest cases is given with its interval as well).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from sim.experiments.stats import share_interval, t_half_width
from sim.kpi_catalogue import show
from sim.scenario.conditions import holds
from sim.scenario.schema import Scenario, Target

MET, MISSED, UNDECIDED, REPORTED = "met", "missed", "undecided", "reported"
EXACT = 1e-9  # a case exactly at the bound (sums of fixed durations) is within it


def describe_target(target: Target) -> str:
    """``full_process mean ≤ 7``, ``handling ≤ 17 for 95%``, ``full_process longest ≤ 20``, with
    the condition it applies to."""
    bound = f"≤ {target.days:g}"
    if target.kind == "mean":
        text = f"{target.measure} mean {bound}"
    elif target.kind == "maximum":
        text = f"{target.measure} longest {bound}"
    else:
        required = f" for {100 * target.share:g}%" if target.share is not None else ""
        text = f"{target.measure} {bound}{required}"
    return text + (f" when {_condition(target.when)}" if target.when else "")


def _condition(cond: Mapping) -> str:
    parts = []
    for key, want in cond.items():
        if key in ("any", "all"):
            parts.append(f"{key}({'; '.join(_condition(c) for c in want)})")
        elif key == "not":
            parts.append(f"not ({_condition(want)})")
        elif isinstance(want, Mapping):
            parts.append(" ".join(f"{key} {'≥' if k == 'min' else '≤'} {v}" for k, v in want.items()))
        else:
            parts.append(f"{key} = {want}".replace("True", "true").replace("False", "false"))
    return ", ".join(parts)


def target_rows(cases: pd.DataFrame, scenario: Scenario, replications: Iterable[int]) -> pd.DataFrame:
    """One row per replication, segment and target: the target's settings and the statistics of
    the cases it applies to (``n_subject`` of them, ``open_subject`` still open at the end).

    ``period`` is ``all``, unless dated measures change the targets from one calendar year of
    application to the next: then the cases of each year are judged against the targets in force
    at that year's end (period ``2021``, ``2022``, ...), as the plan sets its targets year by
    year."""
    rows = []
    for period, of_period, rules in _periods(cases, scenario):
        for replication in replications:
            of_rep = of_period[of_period["replication"] == replication]
            for name, segment in rules.segments.items():
                seg = of_rep[of_rep["segment"] == name]
                for index, target in enumerate(segment.targets):
                    sub = seg if target.when is None else seg[selected(seg, target.when)]
                    rows.append(
                        {"period": period, **_row(sub, scenario.name, replication, name, index, target)}
                    )
    return pd.DataFrame(rows, columns=COLUMNS)


def _periods(cases: pd.DataFrame, scenario: Scenario) -> list[tuple[str, pd.DataFrame, Scenario]]:
    """The cases judged together and the scenario whose targets judge them: every case at once,
    unless dated measures change the targets from one year of application to the next."""
    if not scenario.measures or not len(cases):
        return [(ALL, cases, scenario)]
    years = cases["arrival"].dt.year
    by_year = [(int(y), scenario.in_force(date(int(y), 12, 31))) for y in sorted(years.unique())]
    targets = [{n: s.targets for n, s in rules.segments.items()} for _, rules in by_year]
    if all(t == targets[0] for t in targets):  # the same every year: one verdict over all cases
        return [(ALL, cases, by_year[-1][1])]
    return [(str(year), cases[years == year], rules) for year, rules in by_year]


ALL = "all"


COLUMNS = [
    "scenario",
    "period",
    "replication",
    "segment",
    "target",
    "label",
    "label_zh",
    "kind",
    "measure",
    "clock",
    "bound_days",
    "required_share",
    "report_only",
    "applies_to",
    "n_subject",
    "open_subject",
    "share_within",
    "mean_days",
    "max_days",
]


def selected(seg: pd.DataFrame, cond: Mapping) -> np.ndarray:
    """Which rows of a cases table a condition selects (their attribute columns)."""
    records = seg.to_dict("records")
    return np.array([holds(cond, r) for r in records], dtype=bool)


def _row(sub: pd.DataFrame, scenario: str, replication: int, segment: str, index: int, t: Target) -> dict:
    values = sub[f"{t.measure}_{'cd' if t.clock == 'calendar' else 'wd'}"].to_numpy(dtype=float)
    finished = sub["finished"].to_numpy(dtype=bool)
    n = len(sub)
    return {
        "scenario": scenario,
        "replication": int(replication),
        "segment": segment,
        "target": index,
        "label": t.label or describe_target(t),
        "label_zh": t.label_zh or t.label or describe_target(t),
        "kind": t.kind,
        "measure": t.measure,
        "clock": t.clock,
        "bound_days": t.days,
        "required_share": t.share if t.share is not None else np.nan,
        "report_only": t.report_only,
        "applies_to": _condition(t.when) if t.when else "all",
        "n_subject": n,
        "open_subject": int(n - finished.sum()),
        "share_within": float((finished & (values <= t.days + EXACT)).mean()) if n else np.nan,
        "mean_days": float(values[finished].mean()) if finished.any() else np.nan,
        "max_days": float(values.max()) if n else np.nan,  # open cases at their age
    }


STATISTIC = {"share": "share_within", "mean": "mean_days", "maximum": "max_days"}


def judge(rows: pd.DataFrame) -> pd.DataFrame:
    """Per scenario, segment and target: the statistic its kind names (``value``, mean over
    replications; for ``maximum`` the longest over all of them, with no interval), its 95%
    half-width (``hw``) and the ``verdict``: met, missed, undecided (the interval straddles the
    bound, or fewer than two replications have a value) or reported (a share target with no
    required share). ``n_subject`` and ``open_subject`` are means per replication."""
    out = []
    if "period" not in rows:  # a table from before periods: every case in one
        rows = rows.assign(period=ALL)
    keys = ["scenario", "period", "segment", "target"]
    for (scenario, period, segment, index), group in rows.groupby(keys, sort=False):
        first = group.iloc[0]
        kind = first["kind"]
        values = group[STATISTIC[kind]].to_numpy(dtype=float)
        known = values[~np.isnan(values)]
        mean = float(known.mean()) if len(known) else np.nan
        hw = t_half_width(known) if len(known) > 1 else np.nan
        if kind == "share":  # bounded by 0 and 1 (stats.share_interval)
            subject = group["n_subject"].to_numpy(dtype=float)[~np.isnan(values)]
            low, high = share_interval(known, subject)
        else:
            low, high = mean - hw, mean + hw
        record: dict[str, Any] = {
            "scenario": scenario,
            "period": period,
            "segment": segment,
            "target": int(index),
            "label": first["label"],
            "label_zh": first.get("label_zh", first["label"]),
            "kind": kind,
            "measure": first["measure"],
            "clock": first["clock"],
            "bound_days": first["bound_days"],
            "required_share": first["required_share"],
            "applies_to": first["applies_to"],
            "replications": len(group),
            "n_subject": float(group["n_subject"].mean()),  # per replication, as the next
            "open_subject": float(group["open_subject"].mean()),
            "value": mean,
            "hw": hw,
            "lo": low,
            "hi": high,
        }
        record["verdict"] = (
            REPORTED
            if first["report_only"]
            else _verdict(kind, known, low, high, first["bound_days"], first["required_share"])
        )
        if kind == "maximum":  # the longest case of all: what the verdict is about (no interval)
            record["value"], record["hw"] = (float(known.max()) if len(known) else np.nan), np.nan
            record["lo"] = record["hi"] = np.nan
            record["mean_of_maxima"], record["mean_of_maxima_hw"] = mean, hw
        out.append(record)
    return pd.DataFrame(out)


def _verdict(kind: str, known: np.ndarray, low: float, high: float, bound: float, required: float) -> str:
    if kind == "share" and np.isnan(required):
        return REPORTED
    if len(known) == 0:
        return UNDECIDED  # no case it applies to (or none finished) in any replication
    if kind == "maximum":
        return MET if known.max() <= bound + EXACT else MISSED
    if len(known) < 2:  # a value from one replication has no interval: nothing to judge it by
        return UNDECIDED
    if kind == "mean":
        line = bound + EXACT
        return MET if high <= line else MISSED if low > line else UNDECIDED
    return MET if low >= required else MISSED if high < required else UNDECIDED


WORDS = {
    "en": {
        "no_case": "no case",
        "required": "required",
        "longest": "longest",
        "few": "too few cases to judge ({n:g} in {reps} replications)",
        "wd": "wd",
        "cd": "cd",
    },
    "zh": {
        "no_case": "无客户",
        "required": "要求",
        "longest": "最长",
        "few": "客户过少，无法判定（{reps}次运行共{n:g}户）",
        "wd": "工作日",
        "cd": "自然日",
    },
}


def too_few(row: Mapping[str, Any]) -> bool:
    """A share or mean target that several replications could not give an interval: in fewer than
    two of them did any case it applies to (finish)."""
    return (
        row["kind"] != "maximum"
        and row.get("replications", 0) >= 2
        and not pd.isna(row["value"])
        and pd.isna(row.get("lo"))
    )


def value_text(row: Mapping[str, Any], lang: str = "en", required: bool = True) -> str:
    """A judged target's statistic for people: ``78.3% (77.1–79.5), required 95.0%``,
    ``6.4 ± 0.2 wd``, ``longest 118.5 wd (≤ 20)``, ``too few cases to judge (3 in 5
    replications)`` (or in Chinese with ``lang="zh"``; ``required=False`` leaves out the share
    required)."""
    words = WORDS[lang]
    value = row["value"]
    if value is None or pd.isna(value):
        return words["no_case"]
    if too_few(row):
        return words["few"].format(n=row["n_subject"] * row["replications"], reps=row["replications"])
    if row["kind"] == "share":
        text = show("share_within", value, lo=row.get("lo"), hi=row.get("hi"))
        if pd.isna(row["required_share"]) or not required:
            return text
        return f"{text}, {words['required']} {show('required_share', row['required_share'])}"
    unit = words["cd" if row.get("clock") == "calendar" else "wd"]
    if row["kind"] == "maximum":
        return f"{words['longest']} {show('max_days', value)} {unit} (≤ {row['bound_days']:g})"
    return f"{show('mean_days', value, row['hw'])} {unit}"


def verdict_table(summary: pd.DataFrame) -> pd.DataFrame:
    """A judged table (``judge``) for reading: segment, target, the cases it applies to, the
    statistic with its interval and the verdict, one row per scenario and target."""
    dated = "period" in summary and (summary["period"] != ALL).any()
    labels = (summary["period"] + ": " + summary["label"]) if dated else summary["label"]
    return pd.DataFrame(
        {
            "scenario": summary["scenario"],
            "segment": summary["segment"],
            "target": labels,
            "applies to": summary["applies_to"],
            "value (95% interval)": [value_text(r) for r in summary.to_dict("records")],
            "verdict": summary["verdict"],
        }
    )
