"""Figures of a sweep: a KPI over one or two swept parameters (matplotlib figures, not shown).

``plot_sweep(table, kpi, segment=..., x=..., y=...)`` takes the tidy table of ``sim.sweep`` and
draws the mean of the KPI over replications: a heatmap over two parameters (cells annotated with
the mean and its 95% half-width), or lines over ``x`` (one line per value of ``y``, error bars of
the 95% interval) with ``kind="lines"`` or when only one parameter is given. The KPI's label and
unit are the KPI catalogue's. Never imported by the model.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sim import kpi_catalogue
from sim.experiments.sweep import SweepOutcome, parameter_columns, summarise_sweep
from sim.outputs.tables import save_figure


def _decimals(half_width: float) -> int:
    """Decimals that show a value to a tenth of its 95% half-width (1 to 3)."""
    if not np.isfinite(half_width) or half_width <= 0:
        return 2
    return int(min(3, max(1, -np.floor(np.log10(half_width)) + 1)))


def _axis_label(parameter: str | None, labels: dict | None) -> str:
    return str((labels or {}).get(parameter, parameter))


def _tick(value) -> str:
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def plot_sweep(
    table: pd.DataFrame,
    kpi: str = "on_target_share",
    segment: str | None = None,
    x: str | None = None,
    y: str | None = None,
    kind: str = "auto",
    labels: dict[str, str] | None = None,
    title: str | None = None,
    segment_label: str | None = None,
    ax=None,
):
    """A figure of ``kpi`` (mean over replications) for one ``segment`` over the parameters ``x``
    and ``y`` (default: the sweep's first two parameters). ``kind``: ``heatmap``, ``lines`` or
    ``auto`` (a heatmap for two parameters, lines for one). ``labels`` maps parameter keys to axis
    labels (with units); ``segment_label`` names the segment in the title. Returns the matplotlib
    ``Figure``."""
    params = parameter_columns(table)
    if not params:
        raise ValueError("the table has no parameter columns (is it a sweep table?)")
    if kpi not in table.columns:
        raise ValueError(f"no KPI column '{kpi}' in the sweep table")
    segments = list(dict.fromkeys(table["segment"]))
    if segment is None:
        if len(segments) != 1:
            raise ValueError(f"name a segment, one of {', '.join(segments)}")
        segment = segments[0]
    if segment not in segments:
        raise ValueError(f"no segment '{segment}' in the sweep table; expected one of {', '.join(segments)}")
    x = x or params[0]
    if y is None and len(params) > 1:
        y = next(p for p in params if p != x)
    for p in (x, y):
        if p is not None and p not in params:
            raise ValueError(f"'{p}' is not a parameter of the sweep; expected one of {', '.join(params)}")
    if kind == "auto":
        kind = "heatmap" if y is not None else "lines"
    if kind not in ("heatmap", "lines"):
        raise ValueError(f"kind must be heatmap, lines or auto, found {kind!r}")
    if kind == "heatmap" and y is None:
        raise ValueError("a heatmap needs two parameters (x and y)")

    summary = summarise_sweep(table, kpi, segment)
    name = kpi_catalogue.label(kpi)
    factor = 100.0 if kpi_catalogue.is_share(kpi) else 1.0  # shares in percent
    seg_label = segment_label or segment
    reps = int(summary["replications"].max()) if len(summary) else 0
    others = [p for p in params if p not in (x, y)]
    if ax is None:
        fig, ax = plt.subplots(figsize=(7.5, 5.2), layout="constrained")
    else:
        fig = ax.figure
    value_label = kpi_catalogue.axis_label(kpi)

    if kind == "heatmap":
        # mean over the points of each cell (other parameters, if any, are averaged over)
        cells = summary.groupby([y, x], sort=False, dropna=False)
        means = cells[kpi].mean() * factor
        hws = cells[f"{kpi}_hw"].mean() * factor
        xs = list(dict.fromkeys(summary[x]))
        ys = list(dict.fromkeys(summary[y]))
        xs_sorted = sorted(xs, key=_sort_key)
        ys_sorted = sorted(ys, key=_sort_key)
        grid = np.full((len(ys_sorted), len(xs_sorted)), np.nan)
        half = np.full_like(grid, np.nan)
        for (yv, xv), value in means.items():
            grid[ys_sorted.index(yv), xs_sorted.index(xv)] = value
            half[ys_sorted.index(yv), xs_sorted.index(xv)] = hws[(yv, xv)]
        image = ax.imshow(grid, origin="lower", aspect="auto", cmap="viridis")
        ax.set_xticks(range(len(xs_sorted)), [_tick(v) for v in xs_sorted])
        ax.set_yticks(range(len(ys_sorted)), [_tick(v) for v in ys_sorted])
        finite = grid[np.isfinite(grid)]
        middle = (finite.min() + finite.max()) / 2 if len(finite) else 0
        # one decimal more than the narrowest half-width needs (94.97 must not read as 95), the
        # same in every cell
        digits = max((_decimals(h) for h in half.flat if np.isfinite(h)), default=1)
        for i in range(grid.shape[0]):
            for j in range(grid.shape[1]):
                if np.isfinite(grid[i, j]):
                    text = f"{grid[i, j]:.{digits}f}"
                    if np.isfinite(half[i, j]):
                        text += f"\n±{half[i, j]:.2g}"
                    color = "black" if grid[i, j] > middle else "white"
                    ax.text(j, i, text, ha="center", va="center", fontsize=8, color=color)
        fig.colorbar(image, ax=ax, label=value_label)
        ax.set_xlabel(_axis_label(x, labels))
        ax.set_ylabel(_axis_label(y, labels))
    else:
        groups = [(None, summary)] if y is None else list(summary.groupby(y, sort=False, dropna=False))
        groups.sort(key=lambda g: _sort_key(g[0]))
        share = kpi_catalogue.is_share(kpi)
        for value, part in groups:
            spread = [f"{kpi}_lo", f"{kpi}_hi"] if share else [f"{kpi}_hw"]
            part = part.groupby(x, sort=False, dropna=False)[[kpi, *spread]].mean().reset_index()
            part = part.sort_values(x, key=lambda s: s.map(_sort_key))
            positions = part[x] if pd.api.types.is_numeric_dtype(part[x]) else range(len(part))
            label = None if value is None else f"{_axis_label(y, labels)} = {_tick(value)}"
            if share:  # the bounded interval: never past 100%
                below, above = (
                    (part[kpi] - part[f"{kpi}_lo"]).clip(0),
                    (part[f"{kpi}_hi"] - part[kpi]).clip(0),
                )
                errors = np.vstack([below.fillna(0), above.fillna(0)]) * factor
            else:
                errors = (part[f"{kpi}_hw"] * factor).fillna(0).to_numpy()
            ax.errorbar(
                positions,
                part[kpi] * factor,
                yerr=errors,
                marker="o",
                capsize=3,
                label=label,
            )
            if not pd.api.types.is_numeric_dtype(part[x]):
                ax.set_xticks(range(len(part)), [_tick(v) for v in part[x]])
        xs = sorted(set(summary[x].dropna()), key=_sort_key)
        if pd.api.types.is_numeric_dtype(summary[x]) and len(xs) <= 12:
            ax.set_xticks(xs, [_tick(v) for v in xs])  # the swept values, not a round-number scale
        ax.set_xlabel(_axis_label(x, labels))
        ax.set_ylabel(value_label)
        ax.grid(alpha=0.3)
        if y is not None:
            ax.legend(fontsize=8)
    averaged = f"; averaged over {', '.join(others)}" if others else ""
    ax.set_title(
        title or f"{name}: {seg_label}\nmean of {reps} replications per point, ± 95% half-width{averaged}",
        fontsize=10,
    )
    return fig


def _sort_key(value):
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return (2, 0.0, "")
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return (0, float(value), "")
    return (1, 0.0, str(value))


def save_sweep_figure(table: pd.DataFrame, path: str | Path, **kwargs) -> str | Path:
    """``plot_sweep`` written to ``path`` (PNG), figure closed; returns the path."""
    save_figure(plot_sweep(table, **kwargs), Path(path))
    return path


FIGURE_ARGUMENTS = ("kpi", "segment", "x", "y", "kind", "title")


def write_sweep_figures(outcome: SweepOutcome) -> list[str]:
    """The figures the sweep file asks for, as PNG files in the sweep's output folder; returns
    their names. A figure that cannot be drawn (e.g. a KPI the table does not have) is skipped
    with a warning: the data is saved anyway. Pass it as ``figures=`` to ``sim.sweep``."""
    if outcome.out is None or not len(outcome.table):
        return []
    segments = outcome.spec.points[0].scenario.segments
    names: list[str] = []
    for wanted in outcome.spec.figures:
        kwargs = {k: v for k, v in wanted.items() if k in FIGURE_ARGUMENTS}
        name = wanted.get("file") or f"{wanted['kpi']}-{wanted.get('segment') or 'all'}.png"
        if name in names and not wanted.get("file"):  # the same KPI drawn twice (a heatmap, lines)
            name = f"{name.removesuffix('.png')}-{wanted.get('kind') or len(names)}.png"
        segment = wanted.get("segment")
        label = f"{segments[segment].label} ({segment})" if segment in segments else None
        try:
            save_sweep_figure(
                outcome.table, outcome.out / name, labels=outcome.spec.labels, segment_label=label, **kwargs
            )
        except ValueError as exc:
            warnings.warn(f"figure {name} not drawn: {exc}", RuntimeWarning, stacklevel=2)
            continue
        names.append(name)
    return names
