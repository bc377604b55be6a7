"""Summaries over replications: means with Student-t intervals, and paired differences.

Replications are independent and identically distributed runs, so a KPI's mean over ``n``
replications has the interval ``mean ± t(0.975, n-1) · s / sqrt(n)``. Two scenarios run with the
same seeds are compared replication by replication (paired), which keeps the common random numbers'
variance reduction.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as st


def t_half_width(values, confidence: float = 0.95) -> float:
    """Half-width of the t-interval of the mean; NaN with fewer than two finite values."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if len(x) < 2:
        return float("nan")
    return float(st.t.ppf(0.5 + confidence / 2, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x)))


def summarise(table: pd.DataFrame, by: list[str], columns: list[str]) -> pd.DataFrame:
    """Mean and 95% half-width (``<column>_hw``) of each column over the replications of each group."""
    grouped = table.groupby(by, sort=False, dropna=False)
    out = grouped[columns].mean()
    hw = grouped[columns].agg(t_half_width).add_suffix("_hw")
    out = pd.concat([out, hw], axis=1)
    out.insert(0, "replications", grouped.size())
    return out.reset_index()
