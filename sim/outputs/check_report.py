"""The regression check as text: the table of recorded against rerun KPIs with their tolerances
and verdicts, and the one-line count of verdicts (what ``run_sim.py check`` prints)."""

from __future__ import annotations

import math

import pandas as pd

from sim.experiments.check import VERDICTS
from sim.kpi_catalogue import is_share


def _num(x: float | None, signed: bool = False, unit: str = "") -> str:
    """Four significant digits (a check looks for small changes); a share in percent (``unit``:
    ``%`` for a value, `` pp`` for a difference)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    x = 100 * x if unit else x
    return (f"{x:+.4g}" if signed else f"{x:.4g}") + unit


ROWS = {  # which KPIs a check table shows, and what it says when there is none
    "all": (VERDICTS, "(no KPI)"),
    "changed": (tuple(v for v in VERDICTS if v != "same"), "(no KPI changed)"),
    "drifted": (("DRIFT", "missing"), "(no KPI drifted)"),
}


def format_report(report: pd.DataFrame, rows: str = "all") -> str:
    """The check table: group, KPI, recorded ± half-width, now, difference, tolerance, verdict;
    of every KPI, of those that changed, or of those that drifted (``rows``, see ``ROWS``)."""
    verdicts, nothing = ROWS[rows]
    shown = report[report["verdict"].isin(verdicts)]
    if shown.empty:
        return nothing
    share = [is_share(k) for k in shown["kpi"]]
    value = ["%" if s else "" for s in share]
    points = [" pp" if s else "" for s in share]
    table = pd.DataFrame(
        {
            "group": shown["group"],
            "kpi": shown["kpi"],
            "recorded": [
                # a share's t half-width would reach past 0-100%: its tolerance column says enough
                _num(v, unit=u) + ("" if math.isnan(h) or u else f" ±{_num(h)}")
                for v, h, u in zip(shown["recorded"], shown["half_width"], value)
            ],
            "now": [_num(v, unit=u) for v, u in zip(shown["now"], value)],
            "difference": [
                _num(v, signed=True, unit=p) if v != 0 else "0" for v, p in zip(shown["difference"], points)
            ],
            "tolerance": [
                _num(v, unit=p) if not math.isnan(v) else "exact" for v, p in zip(shown["tolerance"], points)
            ],
            "verdict": shown["verdict"],
        }
    )
    return table.to_string(index=False)


def summary_line(report: pd.DataFrame) -> str:
    """The number of KPIs with each verdict, e.g. ``268 KPIs: 266 same, 2 within``."""
    counts = report["verdict"].value_counts()
    parts = [f"{counts[v]} {v}" for v in VERDICTS if counts.get(v, 0)]
    return f"{len(report)} KPIs: " + ", ".join(parts)
