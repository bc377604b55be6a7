"""Figures of a comparison: distributions against the targets, a waterfall of days saved, shares
on target and pool utilisation. Every function returns a matplotlib ``Figure`` and draws nothing on
screen; the caller saves it. Labels are English by default and Chinese with ``lang="zh"``
(segment names from the scenario's ``label_zh``), in a CJK font when one is installed.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.experiments.compare import HEADLINE_SEGMENTS, CompareResult, consecutive_differences
from sim.kpi_catalogue import CLOCKS, label, show
from sim.outputs.answer import verdict_cells
from sim.outputs.fonts import CJK_HINT, cjk_font
from sim.outputs.wording import VERDICTS, compared_label, measure_label, segment_label

TEXT = {
    "en": {
        "distribution": "Distribution of the target measure per segment",
        "cdf": "share of cases",
        "wd": CLOCKS["wd"].en,
        "target": "target",
        "waterfall": "Change of the mean target measure, scenario by scenario (roll-out order)",
        "mean_wd": "mean, working days",
        "on_target": label("on_target_share"),
        "share": "share on target (%; dashed: required)",
        "utilisation": "Pool utilisation",
        "util_axis": "utilisation (%)",
        "end": "level",
        "waterfall_by_measure": "Change of the mean target measure, measure by measure (roll-out order)",
        "same_as": "same as",
    },
    "zh": {
        "distribution": "各类客户目标指标的分布",
        "cdf": "累计占比",
        "wd": CLOCKS["wd"].zh,
        "target": "目标",
        "waterfall": "目标指标平均值的变化（按推行顺序）",
        "mean_wd": "平均值（工作日）",
        "on_target": label("on_target_share", "zh"),
        "share": "达标率（%；虚线：要求比例）",
        "utilisation": "资源利用率",
        "util_axis": "利用率（%）",
        "end": "水平",
        "waterfall_by_measure": "目标指标平均值的变化，逐项措施（按推行顺序，配对）",
        "same_as": "与此相同：",
    },
}


def _style(lang: str) -> dict:
    if lang not in TEXT:
        raise ValueError(f"unknown language {lang!r}; expected one of {', '.join(TEXT)}")
    if lang == "zh":
        font = cjk_font()
        if font is None:
            warnings.warn(CJK_HINT, stacklevel=3)
            return {}
        return {"font.family": [font, "DejaVu Sans"], "axes.unicode_minus": False}
    return {}


def _measure_label(measure: str | None, lang: str) -> str:
    return measure_label(measure, lang)


def _segment_label(result: CompareResult, segment: str, lang: str) -> str:
    return segment_label(result.runs[result.reference].scenario, segment, lang)


def _scenario_label(result: CompareResult, name: str, lang: str) -> str:
    return compared_label(result, name, lang)


def _target_segments(result: CompareResult) -> list[str]:
    with_target = result.table.dropna(subset=["target_days"])["segment"].unique().tolist()
    return [
        s
        for s in with_target
        if result.table.query("segment == @s and kpi == 'target_wd_mean'")["mean"].notna().any()
    ]


def target_distribution_figure(
    result: CompareResult, segments: Sequence[str] | None = None, lang: str = "en"
) -> Figure:
    """ECDF of each case's target measure, per segment and scenario, with the target lines.

    The axis is focused on the targets (up to three times the largest bound): the share of each
    scenario's cases beyond it is written at the right edge instead of stretching the axis to the
    longest case. Each target line names the scenarios that hold it; a scenario whose curve is
    the same as an earlier one's says so in the legend (its curve is hidden under the other)."""
    t = TEXT[lang]
    segments = list(segments or _target_segments(result))
    with plt.rc_context(_style(lang)):
        ncols = min(3, len(segments)) or 1
        nrows = max(1, -(-len(segments) // ncols))
        fig, axes = plt.subplots(nrows, ncols, figsize=(5.2 * ncols, 3.8 * nrows), squeeze=False)
        for ax, segment in zip(axes.flat, segments):
            bounds: dict[float, list[str]] = {}
            measure = None
            curves: dict[str, np.ndarray] = {}
            for name in result.scenarios:
                run = result.runs[name]
                target = run.scenario.segments[segment].target
                if target is None:
                    continue
                measure = target.measure
                cases = run.cases[(run.cases["segment"] == segment) & run.cases["finished"]]
                curves[name] = np.sort(cases[f"{measure}_wd"].to_numpy())
                bounds.setdefault(target.days, []).append(_scenario_label(result, name, lang))
            edge = 3 * max(bounds) if bounds else None
            for i, (name, values) in enumerate(curves.items()):
                if not len(values):
                    continue
                same = next((o for o in list(curves)[:i] if np.array_equal(curves[o], values)), None)
                text = _scenario_label(result, name, lang)
                if same is not None:
                    text += f" ({t['same_as']} {_scenario_label(result, same, lang)})"
                share = np.arange(1, len(values) + 1) / len(values)
                line = ax.step(values, share, where="post", label=text)[0]
                beyond = float((values > edge).mean()) if edge is not None else 0.0
                if beyond > 0 and same is None:  # one line per scenario, stacked under the top
                    ax.annotate(
                        f"{100 * beyond:.1f}% > {edge:g} →",
                        (edge, 0.9 - 0.08 * i),
                        fontsize=7,
                        ha="right",
                        va="top",
                        color=line.get_color(),
                    )
            for days, holders in bounds.items():
                ax.axvline(days, color="black", linestyle="--", linewidth=1)
                who = "" if len(bounds) == 1 else f" ({', '.join(holders)})"
                ax.annotate(
                    f"{t['target']} {days:g}{who}",
                    (days, 0.02),
                    rotation=90,
                    fontsize=7,
                    ha="right",
                    va="bottom",
                )
            measure_label = _measure_label(measure, lang)
            ax.set_title(f"{_segment_label(result, segment, lang)} — {measure_label}")
            ax.set_xlabel(f"{measure_label} ({t['wd']})")
            ax.set_ylabel(t["cdf"])
            ax.set_ylim(0, 1.02)
            if edge is not None:
                ax.set_xlim(0, edge)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7, loc="lower right")
        for ax in list(axes.flat)[len(segments) :]:
            ax.set_visible(False)
        fig.suptitle(t["distribution"])
        fig.tight_layout()
    return fig


def _step_label(result: CompareResult, name: str, lang: str, by_measure: bool) -> str:
    """A scenario on a waterfall's axis; a package's step by its measure's short name ("M1")."""
    short = re.match(r"M\d+[^:]{0,10}:", result.runs[name].scenario.title)  # "M2 (2023): ..."
    if by_measure and short:
        return short.group(0).rstrip(":")
    return _scenario_label(result, name, lang)


def waterfall_figure(
    result: CompareResult,
    segments: Sequence[str] = HEADLINE_SEGMENTS,
    lang: str = "en",
    by_measure: bool = False,
) -> Figure:
    """From the reference's mean target measure, the change each next scenario brings, in the order
    given (e.g. baseline → 2021 → 2022 → 2023, or a package's measures one at a time with
    ``by_measure``), ending at the last scenario's level. Each step carries the 95% interval of
    its paired difference (``consecutive_differences``)."""
    t = TEXT[lang]
    segments = [s for s in segments if s in set(result.table["segment"])]
    means = result.table[result.table["kpi"] == "target_wd_mean"].set_index(["segment", "scenario"])["mean"]
    steps_hw = consecutive_differences(result, ["target_wd_mean"])
    names = list(result.scenarios)
    if by_measure and len(names) > 2:  # a package's own keys that change nothing: no step of their own
        last = steps_hw[steps_hw["scenario"] == names[-1]]
        if (last["difference"].fillna(0) == 0).all():
            names = names[:-1]  # the last measure's level is the package's
    steps_hw = steps_hw.set_index(["segment", "scenario"])["difference_hw"] if len(steps_hw) else pd.Series()
    with plt.rc_context(_style(lang)):
        width = max(5.2, 0.55 * (len(result.scenarios) + 1))
        fig, axes = plt.subplots(
            1, max(1, len(segments)), figsize=(width * max(1, len(segments)), 4), squeeze=False
        )
        for ax, segment in zip(axes.flat, segments):
            levels = [means.get((segment, name), np.nan) for name in names]
            labels = [_step_label(result, n, lang, by_measure) for n in names]
            package = _step_label(result, result.scenarios[-1], lang, by_measure)
            x = np.arange(len(levels) + 1)
            ax.bar(x[0], levels[0], color="tab:gray")
            ax.text(x[0], levels[0], f"{levels[0]:.1f}", ha="center", va="bottom", fontsize=8)
            for i in range(1, len(levels)):
                step = levels[i] - levels[i - 1]
                hw = steps_hw.get((segment, names[i]), np.nan)
                color = "tab:green" if step <= 0 else "tab:red"
                ax.bar(x[i], step, bottom=levels[i - 1], color=color)
                top = max(levels[i], levels[i - 1])
                if np.isfinite(hw) and hw > 0:
                    ax.errorbar(x[i], levels[i], yerr=hw, color="black", capsize=2, linewidth=0.8)
                    top = max(top, levels[i] + hw)  # the label above the interval, not on it
                label = show("target_wd_mean", step, difference=True)
                ax.text(x[i], top, label, ha="center", va="bottom", fontsize=8)
            ax.bar(x[-1], levels[-1], color="tab:blue")
            ax.text(x[-1], levels[-1], f"{levels[-1]:.1f}", ha="center", va="bottom", fontsize=8)
            target = result.runs[result.scenarios[-1]].scenario.segments[segment].target
            if target is not None:
                ax.axhline(
                    target.days,
                    color="black",
                    linestyle="--",
                    linewidth=1,
                    label=f"{t['target']} {target.days:g}",
                )
                ax.legend(fontsize=8)
            steps = [f"→ {label}" for label in labels[1:]]
            ax.set_xticks(
                x, [labels[0], *steps, f"{package} ({t['end']})"], rotation=30, ha="right", fontsize=8
            )
            top = np.nanmax([*levels, target.days if target else 0])
            ax.set_ylim(0, top * 1.15)
            ax.set_ylabel(t["mean_wd"])
            measure = target.measure if target else None
            ax.set_title(f"{_segment_label(result, segment, lang)} — {_measure_label(measure, lang)}")
            ax.grid(axis="y", alpha=0.3)
        fig.suptitle(t["waterfall_by_measure" if by_measure else "waterfall"])
        fig.tight_layout()
    return fig


def _grouped_bars(
    ax,
    frame,
    key: str,
    groups: list[str],
    value: str,
    interval: tuple[str, str],
    result: CompareResult,
    lang: str,
):
    """One bar per group and scenario (in percent), with the 95% interval (``interval``: the
    columns of its low and high ends) as error bar."""
    width = 0.8 / max(1, len(result.scenarios))
    x = np.arange(len(groups))
    low, high = interval
    for i, name in enumerate(result.scenarios):
        sub = frame[frame["scenario"] == name].set_index(key).reindex(groups)
        errors = np.vstack([(sub[value] - sub[low]).fillna(0), (sub[high] - sub[value]).fillna(0)])
        ax.bar(
            x + i * width,
            100 * sub[value],
            width,
            yerr=100 * errors.clip(0),
            capsize=2,
            label=_scenario_label(result, name, lang),
        )
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    return x + width * (len(result.scenarios) - 1) / 2


def on_target_figure(result: CompareResult, lang: str = "en") -> Figure:
    """Share of cases on target, per segment and scenario, as points with their 95% intervals
    on an axis zoomed to where they lie, and each segment's required share as a dashed line."""
    t = TEXT[lang]
    rows = result.table[(result.table["kpi"] == "on_target_share") & result.table["mean"].notna()]
    segments = list(dict.fromkeys(rows["segment"]))
    ref = result.runs[result.reference].scenario
    width = 0.8 / max(1, len(result.scenarios))
    with plt.rc_context(_style(lang)):
        fig, ax = plt.subplots(figsize=(max(6, 1.6 * len(segments) * max(1, len(result.scenarios)) / 2), 4))
        x = np.arange(len(segments))
        for i, name in enumerate(result.scenarios):
            sub = rows[rows["scenario"] == name].set_index("segment").reindex(segments)
            errors = np.vstack([(sub["mean"] - sub["lo"]).fillna(0), (sub["hi"] - sub["mean"]).fillna(0)])
            ax.errorbar(
                x - 0.4 + width * (i + 0.5),
                100 * sub["mean"],
                yerr=100 * errors.clip(0),
                fmt="o",
                capsize=3,
                label=_scenario_label(result, name, lang),
            )
        for j, segment in enumerate(segments):
            target = ref.segments[segment].target if segment in ref.segments else None
            if target is not None and target.share is not None:
                ax.hlines(100 * target.share, j - 0.45, j + 0.45, colors="grey", linestyles="--", linewidth=1)
        lowest = float(np.nanmin(100 * rows["lo"].fillna(rows["mean"]))) if len(rows) else 0.0
        ax.set_ylim(max(0.0, min(lowest, 90.0) - 2), 100.5)  # zoomed: the steps near the target show
        ax.set_xticks(
            x, [_segment_label(result, s, lang) for s in segments], rotation=20, ha="right", fontsize=8
        )
        ax.set_ylabel(t["share"])
        ax.legend(fontsize=8)
        ax.grid(axis="y", alpha=0.3)
        ax.set_title(t["on_target"])
        fig.tight_layout()
    return fig


def utilisation_figure(result: CompareResult, lang: str = "en") -> Figure:
    """Time-weighted utilisation of each limited pool, per scenario, with 95% intervals."""
    t = TEXT[lang]
    pools = result.pools[np.isfinite(result.pools["capacity"])]
    # a city's pools are per company: one bar group per company and pool
    company = pools["company"].fillna("") if "company" in pools else pd.Series("", index=pools.index)
    pools = pools.assign(group=company.str.cat(pools["pool"], sep=" · ").str.removeprefix(" · "))
    names = list(dict.fromkeys(pools["group"]))
    ref = result.runs[result.reference].scenario
    with plt.rc_context(_style(lang)):
        fig, ax = plt.subplots(figsize=(max(6, 1.1 * len(names) * max(1, len(result.scenarios)) / 2), 4))
        interval = ("utilisation_lo", "utilisation_hi")
        centres = _grouped_bars(ax, pools, "group", names, "utilisation", interval, result, lang)
        ax.set_ylim(0, 105)
        labels = []
        for group in names:
            owner, _, pool = group.rpartition(" · ")
            spec = ref.resources.get(pool)
            label = (spec.label_zh if lang == "zh" else spec.label) if spec is not None else None
            labels.append(f"{owner} · {label or pool}" if owner else label or pool)
        ax.set_xticks(centres, labels, rotation=30, ha="right", fontsize=8)
        ax.set_ylabel(t["util_axis"])
        ax.set_title(t["utilisation"])
        fig.tight_layout()
    return fig


VERDICT_COLOURS = {"met": "#7fbf7b", "missed": "#ef8a62", "undecided": "#f7f7b0", "reported": "#e0e0e0"}


def verdict_figure(result: CompareResult, lang: str = "en") -> Figure:
    """Every target (rows) of every scenario (columns; per year of application where judged per
    year): a cell coloured by its verdict, with the statistic written in it."""
    columns, cells = verdict_cells(result, lang)
    rows = list(dict.fromkeys(c["row"] for c in cells))
    names = [f"{segment}: {target}" for segment, target in rows]
    with plt.rc_context(_style(lang)):
        longest = max((len(r) for r in names), default=10)
        fig, ax = plt.subplots(figsize=(1 + 0.07 * longest + 2.3 * len(columns), 1 + 0.42 * len(rows)))
        for c in cells:
            i, j = rows.index(c["row"]), columns.index(c["column"])
            colour = VERDICT_COLOURS.get(c["verdict"], "white")
            ax.add_patch(plt.Rectangle((j, i), 1, 1, color=colour, ec="white"))
            word = VERDICTS[lang].get(c["verdict"], c["verdict"])
            ax.text(j + 0.5, i + 0.5, f"{c['short']}\n{word}", ha="center", va="center", fontsize=7)
        ax.set_xlim(0, len(columns))
        ax.set_ylim(len(rows), 0)
        ax.set_xticks([j + 0.5 for j in range(len(columns))])
        ax.set_xticklabels(columns, fontsize=8)
        ax.xaxis.tick_top()
        ax.set_yticks([i + 0.5 for i in range(len(rows))], names, fontsize=7)
        ax.tick_params(length=0)
        for side in ax.spines.values():
            side.set_visible(False)
        fig.tight_layout()
    return fig


# the comparison's figures by file name (without .png): each takes (result, lang=...)
FIGURES: dict[str, Callable[..., Figure]] = {
    "target_distribution": target_distribution_figure,
    "waterfall": waterfall_figure,
    "on_target": on_target_figure,
    "utilisation": utilisation_figure,
    "verdicts": verdict_figure,
}
