"""A package's measures one at a time, as the comparison shows them (``compare --by-measure``):
per measure, in roll-out order, its paired change of each segment's mean target measure and share
on target, and the package against its base; and the one rule for showing a paired difference of
shares (kept to what a share can move)."""

from __future__ import annotations

import re

import pandas as pd

from sim.experiments.compare import CompareResult, consecutive_differences, with_target_columns
from sim.experiments.stats import paired_differences
from sim.kpi_catalogue import is_share, show
from sim.outputs.wording import TEXT, compared_label, segment_label


def bounded_difference(kpi: str, diff: float, hw: float, reference: float, lang: str) -> str:
    """A paired difference as shown: a share's interval kept to what a share can move from the
    reference's mean (from -reference to 1 - reference); any other with its half-width."""
    if not is_share(kpi) or pd.isna(hw) or hw == 0 or pd.isna(reference):
        return show(kpi, diff, hw, difference=True, lang=lang)
    low, high = max(diff - hw, -reference), min(diff + hw, 1 - reference)
    return show(kpi, diff, lo=low, hi=high, difference=True, lang=lang)


def by_measure_table(steps: CompareResult, lang: str = "en") -> pd.DataFrame:
    """A package's measures one at a time (``CompareResult.by_measure``): per measure, in roll-out
    order, its paired change of each segment's mean target measure and share on target; the
    package's own keys (targets, titles) as a row only when they change something; the package
    against its base as the last row (the total)."""
    t = TEXT[lang]
    changes = consecutive_differences(steps).set_index(["scenario", "segment", "kpi"]).sort_index()
    total = (
        paired_differences(
            with_target_columns(steps.runs[steps.reference].kpis),
            with_target_columns(steps.runs[steps.scenarios[-1]].kpis),
            ["target_wd_mean", "on_target_share"],
        )
        .set_index(["segment", "kpi"])
        .sort_index()
    )
    reference = steps.runs[steps.reference].scenario
    segments = [n for n, seg in reference.segments.items() if seg.target is not None]
    base = steps.table[steps.table["scenario"] == steps.reference].set_index(["segment", "kpi"])["mean"]

    def cell(d: pd.DataFrame, segment: str) -> str:
        days, share = d.loc["target_wd_mean"], d.loc["on_target_share"]
        mean = show("target_wd_mean", days["difference"], days["difference_hw"], difference=True)
        ref = base.get((segment, "on_target_share"), float("nan"))
        moved = bounded_difference("on_target_share", share["difference"], share["difference_hw"], ref, lang)
        return f"{mean}; {moved}"

    rows = []
    for name in steps.scenarios[1:]:
        sc = steps.runs[name].scenario
        step = {s: changes.loc[(name, s)] for s in segments}
        if name == steps.scenarios[-1] and all((d["difference"].fillna(0) == 0).all() for d in step.values()):
            continue  # the package's own keys change nothing
        number = re.match(r"M\d+[^:]{0,10}:", sc.title)  # "M2 (2023): ...", the measure's number
        title = (
            (number.group(0).rstrip(":") + "：" if number else "") + sc.title_zh
            if lang == "zh" and sc.title_zh
            else sc.title
        )
        row = {t["measure"]: title if name != steps.scenarios[-1] else t["own_keys"]}
        row.update({segment_label(reference, s, lang): cell(step[s], s) for s in segments})
        rows.append(row)
    row = {t["measure"]: t["total"]}
    row.update({segment_label(reference, s, lang): cell(total.loc[s], s) for s in segments})
    rows.append(row)
    return pd.DataFrame(rows)


def by_measure_legend(steps: CompareResult, lang: str = "en") -> str:
    package = compared_label(steps, steps.scenarios[-1], lang)
    base = compared_label(steps, steps.reference, lang)
    return TEXT[lang]["by_measure_text"].format(package=package, base=base, reps=steps.replications)
