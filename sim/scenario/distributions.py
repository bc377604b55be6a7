"""Distributions declared as data, sampled by inverse transform.

A scenario writes a distribution as a mapping, ``{dist: triangular, min: 3, mode: 7, max: 10}``;
pydantic picks the class by its ``dist`` tag and checks its parameters on load. Every class
implements the ``Distribution`` protocol: it maps uniform numbers ``u`` in [0, 1) to values through
its quantile function (``ppf``), vectorised over numpy arrays. Inverse transform is what lets the
random streams be keyed to the case: the same uniform number of the same case gives the same luck
in every scenario, whatever distribution a scenario puts on top of it (see ``sim.engine.streams``).
Flags and categories also give ``scalar_ppf``, the same function for one number at a time (a
Python float), for the attributes of one case: it only compares the number with their cumulative
weights, so it gives exactly what ``ppf`` gives, without numpy's cost per call.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Literal, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from scipy.special import gammaincinv, ndtri

from sim.scenario.conditions import check_condition

NonNegative = Annotated[float, Field(ge=0)]
Positive = Annotated[float, Field(gt=0)]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    def mean(self) -> float:  # pragma: no cover - abstract
        """The distribution's mean, exactly."""
        raise NotImplementedError


class Fixed(_Spec):
    """Always the same value."""

    dist: Literal["fixed"]
    value: NonNegative

    def ppf(self, u: npt.ArrayLike) -> np.ndarray:
        return np.full(np.shape(u), float(self.value))

    def mean(self) -> float:
        return float(self.value)


class Uniform(_Spec):
    dist: Literal["uniform"]
    min: NonNegative
    max: NonNegative

    @model_validator(mode="after")
    def _ordered(self):
        if self.min > self.max:
            raise ValueError(f"uniform needs min <= max, found min={self.min}, max={self.max}")
        return self

    def ppf(self, u: npt.ArrayLike) -> np.ndarray:
        return self.min + (self.max - self.min) * np.asarray(u, dtype=float)

    def mean(self) -> float:
        return (self.min + self.max) / 2


class Triangular(_Spec):
    dist: Literal["triangular"]
    min: NonNegative
    mode: NonNegative
    max: NonNegative

    @model_validator(mode="after")
    def _ordered(self):
        if not self.min <= self.mode <= self.max:
            raise ValueError(
                f"triangular needs min <= mode <= max, found min={self.min}, mode={self.mode}, max={self.max}"
            )
        return self

    def ppf(self, u: npt.ArrayLike) -> np.ndarray:
        u = np.asarray(u, dtype=float)
        lo, mode, hi = self.min, self.mode, self.max
        width = hi - lo
        if width == 0:
            return np.full(u.shape, float(lo))
        split = (mode - lo) / width
        left = lo + np.sqrt(u * width * (mode - lo))
        right = hi - np.sqrt((1 - u) * width * (hi - mode))
        return np.where(u < split, left, right)

    def mean(self) -> float:
        return (self.min + self.mode + self.max) / 3


class Exponential(_Spec):
    dist: Literal["exponential"]
    mean_: Positive = Field(alias="mean")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False)

    def ppf(self, u: npt.ArrayLike) -> np.ndarray:
        return -self.mean_ * np.log1p(-np.asarray(u, dtype=float))

    def mean(self) -> float:
        return float(self.mean_)


class _MeanCv(_Spec):
    """Shared parameter check for distributions given by median/shape or by mean and cv."""

    mean_: Positive | None = Field(default=None, alias="mean")
    cv: Positive | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False)

    if TYPE_CHECKING:  # each subclass declares its tag
        dist: str

    def _check_pair(self, own: tuple[str, str], values: tuple) -> None:
        own_given = [v is not None for v in values]
        mean_given = [self.mean_ is not None, self.cv is not None]
        by_own = all(own_given) and not any(mean_given)
        by_mean = all(mean_given) and not any(own_given)
        if not (by_own or by_mean):
            raise ValueError(f"{self.dist} needs either {own[0]} and {own[1]}, or mean and cv (not both)")

    def _mean_cv(self) -> tuple[float, float]:
        if self.mean_ is None or self.cv is None:  # pragma: no cover - refused on load
            raise ValueError(f"{self.dist} has neither its own parameters nor mean and cv")
        return self.mean_, self.cv


class Lognormal(_MeanCv):
    """Lognormal by its median and sigma (of the log), or by its mean and coefficient of variation."""

    dist: Literal["lognormal"]
    median: Positive | None = None
    sigma: Positive | None = None

    @model_validator(mode="after")
    def _params(self):
        self._check_pair(("median", "sigma"), (self.median, self.sigma))
        return self

    def _mu_sigma(self) -> tuple[float, float]:
        if self.median is not None and self.sigma is not None:
            return math.log(self.median), float(self.sigma)
        mean, cv = self._mean_cv()
        s2 = math.log1p(cv**2)
        return math.log(mean) - s2 / 2, math.sqrt(s2)

    def ppf(self, u: npt.ArrayLike) -> np.ndarray:
        mu, s = self._mu_sigma()
        return np.exp(mu + s * ndtri(np.asarray(u, dtype=float)))

    def mean(self) -> float:
        mu, s = self._mu_sigma()
        return math.exp(mu + s * s / 2)


class Gamma(_MeanCv):
    """Gamma by shape and scale, or by mean and coefficient of variation."""

    dist: Literal["gamma"]
    shape: Positive | None = None
    scale: Positive | None = None

    @model_validator(mode="after")
    def _params(self):
        self._check_pair(("shape", "scale"), (self.shape, self.scale))
        return self

    def _shape_scale(self) -> tuple[float, float]:
        if self.shape is not None and self.scale is not None:
            return float(self.shape), float(self.scale)
        mean, cv = self._mean_cv()
        return 1 / cv**2, mean * cv**2

    def ppf(self, u: npt.ArrayLike) -> np.ndarray:
        k, theta = self._shape_scale()
        return gammaincinv(k, np.asarray(u, dtype=float)) * theta

    def mean(self) -> float:
        k, theta = self._shape_scale()
        return k * theta


class Empirical(_Spec):
    """A discrete distribution: ``values`` with ``weights`` (equal weights when omitted)."""

    dist: Literal["empirical"]
    values: list[NonNegative] = Field(min_length=1)
    weights: list[NonNegative] | None = None

    @model_validator(mode="after")
    def _weights(self):
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError(
                    f"empirical needs as many weights as values, found {len(self.weights)} "
                    f"weights for {len(self.values)} values"
                )
            if sum(self.weights) <= 0:
                raise ValueError("empirical needs weights that add up to more than 0")
        return self

    def _cumulative(self) -> np.ndarray:
        w = np.ones(len(self.values)) if self.weights is None else np.asarray(self.weights)
        return np.cumsum(w) / w.sum()

    def ppf(self, u: npt.ArrayLike) -> np.ndarray:
        idx = np.searchsorted(self._cumulative(), np.asarray(u, dtype=float), side="right")
        return np.asarray(self.values, dtype=float)[np.minimum(idx, len(self.values) - 1)]

    def mean(self) -> float:
        w = np.ones(len(self.values)) if self.weights is None else np.asarray(self.weights)
        return float(np.dot(self.values, w) / w.sum())


NumericDistribution = Annotated[
    Fixed | Uniform | Triangular | Exponential | Lognormal | Gamma | Empirical,
    Field(discriminator="dist"),
]
"""What a scenario may declare for a number: a non-negative continuous or discrete distribution
(durations, delays, capacities in kVA), told apart by its ``dist`` tag."""


@runtime_checkable
class Distribution(Protocol):
    """Anything that maps uniform numbers to values by inverse transform: every class here."""

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """The values at the uniform numbers ``u``, element by element."""
        ...


# Attribute distributions: a case's attributes may also be flags, categories or constants.


class Bernoulli(_Spec):
    """A yes/no attribute, true with probability ``p``; ``when`` makes it false unless the
    condition on earlier attributes holds (route approval only for cases with external works)."""

    dist: Literal["bernoulli"]
    p: Annotated[float, Field(ge=0, le=1)]
    when: dict | None = None

    @model_validator(mode="after")
    def _condition(self):
        if self.when is not None:
            check_condition(self.when)
        return self

    def ppf(self, u: npt.ArrayLike) -> np.ndarray:
        return np.asarray(u) < self.p

    def scalar_ppf(self) -> Callable[[float], bool]:
        """``ppf`` for one number at a time: a plain function, ``p`` bound once."""
        p = self.p
        return lambda u: u < p

    def mean(self) -> float:
        return float(self.p)


class Categorical(_Spec):
    """One of named categories, with weights (they need not add up to 1)."""

    dist: Literal["categorical"]
    values: dict[str, NonNegative] = Field(min_length=1)

    @model_validator(mode="after")
    def _weights(self):
        if sum(self.values.values()) <= 0:
            raise ValueError("categorical needs weights that add up to more than 0")
        return self

    def scalar_ppf(self) -> Callable[[float], str]:
        """``ppf`` for one number at a time: a plain function, the shares computed once. It
        picks the first category whose cumulative share exceeds ``u`` (the last one if none
        does, in case rounding leaves the last share a hair under 1)."""
        w = np.fromiter(self.values.values(), dtype=float)
        cumulative = (np.cumsum(w) / w.sum()).tolist()
        names = list(self.values)
        last = len(names) - 1
        return lambda u: names[min(bisect_right(cumulative, u), last)]

    def ppf(self, u: npt.ArrayLike) -> np.ndarray:
        one = self.scalar_ppf()
        u = np.asarray(u, dtype=float)
        return np.array([one(x) for x in u.ravel().tolist()], dtype=object).reshape(u.shape)


class Constant(_Spec):
    """The same value for every case; a plain scalar in YAML (``important: false``) means this."""

    dist: Literal["constant"]
    value: bool | int | float | str

    def ppf(self, u: npt.ArrayLike) -> np.ndarray:
        return np.full(np.shape(u), self.value, dtype=object)


def _constant_from_scalar(value):
    if isinstance(value, (bool, int, float, str)):
        return {"dist": "constant", "value": value}
    return value


AttributeDistribution = Annotated[
    Annotated[
        Constant
        | Bernoulli
        | Categorical
        | Fixed
        | Uniform
        | Triangular
        | Exponential
        | Lognormal
        | Gamma
        | Empirical,
        Field(discriminator="dist"),
    ],
    BeforeValidator(_constant_from_scalar),
]
"""What a segment may declare for an attribute: a constant, a flag, a category or a number."""
