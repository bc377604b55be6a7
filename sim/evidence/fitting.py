"""Fitting a duration distribution to observed times, some of them right-censored, and intervals of
shares and counts.

The candidates are the families the scenario format can write (``docs/scenario-format.md``,
"Distributions"): exponential, gamma, lognormal, triangular and uniform (``fixed`` and
``empirical`` are not fitted: one says nothing varies, the other copies the sample). Each is fitted
by maximum likelihood, where a finished visit contributes its density f(x) and a visit still open
at the end of the log (its case not dropped) contributes the probability of lasting longer than it
was seen, the survival function S(c):

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
from scipy import optimize, special, stats

from sim.experiments.stats import Z95

MIN_OBSERVATIONS = 5
"""Fewer finished observations than this are reported, not fitted."""
REFIT_SIMPLEX, REFIT_TOL, REFIT_MAXFEV = 0.1, 1e-4, 1500
"""A resample's refit (simplex, tolerance, evaluations); at 0.02, 1e-3, 400 its SE was 9% small."""
BOOTSTRAP_RESAMPLES = 100
"""Resamples for the bootstrap standard error of a triangular or uniform fit's mean and cv (the
standard error's own relative error is about 1 / sqrt(2 x 99), 7%)."""
BOOTSTRAP_SEED = 20210301


@dataclass(frozen=True)
class Family:
    """A distribution family as the scenario format writes it, on unconstrained parameters."""

    name: str
    n_params: int
    frozen: Callable[[np.ndarray], Any]  # theta -> a frozen scipy.stats distribution
    start: Callable[[np.ndarray], np.ndarray]  # observations -> a starting theta
    spec: Callable[[np.ndarray], dict]  # theta -> the scenario's mapping ({dist: ..., ...})
    moments: Callable[[np.ndarray], tuple[float, float]]  # theta -> (mean, cv)
    log_likelihood: Callable[[np.ndarray, np.ndarray, np.ndarray], float]  # theta, finished, open
    smooth: bool = True  # regular likelihood: delta-method intervals hold


def _log_moments(x: np.ndarray) -> tuple[float, float]:
    logs = np.log(np.maximum(x, 1e-9))
    return float(logs.mean()), max(float(logs.std()), 1e-3)


def _gamma_start(x: np.ndarray) -> np.ndarray:
    mean, var = float(x.mean()), max(float(x.var()), 1e-9)
    shape = max(mean * mean / var, 1e-3)
    return np.log([shape, mean / shape])


def _triangle(theta: np.ndarray) -> tuple[float, float, float]:
    low, width = theta[0], math.exp(theta[1])
    return low, low + width / (1 + math.exp(-theta[2])), low + width


def _triangle_start(x: np.ndarray) -> np.ndarray:
    span = max(float(x.max() - x.min()), 1e-6)
    low, high = max(float(x.min()) - 0.01 * span, 0.0), float(x.max()) + 0.01 * span
    mode = min(max(3 * float(x.mean()) - low - high, low + 0.05 * span), high - 0.05 * span)
    frac = (mode - low) / (high - low)
    return np.array([low, math.log(high - low), math.log(frac / (1 - frac))])


def _triangle_moments(theta: np.ndarray) -> tuple[float, float]:
    a, c, b = _triangle(theta)
    mean = (a + b + c) / 3
    var = (a * a + b * b + c * c - a * b - a * c - b * c) / 18
    return mean, math.sqrt(max(var, 0.0)) / mean


def _uniform_moments(theta: np.ndarray) -> tuple[float, float]:
    a, b = theta[0], theta[0] + math.exp(theta[1])
    return (a + b) / 2, (b - a) / math.sqrt(12) / ((a + b) / 2)


def _exponential_ll(t: np.ndarray, x: np.ndarray, c: np.ndarray) -> float:
    scale = math.exp(t[0])
    return -len(x) * t[0] - (x.sum() + c.sum()) / scale


def _gamma_ll(t: np.ndarray, x: np.ndarray, c: np.ndarray) -> float:
    k, scale = math.exp(t[0]), math.exp(t[1])
    dens = (k - 1) * np.log(x).sum() - x.sum() / scale - len(x) * (special.gammaln(k) + k * t[1])
    return float(dens + np.log(special.gammaincc(k, c / scale)).sum())


def _lognormal_ll(t: np.ndarray, x: np.ndarray, c: np.ndarray) -> float:
    mu, sigma = t[0], math.exp(t[1])
    z = (np.log(x) - mu) / sigma
    dens = -np.log(x).sum() - len(x) * (t[1] + 0.5 * math.log(2 * math.pi)) - 0.5 * (z * z).sum()
    return float(dens + special.log_ndtr(-(np.log(np.maximum(c, 1e-300)) - mu) / sigma).sum())


def _triangular_ll(t: np.ndarray, x: np.ndarray, c: np.ndarray) -> float:
    a, m, b = _triangle(t)
    if a < 0 or x.min() <= a or x.max() >= b:
        return -math.inf
    rise = x < m
    k = int(rise.sum())
    dens = (
        len(x) * (math.log(2.0) - math.log(b - a))
        + (np.log(x[rise] - a).sum() - k * math.log(m - a) if k else 0.0)
        + (np.log(b - x[~rise]).sum() - (len(x) - k) * math.log(b - m) if k < len(x) else 0.0)
    )
    if not len(c):
        return float(dens)
    with np.errstate(divide="ignore"):
        cc = np.clip(c, a, b)
        rising_sf = 1 - (cc - a) ** 2 / ((b - a) * (m - a)) if m > a else np.zeros(len(c))
        falling_sf = (b - cc) ** 2 / ((b - a) * (b - m)) if b > m else np.zeros(len(c))
        surv = np.log(np.where(cc < m, rising_sf, falling_sf)).sum()
    return float(dens + surv)


def _uniform_ll(t: np.ndarray, x: np.ndarray, c: np.ndarray) -> float:
    a, width = t[0], math.exp(t[1])
    if a < 0 or x.min() < a or x.max() > a + width:
        return -math.inf
    with np.errstate(divide="ignore"):
        surv = np.log(np.clip((a + width - c) / width, 0.0, 1.0)).sum()
    return float(-len(x) * t[1] + surv)


FAMILIES = (
    Family(
        "exponential",
        1,
        lambda t: stats.expon(scale=math.exp(t[0])),
        lambda x: np.log([max(float(x.mean()), 1e-9)]),
        lambda t: {"dist": "exponential", "mean": math.exp(t[0])},
        lambda t: (math.exp(t[0]), 1.0),
        _exponential_ll,
    ),
    Family(
        "gamma",
        2,
        lambda t: stats.gamma(math.exp(t[0]), scale=math.exp(t[1])),
        _gamma_start,
        lambda t: {"dist": "gamma", "mean": math.exp(t[0] + t[1]), "cv": math.exp(-t[0] / 2)},
        lambda t: (math.exp(t[0] + t[1]), math.exp(-t[0] / 2)),
        _gamma_ll,
    ),
    Family(
        "lognormal",
        2,
        lambda t: stats.lognorm(math.exp(t[1]), scale=math.exp(t[0])),
        lambda x: np.array([_log_moments(x)[0], math.log(_log_moments(x)[1])]),
        lambda t: {
            "dist": "lognormal",
            "mean": math.exp(t[0] + math.exp(2 * t[1]) / 2),
            "cv": math.sqrt(math.expm1(math.exp(2 * t[1]))),
        },
        lambda t: (math.exp(t[0] + math.exp(2 * t[1]) / 2), math.sqrt(math.expm1(math.exp(2 * t[1])))),
        _lognormal_ll,
    ),
    Family(
        "triangular",
        3,
        lambda t: stats.triang((_triangle(t)[1] - t[0]) / math.exp(t[1]), loc=t[0], scale=math.exp(t[1])),
        _triangle_start,
        lambda t: dict(zip(("dist", "min", "mode", "max"), ("triangular", *_triangle(t)))),
        _triangle_moments,
        _triangular_ll,
        smooth=False,
    ),
    Family(
        "uniform",
        2,
        lambda t: stats.uniform(loc=t[0], scale=math.exp(t[1])),
        lambda x: np.array([float(x.min()) * 0.999, math.log(max(float(x.max() - x.min()), 1e-6) * 1.002)]),
        lambda t: {"dist": "uniform", "min": t[0], "max": t[0] + math.exp(t[1])},
        _uniform_moments,
        _uniform_ll,
        smooth=False,
    ),
)


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
