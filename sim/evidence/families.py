"""The distribution families a duration is fitted in (``sim.evidence.fitting``): those the scenario
format can write (``docs/scenario-format.md``, "Distributions"), each on unconstrained parameters
with its frozen scipy distribution, a starting point from the observations, the scenario mapping
it gives, its mean and coefficient of variation, and its log-likelihood of finished visits and of
visits still open (right-censored).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special, stats


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
