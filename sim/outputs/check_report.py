"""The regression check as text: the table of recorded against rerun KPIs with their tolerances
and verdicts, and the one-line count of verdicts (what ``run_sim.py check`` prints)."""

from __future__ import annotations

import math

import pandas as pd

from sim.experiments.check import VERDICTS


def _num(x: float | None, signed: bool = False) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:+.4g}" if signed else f"{x:.4g}"


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
    table = pd.DataFrame(
        {
            "group": shown["group"],
            "kpi": shown["kpi"],
            "recorded": [
                _num(v) + ("" if math.isnan(h) else f" ±{_num(h)}")
                for v, h in zip(shown["recorded"], shown["half_width"])
            ],
            "now": [_num(v) for v in shown["now"]],
            "difference": [_num(v, signed=True) if v != 0 else "0" for v in shown["difference"]],
            "tolerance": [_num(v) if not math.isnan(v) else "exact" for v in shown["tolerance"]],
            "verdict": shown["verdict"],
        }
    )
    return table.to_string(index=False)


def summary_line(report: pd.DataFrame) -> str:
    """The number of KPIs with each verdict, e.g. ``268 KPIs: 266 same, 2 within``."""
    counts = report["verdict"].value_counts()
    parts = [f"{counts[v]} {v}" for v in VERDICTS if counts.get(v, 0)]
    return f"{len(report)} KPIs: " + ", ".join(parts)
