"""Fitting a duration distribution to observed times, some of them right-censored.

The candidates (``sim.evidence.families``) are the families the scenario format can write
(``docs/scenario-format.md``, "Distributions"): exponential, gamma, lognormal, triangular and
uniform (``fixed`` and ``empirical`` are not fitted: one says nothing varies, the other copies
the sample). Each is fitted by maximum likelihood, where a finished visit contributes its density
f(x) and a visit still open at the end of the log (its case not dropped) contributes the
probability of lasting longer than it was seen, the survival function S(c):

    log L = sum over finished log f(x_i) + sum over open log S(c_j)
            (+ sum of log(F(b_k) - F(a_k)) for finished times known only to lie in [a_k, b_k]),

and the family with the smallest AIC = 2 k - 2 log L is chosen (k parameters). The goodness of fit
is the Kolmogorov-Smirnov distance between the fitted CDF and the Kaplan-Meier estimate (the
empirical CDF when nothing is censored); the QQ data pair the Kaplan-Meier quantiles with the
fitted ones. The 95% intervals of the fitted mean and coefficient of variation come from the
observed information (the numerical Hessian of log L) by the delta method for the smooth families.
Triangular and uniform fits have a support that moves with their parameters, where that theory
does not hold: their intervals are the fitted value ± 1.96 bootstrap standard errors, from
``BOOTSTRAP_RESAMPLES`` nonparametric resamples of the visits (finished, open and interval-censored
alike, so censoring is resampled too), each refitted in the same family, on a fixed seed so that
a fit is reproducible. It is an interval of the fitted distribution's mean, so it holds that mean
(the sample's t-interval need not: a triangle's MLE mean is not the sample mean).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize

from sim.evidence.families import FAMILIES, Family
from sim.experiments.stats import Z95

MIN_OBSERVATIONS = 5
"""Fewer finished observations than this are reported, not fitted."""
REFIT_SIMPLEX, REFIT_TOL, REFIT_MAXFEV = 0.1, 1e-4, 1500
"""A resample's refit (simplex, tolerance, evaluations); at 0.02, 1e-3, 400 its SE was 9% small."""
BOOTSTRAP_RESAMPLES = 100
"""Resamples for the bootstrap standard error of a triangular or uniform fit's mean and cv (the
standard error's own relative error is about 1 / sqrt(2 x 99), 7%)."""
BOOTSTRAP_SEED = 20210301


@dataclass
class DurationFit:
    """The chosen family, its scenario mapping and statistics, and the data it was fitted to."""

    family: str
    spec: dict
    n: int  # finished observations (exact or interval-censored)
    n_censored: int
    aic: dict[str, float]  # every candidate's AIC (inf where the fit failed)
    ks: float
    mean: float
    mean_ci: tuple[float, float] | None
    cv: float
    cv_ci: tuple[float, float] | None
    observed: np.ndarray = field(repr=False)
    censored: np.ndarray = field(repr=False)
    qq: pd.DataFrame = field(repr=False)
    distribution: Any = field(repr=False)  # the fitted scipy.stats distribution
    n_between: int = 0  # of the n finished, known only between two times (interval-censored)
    interval: str = "delta method"  # how mean_ci and cv_ci were made

    def cdf(self, x: np.ndarray) -> np.ndarray:
        """The fitted CDF."""
        return np.asarray(self.distribution.cdf(x))


def _negative_log_likelihood(
    family: Family, x: np.ndarray, c: np.ndarray, between: tuple[np.ndarray, np.ndarray]
) -> Callable[[np.ndarray], float]:
    low, high = between

    def nll(theta: np.ndarray) -> float:
        with np.errstate(all="ignore"):
            try:
                total = family.log_likelihood(theta, x, c)
                if len(low) and np.isfinite(total):
                    dist = family.frozen(theta)
                    total += np.log(dist.cdf(high) - dist.cdf(low)).sum()
            except (ValueError, OverflowError, ZeroDivisionError):
                return math.inf
        return -float(total) if np.isfinite(total) else math.inf

    return nll


def _minimise(family: Family, nll: Callable[[np.ndarray], float], start: np.ndarray) -> np.ndarray:
    """Quasi-Newton for the smooth families; Nelder-Mead where the support moves with the
    parameters (the likelihood has corners there)."""
    if family.smooth:
        result = optimize.minimize(nll, start, method="BFGS", options={"gtol": 1e-6})
        if np.isfinite(result.fun):
            return result.x
    result = optimize.minimize(
        nll, start, method="Nelder-Mead", options={"xatol": 1e-5, "fatol": 1e-7, "maxiter": 1500}
    )
    return result.x


def _hessian(f: Callable[[np.ndarray], float], theta: np.ndarray, h: float = 1e-3) -> np.ndarray:
    k = len(theta)
    out = np.empty((k, k))
    for i in range(k):
        for j in range(i, k):
            ei, ej = np.eye(k)[i] * h, np.eye(k)[j] * h
            out[i, j] = out[j, i] = (
                f(theta + ei + ej) - f(theta + ei - ej) - f(theta - ei + ej) + f(theta - ei - ej)
            ) / (4 * h * h)
    return out


def _delta_intervals(family: Family, nll, theta: np.ndarray) -> list[tuple[float, float] | None]:
    """95% intervals of (mean, cv) by the delta method on the observed information."""
    try:
        cov = np.linalg.inv(_hessian(nll, theta))
    except np.linalg.LinAlgError:
        return [None, None]
    out: list[tuple[float, float] | None] = []
    for m in range(2):
        value = family.moments(theta)[m]
        grad = np.array(
            [
                (family.moments(theta + e)[m] - family.moments(theta - e)[m]) / 2e-5
                for e in np.eye(len(theta)) * 1e-5
            ]
        )
        var = float(grad @ cov @ grad)
        out.append((value - Z95 * math.sqrt(var), value + Z95 * math.sqrt(var)) if var >= 0 else None)
    if family.name == "exponential":
        out[1] = None  # the cv of an exponential is 1 by definition, not estimated
    return out


def _bootstrap_intervals(family: Family, data: tuple, theta: np.ndarray) -> list:
    """95% intervals of (mean, cv): the fitted value ± 1.96 standard errors of the refitted values
    over nonparametric resamples of all the visits (finished, open, known between two times). A
    resample's fit starts from the whole sample's (whose support holds every resample)."""
    x, c, low, high = data
    sizes = np.cumsum([len(x), len(c), len(low)])
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    steps = REFIT_SIMPLEX * np.r_[float(np.ptp(np.r_[x, c])), 1.0, 10.0][: len(theta)]
    options = {
        "xatol": REFIT_TOL,
        "fatol": REFIT_TOL,
        "maxfev": REFIT_MAXFEV,
        "initial_simplex": np.vstack([theta, theta + np.diag(steps)]),
    }
    draws = []
    for _ in range(BOOTSTRAP_RESAMPLES):
        pick = rng.integers(0, sizes[-1], sizes[-1])
        xb, cb = x[pick[pick < sizes[0]]], c[pick[(pick >= sizes[0]) & (pick < sizes[1])] - sizes[0]]
        bb = pick[pick >= sizes[1]] - sizes[1]
        if len(xb) + len(bb) < MIN_OBSERVATIONS:
            continue
        nll = _negative_log_likelihood(family, xb, cb, (low[bb], high[bb]))
        again = optimize.minimize(nll, theta, method="Nelder-Mead", options=options)
        if np.isfinite(again.fun):
            draws.append(family.moments(again.x))
    if len(draws) < BOOTSTRAP_RESAMPLES // 2:
        return [None, None]
    errors = np.asarray(draws).std(axis=0, ddof=1)
    fitted = family.moments(theta)
    return [(value - Z95 * se, value + Z95 * se) for value, se in zip(fitted, errors, strict=True)]


def kaplan_meier(x: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct finished times and the Kaplan-Meier CDF just after each (1 - survival)."""
    times = np.concatenate([x, c])
    finished = np.concatenate([np.ones(len(x), bool), np.zeros(len(c), bool)])
    order = np.lexsort((~finished, times))  # at a tie, a finish counts before a censoring
    times, finished = times[order], finished[order]
    at_risk = len(times) - np.arange(len(times))
    factors = np.where(finished, 1 - 1 / at_risk, 1.0)
    survival = np.cumprod(factors)[finished]
    event_times = times[finished]
    last = np.r_[event_times[1:] != event_times[:-1], True]  # one value per distinct time
    return event_times[last], 1 - survival[last]


def fit_duration(observed, censored=(), between=None) -> DurationFit | None:
    """Fit every family to ``observed`` finished times, ``censored`` times of visits still open
    and ``between``: (low, high) arrays of finished times known only to lie between the two
    (interval-censored: a calendar-day stage that ended during a weekend, see
    ``sim.evidence.estimates``); all non-negative. The fit with the smallest AIC, or None when
    fewer than ``MIN_OBSERVATIONS`` finished."""
    x = np.asarray(observed, dtype=float)
    c = np.asarray(censored, dtype=float)
    low, high = (
        (np.zeros(0), np.zeros(0)) if between is None else (np.asarray(b, dtype=float) for b in between)
    )
    if len(x) + len(low) < MIN_OBSERVATIONS:
        return None
    x = np.maximum(x, 1e-9)  # a zero duration has no density under a positive family
    middle = np.concatenate([x, (low + high) / 2])  # for starting points and the figure
    fits = {}
    for family in FAMILIES:
        nll = _negative_log_likelihood(family, x, c, (low, high))
        # a moving support must start past the open visits' times too, or the start has no likelihood
        theta = _minimise(family, nll, family.start(middle if family.smooth else np.r_[middle, c]))
        value = nll(theta)
        fits[family.name] = (2 * family.n_params + 2 * value, theta, nll, family)
    aic = {name: float(fit[0]) for name, fit in fits.items()}
    chosen = min(aic, key=lambda name: aic[name])
    _, theta, nll, family = fits[chosen]
    mean, cv = family.moments(theta)
    if family.smooth:
        mean_ci, cv_ci = _delta_intervals(family, nll, theta)
        method = "delta method"
    else:
        mean_ci, cv_ci = _bootstrap_intervals(family, (x, c, low, high), theta)
        method = f"bootstrap ({BOOTSTRAP_RESAMPLES} resamples, seed {BOOTSTRAP_SEED})"
    spec = {k: (round(float(v), 4) if not isinstance(v, str) else v) for k, v in family.spec(theta).items()}
    times, km = kaplan_meier(middle, c)
    fitted = np.asarray(family.frozen(theta).cdf(times))
    before = np.r_[0.0, km[:-1]]
    ks = float(max(np.max(np.abs(km - fitted)), np.max(np.abs(before - fitted))))
    pick = np.unique(np.linspace(0, len(times) - 1, min(len(times), 200)).astype(int))
    probabilities = np.clip((before[pick] + km[pick]) / 2, 1e-6, 1 - 1e-6)  # midpoints: never 1
    qq = pd.DataFrame(
        {
            "probability": probabilities,
            "empirical": times[pick],
            "fitted": family.frozen(theta).ppf(probabilities),
        }
    )
    distribution = family.frozen(theta)
    return DurationFit(
        chosen,
        spec,
        len(middle),
        len(c),
        aic,
        ks,
        mean,
        mean_ci,
        cv,
        cv_ci,
        middle,
        c,
        qq,
        distribution,
        len(low),
        method,
    )
