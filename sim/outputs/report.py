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
from sim.kpi_catalogue import heading, is_share, short_label
from sim.outputs.tables import write_text

TARGETS_LEGEND = (
    "Every target of every scenario: the statistic its kind names (share of its cases within the "
    "bound, their mean, or the longest case), mean over replications with its 95% interval, and the "
    "verdict: met, missed, or undecided when the interval straddles the bound"
)
FIGURE_CAPTIONS = {
    "verdicts": "Every target of every scenario: its statistic and 95% interval, coloured by the verdict",
    "target_distribution": (
        "Distribution of each segment's target measure, with the target lines "
        "(x axis cut at the 99th percentile)"
    ),
    "waterfall": "Change of the mean target measure from one scenario to the next",
    "on_target": "Share of cases on target (95% intervals)",
    "utilisation": "Utilisation of the staff and office pools (95% intervals)",
}


def caption(key: str) -> str:
    """A figure's caption (a trajectory figure is named after its scenario)."""
    if key.startswith("trajectory-"):
        return (
            f"{key.removeprefix('trajectory-')}: share of cases on the headline target per month of "
            "application (95% intervals), the target in force, and the applications per month"
        )
    return FIGURE_CAPTIONS.get(key, key)


def _month_by_month(result: CompareResult) -> list[str]:
    """For the scenarios whose measures come into force at dates: the first month from which
    each headline share is met for good."""
    rows = []
    for name in result.scenarios:
        run = result.runs[name]
        if not run.scenario.measures:
            continue
        shown = headline_segments(run.scenario)
        for r in first_met(run.monthly(), 0.95).itertuples():
            if r.segment in shown:
                since = r.first_met if isinstance(r.first_met, str) else "not met for good"
                rows.append({"scenario": name, "segment": r.segment, "95% met from (whole interval)": since})
    if not rows:
        return []
    return [
        "## Month by month",
        "",
        "Scenarios whose measures come into force at dates, per month of application: the first month "
        "from which the share of a segment's cases within its headline target in force reaches 95% with "
        "its whole 95% interval, in that month and every later one (a month without cases breaks the "
        "run); the trajectory figures below show every month.",
        "",
        _markdown_table(pd.DataFrame(rows)),
        "",
    ]


def _per_company(result: CompareResult) -> list[str]:
    """For the scenarios of a city: each supply company's share within each headline target."""
    lines = []
    for name in result.scenarios:
        run = result.runs[name]
        if not run.scenario.companies:
            continue
        shares = company_shares(run.company_summary(), run.scenario)
        table = shares[["company", "region"]].assign(cases=[f"{n:,.0f}" for n in shares["n_cases"]])
        for segment in headline_segments(run.scenario):
            cells = [_num(v, h, True) for v, h in zip(shares[segment], shares[f"{segment}_hw"])]
            table[f"{segment}: on target"] = cells
        lines += [f"**{name}**", "", _markdown_table(table), ""]
    if not lines:
        return []
    return [
        "## Per supply company",
        "",
        "Each company's cases only: the share within each segment's headline target (mean over "
        "replications ± 95% half-width).",
        "",
        *lines,
    ]


def _num(value: float, hw: float | None = None, percent: bool = False) -> str:
    if pd.isna(value):
        return "–"
    scale, unit, digits = (100, "%", 1) if percent else (1, "", 1)
    text = f"{scale * value:.{digits}f}{unit}"
    if hw is not None and not pd.isna(hw) and hw != 0:
        text += f" ± {scale * hw:.{digits}f}"
    return text


# the KPIs of the comparison table (the statistics of each segment's own target measure first),
# headed by their short labels in the KPI catalogue, and those also shown as paired differences
REPORTED = ("target_wd_mean", "target_wd_p95", "target_wd_max", "on_target_share", "procedures_mean")
DIFFERENCES = ("target_wd_mean", "on_target_share")
TABLE_LEGEND = (
    f"{' / '.join(short_label(k) for k in REPORTED[:3])}: the segment's target measure in working days; "
    f"{short_label('on_target_share')}: share of counted cases within the target; Δ: paired difference "
    "to the reference; ± 95% half-width"
)


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


def comparison_table(result: CompareResult) -> pd.DataFrame:
    """Rows: segment x scenario; columns: target, and per KPI the mean and the paired difference
    to the reference (± 95% half-widths). The printed and the reported table."""
    rows = []
    table = result.table
    for (segment, scenario), group in table.groupby(["segment", "scenario"], sort=False):
        g = group.set_index("kpi")
        target = g["target_measure"].iloc[0]
        days = g["target_days"].iloc[0]
        row = {
            "segment": segment,
            "scenario": scenario,
            short_label("target_days"): "–" if pd.isna(days) else f"{target} ≤ {days:g}",
        }
        for kpi in REPORTED:
            column, percent = short_label(kpi), is_share(kpi)
            row[column] = _num(g.at[kpi, "mean"], g.at[kpi, "hw"], percent)
            if kpi in DIFFERENCES:
                paired = _num(g.at[kpi, "diff"], g.at[kpi, "diff_hw"], percent)
                row[f"Δ {column}"] = paired if scenario != result.reference else "(ref.)"
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


def report_markdown(result: CompareResult, figures: dict[str, str]) -> str:
    """The report as Markdown; ``figures`` maps figure keys to file names beside the report."""
    lines = [
        f"# Comparison: {', '.join(result.scenarios)}",
        "",
        f"Reference: **{result.reference}**. Every scenario was run with seed **{result.seed}** and "
        f"**{result.replications}** replications on common random numbers: replication *r* of each "
        "scenario meets the same cases with the same luck, so differences are paired by replication. "
        "Values are means over replications ± the 95% t-interval half-width; times are in working days "
        "(wd) over the finished counted cases; the target measure is each segment's own "
        "(three-zero: full process; LV and HV: handling).",
        "",
        "## Scenarios",
        "",
    ]
    for name in result.scenarios:
        sc = result.runs[name].scenario
        lines.append(f"- **{name}** — {sc.title}" + (f" ({sc.title_zh})" if sc.title_zh else ""))
        lines.append(f"  file `{sc.source}`, digest `{sc.digest()[:16]}`")
    lines += [
        "",
        "## Results per segment",
        "",
        TABLE_LEGEND + ".",
        "",
        _markdown_table(comparison_table(result)),
        "",
    ]
    changes = target_changes(result)
    if changes:
        lines += [
            "Targets that differ between the scenarios (their Δ on target mixes a new bar with a new time):",
            "",
        ]
        lines += [f"- {c}" for c in changes] + [""]
    pools = result.pools
    pool_rows = pd.DataFrame(
        {
            "scenario": pools["scenario"],
            **({"company": pools["company"]} if "company" in pools else {}),
            "pool": pools["pool"],
            short_label("capacity"): [
                "unlimited" if c == float("inf") else f"{c:g}" for c in pools["capacity"]
            ],
            short_label("utilisation"): [
                _num(u, h, True) for u, h in zip(pools["utilisation"], pools["utilisation_hw"])
            ],
            heading("wait_wd_mean"): [_num(w) for w in pools["wait_wd_mean"]],
        }
    )
    if len(result.targets):
        lines += [
            "## Targets and verdicts",
            "",
            TARGETS_LEGEND + ".",
            "",
            _markdown_table(result.verdicts()),
            "",
        ]
    lines += _month_by_month(result) + _per_company(result)
    lines += ["## Pools", "", _markdown_table(pool_rows), ""]
    if figures:
        lines += ["## Figures", ""]
        for key, file in figures.items():
            lines += [f"![{caption(key)}]({file})", "", f"*{caption(key)}.*", ""]
    lines += [
        "## Assumptions the scenarios declare",
        "",
        "Each scenario lists those it adds to the scenarios above it (an overlay declares its parents'"
        " assumptions too).",
        "",
    ]
    listed: set[str] = set()
    for name in result.scenarios:
        new = [a for a in result.runs[name].scenario.assumptions if a not in listed]
        listed.update(new)
        if new:
            lines += [f"**{name}**", "", *[f"- {a}" for a in new], ""]
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


def _inline(text: str) -> str:
    text = html.escape(text.replace("\\|", "|"))
    text = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", text)
    text = re.sub(r"`(.+?)`", r"<code>\1</code>", text)
    return re.sub(r"\*(.+?)\*", r"<i>\1</i>", text)


def write_report(result: CompareResult, folder: Path, figures: dict[str, str]) -> tuple[Path, Path]:
    """Write ``report.md`` and ``report.html`` into ``folder`` (figures already there)."""
    folder = Path(folder)
    markdown = report_markdown(result, figures)
    md_path = write_text(folder / "report.md", markdown)
    html_path = write_text(folder / "report.html", report_html(markdown, folder))
    return md_path, html_path
