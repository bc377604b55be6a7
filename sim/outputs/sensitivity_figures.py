"""Figures and report of a sensitivity run: which assumptions decide each KPI.

Per KPI and segment, one figure of two panels: ``mu_star`` against ``sigma`` (Morris), each input
a labelled dot (far right: the KPI moves most with it; high up: its effect depends on the other
inputs or is not linear), and the inputs ranked by ``mu_star`` as bars with their bootstrap 95%
interval. For Sobol indices, the bars of the total index ``ST`` with ``S1`` beside them. The
report (``report.md``) names, per KPI, the inputs that decide it. Never imported by the model.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sim import kpi_catalogue
from sim.experiments.sensitivity import SensitivityOutcome, constant_value
from sim.outputs.tables import save_figure, write_text

TOP = 3  # inputs named as deciding a KPI in the report
LABELLED = 6  # inputs labelled in the mu_star / sigma panel (the others are in the ranked bars)


def _scale(kpi: str) -> tuple[float, str]:
    """Shares in percentage points, other KPIs in their unit."""
    if kpi_catalogue.is_share(kpi):
        return 100.0, "percentage points"
    return 1.0, kpi_catalogue.unit_label(kpi)


def plot_indices(indices: pd.DataFrame, kpi: str, segment: str, title: str | None = None) -> plt.Figure:
    """The indices of one KPI of one segment (rows of the ``indices`` table), as a figure."""
    rows = indices[(indices["kpi"] == kpi) & (indices["segment"] == segment)].reset_index(drop=True)
    morris = "mu_star" in rows.columns
    factor, unit = _scale(kpi) if morris else (1.0, "share of variance")
    main = "mu_star" if morris else "ST"
    fig, axes = plt.subplots(
        1, 2 if morris else 1, figsize=(13 if morris else 7.5, 5.5), layout="constrained"
    )
    bars = axes[1] if morris else axes
    if morris:
        ax = axes[0]
        ax.scatter(rows["mu_star"] * factor, rows["sigma"] * factor, color="tab:blue")
        named = rows[(rows["mu_star"] > 0) | (rows["sigma"] > 0)].head(LABELLED)
        unnamed = len(rows) - len(named)
        if unnamed:
            note = f"{unnamed} inputs of lower rank not labelled (see the bars)"
            ax.annotate(note, (0.98, 0.02), xycoords="axes fraction", ha="right", va="bottom", fontsize=8)
        for _, row in named.iterrows():
            ax.annotate(
                str(row["label"]),
                (row["mu_star"] * factor, row["sigma"] * factor),
                fontsize=7,
                xytext=(3, 3),
                textcoords="offset points",
            )
        ax.set_xlim(left=0, right=max(float(rows["mu_star"].max()) * factor * 1.6, 1e-9))
        ax.set_xlabel(f"μ* ({unit}, over the input's range)")
        ax.set_ylabel(f"σ ({unit})")
        ax.set_title("Effect (μ*) and its spread (σ)")
        ax.grid(alpha=0.3)
    order = rows.iloc[::-1]  # the first rank at the top
    y = np.arange(len(order))
    low, high = interval(order, morris)
    errors = np.clip([order[main] - low, high - order[main]], 0, None) * factor
    bars.barh(y, order[main] * factor, xerr=errors, color="tab:orange", capsize=3)
    if not morris:
        bars.scatter(order["S1"] * factor, y, color="black", marker="|", s=200, label="S1 (first order)")
        bars.legend(loc="lower right")
    bars.set_yticks(y, [str(v) for v in order["label"]], fontsize=8)
    bars.set_xlabel(f"{'μ*' if morris else 'total index ST'} ({unit if morris else 'share of variance'})")
    bars.set_title(
        "Inputs ranked (95% interval" + (", bootstrap percentiles)" if morris else ", at least 0)")
    )
    bars.grid(axis="x", alpha=0.3)
    fig.suptitle(title or f"{kpi_catalogue.label(kpi)}: {segment}")
    return fig


def write_sensitivity_outputs(outcome: SensitivityOutcome) -> list[str]:
    """Draw one figure per KPI and write ``report.md`` into the output folder; the file names."""
    assert outcome.out is not None, "write_sensitivity_outputs needs an output folder"
    main = "mu_star" if outcome.design.spec.method == "morris" else "ST"
    names = []
    for kpi, segment in outcome.design.spec.kpis:
        rows = outcome.indices[(outcome.indices["kpi"] == kpi) & (outcome.indices["segment"] == segment)]
        if rows[main].notna().all() and constant(outcome, kpi, segment) is None:
            name = f"sensitivity_{kpi}_{segment}.png"
            figure = plot_indices(outcome.indices, kpi, segment, _heading(outcome, kpi, segment))
            save_figure(figure, outcome.out / name)
            names.append(name)
    write_text(outcome.out / "report.md", report(outcome))
    return [*names, "report.md"]


def _heading(outcome: SensitivityOutcome, kpi: str, segment: str) -> str:
    """``Share of cases on target, LV small/micro (three-zero): full process ≤ 8 wd for 95%``."""
    scenario = outcome.design.spec.base_scenario
    part = scenario.segments[segment]
    text = f"{kpi_catalogue.label(kpi)}, {part.label or segment}"
    target = part.target
    if kpi == "on_target_share" and target is not None:
        share = f" for {target.share:.0%}" if target.share is not None else ""
        text += f": {target.measure.replace('_', ' ')} ≤ {target.days:g} wd{share}"
    return text


def constant(outcome: SensitivityOutcome, kpi: str, segment: str) -> float | None:
    """The KPI's value when it is the same at every design point (no input moves it), else None."""
    return constant_value(outcome.table[f"{kpi}:{segment}"])


def interval(rows: pd.DataFrame, morris: bool) -> tuple[pd.Series, pd.Series]:
    """The 95% interval of each input's main index: Morris' bootstrap percentiles of ``mu_star``
    (never below 0), Sobol's ``ST`` ± its half-width with the low end clipped at 0."""
    if morris:
        return rows["mu_star_low"], rows["mu_star_high"]
    return (rows["ST"] - rows["ST_conf"]).clip(lower=0), rows["ST"] + rows["ST_conf"]


def tiers(low: list[float], high: list[float]) -> list[list[int]]:
    """Ranked inputs (their positions) in groups the intervals tell apart: a group ends where the
    interval of every input so far lies above those of all the inputs ranked below."""
    groups, start = [], 0
    for cut in range(1, len(low)):
        if min(low[:cut]) > max(high[cut:]):
            groups.append(list(range(start, cut)))
            start = cut
    return [*groups, list(range(start, len(low)))]


def deciding(rows: pd.DataFrame, kpi: str, morris: bool) -> str:
    """Which inputs decide a KPI (its ranked rows): the first ``TOP`` whose 95% intervals lie clearly
    above those ranked below them and above no effect, and the inputs the design cannot tell apart
    (from each other, or from no effect). No effect is 0, or, for Morris with the replications'
    values, the ``mu_star`` their noise alone reaches (``mu_star_noise``, the largest over inputs):
    a mean of absolute effects turns noise into a positive effect."""
    factor = _scale(kpi)[0] if morris else 1.0
    main = "mu_star" if morris else "ST"
    rows = rows.reset_index(drop=True)
    low, high = interval(rows, morris)
    k = len(rows)
    noise = noise_of(rows) if morris else 0.0
    *apart, last = tiers([*low, 0.0], [*high, noise])  # the last group holds no effect at all (k)
    near_zero = [i for i in last if i < k and rows.loc[i, main] > 0]
    reaches = "reaches 0" if noise == 0 else f"reaches the noise level (μ* {_number(noise, factor)})"

    def named(g: list[int]) -> str:
        return ", ".join(
            f"{int(r['rank'])}. {r['label']} (`{r['input']}`, {'μ*' if morris else 'ST'} "
            f"{_number(r[main], factor)}, 95% interval {_number(low[i], factor)}–{_number(high[i], factor)})"
            for i, r in rows.loc[g[:LABELLED]].iterrows()
        ) + (f" and {len(g) - LABELLED} more" if len(g) > LABELLED else "")

    if not apart and not near_zero:
        return "No input moves this KPI within its range."
    if not apart and all(low[i] <= noise for i in near_zero):
        return (
            f"No input stands apart from no effect: every 95% interval {reaches}, so this design cannot "
            f"tell that any moves the KPI: {named(near_zero)}."
        )
    if not apart or len(apart[0]) > TOP:
        down_to = (
            f"to intervals that {reaches.replace('reaches', 'reach')}"
            if not apart
            else f"to rank {len(apart[0])}"
        )
        return (
            "No input stands apart: each input's 95% interval overlaps that of an input ranked below "
            f"it, down {down_to}, so this design cannot tell which decides the KPI; by μ*: "
            f"{named(apart[0] if apart else near_zero)}."
        )
    decided: list[list[int]] = []
    for g in apart:
        if sum(map(len, decided)) + len(g) > TOP:
            break
        decided.append(g)
    parts = [named(g) if len(g) == 1 else f"{named(g)}, not told apart" for g in decided]
    n = sum(map(len, decided))
    its = "its interval" if n == 1 else "their intervals"
    below = f", {its} above those of the inputs ranked below" if n < k else ""
    text = f"Decided by: {'; '.join(parts)}{below}."
    if n < TOP and len(apart) > len(decided):
        text += f" Then, not told apart by this design: {named(apart[len(decided)])}."
    elif n < TOP and near_zero:
        chain = f"intervals overlapping down to one that {reaches}"
        text += f" Then, not told apart from no effect ({chain}): {named(near_zero)}."
    return text


def noise_of(rows: pd.DataFrame) -> float:
    """The noise level of a KPI's ranked Morris rows: the largest ``mu_star_noise`` (0 where it is
    not known: a table without it, or fewer than two replications)."""
    if "mu_star_noise" not in rows:
        return 0.0
    level = pd.to_numeric(rows["mu_star_noise"], errors="coerce").max()
    return 0.0 if pd.isna(level) else float(level)


def _number(value: float, factor: float) -> str:
    return "–" if pd.isna(value) else f"{value * factor:.2f}"


def report(outcome: SensitivityOutcome) -> str:
    """``report.md``: per KPI, the inputs that decide it, ranked, with the full table."""
    spec = outcome.design.spec
    morris = spec.method == "morris"
    size = (
        f"{spec.trajectories} trajectories on {spec.levels} levels"
        if morris
        else f"Saltelli sample of N = {spec.samples}"
    )
    lines = [
        f"# Sensitivity to assumptions: {spec.title or spec.name}",
        "",
        f"Base scenario `{spec.base}`, {len(spec.inputs)} uncertain inputs, "
        f"{'Morris screening' if morris else 'Sobol indices'} ({size}): "
        f"{len(outcome.design.rows)} design rows, {len(outcome.design.sweep.points)} distinct scenarios "
        f"x {spec.replications} replications, seed {spec.seed}, "
        "common random numbers (every point runs the same random draws). File: "
        f"`{spec.source}`.",
        "",
        "These rank the scenario's ASSUMPTIONs (the ranges of the sensitivity file) by how much each "
        "moves a KPI; they are not findings about the process. An input near the top is one a "
        "measured figure should replace first.",
        "",
    ]
    if morris:
        lines += [
            "μ*: mean absolute elementary effect, about how much the KPI moves when the input "
            "crosses its whole range (shares in percentage points); σ: spread of the effects "
            "(interactions, non-linearity); the 95% interval of μ*: bootstrap percentiles of the "
            "trajectories' effects (never below 0). An input decides a KPI when its interval lies "
            "above those of the inputs ranked below it; inputs whose intervals overlap are not told "
            "apart.",
            "",
        ]
    for kpi, segment in spec.kpis:
        lines += _kpi_section(outcome, kpi, segment)
    return "\n".join(lines) + "\n"


def _kpi_section(outcome: SensitivityOutcome, kpi: str, segment: str) -> list[str]:
    spec = outcome.design.spec
    morris = spec.method == "morris"
    rows = outcome.indices[(outcome.indices["kpi"] == kpi) & (outcome.indices["segment"] == segment)]
    factor, unit = _scale(kpi)
    main = "mu_star" if morris else "ST"
    values = outcome.table[f"{kpi}:{segment}"]
    lines = [f"## {_heading(outcome, kpi, segment)}", ""]
    if (value := constant(outcome, kpi, segment)) is not None:
        shown = f"{value * factor:.2f}" + (" %" if factor == 100.0 else f" {unit}")
        lines += [
            f"The KPI is {shown} at every design point: no input moves it within its range; "
            "nothing is ranked.",
            "",
        ]
        return lines
    if rows[main].isna().any():
        lines += ["No indices: at some design point no replication has a value of this KPI.", ""]
        return lines
    lines.append(
        f"Over the design the mean over replications ranges {values.min() * factor:.2f} – "
        f"{values.max() * factor:.2f}" + (" %." if factor == 100.0 else f" {unit}.")
    )
    lines += ["", deciding(rows, kpi, morris)]
    heads = "μ* | 95% interval | μ | σ" if morris else "ST | ± | S1 | ±"
    lines += ["", f"| rank | input | range | {heads} |", "|---:|---|---|---:|---:|---:|---:|"]
    for _, r in rows.iterrows():
        if morris:
            span = f"{_number(r['mu_star_low'], factor)}–{_number(r['mu_star_high'], factor)}"
            cells = " | ".join(
                [_number(r[main], factor), span, _number(r["mu"], factor), _number(r["sigma"], factor)]
            )
        else:
            cells = " | ".join(_number(r[c], 1.0) for c in ("ST", "ST_conf", "S1", "S1_conf"))
        lines.append(f"| {r['rank']} | {r['label']} | [{r['low']:g}, {r['high']:g}] | {cells} |")
    lines.append("")
    return lines
