"""The comparison report a planner can forward: ``report.md`` with the figures beside it, and a
self-contained ``report.html`` with the figures embedded.

It says what was compared (files, digests), with which seed and how many replications, gives the
table of means with the paired differences to the reference, the figures, and the assumptions
every scenario declares.
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

import pandas as pd

from sim.experiments.compare import CompareResult
from sim.experiments.monthly import company_shares, first_met, headline_segments
from sim.kpi_catalogue import label, show
from sim.outputs.answer import answer_sentences, verdict_matrix
from sim.outputs.by_measure import bounded_difference, by_measure_legend, by_measure_table
from sim.outputs.tables import write_text
from sim.outputs.wording import (
    TEXT,
    check_language,
    column_label,
    compared_label,
    measure_label,
    pool_label,
    segment_label,
)

FIGURE_CAPTIONS = {
    "en": {
        "verdicts": "Every target of every scenario: its statistic and 95% interval, coloured by the verdict",
        "target_distribution": (
            "Distribution of each segment's target measure around its target lines (the tail beyond the "
            "axis is marked with the share of cases in it)"
        ),
        "waterfall": "Change of the mean target measure from one scenario to the next",
        "waterfall_by_measure": (
            "Change of the mean target measure measure by measure, in roll-out order (paired 95% intervals)"
        ),
        "on_target": "Share of cases on target (95% intervals; dashed: the share required)",
        "utilisation": "Utilisation of the staff and office pools (95% intervals)",
        "trajectory": (
            "{name}: share of cases on the headline target per month of application (95% intervals), the "
            "target in force, and the applications per month"
        ),
    },
    "zh": {
        "verdicts": "各方案各项目标：统计量及其95%区间，按判定着色",
        "target_distribution": "各类客户目标指标在目标线附近的分布（坐标轴以外的尾部注明其户数比例）",
        "waterfall": "目标指标平均值在相邻方案之间的变化",
        "waterfall_by_measure": "目标指标平均值逐项措施的变化，按推行顺序（配对95%区间）",
        "on_target": "达标率（95%区间；虚线：要求比例）",
        "utilisation": "人员和班组资源利用率（95%区间）",
        "trajectory": "{name}：按申请月份的主要目标达标率（95%区间）、当时适用的目标及每月申请户数",
    },
}


def caption(key: str, lang: str = "en") -> str:
    """A figure's caption (a trajectory figure is named after its scenario)."""
    captions = FIGURE_CAPTIONS[lang]
    if key.startswith("trajectory-"):
        return captions["trajectory"].format(name=key.removeprefix("trajectory-"))
    return captions.get(key, key)


def _month_by_month(result: CompareResult, lang: str) -> list[str]:
    """For the scenarios whose measures come into force at dates: the first month from which
    each headline share is met for good."""
    t = TEXT[lang]
    rows = []
    for name in result.scenarios:
        run = result.runs[name]
        if not run.scenario.measures:
            continue
        shown = headline_segments(run.scenario)
        for r in first_met(run.monthly(), 0.95).itertuples():
            if r.segment in shown:
                since = r.first_met if isinstance(r.first_met, str) else t["never"]
                rows.append(
                    {
                        t["scenario"]: compared_label(result, name, lang),
                        t["segment"]: segment_label(run.scenario, r.segment, lang),
                        t["met_from"]: since,
                    }
                )
    if not rows:
        return []
    return [
        f"## {t['month_by_month']}",
        "",
        t["month_by_month_text"],
        "",
        _markdown_table(pd.DataFrame(rows)),
        "",
    ]


def _by_measure(result: CompareResult, lang: str) -> list[str]:
    steps = result.by_measure
    if steps is None:
        return []
    table = _markdown_table(by_measure_table(steps, lang))
    return [f"## {TEXT[lang]['by_measure']}", "", by_measure_legend(steps, lang), "", table, ""]


def _per_company(result: CompareResult, lang: str) -> list[str]:
    """For the scenarios of a city: each supply company's share within each headline target."""
    t = TEXT[lang]
    lines = []
    for name in result.scenarios:
        run = result.runs[name]
        if not run.scenario.companies:
            continue
        shares = company_shares(run.company_summary(), run.scenario)
        table = pd.DataFrame(
            {
                t["company"]: shares["company"],
                t["region"]: shares["region"],
                label("n_cases", lang): [show("n_cases", n) for n in shares["n_cases"]],
            }
        )
        for segment in headline_segments(run.scenario):
            cells = zip(shares[segment], shares[f"{segment}_lo"], shares[f"{segment}_hi"])
            column = f"{segment_label(run.scenario, segment, lang)}: {column_label('on_target_share', lang)}"
            table[column] = [show("on_target_share", v, lo=a, hi=b) for v, a, b in cells]
        lines += [f"**{compared_label(result, name, lang)}**", "", _markdown_table(table), ""]
    if not lines:
        return []
    return [f"## {t['per_company']}", "", t["per_company_text"], "", *lines]


# the KPIs of the comparison table (the statistics of each segment's own target measure first),
# headed by their short labels in the KPI catalogue, and those also shown as paired differences
REPORTED = ("target_wd_mean", "target_wd_p95", "target_wd_max", "on_target_share", "procedures_mean")
DIFFERENCES = ("target_wd_mean", "on_target_share")


def table_legend(lang: str = "en") -> str:
    """What the comparison table's columns are."""
    return TEXT[lang]["results_legend"].format(stats=" / ".join(column_label(k, lang) for k in REPORTED[:3]))


def target_changes(result: CompareResult) -> list[str]:
    """Segments whose target differs between the scenarios: their shares on target are measured
    against different bounds, so their Δ on target mixes a change of the bar with one of time."""
    notes = []
    rows = result.table[result.table["kpi"] == "on_target_share"]
    for segment, group in rows.groupby("segment", sort=False):
        bounds = [
            f"{name} {m} ≤ {d:g}"
            for name, m, d in zip(group["scenario"], group["target_measure"], group["target_days"])
            if not pd.isna(d)
        ]
        if len({b.split(" ", 1)[1] for b in bounds}) > 1:
            notes.append(f"{segment}: the target differs ({', '.join(bounds)})")
    return notes


def comparison_table(result: CompareResult, lang: str = "en") -> pd.DataFrame:
    """Rows: segment x scenario (by their labels); columns: target, and per KPI the mean and the
    paired difference to the reference (shares with their bounded 95% interval, differences ±
    95% half-widths). The printed and the reported table."""
    t = TEXT[lang]
    reference = result.runs[result.reference].scenario
    rows = []
    for (segment, scenario), group in result.table.groupby(["segment", "scenario"], sort=False):
        g = group.set_index("kpi")
        target = g["target_measure"].iloc[0]
        days = g["target_days"].iloc[0]
        row = {
            t["segment"]: segment_label(reference, segment, lang),
            t["scenario"]: compared_label(result, scenario, lang),
            column_label("target_days", lang): "–"
            if pd.isna(days)
            else f"{measure_label(target, lang)} ≤ {days:g}",
        }
        for kpi in REPORTED:
            column = column_label(kpi, lang)
            row[column] = show(kpi, g.at[kpi, "mean"], g.at[kpi, "hw"], g.at[kpi, "lo"], g.at[kpi, "hi"])
            if kpi in DIFFERENCES:
                ref = result.table[
                    (result.table["scenario"] == result.reference)
                    & (result.table["segment"] == segment)
                    & (result.table["kpi"] == kpi)
                ]["mean"]
                reference_mean = float(ref.iloc[0]) if len(ref) else float("nan")
                paired = bounded_difference(
                    kpi, g.at[kpi, "diff"], g.at[kpi, "diff_hw"], reference_mean, lang
                )
                row[f"Δ {column}"] = paired if scenario != result.reference else t["reference"]
        rows.append(row)
    return pd.DataFrame(rows)


def _markdown_table(frame: pd.DataFrame) -> str:
    head = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = [
        "| " + " | ".join(str(v).replace("|", "\\|") for v in row) + " |"
        for row in frame.itertuples(index=False)
    ]
    return "\n".join([head, rule, *body])


def _pool_table(result: CompareResult, lang: str) -> pd.DataFrame:
    t = TEXT[lang]
    pools = result.pools
    reference = result.runs[result.reference].scenario
    return pd.DataFrame(
        {
            t["scenario"]: [compared_label(result, n, lang) for n in pools["scenario"]],
            **({t["company"]: pools["company"]} if "company" in pools else {}),
            label("pool", lang): [pool_label(reference, p, lang) for p in pools["pool"]],
            column_label("capacity", lang): [
                t["unlimited"] if c == float("inf") else f"{c:g}" for c in pools["capacity"]
            ],
            column_label("utilisation", lang): [
                show("utilisation", u, lo=a, hi=b)
                for u, a, b in zip(pools["utilisation"], pools["utilisation_lo"], pools["utilisation_hi"])
            ],
            column_label("wait_wd_mean", lang): [show("wait_wd_mean", w) for w in pools["wait_wd_mean"]],
        }
    )


def _legend(result: CompareResult, lang: str) -> pd.DataFrame:
    """Every id the tables and files use (scenarios, segments, pools) with its label."""
    t = TEXT[lang]
    rows = []
    for name in result.scenarios:
        sc = result.runs[name].scenario
        rows.append({"id": name, t["label"]: sc.title_zh if lang == "zh" and sc.title_zh else sc.title})
    reference = result.runs[result.reference].scenario
    rows += [{"id": s, t["label"]: segment_label(reference, s, lang)} for s in reference.segments]
    rows += [{"id": p, t["label"]: pool_label(reference, p, lang)} for p in reference.resources]
    return pd.DataFrame(rows)


def report_markdown(result: CompareResult, figures: dict[str, str], lang: str = "en") -> str:
    """The report as Markdown; ``figures`` maps figure keys to file names beside the report. It
    answers first (verdict matrix and sentences), then says how, then gives every table."""
    t = TEXT[check_language(lang)]
    names = ", ".join(compared_label(result, n, lang) for n in result.scenarios)
    lines = [f"# {t['title']}: {names}", ""]
    if len(result.targets):  # the answer first: the verdicts, then the sentences, then the legend
        lines += [f"## {t['answer']}", "", _markdown_table(verdict_matrix(result, lang)), ""]
        lines += [*(f"- {sentence}" for sentence in answer_sentences(result, lang)), ""]
        lines += [f"*{t['answer_legend'].format(reps=result.replications)}*", ""]
    reference = compared_label(result, result.reference, lang)
    lines += [
        f"## {t['method']}",
        "",
        t["method_text"].format(ref=reference, seed=result.seed, reps=result.replications),
        "",
        f"### {t['scenarios']}",
        "",
    ]
    for name in result.scenarios:
        sc = result.runs[name].scenario
        titles = [sc.title_zh, sc.title] if lang == "zh" and sc.title_zh else [sc.title, sc.title_zh]
        lines.append(f"- **{compared_label(result, name, lang)}** — " + " / ".join(x for x in titles if x))
        lines.append(f"  {t['file']} `{sc.source}` ({name}), digest `{sc.digest()[:16]}`")
    lines += ["", f"## {t['results']}", "", table_legend(lang) + ".", ""]
    lines += [_markdown_table(comparison_table(result, lang)), ""]
    changes = target_changes(result)
    if changes:
        lines += [t["target_changes"], "", *(f"- {c}" for c in changes), ""]
    lines += _by_measure(result, lang) + _month_by_month(result, lang) + _per_company(result, lang)
    lines += [f"## {t['pools']}", "", _markdown_table(_pool_table(result, lang)), ""]
    if figures:
        lines += [f"## {t['figures']}", ""]
        for key, file in figures.items():
            lines += [f"![{caption(key, lang)}]({file})", "", f"*{caption(key, lang)}.*", ""]
    lines += [f"## {t['assumptions']}", "", t["assumptions_text"], ""]  # as the files word them
    listed: set[str] = set()
    for name in result.scenarios:
        new = [a for a in result.runs[name].scenario.assumptions if a not in listed]
        listed.update(new)
        if new:
            lines += [f"**{compared_label(result, name, lang)}**", "", *[f"- {a}" for a in new], ""]
    lines += [f"## {t['legend']}", "", t["legend_text"], "", _markdown_table(_legend(result, lang)), ""]
    return "\n".join(lines).rstrip() + "\n"


def report_html(markdown: str, folder: Path) -> str:
    """A small, dependency-free rendering of the report's Markdown, images embedded as data URIs."""
    out = [
        "<!doctype html><html><head><meta charset='utf-8'><title>Comparison report</title>",
        "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;line-height:1.4}"
        "table{border-collapse:collapse;font-size:0.85em}td,th{border:1px solid #ccc;padding:3px 6px}"
        "img{max-width:100%}</style></head><body>",
    ]
    lines = markdown.splitlines()
    i = 0
    in_list = False
    while i < len(lines):
        line = lines[i]
        if line.startswith("|"):
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                rows.append(lines[i])
                i += 1
            cells = [[c.strip() for c in re.split(r"(?<!\\)\|", r)[1:-1]] for r in rows]
            out.append("<table><tr>" + "".join(f"<th>{_inline(c)}</th>" for c in cells[0]) + "</tr>")
            for row in cells[2:]:
                out.append("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in row) + "</tr>")
            out.append("</table>")
            continue
        if in_list and not line.startswith(("- ", "  ")):
            out.append("</ul>")
            in_list = False
        if line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            out.append(f"<h{level}>{_inline(line[level:].strip())}</h{level}>")
        elif line.startswith("!["):
            image = re.match(r"!\[(.*)\]\((.*)\)", line)
            if image is None:  # pragma: no cover - report_markdown writes only well-formed images
                raise ValueError(f"not an image line: {line}")
            alt, file = image.groups()
            data = base64.b64encode((folder / file).read_bytes()).decode()
            out.append(f"<p><img alt='{html.escape(alt)}' src='data:image/png;base64,{data}'></p>")
        elif line.startswith("- "):
            if not in_list:
                out.append("<ul>")
                in_list = True
            out.append(f"<li>{_inline(line[2:])}")
        elif line.startswith("  ") and in_list:
            out.append(f"<br>{_inline(line.strip())}")
        elif line.strip():
            out.append(f"<p>{_inline(line)}</p>")
        i += 1
    if in_list:
        out.append("</ul>")
    out.append("</body></html>")
    return "\n".join(out)


MARK_COLOURS = {"✔": "#1a7f37", "✘": "#cf222e", "?": "#9a6700"}


def _inline(text: str) -> str:
    text = html.escape(text.replace("\\|", "|"))
    for mark, colour in MARK_COLOURS.items():  # a verdict's mark opens its cell
        if text.startswith(f"{mark} "):
            text = f"<b style='color:{colour}'>{mark}</b>{text[1:]}"
    text = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", text)
    text = re.sub(r"`(.+?)`", r"<code>\1</code>", text)
    return re.sub(r"\*(.+?)\*", r"<i>\1</i>", text)


def write_report(
    result: CompareResult, folder: Path, figures: dict[str, str], lang: str = "en"
) -> tuple[Path, Path]:
    """Write ``report.md`` and ``report.html`` into ``folder`` (figures already there)."""
    folder = Path(folder)
    markdown = report_markdown(result, figures, lang)
    md_path = write_text(folder / "report.md", markdown)
    html_path = write_text(folder / "report.html", report_html(markdown, folder))
    return md_path, html_path
