"""What ``run`` prints, in English or Chinese (``--lang``): the KPIs per segment, the targets and
their verdicts, the pools, and for a city or dated measures the companies and the months.

Every number goes through the KPI catalogue's format (``sim.kpi_catalogue.show``): shares with
their bounded 95% interval, other means with their 95% half-width. Segments, pools and targets go
by their labels in the language asked for (``sim.outputs.wording``); the tables and files keep ids.
"""

from __future__ import annotations

import pandas as pd

from sim.evidence.backlog import BacklogReading
from sim.experiments.monthly import company_shares, first_met, headline_segments
from sim.experiments.results import RunResult
from sim.experiments.targets import value_text
from sim.kpi_catalogue import MEASURES, STATISTICS, SUMMARY_MEASURES, show
from sim.outputs.wording import (
    MARKS,
    TEXT,
    column_label,
    measure_label,
    pool_label,
    segment_label,
    target_label,
    verdict_word,
)
from sim.scenario.schema import Scenario

WORDS = {
    "en": {
        "head": ("{reps}, seed {seed}; times in working days (wd) over finished counted cases; {spread}"),
        "spread": "mean over replications, ± 95% half-width (shares: 95% interval)",
        "one": "one replication",
        "replications": "{n} replications",
        "replication": "1 replication",
        "with_set": "with --set {o}",
        "targets": (
            "targets: the statistic each target names, over replications (95% interval), and its "
            "verdict (met, missed, or undecided when the interval straddles the bound)"
        ),
        "applies": "applies to",
        "all": "all",
        "value": "value (95% interval)",
        "verdict": "verdict",
        "dispatch": "dispatch",
        "companies": "per supply company (its cases only):",
        "within": "≤ target",
        "monthly": (
            "per month of application: share of cases within the headline target in force (%, 95% "
            "interval); monthly table and trajectory.png in the folder"
        ),
        "month": "month",
        "first_met": "first month from which 95% is met for good (whole interval): {since}{caveat}",
        "one_caveat": " (one replication: no month has an interval, so none can count as met)",
        "caveat": (
            " (a month without cases, or with one replication's value only, breaks the run: "
            "RunResult.monthly(every='quarter') reads segments with few cases better)"
        ),
        "precision": "precision (95% half-width) after the sequential procedure:",
        "yes": "yes",
        "no": "NO",
    },
    "zh": {
        "head": "{reps}，随机种子{seed}；时长为已接电统计户的工作日（wd）；{spread}",
        "spread": "重复运行平均值 ± 95%半宽（比例：95%区间）",
        "one": "一次运行",
        "replications": "{n}次重复运行",
        "replication": "1次运行",
        "with_set": "--set {o}",
        "targets": (
            "目标：各目标的统计量（重复运行平均值，95%区间）及判定（达标、未达标，区间跨越限值时为未定）"
        ),
        "applies": "适用范围",
        "all": "全部",
        "value": "数值（95%区间）",
        "verdict": "判定",
        "dispatch": "派工规则",
        "companies": "各供电公司（仅其自身客户）：",
        "within": "达标率",
        "monthly": (
            "按申请月份：主要目标（当时适用）的达标率（%，95%区间）；月度表和 trajectory.png 已写入结果文件夹"
        ),
        "month": "月份",
        "first_met": "自该月起持续达到95%（整个区间）：{since}{caveat}",
        "one_caveat": "（仅一次运行：各月没有区间，无法判定达标）",
        "caveat": (
            "（无客户或仅一次运行有值的月份中断连续；客户较少的类别可用 RunResult.monthly(every='quarter')）"
        ),
        "precision": "序贯程序后的精度（95%半宽）：",
        "yes": "是",
        "no": "否",
    },
}


def share_cell(row: pd.Series, column: str) -> str:
    """A share of a summary row with its bounded 95% interval (``stats.share_interval``)."""
    return show(column, row[column], lo=row[f"{column}_lo"], hi=row[f"{column}_hi"])


def _hours_per_day(sc: Scenario, company: str | None, pool: str) -> float:
    """A pool's hours per day, as a company staffs it where it gives its own."""
    own = sc.companies[company].resources.get(pool) if company in sc.companies else None
    return (
        own.hours_per_day
        if own is not None and own.hours_per_day is not None
        else sc.resources[pool].hours_per_day
    )


def _statistics(lang: str) -> str:
    return "/".join((s.zh if lang == "zh" else s.short) for s in STATISTICS.values())


def _segments(result: RunResult, lang: str, summary: pd.DataFrame | None = None, means: bool = False) -> str:
    """The KPI table per segment; ``means``: its case counts are means per replication (one
    decimal)."""
    summary = result.summary() if summary is None else summary

    def count(key: str, n: float) -> str:
        return f"{n:.1f}" if means and pd.notna(n) else show(key, n)

    sc = result.scenario
    rows = []
    for _, r in summary.iterrows():
        days = r["target_days"]
        target = "–" if pd.isna(days) else f"{measure_label(r['target_measure'], lang)} ≤ {days:g}"
        stats = {
            f"{MEASURES[m].zh if lang == 'zh' else MEASURES[m].short} {_statistics(lang)}": "/".join(
                show(f"{m}_wd_{k}", r[f"{m}_wd_{k}"]) for k in STATISTICS
            )
            for m in SUMMARY_MEASURES
        }
        rows.append(
            {
                column_label("segment", lang): segment_label(sc, r["segment"], lang),
                column_label("n_cases", lang): count("n_cases", r["n_cases"]),
                column_label("n_open", lang): count("n_open", r["n_open"]),
                **stats,
                column_label("target_days", lang): target,
                column_label("on_target_share", lang): share_cell(r, "on_target_share"),
                column_label("procedures_mean", lang): show("procedures_mean", r["procedures_mean"]),
            }
        )
    return pd.DataFrame(rows).to_string(index=False)


def _pools(result: RunResult, lang: str) -> str:
    w, t = WORDS[lang], TEXT[lang]
    sc = result.scenario
    pools = result.pool_summary()
    companies = pools["company"] if "company" in pools else [None] * len(pools)
    return pd.DataFrame(
        {
            **({t["company"]: pools["company"]} if "company" in pools else {}),
            column_label("pool", lang): [pool_label(sc, p, lang) for p in pools["pool"]],
            column_label("capacity", lang): [
                f"{c:g}" if c != float("inf") else t["unlimited"] for c in pools["capacity"]
            ],
            column_label("hours_per_day", lang): [
                show("hours_per_day", _hours_per_day(sc, c, p)) for c, p in zip(companies, pools["pool"])
            ],
            w["dispatch"]: [sc.resources[p].dispatch for p in pools["pool"]],
            column_label("utilisation", lang): [share_cell(r, "utilisation") for _, r in pools.iterrows()],
            column_label("wait_wd_mean", lang): [
                show("wait_wd_mean", m, h) for m, h in zip(pools["wait_wd_mean"], pools["wait_wd_mean_hw"])
            ],
        }
    ).to_string(index=False)


def _targets(result: RunResult, lang: str) -> str:
    if not len(result.targets):
        return ""
    w, t = WORDS[lang], TEXT[lang]
    summary = result.target_summary()
    dated = (summary["period"] != "all").any()
    rows = [
        {
            t["segment"]: segment_label(result.scenario, r["segment"], lang),
            t["target"]: (f"{r['period']}: " if dated else "") + target_label(r, lang),
            w["applies"]: w["all"] if r["applies_to"] == "all" else r["applies_to"],
            w["value"]: value_text(r, lang),
            w["verdict"]: f"{MARKS.get(r['verdict'], '')} {verdict_word(r['verdict'], lang)}",
        }
        for r in summary.to_dict("records")
    ]
    return f"\n\n{w['targets']}\n" + pd.DataFrame(rows).to_string(index=False)


def format_result(result: RunResult, overrides: list[str] | None = None, lang: str = "en") -> str:
    """The per-segment KPI table, the targets and the pool table, as printed by ``run``."""
    w = WORDS[lang]
    sc = result.scenario
    n = result.replications
    reps = w["replication"] if n == 1 else w["replications"].format(n=n)
    title = (sc.title_zh or sc.title) if lang == "zh" else sc.title
    head = (
        f"{sc.name}: {title}\n"
        + "".join(w["with_set"].format(o=o) + "\n" for o in overrides or [])
        + w["head"].format(reps=reps, seed=sc.seed, spread=w["spread"] if n > 1 else w["one"])
    )
    return f"{head}\n\n{_segments(result, lang)}{_targets(result, lang)}\n\n{_pools(result, lang)}"


def format_companies(result: RunResult, lang: str = "en") -> str:
    """Per supply company: its region, cases and the share of each headline segment's cases
    within the headline target (%, 95% interval)."""
    w, t = WORDS[lang], TEXT[lang]
    shares = company_shares(result.company_summary(), result.scenario)
    rows = pd.DataFrame(
        {
            t["company"]: shares["company"],
            t["region"]: shares["region"],
            column_label("n_cases", lang): [show("n_cases", n) for n in shares["n_cases"]],
        }
    )
    for segment in headline_segments(result.scenario):
        lows, highs = shares[f"{segment}_lo"], shares[f"{segment}_hi"]
        cells = [show("on_target_share", v, lo=a, hi=b) for v, a, b in zip(shares[segment], lows, highs)]
        rows[f"{segment_label(result.scenario, segment, lang)} {w['within']}"] = cells
    return f"\n{w['companies']}\n" + rows.to_string(index=False)


def format_monthly(result: RunResult, lang: str = "en") -> str:
    """Per month of application, the share of each headline segment's cases within its target
    (% with its 95% interval), and the month from which it is met (95%, whole interval)."""
    w, t = WORDS[lang], TEXT[lang]
    monthly = result.monthly()
    shown = [s for s in headline_segments(result.scenario) if s in set(monthly["segment"])]
    wide = pd.DataFrame({w["month"]: sorted(monthly["month"].unique())})
    for segment in shown:
        rows = monthly[monthly["segment"] == segment].set_index("month")
        cells = [
            share_cell(rows.loc[m], "on_target_share") if m in rows.index else "–" for m in wide[w["month"]]
        ]
        wide[f"{segment_label(result.scenario, segment, lang)} {w['within']}"] = cells
    met = first_met(monthly, 0.95)
    since = ", ".join(
        f"{segment_label(result.scenario, r.segment, lang)} "
        + (r.first_met if isinstance(r.first_met, str) else t["never"])
        for r in met.itertuples()
        if r.segment in shown
    )
    caveat = w["one_caveat"] if result.replications < 2 else w["caveat"]
    return (
        f"\n{w['monthly']}\n"
        + wide.to_string(index=False)
        + "\n"
        + w["first_met"].format(since=since, caveat=caveat)
    )


def format_precision(report: pd.DataFrame, lang: str = "en") -> str:
    """The report of ``run --precision``: per segment and KPI, the half-width reached and asked for."""
    w = WORDS[lang]
    rows = report.assign(
        mean=[show(k, v) if k in report["kpi"].values else v for k, v in zip(report["kpi"], report["mean"])],
        half_width=report["half_width"].map(lambda v: "–" if pd.isna(v) else f"{v:.3g}"),
        requested=report["requested"].map(lambda v: "–" if pd.isna(v) else f"{v:.3g}"),
        met=report["met"].map({True: w["yes"], False: w["no"]}),
    )
    return f"\n{w['precision']}\n" + rows.to_string(index=False)


def format_backlog(reading: BacklogReading, source: str, replications: int) -> str:
    """What a warm start began with: the cases warm-started (per segment) in the ``replications``
    run, those finished before the cut-off, those that could not be placed and why (likely lost
    records among them), the events skipped, and the attributes inferred from the path or drawn."""
    periods, run = reading.periods, "1 replication" if replications == 1 else f"{replications} replications"
    if reading.log_periods > 1:
        shown = ", ".join(str(p) for p in periods)
        plural = "s" if len(periods) > 1 else ""
        per = f" in {run}, from the log's replication{plural} {shown} (of its {reading.log_periods})"
    else:
        per = ""
    started = f"{reading.warm_started} cases warm-started"
    same = reading.log_periods == 1 and replications > 1
    if same:  # one backlog, in each replication
        started = f"{reading.placed} cases warm-started in each of {run} ({reading.warm_started} in all)"
    lines = [
        f"warm start from {source} at {reading.cut_off}: {started}{per}, "
        f"{reading.finished} finished before the cut-off, {len(reading.unplaced)} could not be placed "
        f"({reading.lost} likely lost records)"
    ]
    if same:
        lines.append(
            f"  the log has no replications: each of the {replications} starts from its one backlog "
            "(the same cases and times before the cut-off), with random numbers of its own after it"
        )
    counts = reading.by_segment(runs=not same)
    if len(counts):
        each = " (in each replication)" if same else ""
        lines.append(f"  warm-started per segment{each}: " + ", ".join(f"{s} {n}" for s, n in counts.items()))
    for reason, count in reading.unplaced["reason"].value_counts().items() if len(reading.unplaced) else ():
        lines.append(f"  not placed ({count}): {reason}")
    for reason, count in reading.skipped.items():
        lines.append(f"  skipped {count} event{'s' if count != 1 else ''}: {reason}")
    for name, count in reading.logged.items():
        lines.append(f"  {name}: read from the log for {count} cases")
    for name, count in reading.inferred.items():
        lines.append(f"  {name}: inferred from the stages taken for {count} cases")
    for name, count in reading.drawn.items():
        lines.append(f"  {name}: not in the log for {count} cases, drawn from the scenario")
    return "\n".join(lines)


def cleared_text(cleared: dict) -> str:
    """When the backlog is cleared (``cleared_by``'s dict): its mean day, its 95% interval (said to
    be truncated when it reached before the cut-off) and the replications' first and last day."""
    n, still_open = cleared.get("replications", 0), cleared.get("open_at_end", 0)
    if still_open:
        later = f"later than the run's end in {still_open} of {n} replication{'s' if n != 1 else ''}"
        if pd.isna(cleared["cleared_first"]):
            return f"not cleared by the end of the run ({later})"
        first = cleared["cleared_first"].date()
        return f"{later} (so no mean day); the first replication to clear it, by {first}"
    if pd.isna(cleared["cleared"]):
        return "not cleared by the end of the run"
    when = f"by {cleared['cleared'].date()}"
    if pd.isna(cleared["cleared_lo"]):
        return when
    if cleared.get("interval_truncated"):
        interval = f"95% interval up to {cleared['cleared_hi'].date()}, truncated at the cut-off"
    else:
        interval = f"95% interval {cleared['cleared_lo'].date()} to {cleared['cleared_hi'].date()}"
    first, last = cleared["cleared_first"].date(), cleared["cleared_last"].date()
    return f"{when} ({interval}; per replication {first} to {last})"


def format_backlog_kpis(result: RunResult, backlog: pd.DataFrame, cleared: dict, lang: str = "en") -> str:
    """The backlog's own KPIs per segment (its warm-started cases only: ``cases``, per replication)
    and the date by which it is cleared (its last case connected), mean and 95% interval."""
    n = cleared["replications"]
    if backlog.empty:
        return "\nthe backlog: no case was warm-started"
    when = cleared_text(cleared)
    return (
        "\nthe backlog (warm-started cases only; cases and open: mean per replication):\n"
        + _segments(result, lang, backlog, means=True)
        + f"\nbacklog cleared (its last case connected) {when}, over {n} replication{'s' if n != 1 else ''}"
    )
