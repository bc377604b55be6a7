"""Distributions as data: parameter checks on load, and quantile functions against theory."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import TypeAdapter, ValidationError
from scipy import stats

from sim.scenario.distributions import (
    AttributeDistribution,
    Distribution,
    NumericDistribution,
)

DIST = TypeAdapter(NumericDistribution)
ATTR = TypeAdapter(AttributeDistribution)
U = (np.arange(200_000) + 0.5) / 200_000  # a fine grid of uniform numbers: quadrature, not luck


@pytest.mark.parametrize(
    ("spec", "mean"),
    [
        ({"dist": "fixed", "value": 2.5}, 2.5),
        ({"dist": "uniform", "min": 1, "max": 5}, 3.0),
        ({"dist": "triangular", "min": 3, "mode": 7, "max": 10}, 20 / 3),
        ({"dist": "exponential", "mean": 4}, 4.0),
        ({"dist": "lognormal", "median": 30, "sigma": 0.5}, 30 * np.exp(0.125)),
        ({"dist": "lognormal", "mean": 30, "cv": 0.5}, 30.0),
        ({"dist": "gamma", "shape": 2, "scale": 3}, 6.0),
        ({"dist": "gamma", "mean": 6, "cv": 0.5}, 6.0),
        ({"dist": "empirical", "values": [1, 2, 10], "weights": [1, 1, 2]}, 23 / 4),
    ],
)
def test_quantile_function_has_the_declared_mean(spec, mean):
    dist = DIST.validate_python(spec)
    assert dist.mean() == pytest.approx(mean, rel=1e-12)
    assert dist.ppf(U).mean() == pytest.approx(mean, rel=2e-3)


def test_triangular_quantiles_match_scipy():
    dist = DIST.validate_python({"dist": "triangular", "min": 3, "mode": 7, "max": 10})
    reference = stats.triang(c=4 / 7, loc=3, scale=7).ppf(U)
    np.testing.assert_allclose(dist.ppf(U), reference, atol=1e-12)


def test_lognormal_median_and_gamma_quantiles_match_scipy():
    logn = DIST.validate_python({"dist": "lognormal", "median": 630, "sigma": 1.0})
    assert float(logn.ppf(np.array([0.5]))[0]) == pytest.approx(630)
    gamma = DIST.validate_python({"dist": "gamma", "shape": 2.5, "scale": 1.5})
    np.testing.assert_allclose(gamma.ppf(U[::1000]), stats.gamma(2.5, scale=1.5).ppf(U[::1000]), rtol=1e-9)


def test_empirical_picks_values_by_weight():
    dist = DIST.validate_python({"dist": "empirical", "values": [1, 2, 10], "weights": [1, 1, 2]})
    assert dist.ppf(np.array([0.0, 0.2499, 0.25, 0.4999, 0.5, 0.9999])).tolist() == [1, 1, 2, 2, 10, 10]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"dist": "triangular", "min": 5, "mode": 3, "max": 10}, "min <= mode <= max"),
        ({"dist": "uniform", "min": 5, "max": 1}, "min <= max"),
        ({"dist": "exponential", "mean": 0}, "greater than 0"),
        ({"dist": "lognormal", "median": 3}, "either median and sigma, or mean and cv"),
        ({"dist": "lognormal", "median": 3, "sigma": 1, "cv": 1}, "not both"),
        ({"dist": "gamma", "mean": 3}, "either shape and scale, or mean and cv"),
        ({"dist": "empirical", "values": [1, 2], "weights": [1]}, "as many weights as values"),
        ({"dist": "fixed", "value": -1}, "greater than or equal to 0"),
        ({"dist": "triangular", "min": 1, "mode": 2, "max": 3, "mean": 2}, "Extra inputs"),
    ],
)
def test_bad_parameters_are_refused_on_load(spec, message):
    with pytest.raises(ValidationError, match=message):
        DIST.validate_python(spec)


def test_attributes_accept_plain_constants_flags_and_categories():
    assert ATTR.validate_python(False).value is False
    assert ATTR.validate_python("main_urban").value == "main_urban"
    flag = ATTR.validate_python({"dist": "bernoulli", "p": 0.3, "when": {"external_works": True}})
    assert flag.ppf(np.array([0.29, 0.3])).tolist() == [True, False]
    region = ATTR.validate_python({"dist": "categorical", "values": {"a": 1, "b": 3}})
    assert region.ppf(np.array([0.0, 0.24, 0.25, 0.99])).tolist() == ["a", "a", "b", "b"]
    with pytest.raises(ValidationError, match="less than or equal to 1"):
        ATTR.validate_python({"dist": "bernoulli", "p": 1.5})


@pytest.mark.parametrize(
    "spec",
    [
        {"dist": "fixed", "value": 2.5},
        {"dist": "uniform", "min": 1, "max": 5},
        {"dist": "triangular", "min": 3, "mode": 7, "max": 10},
        {"dist": "exponential", "mean": 4},
        {"dist": "lognormal", "median": 30, "sigma": 0.5},
        {"dist": "gamma", "shape": 2, "scale": 3},
        {"dist": "empirical", "values": [1, 2, 10]},
        {"dist": "bernoulli", "p": 0.3},
        {"dist": "categorical", "values": {"a": 1, "b": 3}},
        {"dist": "constant", "value": "west"},
    ],
)
def test_every_distribution_maps_uniform_numbers_through_the_protocol(spec):
    dist = ATTR.validate_python(spec)
    assert isinstance(dist, Distribution)
    assert dist.ppf(U[::1000]).shape == U[::1000].shape


def test_a_duration_is_a_numeric_distribution_not_a_flag():
    with pytest.raises(ValidationError, match="does not match any of the expected tags"):
        DIST.validate_python({"dist": "bernoulli", "p": 0.5})


@pytest.mark.parametrize(
    "spec",
    [
        {"dist": "bernoulli", "p": 0.3},
        {"dist": "categorical", "values": {"main_urban": 0.55, "west": 0.2, "north": 0.15, "south": 0.1}},
    ],
)
def test_flags_and_categories_give_the_same_value_one_number_at_a_time(spec):
    dist = ATTR.validate_python(spec)
    one = dist.scalar_ppf()
    u = np.concatenate([U[::97], [0.0, 0.3, 0.55, 0.75, 0.9, np.nextafter(1.0, 0)]])
    assert [one(x) for x in u.tolist()] == dist.ppf(u).tolist()
