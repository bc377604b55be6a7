"""KPIs per segment and replication, from the per-case table (pure functions, no model state).

Distribution figures (mean, p50, p95, max) are taken over the *finished* counted cases. The share on
target counts a case as on target only when it finished within the bound: open cases are off target
(they are reported as ``n_open`` with the age of the oldest, never dropped).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.experiments.targets import selected
from sim.kpi_catalogue import MEASURE_NAMES, STATISTICS
from sim.scenario.schema import Scenario

KEYS = ["scenario", "replication", "segment"]


def segment_kpis(cases: pd.DataFrame, scenario: Scenario, replications) -> pd.DataFrame:
    """One row per (scenario, replication, segment) with the columns of the output contract.
    ``replications`` lists the replications run: one in which no counted case arrived still has
    its rows (zero cases), so that means over replications are not biased upwards."""
    rows = []
    for replication in replications:
        of_rep = cases[cases["replication"] == replication]
        for segment_name, segment in scenario.segments.items():
            seg = of_rep[of_rep["segment"] == segment_name]
            rows.append(kpis_of(seg, scenario.name, replication, segment_name, segment))
    return pd.DataFrame(rows)


def kpis_of(seg: pd.DataFrame, scenario: str, replication: int, name: str, segment) -> dict:
    finished = seg[seg["finished"]]
    n = len(seg)
    row: dict = {
        "scenario": scenario,
        "replication": int(replication),
        "segment": name,
        "n_cases": n,
        "n_finished": len(finished),
        "n_open": n - len(finished),
        "open_age_wd_max": float(seg.loc[~seg["finished"], "elapsed_wd"].max())
        if n > len(finished)
        else np.nan,
    }
    for m in MEASURE_NAMES:
        values = finished[f"{m}_wd"].to_numpy()
        if len(values):
            p50, p95 = np.percentile(values, [50, 95])
            row.update(
                {
                    f"{m}_wd_mean": values.mean(),
                    f"{m}_wd_p50": p50,
                    f"{m}_wd_p95": p95,
                    f"{m}_wd_max": values.max(),
                }
            )
        else:
            row.update({f"{m}_wd_{s}": np.nan for s in STATISTICS})
    row["elapsed_cd_mean"] = finished["elapsed_cd"].mean() if len(finished) else np.nan
    row["full_process_cd_mean"] = finished["full_process_cd"].mean() if len(finished) else np.nan
    target = segment.target
    row["target_measure"] = target.measure if target else None
    row["target_days"] = target.days if target else np.nan
    row["n_target_cases"], row["on_target_share"] = _share_within(seg, target) if target else (0, np.nan)
    maximum = segment.maximum
    row["maximum_measure"] = maximum.measure if maximum else None
    row["maximum_days"] = maximum.days if maximum else np.nan
    row["n_maximum_cases"], row["within_maximum_share"] = (
        _share_within(seg, maximum) if maximum else (0, np.nan)
    )
    row["procedures_mean"] = finished["procedures"].mean() if len(finished) else np.nan
    row["reworks_mean"] = finished["reworks"].mean() if len(finished) else np.nan
    return row


def _share_within(seg: pd.DataFrame, target) -> tuple[int, float]:
    """The cases the target applies to (its ``when``) and the share of them that finished within
    it (what the share's interval counts its cases from)."""
    if target.when is not None:
        seg = seg[selected(seg, target.when)]
    if len(seg) == 0:
        return 0, np.nan
    # a tiny tolerance so that a case exactly at the bound (sums of fixed durations) is on target
    ok = seg["finished"] & (seg[f"{target.measure}_wd"] <= target.days + 1e-9)
    return len(seg), float(ok.mean())
