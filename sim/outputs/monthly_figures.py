"""The plan's trajectory in one picture: per headline segment, the share of cases on target and the
mean of the target measure per month of application, with the targets in force and the dates the
dated measures come into force; below, the segment's applications per month
(``sim.experiments.monthly``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import pandas as pd

from sim.experiments.monthly import headline_segments
from sim.scenario.schema import Scenario


def _months(frame: pd.DataFrame) -> pd.DatetimeIndex:
    return pd.to_datetime(frame["month"] + "-15")  # the middle of the month


def trajectory_figure(
    monthly: pd.DataFrame,
    scenario: Scenario,
    segments: Sequence[str] | None = None,
    required: float = 0.95,
    title: str | None = None,
) -> plt.Figure:
    """``monthly`` is ``RunResult.monthly()`` (or one company's rows of ``monthly(by=["company"])``,
    with its ``title``); one column per segment of ``segments`` (default: those with a headline
    target) it holds."""
    wanted = headline_segments(scenario) if segments is None else segments
    shown = [s for s in wanted if s in set(monthly["segment"])]
    columns = max(len(shown), 1)
    width = 5.0 * columns
    fig, axes = plt.subplots(3, columns, figsize=(width, 9), sharex=True, squeeze=False)
    # margins in inches, set once: a layout engine would measure every tick of 15 axes at every
    # save (about half the time of the figure)
    fig.subplots_adjust(
        left=0.65 / width, right=1 - 0.1 / width, bottom=0.45 / 9, top=1 - 0.75 / 9, wspace=0.2, hspace=0.12
    )
    dates = sorted({m.from_ for m in scenario.measures})
    for col, segment in enumerate(shown):
        rows = monthly[monthly["segment"] == segment].sort_values("month")
        when = _months(rows)
        label = scenario.segments[segment].label
        share = 100 * rows["on_target_share"]
        low, high = (
            100 * rows["on_target_share_lo"].fillna(rows["on_target_share"]),
            100 * rows["on_target_share_hi"].fillna(rows["on_target_share"]),
        )
        ax = axes[0, col]
        ax.plot(when, share, marker=".", color="tab:blue")
        ax.fill_between(when, low, high, alpha=0.2)
        ax.axhline(100 * required, color="grey", linestyle="--", linewidth=1)
        ax.set_ylim(0, 101)
        ax.set_title(label)
        ax.set_ylabel(f"% within target (line {100 * required:g}%)")
        headline = scenario.segments[segment].target
        measure = headline.measure if headline is not None else None
        ax = axes[1, col]
        if measure is not None:
            mean = rows["target_wd_mean"]  # the segment's headline measure
            ax.plot(when, mean, marker=".", color="tab:green", label=f"mean {measure.replace('_', ' ')}")
            ax.step(when, rows["target_days"], where="mid", color="black", linestyle="--", label="target")
            ax.set_ylabel("working days")
            ax.legend(fontsize=8)
        for axis in axes[:2, col]:
            for day in dates:
                axis.axvline(pd.Timestamp(day), color="tab:orange", alpha=0.35, linewidth=1)
    for col, segment in enumerate(shown):
        rows = monthly[monthly["segment"] == segment].sort_values("month")
        ax = axes[2, col]
        ax.bar(_months(rows), rows["n_cases"], width=20, color="tab:grey")
        ax.set_ylabel("applications a month")
        ax.xaxis.set_major_locator(mdates.YearLocator())
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
        ax.xaxis.set_minor_locator(mdates.MonthLocator(bymonth=7))
    fig.suptitle(
        f"{title or scenario.title or scenario.name}: per month of application "
        f"(orange: a dated measure comes into force; {_span(dates)})"
    )
    return fig


def _span(dates: Sequence[date]) -> str:
    return f"{len(dates)} dates" if dates else "no dated measure"
