"""What ``optimise`` leaves behind: the staffing table, the replications behind it, a figure per
target and a manifest, in one folder (``write_staffing``).

The figure (``staffing_figure``) has a panel per target: every staffing the search simulated, in
order of cost, with its mean over replications and the one-sided bounds the verdict was taken on,
coloured by that target's verdict; the target as a dashed line; the chosen staffing framed.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no window, no display needed
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from sim.experiments.staffing import MET, MISSED, RULED_OUT, StaffingResult
from sim.kpi_catalogue import axis_label, is_share
from sim.outputs.tables import FORMATS, save_figure, write_manifest, write_table

COLOURS = {MET: "tab:green", MISSED: "tab:red"}  # a target still open: grey


def staffing_figure(result: StaffingResult) -> Figure:
    """A panel per target: the simulated staffings by cost, mean and bounds, the target line."""
    spec = result.spec
    simulated = [c for c in result.candidates if c.verdict != RULED_OUT]
    n = len(spec.targets)
    width = max(8.0, 0.55 * len(simulated) + 2)
    fig, axes = plt.subplots(n, 1, figsize=(width, 2 + 3.2 * n), squeeze=False, layout="constrained")
    ticks = [" · ".join(str(m) for m in c.staffing) + f"\n{c.cost:g}" for c in simulated]
    for i, (ax, target) in enumerate(zip(axes[:, 0], spec.targets)):
        scale = 100.0 if is_share(target.kpi) else 1.0
        for x, c in enumerate(simulated):
            check = c.checks[i]
            colour = COLOURS.get(check.verdict, "grey")
            low, high = scale * check.low, scale * check.high
            ax.plot([x, x], [low, high], color=colour, linewidth=2, alpha=0.6)
            ax.plot(x, scale * check.mean, "o", color=colour)
            if result.chosen is not None and c.staffing == result.chosen.staffing:
                ax.plot(x, scale * check.mean, "s", markersize=14, fillstyle="none", color="black")
        ax.axhline(scale * target.bound, color="black", linestyle="--", linewidth=1, label=target.describe())
        ax.set_xticks(range(len(simulated)), ticks, fontsize=8)
        ax.set_ylabel(axis_label(target.kpi))
        ax.set_title(f"{spec.targets[i].segment}: {target.describe()}", fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    axes[-1, 0].set_xlabel(f"staffing ({' · '.join(spec.pools)}) and its cost, cheapest first")
    handles = [
        plt.Line2D([], [], marker="o", color=COLOURS[MET], label="target met"),
        plt.Line2D([], [], marker="o", color=COLOURS[MISSED], label="target missed"),
        plt.Line2D([], [], marker="o", color="grey", label="open (not decided)"),
    ]
    if result.chosen is not None:
        handles.append(
            plt.Line2D([], [], marker="s", fillstyle="none", color="black", linestyle="", label="chosen")
        )
    axes[0, 0].legend(handles=handles, fontsize=8, loc="best")
    confidence = f"{spec.confidence:.0%}"
    outcome = "" if result.chosen is not None else ": no staffing within the bounds meets every target"
    fig.suptitle(
        f"{spec.title or spec.name}{outcome}\nmean over replications and the one-sided bounds of the "
        f"verdicts (confidence {confidence} per staffing)",
        fontsize=10,
    )
    return fig


def write_staffing(
    result: StaffingResult, out: str | Path, fmt: str = "parquet", command: list[str] | None = None
) -> list[str]:
    """Write ``staffings`` (one row per staffing looked at), ``kpis`` and ``pools`` (every
    replication simulated), ``staffing.png`` and ``manifest.json`` to ``out``; the names written.
    (The replications of each staffing are already in ``out/staffings/`` if the search had ``out``.)"""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    out = Path(out)
    written = [
        write_table(result.table, out, "staffings", fmt),
        write_table(result.kpis, out, "kpis", fmt),
        write_table(result.pools, out, "pools", fmt),
    ]
    names = [p.name for p in written]
    if len(result.table) and (result.table["verdict"] != RULED_OUT).any():
        names.append(save_figure(staffing_figure(result), out / "staffing.png").name)
    spec = result.spec
    chosen = result.chosen
    write_manifest(
        out,
        {
            "result": ["optimise", spec.name],
            "staffing_file": spec.source,
            "name": spec.name,
            "base": spec.base,
            "seed": spec.seed,
            "confidence": spec.confidence,
            "replications": spec.replications.model_dump(),
            "assume_monotone": spec.assume_monotone,
            "pools": {
                p: {"min": lo, "max": hi, "cost": spec.costs[p]} for p, (lo, hi) in spec.bounds.items()
            },
            "targets": [t.model_dump(exclude_none=True) for t in spec.targets],
            "chosen": dict(zip(spec.pools, chosen.staffing)) if chosen else None,
            "cost": chosen.cost if chosen else None,
            "replications_computed": result.computed,
            "replications_reused": result.reused,
            "executor": result.executor,
            "seconds": round(result.seconds, 3),
            "files": names,
            **({"command": command} if command else {}),
        },
    )
    return [*names, "manifest.json"]
