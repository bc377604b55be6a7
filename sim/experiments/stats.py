"""Summaries over replications: means with Student-t intervals, paired differences, and how many
replications a KPI needs for a requested precision.

Replications are independent and identically distributed runs, so a KPI's mean over ``n``
replications has the interval ``mean ± t(0.975, n-1) · s / sqrt(n)``. Two scenarios run with the
same seeds are compared replication by replication (paired): the interval of the mean difference
uses the standard deviation of the per-replication differences, which is small when the two
scenarios share their random numbers (``sim.engine.streams``: common random numbers that stay
synchronised).

The number of replications a KPI needs for a half-width ``h`` is the smallest ``n`` with
``t(0.975, n-1) · s / sqrt(n) ≤ h``, where ``s`` is the standard deviation estimated from the
replications run so far. ``sim.experiments.replications.run_to_precision`` uses it sequentially: run a few
replications, estimate, run the missing ones, check again.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache

import numpy as np
import pandas as pd

from sim.kpi_catalogue import is_kpi, is_share


class PrecisionError(ValueError):
    """A precision request that cannot be read or names no KPI or segment (bad input)."""


@lru_cache(maxsize=1024)
def t_quantile(probability: float, df: int) -> float:
    """The ``probability`` quantile of Student's t with ``df`` degrees of freedom.

    scipy.stats is imported here, on first use, not with the module: a worker process that only
    runs replications never pays for it."""
    from scipy import stats

    return float(stats.t.ppf(probability, df))


@lru_cache(maxsize=64)
def normal_quantile(probability: float) -> float:
    """The ``probability`` quantile of the standard normal distribution."""
    from scipy import stats

    return float(stats.norm.ppf(probability))


def t_half_width(values, confidence: float = 0.95) -> float:
    """Half-width of the t-interval of the mean; NaN with fewer than two finite values."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if len(x) < 2:
        return float("nan")
    return float(t_quantile(0.5 + confidence / 2, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x)))


# the count of cases each share of cases is a share of (per replication): it caps the effective
# number of cases of the share's bounded interval
SHARE_OF = {
    "on_target_share": "n_target_cases",
    "within_maximum_share": "n_maximum_cases",
    "share_within": "n_subject",
}


def share_interval(values, cases=None, confidence: float = 0.95) -> tuple[float, float]:
    """The interval of a mean share over replications that never leaves 0–1: a Wilson score
    interval with the effective number of cases of the replications' spread.

    A share's t-interval ``p ± t·s/√R`` runs past 100% when ``p`` is close to 1. The Wilson interval
    of ``n`` independent cases stays inside 0–1; the replications tell how many independent cases
    their spread is worth: ``n_eff = p(1-p) / (s²/R)`` (a queue makes cases of one replication
    alike, so ``n_eff`` is usually far below the cases simulated), capped at the cases counted
    (``cases``: per replication, summed; without them, uncapped) and taken as all of them when the
    replications do not differ or ``p`` is 0 or 1. With ``t(1-α/2, R-1)`` for ``z`` where ``n_eff``
    comes from the spread, this is the Korn–Graubard construction of survey statistics, and away
    from 0 and 1 it is the t-interval; where ``n_eff`` is the cases counted, no variance was
    estimated and ``z`` is the normal quantile (the Wilson interval of those cases). NaN
    with fewer than two finite values; ``(p, p)`` when nothing bounds the spread (no counts and no
    spread)."""
    x = np.asarray(values, dtype=float)
    ok = np.isfinite(x)
    x = x[ok]
    if len(x) < 2:
        return math.nan, math.nan
    p = float(x.mean())
    total = math.inf if cases is None else float(np.nansum(np.asarray(cases, dtype=float)[ok]))
    var_mean = float(x.var(ddof=1)) / len(x)
    spread = p * (1 - p) / var_mean if var_mean > 0 and 0 < p < 1 else math.inf
    n = min(spread, total)
    if not n > 0:
        return math.nan, math.nan
    if math.isinf(n):
        return p, p
    # a spread estimated from R replications: Student's t with R-1 degrees of freedom; the cases
    # counted: the binomial's own normal quantile (no variance was estimated)
    q = 0.5 + confidence / 2
    return wilson_bounds(p, n, t_quantile(q, len(x) - 1) if spread < total else normal_quantile(q))


Z95 = 1.959963984540054
"""The 97.5% quantile of the standard normal: a two-sided 95% interval is ± ``Z95`` SE."""


def wilson_bounds(p: float, n: float, z: float) -> tuple[float, float]:
    """The Wilson score interval of a share ``p`` of ``n`` independent cases, ``z`` its quantile."""
    shrink = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / shrink
    half = z / shrink * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def wilson(successes: int, trials: int) -> tuple[float, float, float]:
    """The share and its 95% Wilson score interval (NaN when there is no trial)."""
    if trials <= 0:
        return math.nan, math.nan, math.nan
    p = successes / trials
    return (p, *wilson_bounds(p, trials, Z95))


def poisson_interval(count: int) -> tuple[float, float]:
    """The exact (Garwood) 95% interval of a Poisson mean from one observed count."""
    from scipy.stats import chi2  # here: scipy is slow to import, and few callers need it

    low = chi2.ppf(0.025, 2 * count) / 2 if count > 0 else 0.0
    return float(low), float(chi2.ppf(0.975, 2 * count + 2) / 2)


def summarise(
    table: pd.DataFrame,
    by: Sequence[str],
    columns: Sequence[str],
    confidence: float = 0.95,
    counts: bool = False,
) -> pd.DataFrame:
    """The one summary over replications: per group of ``by`` (in order of appearance), the rows
    (``replications``), then for each column its mean and its half-width ``<column>_hw``, for a
    share (the KPI catalogue's unit) its bounded interval ``<column>_lo`` / ``<column>_hi``
    (``share_interval``, what tables, figures and verdicts show), and with ``counts`` the number of
    finite values ``<column>_n``.

    A mean leaves missing values out (a KPI with no finished case in a replication) and keeps
    infinite ones (an unlimited pool's capacity is infinite in every replication); the half-width
    uses the finite values (``t_half_width``). Run summaries, comparisons, sweeps and the
    regression check all read their means and intervals from here, so they agree to the bit.
    """
    by, columns = list(by), list(columns)
    names = [*by, "replications", *columns, *(f"{c}_hw" for c in columns)]
    shares = [c for c in columns if is_share(c)]
    names += [f"{c}_{end}" for c in shares for end in ("lo", "hi")]
    names += [f"{c}_n" for c in columns] if counts else []
    if table.empty:  # e.g. the pools of a scenario without pools
        return pd.DataFrame(columns=names)
    rows = []
    for key, part in table.groupby(by, sort=False, dropna=False):
        row = dict(zip(by, key if isinstance(key, tuple) else (key,)))
        row["replications"] = len(part)
        values = {c: part[c].to_numpy(dtype=float) for c in columns}
        for c, x in values.items():
            present = x[~np.isnan(x)]
            row[c] = float(present.mean()) if len(present) else math.nan
        for c, x in values.items():
            row[f"{c}_hw"] = t_half_width(x, confidence)
        for c in shares:
            cases = part[SHARE_OF[c]] if SHARE_OF.get(c) in part else None
            row[f"{c}_lo"], row[f"{c}_hi"] = share_interval(values[c], cases, confidence)
        if counts:
            for c, x in values.items():
                row[f"{c}_n"] = int(np.isfinite(x).sum())
        rows.append(row)
    return pd.DataFrame(rows, columns=names)


def kpi_columns(kpis: pd.DataFrame) -> list[str]:
    """The KPI columns of a ``kpis`` table, in its order: those the KPI catalogue calls KPIs
    (identifiers and targets' settings left out)."""
    return [c for c in kpis.columns if is_kpi(c) and pd.api.types.is_numeric_dtype(kpis[c].dtype)]


def paired_differences(
    reference: pd.DataFrame,
    other: pd.DataFrame,
    columns: Iterable[str] | None = None,
    by: Iterable[str] = ("segment",),
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Paired differences ``other - reference`` of KPIs, replication by replication.

    ``reference`` and ``other`` are ``kpis`` tables (one row per replication and segment) of two
    scenarios run with the same seed. Rows are matched on ``by`` + ``replication``; only the
    replications both have are used. One row per group and KPI: ``replications``, the two means,
    ``difference`` (mean of the paired differences), ``difference_hw`` (its t half-width),
    ``difference_lo`` / ``difference_hi`` and ``difference_sd`` (standard deviation of the
    per-replication differences). Pairs where either value is missing (a KPI with no finished
    case) are left out of that KPI's figures.
    """
    by = list(by)
    columns = list(columns) if columns is not None else kpi_columns(reference)
    keys = [*by, "replication"]
    merged = reference[keys + columns].merge(other[keys + columns], on=keys, suffixes=("_ref", "_oth"))
    rows = []
    for group, part in merged.groupby(by, sort=False, dropna=False):
        group = group if isinstance(group, tuple) else (group,)
        for column in columns:
            a = part[f"{column}_ref"].to_numpy(dtype=float)
            b = part[f"{column}_oth"].to_numpy(dtype=float)
            ok = np.isfinite(a) & np.isfinite(b)
            d = b[ok] - a[ok]
            hw = t_half_width(d, confidence)
            mean = float(d.mean()) if len(d) else math.nan
            rows.append(
                {
                    **dict(zip(by, group)),
                    "kpi": column,
                    "replications": int(ok.sum()),
                    "reference": float(a[ok].mean()) if ok.any() else math.nan,
                    "other": float(b[ok].mean()) if ok.any() else math.nan,
                    "difference": mean,
                    "difference_hw": hw,
                    "difference_lo": mean - hw,
                    "difference_hi": mean + hw,
                    "difference_sd": float(d.std(ddof=1)) if len(d) > 1 else math.nan,
                }
            )
    return pd.DataFrame(rows)


def replications_needed(values, half_width: float, confidence: float = 0.95, limit: int = 1_000_000) -> int:
    """Replications needed for a t-interval of half-width ``half_width``, estimated from ``values``.

    The smallest ``n ≥ 2`` with ``t(1-α/2, n-1) · s / sqrt(n) ≤ half_width``, where ``s`` is the
    sample standard deviation of the finite ``values`` (at least two are needed). A KPI that did not
    vary needs 2. Capped at ``limit``.
    """
    if not half_width > 0:
        raise ValueError(f"half_width must be positive, found {half_width}")
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if len(x) < 2:
        raise ValueError("at least two finite values are needed to estimate a standard deviation")
    s = float(x.std(ddof=1))
    if s == 0:
        return 2
    q = 0.5 + confidence / 2

    def reached(n: int) -> bool:
        return t_quantile(q, n - 1) * s / math.sqrt(n) <= half_width

    from scipy import stats

    low = max(2, math.ceil((stats.norm.ppf(q) * s / half_width) ** 2))  # t > z: a lower bound
    if low >= limit:
        return limit
    if reached(low):
        return low
    high = low
    while not reached(high):  # the half-width falls with n: double until reached, then bisect
        low, high = high, min(2 * high, limit)
        if high == limit and not reached(high):
            return limit
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if reached(middle) else (middle, high)
    return high


def parse_precision(
    items: Mapping[str, float | str] | Iterable[str],
) -> list[tuple[str | None, str, float, bool]]:
    """Precision requests as ``(segment or None, kpi, half_width, relative)``.

    Accepts a mapping ``{"on_target_share": 0.02, "lv_smb.handling_wd_mean": "5%"}`` or strings
    ``"KPI=H"`` / ``"SEGMENT.KPI=H"`` as given on the command line. ``H`` is a half-width in the
    KPI's units, or a percentage of the KPI's mean (``5%``). Raises ``ValueError`` with a message
    for people.
    """
    pairs: list[tuple[str, float | str]]
    if isinstance(items, Mapping):
        pairs = [(str(k), v) for k, v in items.items()]
    else:
        pairs = []
        for item in items:
            key, sep, given = str(item).partition("=")
            if not sep or not key.strip():
                raise PrecisionError(
                    f"--precision {item}: expected KPI=HALF_WIDTH, e.g. on_target_share=0.02"
                )
            pairs.append((key.strip(), given.strip()))
    out = []
    for key, value in pairs:
        text = str(value).strip()
        relative = text.endswith("%")
        try:
            number = float(text[:-1] if relative else text)
        except ValueError:
            raise PrecisionError(
                f"--precision {key}={value}: expected a number (the half-width) or a percentage, e.g. 5%"
            ) from None
        if not number > 0 or not math.isfinite(number):
            raise PrecisionError(f"--precision {key}={value}: the half-width must be positive")
        segment, _, kpi = key.rpartition(".")
        out.append((segment or None, kpi, number / 100 if relative else number, relative))
    return out


def precision_report(
    kpis: pd.DataFrame,
    requests: list[tuple[str | None, str, float, bool]],
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Per requested (segment, KPI): replications so far, mean, half-width, the half-width asked
    for, the replications needed (estimated) and whether the precision is met.

    A request without a segment applies to every segment where the KPI has finite values; a KPI
    that has fewer than two finite values in a segment is reported with ``needed`` missing.
    """
    rows = []
    segments = list(dict.fromkeys(kpis["segment"]))
    for segment, kpi, half_width, relative in requests:
        if kpi not in kpis.columns:
            known = ", ".join(kpi_columns(kpis))
            raise PrecisionError(f"--precision: no KPI '{kpi}'; expected one of {known}")
        if segment is not None and segment not in segments:
            raise PrecisionError(
                f"--precision: no segment '{segment}'; expected one of {', '.join(segments)}"
            )
        for seg in [segment] if segment is not None else segments:
            values = kpis.loc[kpis["segment"] == seg, kpi].to_numpy(dtype=float)
            finite = values[np.isfinite(values)]
            if segment is None and len(finite) == 0:
                continue  # e.g. on_target_share of a segment without a target
            mean = float(finite.mean()) if len(finite) else math.nan
            wanted = half_width * abs(mean) if relative else half_width
            hw = t_half_width(finite, confidence)
            if len(finite) >= 2 and wanted > 0:
                needed = replications_needed(finite, wanted, confidence)
                met = bool(hw <= wanted + 1e-15)
            elif len(finite) >= 2 and float(finite.std(ddof=1)) == 0:  # mean 0 with a relative request
                needed, met = 2, True
            else:
                needed, met = None, False
            rows.append(
                {
                    "segment": seg,
                    "kpi": kpi,
                    "replications": len(values),
                    "mean": mean,
                    "half_width": hw,
                    "requested": wanted,
                    "needed": needed,
                    "met": met,
                }
            )
    report = pd.DataFrame(
        rows, columns=["segment", "kpi", "replications", "mean", "half_width", "requested", "needed", "met"]
    )
    report["needed"] = report["needed"].astype("Int64")
    return report
