"""What the outputs say, in English and Chinese: the phrases of the console and the report, and the
labels of scenarios, segments, pools and targets in the language asked for (``--lang en|zh``).

Labels come from the scenarios (``label`` / ``label_zh`` of segments, pools and targets, ``title``
/ ``title_zh`` of scenarios) and the KPI catalogue; a Chinese label that a scenario does not give
falls back to the English one, and an English one to the id. Ids appear only in legends.
"""

from __future__ import annotations

from typing import Any

from sim.kpi_catalogue import MEASURES, heading, label
from sim.scenario.schema import Scenario

LANGUAGES = ("en", "zh")

VERDICTS = {
    "en": {"met": "met", "missed": "missed", "undecided": "undecided", "reported": "reported"},
    "zh": {"met": "达标", "missed": "未达标", "undecided": "未定", "reported": "仅报告"},
}
MARKS = {"met": "✔", "missed": "✘", "undecided": "?", "reported": "·"}

TEXT = {
    "en": {
        "title": "Comparison",
        "answer": "The answer",
        "answer_legend": (
            "Each target of the plan as the scenarios define it: the statistic its kind names (share of "
            "its cases within the bound, their mean, or the longest case), mean over {reps} replications "
            "with its 95% interval, and the verdict: ✔ met, ✘ missed, ? undecided (the interval straddles "
            "the bound). Shares' intervals never leave 0–100% (Wilson intervals with the replications' "
            "effective number of cases)."
        ),
        "target": "Target",
        "segment": "Segment",
        "scenario": "Scenario",
        "meets_all": "**{name}** meets every judged target ({n}).",
        "meets_but": "**{name}** meets {met} of {n} judged targets. {rest}.",
        "then": ". ",
        "misses": "It misses {what}",
        "undecided_list": "It cannot tell yet for {what} (more replications narrow the interval)",
        "few_list": "Too few cases to judge: {what}",
        "and_more": " and {n} more",
        "share_required": "; {share}% of cases",
        "verdict_met": "met",
        "verdict_missed": "missed",
        "closest": (
            "Of the decided verdicts, the closest call is {target} in {name} ({verdict}: {value}): the "
            "verdict a change of the assumptions would turn first (the assumptions are listed at the end; "
            "`python run_sim.py sensitivity` ranks them)."
        ),
        "restates": (
            "Verdicts follow from the scenarios' inputs, most of them assumptions (listed at the end): "
            "a verdict that only restates an input is not a finding."
        ),
        "method": "Method",
        "method_text": (
            "Reference: **{ref}**. Every scenario was run with seed **{seed}** and **{reps}** replications "
            "on common random numbers: replication *r* of each scenario meets the same cases with the same "
            "luck, so differences are paired by replication. Values are means over replications ± the 95% "
            "t-interval half-width; shares in percent with their bounded 95% interval (low–high); "
            "differences of shares in percentage points (pp); times in working days (wd) over the "
            "finished counted cases; the target measure is each segment's own (three-zero: full process; "
            "LV and HV: handling)."
        ),
        "scenarios": "Scenarios",
        "file": "file",
        "results": "Results per segment",
        "results_legend": (
            "{stats}: the segment's target measure in working days; on target: share of counted cases "
            "within the target; Δ: paired difference to the reference (shares: percentage points), "
            "± 95% half-width"
        ),
        "target_changes": (
            "Targets that differ between the scenarios (their Δ on target mixes a new bar with a new time):"
        ),
        "targets": "Targets and verdicts, all of them",
        "month_by_month": "Month by month",
        "per_company": "Per supply company",
        "pools": "Pools",
        "figures": "Figures",
        "assumptions": "Assumptions the scenarios declare",
        "assumptions_text": (
            "Each scenario lists those it adds to the scenarios above it (an overlay declares its parents'"
            " assumptions too)."
        ),
        "legend": "Legend: ids",
        "legend_text": "The ids the tables and files use, with their labels.",
        "reference": "(ref.)",
        "unlimited": "unlimited",
        "required": "required",
        "no_case": "no case",
        "never": "not met for good",
        "met_from": "95% met from (whole interval)",
        "month_by_month_text": (
            "Scenarios whose measures come into force at dates, per month of application: the first month "
            "from which the share of a segment's cases within its headline target in force reaches 95% "
            "with its whole 95% interval, in that month and every later one (a month without cases breaks "
            "the run); the trajectory figures below show every month."
        ),
        "company": "company",
        "region": "region",
        "per_company_text": (
            "Each company's cases only: the share within each segment's headline target (mean over "
            "replications, 95% interval)."
        ),
        "label": "label",
        "measure": "Measure",
        "own_keys": "the package's own keys (targets, titles)",
        "total": "Total: the package against its base",
        "by_measure": "Measure by measure",
        "by_measure_text": (
            "{package} one measure at a time: from {base}, each row adds one measure of the package in "
            "roll-out order, on the same {reps} replications (common random numbers); a cell is the "
            "paired change the measure brings (days of the target measure; shares in percentage points) "
            "± its 95% half-width. An interaction of two measures counts for the later one."
        ),
    },
    "zh": {
        "title": "方案比较",
        "answer": "结论",
        "answer_legend": (
            "各方案所定义的每项目标：按目标类型给出的统计量（限值内户数比例、平均值或最长时长），"
            "为{reps}次重复运行的平均值及其95%置信区间，以及判定：✔ 达标，✘ 未达标，? 未定（区间跨越限值）。"
            "比例的区间始终在0–100%之内（按重复运行的有效户数计算的Wilson区间）。"
        ),
        "target": "目标",
        "segment": "客户类别",
        "scenario": "方案",
        "meets_all": "**{name}** 达到全部{n}项考核目标。",
        "meets_but": "**{name}** 达到{n}项考核目标中的{met}项。{rest}。",
        "then": "。",
        "misses": "未达到：{what}",
        "undecided_list": "尚无法判定：{what}（增加重复运行次数可缩小区间）",
        "few_list": "客户过少、无法判定：{what}",
        "and_more": "等（另有{n}项）",
        "share_required": "（要求{share}%的客户）",
        "verdict_met": "达标",
        "verdict_missed": "未达标",
        "closest": (
            "在已判定的目标中，最接近限值的是{name}的{target}（{verdict}：{value}）：假设变化时最先改变的"
            "就是这一判定（假设列于文末；`python run_sim.py sensitivity` 可对其排序）。"
        ),
        "restates": "判定来自各方案的输入，其中多数为假设（列于文末）：仅复述输入的判定不是结论。",
        "method": "方法",
        "method_text": (
            "参照方案：**{ref}**。各方案均以随机种子 **{seed}** 重复运行 **{reps}** 次，采用公共随机数："
            "各方案的第 *r* 次运行面对相同的客户和相同的随机因素，因此差值按重复运行配对。数值为重复运行的"
            "平均值 ± 95% t区间半宽；比例以百分比及其有界95%区间（下限–上限）表示；"
            "比例之差以百分点（pp）表示；"
            "时长为已接电统计户的工作日（wd）；目标指标为各类客户自身的指标（三零：全过程；低压和高压：办电环节）。"
        ),
        "scenarios": "方案",
        "file": "文件",
        "results": "各类客户结果",
        "results_legend": (
            "{stats}：该类客户目标指标（工作日）；达标率：限值内统计户数比例；Δ：与参照方案的配对差值"
            "（比例为百分点），± 95%半宽"
        ),
        "target_changes": "各方案目标不同的客户类别（其达标率之差同时包含限值和时长的变化）：",
        "targets": "全部目标及判定",
        "month_by_month": "逐月",
        "per_company": "各供电公司",
        "pools": "资源",
        "figures": "图",
        "assumptions": "各方案声明的假设",
        "assumptions_text": (
            "各方案列出其在上述方案之外新增的假设（叠加方案也声明其上级方案的假设），"
            "按场景文件原文（英文）列出。"
        ),
        "legend": "图例：标识",
        "legend_text": "表格和文件中使用的标识及其名称。",
        "reference": "（参照）",
        "unlimited": "不限",
        "required": "要求",
        "no_case": "无客户",
        "never": "未持续达标",
        "met_from": "自该月起持续达到95%（整个区间）",
        "month_by_month_text": (
            "按日期生效措施的方案，按申请月份：某类客户在其适用的主要目标内的户数比例以整个95%区间达到95%、"
            "且此后每月均保持的第一个月份（无客户的月份中断连续）；下方的轨迹图给出每个月份。"
        ),
        "company": "供电公司",
        "region": "区域",
        "per_company_text": "仅各公司自身的客户：各类客户主要目标的达标率（重复运行平均值，95%区间）。",
        "label": "名称",
        "measure": "措施",
        "own_keys": "措施组合自身的设置（目标、名称）",
        "total": "合计：措施组合相对其基础方案",
        "by_measure": "逐项措施",
        "by_measure_text": (
            "{package}逐项措施：自{base}起，每行按推行顺序增加一项措施，采用相同的{reps}次重复运行（公共随机数）；"
            "单元格为该措施带来的配对变化（目标指标天数；比例为百分点）± 95%半宽。"
            "两项措施的交互作用计入后者。"
        ),
    },
}


def check_language(lang: str) -> str:
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; expected one of {', '.join(LANGUAGES)}")
    return lang


def scenario_label(scenario: Scenario, lang: str) -> str:
    """A scenario as tables name it: its name (a short id planners chose), in Chinese its
    ``title_zh`` when it has one."""
    return (scenario.title_zh or scenario.name) if lang == "zh" else scenario.name


def compared_label(result: Any, name: str, lang: str) -> str:
    """A scenario of a comparison (``result.runs``, ``result.scenarios``) by its label, with its
    name added where two of them would read the same (an overlay inherits its parent's title)."""
    labels = [scenario_label(result.runs[n].scenario, lang) for n in result.scenarios]
    mine = scenario_label(result.runs[name].scenario, lang)
    return f"{mine} ({name})" if labels.count(mine) > 1 else mine


def segment_label(scenario: Scenario, segment: str, lang: str) -> str:
    spec = scenario.segments.get(segment)
    if spec is None:
        return segment
    return (spec.label_zh or spec.label or segment) if lang == "zh" else (spec.label or segment)


def pool_label(scenario: Scenario, pool: str, lang: str) -> str:
    spec = scenario.resources.get(pool)
    if spec is None:
        return pool
    return ((spec.label_zh or spec.label) if lang == "zh" else spec.label) or pool


def target_label(row, lang: str) -> str:
    """A target (a row of a targets table) by its label in ``lang``."""
    if lang == "zh":
        return str(row.get("label_zh") or row["label"])
    return str(row["label"])


def measure_label(measure: str | None, lang: str) -> str:
    """A target's measure as the KPI catalogue names it ("full process time")."""
    if measure not in MEASURES:
        return measure or ""
    return MEASURES[measure].zh if lang == "zh" else MEASURES[measure].en


def verdict_word(verdict: str, lang: str) -> str:
    return VERDICTS[lang].get(verdict, verdict)


def column_label(name: str, lang: str) -> str:
    """A column's heading: the short English heading, or the catalogue's Chinese label."""
    return label(name, "zh") if lang == "zh" else heading(name)
